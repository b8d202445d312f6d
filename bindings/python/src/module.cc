// The extension module stencil._core. Users import `stencil`, which re-exports these classes beside
// its pure-Python parts; see bindings/python/stencil/__init__.py.
#include "bindings.h"

PYBIND11_MODULE(_core, m) {
  m.doc() = "stencil's C++ core (constrained decoding). Import `stencil`, not this module.";
  stencil::python::bind_errors(m);
  stencil::python::bind_vocabulary(m);
  stencil::python::bind_compiler(m);
  stencil::python::bind_matcher(m);
  stencil::python::bind_matcher_batch(m);
  stencil::python::bind_runtime(m);
}
