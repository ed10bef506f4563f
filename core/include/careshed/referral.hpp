// careshed/referral.hpp — facility levels and referral: travel time to the nearest facility of every level,
// and for every facility its referral target (the nearest facility of the next level, or an assigned one)
// with the time and the route length between them.
//
// Model. Facilities carry a level 0 .. n_levels-1 in the user's order, lowest first (e.g. 0 village clinic,
// 1 township health centre, 2 county hospital, 3 city tertiary hospital). Everything runs on the travel model
// the caller gives — a friction grid (raster_search.hpp, r.cost rule) or a directed road graph
// (graph_search.hpp) — with the existing multi-source searches, never straight lines:
//  * Per level, ONE multi-source search from all facilities of that level gives, for every cell / node, the
//    seconds to the nearest facility of the level and its index (facility index, not level-local).
//  * Referral target of facility i of level l (not assigned): the nearest facility of level l+1 by travel time
//    FROM i — read off level l+1's field at i's cell / node, so the n_facilities referrals cost no search of
//    their own. On a grid travel is symmetric (the r.cost step cost is symmetric); on a graph the searches run
//    on the transposed graph, so every time is TO the facility (patient → facility, facility → its target),
//    which differs from the other direction on one-way streets.
//  * Assigned target (assigned[i] = j >= 0, e.g. from a field "refers_to"): the time from i to j, by one
//    single-source search per distinct assigned target (cost: one grid / graph search each).
//  * Route length (metres): the least-time route is retraced from i down the target's field to the target
//    (each step to the neighbour that explains the time: exact on graphs, where times are sums of the same
//    doubles; on grids, among the neighbours of the same nearest facility with a strictly smaller float32
//    time, the one minimising time + step cost). When several routes tie in time, one of them is measured.
//    On a grid of zero-friction plateaus the retrace may find no strictly decreasing step: then the length is
//    NaN (never a guess).
// Conventions (DESIGN.md): seconds and metres; unreachable / none → +inf seconds and index -1; the cut-off
// max_seconds is inclusive (a target exactly at it is reached) and applies to every search; ties go to the
// lowest facility index (sources are given to each search in ascending facility index, and the searches break
// ties by source index). A top-level facility without an assignment, a facility whose next level has no
// facility in reach (or none at all), and a facility on an impassable cell have target -1, +inf seconds and
// +inf metres. A level with no facility at all gives an all-unreachable field.
//
// Ownership: inputs are caller-owned and only read during the call; `out` (grid) / `out_seconds`,
// `out_nearest` (graph) are caller-owned outputs of n_levels * cells (nodes), level-major (level l's field
// starts at l * cells). The per-facility result is returned by value.
// Thread-safety: re-entrant; the grid searches and the retrace use OpenMP threads internally.
// Errors: careshed::InputError (names the argument and the fix) for bad levels (outside 0..n_levels-1),
// n_levels < 1, an assignment to itself or out of range, facilities out of range, and everything the
// underlying searches refuse (friction, cell size, neighbours, cut-off).
// Cancellation and progress: an optional trailing RunControl (careshed/progress.hpp) is passed to every
// search (phase "level search", "assigned targets") and polled per facility during the retrace ("routes");
// on request_cancel() the function throws careshed::Cancelled and the outputs hold partial results.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "careshed/graph_search.hpp"
#include "careshed/raster_search.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// The facilities' levels and optional assignments. Pointers are borrowed for the call.
struct FacilityLevels {
  const std::int32_t* level = nullptr;     ///< per facility, 0 .. n_levels-1 (lowest level first)
  int n_levels = 0;                        ///< >= 1
  /// Optional, per facility: the facility index of its assigned referral target, or -1 for "the nearest
  /// facility of the next level". nullptr = no assignments.
  const std::int32_t* assigned = nullptr;
};

/// Options of a referral run.
struct ReferralOptions {
  double max_seconds = std::numeric_limits<double>::infinity();  ///< inclusive cut-off of every search, >= 0
  int neighbours = 8;        ///< grid only: 8 or 16 (r.cost's knight's moves)
  int threads = 0;           ///< grid only: threads of each search (raster_search.hpp; 0 = automatic)
  bool keep_routes = false;  ///< return the retraced routes (cells / nodes) in Referrals::route_*
};

/// Per facility (index = facility index): its referral target and the travel between them.
struct Referrals {
  std::vector<std::int32_t> target;   ///< facility index of the target, -1 none
  std::vector<double> seconds;        ///< travel time to the target, +inf none
  std::vector<double> metres;         ///< length of the retraced least-time route, +inf none, NaN see header
  std::vector<std::uint8_t> assigned; ///< 1 when the target came from FacilityLevels::assigned
  /// With keep_routes: the route of facility i is route_items[route_first[i] .. route_first[i+1]) from the
  /// facility's cell / node to the target's (flat cell ids row * cols + col, or node ids); empty when none.
  std::vector<std::int64_t> route_first;
  std::vector<std::int64_t> route_items;
};

/// Referral on a friction grid. facilities_rc: n_facilities (row, col) pairs. out: n_levels * rows * cols
/// CellLabels (level-major), nearest = FACILITY index. Memory: `out` plus one grid-sized label array while
/// assigned targets are searched (only when there are assignments).
Referrals referral_on_grid(const FrictionGrid& grid, const std::int64_t* facilities_rc, std::size_t n_facilities,
                           const FacilityLevels& levels, const ReferralOptions& options, CellLabel* out,
                           RunControl* control = nullptr);

/// Referral on a directed road graph given as an edge list (edge e: tails[e] → heads[e], seconds[e] >= 0,
/// length_m[e] >= 0 metres; RoadGraph::edge_* give these). facility_nodes: node id per facility.
/// out_seconds / out_nearest: n_levels * n_nodes each (level-major): seconds from the node TO the nearest
/// facility of the level and that facility's index. Builds the forward and transposed CSR once.
Referrals referral_on_graph(std::int64_t n_nodes, const std::int64_t* tails, const std::int64_t* heads,
                            const double* seconds, const double* length_m, std::size_t n_edges,
                            const std::int64_t* facility_nodes, std::size_t n_facilities,
                            const FacilityLevels& levels, const ReferralOptions& options, double* out_seconds,
                            std::int32_t* out_nearest, RunControl* control = nullptr);

class RoadGraph;  // careshed/road_graph.hpp

/// Referral on a RoadGraph, honouring its turn restrictions (the searches run on its split graph for times
/// TO sources, road_graph.hpp; a node's time is the best over it and its copies, routes are retraced
/// through the copies and reported as the graph's node ids). Otherwise exactly referral_on_graph on the
/// graph's edges. facility_nodes: node ids < graph.n_nodes(); outputs n_levels * graph.n_nodes().
Referrals referral_on_road_graph(const RoadGraph& graph, const std::int64_t* facility_nodes, std::size_t n_facilities,
                                 const FacilityLevels& levels, const ReferralOptions& options, double* out_seconds,
                                 std::int32_t* out_nearest, RunControl* control = nullptr);

}  // namespace careshed
