// careshed/multimodal_walkcap.hpp — walk, then ride, then walk (careshed/multimodal.hpp) with a MAXIMUM WALKING LEG:
// people walk at most max_walk_seconds to the road, between two rides, and from the road to the facility.
//
// The rule (the one r5 / Conveyal's maxWalkTime and r5r's max_walk_time apply to access, egress and transfers):
//   * a walking leg is a maximal run of walking moves between the ends of the trip and the ride nodes: home ->
//     the boarding point, alighting point -> the next boarding point, alighting point -> the facility;
//   * every walking leg of a trip that rides takes at most max_walk_seconds of walking (inclusive); the leg's
//     time is the sum of its walking moves in ticks, exactly as they add to the trip's time (transfer penalties,
//     ride arcs and start offsets are not walking);
//   * a trip that walks all the way (trip mode 0) is not capped: only the search's max_seconds bounds it. A
//     person who cannot reach a road within the cap still walks to care; capping that walk too would call
//     people "unreachable" who are merely far (give max_seconds to bound every trip, as r5r advises for
//     walk-only trips). Consequence: the capped time of a cell is >= the uncapped one, and equal wherever the
//     uncapped best trip walks only or all its legs are within the cap; a cap >= every walking leg's time gives
//     multimodal_travel_time's output bit for bit.
//
// Why another engine: with a cap, the fastest way to a cell may have walked too far to board, while a slower
// way that walked less can still ride on — two criteria (time, walking in the current leg), so one label per
// cell is not enough. This engine is an exact label-setting search (Martins' multi-criteria Dijkstra) over
// states (cell, walked ticks of the current leg): labels (ticks, source index, mode code) are taken from one
// binary heap in increasing order; a cell keeps every label that walked less than all the labels it settled
// before (two minima per cell: over trips that walk only, and over all), so no label is dropped unless another
// real path is at least as fast, as low in the tie order, walked no more and is no more constrained. The
// first label a cell settles is its answer. Ride nodes have one label each (walking restarts at 0 after them).
//
// Arithmetic, ties and outputs: those of multimodal_travel_time exactly (same tick scale, steps, ordering by
// (ticks, source index, mode code), out_mode codes, inclusive max_seconds); the cap in ticks is
// floor(max_walk_seconds * 2^q) (walking exactly max_walk_seconds is allowed).
//
// Cost: one thread; a binary heap over labels (24 B each) — slower than multimodal_travel_time's bucket queue
// search, and a cell settles as many labels as it has Pareto-optimal (time, walk) trips (stats.cells_settled /
// stats.cells_reached: 1.95 on the Comoros grid of docs/travel-modes.md with a 30-minute cap, 1.74 with 15).
// Speed (benchmarks/multimodal_walkcap.py: 4 M cells, a 111 k-node street lattice, 100 facilities, load 17):
// 6.0 s CPU with a 10-minute cap, 3.9 s with 5 minutes, against 0.32 s for multimodal_travel_time.
// Memory: out_seconds doubles as the answer labels (8 B/cell) + 32 B per cell (the two minima, the least pending
// label) + 4 B per cell
// with a ride graph (its transfer nodes) + about 24 B per ride node and per arc + the heap (24 B per label).
// Ownership: caller-owned buffers, read during the call. Thread-safety: re-entrant.
// Errors: those of multimodal_travel_time, and InputError for a NaN or negative max_walk_seconds.
// Cancellation and progress: RunControl polled every 65536 heap pops.
#pragma once

#include <cstddef>
#include <cstdint>

#include "careshed/multimodal.hpp"

namespace careshed {

/// multimodal_travel_time with every walking leg of a riding trip at most max_walk_seconds (>= 0, +inf = no cap;
/// see the file comment for the rule). Outputs as multimodal_travel_time; the stats' cells_settled counts the
/// labels settled on cells (>= cells reached) and grid_rounds is 0.
MultimodalStats multimodal_travel_time_walk_capped(const MultimodalNetwork& net, const std::int64_t* sources_rc,
                                                   std::size_t n_sources, const MultimodalOptions& options,
                                                   double max_walk_seconds, double* out_seconds,
                                                   std::int32_t* out_nearest, std::uint8_t* out_mode,
                                                   RunControl* control = nullptr);

}  // namespace careshed
