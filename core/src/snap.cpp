#include "careshed/snap.hpp"

#include <cmath>
#include <sstream>
#include <string>

#include "careshed/error.hpp"
#include "careshed/graph_search.hpp"
#include "kdtree.hpp"
#include "parallel_errors.hpp"

namespace careshed {

namespace {

void check_points(const double* x, const double* y, size_t n, const char* what) {
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      std::ostringstream m;
      m << what << "[" << i << "] = (" << x[i] << ", " << y[i] << ") is not a finite coordinate; drop or fix it";
      throw InputError(m.str());
    }
  }
}

void check_limit(double max_distance_m) {
  if (std::isnan(max_distance_m) || max_distance_m < 0.0) {
    std::ostringstream m;
    m << "max_snap_distance_m = " << max_distance_m << " must be >= 0 metres (or +inf for no limit)";
    throw InputError(m.str());
  }
}

}  // namespace

NodeSnapper::NodeSnapper(const RoadGraph& graph, bool largest_component_only) : largest_only_(largest_component_only) {
  const size_t n = graph.n_nodes();
  std::vector<double> xs, ys;
  if (largest_component_only) {
    const Components c = graph.components();
    for (size_t v = 0; v < n; ++v) {
      if (c.id[v] == 0) {
        node_of_.push_back(static_cast<uint32_t>(v));
        xs.push_back(graph.node_x()[v]);
        ys.push_back(graph.node_y()[v]);
      }
    }
  } else {
    node_of_.resize(n);
    for (size_t v = 0; v < n; ++v) node_of_[v] = static_cast<uint32_t>(v);
    xs = graph.node_x();
    ys = graph.node_y();
  }
  tree_ = std::make_unique<detail::PointTree>(xs.data(), ys.data(), xs.size(), graph.geographic(),
                                              graph.metres_per_unit());
}

NodeSnapper::~NodeSnapper() = default;
NodeSnapper::NodeSnapper(NodeSnapper&&) noexcept = default;
NodeSnapper& NodeSnapper::operator=(NodeSnapper&&) noexcept = default;

SnapResult NodeSnapper::snap(const double* x, const double* y, size_t n, double max_distance_m) const {
  check_points(x, y, n, "points");
  check_limit(max_distance_m);
  SnapResult r;
  r.node.assign(n, -1);
  r.distance_m.assign(n, std::numeric_limits<double>::infinity());
  // Tree indices are in ascending node order (node_of_ is increasing), so the tree's lowest-index tie
  // rule is the lowest-node-id rule.
  // The lookups allocate nothing today, but nanoflann may throw (std::runtime_error on an unbuilt index):
  // whatever is thrown is rethrown after the loop instead of terminating the process.
  detail::FirstException errors;
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n > 20000)
#endif
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    errors.run([&] {
      auto [idx, d] = tree_->nearest(x[i], y[i], max_distance_m);
      if (idx >= 0) {
        r.node[i] = node_of_[static_cast<size_t>(idx)];
        r.distance_m[i] = d;
      }
    });
  }
  errors.rethrow_if_failed();
  return r;
}

double access_seconds(double distance_m, double offroad_speed_kmh) {
  if (!std::isfinite(offroad_speed_kmh) || offroad_speed_kmh <= 0.0) {
    std::ostringstream m;
    m << "offroad_speed_kmh = " << offroad_speed_kmh << " must be finite and > 0 (e.g. 5 for walking)";
    throw InputError(m.str());
  }
  return distance_m / (offroad_speed_kmh / 3.6);
}

RoadTravelTimes road_travel_time(const RoadGraph& graph, const NodeSnapper& snapper, const double* fx,
                                 const double* fy, size_t n_facilities, const double* px, const double* py,
                                 size_t n_points, const RoadTravelOptions& o) {
  access_seconds(0.0, o.offroad_speed_kmh);  // validates the speed
  if (std::isnan(o.max_seconds) || o.max_seconds < 0.0)
    throw InputError("max_seconds must be >= 0 (or +inf for no cutoff)");
  RoadTravelTimes r;
  SnapResult fs = snapper.snap(fx, fy, n_facilities, o.max_snap_distance_m);
  r.facility_node = fs.node;
  r.facility_snap_m = fs.distance_m;
  // Only snapped facilities become sources; `index_of` maps back to the caller's facility index. The map
  // is increasing, so the search's lowest-index tie rule is the caller's lowest-index rule.
  std::vector<uint32_t> sources;
  std::vector<double> offsets;
  std::vector<int32_t> index_of;
  for (size_t j = 0; j < n_facilities; ++j) {
    if (o.source_offsets != nullptr && (!std::isfinite(o.source_offsets[j]) || o.source_offsets[j] < 0.0)) {
      throw InputError("source_offsets[" + std::to_string(j) + "] must be finite and >= 0 seconds");
    }
    if (fs.node[j] < 0) continue;
    sources.push_back(static_cast<uint32_t>(fs.node[j]));
    offsets.push_back(access_seconds(fs.distance_m[j], o.offroad_speed_kmh) +
                      (o.source_offsets ? o.source_offsets[j] : 0.0));
    index_of.push_back(static_cast<int32_t>(j));
  }
  GraphSearchOptions so;
  so.source_offsets = offsets.data();
  so.max_seconds = o.max_seconds;
  NearestSources ns = graph.nearest(sources, so, o.reverse);  // honours turn restrictions
  for (auto& k : ns.nearest)
    if (k >= 0) k = index_of[static_cast<size_t>(k)];
  r.node_seconds = std::move(ns.seconds);
  r.node_nearest = std::move(ns.nearest);

  SnapResult ps = snapper.snap(px, py, n_points, o.max_snap_distance_m);
  r.point_node = ps.node;
  r.point_snap_m = ps.distance_m;
  r.point_seconds.assign(n_points, std::numeric_limits<double>::infinity());
  r.point_nearest.assign(n_points, -1);
  for (size_t i = 0; i < n_points; ++i) {
    if (ps.node[i] < 0) continue;
    const size_t v = static_cast<size_t>(ps.node[i]);
    if (r.node_nearest[v] < 0) continue;
    const double t = r.node_seconds[v] + access_seconds(ps.distance_m[i], o.offroad_speed_kmh);
    if (t <= o.max_seconds) {
      r.point_seconds[i] = t;
      r.point_nearest[i] = r.node_nearest[v];
    }
  }
  return r;
}

}  // namespace careshed
