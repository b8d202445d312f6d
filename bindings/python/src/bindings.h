// Shared declarations of the pybind11 module `stencil._core`: one bind_* function per source file
// (one concept each), and the bitmask-array checks matcher.cc and runtime.cc both use.
//
// The bindings are thin: they convert types, check arguments the C++ API leaves as preconditions
// (token ids, array shapes) and release the GIL around real work. Pythonic behaviour (exception
// classes, the Hugging Face adapters, torch handling, schema objects) lives in the stencil package.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <span>

namespace stencil::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_vocabulary(py::module_& m);
void bind_compiler(py::module_& m);
void bind_matcher(py::module_& m);
void bind_runtime(py::module_& m);

// A bitmask argument as a numpy array: numpy arrays pass as they are; anything else (a torch
// tensor ...) goes through stencil._tensors.as_numpy_bitmask, which shares its memory or raises.
// Throws ArgumentError unless it is a writable, row-contiguous 1-D or 2-D array of 32-bit integers.
py::array bitmask_array(py::handle obj);
// Row `index` of a bitmask array ((words,) or (batch, words)), checked to hold at least `min_words`
// words. Throws ArgumentError naming the index or the sizes.
std::span<uint32_t> bitmask_row(py::array& array, int64_t index, int32_t min_words);

}  // namespace stencil::python
