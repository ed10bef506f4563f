// Bindings of careshed/zonal.hpp, population.hpp and urban_rural.hpp (issue 4 contract, H6 part).
// Python wrappers with the user-facing API live in python/careshed/zonal.py.
//
// Zone rasters travel as plain arrays: zone int32 (H, W) (-1 none, -2 split), split_cell int64 (n,),
// split_zone int32 (n,), split_fraction float64 (n,). Grids as a careshed.Grid (attributes width, height,
// transform, crs), a dict with those keys, or a (width, height, transform, crs_wkt) tuple.
// Every function checks shapes and dtypes with the GIL held, then computes without it.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/population.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/urban_rural.hpp"
#include "careshed/zonal.hpp"
#include "grid_py.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

template <class T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

/// Checked views of the zone-raster arrays.
struct ZoneArrays {
  CArray<std::int32_t> zone;
  CArray<std::int64_t> split_cell;
  CArray<std::int32_t> split_zone;
  CArray<double> split_fraction;
  std::int32_t n_zones;
  std::int64_t rows, cols;
};

ZoneArrays zone_arrays(const py::object& zone, const py::object& split_cell, const py::object& split_zone,
                       const py::object& split_fraction, std::int64_t n_zones) {
  ZoneArrays a{CArray<std::int32_t>::ensure(zone), CArray<std::int64_t>::ensure(split_cell),
               CArray<std::int32_t>::ensure(split_zone), CArray<double>::ensure(split_fraction), 0, 0, 0};
  if (!a.zone || !a.split_cell || !a.split_zone || !a.split_fraction) {
    throw InputError("zones: zone / split arrays must be numeric arrays");
  }
  if (a.zone.ndim() != 2) throw InputError("zones: 'zone' must be a 2-D (rows, cols) array");
  if (a.split_cell.ndim() != 1 || a.split_zone.ndim() != 1 || a.split_fraction.ndim() != 1 ||
      a.split_cell.shape(0) != a.split_zone.shape(0) || a.split_cell.shape(0) != a.split_fraction.shape(0)) {
    throw InputError("zones: split_cell, split_zone and split_fraction must be 1-D arrays of the same length");
  }
  if (n_zones < 0 || n_zones > INT32_MAX) throw InputError("zones: n_zones must be in 0..2^31-1");
  a.n_zones = static_cast<std::int32_t>(n_zones);
  a.rows = a.zone.shape(0);
  a.cols = a.zone.shape(1);
  return a;
}

ZoneRaster to_zone_raster(const ZoneArrays& a, ZoneRaster::Rule rule) {
  ZoneRaster z;
  z.rows = a.rows;
  z.cols = a.cols;
  z.n_zones = a.n_zones;
  z.rule = rule;
  z.zone.assign(a.zone.data(), a.zone.data() + a.zone.size());
  const auto n = static_cast<std::size_t>(a.split_cell.shape(0));
  z.splits.resize(n);
  for (std::size_t i = 0; i < n; ++i) z.splits[i] = {a.split_cell.data()[i], a.split_zone.data()[i], a.split_fraction.data()[i]};
  std::stable_sort(z.splits.begin(), z.splits.end(), [](const ZoneRaster::Split& x, const ZoneRaster::Split& y) {
    return x.cell != y.cell ? x.cell < y.cell : x.zone < y.zone;
  });
  return z;
}

py::dict rasterize_zones_py(const py::object& zone_wkb, const py::object& grid_obj, const std::string& rule_name,
                            const py::object& progress) {
  std::vector<Wkb> wkb = wkb_list(zone_wkb, "zone_wkb");
  GridSpec grid = grid_from_py(grid_obj);
  ZoneRaster::Rule rule = zone_rule_from_string(rule_name);
  ZoneRaster zr = run_interruptible(progress, [&](RunControl* c) { return rasterize_zones(wkb, grid, rule, c); });
  const std::size_t n = zr.splits.size();
  std::vector<std::int64_t> cell(n);
  std::vector<std::int32_t> zone(n);
  std::vector<double> frac(n);
  for (std::size_t i = 0; i < n; ++i) {
    cell[i] = zr.splits[i].cell;
    zone[i] = zr.splits[i].zone;
    frac[i] = zr.splits[i].fraction;
  }
  py::dict d;
  d["zone"] = to_numpy(std::move(zr.zone), {static_cast<py::ssize_t>(zr.rows), static_cast<py::ssize_t>(zr.cols)});
  d["split_cell"] = to_numpy(std::move(cell));
  d["split_zone"] = to_numpy(std::move(zone));
  d["split_fraction"] = to_numpy(std::move(frac));
  d["n_zones"] = zr.n_zones;
  d["rule"] = zone_rule_name(rule);
  return d;
}

py::array_t<double> zonal_sum_py(const py::array& values, const py::object& zone, const py::object& split_cell,
                                 const py::object& split_zone, const py::object& split_fraction, std::int64_t n_zones) {
  ZoneArrays a = zone_arrays(zone, split_cell, split_zone, split_fraction, n_zones);
  const bool is_float32 = values.dtype().is(py::dtype::of<float>());
  py::array v = is_float32 ? py::array(CArray<float>::ensure(values)) : py::array(CArray<double>::ensure(values));
  if (!v) throw InputError("zonal_sum: values must be a numeric array");
  if (v.size() != a.zone.size() || (v.ndim() == 2 && (v.shape(0) != a.rows || v.shape(1) != a.cols))) {
    throw InputError("zonal_sum: values have shape " + std::string(py::str(py::tuple(py::cast(std::vector<py::ssize_t>(
                                                                      v.shape(), v.shape() + v.ndim()))))) +
                     " but the zones cover (" + std::to_string(a.rows) + ", " + std::to_string(a.cols) + ") cells");
  }
  std::vector<double> sums;
  {
    py::gil_scoped_release release;
    const auto n_splits = static_cast<std::int64_t>(a.split_cell.shape(0));
    if (is_float32) {
      sums = zonal_sum(static_cast<const float*>(v.data()), a.rows * a.cols, a.zone.data(), a.split_cell.data(),
                       a.split_zone.data(), a.split_fraction.data(), n_splits, a.n_zones);
    } else {
      sums = zonal_sum(static_cast<const double*>(v.data()), a.rows * a.cols, a.zone.data(), a.split_cell.data(),
                       a.split_zone.data(), a.split_fraction.data(), n_splits, a.n_zones);
    }
  }
  return to_numpy(std::move(sums));
}

std::string path_str(const py::handle& p) {
  if (py::isinstance<py::str>(p)) return p.cast<std::string>();
  return py::module_::import("os").attr("fspath")(p).cast<std::string>();
}

py::tuple population_from_raster_py(const py::object& path_obj, const py::object& grid_obj, int band) {
  const std::string path = path_str(path_obj);
  GridSpec grid = grid_from_py(grid_obj);
  if (grid.width <= 0 || grid.height <= 0) throw InputError("population_from_raster: the grid is empty");
  py::array_t<double> out(std::vector<py::ssize_t>{static_cast<py::ssize_t>(grid.height), static_cast<py::ssize_t>(grid.width)});
  ReadReport r;
  double* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    check_population_raster(path, band, &grid);
    r = read_raster_into(path, grid, Resampling::Sum, band, dst);
  }
  return py::make_tuple(out, read_report_to_py(r));
}

py::dict spread_py(const py::object& zone, const py::object& split_cell, const py::object& split_zone,
                   const py::object& split_fraction, std::int64_t n_zones, const std::string& rule_name,
                   const CArray<double>& totals, const py::object& weights, const py::object& cell_class,
                   const std::vector<std::int32_t>& class_codes, const py::object& class_shares, int max_iterations) {
  ZoneArrays a = zone_arrays(zone, split_cell, split_zone, split_fraction, n_zones);
  if (totals.ndim() != 1 || totals.shape(0) != a.n_zones) {
    throw InputError("totals: expected " + std::to_string(a.n_zones) + " zone totals (one per zone)");
  }
  SpreadOptions opt;
  opt.max_iterations = max_iterations;
  CArray<double> w;
  if (!weights.is_none()) {
    w = CArray<double>::ensure(weights);
    if (!w || w.ndim() != 2 || w.shape(0) != a.rows || w.shape(1) != a.cols) {
      throw InputError("weights: expected a float array of shape (" + std::to_string(a.rows) + ", " +
                       std::to_string(a.cols) + ") (the grid)");
    }
    opt.weights = w.data();
  }
  CArray<std::int32_t> cls;
  if (!cell_class.is_none()) {
    cls = CArray<std::int32_t>::ensure(cell_class);
    if (!cls || cls.ndim() != 2 || cls.shape(0) != a.rows || cls.shape(1) != a.cols) {
      throw InputError("class_grid: expected an integer array of shape (" + std::to_string(a.rows) + ", " +
                       std::to_string(a.cols) + ") (the grid)");
    }
    opt.cell_class = cls.data();
    opt.class_codes = class_codes;
    CArray<double> sh = CArray<double>::ensure(class_shares);
    if (!sh || sh.ndim() != 2 || sh.shape(0) != a.n_zones || sh.shape(1) != static_cast<py::ssize_t>(class_codes.size())) {
      throw InputError("class_shares: expected an array of shape (n_zones, n_classes) = (" + std::to_string(a.n_zones) +
                       ", " + std::to_string(class_codes.size()) + ")");
    }
    opt.class_shares.assign(sh.data(), sh.data() + sh.size());
  }
  ZoneRaster zr = to_zone_raster(a, zone_rule_from_string(rule_name));
  std::vector<double> t(totals.data(), totals.data() + totals.size());
  SpreadResult res;
  {
    py::gil_scoped_release release;
    res = spread_zone_totals(zr, t, opt);
  }
  py::dict d;
  d["people"] = to_numpy(std::move(res.people), {static_cast<py::ssize_t>(a.rows), static_cast<py::ssize_t>(a.cols)});
  d["notes"] = res.notes;
  d["max_relative_residual"] = res.max_relative_residual;
  d["iterations"] = res.iterations;
  return d;
}

std::vector<py::ssize_t> shape_of(const py::array& a) { return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim()); }

py::array_t<std::uint8_t> classes_from_codes_py(const CArray<double>& values, const std::vector<double>& codes,
                                                const std::vector<int>& classes, int unlisted) {
  std::vector<std::uint8_t> cl;
  for (int c : classes) {
    if (c < 0 || c > 255) throw InputError("classes: class indices must be 0..254 (255 = no class)");
    cl.push_back(static_cast<std::uint8_t>(c));
  }
  if (unlisted < 0 || unlisted > 255) throw InputError("unlisted: must be 0..255");
  std::vector<std::uint8_t> out;
  {
    py::gil_scoped_release release;
    out = classes_from_codes(values.data(), values.size(), codes, cl, static_cast<std::uint8_t>(unlisted));
  }
  return to_numpy(std::move(out), shape_of(values));
}

py::array_t<std::uint8_t> classes_from_breaks_py(const CArray<double>& values, const std::vector<double>& breaks) {
  std::vector<std::uint8_t> out;
  {
    py::gil_scoped_release release;
    out = classes_from_breaks(values.data(), values.size(), breaks);
  }
  return to_numpy(std::move(out), shape_of(values));
}

py::tuple density_classes_py(const CArray<double>& people, const py::object& grid_obj,
                             const std::vector<std::tuple<double, double, int>>& rules) {
  GridSpec grid = grid_from_py(grid_obj);
  if (people.ndim() != 2 || people.shape(0) != grid.height || people.shape(1) != grid.width) {
    throw InputError("population: expected an array of shape (" + std::to_string(grid.height) + ", " +
                     std::to_string(grid.width) + ") (the grid)");
  }
  std::vector<DensityRule> rs;
  for (const auto& [d, p, c] : rules) rs.push_back(DensityRule{d, p, c});
  std::vector<std::uint8_t> out;
  std::vector<std::int64_t> clusters;
  {
    py::gil_scoped_release release;
    out = density_classes(people.data(), grid, rs, &clusters);
  }
  return py::make_tuple(to_numpy(std::move(out), shape_of(people)), clusters);
}

py::array_t<std::uint8_t> classes_from_zones_py(const py::object& zone, const py::object& split_cell,
                                                const py::object& split_zone, const py::object& split_fraction,
                                                std::int64_t n_zones, const std::vector<int>& zone_class) {
  ZoneArrays a = zone_arrays(zone, split_cell, split_zone, split_fraction, n_zones);
  std::vector<std::uint8_t> zc;
  for (int c : zone_class) {
    if (c < 0 || c > 255) throw InputError("zone classes must be 0..254 (255 = no class)");
    zc.push_back(static_cast<std::uint8_t>(c));
  }
  ZoneRaster zr = to_zone_raster(a, ZoneRaster::Rule::AreaFraction);
  std::vector<std::uint8_t> out;
  {
    py::gil_scoped_release release;
    out = classes_from_zones(zr, zc);
  }
  return to_numpy(std::move(out), {static_cast<py::ssize_t>(a.rows), static_cast<py::ssize_t>(a.cols)});
}

}  // namespace

void init_zonal(py::module_& m) {
  m.def("rasterize_zones", &rasterize_zones_py, py::arg("zone_wkb"), py::arg("grid"), py::arg("rule") = "centre",
        py::arg("progress") = py::none(),
        "Zones (WKB polygons in the grid's CRS) onto a grid. Returns {'zone': int32 (H, W) (-1 none, -2 split), "
        "'split_cell': int64, 'split_zone': int32, 'split_fraction': float64, 'n_zones', 'rule'}.");
  m.def("zonal_sum", &zonal_sum_py, py::arg("values"), py::arg("zone"), py::arg("split_cell"), py::arg("split_zone"),
        py::arg("split_fraction"), py::arg("n_zones"),
        "Per-zone sums of values (H, W) float32/float64 (NaN skipped), weights 1 or the split fractions.");
  m.def("population_from_raster", &population_from_raster_py, py::arg("path"), py::arg("grid"), py::arg("band") = 1,
        "Population raster onto grid, totals preserved; negative values refused. Returns (array, report).");
  m.def("check_population_raster",
        [](const py::object& path, int band) {
          const std::string p = path_str(path);
          py::gil_scoped_release release;
          check_population_raster(p, band);
        },
        py::arg("path"), py::arg("band") = 1, "Raises InputError at the first negative valid pixel.");
  m.def("spread_zone_totals", &spread_py, py::arg("zone"), py::arg("split_cell"), py::arg("split_zone"),
        py::arg("split_fraction"), py::arg("n_zones"), py::arg("rule"), py::arg("totals"), py::arg("weights") = py::none(),
        py::arg("class_grid") = py::none(), py::arg("class_codes") = std::vector<std::int32_t>{},
        py::arg("class_shares") = py::none(), py::arg("max_iterations") = 200,
        "Spread zone totals over cells (uniform / weights / class shares), reconciled to the totals.");
  m.def("classes_from_codes", &classes_from_codes_py, py::arg("values"), py::arg("codes"), py::arg("classes"),
        py::arg("unlisted") = 255);
  m.def("classes_from_breaks", &classes_from_breaks_py, py::arg("values"), py::arg("breaks"));
  m.def("density_classes", &density_classes_py, py::arg("population"), py::arg("grid"), py::arg("rules"),
        "rules: [(min_density_per_km2, min_cluster_people, connectivity)], class = 1 + highest rule met, 0 none, "
        "255 NaN. Returns (uint8 classes, clusters per rule).");
  m.def("classes_from_zones", &classes_from_zones_py, py::arg("zone"), py::arg("split_cell"), py::arg("split_zone"),
        py::arg("split_fraction"), py::arg("n_zones"), py::arg("zone_class"));
}

}  // namespace careshed::bindings
