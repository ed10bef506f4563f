// geometry_test — point-in-polygon against a brute-force oracle written here (exact on-boundary test +
// even-odd ray casting), validity reasons, areas.
#include "careshed/geometry.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <sstream>

#include "careshed/error.hpp"
#include "vector_test_util.hpp"

namespace careshed {
namespace {

using testing::wkb_from_wkt;

using Ring = std::vector<std::pair<double, double>>;  // closed: first == last
using Poly = std::vector<Ring>;                      // outer ring + holes
using Zone = std::vector<Poly>;                      // parts of a (multi)polygon

std::string ring_wkt(const Ring& r) {
  std::ostringstream s;
  s.precision(17);
  s << "(";
  for (std::size_t i = 0; i < r.size(); ++i) s << (i ? "," : "") << r[i].first << " " << r[i].second;
  s << ")";
  return s.str();
}

std::string zone_wkt(const Zone& z) {
  std::ostringstream s;
  s << (z.size() == 1 ? "POLYGON " : "MULTIPOLYGON (");
  for (std::size_t p = 0; p < z.size(); ++p) {
    s << (p ? "," : "") << "(";
    for (std::size_t r = 0; r < z[p].size(); ++r) s << (r ? "," : "") << ring_wkt(z[p][r]);
    s << ")";
  }
  if (z.size() != 1) s << ")";
  return s.str();
}

// ---- the oracle ---------------------------------------------------------------------------------------
// Coordinates in these tests are integers or halves, so the cross product below is exact in doubles.
bool on_segment(double px, double py, std::pair<double, double> a, std::pair<double, double> b) {
  double cross = (b.first - a.first) * (py - a.second) - (b.second - a.second) * (px - a.first);
  if (cross != 0.0) return false;
  return px >= std::min(a.first, b.first) && px <= std::max(a.first, b.first) &&
         py >= std::min(a.second, b.second) && py <= std::max(a.second, b.second);
}

bool oracle_covers(const Zone& z, double px, double py) {
  for (const Poly& p : z) {
    bool boundary = false, inside = false;
    for (const Ring& r : p) {
      for (std::size_t i = 0; i + 1 < r.size(); ++i) {
        if (on_segment(px, py, r[i], r[i + 1])) boundary = true;
        // even-odd crossing of a ray towards +x
        auto [x1, y1] = r[i];
        auto [x2, y2] = r[i + 1];
        if ((y1 > py) != (y2 > py)) {
          double xc = x1 + (py - y1) * (x2 - x1) / (y2 - y1);
          if (px < xc) inside = !inside;
        }
      }
    }
    if (boundary || inside) return true;
  }
  return false;
}

int oracle_assign(const std::vector<Zone>& zones, double px, double py) {
  for (std::size_t z = 0; z < zones.size(); ++z) {
    if (oracle_covers(zones[z], px, py)) return static_cast<int>(z);
  }
  return -1;
}

// ---- random zones -------------------------------------------------------------------------------------
// A jittered grid of G×G quads sharing edges and vertices (integer coordinates, spacing 10, jitter ±3,
// so every quad is simple), a few cells dropped (gaps), an overlapping triangle at index 0 (so the
// lowest-index rule decides points in both), two cells merged into a MultiPolygon, and a square with a hole
// next to the grid.
struct Layout {
  std::vector<Zone> zones;
  std::vector<std::pair<double, double>> special;  // vertices and edge midpoints: exact boundary points
};

Layout make_layout(std::mt19937& rng, int G) {
  std::uniform_int_distribution<int> jit(-3, 3);
  std::vector<std::vector<std::pair<double, double>>> v(G + 1, std::vector<std::pair<double, double>>(G + 1));
  for (int i = 0; i <= G; ++i) {
    for (int j = 0; j <= G; ++j) {
      bool border = i == 0 || j == 0 || i == G || j == G;
      v[i][j] = {10.0 * i + (border ? 0 : jit(rng)), 10.0 * j + (border ? 0 : jit(rng))};
    }
  }
  Layout L;
  L.zones.push_back(Zone{Poly{Ring{{5, 5}, {5 + 10.0 * G / 2, 5}, {5, 5 + 10.0 * G / 2}, {5, 5}}}});
  std::bernoulli_distribution drop(0.1);
  std::vector<std::pair<int, int>> kept;
  for (int i = 0; i < G; ++i) {
    for (int j = 0; j < G; ++j) {
      if (drop(rng)) continue;
      kept.emplace_back(i, j);
    }
  }
  auto quad = [&](int i, int j) {
    return Poly{Ring{v[i][j], v[i + 1][j], v[i + 1][j + 1], v[i][j + 1], v[i][j]}};
  };
  // Merge the first and last kept cell (not adjacent for G >= 3) into one MultiPolygon zone.
  for (std::size_t k = 1; k + 1 < kept.size(); ++k) L.zones.push_back(Zone{quad(kept[k].first, kept[k].second)});
  L.zones.push_back(Zone{quad(kept.front().first, kept.front().second), quad(kept.back().first, kept.back().second)});
  double o = 10.0 * G + 10;
  L.zones.push_back(Zone{Poly{Ring{{o, 0}, {o + 30, 0}, {o + 30, 30}, {o, 30}, {o, 0}},
                              Ring{{o + 10, 10}, {o + 20, 10}, {o + 20, 20}, {o + 10, 20}, {o + 10, 10}}}});
  for (int i = 0; i <= G; ++i) {
    for (int j = 0; j <= G; ++j) {
      L.special.push_back(v[i][j]);
      if (i < G) L.special.push_back({(v[i][j].first + v[i + 1][j].first) / 2, (v[i][j].second + v[i + 1][j].second) / 2});
      if (j < G) L.special.push_back({(v[i][j].first + v[i][j + 1].first) / 2, (v[i][j].second + v[i][j + 1].second) / 2});
    }
  }
  L.special.push_back({o + 15, 15});  // in the hole
  L.special.push_back({o + 10, 15});  // on the hole's boundary
  L.special.push_back({o, 30});       // outer corner
  return L;
}

TEST(AssignPointsToZones, MatchesBruteForceOracleOnRandomLayouts) {
  std::mt19937 rng(testing::test_seed());
  for (int round = 0; round < 4; ++round) {
    const int G = 3 + round * 3;
    Layout L = make_layout(rng, G);
    std::vector<Wkb> wkb;
    for (const auto& z : L.zones) wkb.push_back(wkb_from_wkt(zone_wkt(z)));
    ASSERT_TRUE(check_polygons(wkb).empty());
    // Random points on a half-unit lattice (so many land exactly on vertical/horizontal grid edges) plus
    // the exact vertices and edge midpoints; round 3 has enough points to use the threaded path.
    const std::size_t n_random = round == 3 ? 30000 : 3000;
    std::uniform_int_distribution<int> coord(-10, 2 * (10 * G + 40));
    std::vector<double> x, y;
    for (std::size_t i = 0; i < n_random; ++i) {
      x.push_back(coord(rng) / 2.0);
      y.push_back(coord(rng) / 2.0);
    }
    for (const auto& [px, py] : L.special) {
      x.push_back(px);
      y.push_back(py);
    }
    std::vector<int32_t> got = assign_points_to_zones(wkb, x, y);
    ASSERT_EQ(got.size(), x.size());
    std::size_t mismatches = 0, on_boundary_checked = 0, outside = 0;
    for (std::size_t i = 0; i < x.size(); ++i) {
      int want = oracle_assign(L.zones, x[i], y[i]);
      if (got[i] != want && ++mismatches < 10) {
        ADD_FAILURE() << "round " << round << " point (" << x[i] << ", " << y[i] << "): got " << got[i]
                      << ", oracle " << want;
      }
      if (i >= n_random) ++on_boundary_checked;
      if (want < 0) ++outside;
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_GT(outside, 0u);  // the layout has gaps and surroundings: -1 must occur
    EXPECT_GT(on_boundary_checked, 10u);
  }
}

TEST(AssignPointsToZones, SharedEdgesAndVerticesGoToTheLowestIndex) {
  // Four unit squares around the origin, numbered so that the lowest index is not the first in any order.
  std::vector<Wkb> zones = {
      wkb_from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"),        // 0: NE
      wkb_from_wkt("POLYGON ((-1 -1, 0 -1, 0 0, -1 0, -1 -1))"),  // 1: SW
      wkb_from_wkt("POLYGON ((-1 0, 0 0, 0 1, -1 1, -1 0))"),     // 2: NW
      wkb_from_wkt("POLYGON ((0 -1, 1 -1, 1 0, 0 0, 0 -1))"),     // 3: SE
  };
  std::vector<double> x = {0, -0.5, 0, -0.5, 0.5, 1, 1.0000001, std::nan(""), 0.5};
  std::vector<double> y = {0, 0, -0.5, -1, -0.5, 1, 1, 0, std::nan("")};
  std::vector<int32_t> want = {0, 1, 1, 1, 3, 0, -1, -1, -1};
  EXPECT_EQ(assign_points_to_zones(zones, x, y), want);
}

TEST(AssignPointsToZones, NoZonesOrNoPoints) {
  EXPECT_EQ(assign_points_to_zones({}, std::vector<double>{1, 2}, std::vector<double>{1, 2}),
            (std::vector<int32_t>{-1, -1}));
  std::vector<Wkb> z = {wkb_from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 0))")};
  EXPECT_TRUE(assign_points_to_zones(z, std::vector<double>{}, std::vector<double>{}).empty());
}

TEST(AssignPointsToZones, RefusesBadZonesNamingTheIndex) {
  std::vector<Wkb> zones = {wkb_from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"),
                            wkb_from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))")};  // bow-tie
  std::vector<double> x = {0.5}, y = {0.5};
  EXPECT_THROW_MSG(assign_points_to_zones(zones, x, y), InputError, "zone 1", "Self-intersection", "ST_MakeValid");
  zones[1] = wkb_from_wkt("POINT (1 1)");
  EXPECT_THROW_MSG(assign_points_to_zones(zones, x, y), InputError, "zone 1", "Point");
  zones[1] = Wkb{1, 2, 3};
  EXPECT_THROW_MSG(assign_points_to_zones(zones, x, y), InputError, "zone 1", "WKB");
  zones[1] = Wkb{};
  EXPECT_THROW_MSG(assign_points_to_zones(zones, x, y), InputError, "zone 1", "no geometry");
  EXPECT_THROW(assign_points_to_zones(zones, std::vector<double>{1, 2}, std::vector<double>{1}), InputError);
}

TEST(CheckPolygons, ReportsEveryInvalidOneWithGeosReason) {
  std::vector<Wkb> zones = {
      wkb_from_wkt("POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))"),
      wkb_from_wkt("POLYGON ((0 0, 2 2, 2 0, 0 2, 0 0))"),
      wkb_from_wkt("MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))"),
      wkb_from_wkt("LINESTRING (0 0, 1 1)"),
      Wkb{},
      wkb_from_wkt("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (5 5, 15 5, 15 6, 5 6, 5 5))"),  // hole pokes out
  };
  auto bad = check_polygons(zones);
  ASSERT_EQ(bad.size(), 4u);
  EXPECT_EQ(bad[0].first, 1u);
  EXPECT_NE(bad[0].second.find("Self-intersection"), std::string::npos) << bad[0].second;
  EXPECT_EQ(bad[1].first, 3u);
  EXPECT_NE(bad[1].second.find("LineString"), std::string::npos) << bad[1].second;
  EXPECT_EQ(bad[2].first, 4u);
  EXPECT_EQ(bad[3].first, 5u);
  EXPECT_FALSE(bad[3].second.empty());
}

TEST(GeometryAreas, SquaresTrianglesAndHoles) {
  auto a = geometry_areas({wkb_from_wkt("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0))"),
                           wkb_from_wkt("POLYGON ((0 0, 4 0, 0 3, 0 0))"),
                           wkb_from_wkt("POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 4 2, 4 4, 2 4, 2 2))"),
                           Wkb{}});
  EXPECT_DOUBLE_EQ(a[0], 100.0);
  EXPECT_DOUBLE_EQ(a[1], 6.0);
  EXPECT_DOUBLE_EQ(a[2], 96.0);
  EXPECT_DOUBLE_EQ(a[3], 0.0);
}

TEST(InteriorPoints, InsideTheirPolygonAndPointsUnchanged) {
  std::vector<Wkb> g = {wkb_from_wkt("POLYGON ((0 0, 10 0, 10 1, 1 1, 1 10, 0 10, 0 0))"),  // L shape
                        wkb_from_wkt("POINT (3 4)"), Wkb{}};
  auto p = interior_points(g);
  std::vector<int32_t> z = assign_points_to_zones({g[0]}, std::vector<double>{p[0].first},
                                                  std::vector<double>{p[0].second});
  EXPECT_EQ(z[0], 0);
  EXPECT_EQ(p[1], std::make_pair(3.0, 4.0));
  EXPECT_TRUE(std::isnan(p[2].first));
}

}  // namespace
}  // namespace careshed

namespace careshed {
namespace {

TEST(PointWkb, SameBytesAsOgr) {
  EXPECT_EQ(point_wkb(118.87, -28.5), testing::wkb_from_wkt("POINT (118.87 -28.5)"));
  EXPECT_EQ(point_wkb(0, 1e300), testing::wkb_from_wkt("POINT (0 1e300)"));
}

}  // namespace
}  // namespace careshed
