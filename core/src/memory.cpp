// memory.cpp — the memory model of careshed's analyses, the machine's available memory, and the refusal.
// The contract (and the binding's API) is in careshed/memory.hpp.
#include "careshed/memory.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "careshed/error.hpp"

#if defined(__linux__)
#include <sys/resource.h>
#endif

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {
namespace {

// Measured peaks (VmHWM) of the nearest search without a cut-off, beyond its 8-byte labels: bucket queues,
// tiles and in-tile sub-buckets take 0.07 B/cell from one source on uniform friction, 0.75 B/cell from 100
// sources, 2.2 B/cell on the road-lattice benchmark grid (BENCHMARKS.md, 36 M cells). 1.5 keeps all of them
// within 20 % of the total (tests/python/test_memory_estimate.py).
constexpr double kQueueBytesPerCell = 1.5;
// k nearest: measured 0.35 B per label slot (k = 3, 4 M cells); rounded up.
constexpr double kKQueueBytesPerLabel = 0.5;
// Cells within r steps: between the 8-neighbour ball (a regular octagon, 2.83 r^2) and the disc (3.14 r^2).
constexpr double kReachAreaPerRadius2 = 3.0;
constexpr double kTileBytes = 24.0;  // one std::vector<Entry> header per 64 x 64 tile
constexpr double kTileCells = 4096.0;
constexpr double kCoverageHistogramCap = 256.0 * 1024 * 1024;  // CoverageOptions::max_histogram_bytes
constexpr double kCatchmentHistogramCap = 64.0 * 1024 * 1024;  // CatchmentOptions::max_histogram_bytes

struct Names {
  MemoryAnalysis a;
  const char* name;
};
constexpr Names kNames[] = {{MemoryAnalysis::friction, "friction"},     {MemoryAnalysis::travel_time, "travel_time"},
                            {MemoryAnalysis::k_nearest, "k_nearest"},   {MemoryAnalysis::reach_lists, "reach_lists"},
                            {MemoryAnalysis::coverage, "coverage"},     {MemoryAnalysis::catchments, "catchments"},
                            {MemoryAnalysis::access, "access"},         {MemoryAnalysis::zonal, "zonal"}};

std::string cells_text(double n) {
  std::ostringstream s;
  s.precision(3);
  if (n >= 1e9)
    s << n / 1e9 << " G";
  else if (n >= 1e6)
    s << n / 1e6 << " M";
  else
    s << static_cast<std::uint64_t>(n) << " ";
  return s.str();
}

class Builder {
 public:
  explicit Builder(MemoryEstimate& e) : e_(e) {}
  void add(const std::string& what, double bytes) {
    if (!(bytes > 0.0)) return;
    // Saturate: a request beyond 2^64 bytes is refused all the same.
    const double b = std::min(bytes, 1.8e19);
    e_.items.push_back({what, static_cast<std::uint64_t>(std::ceil(b))});
    sum_ += b;
  }
  void finish() { e_.peak_bytes = static_cast<std::uint64_t>(std::ceil(std::min(sum_, 1.8e19))); }

 private:
  MemoryEstimate& e_;
  double sum_ = 0.0;
};

int resolved_threads(int threads) {
  if (threads > 0) return threads;
#ifdef CARESHED_HAVE_OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return 1;
#endif
}

// Cells one facility reaches within the cut-off (see the header), and whether it is only the upper bound.
double reach_cells(const MemoryRequest& r, double n_cells, bool* upper_bound) {
  *upper_bound = false;
  if (r.reach_cells_per_facility >= 0.0) return std::min(r.reach_cells_per_facility, n_cells);
  if (r.max_seconds < std::numeric_limits<double>::infinity() && r.typical_seconds_per_cell > 0.0) {
    const double radius = r.max_seconds / r.typical_seconds_per_cell;
    // Disc of that radius, at least the facility's own cell; at most the grid and the bounding square.
    const double side_r = std::min(2.0 * radius + 1.0, static_cast<double>(r.rows));
    const double side_c = std::min(2.0 * radius + 1.0, static_cast<double>(r.cols));
    return std::max(1.0, std::min({kReachAreaPerRadius2 * radius * radius + 1.0, side_r * side_c, n_cells}));
  }
  *upper_bound = true;
  return n_cells;
}

std::string per_cell(double bytes_per_cell, double n_cells) {
  std::ostringstream s;
  s << bytes_per_cell << " B x " << cells_text(n_cells) << "cells";
  return s.str();
}

// The nearest search's own arrays (labels = output, queues).
void add_travel_time(Builder& b, const MemoryRequest& r, double n, double reached) {
  b.add("labels: seconds + nearest, " + per_cell(8, n), 8.0 * n);
  if (r.max_seconds < std::numeric_limits<double>::infinity()) {
    // Only reached cells enter the queues and the touched lists (4 B each); past n/16 touched cells the
    // search stops listing them (raster_search.cpp), so the term never exceeds the no-cut-off one by much.
    const double cells = std::min(reached, n);
    b.add("search queues and reached-cell lists, " + per_cell(kQueueBytesPerCell + 4.0, cells) + " reached",
          std::min((kQueueBytesPerCell + 4.0) * cells, kQueueBytesPerCell * n + 4.0 * n / 16.0));
  } else {
    b.add("search queues, " + per_cell(kQueueBytesPerCell, n), kQueueBytesPerCell * n);
  }
}

// raster_reach_lists: while searching, per-thread scratch (a 4-byte label grid each) + the per-facility
// lists (8 B per pair); then the scratch is freed and the lists are copied into the CSR arrays (another
// 8 B per pair). The peak is the larger of the two phases.
void add_reach_lists(Builder& b, const MemoryRequest& r, double n, double reach, int threads) {
  const double f = static_cast<double>(r.facilities);
  const int t = (f > 1.0 && n * f > 1e6) ? static_cast<int>(std::min<double>(threads, f)) : 1;
  const double scratch = t * (4.0 * n + kTileBytes * n / kTileCells + 8.0 * reach);
  const double pairs = f * reach;
  b.add("reach lists: 8 B x " + cells_text(pairs) + "(facility, cell) pairs", 8.0 * pairs);
  if (scratch >= 8.0 * pairs)
    b.add("search scratch, 4 B x " + cells_text(n) + "cells x " + std::to_string(t) + " threads", scratch);
  else
    b.add("the lists' copy into CSR arrays, 8 B x " + cells_text(pairs) + "pairs", 8.0 * pairs);
  b.add("reach list offsets", 8.0 * (f + 1.0) * 2.0);
}

}  // namespace

MemoryAnalysis memory_analysis_from_string(const std::string& name) {
  for (const Names& n : kNames)
    if (name == n.name) return n.a;
  std::string list;
  for (const Names& n : kNames) list += std::string(list.empty() ? "" : ", ") + n.name;
  throw InputError("memory estimate: unknown analysis '" + name + "'; use one of " + list);
}

const char* memory_analysis_name(MemoryAnalysis analysis) {
  for (const Names& n : kNames)
    if (analysis == n.a) return n.name;
  return "?";
}

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB", "PB", "EB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 6) v /= 1024.0, ++u;
  char buf[32];
  if (u == 0)
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::string MemoryEstimate::describe() const {
  std::string s = format_bytes(peak_bytes);
  std::vector<MemoryItem> sorted = items;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const MemoryItem& a, const MemoryItem& b) { return a.bytes > b.bytes; });
  for (std::size_t i = 0; i < sorted.size(); ++i)
    s += std::string(i == 0 ? " (" : "; ") + sorted[i].what + ": " + format_bytes(sorted[i].bytes);
  if (!sorted.empty()) s += ")";
  return s;
}

MemoryEstimate estimate_memory(const MemoryRequest& r) {
  if (r.rows < 0 || r.cols < 0 || r.facilities < 0 || r.zones < 0 || r.friction_extra_grids < 0)
    throw InputError("memory estimate: rows, cols, facilities, zones and friction_extra_grids must be >= 0");
  if (r.analysis == MemoryAnalysis::k_nearest && (r.k < 1 || r.k > 64))
    throw InputError("memory estimate: k must be between 1 and 64, got " + std::to_string(r.k));
  if (std::isnan(r.max_seconds) || r.max_seconds < 0.0)
    throw InputError("memory estimate: max_seconds must be >= 0 (inf for no cut-off)");
  MemoryEstimate e;
  Builder b(e);
  const double n = static_cast<double>(r.rows) * static_cast<double>(r.cols);
  const double f = static_cast<double>(r.facilities);
  const int threads = resolved_threads(r.threads);
  bool upper = false;
  const double reach = reach_cells(r, n, &upper);
  const bool cut = r.max_seconds < std::numeric_limits<double>::infinity();
  auto input_grid = [&](const char* what, double bytes_per_cell) {
    if (r.count_inputs) b.add(std::string("input ") + what + ", " + per_cell(bytes_per_cell, n), bytes_per_cell * n);
  };
  switch (r.analysis) {
    case MemoryAnalysis::friction:
      b.add("friction grid (float64), " + per_cell(8, n), 8.0 * n);
      b.add(std::to_string(r.friction_extra_grids) + " working grid(s) of layers (float64), " + per_cell(8, n),
            8.0 * n * r.friction_extra_grids);
      break;
    case MemoryAnalysis::travel_time:
      input_grid("friction (float64)", 8);
      add_travel_time(b, r, n, cut ? f * reach : n);
      e.reach_is_upper_bound = cut && upper;
      break;
    case MemoryAnalysis::k_nearest:
      input_grid("friction (float64)", 8);
      b.add("labels: " + std::to_string(r.k) + " x (seconds + nearest), " + per_cell(8.0 * r.k, n), 8.0 * r.k * n);
      b.add("search queue", kKQueueBytesPerLabel * r.k * n);
      break;
    case MemoryAnalysis::reach_lists:
      input_grid("friction (float64)", 8);
      add_reach_lists(b, r, n, reach, threads);
      e.reach_is_upper_bound = upper;
      break;
    case MemoryAnalysis::coverage:
    case MemoryAnalysis::catchments: {
      input_grid("friction (float64)", 8);
      input_grid("population (float64)", 8);
      input_grid("zone ids (int32)", 4);
      add_travel_time(b, r, n, cut ? f * reach : n);
      e.reach_is_upper_bound = cut && upper;
      // The search's output is one (n, 2) array; the pass reads seconds and nearest as two contiguous
      // arrays, so the Python layer copies them (measured: tests/python/test_memory_estimate.py).
      b.add("contiguous copies of seconds (float32) and nearest (int32) for the pass, " + per_cell(8, n), 8.0 * n);
      // 1-second bins up to the cut-off (or the histogram cap without one), per thread and zone/facility, as
      // 16-byte fixed-point sums (coverage.cpp).
      const bool zones = r.analysis == MemoryAnalysis::coverage;
      const double groups = zones ? static_cast<double>(std::max<std::int64_t>(r.zones, 1)) : std::max(f, 1.0);
      const double cap = zones ? kCoverageHistogramCap : kCatchmentHistogramCap;
      const double hist = cut ? threads * groups * (r.max_seconds + 2.0) * 16.0 : cap;
      b.add(zones ? "per-zone time histograms (capped)" : "per-facility time histograms (capped)", std::min(hist, cap));
      if (!zones) b.add("catchment label grid for polygons (int32), " + per_cell(4, n), 4.0 * n);
      break;
    }
    case MemoryAnalysis::access:
      input_grid("friction (float64)", 8);
      input_grid("population (float64)", 8);
      // The searches (reach lists + per-thread scratch, or the lists' copy into CSR arrays), then the model on
      // the lists: one float64 score per cell (the grid model reads the supply-major lists in place, no sorted
      // copy). Summed, although the scratch is freed first: measured peaks lie between the larger phase and the
      // sum (tests/python/test_memory_estimate.py), and the sum is never under them.
      add_reach_lists(b, r, n, reach, threads);
      b.add("access score grid (float64), " + per_cell(8, n), 8.0 * n);
      e.reach_is_upper_bound = upper;
      break;
    case MemoryAnalysis::zonal:
      input_grid("values (float64)", 8);
      b.add("zone ids (int32), " + per_cell(4, n), 4.0 * n);
      {
        // Cells cut by zone boundaries (area-fraction rule): each zone of ~n/zones cells is taken as a square
        // with a boundary twice as long as the square's (real boundaries wiggle), so 8 sqrt(n x zones) split
        // entries, each held twice while they are handed over (24 B in the core + 20 B in the arrays).
        const double zones_d = static_cast<double>(std::max<std::int64_t>(r.zones, 1));
        const double splits = std::min(8.0 * std::sqrt(n * zones_d), n * zones_d);
        b.add("split cells on zone boundaries (area fractions), 44 B x " + cells_text(splits) + "entries",
              44.0 * splits);
      }
      b.add("zone sums per block", 8.0 * 64.0 * static_cast<double>(std::max<std::int64_t>(r.zones, 1)));
      break;
  }
  b.finish();
  return e;
}

// ---- available memory ---------------------------------------------------------------------------------

namespace {

bool read_first_line(const std::string& path, std::string& line) {
  std::ifstream in(path);
  return in && std::getline(in, line);
}

// A byte count file of the cgroup interface ("max" or absurdly large = no limit).
bool read_limit(const std::string& path, double& value) {
  std::string line;
  if (!read_first_line(path, line)) return false;
  if (line.rfind("max", 0) == 0) return false;
  char* end = nullptr;
  const double v = std::strtod(line.c_str(), &end);
  if (end == line.c_str() || !(v >= 0.0)) return false;
  if (v >= 4.0e18) return false;  // v1 "unlimited" is 2^63 rounded down to a page
  value = v;
  return true;
}

struct Candidate {
  double bytes = -1.0;
  std::string source;
  void offer(double b, const std::string& s) {
    if (b < 0.0) b = 0.0;
    if (bytes < 0.0 || b < bytes) bytes = b, source = s;
  }
};

// cgroup v2: the limit of this cgroup and of each ancestor (memory.max), minus that level's usage.
void cgroup_v2(const std::string& root, std::string path, Candidate& best) {
  for (;;) {
    const std::string dir = root + path;
    double limit = 0.0, used = 0.0;
    if (read_limit(dir + "/memory.max", limit)) {
      if (!read_limit(dir + "/memory.current", used)) used = 0.0;
      best.offer(limit - used, "cgroup v2 memory.max - memory.current of " + (path.empty() ? "/" : path));
    }
    if (path.empty() || path == "/") break;
    const std::size_t slash = path.find_last_of('/');
    path = slash == std::string::npos || slash == 0 ? std::string() : path.substr(0, slash);
  }
}

void cgroup_v1(const std::string& root, const std::string& path, Candidate& best) {
  // Inside a container the cgroup path printed by /proc/self/cgroup may not exist under the mount: try both.
  for (const std::string& dir : {root + "/memory" + path, root + "/memory"}) {
    double limit = 0.0, used = 0.0;
    if (read_limit(dir + "/memory.limit_in_bytes", limit)) {
      if (!read_limit(dir + "/memory.usage_in_bytes", used)) used = 0.0;
      best.offer(limit - used, "cgroup v1 memory.limit_in_bytes - memory.usage_in_bytes of " + dir);
      return;
    }
  }
}

}  // namespace

AvailableMemory available_memory_from(const std::string& proc_root, const std::string& cgroup_root) {
  Candidate best;
  {
    std::ifstream in(proc_root + "/meminfo");
    std::string key;
    double kb = 0.0;
    std::string unit;
    while (in >> key >> kb) {
      std::getline(in, unit);
      if (key == "MemAvailable:") {
        best.offer(kb * 1024.0, "MemAvailable in " + proc_root + "/meminfo");
        break;
      }
    }
  }
  {
    std::ifstream in(proc_root + "/self/cgroup");
    std::string line;
    while (std::getline(in, line)) {
      // "0::/path" (v2) or "N:controllers:/path" (v1, the memory controller's line).
      const std::size_t a = line.find(':'), b2 = a == std::string::npos ? a : line.find(':', a + 1);
      if (b2 == std::string::npos) continue;
      const std::string controllers = line.substr(a + 1, b2 - a - 1), path = line.substr(b2 + 1);
      if (line.compare(0, a, "0") == 0 && controllers.empty())
        cgroup_v2(cgroup_root, path == "/" ? std::string() : path, best);
      else if ((',' + controllers + ',').find(",memory,") != std::string::npos)
        cgroup_v1(cgroup_root, path == "/" ? std::string() : path, best);
    }
  }
  AvailableMemory out;
  if (best.bytes >= 0.0) {
    out.bytes = static_cast<std::uint64_t>(best.bytes);
    out.source = best.source;
  } else {
    out.source = "unknown (no " + proc_root + "/meminfo or cgroup limit readable)";
  }
  return out;
}

AvailableMemory available_memory() {
  AvailableMemory a = available_memory_from("/proc", "/sys/fs/cgroup");
#if defined(__linux__)
  rlimit rl{};
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    double vm_size = 0.0;
    std::ifstream in("/proc/self/status");
    std::string key;
    while (in >> key) {
      if (key == "VmSize:") {
        in >> vm_size;
        vm_size *= 1024.0;
        break;
      }
      std::getline(in, key);
    }
    const double left = std::max(0.0, static_cast<double>(rl.rlim_cur) - vm_size);
    if (a.bytes == 0 && a.source.rfind("unknown", 0) == 0) a.source.clear();
    if (a.source.empty() || left < static_cast<double>(a.bytes)) {
      a.bytes = static_cast<std::uint64_t>(left);
      a.source = "the address-space limit (ulimit -v) minus this process's size";
    }
  }
#endif
  return a;
}

void check_memory(const MemoryEstimate& e, std::uint64_t max_memory_bytes, const AvailableMemory& available,
                  const std::string& what) {
  std::uint64_t limit = 0;
  std::string source;
  if (max_memory_bytes > 0) limit = max_memory_bytes, source = "the limit you set (max memory)";
  if (available.bytes > 0 && (limit == 0 || available.bytes < limit)) limit = available.bytes, source = available.source;
  if (limit == 0 || e.peak_bytes <= limit) return;
  std::ostringstream m;
  m << (what.empty() ? std::string("this run") : what) << " needs an estimated " << e.describe() << ", but only "
    << format_bytes(limit) << " " << (limit == max_memory_bytes ? "are allowed" : "are available") << " ("
    << source << "). Refused before allocating. To fit: use a larger cell size (memory falls with its square: "
    << "twice the cell size needs a quarter of it), a shorter cut-off or fewer facilities (reach-based analyses), "
    << "or split the area into tiles";
  if (e.reach_is_upper_bound)
    m << "; the reach of each facility was counted as the whole grid (no typical speed given), so this is an "
      << "upper bound";
  m << ".";
  throw MemoryLimitError(m.str());
}

}  // namespace careshed
