// careshed/raster_search.hpp — travel time over a friction grid (seconds per metre), GRASS r.cost rule.
//
// Cost model (the one GRASS r.cost uses, so results can be checked against it):
//  * Moving between the centres of two neighbouring cells a, b costs  L(a,b) * (f_a + f_b) / 2  seconds,
//    L the centre-to-centre distance in metres, f the friction in s/m.
//  * 8 neighbours: the 4 rook moves and the 4 diagonals. 16 neighbours adds the 8 knight's moves
//    (2 rows + 1 column, or 1 row + 2 columns) and, exactly as r.cost -k does, a knight's move costs
//    L * (f_a + f_b + f_c + f_d) / 4 where c, d are the two cells the move passes between (for a move
//    (dr, dc) = (±2, ±1): cells (dr/2, 0) and (dr/2, dc); for (±1, ±2): (0, dc/2) and (dr, dc/2)). The move
//    is blocked if any of the four cells is impassable.
//  * Impassable: friction NaN or +inf. Nothing enters or leaves such a cell. Zero friction is allowed
//    (zero-cost steps). Negative friction is refused (InputError).
//  * Cell size: column spacing dx and row spacing dy in metres. For lon/lat grids, give a per-row dx
//    (row_dx_m[r] = width of the cells of row r in metres); dy stays constant. A step between rows r1 and
//    r2 spanning dc columns and dr rows then has length hypot(dc * (dx[r1] + dx[r2]) / 2, dr * dy).
//  * Sources: (row, col) cells with an optional start offset in seconds (dispatch + turnout), added at
//    the source. A source on an impassable cell is inert: it reaches nothing, not even its own cell
//    (that cell stays unreachable). The Python wrapper warns about such sources.
//  * Cutoff max_seconds is inclusive: a cell is reached exactly when the seconds the same search returns
//    for it without the cutoff (the float32 output, compared exactly with max_seconds as a double) are
//    <= max_seconds; it then has those seconds and that nearest source. Beyond it the cell is
//    unreachable (+inf seconds, nearest -1). ("The same search": the same tick; see Arithmetic.) So a
//    7.2 s cell is reached with max_seconds = 7.2 (float32 7.2 is 7.19999981), while a 0.1 s cell is not
//    with max_seconds = 0.1 (float32 0.1 is 0.100000001). NumPy 1.x compares a float32 array with a
//    Python float in float32; compare `seconds.astype(float64) <= c` to see what the cutoff sees.
//  * Ties: among sources reaching a cell in the same time, the lowest source index wins, exactly and
//    independently of processing order or threads (duplicated sources: the lowest index wins).
//
// Arithmetic (why results are exact-deterministic): times are accumulated as integers of a tick of
// 2^-q seconds (q chosen per call from the largest time that can occur; typically ticks of 1e-7 s or
// finer, reported in RasterSearchStats::tick_seconds). Each step cost is rounded once to ticks,
//   ticks(a,b) = floor((f_a + f_b) * (0.5 * L * 2^q) + 0.5)            (rook/diagonal, in double)
//   ticks(a,b) = floor(((f_a + f_b) + (f_c + f_d)) * (0.25 * L * 2^q) + 0.5)   (knight's moves)
// and sums are then exact, so "(time, source index)" order is preserved by adding a step: the search is
// an exact shortest-path computation on an integer-weighted graph and any processing order (bucket
// queue, threads) yields the same labels. Output seconds = ticks * 2^-q rounded to float32.
//
// Ownership: every function reads caller-owned input buffers (not retained after return) and writes
// into caller-owned output buffers; nothing is allocated for the caller except ReachLists (returned by
// value). Thread-safety: functions are re-entrant; concurrent calls on distinct outputs are safe.
// raster_reach_lists and the setup/finish passes use OpenMP threads internally.
// Errors: careshed::InputError for bad arguments (names the argument and the fix).
// Cancellation and progress: each function takes an optional trailing RunControl (careshed/progress.hpp),
// polled once per round of the bucket queue by every thread (per source for the reach lists); on
// request_cancel() it throws careshed::Cancelled and `out` holds partial labels (discard them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// Friction grid: row-major, row 0 first, `rows` x `cols` cells in seconds per metre. Exactly one of
/// friction_f32 / friction_f64 is non-null. The buffer is read only and not retained.
struct FrictionGrid {
  const float* friction_f32 = nullptr;
  const double* friction_f64 = nullptr;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  double dx_m = 0.0;                   ///< column spacing (cell width) in metres, > 0
  double dy_m = 0.0;                   ///< row spacing (cell height) in metres, > 0
  const double* row_dx_m = nullptr;    ///< optional per-row cell width (length rows) overriding dx_m
};

/// How raster_travel_time's threads react to a busy machine (see RasterSearchOptions::thread_policy).
enum class ThreadPolicy {
  /// Default. The threads work the search together while that pays; when the measured useful CPU
  /// time of all threads per wall second falls clearly (below 3/4) under what one thread achieves
  /// (threads descheduled by other processes, or rounds too small to share, make the threads wait
  /// for each other at every round), one thread carries on alone for as long as the search has run
  /// so far (20 ms to 1 s) before the threads try again. Results are identical.
  adaptive,
  /// Every thread to the end, whatever the machine does (the behaviour before adaptive; benchmarks).
  fixed,
  /// Hands the search from all threads to one thread and back at every round. For tests of the
  /// hand-over (it is slower); results are identical.
  alternate,
};

/// Search options shared by the three searches.
struct RasterSearchOptions {
  int neighbours = 8;                                             ///< 8 or 16
  double max_seconds = std::numeric_limits<double>::infinity();   ///< inclusive cutoff, >= 0
  const double* source_offsets_s = nullptr;  ///< optional, one per source, seconds >= 0, finite
  /// Threads for raster_travel_time: 0 = automatic (OpenMP's maximum, up to 8, on grids of 2^20
  /// cells or more; one thread below), n = exactly n. Results do not depend on it.
  int threads = 0;
  /// raster_travel_time with more than one thread: how the threads adapt to a busy machine.
  ThreadPolicy thread_policy = ThreadPolicy::adaptive;
};

/// One output cell of raster_travel_time / raster_k_nearest: 8 bytes, nearest first. Arrays of these
/// are what numpy sees as two strided (H, W) views: int32 at byte 0 and float32 at byte 4.
struct CellLabel {
  std::int32_t nearest;  ///< source index, -1 if unreachable
  float seconds;         ///< travel time in seconds, +inf if unreachable
};
static_assert(sizeof(CellLabel) == 8, "CellLabel must be 8 bytes");

/// What a search did (for benchmarks and for reproducing the arithmetic in tests).
struct RasterSearchStats {
  double tick_seconds = 0.0;      ///< 2^-q: the time quantum of the integer arithmetic
  std::uint64_t cells_settled = 0;  ///< cells taken from the queue and expanded (incl. re-expansions)
  std::uint64_t cells_reached = 0;  ///< cells with a finite time
  /// raster_travel_time on several threads: how many times the threads handed the search to one
  /// thread (ThreadPolicy::adaptive on a busy machine, or alternate); 0 for one thread or fixed.
  std::uint64_t handovers_to_one_thread = 0;
};

/// Multi-source nearest search: for every cell, the time from the nearest source and its index.
/// sources_rc: n_sources (row, col) pairs (2 * n_sources int64). out: rows * cols CellLabels, filled.
/// One pass over the grid from all sources together: a bucket queue on exact integer ticks whose
/// buckets are worked 64 x 64 tile by tile (cache-sized), on options.threads threads (automatic: all
/// OpenMP threads on grids of 2^20 cells or more). Memory: `out` itself is the label array (8 B/cell),
/// plus queues proportional to the wave front (about 1 B/cell measured on a 36 M-cell grid). With a
/// finite max_seconds the search and the output conversion touch only reached cells; the friction
/// validation scan and the output fill are the only grid-sized passes.
/// Throws InputError: bad friction (negative), bad cell size, bad neighbours, source out of range,
/// bad offsets or max_seconds (NaN/negative).
RasterSearchStats raster_travel_time(const FrictionGrid& grid, const std::int64_t* sources_rc,
                                     std::size_t n_sources, const RasterSearchOptions& options,
                                     CellLabel* out, RunControl* control = nullptr);

/// k nearest distinct sources per cell, ordered by (time, index). out: rows * cols * k CellLabels
/// (cell-major: out[cell * k + j] is the j-th nearest); unfilled slots are {-1, +inf}. 1 <= k <= 64.
/// The times are exact (the k smallest of the per-source times); each source's label is carried on
/// only while it is among the k best at a cell (exact with integer arithmetic).
RasterSearchStats raster_k_nearest(const FrictionGrid& grid, const std::int64_t* sources_rc,
                                   std::size_t n_sources, int k, const RasterSearchOptions& options,
                                   CellLabel* out, RunControl* control = nullptr);

/// Per-source bounded searches, as sparse lists in CSR layout: the cells of source s are
/// cells[offsets[s] .. offsets[s+1]) (flat ids row * cols + col, ascending) with their seconds.
/// Each source is searched alone (its own offset added; no competition between sources).
struct ReachLists {
  std::vector<std::int64_t> offsets;   ///< n_sources + 1
  std::vector<std::uint32_t> cells;    ///< flat cell ids (grids up to 2^32 - 1 cells)
  std::vector<float> seconds;          ///< time from the source, <= max_seconds
};

/// options.max_seconds must be finite (a bounded search). Parallel across sources (OpenMP), each
/// thread reusing one grid-sized scratch label array that is reset through its touched list, so the
/// cost per source grows with the cells it reaches, not with the grid.
ReachLists raster_reach_lists(const FrictionGrid& grid, const std::int64_t* sources_rc,
                              std::size_t n_sources, const RasterSearchOptions& options,
                              RasterSearchStats* stats = nullptr, RunControl* control = nullptr);

}  // namespace careshed
