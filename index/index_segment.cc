#include "index/index_segment.h"

#include <cstring>

namespace idx {

void SignalSet::Add(SignalType type, std::string_view hash) {
  switch (type) {
    case SignalType::kPdq: {
      base::PdqHash h;
      std::memcpy(h.bytes.data(), hash.data(), 32);
      pdq.push_back(h);
      break;
    }
    case SignalType::kMd5: {
      std::array<uint8_t, 16> h;
      std::memcpy(h.data(), hash.data(), 16);
      md5.push_back(h);
      break;
    }
    case SignalType::kSha256: {
      std::array<uint8_t, 32> h;
      std::memcpy(h.data(), hash.data(), 32);
      sha256.push_back(h);
      break;
    }
  }
}

IndexSegment::IndexSegment(uint64_t generation, SignalSet signals, PdqStrategy strategy, const PdqScanKernels* kernels)
    : generation_(generation),
      pdq_(std::move(signals.pdq)),
      md5_(std::move(signals.md5)),
      sha256_(std::move(signals.sha256)) {
  pdq_.shrink_to_fit();
  BuildTables();
  if (pdq_.size() == 0) return;
  search_ = MakeSearch(strategy, kernels);
}

IndexSegment::IndexSegment(uint64_t generation, const IndexSegment& a, const IndexSegment& b, PdqStrategy strategy,
                           const PdqScanKernels* kernels)
    : generation_(generation) {
  pdq_.reserve(a.pdq_.size() + b.pdq_.size());
  pdq_.insert(pdq_.end(), a.pdq_.begin(), a.pdq_.end());
  pdq_.insert(pdq_.end(), b.pdq_.begin(), b.pdq_.end());
  md5_ = a.md5_;
  md5_.insert(md5_.end(), b.md5_.begin(), b.md5_.end());
  sha256_ = a.sha256_;
  sha256_.insert(sha256_.end(), b.sha256_.begin(), b.sha256_.end());
  BuildTables();
  if (pdq_.size() == 0) return;
  auto* ma = dynamic_cast<const MultiIndexPdqSearch*>(a.search_.get());
  auto* mb = dynamic_cast<const MultiIndexPdqSearch*>(b.search_.get());
  if (ma && mb && strategy != PdqStrategy::kLinear) {
    search_ = std::make_unique<MultiIndexPdqSearch>(pdq_.data(), *ma, *mb);
    return;
  }
  search_ = MakeSearch(strategy, kernels);
}

std::unique_ptr<PdqSearch> IndexSegment::MakeSearch(PdqStrategy strategy, const PdqScanKernels* kernels) const {
  switch (strategy) {
    case PdqStrategy::kLinear: return std::make_unique<LinearPdqSearch>(pdq_.data(), pdq_.size(), kernels);
    case PdqStrategy::kMultiIndex: return std::make_unique<MultiIndexPdqSearch>(pdq_.data(), pdq_.size(), kernels);
    case PdqStrategy::kBySize: break;
  }
  return MakePdqSearch(pdq_.data(), pdq_.size(), kernels);
}

void IndexSegment::BuildTables() {
  pdq_table_ = DigestTable(reinterpret_cast<const uint8_t*>(pdq_.data()), pdq_.size(), 32);
  md5_table_ = DigestTable(reinterpret_cast<const uint8_t*>(md5_.data()), md5_.size(), 16);
  sha256_table_ = DigestTable(reinterpret_cast<const uint8_t*>(sha256_.data()), sha256_.size(), 32);
}

bool IndexSegment::Contains(SignalType type, const uint8_t* hash) const {
  switch (type) {
    case SignalType::kPdq: return pdq_table_.Find(hash) >= 0;
    case SignalType::kMd5: return md5_table_.Find(hash) >= 0;
    case SignalType::kSha256: return sha256_table_.Find(hash) >= 0;
  }
  return false;
}

void IndexSegment::ContainsMany(SignalType type, const uint8_t* const* hashes, size_t n, uint8_t* found) const {
  switch (type) {
    case SignalType::kPdq: pdq_table_.FindMany(hashes, n, found); break;
    case SignalType::kMd5: md5_table_.FindMany(hashes, n, found); break;
    case SignalType::kSha256: sha256_table_.FindMany(hashes, n, found); break;
  }
}

size_t IndexSegment::MemoryBytes() const {
  return pdq_.capacity() * sizeof(base::PdqHash) + md5_.capacity() * 16 + sha256_.capacity() * 32 +
         pdq_table_.MemoryBytes() + md5_table_.MemoryBytes() + sha256_table_.MemoryBytes() +
         (search_ ? search_->MemoryBytes() : 0);
}

}  // namespace idx
