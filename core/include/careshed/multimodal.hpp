// careshed/multimodal.hpp — walk, then ride, then walk: one multi-source search over a walking grid and a
// riding graph joined at transfer points.
//
// Why one search: a villager walks to the road, rides (bus, motorbike, a ferry) and walks from the road to the
// clinic. Two separate fields (walk to the road, ride from the road) stitched afterwards need a guess of where
// people board; searching the combined graph finds the best boarding and alighting points for every cell.
//
// The combined graph:
//   * every grid cell is a node; walking moves between neighbouring cells follow the r.cost rule of
//     careshed/raster_search.hpp (8 neighbours, centre distance x mean friction; NaN/inf friction impassable);
//   * every ride node is a node; ride arcs are the CsrGraph's arcs, in seconds (roads at a mode's speed; ferry
//     crossings with their waiting time included by the caller);
//   * a ride node with a transfer cell c (node_cell >= 0, c passable) is joined to it both ways: boarding
//     (cell -> node) costs board_seconds, alighting (node -> cell) alight_seconds.
// Direction: TowardSources (default) gives, for every cell, the time of the trip cell -> nearest source (the
// traveller's arcs; the search runs on them backwards); FromSources the trip source -> cell.
// Arithmetic: double seconds; labels ordered by (seconds, source index), so exact ties go to the lowest
// source index. The search is a plain binary-heap Dijkstra over cells + ride nodes (no tiling, one thread).
// Outputs per CELL: seconds (+inf unreachable or beyond max_seconds, inclusive cutoff), nearest source index
// (-1), and whether the best path rides (1) or only walks (0) — on exact ties, the path found first.
// Sources are cells (row, col) with optional start offsets; a source on an impassable cell is inert.
// Ownership: caller-owned buffers, read during the call. Thread-safety: re-entrant. Errors: InputError
// (bad sizes, node_cell out of range, negative/NaN costs, bad sources/offsets/cutoff).
// Cancellation: RunControl polled every 65536 heap pops.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "careshed/graph_search.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/terrain.hpp"

namespace careshed {

class RunControl;

struct MultimodalNetwork {
  FrictionGrid walk;                        ///< walking friction (s/m), r.cost rule
  const CsrGraph* ride = nullptr;           ///< ride arcs in seconds (nullptr: walking only)
  const std::int64_t* node_cell = nullptr;  ///< per ride node: flat cell id (row * cols + col) or -1
  double board_seconds = 0.0;               ///< cell -> ride node (>= 0)
  double alight_seconds = 0.0;              ///< ride node -> cell (>= 0)
};

struct MultimodalOptions {
  double max_seconds = std::numeric_limits<double>::infinity();  ///< inclusive cutoff
  const double* source_offsets_s = nullptr;                     ///< per source, >= 0, or nullptr
  TravelDirection direction = TravelDirection::TowardSources;
};

struct MultimodalStats {
  std::uint64_t nodes_settled = 0;  ///< cells + ride nodes taken from the heap
  std::uint64_t cells_reached = 0;
  std::uint64_t cells_riding = 0;   ///< reached cells whose best path rides
};

/// Fills out_seconds (rows * cols), out_nearest and out_rides (may be nullptr) for every cell.
MultimodalStats multimodal_travel_time(const MultimodalNetwork& net, const std::int64_t* sources_rc,
                                       std::size_t n_sources, const MultimodalOptions& options, double* out_seconds,
                                       std::int32_t* out_nearest, std::uint8_t* out_rides,
                                       RunControl* control = nullptr);

}  // namespace careshed
