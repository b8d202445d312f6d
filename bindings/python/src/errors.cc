// C++ exceptions -> the Python exception classes of stencil._errors (stencil.SchemaError ...), with
// the same message and location. The classes are defined in Python so they pickle, carry
// properties (pointer, line, column) and can be caught without importing the extension.
#include <pybind11/pybind11.h>

#include "bindings.h"
#include "stencil/errors.h"

namespace stencil::python {

namespace {

// Raises stencil._errors.<name>(message, location) as the current Python exception.
void raise_as(const char* name, const Error& e) {
  // Looked up per error: errors are rare, and a cached py::object would outlive the interpreter.
  py::object cls = py::module_::import("stencil._errors").attr(name);
  py::object exc = cls(e.message(), e.location());
  PyErr_SetObject(cls.ptr(), exc.ptr());
}

}  // namespace

void bind_errors(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    if (!p) return;
    // Most derived first: each C++ subclass maps to the Python class of the same name.
    try {
      std::rethrow_exception(p);
    } catch (const SchemaError& e) {
      raise_as("SchemaError", e);
    } catch (const GrammarError& e) {
      raise_as("GrammarError", e);
    } catch (const VocabularyError& e) {
      raise_as("VocabularyError", e);
    } catch (const ModelError& e) {
      raise_as("ModelError", e);
    } catch (const LimitError& e) {
      raise_as("LimitError", e);
    } catch (const ArgumentError& e) {
      raise_as("ArgumentError", e);
    } catch (const Error& e) {
      raise_as("Error", e);
    }
  });
  // For tests of the translation itself: throws the C++ class `kind` with this message and location.
  m.def(
      "_raise_cpp_error",
      [](const std::string& kind, const std::string& message, const std::string& location) {
        if (kind == "SchemaError") throw SchemaError(message, location);
        if (kind == "GrammarError") throw GrammarError(message, location);
        if (kind == "VocabularyError") throw VocabularyError(message, location);
        if (kind == "ModelError") throw ModelError(message, location);
        if (kind == "LimitError") throw LimitError(message, location);
        if (kind == "ArgumentError") throw ArgumentError(message, location);
        if (kind == "Error") throw Error(message, location);
        throw std::invalid_argument("unknown stencil error class '" + kind + "'");
      },
      py::arg("kind"), py::arg("message"), py::arg("location") = "");
}

}  // namespace stencil::python
