// CheckNotTruncated: structural completeness checks for the formats stb_image
// decodes leniently (it reads past the end of the data as zeros, so a
// truncated file would "decode" into a partly blank image and be hashed).
//   GIF  the first frame's LZW data ends with its terminator block;
//   BMP  an uncompressed pixel array fits in the file.
// Other formats pass. Cheap: walks headers only.
#pragma once

#include <cstdint>
#include <span>

#include "hashing/image_format.h"
#include "base/status.h"

namespace hashing {

using base::Status;

Status CheckNotTruncated(ImageFormat format, std::span<const uint8_t> bytes);

}  // namespace hashing
