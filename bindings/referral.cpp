// Bindings of careshed/referral.hpp: facility levels and referral on a friction grid or a road graph. Thin and
// checked: arrays are checked with the GIL held, the run goes through run_interruptible (GIL released, Ctrl-C
// and progress), outputs are numpy arrays allocated first (the per-level fields) or the core's vectors handed
// over by capsule (the per-facility results). The user-facing functions are in
// python/careshed/arrays/referral.py.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/referral.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "memory_py.hpp"
#include "raster_search_py.hpp"
#include "road_graph_py.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {

namespace {

template <typename T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

template <typename T>
CArray<T> vector_arg(const py::handle& obj, const char* name, py::ssize_t n) {
  auto a = CArray<T>::ensure(obj);
  if (!a || a.ndim() != 1 || a.shape(0) != n)
    throw InputError(std::string(name) + " must be a 1-D array with one value per facility/edge (" + std::to_string(n) +
                     ")");
  return a;
}

// levels (+ optional assignments) as a FacilityLevels over arrays the caller keeps alive.
struct LevelArgs {
  CArray<std::int32_t> level, assigned;
  FacilityLevels view;
};

LevelArgs level_args(const py::handle& levels, int n_levels, const py::object& assigned, py::ssize_t n) {
  LevelArgs a;
  a.level = vector_arg<std::int32_t>(levels, "levels", n);
  a.view.level = a.level.data();
  a.view.n_levels = n_levels;
  if (!assigned.is_none()) {
    a.assigned = vector_arg<std::int32_t>(assigned, "assigned", n);
    a.view.assigned = a.assigned.data();
  }
  return a;
}

py::dict referrals_dict(Referrals&& r, bool keep_routes) {
  py::dict d;
  d["target"] = to_numpy(std::move(r.target));
  d["seconds"] = to_numpy(std::move(r.seconds));
  d["metres"] = to_numpy(std::move(r.metres));
  d["assigned"] = to_numpy(std::move(r.assigned));
  if (keep_routes) {
    d["route_first"] = to_numpy(std::move(r.route_first));
    d["route_items"] = to_numpy(std::move(r.route_items));
  }
  return d;
}

// The per-level fields (allocated first) and the per-facility dict of a graph referral run by `run`.
template <typename Run>
py::tuple graph_referral_arrays(std::int64_t n_nodes, int n_levels, double max_seconds, bool keep_routes,
                                const py::object& progress, Run run) {
  ReferralOptions o;
  o.max_seconds = max_seconds;
  o.keep_routes = keep_routes;
  py::array_t<double> secs({static_cast<py::ssize_t>(n_levels), static_cast<py::ssize_t>(n_nodes)});
  py::array_t<std::int32_t> nearest({static_cast<py::ssize_t>(n_levels), static_cast<py::ssize_t>(n_nodes)});
  double* so = secs.mutable_data();
  std::int32_t* no = nearest.mutable_data();
  Referrals r = run_interruptible(progress, [&](RunControl* c) { return run(o, so, no, c); });
  return py::make_tuple(secs, nearest, referrals_dict(std::move(r), keep_routes));
}

}  // namespace

void init_referral(py::module_& m) {
  m.def(
      "_referral_grid",
      [](const py::array& friction, const py::array& facilities, const py::handle& levels, int n_levels,
         const py::object& assigned, double dx, double dy, const py::object& row_dx, int neighbours,
         double max_seconds, bool keep_routes, int threads, const py::object& progress,
         std::uint64_t max_memory_bytes) {
        check_progress_arg(progress);
        const FrictionGrid g = friction_grid_of(friction, dx, dy, row_dx);
        std::size_t n = 0;
        const std::int64_t* rc = cell_sources_of(facilities, &n);
        LevelArgs la = level_args(levels, n_levels, assigned, static_cast<py::ssize_t>(n));
        if (n_levels < 1) throw InputError("n_levels must be at least 1");
        ReferralOptions o;
        o.max_seconds = max_seconds;
        o.neighbours = neighbours;
        o.threads = threads;
        o.keep_routes = keep_routes;
        // Memory: one label per level per cell (+ one scratch field for assigned targets) and a search's
        // queues: the k-nearest search's model with k = the fields held at once.
        MemoryRequest req;
        req.analysis = MemoryAnalysis::k_nearest;
        req.rows = g.rows;
        req.cols = g.cols;
        req.facilities = static_cast<std::int64_t>(n);
        req.max_seconds = max_seconds;
        req.k = std::min(64, n_levels + (assigned.is_none() ? 0 : 1));
        refuse_if_too_big(req, max_memory_bytes,
                          "referral on " + std::to_string(g.rows) + " x " + std::to_string(g.cols) + " cells, " +
                              std::to_string(n_levels) + " levels");
        py::array_t<std::int32_t> buf = cell_label_buffer({static_cast<py::ssize_t>(n_levels),
                                                           static_cast<py::ssize_t>(g.rows),
                                                           static_cast<py::ssize_t>(g.cols), py::ssize_t{2}});
        auto* out = reinterpret_cast<CellLabel*>(buf.mutable_data());
        Referrals r = run_interruptible(
            progress, [&](RunControl* c) { return referral_on_grid(g, rc, n, la.view, o, out, c); });
        return py::make_tuple(buf, referrals_dict(std::move(r), keep_routes));
      },
      py::arg("friction"), py::arg("facilities"), py::arg("levels"), py::arg("n_levels"), py::arg("assigned"),
      py::arg("dx"), py::arg("dy"), py::arg("row_dx"), py::arg("neighbours") = 8,
      py::arg("max_seconds") = std::numeric_limits<double>::infinity(), py::arg("keep_routes") = false,
      py::arg("threads") = 0, py::arg("progress") = py::none(), py::arg("max_memory_bytes") = 0,
      "Referral on a friction grid: ((n_levels, rows, cols, 2) int32 label buffer, {target, seconds, metres,\n"
      "assigned[, route_first, route_items]}). Use careshed.arrays.referral.referral_grid.");

  m.def(
      "_referral_graph",
      [](std::int64_t n_nodes, const py::handle& tails, const py::handle& heads, const py::handle& seconds,
         const py::handle& length_m, const py::handle& facility_nodes, const py::handle& levels, int n_levels,
         const py::object& assigned, double max_seconds, bool keep_routes, const py::object& progress) {
        check_progress_arg(progress);
        auto t = CArray<std::int64_t>::ensure(tails);
        if (!t || t.ndim() != 1) throw InputError("tails must be a 1-D array of node ids");
        const py::ssize_t ne = t.shape(0);
        auto h = vector_arg<std::int64_t>(heads, "heads", ne);
        auto s = vector_arg<double>(seconds, "seconds", ne);
        auto len = vector_arg<double>(length_m, "length_m", ne);
        auto fn = CArray<std::int64_t>::ensure(facility_nodes);
        if (!fn || fn.ndim() != 1) throw InputError("facility_nodes must be a 1-D array of node ids");
        LevelArgs la = level_args(levels, n_levels, assigned, fn.shape(0));
        if (n_levels < 1) throw InputError("n_levels must be at least 1");
        if (n_nodes < 0) throw InputError("n_nodes must be >= 0");
        return graph_referral_arrays(n_nodes, n_levels, max_seconds, keep_routes, progress,
                                     [&](const ReferralOptions& o, double* so, std::int32_t* no, RunControl* c) {
                                       return referral_on_graph(n_nodes, t.data(), h.data(), s.data(), len.data(),
                                                                static_cast<std::size_t>(ne), fn.data(),
                                                                static_cast<std::size_t>(fn.shape(0)), la.view, o, so,
                                                                no, c);
                                     });
      },
      py::arg("n_nodes"), py::arg("tails"), py::arg("heads"), py::arg("seconds"), py::arg("length_m"),
      py::arg("facility_nodes"), py::arg("levels"), py::arg("n_levels"), py::arg("assigned"),
      py::arg("max_seconds") = std::numeric_limits<double>::infinity(), py::arg("keep_routes") = false,
      py::arg("progress") = py::none(),
      "Referral on a directed graph (times TO the facilities): ((n_levels, n_nodes) seconds, (n_levels, n_nodes)\n"
      "nearest, {target, seconds, metres, assigned[, route_first, route_items]}). Use\n"
      "careshed.arrays.referral.referral_graph.");

  m.def(
      "_referral_road_graph",
      [](PyRoadGraph& pg, const py::handle& facility_nodes, const py::handle& levels, int n_levels,
         const py::object& assigned, double max_seconds, bool keep_routes, const py::object& progress) {
        check_progress_arg(progress);
        auto fn = CArray<std::int64_t>::ensure(facility_nodes);
        if (!fn || fn.ndim() != 1) throw InputError("facility_nodes must be a 1-D array of node ids");
        LevelArgs la = level_args(levels, n_levels, assigned, fn.shape(0));
        if (n_levels < 1) throw InputError("n_levels must be at least 1");
        const RoadGraph& g = pg.graph();
        return graph_referral_arrays(g.n_nodes(), n_levels, max_seconds, keep_routes, progress,
                                     [&](const ReferralOptions& o, double* so, std::int32_t* no, RunControl* c) {
                                       return referral_on_road_graph(g, fn.data(), static_cast<std::size_t>(fn.shape(0)),
                                                                     la.view, o, so, no, c);
                                     });
      },
      py::arg("graph"), py::arg("facility_nodes"), py::arg("levels"), py::arg("n_levels"), py::arg("assigned"),
      py::arg("max_seconds") = std::numeric_limits<double>::infinity(), py::arg("keep_routes") = false,
      py::arg("progress") = py::none(),
      "Referral on a careshed._core.RoadGraph honouring its turn restrictions; outputs as _referral_graph.\n"
      "Use careshed.arrays.referral.referral_road_graph.");
}

}  // namespace careshed::bindings
