// careshed/raster_tiles.hpp — the nearest-source raster search (raster_search.hpp) one tile at a time,
// for grids too large for one machine: exactly the whole-grid answer, bit for bit.
//
// How a tiled search works (the driver is python/careshed/tiled/; tests/cpp/raster_tiles_test.cpp runs
// the same loop in-process):
//  1. Summarise the friction tile by tile (raster_friction_summary, merged with merge_summaries) and
//     derive the whole-grid integer arithmetic once (raster_tiled_scale). Every tile of the search uses
//     this one TickScale: it is exactly the tick, label packing and cutoff raster_travel_time chooses
//     for the whole grid, so every step costs the same integer number of ticks in every tile.
//  2. A tile is searched over its *window*: the tile plus a halo ring of tile_halo(neighbours) cells on
//     every side (1 for 8 neighbours, 2 for 16: a knight's move jumps two cells and averages the friction
//     of the two cells it passes between), clipped at the grid border. Corner cells of the ring are part
//     of it, so diagonal and knight's moves across tile corners are steps of the window like any other.
//     A step between two window cells uses the friction of the window cells it touches and the global
//     row widths, so it costs what it costs in the whole grid.
//  3. raster_tile_search keeps the window's labels (integer ticks + nearest source index) between calls.
//     The caller copies into the halo the labels the neighbouring tiles hold for those cells whenever
//     they are better (smaller (ticks, index)) than the window's own, and lists those cells as seeds; the
//     search propagates from the seeds and from the tile's sources. Labels only ever decrease.
//  4. Rounds repeat for the tiles whose halo improved until no tile's labels change. The fixed point is
//     the whole-grid result: every label is the cost of a real path, and every cell of an optimal path
//     gets its optimal (time, lowest index) label once its predecessor has (the predecessor is a window
//     cell of the cell's tile), so the per-cell minimum over all paths of (ticks, source index) — the
//     whole-grid engine's unique fixpoint — is reached, with the same tie rule.
//
// Units: ticks of 2^-q seconds (TickScale::tick_seconds); seconds = float32(ticks * 2^-q) as in
// raster_travel_time. Unreached: ticks -1, nearest -1.
// Ownership: all buffers are the caller's, read or written during the call only.
// Thread-safety: re-entrant; concurrent calls on distinct label buffers are safe (the Python driver runs
// many tiles at once on Dask workers).
// Errors: careshed::InputError for bad arguments (names the argument and the fix).
// Cancellation and progress: as raster_travel_time (careshed/progress.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "careshed/raster_search.hpp"

namespace careshed {

class RunControl;

/// What the whole-grid arithmetic depends on, per piece of friction (mergeable across tiles).
struct FrictionSummary {
  double max_friction = 0.0;        ///< largest finite friction (s/m) of the piece, 0 if none
  std::int64_t passable_cells = 0;  ///< cells with finite friction >= 0
};

/// Summary of one piece of the friction grid (only friction_f32/f64, rows and cols are read).
/// Throws InputError on negative friction, naming the cell in the piece's own (row, col).
FrictionSummary raster_friction_summary(const FrictionGrid& piece);

/// Summary of the union of two disjoint pieces.
FrictionSummary merge_summaries(const FrictionSummary& a, const FrictionSummary& b);

/// The integer arithmetic one search shares across all its tiles.
struct TickScale {
  int q = 0;                    ///< tick = 2^-q seconds
  int index_bits = 0;           ///< bits of the source index in a packed label
  std::uint64_t cut_ticks = 0;  ///< inclusive cutoff in ticks (the largest label value without cutoff)
  double tick_seconds = 0.0;    ///< 2^-q
};

/// The TickScale raster_travel_time uses on the whole grid: `grid` describes the whole grid's geometry
/// (rows, cols, dx_m, dy_m, row_dx_m with one width per whole-grid row; its friction pointers are not
/// read), `whole` is the merged summary of all its friction, n_sources and the largest start offset
/// (seconds) count every source of the search, options give neighbours and max_seconds.
/// Throws InputError on bad geometry, neighbours, max_seconds or offsets.
TickScale raster_tiled_scale(const FrictionGrid& grid, const FrictionSummary& whole, std::size_t n_sources,
                             double max_start_offset_s, const RasterSearchOptions& options);

/// The TickScale raster_reach_lists uses on the whole grid for each of its one-facility searches (the bounded
/// searches of floating catchments): tiles searched one facility at a time with this scale (source index 0,
/// options.max_seconds the catchment, finite) hold exactly the ticks raster_reach_lists rounds to its seconds.
/// Arguments as raster_tiled_scale; throws InputError when max_seconds is not finite.
TickScale raster_tiled_reach_scale(const FrictionGrid& grid, const FrictionSummary& whole, double max_start_offset_s,
                                   const RasterSearchOptions& options);

/// Halo width in cells around a tile: 1 for 8 neighbours, 2 for 16.
int tile_halo(int neighbours);

/// One search over a tile's window (see the file comment).
/// window: the friction of the tile and its halo, row-major; window.row_dx_m (optional) holds the widths
///   of the window's rows (the whole grid's widths, sliced).
/// options: neighbours and max_seconds as given to raster_tiled_scale; threads (0 = one thread below
///   2^20 window cells); source_offsets_s one per listed source.
/// sources_rc, source_index, n_sources: the search's sources that lie in the window, as window
///   (row, col) and their whole-search indices (< 2^scale.index_bits); sources on impassable cells are
///   inert as in raster_travel_time. Listing a source again in a later call is harmless.
/// seed_cells, n_seeds: window flat ids (row * window.cols + col) whose labels in ticks/nearest were
///   lowered by the caller (halo cells with better incoming labels); the search propagates from them.
///   Seeds on impassable cells or without a label are ignored.
/// ticks, nearest: window-sized labels, in and out: the window's labels from its previous call (all -1
///   at first), lowered in place to the window's fixed point. Halo cells may be lowered too; only the
///   tile's own cells are authoritative (its neighbours receive them through their own halos).
/// Throws InputError on bad arguments (label values outside the scale, indices out of range), with ticks and
/// nearest untouched. If the search itself stops with an exception (cancelled through `control`, out of
/// memory), ticks and nearest hold valid labels lowered part-way, not the fixed point: discard them and
/// search again from the labels of the previous call.
RasterSearchStats raster_tile_search(const FrictionGrid& window, const TickScale& scale,
                                     const RasterSearchOptions& options, const std::int64_t* sources_rc,
                                     const std::int32_t* source_index, std::size_t n_sources,
                                     const std::int64_t* seed_cells, std::size_t n_seeds, std::int64_t* ticks,
                                     std::int32_t* nearest, RunControl* control = nullptr);

/// The packed label of an unreached cell (raster_tile_search_packed); every reached label is smaller.
std::uint64_t tile_unreached_label();

/// raster_tile_search on the packed labels the search works on, one uint64 per window cell (8 bytes a cell
/// instead of 12, and no packing and unpacking per call): labels[i] = ((ticks + 1) << scale.index_bits) |
/// nearest for a reached cell, tile_unreached_label() otherwise. Compared as unsigned integers, packed labels
/// order cells exactly as the engine does (fewer ticks first, then the lower source index), so a caller merges
/// its neighbours' labels with a plain `<`. Arguments, errors and the state after an exception otherwise as
/// raster_tile_search (a label whose ticks are outside 0..scale.cut_ticks is an InputError, labels untouched).
RasterSearchStats raster_tile_search_packed(const FrictionGrid& window, const TickScale& scale,
                                            const RasterSearchOptions& options, const std::int64_t* sources_rc,
                                            const std::int32_t* source_index, std::size_t n_sources,
                                            const std::int64_t* seed_cells, std::size_t n_seeds,
                                            std::uint64_t* labels, RunControl* control = nullptr);

/// The outputs of a block of packed labels (rows x cols, rows `row_stride` labels apart: a tile's own cells
/// inside its window): seconds as raster_travel_time rounds them (float32(ticks * 2^-q)), `unreached_seconds`
/// where unreached (+inf as raster_travel_time, NaN for a GeoTIFF's no data), and the nearest source index (-1).
/// seconds and nearest are rows x cols, contiguous. Throws InputError on a bad scale or stride.
void tile_labels_to_outputs(const std::uint64_t* labels, std::int64_t rows, std::int64_t cols, std::int64_t row_stride,
                            const TickScale& scale, float unreached_seconds, float* seconds, std::int32_t* nearest);

}  // namespace careshed
