// careshed/multimodal.hpp — walk, then ride, then walk: one multi-source search over a walking grid and a
// riding graph joined at transfer points.
//
// Why one search: a villager walks to the road, rides (bus, motorbike, a ferry) and walks from the road to the
// clinic. Two separate fields (walk to the road, ride from the road) stitched afterwards need a guess of where
// people board; searching the combined graph finds the best boarding and alighting points for every cell.
//
// The combined graph:
//   * every grid cell is a node; walking moves between neighbouring cells follow the r.cost rule of
//     careshed/raster_search.hpp (8 or 16 neighbours, centre distance x mean friction; NaN/inf impassable);
//   * every ride node is a node; ride arcs are the CsrGraph's arcs, in seconds (roads at a mode's speed; ferry
//     crossings with their waiting time included by the caller);
//   * every ride node has a mode (node_mode, e.g. 0 = road, 1 = ferry) whose RideMode gives the transfer
//     penalties: a ride node with a transfer cell c (node_cell >= 0, c passable) is joined to it both ways,
//     boarding (cell -> node) costs its mode's board_seconds, alighting (node -> cell) alight_seconds.
// Direction: TowardSources (default) gives, for every cell, the time of the trip cell -> nearest source (the
// traveller's arcs; the search runs on them backwards); FromSources the trip source -> cell.
//
// Outputs per CELL: seconds (+inf unreachable or beyond max_seconds, inclusive cutoff), nearest source index
// (-1), and the trip's mode: 0 = walking only, 1 + m = the trip rides, and m is the highest-numbered mode it
// uses (with road = 0 and ferry = 1: 1 = walk + road, 2 = a trip with a ferry crossing).
//
// Arithmetic and ties (exact and deterministic): times are integer ticks of 2^-q seconds, the tick of the grid
// engine (raster_search.hpp) for this grid with its bound widened by the ride network; every walking step,
// ride arc and transfer is rounded to ticks once (floor(seconds * 2^q + 0.5)) and sums are exact. Labels are
// ordered by (ticks, source index, mode code), so exact ties go to the lowest source index and then to the
// lowest mode code (walking only before riding); the code of a path is the maximum over the modes it uses, an
// order-preserving rule, so the result is the unique per-cell minimum over all paths, whatever the order of
// work or the number of threads. Output seconds = ticks * 2^-q (exact in double); walking alone gives the grid
// engine's ticks bit for bit (RasterSearchStats::tick_seconds differs only when the ride bound widens it).
//
// How it is fast: ONE search of the grid engine itself (bucket queue on ticks, 64 x 64 tiles, threads) in
// which the ride nodes are labels in the same queue (detail::SideNetwork, core/src/raster_search_internal.hpp):
// expanding a transfer cell enters its ride nodes; between buckets one thread runs a binary-heap Dijkstra
// over the node labels up to the end of the next bucket, and alighting lowers the cells' labels and queues
// them like any cell. A label-correcting search (every label is the cost of a real path; it ends when no cell
// or node label is pending), so the result is the fixpoint above whatever the order. The buckets are
// narrower than the grid engine's alone (8 typical walking steps against 64; see multimodal.cpp): a cell
// reached on foot before its better ride was found is expanded again, and narrow buckets keep that rare.
// Memory: out_seconds doubles as the label array (8 B/cell) + the grid engine's queues + a transfer-cell
// bitmap (1 bit/cell + 4 B of rank per 64 cells) + ~30 B per ride node (labels, transfer cells, the heap) + the
// ride graph reversed when searching toward the sources (16 B per arc).
// Ownership: caller-owned buffers, read during the call. Thread-safety: re-entrant; the grid engine uses OpenMP
// threads (options.threads as raster_search.hpp). Errors: InputError (bad sizes, node_cell or node_mode out of
// range, negative/NaN costs, bad sources/offsets/cutoff, per-row cell widths). Cancellation and progress:
// RunControl polled by every round of the grid engine and every 65536 ride-node pops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "careshed/graph_search.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/terrain.hpp"

namespace careshed {

class RunControl;

/// Transfer penalties of one ride mode, in the traveller's direction (>= 0, finite).
struct RideMode {
  double board_seconds = 0.0;   ///< cell -> ride node (waiting for the bus, finding a motorbike)
  double alight_seconds = 0.0;  ///< ride node -> cell
};

struct MultimodalNetwork {
  FrictionGrid walk;                        ///< walking friction (s/m), r.cost rule; metric grid (no row_dx_m)
  const CsrGraph* ride = nullptr;           ///< ride arcs in seconds (nullptr: walking only)
  const std::int64_t* node_cell = nullptr;  ///< per ride node: flat cell id (row * cols + col) or -1
  const std::uint8_t* node_mode = nullptr;  ///< per ride node: index into modes (nullptr: every node mode 0)
  std::vector<RideMode> modes{RideMode{}};  ///< 1..127 modes
};

struct MultimodalOptions {
  int neighbours = 8;                                             ///< 8 or 16
  double max_seconds = std::numeric_limits<double>::infinity();  ///< inclusive cutoff
  const double* source_offsets_s = nullptr;                     ///< per source, >= 0, or nullptr
  TravelDirection direction = TravelDirection::TowardSources;
  int threads = 0;  ///< the grid engine's: as RasterSearchOptions::threads (0 = automatic)
};

struct MultimodalStats {
  double tick_seconds = 0.0;        ///< 2^-q
  std::uint64_t cells_settled = 0;  ///< cell expansions (a cell may be expanded again when its label falls)
  std::uint64_t nodes_settled = 0;  ///< ride nodes taken from the heap
  std::uint64_t cells_reached = 0;
  std::uint64_t cells_riding = 0;   ///< reached cells whose best trip rides (mode code > 0)
  int grid_rounds = 0;              ///< grid searches run: 1 (one joint search; see the file comment)
};

/// Fills out_seconds (rows * cols), out_nearest and out_mode (may be nullptr) for every cell.
MultimodalStats multimodal_travel_time(const MultimodalNetwork& net, const std::int64_t* sources_rc,
                                       std::size_t n_sources, const MultimodalOptions& options, double* out_seconds,
                                       std::int32_t* out_nearest, std::uint8_t* out_mode,
                                       RunControl* control = nullptr);

}  // namespace careshed
