// PYBIND11_MODULE(hashscreen): the Python face of hashscreen (docs/datasets.md,
// "Python"). Every function that hashes, reads files or talks to the server
// releases the GIL, so threads (and Dask/Spark/Ray workers' thread pools) hash
// in parallel.
#include "base/version.h"
#include "python/bindings.h"

PYBIND11_MODULE(hashscreen, m) {
  m.doc() =
      "hashscreen: hash images locally (PDQ with its 8 rotations/mirrorings, MD5, SHA-256) "
      "and screen the hashes against a hashscreend in batches. See docs/datasets.md.";
  m.attr("__version__") = std::string(base::Build().version);
  pyhs::RegisterErrors(m);
  pyhs::RegisterHashing(m);
  pyhs::RegisterClient(m);
}
