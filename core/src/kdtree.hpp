// kdtree.hpp (private) — nanoflann k-d trees over 2-D (projected metres) or 3-D (points on a sphere) sets,
// with result sets that break distance ties by the LOWEST point index, so nearest-point answers are
// deterministic (DESIGN.md: ties → lowest index).
//
// Geographic coordinates are mapped to 3-D points on a sphere of radius kEarthRadiusM: the straight chord
// between two such points is monotone in their great-circle distance, so the nearest point by chord is
// the nearest by great circle, anywhere on Earth (no projection, no seam at ±180°). Distances handed back
// are great-circle metres (chord converted exactly).
//
// nanoflann (1.4.x API: KDTreeSingleIndexAdaptor, findNeighbors with a custom RESULTSET) compares
// candidate squared distances with a strict "<" against the result set's worstDist(), and prunes subtrees
// whose lower bound exceeds it. Our result sets report the next representable value above their current
// worst, so equal-distance points still reach addPoint() where the index decides.
#pragma once

#include <nanoflann.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "careshed/road_graph.hpp"  // kEarthRadiusM

namespace careshed::detail {

/// Points stored as flat coordinates, dim 2 or 3.
template <int DIM>
struct PointCloud {
  std::vector<double> c;  // DIM per point
  size_t kdtree_get_point_count() const { return c.size() / DIM; }
  double kdtree_get_pt(size_t i, size_t d) const { return c[i * DIM + d]; }
  template <class BBOX>
  bool kdtree_get_bbox(BBOX&) const {
    return false;
  }
};

inline void lonlat_to_xyz(double lon_deg, double lat_deg, double* out) {
  const double k = 3.14159265358979323846 / 180.0;
  const double cl = std::cos(lat_deg * k);
  out[0] = kEarthRadiusM * cl * std::cos(lon_deg * k);
  out[1] = kEarthRadiusM * cl * std::sin(lon_deg * k);
  out[2] = kEarthRadiusM * std::sin(lat_deg * k);
}

/// Great-circle metres from a chord length in metres on the kEarthRadiusM sphere.
inline double chord_to_arc_m(double chord_m) {
  return 2.0 * kEarthRadiusM * std::asin(std::min(1.0, chord_m / (2.0 * kEarthRadiusM)));
}
/// Chord metres for a great-circle distance (for radius limits).
inline double arc_to_chord_m(double arc_m) {
  if (arc_m >= 3.14159265358979323846 * kEarthRadiusM) return 2.0 * kEarthRadiusM;
  return 2.0 * kEarthRadiusM * std::sin(arc_m / (2.0 * kEarthRadiusM));
}

/// Best (squared distance, index) with lexicographic comparison; limited to squared radius `limit2`.
class NearestLowestIndex {
 public:
  explicit NearestLowestIndex(double limit2) : limit2_(limit2) {}
  bool full() const { return true; }
  bool addPoint(double d2, uint32_t idx) {
    if (d2 <= limit2_ && (d2 < best_ || (d2 == best_ && idx < idx_))) {
      best_ = d2;
      idx_ = idx;
    }
    return true;
  }
  double worstDist() const {
    const double w = found() ? best_ : limit2_;
    return std::nextafter(w, std::numeric_limits<double>::infinity());
  }
  bool found() const { return idx_ != kNone; }
  double dist2() const { return best_; }
  uint32_t index() const { return idx_; }

 private:
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  double limit2_;
  double best_ = std::numeric_limits<double>::infinity();
  uint32_t idx_ = kNone;
};

/// The k best (squared distance, index) pairs, lexicographic, sorted ascending.
class KNearestLowestIndex {
 public:
  KNearestLowestIndex(size_t k, double limit2) : k_(k), limit2_(limit2) { items_.reserve(k + 1); }
  bool full() const { return items_.size() == k_; }
  bool addPoint(double d2, uint32_t idx) {
    if (d2 > limit2_) return true;
    const std::pair<double, uint32_t> item{d2, idx};
    if (items_.size() == k_ && !(item < items_.back())) return true;
    items_.insert(std::upper_bound(items_.begin(), items_.end(), item), item);
    if (items_.size() > k_) items_.pop_back();
    return true;
  }
  double worstDist() const {
    const double w = full() ? items_.back().first : limit2_;
    return std::nextafter(w, std::numeric_limits<double>::infinity());
  }
  const std::vector<std::pair<double, uint32_t>>& items() const { return items_; }

 private:
  size_t k_;
  double limit2_;
  std::vector<std::pair<double, uint32_t>> items_;
};

/// A k-d tree over points given in a projected CRS (2-D, metres) or lon/lat (3-D sphere), answering in
/// metres (great-circle for lon/lat). Immutable after construction; queries are thread-safe.
class PointTree {
 public:
  /// x/y: n coordinates. `metres_per_unit` scales projected distances (1 for metres).
  PointTree(const double* x, const double* y, size_t n, bool geographic, double metres_per_unit = 1.0)
      : geographic_(geographic), scale_(metres_per_unit) {
    if (geographic_) {
      cloud3_.c.resize(3 * n);
      for (size_t i = 0; i < n; ++i) lonlat_to_xyz(x[i], y[i], &cloud3_.c[3 * i]);
      tree3_ = std::make_unique<Tree3>(3, cloud3_, nanoflann::KDTreeSingleIndexAdaptorParams(16));  // builds
    } else {
      cloud2_.c.resize(2 * n);
      for (size_t i = 0; i < n; ++i) {
        cloud2_.c[2 * i] = x[i];
        cloud2_.c[2 * i + 1] = y[i];
      }
      tree2_ = std::make_unique<Tree2>(2, cloud2_, nanoflann::KDTreeSingleIndexAdaptorParams(16));  // builds
    }
    n_ = n;
  }
  PointTree(const PointTree&) = delete;  // the trees hold references to the clouds: never copy or move
  PointTree& operator=(const PointTree&) = delete;
  size_t size() const { return n_; }

  /// Nearest point within max_m metres (inclusive): (index, metres), or (-1, inf).
  std::pair<int64_t, double> nearest(double x, double y, double max_m) const {
    if (n_ == 0) return {-1, std::numeric_limits<double>::infinity()};
    double q[3];
    NearestLowestIndex rs(limit2(max_m));
    search(x, y, q, rs);
    if (!rs.found()) return {-1, std::numeric_limits<double>::infinity()};
    const double m = to_metres(rs.dist2());
    if (m > max_m) return {-1, std::numeric_limits<double>::infinity()};
    return {static_cast<int64_t>(rs.index()), m};
  }

  /// Up to k nearest points within max_m metres, ascending by (distance, index).
  std::vector<std::pair<double, uint32_t>> k_nearest(double x, double y, size_t k, double max_m) const {
    if (n_ == 0 || k == 0) return {};
    double q[3];
    KNearestLowestIndex rs(k, limit2(max_m));
    search(x, y, q, rs);
    std::vector<std::pair<double, uint32_t>> out = rs.items();
    for (auto& it : out) it.first = to_metres(it.first);
    while (!out.empty() && out.back().first > max_m) out.pop_back();
    return out;
  }

 private:
  using Tree2 = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, PointCloud<2>>,
                                                    PointCloud<2>, 2, uint32_t>;
  using Tree3 = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, PointCloud<3>>,
                                                    PointCloud<3>, 3, uint32_t>;

  double limit2(double max_m) const {
    if (!std::isfinite(max_m)) return std::numeric_limits<double>::infinity();
    // Squared distance in tree units, nudged up so a point exactly at max_m is kept (inclusive) despite
    // rounding in the chord/scale conversion; exactness at the limit is then decided in metres below.
    const double d = geographic_ ? arc_to_chord_m(max_m) : max_m / scale_;
    return d * d * (1.0 + 1e-12);
  }
  double to_metres(double d2) const {
    const double d = std::sqrt(d2);
    return geographic_ ? chord_to_arc_m(d) : d * scale_;
  }
  template <class RS>
  void search(double x, double y, double* q, RS& rs) const {
    if (geographic_) {
      lonlat_to_xyz(x, y, q);
      tree3_->findNeighbors(rs, q, nanoflann::SearchParams());
    } else {
      q[0] = x;
      q[1] = y;
      tree2_->findNeighbors(rs, q, nanoflann::SearchParams());
    }
  }

  bool geographic_;
  double scale_;
  size_t n_ = 0;
  PointCloud<2> cloud2_;
  PointCloud<3> cloud3_;
  std::unique_ptr<Tree2> tree2_;
  std::unique_ptr<Tree3> tree3_;
};

}  // namespace careshed::detail
