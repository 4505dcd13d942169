#include "store/list_import.h"

#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "codec/line_reader.h"

namespace store {

Status ImportFile(HashLists* lists, uint64_t list_id, const std::string& path, const ImportOptions& options,
                  const ImportProgress& progress, ImportResult* result) {
  *result = ImportResult();
  ListInfo info;
  HS_RETURN_IF_ERROR(lists->GetList(list_id, &info));
  if (options.batch_size == 0) return Status::InvalidArgument("batch size must be positive");
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f) return Status::IOError("cannot open " + path);
  struct stat st;
  if (fstat(fileno(f.get()), &st) != 0) return Status::IOError("cannot stat " + path);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(path + " is not a regular file");
  const uint64_t file_bytes = static_cast<uint64_t>(st.st_size);
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  const std::string id_prefix = "import:" + std::to_string(file_bytes) + ":" + std::to_string(st.st_mtime) + ":" +
                                base.substr(0, 64) + ":";

  codec::LineReader reader(f.get());
  codec::HashListParser parser(options.codec);
  BatchRequest batch;
  // batch.add's first `used` entries are this batch; the rest are kept from
  // earlier batches so their strings are reused instead of reallocated.
  size_t used = 0;
  uint64_t batch_offset = 0;
  uint64_t line_no = 0;

  auto flush = [&]() -> Status {
    if (used == 0) return Status::Ok();
    if (batch.add.size() > used) batch.add.resize(used);
    batch.batch_id = id_prefix + std::to_string(batch_offset);
    BatchResult r;
    HS_RETURN_IF_ERROR(lists->ApplyBatch(list_id, batch, &r).WithContext(path));
    ++result->batches;
    if (r.replayed) ++result->batches_replayed;
    result->added += r.added;
    result->already_present += r.already_present;
    used = 0;
    result->bytes = reader.consumed();
    if (progress) progress(*result, file_bytes);
    return Status::Ok();
  };

  std::string_view line;
  uint64_t offset;
  while (reader.Next(&line, &offset)) {
    ++line_no;
    const size_t before = used;
    if (Status s = parser.ParseLine(line, &batch.add, &used); !s.ok()) {
      return s.WithContext(path + ":" + std::to_string(line_no));
    }
    if (used == before) continue;  // header, blank or comment
    if (before == 0) batch_offset = offset;
    ++result->lines;
    if (used >= options.batch_size) HS_RETURN_IF_ERROR(flush());
  }
  if (reader.error()) return Status::IOError("reading " + path + ": " + reader.error_message());
  HS_RETURN_IF_ERROR(flush());
  result->bytes = reader.consumed();
  return Status::Ok();
}

}  // namespace store
