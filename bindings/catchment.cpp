// Bindings of careshed/catchment.hpp and careshed/capacity.hpp: nearest-facility catchment statistics and
// polygons, capacity-aware coverage. The user-facing functions (argument normalisation, DataFrames) are in
// python/careshed/catchment.py. Shapes, dtypes and sizes are checked here before the GIL is released; the per-cell
// output (uncovered population) is a numpy array allocated first and filled in place by the core.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "careshed/capacity.hpp"
#include "careshed/catchment.hpp"
#include "careshed/error.hpp"
#include "grid_py.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

/// Population stays float32 when it is float32 (no doubling of a national grid); anything else → float64.
struct Population {
  py::array keep;  // keeps the (possibly converted) array alive
  const float* f32 = nullptr;
  const double* f64 = nullptr;
};
Population population_of(const py::array& population) {
  Population p;
  if (population.dtype().kind() == 'f' && population.itemsize() == 4) {
    auto a = Arr<float>::ensure(population);
    if (!a) throw py::error_already_set();
    p.f32 = a.data();
    p.keep = a;
  } else {
    auto a = Arr<double>::ensure(population);
    if (!a) throw InputError("population: expected a numeric array of people per cell");
    p.f64 = a.data();
    p.keep = a;
  }
  return p;
}

py::dict catchment_stats_py(const Arr<float>& seconds, const Arr<std::int32_t>& nearest, const py::array& population,
                            std::int32_t n_facilities, const std::optional<Arr<double>>& row_area_km2,
                            const std::optional<Arr<double>>& resources, const py::object& progress) {
  if (seconds.ndim() != 2) throw InputError("seconds: expected a 2-D (rows, cols) array, got " + shape_str(seconds));
  const py::ssize_t rows = seconds.shape(0), cols = seconds.shape(1);
  require_shape2(nearest, "nearest", rows, cols, "seconds");
  require_shape2(population, "population", rows, cols, "seconds");
  if (row_area_km2) require_len(*row_area_km2, "row_cell_area_km2", rows);
  std::int32_t n_res = 0;
  if (resources) {
    if (resources->ndim() != 2 || resources->shape(0) != n_facilities)
      throw InputError("resources: expected shape (" + std::to_string(n_facilities) +
                       ", n_resources), one row per facility; got " + shape_str(*resources));
    n_res = static_cast<std::int32_t>(resources->shape(1));
  }
  const Population pop = population_of(population);
  CatchmentInputs in;
  in.rows = rows;
  in.cols = cols;
  in.seconds = seconds.data();
  in.nearest = nearest.data();
  in.n_facilities = n_facilities;
  in.population_f32 = pop.f32;
  in.population_f64 = pop.f64;
  in.row_cell_area_km2 = row_area_km2 ? row_area_km2->data() : nullptr;
  in.resources = resources ? resources->data() : nullptr;
  in.n_resources = n_res;
  CatchmentResult r = run_interruptible(progress, [&](RunControl* c) { return catchment_stats(in, {}, c); });
  py::dict d;
  d["population"] = to_numpy(std::move(r.population));
  d["cells"] = to_numpy(std::move(r.cells));
  d["area_km2"] = to_numpy(std::move(r.area_km2));
  d["mean_seconds"] = to_numpy(std::move(r.mean_seconds));
  d["p90_seconds"] = to_numpy(std::move(r.p90_seconds));
  d["resources_per_1000"] = to_numpy(std::move(r.resources_per_1000),
                                     {static_cast<py::ssize_t>(n_facilities), static_cast<py::ssize_t>(n_res)});
  d["total_population"] = r.total_population;
  d["reached_population"] = r.reached_population;
  d["unreached_population"] = r.unreached_population;
  d["bin_seconds"] = r.bin_seconds;
  return d;
}

py::list catchment_polygons_py(const Arr<std::int32_t>& nearest, const py::handle& grid_obj,
                               std::int32_t n_facilities, bool eight_connected, bool simplify,
                               const py::object& progress) {
  const GridSpec grid = grid_from_py(grid_obj);
  require_shape2(nearest, "nearest", static_cast<py::ssize_t>(grid.height), static_cast<py::ssize_t>(grid.width),
                 "the grid");
  std::vector<CatchmentPolygon> polys = run_interruptible(progress, [&](RunControl* c) {
    return catchment_polygons(nearest.data(), grid, n_facilities, eight_connected, simplify, c);
  });
  py::list out;
  for (const auto& p : polys) {
    py::dict d;
    d["facility"] = p.facility;
    d["cells"] = p.cells;
    d["area"] = p.area;
    d["wkb"] = py::bytes(reinterpret_cast<const char*>(p.wkb.data()), p.wkb.size());
    out.append(d);
  }
  return out;
}

py::dict capacity_coverage_py(const py::array& friction, double dx, double dy,
                              const std::optional<Arr<double>>& row_dx, const Arr<std::int64_t>& sources,
                              const py::array& population, const Arr<double>& capacity, double max_seconds,
                              double band_seconds, const std::string& order_by,
                              const std::optional<Arr<std::int32_t>>& order, double order_max_seconds,
                              int neighbours, const std::optional<Arr<double>>& offsets,
                              const std::optional<Arr<std::int32_t>>& zone,
                              const std::optional<Arr<std::int64_t>>& split_cell,
                              const std::optional<Arr<std::int32_t>>& split_zone,
                              const std::optional<Arr<double>>& split_fraction, std::int32_t n_zones,
                              const py::object& progress) {
  if (friction.ndim() != 2) throw InputError("friction: expected a 2-D (rows, cols) array, got " + shape_str(friction));
  if ((friction.flags() & py::array::c_style) == 0)
    throw InputError("friction must be C-contiguous (use numpy.ascontiguousarray)");
  const py::ssize_t rows = friction.shape(0), cols = friction.shape(1);
  CapacityInputs in;
  FrictionGrid& g = in.friction;
  if (friction.dtype().kind() == 'f' && friction.itemsize() == 4)
    g.friction_f32 = static_cast<const float*>(friction.data());
  else if (friction.dtype().kind() == 'f' && friction.itemsize() == 8)
    g.friction_f64 = static_cast<const double*>(friction.data());
  else
    throw InputError("friction must be float32 or float64 (seconds per metre); convert it with astype");
  g.rows = rows;
  g.cols = cols;
  g.dx_m = dx;
  g.dy_m = dy;
  if (row_dx) {
    require_len(*row_dx, "cell_size dx per row", rows);
    g.row_dx_m = row_dx->data();
  }
  if (sources.ndim() != 2 || sources.shape(1) != 2)
    throw InputError("sources: expected shape (K, 2) of (row, col), got " + shape_str(sources));
  const py::ssize_t k = sources.shape(0);
  if (k < 1) throw InputError("sources: give at least one facility");
  in.sources_rc = sources.data();
  in.n_facilities = static_cast<std::int32_t>(k);
  require_shape2(population, "population", rows, cols, "friction");
  const Population pop = population_of(population);
  in.population_f32 = pop.f32;
  in.population_f64 = pop.f64;
  require_len(capacity, "capacity", k);
  in.capacity = capacity.data();
  CapacityOptions o;
  o.max_seconds = max_seconds;
  o.band_seconds = band_seconds;
  o.order_max_seconds = order_max_seconds;
  o.neighbours = neighbours;
  if (order_by == "index") {
    o.order_by = CapacityOrder::Index;
  } else if (order_by == "population") {
    o.order_by = CapacityOrder::Population;
  } else if (order_by == "given") {
    o.order_by = CapacityOrder::Given;
    if (!order) throw InputError("order: order_by='given' needs the processing order (a permutation)");
    require_len(*order, "order", k);
    o.order.assign(order->data(), order->data() + k);
  } else {
    throw InputError("order_by must be 'index', 'population' or 'given'; got '" + order_by + "'");
  }
  if (offsets) {
    require_len(*offsets, "source_offsets", k);
    o.source_offsets_s = offsets->data();
  }
  if (zone) {
    require_shape2(*zone, "zones", rows, cols, "friction");
    if (!split_cell || !split_zone || !split_fraction) throw InputError("zones: the three split arrays are required");
    const py::ssize_t ns = split_cell->size();
    require_len(*split_cell, "split_cell", ns);
    require_len(*split_zone, "split_zone", ns);
    require_len(*split_fraction, "split_fraction", ns);
    in.zones.zone = zone->data();
    in.zones.n_zones = n_zones;
    in.zones.split_cell = split_cell->data();
    in.zones.split_zone = split_zone->data();
    in.zones.split_fraction = split_fraction->data();
    in.zones.n_splits = static_cast<std::size_t>(ns);
  }
  py::array_t<double> uncovered({rows, cols});
  double* out = uncovered.mutable_data();
  CapacityResult r = run_interruptible(progress, [&](RunControl* c) { return capacity_coverage(in, o, out, c); });
  py::dict d;
  d["uncovered"] = uncovered;
  d["rank"] = to_numpy(std::move(r.rank));
  d["reachable_population"] = to_numpy(std::move(r.reachable_population));
  d["order_population"] = to_numpy(std::move(r.order_population));
  d["covered"] = to_numpy(std::move(r.covered));
  d["capacity_used"] = to_numpy(std::move(r.capacity_used));
  d["capacity_remaining"] = to_numpy(std::move(r.capacity_remaining));
  d["exhausted"] = to_numpy(std::move(r.exhausted));
  d["exhausted_seconds"] = to_numpy(std::move(r.exhausted_seconds));
  d["cells_reached"] = to_numpy(std::move(r.cells_reached));
  d["processing_order"] = to_numpy(std::move(r.processing_order));
  d["zone_population"] = to_numpy(std::move(r.zone_population));
  d["zone_covered"] = to_numpy(std::move(r.zone_covered));
  d["zone_covered_share"] = to_numpy(std::move(r.zone_covered_share));
  d["total_population"] = r.total_population;
  d["total_covered"] = r.total_covered;
  d["pairs"] = r.pairs;
  return d;
}

}  // namespace

void init_catchment(py::module_& m) {
  m.def("catchment_stats", &catchment_stats_py, py::arg("seconds"), py::arg("nearest"), py::arg("population"),
        py::arg("n_facilities"), py::arg("row_cell_area_km2") = py::none(), py::arg("resources") = py::none(),
        py::arg("progress") = py::none(),
        "Per-facility catchment statistics (careshed/catchment.hpp): dict of population, cells, area_km2, "
        "mean_seconds, p90_seconds, resources_per_1000 (n_facilities, n_resources), total/reached/unreached "
        "population, bin_seconds.");
  m.def("catchment_polygons", &catchment_polygons_py, py::arg("nearest"), py::arg("grid"), py::arg("n_facilities"),
        py::arg("eight_connected") = false, py::arg("simplify") = false, py::arg("progress") = py::none(),
        "Catchment display polygons: list of dicts facility, cells, area (CRS units^2), wkb (MultiPolygon).");
  m.def("capacity_coverage", &capacity_coverage_py, py::arg("friction"), py::arg("dx"), py::arg("dy"),
        py::arg("row_dx"), py::arg("sources"), py::arg("population"), py::arg("capacity"), py::arg("max_seconds"),
        py::arg("band_seconds") = 60.0, py::arg("order_by") = "index", py::arg("order") = py::none(),
        py::arg("order_max_seconds") = std::nan(""), py::arg("neighbours") = 8, py::arg("source_offsets") = py::none(),
        py::arg("zone") = py::none(), py::arg("split_cell") = py::none(), py::arg("split_zone") = py::none(),
        py::arg("split_fraction") = py::none(), py::arg("n_zones") = 0, py::arg("progress") = py::none(),
        "Capacity-aware coverage (careshed/capacity.hpp): dict with uncovered (rows, cols) float64, per-facility "
        "arrays (rank, reachable_population, order_population, covered, capacity_used, capacity_remaining, "
        "exhausted, exhausted_seconds, cells_reached), processing_order, zone_population/covered/covered_share, "
        "total_population, total_covered, pairs.");
}

}  // namespace careshed::bindings
