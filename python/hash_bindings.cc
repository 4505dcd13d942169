// hash_bytes / hash_file / sniff_format / list_tar / read_member: local
// hashing and shard reading, the same code `hashscreen scan` runs
// (hashing::HashImage with all 8 dihedral variants, client::ReadSource,
// client::ListTarMembers). The GIL is released while reading and hashing;
// a bytes-like argument stays exported (and so unresizable) meanwhile.
#include <cstdint>
#include <string>
#include <vector>

#include <pybind11/stl.h>

#include "base/hex.h"
#include "client/scan_sources.h"
#include "client/tar_reader.h"
#include "hashing/image_format.h"
#include "hashing/image_hasher.h"
#include "python/bindings.h"
#include "python/status_error.h"

namespace py = pybind11;

namespace pyhs {

namespace {

constexpr uint64_t kDefaultMaxBytes = 256ull << 20;  // scan's --max-bytes default

// A contiguous read-only view of any bytes-like object (bytes, bytearray,
// memoryview, mmap, numpy uint8 arrays), released on destruction.
class ByteView {
 public:
  explicit ByteView(const py::object& o) {
    if (PyUnicode_Check(o.ptr())) throw py::type_error("expected bytes-like image data, not str (open the file in 'rb' mode or use hash_file)");
    if (PyObject_GetBuffer(o.ptr(), &view_, PyBUF_SIMPLE) != 0) throw py::error_already_set();
  }
  ~ByteView() { PyBuffer_Release(&view_); }
  ByteView(const ByteView&) = delete;
  ByteView& operator=(const ByteView&) = delete;
  std::span<const uint8_t> bytes() const {
    return {static_cast<const uint8_t*>(view_.buf), static_cast<size_t>(view_.len)};
  }

 private:
  Py_buffer view_{};
};


py::dict ToDict(const hashing::ImageHashes& h) {
  py::dict d;
  d["format"] = h.format;
  d["width"] = h.width;
  d["height"] = h.height;
  d["pdq"] = h.pdq[hashing::kOrig].ToHex();
  py::list dihedral, aligned;
  for (const auto& p : h.pdq) dihedral.append(p.ToHex());
  for (const auto& p : h.aligned) aligned.append(p.ToHex());
  d["dihedral"] = dihedral;
  d["aligned"] = aligned;
  d["quality"] = h.quality;
  d["md5"] = base::HexEncode(h.md5);
  d["sha256"] = base::HexEncode(h.sha256);
  d["decode_scale"] = h.decode_scale;
  return d;
}

py::dict HashBytes(const py::object& data, uint64_t max_bytes, bool fast) {
  ByteView view(data);
  hashing::ImageHashes h;
  base::Status s;
  {
    py::gil_scoped_release unlocked;
    s = hashing::HashImage(view.bytes(), client::ScanHashOptions(max_bytes, fast), &h);
  }
  ThrowIfError(s);
  return ToDict(h);
}

py::dict HashFile(const std::string& path, uint64_t max_bytes, bool fast) {
  client::Source src;
  src.name = src.path = path;
  hashing::ImageHashes h;
  base::Status s;
  {
    py::gil_scoped_release unlocked;
    std::vector<uint8_t> bytes;
    s = client::ReadSource(src, max_bytes, /*head_only=*/false, &bytes);
    if (s.ok()) s = hashing::HashImage(bytes, client::ScanHashOptions(max_bytes, fast), &h);
  }
  ThrowIfError(s.ok() ? s : s.WithContext(path));
  return ToDict(h);
}

py::object SniffFormat(const py::object& data) {
  ByteView view(data);
  hashing::ImageFormat f = hashing::SniffFormat(view.bytes());
  if (f == hashing::ImageFormat::kUnknown) return py::none();
  return py::str(hashing::ImageFormatName(f));
}

py::tuple ListTar(const std::string& path) {
  std::vector<client::TarMember> members;
  base::Status s;
  {
    py::gil_scoped_release unlocked;
    s = client::ListTarMembers(path, &members);
  }
  py::list out;
  for (const auto& m : members) out.append(py::make_tuple(m.name, m.offset, m.size));
  py::object error = s.ok() ? py::object(py::none()) : ErrorObject(s);
  return py::make_tuple(out, error);
}

py::bytes ReadMember(const std::string& path, uint64_t offset, uint64_t size, uint64_t max_bytes, bool head_only) {
  client::Source src;
  src.name = src.path = path;
  src.in_tar = true;
  src.offset = offset;
  src.size = size;
  std::vector<uint8_t> bytes;
  base::Status s;
  {
    py::gil_scoped_release unlocked;
    s = client::ReadSource(src, max_bytes, head_only, &bytes);
  }
  ThrowIfError(s);
  return py::bytes(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

void RegisterHashing(py::module_& m) {
  m.attr("DEFAULT_MAX_BYTES") = kDefaultMaxBytes;
  m.def("hash_bytes", &HashBytes, py::arg("data"), py::kw_only(), py::arg("max_bytes") = kDefaultMaxBytes, py::arg("fast") = false,
        R"(Hashes an encoded image (bytes-like: bytes, bytearray, memoryview, mmap).

Returns a dict:
  format, width, height   what was decoded ("jpeg", "png", "gif", "bmp", "pnm", "psd", "webp")
  pdq                     the PDQ hash (64 hex digits), as `hashscreen hash` prints it
  dihedral                the 8 PDQ variants (orig, rot90, rot180, rot270, flipx, flipy,
                          flipplus, flipminus) as `hashscreen hash --dihedral`
  aligned                 the 8 PDQ hashes a batch screens (what `hashscreen scan` sends)
  quality                 0..100; below 50 the PDQ hash is unreliable
  md5, sha256             hex digests of the bytes
  decode_scale            1, or 2/4/8 when fast=True decoded a large JPEG at that fraction
fast=True: `hashscreen scan --fast` (large JPEGs decoded at reduced size: faster,
the PDQ hash drifts a few bits from the exact one; docs/datasets.md).
Raises Unsupported (not an image), Corruption (truncated or damaged),
TooLarge (over max_bytes, or the decoder's pixel/memory/time limits).
Releases the GIL while hashing.)");
  m.def("hash_file", &HashFile, py::arg("path"), py::kw_only(), py::arg("max_bytes") = kDefaultMaxBytes, py::arg("fast") = false,
        R"(Reads and hashes the image file at `path`: the dict of hash_bytes.

Raises NotFound (no such file), InvalidArgument (not a regular file),
TooLarge (larger than max_bytes, not read), IOFailure, and hash_bytes' errors.
Releases the GIL while reading and hashing.)");
  m.def("sniff_format", &SniffFormat, py::arg("data"),
        R"(The image format of `data` judged by its first bytes ("jpeg", "png", ...), or None
for anything else: what `hashscreen scan` uses to skip captions, licences and
.json/.txt sidecars without an error line.)");
  m.def("list_tar", &ListTar, py::arg("path"),
        R"(The regular-file members of a tar or WebDataset shard, in file order:
(members, error) where members is a list of (name, offset, size) and error is
None, or a hashscreen.Error (not raised) when the archive is damaged from some
point on: members then holds those before the damage. Raises nothing for a
damaged or missing shard: error is NotFound/IOFailure/Corruption. The same
reader as `hashscreen scan` (bounded: names <= 4096 bytes, extended headers
<= 1 MiB, sizes checked against the file). Releases the GIL.)");
  m.def("is_tar", &client::LooksLikeTar, py::arg("path"),
        R"(Whether the file at `path` starts with a valid ustar/GNU tar header (any name):
how `hashscreen scan` recognises shards. False for a missing or unreadable file.)");
  m.def("read_member", &ReadMember, py::arg("path"), py::arg("offset"), py::arg("size"), py::kw_only(),
        py::arg("max_bytes") = kDefaultMaxBytes, py::arg("head_only") = false,
        R"(The bytes of a member found by list_tar. With head_only, at most its first 64
bytes (enough for sniff_format). Raises TooLarge when size > max_bytes (nothing
is read), Corruption/IOFailure when the file is shorter than it said.
Releases the GIL.)");
}

}  // namespace pyhs
