#include "client/scan_sources.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "client/tar_reader.h"
#include "hashing/image_hasher.h"

namespace client {

namespace {

namespace fs = std::filesystem;
using base::Status;

constexpr uint64_t kHeadBytes = 64;

Source Failed(const std::string& name, Status error) {
  Source s;
  s.name = name;
  s.path = name;
  s.error = std::move(error);
  return s;
}

void ExpandTar(const std::string& path, std::vector<Source>* out) {
  std::vector<TarMember> members;
  Status s = ListTarMembers(path, &members);
  for (auto& m : members) {
    Source src;
    src.name = path + ":" + m.name;
    src.path = path;
    src.in_tar = true;
    src.offset = m.offset;
    src.size = m.size;
    out->push_back(std::move(src));
  }
  // The rest of a damaged shard is one error, after the members before it.
  if (!s.ok()) out->push_back(Failed(path, s));
}

void ExpandFile(const std::string& path, std::vector<Source>* out) {
  if (LooksLikeTar(path)) return ExpandTar(path, out);
  Source src;
  src.name = path;
  src.path = path;
  out->push_back(std::move(src));
}

void ExpandPath(const std::string& path, std::vector<Source>* out) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return out->push_back(Failed(path, Status::NotFound("no such file or directory")));
  if (!fs::is_directory(st)) return ExpandFile(path, out);
  std::vector<std::string> found;
  for (auto it = fs::recursive_directory_iterator(path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) found.push_back(it->path().string());
  }
  if (ec) return out->push_back(Failed(path, Status::IOError("cannot list the directory: " + ec.message())));
  std::sort(found.begin(), found.end());
  for (const auto& f : found) ExpandFile(f, out);
}

void ExpandLines(std::istream& in, std::vector<Source>* out) {
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    ExpandPath(line, out);  // list lines are paths, never @LIST or -
  }
}

}  // namespace

Status ExpandInputs(const std::vector<std::string>& inputs, std::istream& stdin_lines, std::vector<Source>* out) {
  for (const auto& input : inputs) {
    if (input == "-") {
      ExpandLines(stdin_lines, out);
    } else if (input[0] == '@') {
      const std::string list = input.substr(1);
      if (list.empty()) return Status::InvalidArgument("'@' needs a file name: @LIST");
      std::ifstream in(list);
      if (!in) {
        out->push_back(Failed(input, Status::NotFound("cannot open the list file " + list)));
        continue;
      }
      ExpandLines(in, out);
    } else {
      ExpandPath(input, out);
    }
  }
  return Status::Ok();
}

Status ReadSource(const Source& source, uint64_t max_bytes, bool head_only, std::vector<uint8_t>* out) {
  if (!source.error.ok()) return source.error;
  uint64_t size = source.size;
  if (!source.in_tar) {
    struct stat st;
    if (::stat(source.path.c_str(), &st) != 0) {
      return errno == ENOENT ? Status::NotFound("no such file") : Status::IOError(std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return Status::InvalidArgument("not a regular file");
    size = static_cast<uint64_t>(st.st_size);
  }
  if (head_only) return ReadFileRange(source.path, source.offset, std::min(size, kHeadBytes), out);
  if (size > max_bytes) {
    return Status::TooLarge(std::to_string(size) + " bytes, over the limit of " + std::to_string(max_bytes));
  }
  return ReadFileRange(source.path, source.offset, size, out);
}

Status FindSource(const std::string& name, Source* out) {
  std::error_code ec;
  if (fs::is_regular_file(name, ec)) {
    *out = Source();
    out->name = out->path = name;
    return Status::Ok();
  }
  // SHARD:MEMBER: the shard is the longest prefix before a ':' that is a tar.
  for (size_t colon = name.rfind(':'); colon != std::string::npos && colon > 0; colon = name.rfind(':', colon - 1)) {
    const std::string shard = name.substr(0, colon);
    if (!fs::is_regular_file(shard, ec) || !LooksLikeTar(shard)) continue;
    std::vector<TarMember> members;
    (void)ListTarMembers(shard, &members);  // a damaged tail does not hide the members before it
    for (const auto& m : members) {
      if (m.name != name.substr(colon + 1)) continue;
      *out = Source();
      out->name = name;
      out->path = shard;
      out->in_tar = true;
      out->offset = m.offset;
      out->size = m.size;
      return Status::Ok();
    }
    return Status::NotFound("no member " + name.substr(colon + 1) + " in " + shard);
  }
  return Status::NotFound(name + ": no such file, and no SHARD:MEMBER of a tar");
}

std::string ScanRef(const std::string& name) {
  size_t start = name.size() > 256 ? name.size() - 256 : 0;
  while (start < name.size() && (static_cast<unsigned char>(name[start]) & 0xC0) == 0x80) ++start;
  std::string ref = name.substr(start);
  for (char& c : ref) {
    if (static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return ref;
}

hashing::HashOptions ScanHashOptions(uint64_t max_bytes, bool fast) {
  hashing::HashOptions options;
  options.dihedral = true;
  options.limits.max_bytes = max_bytes;
  if (fast) options.scaling.jpeg_min_side = hashing::kFastJpegMinSide;
  return options;
}

Status HashSource(std::span<const uint8_t> bytes, uint64_t max_bytes, bool fast, SourceHashes* out) {
  hashing::ImageHashes h;
  HS_RETURN_IF_ERROR(hashing::HashImage(bytes, ScanHashOptions(max_bytes, fast), &h));
  out->pdq = h.aligned;
  out->quality = h.quality;
  out->md5 = h.md5;
  out->sha256 = h.sha256;
  return Status::Ok();
}

base::BatchLeafItem LeafOf(const std::string& ref, const SourceHashes& hashes) {
  base::BatchLeafItem leaf;
  leaf.ref = ref;
  leaf.pdq = hashes.pdq;
  leaf.quality = hashes.quality;
  leaf.md5 = hashes.md5;
  leaf.sha256 = hashes.sha256;
  return leaf;
}

}  // namespace client
