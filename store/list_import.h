// List import: streams a hash-list file into a list in batches, never
// holding the file in memory. Every format of the list codec
// (codec/hash_list_codec.h) is read. Each batch gets the id
// "import:<file size>:<mtime>:<basename>:<byte offset of its first line>", so
// a re-run of the same file after a crash replays the batches already
// applied (no duplicates, no gaps) and continues.
//
// A line the codec cannot read fails the import with InvalidArgument naming
// "path:line"; batches before it stay applied.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "codec/hash_list_codec.h"
#include "store/hash_lists.h"

namespace store {

struct ImportOptions {
  codec::ListCodecOptions codec;
  size_t batch_size = 100000;          // signals per batch (larger batches import faster, see docs/store.md)
};

struct ImportResult {
  uint64_t lines = 0;  // data lines read (not counting header, blank, comments)
  uint64_t batches = 0;
  uint64_t batches_replayed = 0;  // already applied by an earlier run
  uint64_t added = 0, already_present = 0;
  uint64_t bytes = 0;  // bytes of the file consumed
};

// Called after every batch with the running totals and the file size.
using ImportProgress = std::function<void(const ImportResult& so_far, uint64_t file_bytes)>;

Status ImportFile(HashLists* lists, uint64_t list_id, const std::string& path, const ImportOptions& options,
                  const ImportProgress& progress, ImportResult* result);

}  // namespace store
