// Byte encodings of the hash-list keys and values in RocksDB (the column
// families of DESIGN.md section 3). Integers in keys are big-endian so that
// RocksDB's bytewise order is numeric order: a list's signals and changes are
// contiguous ranges, and changes iterate in seq order.
//
//   lists    key: u64 list id
//            value: u8 format(1) u8 kind u8 threshold u8 enabled u64 last_seq
//                   u64 signal_count i64 created_ms u16 name_len name u16 owner_len owner
//   signals  key: u64 list id, u8 type, hash bytes (16 or 32)
//            value v1: i64 added_ms, ref bytes (added_ms >= 0, so the first
//                      byte is below 0x80)
//            value v2 (an entry with partner metadata, SignalMeta): u8 0xFF,
//                      u8 version (2), i64 added_ms, u64-length-prefixed ref,
//                      i64 first_seen_ms, u16 tag count, u64-length-prefixed
//                      tags. An entry without metadata is still written v1,
//                      so databases written before v2 read unchanged.
//   changes  key: u64 list id, u64 seq
//            value: u8 op (1 add, 2 remove), u8 type, u8 hash_len, hash, i64 time_ms, ref
//            or, for an add with partner metadata (so a follower's copy of
//            the entry carries it too): u8 op 3, u8 type, u8 hash_len, hash,
//            i64 time_ms, u64-length-prefixed ref, i64 first_seen_ms, u16 tag
//            count, u64-length-prefixed tags. Changes without metadata are
//            still written the first way, so older records read unchanged.
//   batches  key: u64 list id, batch id bytes
//            value: u64 seq, added, removed, already_present, not_found,
//                   then the batch's content digest (32 bytes, BatchDigest);
//                   records written before digests are the 40 bytes alone
//   meta     "next_list_id" -> u64
//
// Thread-safety: pure functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "store/hash_lists.h"

namespace store::keys {

inline constexpr std::string_view kNextListId = "next_list_id";

std::string ListKey(uint64_t list_id);
std::string SignalKey(uint64_t list_id, SignalType type, std::string_view hash);
// SignalKey appended to *out (batches encode into reused buffers).
void AppendSignalKey(std::string* out, uint64_t list_id, SignalType type, std::string_view hash);
// Prefix of every signal key of a list.
std::string ListPrefix(uint64_t list_id);
// Splits a signals key; false if it is malformed.
bool ParseSignalKey(std::string_view key, uint64_t* list_id, SignalType* type, std::string_view* hash);
std::string ChangeKey(uint64_t list_id, uint64_t seq);
void AppendChangeKey(std::string* out, uint64_t list_id, uint64_t seq);
std::string BatchKey(uint64_t list_id, std::string_view batch_id);

std::string EncodeList(const ListInfo& info);
Status DecodeList(uint64_t id, std::string_view value, ListInfo* out);

std::string EncodeSignalValue(int64_t added_ms, std::string_view ref);
// v1 when `meta` is null or empty, else v2.
void AppendSignalValue(std::string* out, int64_t added_ms, std::string_view ref, const SignalMeta* meta = nullptr);
// Either version; `meta` (if given) is cleared for v1.
Status DecodeSignalValue(std::string_view value, int64_t* added_ms, std::string* ref, SignalMeta* meta = nullptr);

std::string EncodeChange(const Change& change);
// Appends the encoding of a change to *out (EncodeChange without a Change).
// `meta` is written only for an add (and only when it is not empty).
void AppendChange(std::string* out, bool add, SignalType type, std::string_view hash, int64_t time_ms,
                  std::string_view ref, const SignalMeta* meta = nullptr);
Status DecodeChange(uint64_t seq, std::string_view value, Change* out);

// SHA-256 over a canonical encoding of the batch's content: the adds, then
// the removes, each entry's type, hash and reference, in request order
// (counts and lengths framed, so two different batches never encode alike).
// The batch id is not part of it.
using BatchDigestBytes = std::array<uint8_t, 32>;
BatchDigestBytes BatchDigest(const BatchRequest& batch);

std::string EncodeBatchResult(const BatchResult& result, const BatchDigestBytes& digest);
// `*digest` is empty for a record written before digests (40 bytes).
Status DecodeBatchResult(std::string_view value, BatchResult* out, std::optional<BatchDigestBytes>* digest);

}  // namespace store::keys
