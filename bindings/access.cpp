// Python bindings of the accessibility area (careshed/access.hpp): the 2SFCA family on sparse cost
// tables, on supply-major reach lists, and on friction grids. Everything is validated with the GIL held,
// computed without it; result vectors are handed to numpy through a capsule (no element copies).
// The user-facing API (method names, minutes, callables, DataFrames) lives in python/careshed/access.py.
#include "careshed/access.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/raster_search.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

template <typename T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename T>
CArray<T> vec1d(const py::handle& obj, const char* name, py::ssize_t n = -1) {
  CArray<T> a = CArray<T>::ensure(obj);
  if (!a) throw InputError(std::string(name) + ": expected a 1-D numeric array");
  if (a.ndim() != 1)
    throw InputError(std::string(name) + ": expected a 1-D array, got " + std::to_string(a.ndim()) + " dimensions");
  if (n >= 0 && a.shape(0) != n)
    throw InputError(std::string(name) + ": expected " + std::to_string(n) + " values, got " +
                     std::to_string(a.shape(0)));
  return a;
}

// Integer index arrays: floats are refused (a float index is almost always a mistake).
CArray<std::int64_t> index1d(const py::handle& obj, const char* name, py::ssize_t n = -1) {
  py::array raw = py::array::ensure(obj);
  if (!raw) throw InputError(std::string(name) + ": expected a 1-D array of integer indices");
  const char kind = raw.dtype().kind();
  if (raw.size() > 0 && kind != 'i' && kind != 'u')
    throw InputError(std::string(name) + ": expected integer indices, got dtype " + std::string(py::str(raw.dtype())));
  return vec1d<std::int64_t>(raw, name, n);
}

FcaMethod parse_method(const std::string& m) {
  if (m == "two") return FcaMethod::TwoStep;
  if (m == "three") return FcaMethod::ThreeStep;
  throw InputError("method: '" + m + "' is not 'two' or 'three'");
}

// Weight spec from Python: {"kind": "binary"|"steps"|"gaussian"|"power", "upper": [...],
// "weight": [...], "size": d0, "beta": b, "min_cost": c}.
DecayWeights parse_weights(const py::dict& spec) {
  const std::string kind = spec.contains("kind") ? py::cast<std::string>(spec["kind"]) : "binary";
  if (kind == "binary") return DecayWeights::binary();
  if (kind == "steps")
    return DecayWeights::steps(py::cast<std::vector<double>>(spec["upper"]),
                               py::cast<std::vector<double>>(spec["weight"]));
  if (kind == "gaussian") return DecayWeights::gaussian(spec.contains("size") ? py::cast<double>(spec["size"]) : 0.0);
  if (kind == "power") return DecayWeights::power(py::cast<double>(spec["beta"]), py::cast<double>(spec["min_cost"]));
  throw InputError("weights: kind '" + kind + "' is not binary, steps, gaussian or power");
}

void put_report(py::dict& d, FcaResult& r, std::vector<py::ssize_t> score_shape = {}) {
  d["score"] = to_numpy(std::move(r.score), std::move(score_shape));
  d["supply_ratio"] = to_numpy(std::move(r.supply_ratio));
  d["weighted_demand"] = to_numpy(std::move(r.weighted_demand));
  d["pairs_in_catchment"] = r.pairs_in_catchment;
  d["empty_catchments"] = r.empty_catchments;
  d["zero_demand_supplies"] = r.zero_demand_supplies;
  d["supply_total"] = r.supply_total;
  d["supply_with_demand"] = r.supply_with_demand;
  d["demand_times_score"] = r.demand_times_score;
  d["conservation_relative_error"] = r.conservation_relative_error;
  d["mean_score"] = r.mean_score;
  d["normalized"] = r.normalized;
}

FcaOptions make_options(const std::string& method, double max_cost, const py::dict& weights, bool normalize) {
  FcaOptions o;
  o.method = parse_method(method);
  o.max_cost = max_cost;
  o.weights = parse_weights(weights);
  o.normalize = normalize;
  return o;
}

py::dict py_fca(const py::handle& demand, const py::handle& supply, const py::handle& origin, const py::handle& dest,
                const py::handle& cost, const std::string& method, double max_cost, const py::dict& weights,
                const py::object& pair_weights, bool normalize, const py::object& progress) {
  auto P = vec1d<double>(demand, "demand");
  auto S = vec1d<double>(supply, "supply");
  auto o = index1d(origin, "origin");
  auto d = index1d(dest, "dest", o.shape(0));
  auto c = vec1d<double>(cost, "cost", o.shape(0));
  CArray<double> pw;
  FcaOptions opt = make_options(method, max_cost, weights, normalize);
  if (!pair_weights.is_none()) {
    pw = vec1d<double>(pair_weights, "weights (evaluated per pair)", o.shape(0));
    opt.pair_weights = pw.data();
  }
  FcaResult r = run_interruptible(progress, [&](RunControl* ctl) {
    return fca(P.data(), P.shape(0), S.data(), S.shape(0), o.data(), d.data(), c.data(), o.shape(0), opt, ctl);
  });
  py::dict out;
  put_report(out, r);
  return out;
}

py::dict py_fca_reach(const py::handle& demand, const py::handle& supply, const py::handle& first,
                      const py::handle& demand_index, const py::handle& cost, const std::string& method,
                      double max_cost, const py::dict& weights, const py::object& pair_weights, bool normalize,
                      const py::object& progress) {
  auto P = vec1d<double>(demand, "demand");
  auto S = vec1d<double>(supply, "supply");
  auto f = index1d(first, "first", S.shape(0) + 1);
  const py::ssize_t n_pairs = f.at(S.shape(0));
  auto di = vec1d<std::uint32_t>(demand_index, "demand_index", n_pairs);
  auto c = vec1d<float>(cost, "cost", n_pairs);
  CArray<double> pw;
  FcaOptions opt = make_options(method, max_cost, weights, normalize);
  if (!pair_weights.is_none()) {
    pw = vec1d<double>(pair_weights, "weights (evaluated per pair)", n_pairs);
    opt.pair_weights = pw.data();
  }
  FcaResult r = run_interruptible(progress, [&](RunControl* ctl) {
    return fca_reach(P.data(), P.shape(0), S.data(), S.shape(0), f.data(), di.data(), c.data(), opt, ctl);
  });
  py::dict out;
  put_report(out, r);
  return out;
}

// The friction grid (float32 kept as is; anything else as float64) and its keep-alive arrays.
struct GridArgs {
  py::array friction;
  CArray<double> row_dx;
  FrictionGrid grid;
  CArray<std::int64_t> rc;
  CArray<double> offsets;
  const double* offsets_ptr = nullptr;  // null when no offsets were given (an empty array_t is not "none")
};

GridArgs grid_args(const py::handle& friction, double dx_m, double dy_m, const py::object& row_dx_m,
                   const py::handle& facilities_rc, const py::object& offsets_s) {
  GridArgs a;
  py::array raw = py::array::ensure(friction);
  if (!raw || raw.ndim() != 2) throw InputError("friction: expected a 2-D (rows, cols) array of seconds per metre");
  if (raw.dtype().is(py::dtype::of<float>())) {
    a.friction = CArray<float>::ensure(raw);
    a.grid.friction_f32 = static_cast<const float*>(a.friction.data());
  } else {
    a.friction = CArray<double>::ensure(raw);
    a.grid.friction_f64 = static_cast<const double*>(a.friction.data());
  }
  a.grid.rows = raw.shape(0);
  a.grid.cols = raw.shape(1);
  a.grid.dx_m = dx_m;
  a.grid.dy_m = dy_m;
  if (!row_dx_m.is_none()) {
    a.row_dx = vec1d<double>(row_dx_m, "row_dx_m", a.grid.rows);
    a.grid.row_dx_m = a.row_dx.data();
  }
  py::array rraw = py::array::ensure(facilities_rc);
  if (!rraw || rraw.ndim() != 2 || rraw.shape(1) != 2)
    throw InputError("facilities_rc: expected an (n, 2) integer array of (row, col) cells");
  if (rraw.size() > 0 && rraw.dtype().kind() != 'i' && rraw.dtype().kind() != 'u')
    throw InputError("facilities_rc: expected integer (row, col) cells, got dtype " +
                     std::string(py::str(rraw.dtype())));
  a.rc = CArray<std::int64_t>::ensure(rraw);
  if (!offsets_s.is_none()) {
    a.offsets = vec1d<double>(offsets_s, "offsets_s", a.rc.shape(0));
    a.offsets_ptr = a.offsets.data();
  }
  return a;
}

py::dict grid_fca_dict(GridFcaResult& r, const GridFcaInput& in);

py::dict py_grid_fca(const py::handle& friction, double dx_m, double dy_m, const py::object& row_dx_m,
                     const py::handle& population, const py::handle& facilities_rc, const py::handle& supply,
                     double max_seconds, const std::string& method, const py::dict& weights, int neighbours,
                     const py::object& offsets_s, const py::object& zones, int n_zones, bool normalize,
                     const py::object& progress) {
  GridArgs a = grid_args(friction, dx_m, dy_m, row_dx_m, facilities_rc, offsets_s);
  auto pop = CArray<double>::ensure(population);
  if (!pop || pop.ndim() != 2 || pop.shape(0) != a.grid.rows || pop.shape(1) != a.grid.cols)
    throw InputError("population: expected a 2-D array with the friction grid's shape (" + std::to_string(a.grid.rows) +
                     ", " + std::to_string(a.grid.cols) + ")");
  const py::ssize_t n_fac = a.rc.shape(0);
  auto S = vec1d<double>(supply, "supply", n_fac);
  CArray<std::int32_t> z;
  GridFcaInput in;
  in.grid = a.grid;
  in.population = pop.data();
  in.facilities_rc = a.rc.data();
  in.n_facilities = static_cast<std::size_t>(n_fac);
  in.supply = S.data();
  in.neighbours = neighbours;
  in.facility_offsets_s = a.offsets_ptr;
  if (!zones.is_none()) {
    z = CArray<std::int32_t>::ensure(zones);
    if (!z || z.ndim() != 2 || z.shape(0) != a.grid.rows || z.shape(1) != a.grid.cols)
      throw InputError(
          "zones: expected an int32 (rows, cols) zone index grid (-1 = none) with the friction grid's shape");
    in.zones = z.data();
    in.n_zones = n_zones;
  }
  FcaOptions opt = make_options(method, max_seconds, weights, normalize);
  GridFcaResult r = run_interruptible(progress, [&](RunControl* c) { return grid_fca(in, opt, c); });
  return grid_fca_dict(r, in);
}

// grid_fca on reach lists made elsewhere (careshed.tiled.access: the same lists, searched tile by tile).
py::dict py_grid_fca_on_reach(const py::handle& population, const py::handle& supply, const py::handle& first,
                              const py::handle& cells, const py::handle& seconds, double max_seconds,
                              const std::string& method, const py::dict& weights, bool normalize,
                              const py::object& progress) {
  auto pop = CArray<double>::ensure(population);
  if (!pop || pop.ndim() != 2) throw InputError("population: expected a 2-D (rows, cols) array of residents per cell");
  auto S = vec1d<double>(supply, "supply");
  auto f = index1d(first, "first", S.shape(0) + 1);
  if (f.at(0) != 0) throw InputError("first[0] must be 0 (the reach lists' offsets)");
  const py::ssize_t n_pairs = f.at(S.shape(0));
  auto cl = vec1d<std::uint32_t>(cells, "cells", n_pairs);
  auto sec = vec1d<float>(seconds, "seconds", n_pairs);
  GridFcaInput in;
  in.grid.rows = pop.shape(0);
  in.grid.cols = pop.shape(1);
  in.population = pop.data();
  in.n_facilities = static_cast<std::size_t>(S.shape(0));
  in.supply = S.data();
  FcaOptions opt = make_options(method, max_seconds, weights, normalize);
  GridFcaResult r = run_interruptible(progress, [&](RunControl* c) {
    return grid_fca_on_reach(in, f.data(), cl.data(), sec.data(), opt, c);
  });
  return grid_fca_dict(r, in);
}

py::dict grid_fca_dict(GridFcaResult& r, const GridFcaInput& in) {
  py::dict out;
  put_report(out, r.fca, {static_cast<py::ssize_t>(in.grid.rows), static_cast<py::ssize_t>(in.grid.cols)});
  out["pairs"] = r.pairs;
  out["reach_bytes"] = r.reach_bytes;
  out["search_seconds"] = r.search_seconds;
  out["model_seconds"] = r.model_seconds;
  if (in.zones) {
    out["zone_score"] = to_numpy(std::move(r.zone_score));
    out["zone_population"] = to_numpy(std::move(r.zone_population));
    out["zone_population_no_access"] = to_numpy(std::move(r.zone_population_no_access));
  }
  return out;
}

py::tuple py_reach_lists(const py::handle& friction, double dx_m, double dy_m, const py::object& row_dx_m,
                         const py::handle& facilities_rc, double max_seconds, int neighbours,
                         const py::object& offsets_s, const py::object& progress) {
  GridArgs a = grid_args(friction, dx_m, dy_m, row_dx_m, facilities_rc, offsets_s);
  RasterSearchOptions so;
  so.neighbours = neighbours;
  so.max_seconds = max_seconds;
  so.source_offsets_s = a.offsets_ptr;
  ReachLists r = run_interruptible(progress, [&](RunControl* c) {
    return raster_reach_lists(a.grid, a.rc.data(), static_cast<std::size_t>(a.rc.shape(0)), so, nullptr, c);
  });
  return py::make_tuple(to_numpy(std::move(r.offsets)), to_numpy(std::move(r.cells)),
                        to_numpy(std::move(r.seconds)));
}

}  // namespace

void init_access(py::module_& m) {
  m.def("fca", &py_fca, py::arg("demand"), py::arg("supply"), py::arg("origin"), py::arg("dest"), py::arg("cost"),
        py::arg("method"), py::arg("max_cost"), py::arg("weights"), py::arg("pair_weights") = py::none(),
        py::arg("normalize") = false, py::arg("progress") = py::none(),
        "Floating catchment model on a sparse (origin=demand, dest=supply, cost) table; returns a dict "
        "(score, supply_ratio, weighted_demand, conservation report). Use careshed.fca / careshed.accessibility.");
  m.def("fca_reach", &py_fca_reach, py::arg("demand"), py::arg("supply"), py::arg("first"), py::arg("demand_index"),
        py::arg("cost"), py::arg("method"), py::arg("max_cost"), py::arg("weights"),
        py::arg("pair_weights") = py::none(), py::arg("normalize") = false, py::arg("progress") = py::none(),
        "Floating catchment model on supply-major lists (first[n_supply+1], demand_index uint32, cost float32).");
  m.def(
      "grid_fca", &py_grid_fca, py::arg("friction"), py::arg("dx_m"), py::arg("dy_m"), py::arg("row_dx_m"),
      py::arg("population"), py::arg("facilities_rc"), py::arg("supply"), py::arg("max_seconds"), py::arg("method"),
      py::arg("weights"), py::arg("neighbours") = 8, py::arg("offsets_s") = py::none(), py::arg("zones") = py::none(),
      py::arg("n_zones") = 0, py::arg("normalize") = false, py::arg("progress") = py::none(),
      "Floating catchment model on a friction grid (bounded per-facility searches). Use careshed.grid_accessibility.");
  m.def("grid_fca_on_reach", &py_grid_fca_on_reach, py::arg("population"), py::arg("supply"), py::arg("first"),
        py::arg("cells"), py::arg("seconds"), py::arg("max_seconds"), py::arg("method"), py::arg("weights"),
        py::arg("normalize") = false, py::arg("progress") = py::none(),
        "grid_fca on reach lists made elsewhere (those of access_reach_lists, e.g. searched tile by tile): the same "
        "dict as grid_fca.");
  m.def("access_reach_lists", &py_reach_lists, py::arg("friction"), py::arg("dx_m"), py::arg("dy_m"),
        py::arg("row_dx_m"), py::arg("facilities_rc"), py::arg("max_seconds"), py::arg("neighbours") = 8,
        py::arg("offsets_s") = py::none(), py::arg("progress") = py::none(),
        "Per-facility bounded searches on a friction grid: (first int64[n+1], cells uint32, seconds float32).");
}

}  // namespace careshed::bindings
