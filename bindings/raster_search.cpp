// Bindings of careshed/raster_search.hpp. The user-facing functions (argument normalisation, friendly
// errors, views on the outputs) are in python/careshed/raster_search.py; these are the thin, checked
// entry points. Inputs are used in place (no copy: the Python side hands over C-contiguous float32 /
// float64 / int64 arrays); outputs are numpy arrays allocated here and filled by the C++ core with the
// GIL released; reach lists hand their std::vectors to numpy through capsules.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <new>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/raster_tiles.hpp"
#include "careshed/terrain.hpp"
#include "init.hpp"
#include "memory_py.hpp"
#include "io_numpy.hpp"
#include "raster_search_py.hpp"
#include "run_watch.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace py = pybind11;

namespace careshed::bindings {

namespace {

bool is_c_contiguous(const py::array& a) { return (a.flags() & py::array::c_style) != 0; }

// Builds the FrictionGrid view over the caller's arrays (kept alive by the caller for the call).
FrictionGrid grid_of(const py::array& friction, double dx, double dy, const py::object& row_dx) {
  if (friction.ndim() != 2)
    throw InputError("friction must be a 2-D array (rows, cols) of seconds per metre; got " +
                     std::to_string(friction.ndim()) + " dimensions");
  if (!is_c_contiguous(friction))
    throw InputError("friction must be C-contiguous (use numpy.ascontiguousarray)");
  FrictionGrid g;
  const char kind = friction.dtype().kind();
  if (kind == 'f' && friction.itemsize() == 4)
    g.friction_f32 = static_cast<const float*>(friction.data());
  else if (kind == 'f' && friction.itemsize() == 8)
    g.friction_f64 = static_cast<const double*>(friction.data());
  else
    throw InputError("friction must be float32 or float64 (seconds per metre); convert it with astype");
  g.rows = friction.shape(0);
  g.cols = friction.shape(1);
  g.dx_m = dx;
  g.dy_m = dy;
  if (!row_dx.is_none()) {
    auto a = py::cast<py::array>(row_dx);
    if (a.ndim() != 1 || a.shape(0) != g.rows || a.dtype().kind() != 'f' || a.itemsize() != 8 ||
        !is_c_contiguous(a))
      throw InputError("per-row cell width must be a contiguous float64 array with one value per friction row (" +
                       std::to_string(g.rows) + ")");
    g.row_dx_m = static_cast<const double*>(a.data());
  }
  return g;
}

const std::int64_t* sources_of(const py::array& sources, std::size_t* n) {
  if (sources.ndim() != 2 || sources.shape(1) != 2 || sources.dtype().kind() != 'i' || sources.itemsize() != 8 ||
      !is_c_contiguous(sources))
    throw InputError("sources must be a contiguous int64 array of shape (K, 2) holding (row, col)");
  *n = static_cast<std::size_t>(sources.shape(0));
  return static_cast<const std::int64_t*>(sources.data());
}

// A contiguous 1-D or n-D array of exactly `count` items of type T (else InputError naming `what`).
template <class T>
T* checked_buffer(const py::array& a, std::size_t count, const char* what, const char* dtype) {
  if (!py::isinstance<py::array_t<T>>(a) || !is_c_contiguous(a) || static_cast<std::size_t>(a.size()) != count)
    throw InputError(std::string(what) + " must be a contiguous " + dtype + " array of " + std::to_string(count) +
                     " values, got " + std::to_string(a.size()) + " values of dtype " +
                     py::str(a.dtype()).cast<std::string>());
  return static_cast<T*>(const_cast<void*>(a.data()));
}

TickScale scale_of(const py::dict& d) {
  TickScale s;
  s.q = d["q"].cast<int>();
  s.index_bits = d["index_bits"].cast<int>();
  s.cut_ticks = d["cut_ticks"].cast<std::uint64_t>();
  s.tick_seconds = d["tick_seconds"].cast<double>();
  return s;
}

RasterSearchOptions options_of(int neighbours, double max_seconds, const py::object& offsets, std::size_t n,
                               int threads) {
  RasterSearchOptions o;
  o.neighbours = neighbours;
  o.max_seconds = max_seconds;
  o.threads = threads;
  if (!offsets.is_none()) {
    auto a = py::cast<py::array>(offsets);
    if (a.ndim() != 1 || static_cast<std::size_t>(a.shape(0)) != n || a.dtype().kind() != 'f' ||
        a.itemsize() != 8 || !is_c_contiguous(a))
      throw InputError("source_offsets must be a contiguous float64 array with one value per source (" +
                       std::to_string(n) + ")");
    o.source_offsets_s = static_cast<const double*>(a.data());
  }
  return o;
}

// The arguments both tile searches share, checked (the labels are each one's own). Pointers into the caller's
// arrays, valid while they live.
struct TileSearchArgs {
  FrictionGrid g;
  std::size_t n = 0;
  const std::int64_t* src = nullptr;
  const std::int32_t* idx = nullptr;
  RasterSearchOptions o;
  std::size_t cells = 0;
  const std::int64_t* seed = nullptr;
  std::size_t n_seeds = 0;
  TickScale scale;
};

TileSearchArgs tile_search_args(const py::array& window, double dx, double dy, const py::object& row_dx,
                                const py::dict& scale_dict, int neighbours, double max_seconds,
                                const py::array& sources, const py::array& source_index, const py::object& offsets,
                                const py::array& seeds, int threads) {
  TileSearchArgs a;
  a.g = grid_of(window, dx, dy, row_dx);
  a.src = sources_of(sources, &a.n);
  a.idx = checked_buffer<std::int32_t>(source_index, a.n, "source_index", "int32");
  a.o = options_of(neighbours, max_seconds, offsets, a.n, threads);
  a.cells = static_cast<std::size_t>(a.g.rows * a.g.cols);
  a.n_seeds = static_cast<std::size_t>(seeds.size());
  a.seed = checked_buffer<std::int64_t>(seeds, a.n_seeds, "seeds", "int64");
  a.scale = scale_of(scale_dict);
  return a;
}

py::dict stats_dict(const RasterSearchStats& s) {
  py::dict d;
  d["tick_seconds"] = s.tick_seconds;
  d["cells_settled"] = s.cells_settled;
  d["cells_reached"] = s.cells_reached;
  d["handovers_to_one_thread"] = s.handovers_to_one_thread;
  return d;
}

// The memory check of a search, before its outputs are allocated (careshed/memory.hpp). Reach lists need the
// reach of a facility: estimated from the mean friction of the passable cells (a quick scan).
void check_search_memory(MemoryAnalysis analysis, const FrictionGrid& g, std::size_t n_sources,
                         const RasterSearchOptions& o, int k, std::uint64_t max_memory_bytes) {
  MemoryRequest r;
  r.analysis = analysis;
  r.rows = g.rows;
  r.cols = g.cols;
  r.facilities = static_cast<std::int64_t>(n_sources);
  r.max_seconds = o.max_seconds;
  r.k = std::min(std::max(k, 1), 64);
  r.threads = o.threads;
  if (analysis == MemoryAnalysis::reach_lists && o.max_seconds < std::numeric_limits<double>::infinity()) {
    const std::int64_t n = g.rows * g.cols;
    double sum = 0.0;
    std::int64_t passable = 0;
    {
      py::gil_scoped_release release;
      for (std::int64_t i = 0; i < n; ++i) {
        const double v = g.friction_f32 ? static_cast<double>(g.friction_f32[i]) : g.friction_f64[i];
        if (v >= 0.0 && v < std::numeric_limits<double>::infinity()) sum += v, ++passable;
      }
    }
    const double dx = g.row_dx_m ? g.row_dx_m[g.rows / 2] : g.dx_m;
    if (passable > 0 && sum > 0.0) r.typical_seconds_per_cell = sum / static_cast<double>(passable) * 0.5 * (dx + g.dy_m);
  }
  const char* name = analysis == MemoryAnalysis::travel_time ? "raster travel time"
                     : analysis == MemoryAnalysis::k_nearest ? "k-nearest raster search"
                                                             : "raster reach lists";
  refuse_if_too_big(r, max_memory_bytes,
                    std::string(name) + " on " + std::to_string(g.rows) + " x " + std::to_string(g.cols) + " cells from " +
                        std::to_string(n_sources) + " sources");
}

ThreadPolicy thread_policy_of(const std::string& name) {
  if (name == "adaptive") return ThreadPolicy::adaptive;
  if (name == "fixed") return ThreadPolicy::fixed;
  if (name == "alternate") return ThreadPolicy::alternate;
  throw InputError("thread_policy must be 'adaptive', 'fixed' or 'alternate', got '" + name + "'");
}

// Output label buffers (8 bytes per cell) of a few MB or more get their own fresh anonymous mapping,
// owned by the returned array through a capsule. The core advises transparent huge pages on it before
// the first write; memory recycled by malloc (already touched, on 4 KB pages) made repeated calls on
// mid-sized grids ~2x slower through TLB misses.
py::array_t<std::int32_t> label_buffer(const std::vector<py::ssize_t>& shape) {
  std::size_t count = 1;
  for (const py::ssize_t d : shape) count *= static_cast<std::size_t>(d);
  const std::size_t bytes = count * sizeof(std::int32_t);
#if defined(__linux__)
  if (bytes >= (std::size_t{4} << 20)) {
    void* mem = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) throw std::bad_alloc();
    struct Mapping {
      void* mem;
      std::size_t bytes;
    };
    auto* owner = new Mapping{mem, bytes};
    py::capsule cap(owner, [](void* q) {
      auto* m = static_cast<Mapping*>(q);
      munmap(m->mem, m->bytes);
      delete m;
    });
    return py::array_t<std::int32_t>(shape, static_cast<std::int32_t*>(mem), cap);
  }
#endif
  return py::array_t<std::int32_t>(shape);
}

}  // namespace

FrictionGrid friction_grid_of(const py::array& friction, double dx, double dy, const py::object& row_dx) {
  return grid_of(friction, dx, dy, row_dx);
}
const std::int64_t* cell_sources_of(const py::array& sources, std::size_t* n) { return sources_of(sources, n); }
py::array_t<std::int32_t> cell_label_buffer(const std::vector<py::ssize_t>& shape) { return label_buffer(shape); }

void init_raster_search(py::module_& m) {
  m.def(
      "_raster_travel_time",
      [](const py::array& friction, const py::array& sources, double dx, double dy, const py::object& row_dx,
         int neighbours, double max_seconds, const py::object& offsets, int threads, const py::object& progress,
         const std::string& policy, std::uint64_t max_memory_bytes) {
        const FrictionGrid g = grid_of(friction, dx, dy, row_dx);
        std::size_t n = 0;
        const std::int64_t* src = sources_of(sources, &n);
        RasterSearchOptions o = options_of(neighbours, max_seconds, offsets, n, threads);
        o.thread_policy = thread_policy_of(policy);
        check_search_memory(MemoryAnalysis::travel_time, g, n, o, 1, max_memory_bytes);
        // One (rows, cols, 2) int32 buffer: [..., 0] = nearest, [..., 1] = seconds as float32 bits.
        py::array_t<std::int32_t> buf =
            label_buffer({static_cast<py::ssize_t>(g.rows), static_cast<py::ssize_t>(g.cols), py::ssize_t{2}});
        auto* out = reinterpret_cast<CellLabel*>(buf.mutable_data());
        const RasterSearchStats st =
            run_interruptible(progress, [&](RunControl* c) { return raster_travel_time(g, src, n, o, out, c); });
        return py::make_tuple(buf, stats_dict(st));
      },
      py::arg("friction"), py::arg("sources"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"),
      py::arg("neighbours"), py::arg("max_seconds"), py::arg("source_offsets"), py::arg("threads") = 0,
      py::arg("progress") = py::none(), py::arg("thread_policy") = "adaptive", py::arg("max_memory_bytes") = 0,
      "Nearest-source search; returns ((rows, cols, 2) int32 buffer, stats). Use careshed.raster_travel_time.\n"
      "threads: 0 = automatic; thread_policy: 'adaptive' (default: one thread carries on alone while the\n"
      "threads would wait for each other on a busy machine), 'fixed' (all threads to the end), 'alternate'\n"
      "(tests). stats['handovers_to_one_thread'] counts the hand-overs. Results do not depend on either.\n"
      "Refused (MemoryLimitError) before allocating when the estimate exceeds the available memory or\n"
      "max_memory_bytes (> 0); the same holds for _raster_k_nearest and _raster_reach_lists.");

  // ---- the tiled search (careshed/raster_tiles.hpp; driven by python/careshed/tiled/) ----------------
  m.def(
      "_raster_friction_summary",
      [](const py::array& friction) {
        const FrictionGrid g = grid_of(friction, 1.0, 1.0, py::none());
        FrictionSummary s;
        {
          py::gil_scoped_release release;
          s = raster_friction_summary(g);
        }
        return py::make_tuple(s.max_friction, s.passable_cells);
      },
      py::arg("friction"),
      "(largest finite friction, passable cells) of one piece of friction; merged across tiles with max and +.");

  m.def(
      "_raster_tiled_scale",
      [](std::int64_t rows, std::int64_t cols, double dx, double dy, const py::object& row_dx, double max_friction,
         std::int64_t passable_cells, std::size_t n_sources, double max_start_offset, int neighbours,
         double max_seconds, bool reach_lists) {
        FrictionGrid g;
        g.rows = rows;
        g.cols = cols;
        g.dx_m = dx;
        g.dy_m = dy;
        py::array widths;
        if (!row_dx.is_none()) {
          widths = py::cast<py::array>(row_dx);
          g.row_dx_m = checked_buffer<double>(widths, static_cast<std::size_t>(std::max<std::int64_t>(rows, 0)),
                                              "row_dx (one width per grid row)", "float64");
        }
        RasterSearchOptions o;
        o.neighbours = neighbours;
        o.max_seconds = max_seconds;
        const FrictionSummary whole{max_friction, passable_cells};
        const TickScale s = reach_lists ? raster_tiled_reach_scale(g, whole, max_start_offset, o)
                                        : raster_tiled_scale(g, whole, n_sources, max_start_offset, o);
        py::dict d;
        d["q"] = s.q;
        d["index_bits"] = s.index_bits;
        d["cut_ticks"] = s.cut_ticks;
        d["tick_seconds"] = s.tick_seconds;
        return d;
      },
      py::arg("rows"), py::arg("cols"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"), py::arg("max_friction"),
      py::arg("passable_cells"), py::arg("n_sources"), py::arg("max_start_offset"), py::arg("neighbours"),
      py::arg("max_seconds"), py::arg("reach_lists") = false,
      "The whole grid's integer arithmetic (dict q, index_bits, cut_ticks, tick_seconds) shared by every tile "
      "(reach_lists: that of access_reach_lists' one-facility searches).");

  m.def(
      "_raster_tile_search",
      [](const py::array& window, double dx, double dy, const py::object& row_dx, const py::dict& scale_dict,
         int neighbours, double max_seconds, const py::array& sources, const py::array& source_index,
         const py::object& offsets, const py::array& seeds, py::array ticks, py::array nearest, int threads,
         const py::object& progress) {
        const TileSearchArgs a = tile_search_args(window, dx, dy, row_dx, scale_dict, neighbours, max_seconds, sources,
                                                  source_index, offsets, seeds, threads);
        std::int64_t* t = checked_buffer<std::int64_t>(ticks, a.cells, "ticks (one per window cell)", "int64");
        std::int32_t* nr = checked_buffer<std::int32_t>(nearest, a.cells, "nearest (one per window cell)", "int32");
        if (!ticks.writeable() || !nearest.writeable()) throw InputError("ticks and nearest must be writeable arrays");
        const RasterSearchStats st = run_interruptible(progress, [&](RunControl* c) {
          return raster_tile_search(a.g, a.scale, a.o, a.src, a.idx, a.n, a.seed, a.n_seeds, t, nr, c);
        });
        return stats_dict(st);
      },
      py::arg("window"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"), py::arg("scale"), py::arg("neighbours"),
      py::arg("max_seconds"), py::arg("sources"), py::arg("source_index"), py::arg("source_offsets"), py::arg("seeds"),
      py::arg("ticks"), py::arg("nearest"), py::arg("threads") = 1, py::arg("progress") = py::none(),
      "One tile's search over its window (tile + halo): lowers ticks (int64, -1 unreached) and nearest (int32)\n"
      "in place from the sources and the seed cells; GIL released. See careshed/raster_tiles.hpp.");

  m.def(
      "_raster_tile_search_packed",
      [](const py::array& window, double dx, double dy, const py::object& row_dx, const py::dict& scale_dict,
         int neighbours, double max_seconds, const py::array& sources, const py::array& source_index,
         const py::object& offsets, const py::array& seeds, py::array labels, int threads,
         const py::object& progress) {
        const TileSearchArgs a = tile_search_args(window, dx, dy, row_dx, scale_dict, neighbours, max_seconds, sources,
                                                  source_index, offsets, seeds, threads);
        std::uint64_t* lab = checked_buffer<std::uint64_t>(labels, a.cells, "labels (one per window cell)", "uint64");
        if (!labels.writeable()) throw InputError("labels must be a writeable array");
        const RasterSearchStats st = run_interruptible(progress, [&](RunControl* c) {
          return raster_tile_search_packed(a.g, a.scale, a.o, a.src, a.idx, a.n, a.seed, a.n_seeds, lab, c);
        });
        return stats_dict(st);
      },
      py::arg("window"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"), py::arg("scale"), py::arg("neighbours"),
      py::arg("max_seconds"), py::arg("sources"), py::arg("source_index"), py::arg("source_offsets"), py::arg("seeds"),
      py::arg("labels"), py::arg("threads") = 1, py::arg("progress") = py::none(),
      "_raster_tile_search on packed labels (uint64: ((ticks + 1) << index_bits) | nearest, or\n"
      "_tile_unreached_label()), lowered in place; GIL released. See careshed/raster_tiles.hpp.");
  m.def(
      "_tile_labels_to_outputs",
      [](const py::array& labels, const py::dict& scale_dict, float unreached_seconds) {
        if (labels.ndim() != 2 || !py::isinstance<py::array_t<std::uint64_t>>(labels) ||
            labels.strides(1) != static_cast<py::ssize_t>(sizeof(std::uint64_t)) ||
            labels.strides(0) % static_cast<py::ssize_t>(sizeof(std::uint64_t)) != 0 || labels.strides(0) < 0)
          throw InputError("labels must be a 2-D uint64 array whose rows are contiguous (a block of a window)");
        const TickScale sc = scale_of(scale_dict);
        const py::ssize_t rows = labels.shape(0), cols = labels.shape(1);
        py::array_t<float> seconds({rows, cols});
        py::array_t<std::int32_t> nearest({rows, cols});
        const auto* in = static_cast<const std::uint64_t*>(labels.data());
        const std::int64_t stride = rows > 1 ? labels.strides(0) / static_cast<py::ssize_t>(sizeof(std::uint64_t)) : cols;
        float* s = seconds.mutable_data();
        std::int32_t* n = nearest.mutable_data();
        {
          py::gil_scoped_release release;
          tile_labels_to_outputs(in, rows, cols, stride, sc, unreached_seconds, s, n);
        }
        return py::make_tuple(seconds, nearest);
      },
      py::arg("labels"), py::arg("scale"), py::arg("unreached_seconds"),
      "(seconds float32, nearest int32) of a 2-D block of packed tile labels (rows contiguous); unreached cells\n"
      "get unreached_seconds and -1. See careshed/raster_tiles.hpp.");
  m.def("_tile_unreached_label", &tile_unreached_label,
        "The packed label of an unreached cell (uint64); every reached packed label is smaller.");

  m.def(
      "_raster_travel_time_terrain",
      [](const py::array& friction, const py::array& elevation, const py::array& sources, double dx, double dy,
         const py::object& row_dx, int neighbours, double max_seconds, const py::object& offsets,
         const std::string& model, const py::tuple& rwalk, bool toward_sources, int threads,
         const py::object& progress, std::uint64_t max_memory_bytes) {
        const FrictionGrid g = grid_of(friction, dx, dy, row_dx);
        if (elevation.ndim() != 2 || elevation.shape(0) != g.rows || elevation.shape(1) != g.cols ||
            elevation.dtype().kind() != 'f' || elevation.itemsize() != 4 || !is_c_contiguous(elevation))
          throw InputError("elevation must be a C-contiguous float32 array of the friction's shape (" +
                           std::to_string(g.rows) + ", " + std::to_string(g.cols) + ")");
        TerrainModel t;
        t.elevation_m = static_cast<const float*>(elevation.data());
        if (model == "tobler")
          t.slope_model = SlopeModel::Tobler;
        else if (model == "rwalk")
          t.slope_model = SlopeModel::RWalk;
        else
          throw InputError("terrain model must be 'tobler' or 'rwalk', got '" + model + "'");
        if (rwalk.size() != 6) throw InputError("rwalk coefficients: expected (a, b, c, d, slope_factor, lambda)");
        t.rwalk.a = py::cast<double>(rwalk[0]);
        t.rwalk.b = py::cast<double>(rwalk[1]);
        t.rwalk.c = py::cast<double>(rwalk[2]);
        t.rwalk.d = py::cast<double>(rwalk[3]);
        t.rwalk.slope_factor = py::cast<double>(rwalk[4]);
        t.rwalk.lambda = py::cast<double>(rwalk[5]);
        t.direction = toward_sources ? TravelDirection::TowardSources : TravelDirection::FromSources;
        std::size_t n = 0;
        const std::int64_t* src = sources_of(sources, &n);
        const RasterSearchOptions o = options_of(neighbours, max_seconds, offsets, n, threads);
        check_search_memory(MemoryAnalysis::travel_time, g, n, o, 1, max_memory_bytes);
        py::array_t<std::int32_t> buf =
            label_buffer({static_cast<py::ssize_t>(g.rows), static_cast<py::ssize_t>(g.cols), py::ssize_t{2}});
        auto* out = reinterpret_cast<CellLabel*>(buf.mutable_data());
        const RasterSearchStats st = run_interruptible(
            progress, [&](RunControl* c) { return raster_travel_time_terrain(g, t, src, n, o, out, c); });
        return py::make_tuple(buf, stats_dict(st));
      },
      py::arg("friction"), py::arg("elevation"), py::arg("sources"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"),
      py::arg("neighbours"), py::arg("max_seconds"), py::arg("source_offsets"), py::arg("model") = "tobler",
      py::arg("rwalk") = py::make_tuple(0.72, 6.0, 1.9998, -1.9998, -0.2125, 1.0), py::arg("toward_sources") = true,
      py::arg("threads") = 0, py::arg("progress") = py::none(), py::arg("max_memory_bytes") = 0,
      "Nearest-source search with direction-dependent terrain costs (careshed/terrain.hpp); returns ((rows, cols,\n"
      "2) int32 buffer, stats) like _raster_travel_time. Use careshed.arrays.travel_time_terrain.");

  m.def(
      "_raster_k_nearest",
      [](const py::array& friction, const py::array& sources, int k, double dx, double dy, const py::object& row_dx,
         int neighbours, double max_seconds, const py::object& offsets, const py::object& progress,
         std::uint64_t max_memory_bytes) {
        const FrictionGrid g = grid_of(friction, dx, dy, row_dx);
        std::size_t n = 0;
        const std::int64_t* src = sources_of(sources, &n);
        const RasterSearchOptions o = options_of(neighbours, max_seconds, offsets, n, 0);
        if (k < 1 || k > 64) throw InputError("k must be between 1 and 64, got " + std::to_string(k));
        check_search_memory(MemoryAnalysis::k_nearest, g, n, o, k, max_memory_bytes);
        py::array_t<std::int32_t> buf = label_buffer({static_cast<py::ssize_t>(g.rows), static_cast<py::ssize_t>(g.cols),
                                                      static_cast<py::ssize_t>(k), py::ssize_t{2}});
        auto* out = reinterpret_cast<CellLabel*>(buf.mutable_data());
        const RasterSearchStats st =
            run_interruptible(progress, [&](RunControl* c) { return raster_k_nearest(g, src, n, k, o, out, c); });
        return py::make_tuple(buf, stats_dict(st));
      },
      py::arg("friction"), py::arg("sources"), py::arg("k"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"),
      py::arg("neighbours"), py::arg("max_seconds"), py::arg("source_offsets"), py::arg("progress") = py::none(),
      py::arg("max_memory_bytes") = 0,
      "k nearest sources; returns ((rows, cols, k, 2) int32 buffer, stats). Use careshed.raster_k_nearest.");

  m.def(
      "_raster_reach_lists",
      [](const py::array& friction, const py::array& sources, double dx, double dy, const py::object& row_dx,
         int neighbours, double max_seconds, const py::object& offsets, const py::object& progress,
         std::uint64_t max_memory_bytes) {
        const FrictionGrid g = grid_of(friction, dx, dy, row_dx);
        std::size_t n = 0;
        const std::int64_t* src = sources_of(sources, &n);
        const RasterSearchOptions o = options_of(neighbours, max_seconds, offsets, n, 0);
        check_search_memory(MemoryAnalysis::reach_lists, g, n, o, 1, max_memory_bytes);
        RasterSearchStats st;
        ReachLists rl =
            run_interruptible(progress, [&](RunControl* c) { return raster_reach_lists(g, src, n, o, &st, c); });
        return py::make_tuple(to_numpy(std::move(rl.offsets)), to_numpy(std::move(rl.cells)), to_numpy(std::move(rl.seconds)),
                              stats_dict(st));
      },
      py::arg("friction"), py::arg("sources"), py::arg("dx"), py::arg("dy"), py::arg("row_dx"),
      py::arg("neighbours"), py::arg("max_seconds"), py::arg("source_offsets"), py::arg("progress") = py::none(),
      py::arg("max_memory_bytes") = 0,
      "Per-source bounded searches as CSR lists (offsets, cells, seconds, stats). Use careshed.raster_reach_lists.");
}

}  // namespace careshed::bindings
