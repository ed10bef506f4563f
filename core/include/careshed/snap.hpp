// careshed/snap.hpp — points onto a road graph, and travel times that include the off-network leg.
//
// A facility or a village is rarely on a road. Each point snaps to its nearest graph NODE (every vertex of
// every road is a node, see road_graph.hpp) through a nanoflann k-d tree, and the straight-line distance to
// that node is walked (or driven off-road) at a stated speed:
//     access seconds = snap distance in metres / (offroad_speed_kmh / 3.6)
// Facilities: the access leg is added to the facility's start offset (plus any dispatch offset given).
// Demand points: the access leg is added to the time of the node they snap to. So a village 2 km from
// the road at 5 km/h is 24 minutes behind the road's time, not at it.
//
// Points are in the graph's CRS: lon/lat degrees for a geographic graph (distances are then great-circle
// metres, computed on a sphere with the k-d tree over 3-D points, no projection needed), CRS units for a
// projected graph (scaled to metres by the CRS's linear unit given at construction).
// Ties between equally near nodes go to the lowest node id; nearest-facility ties to the lowest facility
// index. Unsnapped points (farther than max_snap_distance_m from any allowed node) get node -1,
// distance +inf, and for travel times +inf / -1. max_snap_distance_m is inclusive.
//
// Thread-safety: a NodeSnapper is immutable after construction; concurrent queries are safe. It keeps
// its own copy of the coordinates, so it does not depend on the graph's lifetime.
// Errors: InputError for non-finite coordinates, bad speeds/limits, offsets of the wrong length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "careshed/road_graph.hpp"

namespace careshed {

namespace detail {
class PointTree;
}

struct SnapResult {
  std::vector<int64_t> node;       ///< graph node per point, -1 when none within the limit
  std::vector<double> distance_m;  ///< metres to that node, +inf when none
};

class NodeSnapper {
 public:
  /// Indexes the graph's nodes; with largest_component_only, only nodes of component 0 (the largest
  /// weakly connected component) are candidates, so points never land on a disconnected island of road.
  explicit NodeSnapper(const RoadGraph& graph, bool largest_component_only = false);
  ~NodeSnapper();
  NodeSnapper(NodeSnapper&&) noexcept;
  NodeSnapper& operator=(NodeSnapper&&) noexcept;

  /// Nearest allowed node of each point (x[i], y[i]) within max_distance_m (inclusive).
  SnapResult snap(const double* x, const double* y, size_t n,
                  double max_distance_m = std::numeric_limits<double>::infinity()) const;

  bool largest_component_only() const { return largest_only_; }

 private:
  std::unique_ptr<detail::PointTree> tree_;
  std::vector<uint32_t> node_of_;  // tree index → graph node
  bool largest_only_ = false;
};

/// Seconds to cover distance_m off the network at offroad_speed_kmh (InputError unless speed > 0).
double access_seconds(double distance_m, double offroad_speed_kmh);

struct RoadTravelOptions {
  double offroad_speed_kmh = 5.0;  ///< walking pace by default; > 0
  double max_snap_distance_m = std::numeric_limits<double>::infinity();
  const double* source_offsets = nullptr;  ///< per facility, seconds (dispatch/turnout), or nullptr
  double max_seconds = std::numeric_limits<double>::infinity();  ///< inclusive cutoff, legs included
  bool reverse = false;  ///< false: from facilities (ambulance out); true: to facilities (patient in)
};

struct RoadTravelTimes {
  std::vector<double> node_seconds;    ///< per graph node: facility leg + network time (inf unreachable)
  std::vector<int32_t> node_nearest;   ///< per graph node: facility index or -1
  std::vector<int64_t> facility_node;  ///< where each facility snapped (-1: beyond max_snap_distance_m)
  std::vector<double> facility_snap_m;
  std::vector<double> point_seconds;   ///< per demand point: node time + own leg (inf: unsnapped/unreached)
  std::vector<int32_t> point_nearest;  ///< per demand point: facility index or -1
  std::vector<int64_t> point_node;
  std::vector<double> point_snap_m;
};

/// One multi-source search from all facilities (fx, fy) over the graph, with access legs as above; demand
/// points (px, py; n_points may be 0) get their own leg added. Facilities that do not snap take no part.
RoadTravelTimes road_travel_time(const RoadGraph& graph, const NodeSnapper& snapper, const double* fx,
                                 const double* fy, size_t n_facilities, const double* px, const double* py,
                                 size_t n_points, const RoadTravelOptions& options = {});

}  // namespace careshed
