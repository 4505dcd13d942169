// ScanSources: what `hashscreen scan` screens, in input order. Each INPUT
// expands to sources: a file is one source; a directory, its regular files
// (recursively, sorted by path); a tar or WebDataset shard (recognised by
// its ustar header, whatever its name), each regular member, named
// "SHARD:MEMBER"; "@LIST", the inputs named one per line in LIST; "-", the
// same read from standard input. An input that cannot be expanded (missing,
// unreadable, a tar damaged from some member on) becomes one source carrying
// that error, so it is reported in order, once, and never crashes the scan.
//
// Thread-safety: Expand runs on one thread; ReadSource may be called from
// any number of threads.
#pragma once

#include <array>
#include <cstdint>
#include <istream>
#include <span>
#include <string>
#include <vector>

#include "base/crypto.h"
#include "base/merkle.h"
#include "base/pdq_hash.h"
#include "base/status.h"
#include "hashing/image_hasher.h"

namespace client {

struct Source {
  std::string name;  // what the output calls it: the path, or SHARD:MEMBER
  std::string path;  // the file to read
  bool in_tar = false;
  uint64_t offset = 0, size = 0;  // the member's bytes, when in_tar
  base::Status error;             // set: the source could not be listed (reported as is)
};

// Appends the sources of `inputs` to `out`. `stdin_lines` is read for "-".
// Returns InvalidArgument only for a malformed argument (an "@" without a
// file name); every problem with a path is a Source's error.
base::Status ExpandInputs(const std::vector<std::string>& inputs, std::istream& stdin_lines, std::vector<Source>* out);

// Reads the source's bytes, at most `max_bytes` (TooLarge beyond, without
// reading them); with `head_only`, at most the first 64 bytes (for sniffing).
base::Status ReadSource(const Source& source, uint64_t max_bytes, bool head_only, std::vector<uint8_t>* out);

// The source named `name` (a path, or SHARD:MEMBER for a member of a tar):
// what `audit prove --image` reads. NotFound when there is none.
base::Status FindSource(const std::string& name, Source* out);

// The ref a scan sends for a source: its name, at most 256 bytes (the end,
// cut at a UTF-8 character boundary), control characters as '?' (the
// server's rule for refs).
std::string ScanRef(const std::string& source_name);

// What a scan screens for an image: the PDQ hashes of its 8 rotated and
// mirrored pictures (original first: ImageHashes::aligned, what the upload
// path queries), the PDQ quality, MD5 and SHA-256.
struct SourceHashes {
  std::array<base::PdqHash, 8> pdq{};
  int quality = -1;
  base::Md5Digest md5{};
  base::Sha256Digest sha256{};
};
// How scan hashes a source: all 8 variants, `max_bytes`, and with `fast`
// large JPEGs decoded at reduced size (hashing::kFastJpegMinSide; `scan
// --fast`). The Python module hashes with the same options.
hashing::HashOptions ScanHashOptions(uint64_t max_bytes, bool fast);
// Decode errors as hashing::HashImage returns them.
base::Status HashSource(std::span<const uint8_t> bytes, uint64_t max_bytes, bool fast, SourceHashes* out);
// The item's Merkle leaf (base/merkle.h) as the server computes it.
base::BatchLeafItem LeafOf(const std::string& ref, const SourceHashes& hashes);

}  // namespace client
