// The parts of the `hashscreen` Python module, each registering its names on
// the module (module.cc calls them in this order: the errors first, since the
// others raise them).
#pragma once

#include <pybind11/pybind11.h>

namespace pyhs {

void RegisterErrors(pybind11::module_& m);
void RegisterHashing(pybind11::module_& m);
void RegisterClient(pybind11::module_& m);

}  // namespace pyhs
