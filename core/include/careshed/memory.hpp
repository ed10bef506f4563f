// careshed/memory.hpp — how much memory a run will need, how much the machine can give, and refusing a run
// that would not fit before anything big is allocated.
//
// Why: a planner who asks for 1 m cells over a province (3e10 cells) should get "this needs 240 GB, 12 GB are
// available: use a larger cell size, a shorter cut-off or tiles" in a second, not a crash (std::bad_alloc) or
// the kernel's OOM killer after minutes.
//
// The estimate (estimate_memory) is a model of careshed's own allocations for one analysis, from the grid size,
// the number of facilities, the cut-off and the options; each term is listed (MemoryEstimate::items) so an error
// can say what dominates. The per-cell constants come from the code (8-byte labels, float64 grids, 4-byte cell
// ids) and from measurements (the search queues, ~2.5 bytes per cell without a cut-off; see the tests in
// tests/python/test_memory_estimate.py, which compare the estimate with the peak RSS of real runs: the searches
// within 25 %; friction, coverage, catchments, access and zonal never more than 10 % under and never more than
// 2x over; docs/errors.md states the accuracy).
// Reach-based analyses (reach lists, access, capacity coverage) hold one 8-byte (cell, seconds) pair per cell
// reached from each facility. How many cells that is depends on the friction: give reach_cells_per_facility if
// known, else typical_seconds_per_cell (mean friction × cell size) so the reach is estimated as the cells within
// max_seconds / typical_seconds_per_cell cells of the facility (a disc, clipped to the grid); with neither, every
// cell is assumed reachable (an upper bound, which may refuse runs that would fit: say so in the message).
//
// Available memory (available_memory): the smallest of /proc/meminfo MemAvailable (what can be allocated
// without swapping), the cgroup's limit minus its usage (cgroup v2 memory.max - memory.current, or v1
// memory.limit_in_bytes - memory.usage_in_bytes, when a limit is set: containers, systemd slices, batch
// schedulers) and the address-space limit (RLIMIT_AS, `ulimit -v`) minus the current size. Off Linux, or when
// none is readable, "unknown" (bytes = 0) and only a caller's limit is enforced.
//
// Units: bytes (std::uint64_t), seconds, cells. Thread-safety: every function is re-entrant and reads only its
// arguments and the files named above; safe from any thread. Errors: estimate_memory throws InputError for
// impossible requests (negative sizes, k outside 1..64); check_memory throws MemoryLimitError (error.hpp) when
// the estimate exceeds the available memory or the caller's limit; nothing here allocates more than a few
// strings.
//
// Binding (careshed._core, for the Python layer and the CLI's --max-memory):
//   _core.estimate_memory(analysis, rows, cols, facilities=0, max_seconds=inf, k=1, threads=0, zones=0,
//                         friction_extra_grids=1, reach_cells_per_facility=nan, typical_seconds_per_cell=nan,
//                         count_inputs=True) -> {"peak_bytes": int, "items": [(what, bytes), ...], "text": str}
//   _core.available_memory() -> {"bytes": int (0 = unknown), "source": str}
//   _core.check_memory(<same keywords as estimate_memory>, max_memory_bytes=0, what="") -> the estimate dict, or
//       raises careshed.errors.MemoryLimitError (a MemoryError) with the estimate, the limit and what to change.
//   The long-running searches (_raster_travel_time, _raster_k_nearest, _raster_reach_lists) and
//   build_friction_surface check before allocating their outputs (against the available memory, and against
//   max_memory_bytes when given: a keyword argument, 0 = no limit of the caller's).
//   analysis names: "friction", "travel_time", "k_nearest", "reach_lists", "coverage", "catchments", "access",
//   "zonal" (MemoryAnalysis below). Any std::bad_alloc that still escapes becomes MemoryLimitError too, with a
//   message that says what to change (bindings/errors.cpp).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace careshed {

/// The analyses whose memory can be estimated. Each counts careshed's own arrays for that step; the
/// composite ones (coverage, catchments, access) count the grids their pipeline holds at its peak.
enum class MemoryAnalysis {
  friction,     ///< build_friction_surface: the float64 grid + friction_extra_grids working grids
  travel_time,  ///< raster_travel_time: one 8-byte label per cell (= seconds + nearest) + the search queues
  k_nearest,    ///< raster_k_nearest: k labels per cell + queues
  reach_lists,  ///< raster_reach_lists: a 4-byte scratch grid per thread + 8 bytes per (facility, cell) pair
  coverage,     ///< travel time + population (float64) + zone ids (int32) + contiguous copies of seconds and
                ///< nearest (8 B/cell) + per-thread zone histograms (capped; the cap itself without a cut-off)
  catchments,   ///< coverage's grids + per-facility histograms (capped) + an int32 label grid for polygons
  access,       ///< reach lists (8 B/pair) + the search scratch (or the lists' copy) + a float64 score grid
  zonal,        ///< zone ids (int32) + a float64 value grid + boundary split entries + per-block sums
};

/// "friction", "travel_time", ... → the analysis; InputError listing the names otherwise.
MemoryAnalysis memory_analysis_from_string(const std::string& name);
const char* memory_analysis_name(MemoryAnalysis analysis);

/// What a run will do, as far as memory is concerned.
struct MemoryRequest {
  MemoryAnalysis analysis = MemoryAnalysis::travel_time;
  std::int64_t rows = 0, cols = 0;     ///< analysis grid, cells
  std::int64_t facilities = 0;         ///< sources / facilities / stations
  double max_seconds = std::numeric_limits<double>::infinity();  ///< cut-off (inf = none)
  int k = 1;                           ///< k_nearest: labels per cell (1..64)
  int threads = 0;                     ///< 0 = OpenMP's maximum (what the solvers use)
  std::int64_t zones = 0;              ///< zones of coverage / catchments / zonal
  /// friction: grid-sized float64 buffers alive at once besides the output (1 for a second raster layer,
  /// roads or a barrier; the number of cover-fraction rasters when those are given; 0 for one raster only).
  int friction_extra_grids = 1;
  /// Reach-based analyses: cells reached from one facility within max_seconds, when known (NaN = estimate it).
  double reach_cells_per_facility = std::numeric_limits<double>::quiet_NaN();
  /// Seconds to cross a typical cell (mean friction s/m × cell size m): estimates the reach when
  /// reach_cells_per_facility is not given (NaN = unknown: every cell counted as reachable).
  double typical_seconds_per_cell = std::numeric_limits<double>::quiet_NaN();
  /// Count the analysis's input grids (friction for the searches; travel time, population, zone ids for the
  /// composite analyses) — true for "before the run" (nothing read yet); false when they are already in memory
  /// (the binding's own checks, which run with the inputs in hand).
  bool count_inputs = true;
};

/// One term of an estimate.
struct MemoryItem {
  std::string what;     ///< e.g. "labels (seconds + nearest), 8 B x 16000000 cells"
  std::uint64_t bytes;
};

/// The estimated peak of careshed's allocations for a request, with its terms.
struct MemoryEstimate {
  std::uint64_t peak_bytes = 0;
  std::vector<MemoryItem> items;
  bool reach_is_upper_bound = false;  ///< no reach size or typical cell time given: every cell counted
  /// "1.23 GB: labels ... 128.0 MB; ..." — for messages.
  std::string describe() const;
};

/// The model above. Throws InputError for negative sizes or k outside 1..64. Pure arithmetic (no allocation
/// proportional to the request): safe for a 3e10-cell request.
MemoryEstimate estimate_memory(const MemoryRequest& request);

/// What the machine can give this process now.
struct AvailableMemory {
  std::uint64_t bytes = 0;  ///< 0 = unknown (not Linux, nothing readable)
  std::string source;       ///< which limit decided, e.g. "MemAvailable in /proc/meminfo"
};

/// Reads /proc/meminfo, the process's cgroup (v2 or v1) and RLIMIT_AS; see the file comment.
AvailableMemory available_memory();

/// Same, reading the files under `proc_root` (normally "/proc") and `cgroup_root` (normally "/sys/fs/cgroup")
/// and without RLIMIT_AS — for tests with fabricated files.
AvailableMemory available_memory_from(const std::string& proc_root, const std::string& cgroup_root);

/// Throws MemoryLimitError when estimate.peak_bytes exceeds max_memory_bytes (if > 0, the caller's limit) or the
/// available memory (if known). The message names `what` (e.g. "travel time on 173205 x 173205 cells"), the
/// estimate and its largest terms, the limit and where it comes from, and what to change: a larger cell size
/// (memory falls with its square), a shorter cut-off (reach-based analyses), fewer facilities or a smaller k,
/// or splitting the area into tiles. `available` is normally available_memory().
void check_memory(const MemoryEstimate& estimate, std::uint64_t max_memory_bytes, const AvailableMemory& available,
                  const std::string& what);

/// "1.5 GB", "320.0 MB", "12 KB", "17 B" (powers of 1024, as free(1) and the kernel count).
std::string format_bytes(std::uint64_t bytes);

}  // namespace careshed
