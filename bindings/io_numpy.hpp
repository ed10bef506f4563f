// io_numpy.hpp — helpers shared by the bindings: hand C++ vectors to numpy
// without copying, and read WKB sequences from Python.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"

namespace careshed::bindings {

namespace py = pybind11;

/// An input array as the bindings take it: C-contiguous, converted to T when it is not already (forcecast).
template <class T>
using Arr = py::array_t<T, py::array::c_style | py::array::forcecast>;

/// `a` as a vector after checking it is 1-D (and, when n >= 0, has n values); `what` names the argument in the
/// InputError.
template <class T>
std::vector<T> vector_1d(const Arr<T>& a, const char* what, py::ssize_t n = -1) {
  if (a.ndim() != 1) throw InputError(std::string(what) + ": expected a 1-D array");
  if (n >= 0 && a.shape(0) != n) {
    throw InputError(std::string(what) + ": expected " + std::to_string(n) + " values, got " +
                     std::to_string(a.shape(0)));
  }
  return std::vector<T>(a.data(), a.data() + a.shape(0));
}

/// Moves `v` to the heap and returns a numpy array viewing it, owned by a capsule (no element copy).
/// shape defaults to 1-D of v.size(); a 2-D shape (rows, cols) views it row-major.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& v, std::vector<py::ssize_t> shape = {}) {
  auto* heap = new std::vector<T>(std::move(v));
  py::capsule owner(heap, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  if (shape.empty()) shape = {static_cast<py::ssize_t>(heap->size())};
  std::vector<py::ssize_t> strides(shape.size(), static_cast<py::ssize_t>(sizeof(T)));
  for (std::size_t d = shape.size(); d-- > 1;) strides[d - 1] = strides[d] * shape[d];
  return py::array_t<T>(shape, strides, heap->data(), owner);
}

/// A sequence of WKB (bytes, bytearray, memoryview; None = null geometry) → vector<Wkb>. `what` names the
/// argument in errors.
inline std::vector<Wkb> wkb_list(const py::handle& seq, const char* what) {
  std::vector<Wkb> out;
  if (py::isinstance<py::bytes>(seq) || py::isinstance<py::str>(seq)) {
    throw InputError(std::string(what) + ": expected a sequence of WKB bytes (one per geometry), got a single " +
                     std::string(py::str(py::type::of(seq).attr("__name__"))));
  }
  std::size_t i = 0;
  for (py::handle item : py::iter(seq)) {
    if (item.is_none()) {
      out.emplace_back();
    } else {
      py::bytes b = py::isinstance<py::bytes>(item) ? py::reinterpret_borrow<py::bytes>(item)
                                                     : py::bytes(py::module_::import("builtins").attr("bytes")(item));
      char* data = nullptr;
      py::ssize_t size = 0;
      if (PyBytes_AsStringAndSize(b.ptr(), &data, &size) != 0) throw py::error_already_set();
      out.emplace_back(reinterpret_cast<const uint8_t*>(data), reinterpret_cast<const uint8_t*>(data) + size);
    }
    ++i;
  }
  return out;
}

using DoubleArray = py::array_t<double, py::array::c_style | py::array::forcecast>;

/// Checks that a is 1-D (and has `n` elements when n >= 0); InputError naming the argument otherwise.
inline void require_1d(const DoubleArray& a, const char* what, py::ssize_t n = -1) {
  if (a.ndim() != 1) {
    throw InputError(std::string(what) + ": expected a 1-D array, got " + std::to_string(a.ndim()) + " dimensions");
  }
  if (n >= 0 && a.shape(0) != n) {
    throw InputError(std::string(what) + ": expected " + std::to_string(n) + " values, got " +
                     std::to_string(a.shape(0)));
  }
}

}  // namespace careshed::bindings
