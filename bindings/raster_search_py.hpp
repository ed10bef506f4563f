// raster_search_py.hpp — the friction-grid arguments of raster_search.cpp, shared with the bindings that run
// raster searches of their own (referral.cpp): one check of the friction / sources arrays, one label buffer.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "careshed/raster_search.hpp"

namespace careshed::bindings {

/// The FrictionGrid view over a C-contiguous float32/float64 (rows, cols) array, with cell size dx, dy or a
/// per-row width array (None); InputError with the fix otherwise. The arrays must outlive the view.
FrictionGrid friction_grid_of(const pybind11::array& friction, double dx, double dy, const pybind11::object& row_dx);
/// The (row, col) pairs of a contiguous int64 (K, 2) array; K in *n. InputError otherwise.
const std::int64_t* cell_sources_of(const pybind11::array& sources, std::size_t* n);
/// An int32 array of `shape` for CellLabels (8 bytes = [..., 0] nearest, [..., 1] float32 seconds bits); big
/// ones get their own mapping (transparent huge pages).
pybind11::array_t<std::int32_t> cell_label_buffer(const std::vector<pybind11::ssize_t>& shape);

}  // namespace careshed::bindings
