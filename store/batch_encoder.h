// EncodeBatch: writes a planned signal batch (store/batch_plan.h) into an
// AtomicBatch through the key codec (store/key_encoding.h):
//   changes  one record per effective entry, consecutive seqs after
//            `last_seq`, adds then removes, each in request order;
//   signals  a put per effective add and a delete per effective remove, in
//            key order, each key once (a signal both added and removed by
//            the batch is written only as its delete).
// Keys and values are encoded into reused buffers: no allocation per entry.
// It returns what the index must apply once the write is durable.
//
// Thread-safety: touches only its arguments.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/atomic_batch.h"
#include "store/batch_plan.h"

namespace store {

struct EncodedBatch {
  uint64_t last_seq = 0;                       // the seq of the batch's last change
  std::vector<idx::SignalRef> added, removed;  // effective signals (views into the request)
};

// removed_refs[i]: the stored ref of remove i when it takes effect (the ref
// the change feed reports as removed).
void EncodeBatch(uint64_t list_id, uint64_t last_seq, int64_t now_ms, const BatchRequest& batch,
                 const BatchPlan& plan, const std::vector<std::string>& removed_refs, AtomicBatch* out,
                 EncodedBatch* encoded);

}  // namespace store
