#include "hashing/pdq.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "hashing/jarosz_stream.h"

namespace hashing {

namespace {

// Top-left aligned nearest neighbour to exactly 512x512 (CImg's resize with
// interpolation 1, as pdq-photo-hasher calls it). Integer exact.
LumaImage Squash512(const LumaImage& in) {
  LumaImage out;
  out.width = out.height = 512;
  out.pixels = FloatBuffer(512 * 512);
  int src_x[512];
  for (int x = 0; x < 512; ++x) src_x[x] = static_cast<int>(static_cast<int64_t>(x) * in.width / 512);
  for (int y = 0; y < 512; ++y) {
    const float* src = in.row(static_cast<int>(static_cast<int64_t>(y) * in.height / 512));
    float* dst = out.row(y);
    for (int x = 0; x < 512; ++x) dst[x] = src[src_x[x]];
  }
  return out;
}

// bit k = 16u + v is set iff b[u][v] is strictly above the lower median
// (the 128th smallest value, what Torben's method returns for 256 values).
PdqHash HashFromDct(const float b[256]) {
  float sorted[256];
  std::memcpy(sorted, b, sizeof sorted);
  std::nth_element(sorted, sorted + 127, sorted + 256);
  const float median = sorted[127];
  PdqHash h;
  for (int k = 0; k < 256; ++k)
    if (b[k] > median) h.SetBit(k);
  return h;
}

// The 7 other dihedral variants, from the DCT by sign flips and transposes:
// reversing an axis multiplies frequency f by (-1)^f, and index u is f = u+1.
void DihedralVariant(Dihedral d, const float b[256], float out[256]) {
  for (int u = 0; u < 16; ++u) {
    for (int v = 0; v < 16; ++v) {
      const float x = b[u * 16 + v];
      const bool u_odd = u & 1, v_odd = v & 1, sum_odd = (u + v) & 1;
      switch (d) {
        case kOrig: out[u * 16 + v] = x; break;
        case kRot90: out[v * 16 + u] = v_odd ? x : -x; break;
        case kRot180: out[u * 16 + v] = sum_odd ? -x : x; break;
        case kRot270: out[v * 16 + u] = u_odd ? x : -x; break;
        case kFlipX: out[u * 16 + v] = u_odd ? x : -x; break;
        case kFlipY: out[u * 16 + v] = v_odd ? x : -x; break;
        case kFlipPlus1: out[v * 16 + u] = x; break;
        case kFlipMinus1: out[v * 16 + u] = sum_odd ? -x : x; break;
        case kNumDihedral: break;
      }
    }
  }
}

// Which mirror image a variant's picture is a turn of: the axes it reverses
// (rot90 and flipy reverse x; rot270 and flipx reverse y; rot180 and
// flipminus1 both; flipplus1, a transpose, neither).
const float* AlignedSource(Dihedral d, const float* a, const MirrorDownsamples& m) {
  switch (d) {
    case kRot90:
    case kFlipY: return m.x;
    case kRot270:
    case kFlipX: return m.y;
    case kRot180:
    case kFlipMinus1: return m.xy;
    default: return a;
  }
}

}  // namespace

void PdqDownsample64(const LumaImage& luma, const PdqKernels& k, float out[64 * 64], MirrorDownsamples* mirrors) {
  JaroszStream stream(luma.width, luma.height, k, mirrors != nullptr);
  for (int y = 0; y < luma.height; ++y) {
    std::memcpy(stream.NextRow(), luma.row(y), sizeof(float) * static_cast<size_t>(luma.width));
    stream.RowDone();
  }
  stream.Finish(out, mirrors);
}

int PdqQuality(const float a[64 * 64]) {
  // The reference's gradient count, each step in float then truncated to int.
  int sum = 0;
  for (int i = 0; i < 63; ++i)
    for (int j = 0; j < 64; ++j) {
      const float u = a[i * 64 + j], v = a[(i + 1) * 64 + j];
      const int d = static_cast<int>(((u - v) * 100.0f) / 255.0f);
      sum += std::abs(d);
    }
  for (int i = 0; i < 64; ++i)
    for (int j = 0; j < 63; ++j) {
      const float u = a[i * 64 + j], v = a[i * 64 + j + 1];
      const int d = static_cast<int>(((u - v) * 100.0f) / 255.0f);
      sum += std::abs(d);
    }
  return std::min(100, sum / 90);
}

PdqResult PdqFromDownsample(const float a[64 * 64], bool dihedral, const PdqKernels& k, const MirrorDownsamples* m) {
  PdqResult result;
  alignas(64) float b[256];
  result.quality = PdqQuality(a);
  k.dct64_to_16(a, b);
  result.hashes[kOrig] = result.aligned[kOrig] = HashFromDct(b);
  if (dihedral) {
    float variant[256];
    for (int d = kRot90; d < kNumDihedral; ++d) {
      DihedralVariant(static_cast<Dihedral>(d), b, variant);
      result.hashes[d] = HashFromDct(variant);
    }
    // One DCT per mirror downsample that differs from `a` (none when both
    // windows are odd); a variant whose source is `a` is the reference's.
    const float* sources[3] = {m ? m->x : a, m ? m->y : a, m ? m->xy : a};
    bool same[3], done[3] = {false, false, false};
    for (int i = 0; i < 3; ++i) same[i] = sources[i] == a || std::memcmp(sources[i], a, sizeof(float) * 64 * 64) == 0;
    alignas(64) float bm[3][256];
    for (int d = kRot90; d < kNumDihedral; ++d) {
      const float* src = m ? AlignedSource(static_cast<Dihedral>(d), a, *m) : a;
      const int i = static_cast<int>(std::find(sources, sources + 3, src) - sources);
      if (i == 3 || same[i]) {
        result.aligned[d] = result.hashes[d];
        continue;
      }
      if (!done[i]) k.dct64_to_16(src, bm[i]), done[i] = true;
      DihedralVariant(static_cast<Dihedral>(d), bm[i], variant);
      result.aligned[d] = HashFromDct(variant);
    }
  }
  return result;
}

PdqResult ComputePdq(LumaImage luma, PdqMode mode, bool dihedral, const PdqKernels& k) {
  if (mode == PdqMode::kCli512 && (luma.width > 512 || luma.height > 512)) luma = Squash512(luma);
  if (luma.width < 5 || luma.height < 5) return PdqResult();  // the reference's zero hash, quality 0

  alignas(64) float a[64 * 64];
  std::unique_ptr<MirrorDownsamples> mirrors;
  if (dihedral) mirrors = std::make_unique<MirrorDownsamples>();
  if (luma.width == 64 && luma.height == 64) {
    // pdqHash256FromFloatLuma uses a 64x64 image as its own downsample; the
    // dihedral entry point filters it anyway, so the variants differ.
    std::memcpy(a, luma.pixels.data(), sizeof a);
    PdqResult plain = PdqFromDownsample(a, false, k);
    if (dihedral) {
      PdqDownsample64(luma, k, a, mirrors.get());
      PdqResult filtered = PdqFromDownsample(a, true, k, mirrors.get());
      for (int d = kRot90; d < kNumDihedral; ++d) {
        plain.hashes[d] = filtered.hashes[d];
        plain.aligned[d] = filtered.aligned[d];
      }
    }
    return plain;
  }
  PdqDownsample64(luma, k, a, mirrors.get());
  return PdqFromDownsample(a, dihedral, k, mirrors.get());
}

}  // namespace hashing
