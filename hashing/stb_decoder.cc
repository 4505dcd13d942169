// GIF (first frame, within its own bounds), BMP, TGA and PSD through
// stb_image, whose implementation is compiled into this file with our
// configuration:
//   - only these four loaders (JPEG goes to libjpeg-turbo, PNG to libpng,
//     PNM to our own reader; HDR and PIC are not accepted);
//   - every allocation goes through the decode's budget (a thread-local
//     pointer while stb runs) and is zero-filled, and this file is compiled
//     with -ftrivial-auto-var-init=zero, so neither a buffer nor a local
//     stb hands us holds anything it did not write (stb indexes its BMP
//     palette, a local array, with unchecked colour indices);
//   - the input goes through stb's callback reader, so we see every read:
//     stb treats the end of its input as an endless run of zero bytes, and
//     a refill that finds no bytes left, a short read into a caller's
//     buffer or a skip past the end means it read past the end: the
//     decode is a truncation error, never an image padded with zeros. The
//     deadline is checked on each refill (every 128 bytes);
//   - each format's loader is called directly, once StbPrescan has
//     identified the format and checked what its header commits to (no
//     probing, no rewinding). A GIF is decoded from the prescan's copy of
//     its first frame, and a frame whose LZW data ends before its last row
//     is truncated.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "hashing/format_decoders.h"
#include "hashing/stb_prescan.h"

namespace hashing {
namespace {

// The budget of the decode running on this thread (null when none is).
thread_local DecodeBudget* t_budget = nullptr;

struct alignas(16) BlockHeader {
  size_t size;
};

void* BudgetMalloc(size_t n) {
  if (!t_budget || n > SIZE_MAX - sizeof(BlockHeader) || !t_budget->TryCharge(n + sizeof(BlockHeader))) return nullptr;
  auto* h = static_cast<BlockHeader*>(std::calloc(1, sizeof(BlockHeader) + n));
  if (!h) {
    t_budget->Release(n + sizeof(BlockHeader));
    return nullptr;
  }
  h->size = n;
  return h + 1;
}

void BudgetFree(void* p) {
  if (!p) return;
  BlockHeader* h = static_cast<BlockHeader*>(p) - 1;
  if (t_budget) t_budget->Release(h->size + sizeof(BlockHeader));
  std::free(h);
}

void* BudgetRealloc(void* p, size_t n) {
  if (!p) return BudgetMalloc(n);
  BlockHeader* h = static_cast<BlockHeader*>(p) - 1;
  const size_t old = h->size;
  if (n > old && (!t_budget || n > SIZE_MAX - sizeof(BlockHeader) || !t_budget->TryCharge(n - old))) return nullptr;
  auto* grown = static_cast<BlockHeader*>(std::realloc(h, sizeof(BlockHeader) + n));
  if (!grown) {
    if (n > old) t_budget->Release(n - old);
    return nullptr;
  }
  if (n > old) {
    std::memset(reinterpret_cast<unsigned char*>(grown + 1) + old, 0, n - old);
  } else if (t_budget) {
    t_budget->Release(old - n);
  }
  grown->size = n;
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
#define STBI_NO_PNG
#define STBI_NO_PNM
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

// stb's input: the bytes, with every read past their end noticed.
struct Reader {
  std::span<const uint8_t> bytes;
  DecodeBudget* budget = nullptr;
  const stbi_uc* refill_buffer = nullptr;  // the context's own buffer: refills may ask for more than is left
  size_t pos = 0;
  bool past_end = false;
  bool stopped = false;  // by the deadline
};

int Read(void* user, char* data, int size) {
  auto* r = static_cast<Reader*>(user);
  if (r->budget->Tick(static_cast<uint64_t>(size))) {
    r->stopped = true;
    return 0;
  }
  const size_t left = r->bytes.size() - r->pos;
  const bool refill = reinterpret_cast<const stbi_uc*>(data) == r->refill_buffer;
  if (left == 0 || (!refill && static_cast<size_t>(size) > left)) r->past_end = true;
  const size_t n = std::min(static_cast<size_t>(size), left);
  if (n != 0) std::memcpy(data, r->bytes.data() + r->pos, n);
  r->pos += n;
  return static_cast<int>(n);
}

void Skip(void* user, int n) {
  auto* r = static_cast<Reader*>(user);
  const size_t left = r->bytes.size() - r->pos;
  if (n > 0 && static_cast<size_t>(n) > left) {
    r->past_end = true;
    r->pos = r->bytes.size();
  } else if (n > 0) {
    r->pos += static_cast<size_t>(n);
  }
}

int Eof(void* user) {
  auto* r = static_cast<Reader*>(user);
  return r->pos >= r->bytes.size();
}

// Makes `budget` the one stb allocates from on this thread, for a scope.
class BudgetScope {
 public:
  explicit BudgetScope(DecodeBudget* budget) { t_budget = budget; }
  ~BudgetScope() { t_budget = nullptr; }
  BudgetScope(const BudgetScope&) = delete;
  BudgetScope& operator=(const BudgetScope&) = delete;
};

std::string Reason() {
  const char* r = stbi_failure_reason();
  return r && *r ? r : "damaged data";
}

// The first frame of a (prescan-rewritten) GIF, as `channels` per pixel;
// *complete says whether its LZW data reached the frame's last row.
stbi_uc* LoadGifFrame(stbi__context* ctx, int channels, int* w, int* h, bool* complete) {
  stbi__gif g;
  std::memset(&g, 0, sizeof g);
  int comp = 0;
  stbi_uc* frame = stbi__gif_load_next(ctx, &g, &comp, channels, nullptr);
  if (frame == reinterpret_cast<stbi_uc*>(ctx)) frame = nullptr;  // the trailer: no frame
  if (frame) {
    *complete = g.cur_y >= g.max_y;
    *w = g.w;
    *h = g.h;
    frame = stbi__convert_format(frame, 4, channels, static_cast<unsigned>(g.w), static_cast<unsigned>(g.h));
  } else {
    STBI_FREE(g.out);
  }
  STBI_FREE(g.history);
  STBI_FREE(g.background);
  return frame;
}

// Runs stb_image's loader for `pre.format` on `input` and delivers the image.
Status Decode(const DecodeJob& job, const StbPrescan& pre, std::span<const uint8_t> input) {
  const char* name = ImageFormatName(pre.format);
  Reader reader;
  reader.bytes = input;
  reader.budget = &job.budget;
  BudgetScope scope(&job.budget);
  stbi__context ctx;
  reader.refill_buffer = ctx.buffer_start;
  stbi_io_callbacks io = {Read, Skip, Eof};
  stbi__start_callbacks(&ctx, &io, &reader);
  stbi__result_info ri;
  std::memset(&ri, 0, sizeof ri);
  ri.bits_per_channel = 8;
  ri.channel_order = STBI_ORDER_RGB;
  int w = 0, h = 0, comp = 0;
  bool complete = true;
  stbi_uc* px = nullptr;
  switch (pre.format) {
    case ImageFormat::kBmp: px = static_cast<stbi_uc*>(stbi__bmp_load(&ctx, &w, &h, &comp, pre.channels, &ri)); break;
    case ImageFormat::kTga: px = static_cast<stbi_uc*>(stbi__tga_load(&ctx, &w, &h, &comp, pre.channels, &ri)); break;
    case ImageFormat::kPsd: px = static_cast<stbi_uc*>(stbi__psd_load(&ctx, &w, &h, &comp, pre.channels, &ri, 8)); break;
    case ImageFormat::kGif: px = LoadGifFrame(&ctx, pre.channels, &w, &h, &complete); break;
    default: break;
  }
  Status s;
  if (reader.stopped) {
    s = job.budget.DeadlineExceeded();
  } else if (reader.past_end) {
    s = Status::Corruption(std::string("truncated ") + name + " (the data ends before the image does)");
  } else if (job.budget.refused()) {
    s = job.budget.MemoryExceeded();
  } else if (!px) {
    s = Status::Corruption(std::string("cannot decode the ") + name + " image: " + Reason());
  } else if (!complete) {
    s = Status::Corruption("truncated GIF (the first frame's image data ends before its last row)");
  } else if (ri.bits_per_channel != 8 || static_cast<uint64_t>(w) != pre.width || static_cast<uint64_t>(h) != pre.height) {
    s = Status::Corruption(std::string("damaged ") + name + " (stb_image decoded " + std::to_string(w) + "x" +
                           std::to_string(h) + ", the header says " + std::to_string(pre.width) + "x" +
                           std::to_string(pre.height) + ")");
  } else {
    s = job.sink->Start(w, h, pre.channels);
    if (s.ok()) job.sink->Rows(0, h, px);
  }
  STBI_FREE(px);
  return s;
}

}  // namespace

Status DecodeWithStb(const DecodeJob& job) {
  StbPrescan pre;
  const Status checked = PrescanForStb(job.info->format, job.bytes, job.limits, &pre);
  if (pre.format != ImageFormat::kUnknown) job.info->format = pre.format;
  job.info->width = static_cast<int>(std::min<uint64_t>(pre.width, INT32_MAX));
  job.info->height = static_cast<int>(std::min<uint64_t>(pre.height, INT32_MAX));
  HS_RETURN_IF_ERROR(checked);
  if (!pre.rewritten.empty()) {
    HS_RETURN_IF_ERROR(job.budget.Charge(pre.rewritten.size(), "the file rewritten for stb_image"));
    return Decode(job, pre, pre.rewritten);
  }
  return Decode(job, pre, job.bytes);
}

}  // namespace hashing
