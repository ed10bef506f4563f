// Bindings of careshed/coverage.hpp and careshed/isochrones.hpp: coverage by zone (one pass over the grid),
// the ambulance count check and isochrone polygons. Array-level: python/careshed/coverage.py turns the results
// into pandas / GeoPandas tables. Every array is checked (shape, dtype) before the GIL is released; results are
// numpy arrays allocated here and filled in place (no element-wise copies into Python objects).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "careshed/coverage.hpp"
#include "careshed/error.hpp"
#include "careshed/isochrones.hpp"
#include "grid_py.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

/// zones/population/... must have the shape of seconds.
void require_grid_shape(const py::array& a, const char* what, py::ssize_t rows, py::ssize_t cols) {
  require_shape2(a, what, rows, cols, "seconds");
}

py::dict coverage_by_zone_py(const Arr<float>& seconds, const std::optional<Arr<std::int32_t>>& nearest,
                             const py::array& population, const Arr<std::int32_t>& zone,
                             const Arr<std::int64_t>& split_cell, const Arr<std::int32_t>& split_zone,
                             const Arr<double>& split_fraction, std::int32_t n_zones,
                             const std::vector<double>& thresholds_s,
                             const std::optional<Arr<std::uint8_t>>& cell_class, std::int32_t n_stations,
                             int curve_max_minutes, const py::object& progress) {
  if (seconds.ndim() != 2) {
    throw InputError("seconds: expected a 2-D (rows, cols) array of response seconds, got shape " +
                     shape_str(seconds));
  }
  const py::ssize_t rows = seconds.shape(0), cols = seconds.shape(1);
  require_grid_shape(zone, "zones", rows, cols);
  require_grid_shape(population, "population", rows, cols);
  if (nearest) require_grid_shape(*nearest, "nearest", rows, cols);
  if (cell_class) require_grid_shape(*cell_class, "classes", rows, cols);
  const py::ssize_t n_splits = split_cell.ndim() == 1 ? split_cell.shape(0) : -1;
  require_len(split_cell, "split_cell", n_splits < 0 ? 0 : n_splits);
  require_len(split_zone, "split_zone", n_splits);
  require_len(split_fraction, "split_fraction", n_splits);
  // Population: float32 stays float32 (no 2x copy of a large grid); anything else becomes float64.
  std::optional<Arr<float>> pop32;
  std::optional<Arr<double>> pop64;
  if (population.dtype().equal(py::dtype::of<float>())) {
    pop32 = Arr<float>::ensure(population);
  } else {
    pop64 = Arr<double>::ensure(population);
  }
  if ((pop32 && !*pop32) || (pop64 && !*pop64)) throw InputError("population: expected a numeric array");

  CoverageInputs in;
  in.rows = rows;
  in.cols = cols;
  in.seconds = seconds.data();
  in.nearest = nearest ? nearest->data() : nullptr;
  in.n_stations = nearest ? n_stations : 0;
  if (pop32) in.population_f32 = (*pop32).data();
  if (pop64) in.population_f64 = (*pop64).data();
  in.cell_class = cell_class ? cell_class->data() : nullptr;
  in.zones.zone = zone.data();
  in.zones.n_zones = n_zones;
  in.zones.split_cell = split_cell.data();
  in.zones.split_zone = split_zone.data();
  in.zones.split_fraction = split_fraction.data();
  in.zones.n_splits = static_cast<std::size_t>(n_splits);
  CoverageOptions opt;
  opt.thresholds_s = thresholds_s;
  opt.curve_max_minutes = curve_max_minutes;

  CoverageResult r = run_interruptible(progress, [&](RunControl* c) { return coverage_by_zone(in, opt, c); });
  // Rows: zones 0..n_zones-1, then the region.
  const py::ssize_t nz = static_cast<py::ssize_t>(r.zones.size()) + 1;
  const py::ssize_t nc = static_cast<py::ssize_t>(thresholds_s.size());
  const py::ssize_t nm = static_cast<py::ssize_t>(curve_max_minutes) + 1;
  auto row = [&](py::ssize_t i) -> const ZoneCoverage& {
    return i < nz - 1 ? r.zones[static_cast<std::size_t>(i)] : r.region;
  };
  auto column = [&](double ZoneCoverage::*field) {
    py::array_t<double> a(nz);
    double* p = a.mutable_data();
    for (py::ssize_t i = 0; i < nz; ++i) p[i] = row(i).*field;
    return a;
  };
  auto matrix = [&](std::vector<double> ZoneCoverage::*field, py::ssize_t width) {
    py::array_t<double> a({nz, width});
    double* p = a.mutable_data();
    for (py::ssize_t i = 0; i < nz; ++i) {
      const auto& v = row(i).*field;
      std::memcpy(p + i * width, v.data(), sizeof(double) * static_cast<std::size_t>(width));
    }
    return a;
  };
  py::dict d;
  d["population"] = column(&ZoneCoverage::population);
  d["population_by_class"] = matrix(&ZoneCoverage::population_by_class, nc);
  d["covered"] = column(&ZoneCoverage::covered);
  d["covered_by_class"] = matrix(&ZoneCoverage::covered_by_class, nc);
  d["covered_share"] = column(&ZoneCoverage::covered_share);
  d["covered_share_by_class"] = matrix(&ZoneCoverage::covered_share_by_class, nc);
  d["uncovered"] = column(&ZoneCoverage::uncovered);
  d["unreachable"] = column(&ZoneCoverage::unreachable);
  d["mean_seconds"] = column(&ZoneCoverage::mean_seconds);
  d["p90_seconds"] = column(&ZoneCoverage::p90_seconds);
  d["curve"] = matrix(&ZoneCoverage::curve, nm);
  auto vec = [](const std::vector<double>& v) {
    py::array_t<double> a(static_cast<py::ssize_t>(v.size()));
    if (!v.empty()) std::memcpy(a.mutable_data(), v.data(), sizeof(double) * v.size());
    return a;
  };
  d["station_population"] = vec(r.station_population);
  d["station_covered_population"] = vec(r.station_covered_population);
  d["bin_seconds"] = r.bin_seconds;
  return d;
}

py::dict ambulance_check_py(const Arr<double>& population, const Arr<double>& vehicles, double residents_per_vehicle) {
  if (population.ndim() != 1) throw InputError("population: expected a 1-D array (one value per zone)");
  require_len(vehicles, "vehicles", population.shape(0));
  std::vector<double> p(population.data(), population.data() + population.shape(0));
  std::vector<double> v(vehicles.data(), vehicles.data() + vehicles.shape(0));
  const auto checks = ambulance_check(p, v, residents_per_vehicle);
  py::array_t<std::int64_t> needed(static_cast<py::ssize_t>(checks.size()));
  py::array_t<std::int64_t> shortfall(static_cast<py::ssize_t>(checks.size()));
  for (std::size_t i = 0; i < checks.size(); ++i) {
    needed.mutable_data()[i] = checks[i].needed;
    shortfall.mutable_data()[i] = checks[i].shortfall;
  }
  py::dict d;
  d["needed"] = needed;
  d["shortfall"] = shortfall;
  return d;
}

py::list isochrone_polygons_py(const Arr<float>& seconds, const py::handle& grid_obj,
                               const std::vector<double>& thresholds_min, bool cumulative, bool eight_connected,
                               bool simplify, const py::object& progress) {
  const GridSpec grid = grid_from_py(grid_obj);
  require_grid_shape(seconds, "seconds", static_cast<py::ssize_t>(grid.height), static_cast<py::ssize_t>(grid.width));
  IsochroneOptions o;
  o.bands = cumulative ? IsochroneBands::Cumulative : IsochroneBands::Rings;
  o.eight_connected = eight_connected;
  o.simplify = simplify;
  std::vector<IsochroneBand> bands = run_interruptible(
      progress, [&](RunControl* c) { return isochrone_polygons(seconds.data(), grid, thresholds_min, o, c); });
  py::list out;
  for (const auto& b : bands) {
    py::dict d;
    d["from_minutes"] = b.from_minutes;
    d["to_minutes"] = b.to_minutes;
    d["cells"] = b.cells;
    d["area"] = b.area;
    d["wkb"] = py::bytes(reinterpret_cast<const char*>(b.wkb.data()), b.wkb.size());
    out.append(d);
  }
  return out;
}

}  // namespace

void init_coverage(py::module_& m) {
  m.def("coverage_by_zone", &coverage_by_zone_py, py::arg("seconds"), py::arg("nearest"), py::arg("population"),
        py::arg("zone"), py::arg("split_cell"), py::arg("split_zone"), py::arg("split_fraction"), py::arg("n_zones"),
        py::arg("thresholds_s"), py::arg("cell_class") = py::none(), py::arg("n_stations") = 0,
        py::arg("curve_max_minutes") = 60, py::arg("progress") = py::none(),
        "Coverage by zone in one pass (careshed/coverage.hpp). Returns a dict of arrays with one row per zone and a "
        "last row for the region: population, population_by_class, covered, covered_by_class, covered_share, "
        "covered_share_by_class, uncovered, unreachable, mean_seconds, p90_seconds, curve (rows x minutes); "
        "station_population, station_covered_population; bin_seconds.");
  m.def("ambulance_check", &ambulance_check_py, py::arg("population"), py::arg("vehicles"),
        py::arg("residents_per_vehicle") = 30000.0,
        "Vehicles needed (ceil(population / residents_per_vehicle)) and shortfall per zone.");
  m.def("isochrone_polygons", &isochrone_polygons_py, py::arg("seconds"), py::arg("grid"), py::arg("thresholds_min"),
        py::arg("cumulative") = false, py::arg("eight_connected") = false, py::arg("simplify") = false,
        py::arg("progress") = py::none(),
        "Display polygons per time band (careshed/isochrones.hpp): list of dicts from_minutes, to_minutes, cells, "
        "area, wkb (MultiPolygon, grid CRS).");
}

}  // namespace careshed::bindings
