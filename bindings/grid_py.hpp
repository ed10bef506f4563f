// grid_py.hpp — the one conversion between Python grids and careshed::GridSpec, shared by every binding
// that takes or returns a grid, plus small argument helpers (paths, shapes for error messages, shape checks).
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/grid.hpp"
#include "careshed/raster_io.hpp"

namespace careshed::bindings {

namespace py = pybind11;

/// A GridSpec from a careshed.Grid (attributes width, height, transform, crs), a dict with those keys, or a
/// 4-tuple (width, height, transform, crs_wkt). transform is in GDAL geotransform order; crs may be None.
inline GridSpec grid_from_py(const py::handle& obj) {
  py::object width, height, transform, crs;
  if (py::isinstance<py::dict>(obj)) {
    auto d = py::reinterpret_borrow<py::dict>(obj);
    for (const char* key : {"width", "height", "transform", "crs"}) {
      if (!d.contains(key)) throw InputError(std::string("grid: the dict has no '") + key + "' entry");
    }
    width = d["width"];
    height = d["height"];
    transform = d["transform"];
    crs = d["crs"];
  } else if (py::hasattr(obj, "transform") && py::hasattr(obj, "width")) {
    width = obj.attr("width");
    height = obj.attr("height");
    transform = obj.attr("transform");
    crs = obj.attr("crs");
  } else if (py::isinstance<py::tuple>(obj) && py::len(obj) == 4) {
    auto t = py::reinterpret_borrow<py::tuple>(obj);
    width = t[0];
    height = t[1];
    transform = t[2];
    crs = t[3];
  } else {
    throw InputError("grid: expected a careshed.Grid, a dict (width, height, transform, crs) or a 4-tuple");
  }
  GridSpec g;
  g.width = width.cast<std::int64_t>();
  g.height = height.cast<std::int64_t>();
  auto gt = transform.cast<std::vector<double>>();
  if (gt.size() != 6) throw InputError("grid: the transform must have 6 numbers (GDAL geotransform order)");
  std::copy(gt.begin(), gt.end(), g.geotransform.begin());
  g.crs_wkt = crs.is_none() ? std::string() : crs.cast<std::string>();
  return g;
}

/// (width, height, transform, crs_wkt) — the tuple form grid_from_py accepts.
inline py::tuple grid_to_py(const GridSpec& g) {
  py::tuple gt(6);
  for (int i = 0; i < 6; ++i) gt[i] = g.geotransform[i];
  return py::make_tuple(g.width, g.height, gt, g.crs_wkt);
}

/// A raster read's report (what was read, and the totals check of sum-preserving reads) as a dict.
inline py::dict read_report_to_py(const ReadReport& r) {
  py::dict d;
  d["path"] = r.path;
  d["band"] = r.band;
  d["resampling"] = resampling_name(r.resampling);
  d["valid_cells"] = r.valid_cells;
  d["result_total"] = r.result_total;
  d["source_total_in_grid"] = r.source_total_in_grid;
  d["relative_difference"] = r.relative_difference;
  return d;
}

/// A filesystem path from str or any os.PathLike.
inline std::string path_of(const py::handle& p) {
  if (py::isinstance<py::str>(p)) return p.cast<std::string>();
  return py::module_::import("os").attr("fspath")(p).cast<std::string>();
}

/// "(3, 4)" — an array's shape for error messages.
inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t d = 0; d < a.ndim(); ++d) s += (d ? ", " : "") + std::to_string(a.shape(d));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

/// Checks that `a` is a 2-D (rows, cols) array; the message names `what` and the array it must match (`like`).
inline void require_shape2(const py::array& a, const char* what, py::ssize_t rows, py::ssize_t cols,
                           const char* like) {
  if (a.ndim() != 2 || a.shape(0) != rows || a.shape(1) != cols) {
    throw InputError(std::string(what) + ": expected shape (" + std::to_string(rows) + ", " + std::to_string(cols) +
                     ") like " + like + ", got " + shape_str(a));
  }
}

/// Checks that `a` is a 1-D array of n values; the message names `what`.
inline void require_len(const py::array& a, const char* what, py::ssize_t n) {
  if (a.ndim() != 1 || a.shape(0) != n) {
    throw InputError(std::string(what) + ": expected a 1-D array of " + std::to_string(n) + " values, got shape " +
                     shape_str(a));
  }
}

}  // namespace careshed::bindings
