// Tests of careshed/zonal.hpp: cell-centre and area-fraction rasterisation, zonal sums.
// Oracles: hand-computed squares/triangles, careshed::assign_points_to_zones at every cell centre (GEOS
// covers), GEOS polygon areas (geometry_areas) for the area-fraction totals.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include "careshed/geometry.hpp"
#include "careshed/zonal.hpp"
#include "vector_test_util.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

namespace careshed {
namespace {

using testing::test_seed;
using testing::wkb_from_wkt;

/// 10 × 10 cells of 1 m, origin (0, 10) top-left: cell (row, col) = [col, col+1] × [9-row, 10-row].
GridSpec unit_grid(int w = 10, int h = 10) {
  GridSpec g;
  g.width = w;
  g.height = h;
  g.geotransform = {0.0, 1.0, 0.0, double(h), 0.0, -1.0};
  g.crs_wkt = "";
  return g;
}

std::int64_t cell_at(const GridSpec& g, double x, double y) {  // cell containing an interior point
  const auto col = static_cast<std::int64_t>(std::floor((x - g.geotransform[0]) / g.geotransform[1]));
  const auto row = static_cast<std::int64_t>(std::floor((y - g.geotransform[3]) / g.geotransform[5]));
  return row * g.width + col;
}

/// Fraction of `cell` in `zone` according to a ZoneRaster (1/0 for whole cells).
double weight(const ZoneRaster& zr, std::int64_t cell, std::int32_t zone) {
  const std::int32_t z = zr.zone[static_cast<std::size_t>(cell)];
  if (z >= 0) return z == zone ? 1.0 : 0.0;
  if (z == kNoZone) return 0.0;
  double f = 0.0;
  for (const auto& s : zr.splits) {
    if (s.cell == cell && s.zone == zone) f += s.fraction;
  }
  return f;
}

TEST(RasterizeZones, SquareOnHalfCellsCentreRuleCountsBoundaryCentres) {
  // Square [2.5, 7.5]²: cell centres at 2.5 and 7.5 lie ON the boundary, which covers them → 6 × 6 cells.
  const GridSpec g = unit_grid();
  const auto zr = rasterize_zones({wkb_from_wkt("POLYGON((2.5 2.5,7.5 2.5,7.5 7.5,2.5 7.5,2.5 2.5))")}, g,
                                  ZoneRaster::Rule::CellCentre);
  EXPECT_TRUE(zr.splits.empty());
  int inside = 0;
  for (std::int64_t r = 0; r < 10; ++r) {
    for (std::int64_t c = 0; c < 10; ++c) {
      const double x = c + 0.5, y = 9.5 - r;
      const bool expect = x >= 2.5 && x <= 7.5 && y >= 2.5 && y <= 7.5;
      EXPECT_EQ(zr.zone[r * 10 + c], expect ? 0 : -1) << "row " << r << " col " << c;
      inside += expect;
    }
  }
  EXPECT_EQ(inside, 36);
}

TEST(RasterizeZones, SquareOnHalfCellsAreaFractions) {
  // Hand-worked: 16 whole cells, 16 edge cells cut in half, 4 corner cells with a quarter → area 25.
  const GridSpec g = unit_grid();
  const auto zr = rasterize_zones({wkb_from_wkt("POLYGON((2.5 2.5,7.5 2.5,7.5 7.5,2.5 7.5,2.5 2.5))")}, g,
                                  ZoneRaster::Rule::AreaFraction);
  int whole = 0, half = 0, quarter = 0;
  for (std::int64_t r = 0; r < 10; ++r) {
    for (std::int64_t c = 0; c < 10; ++c) {
      const double w = weight(zr, r * 10 + c, 0);
      const bool edge_x = c == 2 || c == 7, edge_y = r == 2 || r == 7;
      const bool in_x = c >= 2 && c <= 7, in_y = r >= 2 && r <= 7;
      double expect = 0.0;
      if (in_x && in_y) expect = (edge_x ? 0.5 : 1.0) * (edge_y ? 0.5 : 1.0);
      EXPECT_NEAR(w, expect, 1e-12) << "row " << r << " col " << c;
      whole += expect == 1.0;
      half += expect == 0.5;
      quarter += expect == 0.25;
      if (expect > 0 && expect < 1) EXPECT_EQ(zr.zone[r * 10 + c], kSplitCell);
    }
  }
  EXPECT_EQ(whole, 16);
  EXPECT_EQ(half, 16);
  EXPECT_EQ(quarter, 4);
  EXPECT_NEAR(zone_cell_counts(zr)[0], 25.0, 1e-12);
}

TEST(RasterizeZones, TriangleHandWorked) {
  // Triangle (0,0) (4,0) (0,4). Cells [i,i+1]×[j,j+1] with i+j <= 2 are whole (6), the hypotenuse x+y=4 cuts
  // the 4 cells with i+j = 3 exactly in half → area 8. Centre rule: centre sum (i+j+1) <= 4 → i+j <= 3 →
  // 10 cells (the 4 diagonal centres lie on the hypotenuse: covered).
  const GridSpec g = unit_grid();
  const Wkb tri = wkb_from_wkt("POLYGON((0 0,4 0,0 4,0 0))");
  const auto centre = rasterize_zones({tri}, g, ZoneRaster::Rule::CellCentre);
  const auto frac = rasterize_zones({tri}, g, ZoneRaster::Rule::AreaFraction);
  for (int i = 0; i < 10; ++i) {
    for (int j = 0; j < 10; ++j) {
      const std::int64_t cell = cell_at(g, i + 0.5, j + 0.5);
      EXPECT_EQ(centre.zone[static_cast<std::size_t>(cell)], i + j <= 3 ? 0 : -1) << i << "," << j;
      const double expect = i + j <= 2 ? 1.0 : (i + j == 3 ? 0.5 : 0.0);
      EXPECT_NEAR(weight(frac, cell, 0), expect, 1e-12) << i << "," << j;
    }
  }
  EXPECT_NEAR(zone_cell_counts(frac)[0], 8.0, 1e-12);
  EXPECT_NEAR(zone_cell_counts(centre)[0], 10.0, 0.0);
}

TEST(RasterizeZones, SharedBoundaryThroughCentresGoesToLowestIndex) {
  // Two zones meeting at x = 5.5, the centre line of column 5. Centre rule: column 5 → the lower index,
  // whichever zone that is; fraction rule: column 5 is split half/half.
  const GridSpec g = unit_grid();
  const Wkb left = wkb_from_wkt("POLYGON((0 0,5.5 0,5.5 10,0 10,0 0))");
  const Wkb right = wkb_from_wkt("POLYGON((5.5 0,10 0,10 10,5.5 10,5.5 0))");
  const auto a = rasterize_zones({left, right}, g, ZoneRaster::Rule::CellCentre);
  const auto b = rasterize_zones({right, left}, g, ZoneRaster::Rule::CellCentre);
  for (std::int64_t r = 0; r < 10; ++r) {
    EXPECT_EQ(a.zone[r * 10 + 5], 0);  // left is zone 0
    EXPECT_EQ(b.zone[r * 10 + 5], 0);  // right is zone 0
    EXPECT_EQ(a.zone[r * 10 + 4], 0);
    EXPECT_EQ(a.zone[r * 10 + 6], 1);
    EXPECT_EQ(b.zone[r * 10 + 4], 1);
  }
  const auto f = rasterize_zones({left, right}, g, ZoneRaster::Rule::AreaFraction);
  for (std::int64_t r = 0; r < 10; ++r) {
    EXPECT_EQ(f.zone[r * 10 + 5], kSplitCell);
    EXPECT_NEAR(weight(f, r * 10 + 5, 0), 0.5, 1e-12);
    EXPECT_NEAR(weight(f, r * 10 + 5, 1), 0.5, 1e-12);
  }
  const auto counts = zone_cell_counts(f);
  EXPECT_NEAR(counts[0], 55.0, 1e-12);
  EXPECT_NEAR(counts[1], 45.0, 1e-12);
}

TEST(RasterizeZones, HoleMultiPolygonAndGridEdgeAreas) {
  const GridSpec g = unit_grid();
  const Wkb holed = wkb_from_wkt("POLYGON((1 1,9 1,9 9,1 9,1 1),(3 3,3 7,7 7,7 3,3 3))");       // 64 - 16
  const Wkb multi = wkb_from_wkt("MULTIPOLYGON(((0 9,1 9,1 10,0 10,0 9)),((9.5 9,10 9,10 10,9.5 10,9.5 9)))");  // 1 + 0.5
  const Wkb outside = wkb_from_wkt("POLYGON((9.25 -1,12 -1,12 0.75,9.25 0.75,9.25 -1))");     // in grid: 0.75²
  for (auto rule : {ZoneRaster::Rule::AreaFraction}) {
    const auto f = rasterize_zones({holed, multi, outside}, g, rule);
    const auto counts = zone_cell_counts(f);
    EXPECT_NEAR(counts[0], 48.0, 1e-12);
    EXPECT_NEAR(counts[1], 1.5, 1e-12);
    EXPECT_NEAR(counts[2], 0.5625, 1e-12);
    // the hole's cells are in no zone
    EXPECT_EQ(f.zone[static_cast<std::size_t>(cell_at(g, 5.2, 5.2))], kNoZone);
    EXPECT_EQ(f.zone[static_cast<std::size_t>(cell_at(g, 2.5, 2.5))], 0);
  }
  const auto c = rasterize_zones({holed, multi, outside}, g, ZoneRaster::Rule::CellCentre);
  const auto counts = zone_cell_counts(c);
  EXPECT_EQ(counts[0], 48.0);  // 8×8 centres minus the 4×4 of the hole (cell edges on the rings: no ties)
  EXPECT_EQ(counts[1], 2.0);   // centre (9.5, 9.5) lies on the second part's left edge: covered
  EXPECT_EQ(counts[2], 1.0);   // centre (9.5, 0.5) is inside [9.25,12]×[-1,0.75]: 1 cell
}

std::string star_wkt(std::mt19937& rng, double cx, double cy, double rmin, double rmax, int n, double snap) {
  std::uniform_real_distribution<double> rad(rmin, rmax);
  std::vector<double> angles(static_cast<std::size_t>(n));
  std::uniform_real_distribution<double> ang(0.0, 2.0 * M_PI);
  for (auto& a : angles) a = ang(rng);
  std::sort(angles.begin(), angles.end());
  std::ostringstream w;
  w.precision(17);
  w << "POLYGON((";
  double fx = 0, fy = 0;
  for (int i = 0; i < n; ++i) {
    const double radius = rad(rng);
    double x = cx + radius * std::cos(angles[static_cast<std::size_t>(i)]);
    double y = cy + radius * std::sin(angles[static_cast<std::size_t>(i)]);
    if (snap > 0) {  // vertices on a lattice of cell centres / edges: many centres exactly on edges
      x = std::round(x / snap) * snap;
      y = std::round(y / snap) * snap;
    }
    if (i == 0) fx = x, fy = y;
    w << x << " " << y << ",";
  }
  w << fx << " " << fy << "))";
  return w.str();
}

TEST(RasterizeZones, CentreRuleEqualsPointInPolygonAtCellCentresRandom) {
  const unsigned seed = test_seed();
  std::mt19937 rng(seed);
  // A UTM-like grid of 10 m cells far from the origin, so the affine map to cell coordinates is exercised.
  GridSpec g;
  g.width = 80;
  g.height = 60;
  g.geotransform = {500000.0, 10.0, 0.0, 1000600.0, 0.0, -10.0};
  for (int trial = 0; trial < 12; ++trial) {
    std::vector<Wkb> zones;
    const double snap = trial % 2 == 0 ? 5.0 : 0.0;  // half-cell lattice: vertices at centres and corners
    // Snapped stars are sometimes invalid (a spike folds onto itself); draw again until 5 are valid, so no seed
    // leaves the trial short.
    for (int z = 0, attempts = 0; z < 5 && attempts < 1000; ++attempts) {
      std::uniform_real_distribution<double> ux(500100, 500700), uy(1000100, 1000500);
      Wkb w = wkb_from_wkt(star_wkt(rng, ux(rng), uy(rng), 20, 200, 7 + z * 3, snap));
      if (check_polygons({w}).empty()) zones.push_back(w), ++z;
    }
    ASSERT_EQ(zones.size(), 5u) << "no valid random zones in 1000 draws, seed " << seed;
    const auto zr = rasterize_zones(zones, g, ZoneRaster::Rule::CellCentre);
    std::vector<double> x, y;
    for (std::int64_t r = 0; r < g.height; ++r) {
      for (std::int64_t c = 0; c < g.width; ++c) {
        x.push_back(g.col_center_x(double(c)));
        y.push_back(g.row_center_y(double(r)));
      }
    }
    const auto expected = assign_points_to_zones(zones, x, y);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      ASSERT_EQ(zr.zone[i], expected[i]) << "trial " << trial << " cell " << i << " seed " << seed;
    }
  }
}

TEST(RasterizeZones, AreaFractionsSumToPolygonAreasRandom) {
  const unsigned seed = test_seed();
  std::mt19937 rng(seed);
  GridSpec g;
  g.width = 90;
  g.height = 70;
  g.geotransform = {300000.0, 25.0, 0.0, 4001750.0, 0.0, -25.0};
  for (int trial = 0; trial < 6; ++trial) {
    std::vector<Wkb> zones;
    for (int z = 0, attempts = 0; z < 4 && attempts < 1000; ++attempts) {  // redraw invalid stars (see above)
      std::uniform_real_distribution<double> ux(300500, 301700), uy(4000500, 4001250);
      Wkb w = wkb_from_wkt(star_wkt(rng, ux(rng), uy(rng), 30, 450, 6 + 5 * z, trial % 3 == 0 ? 12.5 : 0.0));
      if (check_polygons({w}).empty()) zones.push_back(w), ++z;
    }
    ASSERT_EQ(zones.size(), 4u) << "no valid random zones in 1000 draws, seed " << seed;
    // Overlapping random zones would count overlaps twice in split cells; test each zone on its own.
    for (const Wkb& w : zones) {
      const auto zr = rasterize_zones({w}, g, ZoneRaster::Rule::AreaFraction);
      const double area_cells = zone_cell_counts(zr)[0];
      const double area = geometry_areas({w})[0] / (25.0 * 25.0);
      EXPECT_NEAR(area_cells, area, 1e-9 * area) << "trial " << trial << " seed " << seed;
      for (const auto& s : zr.splits) {
        EXPECT_GT(s.fraction, 0.0);
        EXPECT_LT(s.fraction, 1.0);
      }
      // whole cells in fraction mode are exactly the centre-rule cells that no boundary cuts
      const auto cz = rasterize_zones({w}, g, ZoneRaster::Rule::CellCentre);
      for (std::size_t i = 0; i < zr.zone.size(); ++i) {
        if (zr.zone[i] != kSplitCell) ASSERT_EQ(zr.zone[i], cz.zone[i]) << "cell " << i << " seed " << seed;
      }
    }
  }
}

TEST(RasterizeZones, PartitionFractionsAddUpToOneInsideTheUnion) {
  // Four quadrants of a square, cut at a non-grid point: every cell inside the square has total weight 1.
  const GridSpec g = unit_grid(20, 20);
  const double cx = 9.37, cy = 11.61;
  std::vector<Wkb> q;
  std::ostringstream a, b, c, d;
  a.precision(17);
  b.precision(17);
  c.precision(17);
  d.precision(17);
  a << "POLYGON((2.3 2.3," << cx << " 2.3," << cx << " " << cy << ",2.3 " << cy << ",2.3 2.3))";
  b << "POLYGON((" << cx << " 2.3,17.9 2.3,17.9 " << cy << "," << cx << " " << cy << "," << cx << " 2.3))";
  c << "POLYGON((2.3 " << cy << "," << cx << " " << cy << "," << cx << " 17.9,2.3 17.9,2.3 " << cy << "))";
  d << "POLYGON((" << cx << " " << cy << ",17.9 " << cy << ",17.9 17.9," << cx << " 17.9," << cx << " " << cy << "))";
  for (const auto& s : {a.str(), b.str(), c.str(), d.str()}) q.push_back(wkb_from_wkt(s));
  const auto zr = rasterize_zones(q, g, ZoneRaster::Rule::AreaFraction);
  std::vector<double> total(static_cast<std::size_t>(g.size()), 0.0);
  for (std::int64_t i = 0; i < g.size(); ++i) {
    if (zr.zone[static_cast<std::size_t>(i)] >= 0) total[static_cast<std::size_t>(i)] = 1.0;
  }
  for (const auto& s : zr.splits) total[static_cast<std::size_t>(s.cell)] += s.fraction;
  for (int col = 3; col < 17; ++col) {
    for (int row = 3; row < 17; ++row) EXPECT_NEAR(total[static_cast<std::size_t>(row * 20 + col)], 1.0, 1e-12);
  }
  EXPECT_NEAR(zone_cell_counts(zr)[0], (cx - 2.3) * (cy - 2.3), 1e-9);
  EXPECT_NEAR(zone_cell_counts(zr)[3], (17.9 - cx) * (17.9 - cy), 1e-9);
  EXPECT_TRUE(std::is_sorted(zr.splits.begin(), zr.splits.end(), [](const auto& x, const auto& y) {
    return x.cell != y.cell ? x.cell < y.cell : x.zone < y.zone;
  }));
}

TEST(RasterizeZones, SouthUpAndLonLatGrids) {
  // The same triangle on a south-up grid (row 0 at the bottom): the hand-worked counts are unchanged.
  GridSpec up;
  up.width = 10;
  up.height = 10;
  up.geotransform = {0.0, 1.0, 0.0, 0.0, 0.0, 1.0};
  const Wkb tri = wkb_from_wkt("POLYGON((0 0,4 0,0 4,0 0))");
  EXPECT_NEAR(zone_cell_counts(rasterize_zones({tri}, up, ZoneRaster::Rule::AreaFraction))[0], 8.0, 1e-12);
  EXPECT_EQ(zone_cell_counts(rasterize_zones({tri}, up, ZoneRaster::Rule::CellCentre))[0], 10.0);
  // A lon/lat grid of 0.01° cells: fractions are of the cell's area in degrees².
  GridSpec ll;
  ll.width = 100;
  ll.height = 80;
  ll.geotransform = {118.0, 0.01, 0.0, 29.5, 0.0, -0.01};
  const Wkb quad = wkb_from_wkt("POLYGON((118.123 28.987,118.734 29.012,118.655 29.401,118.201 29.377,118.123 28.987))");
  const double area_deg2 = geometry_areas({quad})[0];
  EXPECT_NEAR(zone_cell_counts(rasterize_zones({quad}, ll, ZoneRaster::Rule::AreaFraction))[0] * 1e-4, area_deg2,
              1e-9 * area_deg2);
}

TEST(RasterizeZones, BadInputs) {
  const GridSpec g = unit_grid();
  EXPECT_THROW_MSG(rasterize_zones({wkb_from_wkt("POLYGON((0 0,4 4,4 0,0 4,0 0))")}, g, ZoneRaster::Rule::CellCentre),
                   InputError, "zone 0", "Self-intersection");
  EXPECT_THROW_MSG(rasterize_zones({wkb_from_wkt("POINT(1 1)")}, g, ZoneRaster::Rule::CellCentre), InputError, "zone 0",
                   "Point");
  EXPECT_THROW_MSG(rasterize_zones({Wkb{}}, g, ZoneRaster::Rule::AreaFraction), InputError, "zone 0");
  GridSpec rotated = g;
  rotated.geotransform[2] = 0.1;
  EXPECT_THROW_MSG(rasterize_zones({}, rotated, ZoneRaster::Rule::CellCentre), InputError, "rotated");
  EXPECT_THROW_MSG(zone_rule_from_string("majority"), InputError, "centre", "fraction");
  EXPECT_EQ(zone_rule_from_string("center"), ZoneRaster::Rule::CellCentre);
  EXPECT_EQ(zone_rule_from_string("area_fraction"), ZoneRaster::Rule::AreaFraction);
}

TEST(ZonalSum, HandWorkedWithSplitsAndNaN) {
  // 2 × 3 grid: zones [0, 1, -2; -1, 0, -2]; cell 2 is 0.25 zone 0 + 0.75 zone 1, cell 5 is 0.5 zone 1.
  const std::vector<std::int32_t> zone = {0, 1, -2, -1, 0, -2};
  const std::vector<std::int64_t> sc = {2, 2, 5};
  const std::vector<std::int32_t> sz = {0, 1, 1};
  const std::vector<double> sf = {0.25, 0.75, 0.5};
  const std::vector<double> v = {1.0, 10.0, 100.0, 1000.0, std::nan(""), 8.0};
  const auto s = zonal_sum(v.data(), 6, zone.data(), sc.data(), sz.data(), sf.data(), 3, 2);
  EXPECT_DOUBLE_EQ(s[0], 1.0 + 25.0);          // NaN in cell 4 skipped
  EXPECT_DOUBLE_EQ(s[1], 10.0 + 75.0 + 4.0);
  const std::vector<float> vf = {1.f, 10.f, 100.f, 1000.f, std::nanf(""), 8.f};
  const auto sf32 = zonal_sum(vf.data(), 6, zone.data(), sc.data(), sz.data(), sf.data(), 3, 2);
  EXPECT_DOUBLE_EQ(sf32[0], s[0]);
  EXPECT_DOUBLE_EQ(sf32[1], s[1]);
}

TEST(ZonalSum, MatchesPlainLoopOnLargeRandomInput) {
  const unsigned seed = test_seed();
  std::mt19937 rng(seed);
  const std::int64_t n = 1'000'003;
  const std::int32_t nz = 37;
  std::vector<std::int32_t> zone(static_cast<std::size_t>(n));
  std::vector<double> v(static_cast<std::size_t>(n));
  std::uniform_int_distribution<int> uz(-1, nz - 1);
  std::uniform_real_distribution<double> uv(0.0, 100.0);
  for (std::int64_t i = 0; i < n; ++i) {
    zone[static_cast<std::size_t>(i)] = uz(rng);
    v[static_cast<std::size_t>(i)] = i % 97 == 0 ? std::nan("") : uv(rng);
  }
  std::vector<long double> expect(nz, 0.0L);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto z = zone[static_cast<std::size_t>(i)];
    if (z >= 0 && !std::isnan(v[static_cast<std::size_t>(i)])) expect[static_cast<std::size_t>(z)] += v[static_cast<std::size_t>(i)];
  }
  const auto s = zonal_sum(v.data(), n, zone.data(), nullptr, nullptr, nullptr, 0, nz);
  const auto again = zonal_sum(v.data(), n, zone.data(), nullptr, nullptr, nullptr, 0, nz);
  for (std::int32_t z = 0; z < nz; ++z) {
    EXPECT_NEAR(s[static_cast<std::size_t>(z)], static_cast<double>(expect[static_cast<std::size_t>(z)]),
                1e-9 * static_cast<double>(expect[static_cast<std::size_t>(z)]));
    EXPECT_EQ(s[static_cast<std::size_t>(z)], again[static_cast<std::size_t>(z)]);  // bit-identical reruns
  }
}

TEST(ZonalSum, BadArrays) {
  const std::vector<std::int32_t> zone = {0, 3};
  const std::vector<double> v = {1.0, 2.0};
  EXPECT_THROW_MSG(zonal_sum(v.data(), 2, zone.data(), nullptr, nullptr, nullptr, 0, 2), InputError, "cell 1", "zone 3");
  const std::vector<std::int32_t> ok = {0, -2};
  const std::vector<std::int64_t> sc = {7};
  const std::vector<std::int32_t> sz = {0};
  const std::vector<double> sf = {0.5};
  EXPECT_THROW_MSG(zonal_sum(v.data(), 2, ok.data(), sc.data(), sz.data(), sf.data(), 1, 2), InputError, "cell 7");
  const std::vector<std::int64_t> sc1 = {1};
  const std::vector<double> bad_f = {1.5};
  EXPECT_THROW_MSG(zonal_sum(v.data(), 2, ok.data(), sc1.data(), sz.data(), bad_f.data(), 1, 2), InputError,
                   "fraction");
}

}  // namespace
}  // namespace careshed

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace careshed {
namespace {

TEST(ZonalControl, SameZonesWithAControlAndCancelStopsRasterizing) {
  // 40 diamonds over a 400 x 400 grid, area fractions on their edges.
  const GridSpec g = unit_grid(400, 400);
  std::vector<Wkb> zones;
  for (int i = 0; i < 40; ++i) {
    const double cx = 20 + (i % 8) * 50, cy = 20 + (i / 8) * 80, r = 18.3;
    zones.push_back(wkb_from_wkt("POLYGON ((" + std::to_string(cx - r) + " " + std::to_string(cy) + ", " +
                                 std::to_string(cx) + " " + std::to_string(cy + r) + ", " + std::to_string(cx + r) +
                                 " " + std::to_string(cy) + ", " + std::to_string(cx) + " " +
                                 std::to_string(cy - r) + ", " + std::to_string(cx - r) + " " + std::to_string(cy) +
                                 "))"));
  }
  const ZoneRaster a = rasterize_zones(zones, g, ZoneRaster::Rule::AreaFraction);
  ZoneRaster b;
  careshed_test::watch_progress(
      [&](RunControl* c) { b = rasterize_zones(zones, g, ZoneRaster::Rule::AreaFraction, c); }, "rasterize_zones");
  EXPECT_EQ(a.zone, b.zone);
  ASSERT_EQ(a.splits.size(), b.splits.size());
  for (std::size_t i = 0; i < a.splits.size(); ++i) {
    EXPECT_EQ(a.splits[i].cell, b.splits[i].cell);
    EXPECT_EQ(a.splits[i].fraction, b.splits[i].fraction);
  }
  careshed_test::expect_stops_when_cancelled_before(
      [&](RunControl* c) { rasterize_zones(zones, g, ZoneRaster::Rule::AreaFraction, c); }, "rasterize_zones");
}

}  // namespace
}  // namespace careshed
