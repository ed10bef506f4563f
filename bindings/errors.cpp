// Translates careshed C++ exceptions into the Python classes of careshed.errors, which derive from
// both careshed.CareshedError and the matching builtin (ValueError, OSError, MemoryError, RuntimeError). The classes live in
// Python so that users can import them without the compiled module, and so `except ValueError` works.
// careshed::Cancelled (a run stopped through its RunControl) becomes KeyboardInterrupt: the bindings cancel
// runs on Ctrl-C, and when they know the Python exception that caused the stop they re-raise that one
// itself instead (run_watch.cpp), so this translation covers a stop with no Python cause.
#include <pybind11/pybind11.h>

#include <new>
#include <string>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/memory.hpp"
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
    } catch (const careshed::MemoryLimitError& e) {
      raise_as("MemoryLimitError", e);
    } catch (const careshed::SolverError& e) {
      raise_as("SolverError", e);
    } catch (const careshed::Error& e) {
      raise_as("CareshedError", e);
    } catch (const std::bad_alloc&) {
      // An allocation failed although the run passed the memory check (or had none): say what to change
      // instead of pybind11's bare "std::bad_alloc". MemoryLimitError derives from MemoryError.
      py::object cls = py::module_::import("careshed.errors").attr("MemoryLimitError");
      const AvailableMemory a = available_memory();
      PyErr_SetString(cls.ptr(),
                      ("careshed ran out of memory (an allocation failed; " + format_bytes(a.bytes) +
                       " available now, " + a.source +
                       "). Use a larger cell size (memory falls with its square), a shorter cut-off or fewer "
                       "facilities, or split the area into tiles; careshed._core.estimate_memory gives the "
                       "estimate of a run before it starts.")
                          .c_str());
    }
  });
}

}  // namespace careshed::bindings
