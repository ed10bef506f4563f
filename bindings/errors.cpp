// Translates careshed C++ exceptions into the Python classes of careshed.errors, which derive from
// both careshed.CareshedError and the matching builtin (ValueError, OSError). The classes live in
// Python so that users can import them without the compiled module, and so `except ValueError` works.
// careshed::Cancelled (a run stopped through its RunControl) becomes KeyboardInterrupt: the bindings cancel
// runs on Ctrl-C, and when they know the Python exception that caused the stop they re-raise that one
// itself instead (run_watch.cpp), so this translation covers a stop with no Python cause.
#include <pybind11/pybind11.h>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "init.hpp"

namespace py = pybind11;

namespace careshed::bindings {

namespace {
void raise_as(const char* class_name, const std::exception& e) {
  py::object cls = py::module_::import("careshed.errors").attr(class_name);
  PyErr_SetString(cls.ptr(), e.what());
}
}  // namespace

void init_errors(py::module_& /*m*/) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const careshed::Cancelled&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    } catch (const careshed::CrsError& e) {
      raise_as("CRSError", e);
    } catch (const careshed::InputError& e) {
      raise_as("InputError", e);
    } catch (const careshed::DataIOError& e) {
      raise_as("DataIOError", e);
    } catch (const careshed::Error& e) {
      raise_as("CareshedError", e);
    }
  });
}

}  // namespace careshed::bindings
