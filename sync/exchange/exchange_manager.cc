#include "sync/exchange/exchange_manager.h"

#include <thread>

namespace hsync {

Status ExchangeManager::Create(store::Database* db, store::HashLists* lists,
                               const std::vector<ExchangeConfig>& configs, Exchange::LogFn log,
                               std::unique_ptr<ExchangeManager>* out) {
  HS_RETURN_IF_ERROR(ValidateExchanges(configs));
  std::unique_ptr<ExchangeManager> m(new ExchangeManager());
  for (const auto& c : configs) {
    std::unique_ptr<Exchange> x;
    HS_RETURN_IF_ERROR(Exchange::Create(db, lists, c, log, &x));
    m->exchanges_.push_back(std::move(x));
  }
  *out = std::move(m);
  return Status::Ok();
}

ExchangeManager::~ExchangeManager() { Stop(); }

void ExchangeManager::Start() {
  for (auto& x : exchanges_) x->Start();
}

void ExchangeManager::Stop() {
  std::vector<std::thread> stoppers;
  stoppers.reserve(exchanges_.size());
  for (auto& x : exchanges_) stoppers.emplace_back([&x] { x->Stop(); });
  for (auto& t : stoppers) t.join();
}

std::vector<ExchangeStatus> ExchangeManager::Statuses() const {
  std::vector<ExchangeStatus> out;
  for (const auto& x : exchanges_) out.push_back(x->status());
  return out;
}

}  // namespace hsync
