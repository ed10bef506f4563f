// Python bindings of the network area: speed profiles, graph search, road graphs, snapping and the
// straight-line fallback. Numpy arrays come in without copies when their dtype already matches
// (int32 or int64 ids, float64 seconds); everything is validated with the GIL held, computed without it,
// and results are numpy arrays allocated first and filled in place (or C++ buffers handed over with a
// capsule), never copied element by element.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/grid.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/snap.hpp"
#include "careshed/speed_profile.hpp"
#include "careshed/straight_line.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "road_graph_py.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {

namespace {

template <typename T>
using CArray = py::array_t<T, py::array::c_style | py::array::forcecast>;

// An integer id array: int32 and int64 are taken as they are (no copy when C-contiguous); anything else
// integer-like is converted to int64. Floats are refused (a float id is almost always a mistake).
struct IdArray {
  py::array arr;
  bool is32 = false;
  size_t size() const { return static_cast<size_t>(arr.size()); }
  const int32_t* i32() const { return static_cast<const int32_t*>(arr.data()); }
  const int64_t* i64() const { return static_cast<const int64_t*>(arr.data()); }
};

IdArray as_ids(const py::handle& obj, const char* name) {
  py::array a = py::array::ensure(obj);
  if (!a) throw InputError(std::string(name) + " must be a 1-D array of integer node ids");
  if (a.ndim() != 1)
    throw InputError(std::string(name) + " must be 1-D, got " + std::to_string(a.ndim()) + " dimensions");
  const char kind = a.dtype().kind();
  if (a.size() > 0 && kind != 'i' && kind != 'u')
    throw InputError(std::string(name) + " must hold integer node ids, got dtype " +
                     std::string(py::str(a.dtype())));
  IdArray r;
  if (a.dtype().is(py::dtype::of<int32_t>())) {
    r.arr = CArray<int32_t>::ensure(a);
    r.is32 = true;
  } else {
    if (kind == 'u' && a.dtype().itemsize() == 8) {
      // uint64 ids above int64's range would wrap; check the maximum first.
      auto u = CArray<uint64_t>::ensure(a);
      for (py::ssize_t i = 0; i < u.size(); ++i)
        if (u.data()[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          throw InputError(std::string(name) + "[" + std::to_string(i) + "] is too large to be a node id");
    }
    r.arr = CArray<int64_t>::ensure(a);
    r.is32 = false;
  }
  return r;
}

CArray<double> as_doubles(const py::handle& obj, const char* name, size_t expected) {
  auto a = CArray<double>::ensure(obj);
  if (!a) throw InputError(std::string(name) + " must be a 1-D array of numbers");
  if (a.ndim() != 1 || static_cast<size_t>(a.size()) != expected)
    throw InputError(std::string(name) + " must be 1-D with " + std::to_string(expected) + " values, got shape (" +
                     std::to_string(a.ndim() ? a.shape(0) : 0) + (a.ndim() > 1 ? ", ..." : "") + ")");
  return a;
}

double as_cutoff(const std::optional<double>& max_seconds) {
  if (!max_seconds) return std::numeric_limits<double>::infinity();
  return *max_seconds;
}

CsrGraph build_graph(int64_t n_nodes, const IdArray& tails, const IdArray& heads, const double* seconds) {
  // Both id arrays share one type for the templated builder; mixed types are rare, convert then.
  if (tails.is32 && heads.is32)
    return CsrGraph::from_edges(n_nodes, tails.i32(), heads.i32(), seconds, tails.size());
  if (!tails.is32 && !heads.is32)
    return CsrGraph::from_edges(n_nodes, tails.i64(), heads.i64(), seconds, tails.size());
  std::vector<int64_t> t(tails.size()), h(heads.size());
  for (size_t i = 0; i < t.size(); ++i) {
    t[i] = tails.is32 ? tails.i32()[i] : tails.i64()[i];
    h[i] = heads.is32 ? heads.i32()[i] : heads.i64()[i];
  }
  return CsrGraph::from_edges(n_nodes, t.data(), h.data(), seconds, t.size());
}

void run_nearest(const CsrGraph& g, const IdArray& sources, const GraphSearchOptions& opt, double* secs,
                 int32_t* nearest, RunControl* control = nullptr) {
  if (sources.is32) nearest_source_search(g, sources.i32(), sources.size(), opt, secs, nearest, control);
  else nearest_source_search(g, sources.i64(), sources.size(), opt, secs, nearest, control);
}

// The prepared graph object: forward CSR plus, built on first use, the transposed one. The lazy build
// runs with the GIL held (callers take the reference before releasing it), so threads cannot race on it.
class PyGraph {
 public:
  explicit PyGraph(CsrGraph g) : fwd_(std::move(g)) {}
  const CsrGraph& graph(bool reverse) {
    if (!reverse) return fwd_;
    if (!rev_) rev_ = std::make_unique<CsrGraph>(fwd_.transposed());
    return *rev_;
  }
  const CsrGraph& forward() const { return fwd_; }

 private:
  CsrGraph fwd_;
  std::unique_ptr<CsrGraph> rev_;
};

struct SearchArgs {
  IdArray sources;
  CArray<double> offsets;
  GraphSearchOptions opt;
};

SearchArgs search_args(const py::handle& sources, const py::object& source_offsets,
                       const std::optional<double>& max_seconds) {
  SearchArgs a;
  a.sources = as_ids(sources, "sources");
  if (!source_offsets.is_none()) {
    a.offsets = as_doubles(source_offsets, "source_offsets", a.sources.size());
    a.opt.source_offsets = a.offsets.data();
  }
  a.opt.max_seconds = as_cutoff(max_seconds);
  return a;
}

py::tuple graph_nearest(PyGraph& pg, const py::handle& sources, const py::object& source_offsets,
                        const std::optional<double>& max_seconds, bool reverse, const py::object& progress) {
  SearchArgs a = search_args(sources, source_offsets, max_seconds);
  const py::ssize_t n = pg.forward().n_nodes();
  py::array_t<double> secs(n);
  py::array_t<int32_t> nearest(n);
  double* s = secs.mutable_data();
  int32_t* ne = nearest.mutable_data();
  const CsrGraph& g = pg.graph(reverse);  // lazily built with the GIL held: no race between threads
  run_interruptible(progress, [&](RunControl* c) { run_nearest(g, a.sources, a.opt, s, ne, c); });
  return py::make_tuple(secs, nearest);
}

// The k-nearest and per-source searches of a CsrGraph (PyGraph) and of a RoadGraph (restrictions honoured)
// share their argument handling and outputs; `search(sources, options, ...)` runs the one of the graph.
template <typename Search>
py::tuple k_nearest_arrays(py::ssize_t n, const py::handle& sources, int k, const py::object& source_offsets,
                           const std::optional<double>& max_seconds, const py::object& progress, Search search) {
  SearchArgs a = search_args(sources, source_offsets, max_seconds);
  if (k < 1 || k > 64) throw InputError("k = " + std::to_string(k) + " must be in [1, 64]");
  py::array_t<double> secs({n, static_cast<py::ssize_t>(k)});
  py::array_t<int32_t> nearest({n, static_cast<py::ssize_t>(k)});
  double* s = secs.mutable_data();
  int32_t* ne = nearest.mutable_data();
  run_interruptible(progress, [&](RunControl* c) {
    if (a.sources.is32) search(a.sources.i32(), a.sources.size(), k, a.opt, s, ne, c);
    else search(a.sources.i64(), a.sources.size(), k, a.opt, s, ne, c);
  });
  return py::make_tuple(secs, nearest);
}

template <typename Search>
py::tuple reach_arrays(const py::handle& sources, double max_seconds, const py::object& source_offsets,
                       const py::object& progress, Search search) {
  SearchArgs a = search_args(sources, source_offsets, max_seconds);
  SourceReach r = run_interruptible(progress, [&](RunControl* c) {
    return a.sources.is32 ? search(a.sources.i32(), a.sources.size(), a.opt, c)
                          : search(a.sources.i64(), a.sources.size(), a.opt, c);
  });
  std::vector<int64_t> first(r.list_first.begin(), r.list_first.end());
  std::vector<int32_t> nodes(r.nodes.begin(), r.nodes.end());
  return py::make_tuple(to_numpy(std::move(first)), to_numpy(std::move(nodes)),
                        to_numpy(std::move(r.seconds)));
}

py::tuple graph_k_nearest(PyGraph& pg, const py::handle& sources, int k, const py::object& source_offsets,
                          const std::optional<double>& max_seconds, bool reverse, const py::object& progress) {
  const CsrGraph& g = pg.graph(reverse);  // lazily built with the GIL held
  return k_nearest_arrays(g.n_nodes(), sources, k, source_offsets, max_seconds, progress,
                          [&](const auto* src, size_t n, int kk, const GraphSearchOptions& o, double* s, int32_t* ne,
                              RunControl* c) { k_nearest_source_search(g, src, n, kk, o, s, ne, c); });
}

py::tuple graph_reach(PyGraph& pg, const py::handle& sources, double max_seconds, const py::object& source_offsets,
                      bool reverse, const py::object& progress) {
  const CsrGraph& g = pg.graph(reverse);
  return reach_arrays(sources, max_seconds, source_offsets, progress,
                      [&](const auto* src, size_t n, const GraphSearchOptions& o, RunControl* c) {
                        return bounded_search_per_source(g, src, n, o, c);
                      });
}

PyGraph make_graph(int64_t n_nodes, const py::handle& tails, const py::handle& heads, const py::handle& seconds) {
  IdArray t = as_ids(tails, "tails");
  IdArray h = as_ids(heads, "heads");
  if (h.size() != t.size())
    throw InputError("tails and heads must have the same length, got " + std::to_string(t.size()) + " and " +
                     std::to_string(h.size()));
  auto s = as_doubles(seconds, "seconds", t.size());
  CsrGraph g;
  {
    py::gil_scoped_release release;
    g = build_graph(n_nodes, t, h, s.data());
  }
  return PyGraph(std::move(g));
}


// ---- road graphs -------------------------------------------------------------------------------------

// A view of a vector owned by `owner` (kept alive by numpy's base reference): no copy.
template <typename T>
py::array_t<T> view_of(const std::vector<T>& v, py::handle owner) {
  py::array_t<T> a({static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(T))}, v.data(), owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;  // read-only
  return a;
}

SpeedProfile profile_of(const py::object& profile) {
  if (py::isinstance<py::str>(profile)) return SpeedProfile::by_name(profile.cast<std::string>());
  if (py::isinstance<SpeedProfile>(profile)) return profile.cast<SpeedProfile>();
  throw InputError("profile must be \"car\", \"ambulance\", \"walking\" or a careshed.SpeedProfile");
}

struct XY {
  CArray<double> arr;
  std::vector<double> x, y;  // de-interleaved (small compared with any search)
  size_t n = 0;
};

XY as_xy(const py::handle& obj, const char* name) {
  XY r;
  r.arr = CArray<double>::ensure(obj);
  if (!r.arr || r.arr.ndim() != 2 || r.arr.shape(1) != 2) {
    throw InputError(std::string(name) + " must be an (n, 2) array of x, y coordinates in the graph CRS");
  }
  r.n = static_cast<size_t>(r.arr.shape(0));
  r.x.resize(r.n);
  r.y.resize(r.n);
  const double* p = r.arr.data();
  for (size_t i = 0; i < r.n; ++i) r.x[i] = p[2 * i], r.y[i] = p[2 * i + 1];
  return r;
}

double opt_or_inf(const std::optional<double>& v) { return v ? *v : std::numeric_limits<double>::infinity(); }

py::dict report_dict(const RoadGraphReport& r) {
  py::dict d;
  d["features_read"] = r.features_read;
  d["lines_used"] = r.lines_used;
  d["excluded_class"] = r.excluded_class;
  d["excluded_no_speed"] = r.excluded_no_speed;
  d["excluded_reversible"] = r.excluded_reversible;
  d["excluded_geometry"] = r.excluded_geometry;
  d["speed_from_maxspeed"] = r.speed_from_maxspeed;
  d["oneway_lines"] = r.oneway_lines;
  d["ferry_lines"] = r.ferry_lines;
  d["restrictions_read"] = r.restrictions_read;
  d["restrictions_applied"] = r.restrictions_applied;
  d["restrictions_via_way"] = r.restrictions_via_way;
  d["restrictions_unusable"] = r.restrictions_unusable;
  return d;
}

}  // namespace

void init_network(py::module_& m) {
  // ---- speed profiles ----
  py::class_<SpeedProfile>(m, "SpeedProfile", R"doc(
Speeds in km/h per road class (OSM highway=*), plus whether `maxspeed` tags override them and whether
one-way streets are respected. Roads whose class is not in the table are excluded from the network.
Shipped: SpeedProfile.car(), .ambulance(), .walking(); or SpeedProfile("name", {"primary": 60, ...}).
)doc")
      .def(py::init<std::string, std::map<std::string, double>, bool, bool>(), py::arg("name"),
           py::arg("speeds_kmh"), py::arg("use_maxspeed") = true, py::arg("respect_oneway") = true)
      .def_static("car", &SpeedProfile::car)
      .def_static("ambulance", &SpeedProfile::ambulance)
      .def_static("walking", &SpeedProfile::walking)
      .def_static("by_name", [](const std::string& n) { return SpeedProfile::by_name(n); }, py::arg("name"))
      .def_static("from_csv", &SpeedProfile::from_csv, py::arg("path"), py::arg("name") = "custom",
                  py::arg("use_maxspeed") = true, py::arg("respect_oneway") = true,
                  "Loads a CSV with header 'class,speed_kmh'.")
      .def("to_csv", &SpeedProfile::to_csv, py::arg("path"))
      .def_property_readonly("name", &SpeedProfile::name)
      .def_property("use_maxspeed", &SpeedProfile::use_maxspeed, &SpeedProfile::set_use_maxspeed)
      .def_property("respect_oneway", &SpeedProfile::respect_oneway, &SpeedProfile::set_respect_oneway)
      .def_property_readonly("speeds_kmh", &SpeedProfile::speeds_kmh, "A copy of the table {class: km/h}.")
      .def("to_dict", &SpeedProfile::speeds_kmh, "The table {class: km/h} as a new dict.")
      .def_property_readonly("max_speed_kmh", &SpeedProfile::max_speed_kmh)
      .def("__getitem__",
           [](const SpeedProfile& p, const std::string& c) {
             auto v = p.speed_kmh(c);
             if (!v) throw py::key_error("road class '" + c + "' is not in profile '" + p.name() + "' (excluded)");
             return *v;
           })
      .def("__setitem__", &SpeedProfile::set_speed_kmh)
      .def("__delitem__",
           [](SpeedProfile& p, const std::string& c) {
             if (!p.remove(c)) throw py::key_error("road class '" + c + "' is not in profile '" + p.name() + "'");
           })
      .def("__contains__", [](const SpeedProfile& p, const std::string& c) { return p.speed_kmh(c).has_value(); })
      .def("__len__", [](const SpeedProfile& p) { return p.speeds_kmh().size(); })
      .def("__repr__", [](const SpeedProfile& p) {
        return "SpeedProfile('" + p.name() + "', " + std::to_string(p.speeds_kmh().size()) +
               " classes, use_maxspeed=" + (p.use_maxspeed() ? "True" : "False") +
               ", respect_oneway=" + (p.respect_oneway() ? "True" : "False") + ")";
      });
  m.def("parse_maxspeed", &parse_maxspeed, py::arg("text"),
        "OSM maxspeed text -> km/h, or None when it gives no usable number (see speed_profile.hpp).");

  // ---- graph search ----
  py::class_<PyGraph>(m, "CsrGraph", "A directed graph in CSR form with seconds per edge (see graph_search.hpp).")
      .def(py::init(&make_graph), py::arg("n_nodes"), py::arg("tails"), py::arg("heads"), py::arg("seconds"))
      .def_property_readonly("n_nodes", [](const PyGraph& g) { return g.forward().n_nodes(); })
      .def_property_readonly("n_edges", [](const PyGraph& g) { return g.forward().n_edges(); })
      .def("nearest", &graph_nearest, py::arg("sources"), py::kw_only(), py::arg("source_offsets") = py::none(),
           py::arg("max_seconds") = py::none(), py::arg("reverse") = false, py::arg("progress") = py::none())
      .def("k_nearest", &graph_k_nearest, py::arg("sources"), py::arg("k"), py::kw_only(),
           py::arg("source_offsets") = py::none(), py::arg("max_seconds") = py::none(),
           py::arg("reverse") = false, py::arg("progress") = py::none())
      .def("reach", &graph_reach, py::arg("sources"), py::arg("max_seconds"), py::kw_only(),
           py::arg("source_offsets") = py::none(), py::arg("reverse") = false, py::arg("progress") = py::none());

  m.def(
      "graph_travel_time",
      [](int64_t n_nodes, const py::handle& tails, const py::handle& heads, const py::handle& seconds,
         const py::handle& sources, const py::object& source_offsets, const std::optional<double>& max_seconds,
         bool reverse, const py::object& progress) {
        IdArray t = as_ids(tails, "tails");
        IdArray h = as_ids(heads, "heads");
        if (h.size() != t.size())
          throw InputError("tails and heads must have the same length, got " + std::to_string(t.size()) +
                           " and " + std::to_string(h.size()));
        auto s = as_doubles(seconds, "seconds", t.size());
        SearchArgs a = search_args(sources, source_offsets, max_seconds);
        if (n_nodes < 0) throw InputError("n_nodes = " + std::to_string(n_nodes) + " must be >= 0");
        py::array_t<double> secs(n_nodes);
        py::array_t<int32_t> nearest(n_nodes);
        double* so = secs.mutable_data();
        int32_t* ne = nearest.mutable_data();
        run_interruptible(progress, [&](RunControl* c) {
          // Reverse = time TO the sources: the same search on the transposed graph. Built forward first so
          // validation errors name tails/heads as the caller gave them.
          CsrGraph g = build_graph(n_nodes, t, h, s.data());
          if (reverse) g = g.transposed();
          run_nearest(g, a.sources, a.opt, so, ne, c);
        });
        return py::make_tuple(secs, nearest);
      },
      py::arg("n_nodes"), py::arg("tails"), py::arg("heads"), py::arg("seconds"), py::arg("sources"),
      py::kw_only(), py::arg("source_offsets") = py::none(), py::arg("max_seconds") = py::none(),
      py::arg("reverse") = false, py::arg("progress") = py::none());

  // ---- road graphs ----
  py::class_<PyRoadGraph>(m, "RoadGraph", "Low-level road graph; use careshed.RoadGraph (network.py).")
      .def_static(
          "from_osm",
          [](const std::string& path, const py::object& profile, const std::string& reader, bool turn_restrictions,
             bool ferries, double ferry_speed_kmh, double ferry_wait_seconds, const py::object& progress) {
            SpeedProfile p = profile_of(profile);
            OsmReadOptions o;
            if (reader == "gdal") o.reader = OsmReader::kGdal;
            else if (reader != "osmium") throw InputError("reader = '" + reader + "': use 'osmium' or 'gdal'");
            o.turn_restrictions = turn_restrictions;
            o.ferries = ferries;
            o.ferry_speed_kmh = ferry_speed_kmh;
            o.ferry_wait_seconds = ferry_wait_seconds;
            return run_interruptible(progress,
                                     [&](RunControl* c) { return PyRoadGraph(RoadGraph::from_osm(path, p, o, c)); });
          },
          py::arg("path"), py::arg("profile"), py::kw_only(), py::arg("reader") = "osmium",
          py::arg("turn_restrictions") = true, py::arg("ferries") = true, py::arg("ferry_speed_kmh") = 20.0,
          py::arg("ferry_wait_seconds") = 1800.0, py::arg("progress") = py::none())
      .def_static(
          "from_lines",
          [](const std::string& path, const std::string& layer, const std::string& speed_field,
             const std::string& class_field, const std::string& oneway_field, const py::object& profile,
             const py::object& progress) {
            SpeedProfile p = profile_of(profile);
            LineLayerFields f{layer, speed_field, class_field, oneway_field};
            return run_interruptible(progress,
                                     [&](RunControl* c) { return PyRoadGraph(RoadGraph::from_lines(path, f, p, c)); });
          },
          py::arg("path"), py::arg("layer"), py::arg("speed_field"), py::arg("class_field"),
          py::arg("oneway_field"), py::arg("profile"), py::arg("progress") = py::none())
      .def_static(
          "from_xy_lines",
          [](const py::object& lines, const py::handle& speeds_kmh, const py::handle& directions, bool geographic,
             const std::string& crs_wkt) {
            // Either a list of (n_i, 2) arrays, or one (n_lines, k, 2) array of equal-length lines (fast).
            const bool is_block = py::isinstance<py::array>(lines);
            CArray<double> block;
            if (is_block) {
              block = CArray<double>::ensure(lines);
              if (!block || block.ndim() != 3 || block.shape(2) != 2)
                throw InputError("lines as one array must have shape (n_lines, n_vertices, 2)");
            }
            const size_t n_lines = is_block ? static_cast<size_t>(block.shape(0)) : py::len(lines);
            std::vector<RoadLine> rl(n_lines);
            auto sp = as_doubles(speeds_kmh, "speeds_kmh", rl.size());
            auto dir = CArray<int8_t>::ensure(directions);
            if (!dir || dir.ndim() != 1 || static_cast<size_t>(dir.size()) != rl.size())
              throw InputError("directions must be 1-D with one value (1, -1 or 0) per line");
            const py::list as_list = is_block ? py::list() : py::list(lines);
            for (size_t i = 0; i < rl.size(); ++i) {
              if (is_block) {
                const size_t per = 2 * static_cast<size_t>(block.shape(1));
                rl[i].xy.assign(block.data() + i * per, block.data() + (i + 1) * per);
              } else {
                XY xy = as_xy(as_list[i], ("lines[" + std::to_string(i) + "]").c_str());
                rl[i].xy.assign(xy.arr.data(), xy.arr.data() + 2 * xy.n);
              }
              rl[i].speed_kmh = sp.data()[i];
              const int8_t d = dir.data()[i];
              if (d != 0 && d != 1 && d != -1)
                throw InputError("directions[" + std::to_string(i) + "] must be 1 (forward), -1 (backward) or 0");
              rl[i].direction = static_cast<Direction>(d);
              rl[i].id = static_cast<int64_t>(i);
            }
            py::gil_scoped_release release;
            return PyRoadGraph(RoadGraph::from_road_lines(rl, geographic, crs_wkt));
          },
          py::arg("lines"), py::arg("speeds_kmh"), py::arg("directions"), py::arg("geographic"),
          py::arg("crs_wkt") = "")
      .def_property_readonly("n_nodes", [](const PyRoadGraph& g) { return g.graph().n_nodes(); })
      .def_property_readonly("n_edges", [](const PyRoadGraph& g) { return g.graph().n_edges(); })
      .def_property_readonly("geographic", [](const PyRoadGraph& g) { return g.graph().geographic(); })
      .def_property_readonly("crs_wkt", [](const PyRoadGraph& g) { return g.graph().crs_wkt(); })
      .def_property_readonly("metres_per_unit", [](const PyRoadGraph& g) { return g.graph().metres_per_unit(); })
      .def_property_readonly("report", [](const PyRoadGraph& g) { return report_dict(g.graph().report()); })
      .def_property_readonly("node_x", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().node_x(), self); })
      .def_property_readonly("node_y", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().node_y(), self); })
      .def_property_readonly("edge_tails", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_tails(), self); })
      .def_property_readonly("edge_heads", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_heads(), self); })
      .def_property_readonly("edge_seconds", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_seconds(), self); })
      .def_property_readonly("edge_length_m", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_length_m(), self); })
      .def_property_readonly("edge_speed_kmh", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_speed_kmh(), self); })
      .def_property_readonly("edge_line_id", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_line_id(), self); })
      .def_property_readonly("edge_ferry", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_ferry(), self); })
      .def_property_readonly("edge_wait_seconds", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_wait_seconds(), self); })
      .def_property_readonly("edge_class", [](py::object self) { return view_of(self.cast<PyRoadGraph&>().graph().edge_class(), self); })
      .def_property_readonly("class_names", [](const PyRoadGraph& g) { return g.graph().class_names(); })
      .def(
          "with_speed_factors",
          [](const PyRoadGraph& pg, const py::handle& factors) {
            auto f = as_doubles(factors, "factors", pg.graph().n_edges());
            std::vector<double> v(f.data(), f.data() + pg.graph().n_edges());
            py::gil_scoped_release release;
            return PyRoadGraph(pg.graph().with_speed_factors(v));
          },
          py::arg("factors"))
      .def_property_readonly("has_turn_restrictions", [](const PyRoadGraph& g) { return g.graph().has_turn_restrictions(); })
      .def(
          "components",
          [](const PyRoadGraph& g, bool strong) {
            Components c;
            {
              py::gil_scoped_release release;
              c = g.graph().components(strong);
            }
            return py::make_tuple(to_numpy(std::move(c.id)), to_numpy(std::move(c.sizes)));
          },
          py::arg("strong") = false)
      .def(
          "nearest",
          [](PyRoadGraph& pg, const py::handle& sources, const py::object& source_offsets,
             const std::optional<double>& max_seconds, bool reverse, const py::object& progress) {
            SearchArgs a = search_args(sources, source_offsets, max_seconds);
            const py::ssize_t n = pg.graph().n_nodes();
            py::array_t<double> secs(n);
            py::array_t<int32_t> nearest(n);
            double* so = secs.mutable_data();
            int32_t* ne = nearest.mutable_data();
            run_interruptible(progress, [&](RunControl* c) {
              // RoadGraph::nearest honours the turn restrictions (the plain CSR search when there are none)
              if (a.sources.is32) pg.graph().nearest(a.sources.i32(), a.sources.size(), a.opt, reverse, so, ne, c);
              else pg.graph().nearest(a.sources.i64(), a.sources.size(), a.opt, reverse, so, ne, c);
            });
            return py::make_tuple(secs, nearest);
          },
          py::arg("sources"), py::kw_only(), py::arg("source_offsets") = py::none(),
          py::arg("max_seconds") = py::none(), py::arg("reverse") = false, py::arg("progress") = py::none())
      .def(
          "k_nearest",
          [](PyRoadGraph& pg, const py::handle& sources, int k, const py::object& source_offsets,
             const std::optional<double>& max_seconds, bool reverse, const py::object& progress) {
            const RoadGraph& g = pg.graph();
            return k_nearest_arrays(g.n_nodes(), sources, k, source_offsets, max_seconds, progress,
                                    [&](const auto* src, size_t n, int kk, const GraphSearchOptions& o, double* s,
                                        int32_t* ne, RunControl* c) { g.k_nearest(src, n, kk, o, reverse, s, ne, c); });
          },
          py::arg("sources"), py::arg("k"), py::kw_only(), py::arg("source_offsets") = py::none(),
          py::arg("max_seconds") = py::none(), py::arg("reverse") = false, py::arg("progress") = py::none())
      .def(
          "reach",
          [](PyRoadGraph& pg, const py::handle& sources, double max_seconds, const py::object& source_offsets,
             bool reverse, const py::object& progress) {
            const RoadGraph& g = pg.graph();
            return reach_arrays(sources, max_seconds, source_offsets, progress,
                                [&](const auto* src, size_t n, const GraphSearchOptions& o, RunControl* c) {
                                  return g.reach(src, n, o, reverse, c);
                                });
          },
          py::arg("sources"), py::arg("max_seconds"), py::kw_only(), py::arg("source_offsets") = py::none(),
          py::arg("reverse") = false, py::arg("progress") = py::none())
      .def(
          "turn_arcs",
          [](const PyRoadGraph& pg, bool to_sources) {
            RoadGraph::TurnArcs a;
            {
              py::gil_scoped_release release;
              a = pg.graph().turn_arcs(to_sources);
            }
            return py::make_tuple(to_numpy(std::move(a.tails)), to_numpy(std::move(a.heads)),
                                  to_numpy(std::move(a.edges)), to_numpy(std::move(a.copy_origin)));
          },
          py::arg("to_sources") = false,
          "(tails, heads, edge, copy_origin): the arcs of the turn-restriction split graph (road_graph.hpp).")
      .def(
          "snap",
          [](PyRoadGraph& pg, const py::handle& points_xy, const std::optional<double>& max_distance_m,
             bool largest_component_only) {
            XY p = as_xy(points_xy, "points_xy");
            const NodeSnapper& sn = pg.snapper(largest_component_only);  // built with the GIL held
            SnapResult r;
            {
              py::gil_scoped_release release;
              r = sn.snap(p.x.data(), p.y.data(), p.n, opt_or_inf(max_distance_m));
            }
            return py::make_tuple(to_numpy(std::move(r.node)), to_numpy(std::move(r.distance_m)));
          },
          py::arg("points_xy"), py::kw_only(), py::arg("max_distance_m") = py::none(),
          py::arg("largest_component_only") = false)
      .def(
          "travel_time",
          [](PyRoadGraph& pg, const py::handle& facility_xy, const py::object& points_xy,
             const py::object& source_offsets, const std::optional<double>& max_seconds, bool reverse,
             double offroad_speed_kmh, const std::optional<double>& max_snap_distance_m,
             bool largest_component_only) {
            XY f = as_xy(facility_xy, "facility_xy");
            XY p;
            if (!points_xy.is_none()) p = as_xy(points_xy, "points_xy");
            CArray<double> off;
            RoadTravelOptions o;
            if (!source_offsets.is_none()) {
              off = as_doubles(source_offsets, "source_offsets", f.n);
              o.source_offsets = off.data();
            }
            o.max_seconds = opt_or_inf(max_seconds);
            o.reverse = reverse;
            o.offroad_speed_kmh = offroad_speed_kmh;
            o.max_snap_distance_m = opt_or_inf(max_snap_distance_m);
            const NodeSnapper& sn = pg.snapper(largest_component_only);  // built with the GIL held
            RoadTravelTimes r;
            {
              py::gil_scoped_release release;
              r = road_travel_time(pg.graph(), sn, f.x.data(), f.y.data(), f.n, p.x.data(), p.y.data(), p.n, o);
            }
            py::dict d;
            d["node_seconds"] = to_numpy(std::move(r.node_seconds));
            d["node_nearest"] = to_numpy(std::move(r.node_nearest));
            d["facility_node"] = to_numpy(std::move(r.facility_node));
            d["facility_snap_m"] = to_numpy(std::move(r.facility_snap_m));
            d["point_seconds"] = to_numpy(std::move(r.point_seconds));
            d["point_nearest"] = to_numpy(std::move(r.point_nearest));
            d["point_node"] = to_numpy(std::move(r.point_node));
            d["point_snap_m"] = to_numpy(std::move(r.point_snap_m));
            return d;
          },
          py::arg("facility_xy"), py::arg("points_xy") = py::none(), py::kw_only(),
          py::arg("source_offsets") = py::none(), py::arg("max_seconds") = py::none(), py::arg("reverse") = false,
          py::arg("offroad_speed_kmh") = 5.0, py::arg("max_snap_distance_m") = py::none(),
          py::arg("largest_component_only") = false);

  m.def("haversine_m", &haversine_m, py::arg("lon1"), py::arg("lat1"), py::arg("lon2"), py::arg("lat2"));

  // ---- straight line ----
  m.def(
      "straight_line_travel_time",
      [](const py::handle& facility_xy, const py::handle& points_xy, double speed_kmh, double detour_factor,
         const std::optional<double>& max_seconds, bool geographic, double metres_per_unit, int k) {
        XY f = as_xy(facility_xy, "facility_xy");
        XY p = as_xy(points_xy, "points_xy");
        StraightLineOptions o{speed_kmh, detour_factor, opt_or_inf(max_seconds), geographic, metres_per_unit};
        const py::ssize_t n = static_cast<py::ssize_t>(p.n);
        if (k < 0 || k > 64) throw InputError("k must be in [1, 64] (or 0 for the nearest only)");
        std::vector<py::ssize_t> shape = k == 0 ? std::vector<py::ssize_t>{n} : std::vector<py::ssize_t>{n, k};
        py::array_t<double> secs(shape);
        py::array_t<int32_t> nearest(shape);
        double* so = secs.mutable_data();
        int32_t* ne = nearest.mutable_data();
        {
          py::gil_scoped_release release;
          if (k == 0) straight_line_travel_time(f.x.data(), f.y.data(), f.n, p.x.data(), p.y.data(), p.n, o, so, ne);
          else straight_line_k_nearest(f.x.data(), f.y.data(), f.n, p.x.data(), p.y.data(), p.n, k, o, so, ne);
        }
        return py::make_tuple(secs, nearest);
      },
      py::arg("facility_xy"), py::arg("points_xy"), py::kw_only(), py::arg("speed_kmh"),
      py::arg("detour_factor") = 1.0, py::arg("max_seconds") = py::none(), py::arg("geographic") = false,
      py::arg("metres_per_unit") = 1.0, py::arg("k") = 0);

  m.def(
      "straight_line_travel_time_grid",
      [](const py::handle& facility_xy, int64_t width, int64_t height, const std::array<double, 6>& geotransform,
         double speed_kmh, double detour_factor, const std::optional<double>& max_seconds, bool geographic,
         double metres_per_unit) {
        XY f = as_xy(facility_xy, "facility_xy");
        if (width < 0 || height < 0) throw InputError("width and height must be >= 0");
        GridSpec g;
        g.width = width;
        g.height = height;
        g.geotransform = geotransform;
        StraightLineOptions o{speed_kmh, detour_factor, opt_or_inf(max_seconds), geographic, metres_per_unit};
        py::array_t<double> secs({height, width});
        py::array_t<int32_t> nearest({height, width});
        double* so = secs.mutable_data();
        int32_t* ne = nearest.mutable_data();
        {
          py::gil_scoped_release release;
          straight_line_travel_time_grid(f.x.data(), f.y.data(), f.n, g, o, so, ne);
        }
        return py::make_tuple(secs, nearest);
      },
      py::arg("facility_xy"), py::arg("width"), py::arg("height"), py::arg("geotransform"), py::kw_only(),
      py::arg("speed_kmh"), py::arg("detour_factor") = 1.0, py::arg("max_seconds") = py::none(),
      py::arg("geographic") = false, py::arg("metres_per_unit") = 1.0);
}

}  // namespace careshed::bindings
