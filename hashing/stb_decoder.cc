// GIF (first frame), BMP, PNM (binary P5/P6), PSD and TGA through
// stb_image, compiled here with our configuration: its JPEG, HDR and PIC
// decoders off (JPEG goes to libjpeg-turbo, which is both exact and
// hardened), and every allocation charged to a per-thread budget derived from
// the checked dimensions, so a file that lies in its header cannot make stb
// allocate more than an honest image of that size would.
#include <cstdlib>
#include <cstring>
#include <string>

#include "hashing/image_decoder.h"
#include "hashing/truncation_check.h"

namespace hashing {
namespace {

// Remaining bytes stb may allocate on this thread (0 = no decode running).
thread_local size_t t_budget = 0;

struct alignas(16) BlockHeader {
  size_t size;
};

void* BudgetMalloc(size_t n) {
  if (n > t_budget) return nullptr;  // stb treats this as out of memory
  auto* h = static_cast<BlockHeader*>(std::malloc(sizeof(BlockHeader) + n));
  if (!h) return nullptr;
  h->size = n;
  t_budget -= n;
  return h + 1;
}

void BudgetFree(void* p) {
  if (!p) return;
  BlockHeader* h = static_cast<BlockHeader*>(p) - 1;
  t_budget += h->size;
  std::free(h);
}

void* BudgetRealloc(void* p, size_t n) {
  if (!p) return BudgetMalloc(n);
  BlockHeader* h = static_cast<BlockHeader*>(p) - 1;
  if (n > h->size && n - h->size > t_budget) return nullptr;
  const size_t old = h->size;
  auto* grown = static_cast<BlockHeader*>(std::realloc(h, sizeof(BlockHeader) + n));
  if (!grown) return nullptr;
  grown->size = n;
  t_budget = t_budget + old - n;
  return grown + 1;
}

}  // namespace
}  // namespace hashing

#define STBI_MALLOC(sz) ::hashing::BudgetMalloc(sz)
#define STBI_REALLOC(p, newsz) ::hashing::BudgetRealloc(p, newsz)
#define STBI_FREE(p) ::hashing::BudgetFree(p)
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_NO_JPEG
#define STBI_NO_HDR
#define STBI_NO_PIC
#define STBI_NO_LINEAR
#define STBI_NO_STDIO
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace hashing {

namespace {
// Restores the budget to "no decode running" however the decode ends.
struct BudgetScope {
  explicit BudgetScope(size_t bytes) { t_budget = bytes; }
  ~BudgetScope() { t_budget = 0; }
};

std::string Reason() {
  const char* r = stbi_failure_reason();
  return r && *r ? r : "damaged data";
}
}  // namespace

Status DecodeWithStb(std::span<const uint8_t> bytes, const DecodeLimits& limits, PixelSink* sink, DecodedInfo* info) {
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return Status::TooLarge("input over 2 GiB");
  const auto* data = bytes.data();
  const int len = static_cast<int>(bytes.size());
  int w = 0, h = 0, comp = 0;
  int header_ok;
  {
    BudgetScope header_budget(1u << 20);  // the GIF header probe allocates its state
    header_ok = stbi_info_from_memory(data, len, &w, &h, &comp);
  }
  if (!header_ok) {
    if (info->format == ImageFormat::kUnknown) {
      return Status::Unsupported("not an image format hashscreen decodes (JPEG, PNG, GIF, BMP, PNM, PSD, TGA, WebP)");
    }
    return Status::Corruption(std::string("not a valid ") + ImageFormatName(info->format) + " file (header rejected: " + Reason() + ")");
  }
  if (info->format == ImageFormat::kUnknown) info->format = ImageFormat::kTga;  // the only format stb knows without magic
  info->width = w;
  info->height = h;
  if (w <= 0 || h <= 0) return Status::Corruption("image header gives a non-positive dimension");
  HS_RETURN_IF_ERROR(CheckDimensions(static_cast<uint64_t>(w), static_cast<uint64_t>(h), limits));
  HS_RETURN_IF_ERROR(CheckNotTruncated(info->format, bytes));

  // Enough for the largest path (16-bit PSD/PNG, 4 channels, plus the 8-bit
  // output and the GIF canvas history) and nothing like a hostile amount.
  const size_t pixels = static_cast<size_t>(w) * static_cast<size_t>(h);
  BudgetScope budget(pixels * 24 + (16u << 20));
  const int channels = (comp == 1 || comp == 2) ? 1 : 3;  // drop alpha, never composite
  stbi_uc* px = stbi_load_from_memory(data, len, &w, &h, &comp, channels);
  if (!px) {
    return Status::Corruption(std::string("cannot decode the ") + ImageFormatName(info->format) + " image: " + Reason());
  }
  Status s = sink->Start(w, h, channels);
  if (s.ok()) sink->Rows(0, h, px);
  stbi_image_free(px);
  return s;
}

}  // namespace hashing
