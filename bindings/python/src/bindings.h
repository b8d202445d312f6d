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
#include <vector>

namespace stencil {
class Matcher;
}

namespace stencil::python {

namespace py = pybind11;

void bind_errors(py::module_& m);
void bind_vocabulary(py::module_& m);
void bind_compiler(py::module_& m);
void bind_matcher(py::module_& m);
void bind_matcher_batch(py::module_& m);
void bind_runtime(py::module_& m);

// A bitmask argument as a numpy array: numpy arrays pass as they are; anything else (a torch
// tensor ...) goes through stencil._tensors.as_numpy_bitmask, which shares its memory or raises.
// Throws ArgumentError unless it is a writable, row-contiguous 1-D or 2-D array of 32-bit integers.
py::array bitmask_array(py::handle obj);
// Row `index` of a bitmask array ((words,) or (batch, words)), checked to hold at least `min_words`
// words. Throws ArgumentError naming the index or the sizes.
std::span<uint32_t> bitmask_row(py::array& array, int64_t index, int32_t min_words);

// Words per bitmask row that a matcher's vocabulary needs.
int32_t words_of(const Matcher& m);

// The matchers of a batch call as C++ pointers. `items` (a tuple of them, the same object when
// given a tuple) keeps each matcher alive while the GIL is released, when another thread could
// drop a list's last reference to one. One caster serves every item: it looks the Matcher type up
// once, and loading an exact stencil.Matcher is then a type comparison (py::cast per item would
// repeat the lookup, the larger part of a 64-row call's own cost). Throws TypeError naming the
// first item that is not a stencil.Matcher.
std::vector<Matcher*> matcher_pointers(py::handle matchers, py::tuple& items);

}  // namespace stencil::python
