// Tests of careshed/isochrones.hpp: every polygon valid (GEOSisValid_r), a band's (label's) area = its cell count ×
// cell area (exact before simplification), holes kept, rings vs cumulative bands, 4- vs 8-connectivity, on
// hand-made grids and on random grids (logged seed); label_polygons on its own (parts, holes, absent labels,
// negative cells, labels beyond a byte).
#define GEOS_USE_ONLY_R_API
#include "careshed/isochrones.hpp"

#include <geos_c.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "test_seed.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::IsochroneBand;
using careshed::IsochroneBands;
using careshed::IsochroneOptions;
using careshed::LabelPolygonOptions;

constexpr float kInfF = std::numeric_limits<float>::infinity();

/// A GEOS context for the checks.
struct Geos {
  GEOSContextHandle_t h = GEOS_init_r();
  ~Geos() { GEOS_finish_r(h); }
  GEOSGeometry* read(const careshed::Wkb& w) {
    GEOSWKBReader* r = GEOSWKBReader_create_r(h);
    GEOSGeometry* g = GEOSWKBReader_read_r(h, r, w.data(), w.size());
    GEOSWKBReader_destroy_r(h, r);
    return g;
  }
};

/// Facts about one band polygon, read back from its WKB with GEOS.
struct Facts {
  bool valid = false;
  int type = -1;
  double area = 0;
  int parts = 0;
  int holes = 0;
};

Facts facts(const careshed::Wkb& w) {
  Geos geos;
  Facts f;
  GEOSGeometry* g = geos.read(w);
  if (g == nullptr) return f;
  f.valid = GEOSisValid_r(geos.h, g) == 1;
  f.type = GEOSGeomTypeId_r(geos.h, g);
  GEOSArea_r(geos.h, g, &f.area);
  f.parts = GEOSGetNumGeometries_r(geos.h, g);
  for (int i = 0; i < f.parts; ++i) f.holes += GEOSGetNumInteriorRings_r(geos.h, GEOSGetGeometryN_r(geos.h, g, i));
  GEOSGeom_destroy_r(geos.h, g);
  return f;
}

careshed::GridSpec grid_of(std::int64_t w, std::int64_t h, double cell) {
  careshed::GridSpec g;
  g.width = w;
  g.height = h;
  g.geotransform = {500000.0, cell, 0.0, 3300000.0, 0.0, -cell};
  return g;
}

// 5 x 5 grid of 100 m cells: a 3 x 3 block at 5 min around one slow cell (20 min) in the centre; the border
// at 40 min (beyond the last threshold) except one unreachable corner.
//   ring 1 (0-10 min): the 8 cells around the centre → one polygon with a one-cell hole;
//   ring 2 (10-30 min): the centre cell.
TEST(Isochrones, HandGridRingsWithHole) {
  std::vector<float> s(25, 2400.0f);
  for (int r = 1; r <= 3; ++r)
    for (int c = 1; c <= 3; ++c) s[static_cast<std::size_t>(r * 5 + c)] = 300.0f;
  s[12] = 1200.0f;
  s[0] = kInfF;
  s[6] = 600.0f;  // exactly 10 min: ring 1 (inclusive upper bound)
  const auto bands = careshed::isochrone_polygons(s.data(), grid_of(5, 5, 100), {10, 30});
  ASSERT_EQ(bands.size(), 2u);
  EXPECT_EQ(bands[0].from_minutes, 0);
  EXPECT_EQ(bands[0].to_minutes, 10);
  EXPECT_EQ(bands[1].from_minutes, 10);
  EXPECT_EQ(bands[1].to_minutes, 30);
  EXPECT_EQ(bands[0].cells, 8);
  EXPECT_EQ(bands[1].cells, 1);
  const Facts f0 = facts(bands[0].wkb), f1 = facts(bands[1].wkb);
  EXPECT_TRUE(f0.valid);
  EXPECT_EQ(f0.type, GEOS_MULTIPOLYGON);
  EXPECT_EQ(f0.parts, 1);
  EXPECT_EQ(f0.holes, 1);  // the slow centre is a hole of the 10-minute ring
  EXPECT_DOUBLE_EQ(f0.area, 8 * 100.0 * 100.0);
  EXPECT_DOUBLE_EQ(bands[0].area, f0.area);
  EXPECT_TRUE(f1.valid);
  EXPECT_EQ(f1.holes, 0);
  EXPECT_DOUBLE_EQ(f1.area, 100.0 * 100.0);
}

TEST(Isochrones, HandGridCumulativeFillsTheHole) {
  std::vector<float> s(25, 2400.0f);
  for (int r = 1; r <= 3; ++r)
    for (int c = 1; c <= 3; ++c) s[static_cast<std::size_t>(r * 5 + c)] = 300.0f;
  s[12] = 1200.0f;
  IsochroneOptions o;
  o.bands = IsochroneBands::Cumulative;
  const auto bands = careshed::isochrone_polygons(s.data(), grid_of(5, 5, 100), {10, 30}, o);
  EXPECT_EQ(bands[1].from_minutes, 0);
  EXPECT_EQ(bands[1].cells, 9);
  const Facts f1 = facts(bands[1].wkb);
  EXPECT_TRUE(f1.valid);
  EXPECT_EQ(f1.parts, 1);
  EXPECT_EQ(f1.holes, 0);
  EXPECT_DOUBLE_EQ(f1.area, 9 * 100.0 * 100.0);
}

// Two cells touching only at a corner: two parts with 4-connectivity; with 8-connectivity GDAL traces them as
// one ring that touches itself, which must still come out valid (MakeValid) with the same area.
TEST(Isochrones, DiagonalNeighboursFourAndEightConnected) {
  std::vector<float> s = {60.0f, 2400.0f, 2400.0f, 60.0f};
  for (bool eight : {false, true}) {
    IsochroneOptions o;
    o.eight_connected = eight;
    const auto bands = careshed::isochrone_polygons(s.data(), grid_of(2, 2, 10), {5}, o);
    const Facts f = facts(bands[0].wkb);
    EXPECT_TRUE(f.valid) << "eight_connected " << eight;
    EXPECT_DOUBLE_EQ(f.area, 200.0);
    EXPECT_EQ(bands[0].cells, 2);
  }
}

// Holes touching each other or the outer boundary at a single corner: the traced rings pinch at that point.
// Whatever GDAL makes of them, the band must come out valid with the exact area, in both connectivities.
TEST(Isochrones, CornerTouchingHolesAreValid) {
  const float F = 60.0f, S = 3600.0f;  // fast (band 1) / slow (no band)
  const std::vector<std::vector<float>> cases = {
      {F, F, F, F, F, S, F, F, F, F, S, F, F, F, F, F},  // two holes touching diagonally (4 x 4)
      {S, F, F, F, S, F, F, F, F},                       // a hole touching the outside at a corner (3 x 3)
      {F, S, F, S, F, S, F, S, F},                       // checkerboard (3 x 3)
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const auto& s = cases[i];
    const std::int64_t n = s.size() == 16 ? 4 : 3;
    std::int64_t fast = 0;
    for (float t : s) fast += t == F ? 1 : 0;
    for (bool eight : {false, true}) {
      IsochroneOptions o;
      o.eight_connected = eight;
      const auto bands = careshed::isochrone_polygons(s.data(), grid_of(n, n, 10), {5}, o);
      const Facts f = facts(bands[0].wkb);
      EXPECT_TRUE(f.valid) << "case " << i << " eight " << eight;
      EXPECT_EQ(f.area, 100.0 * static_cast<double>(fast)) << "case " << i << " eight " << eight;
    }
  }
}

TEST(Isochrones, EmptyBandIsAnEmptyMultiPolygon) {
  std::vector<float> s(4, kInfF);
  const auto bands = careshed::isochrone_polygons(s.data(), grid_of(2, 2, 10), {5, 10});
  for (const auto& b : bands) {
    const Facts f = facts(b.wkb);
    EXPECT_EQ(f.type, GEOS_MULTIPOLYGON);
    EXPECT_EQ(f.area, 0.0);
    EXPECT_EQ(b.cells, 0);
  }
}

TEST(Isochrones, RandomGridsValidAndAreaEqualsCellCount) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::printf("isochrones seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const double cell = 25.0;
  for (int trial = 0; trial < 3; ++trial) {
    const std::int64_t w = 30 + trial * 7, h = 25 + trial * 3;
    // Smooth-ish field (distance from a few random sources, jittered) so bands form blobs with holes.
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<std::pair<double, double>> src(3);
    for (auto& p : src) p = {u(rng) * static_cast<double>(w), u(rng) * static_cast<double>(h)};
    std::vector<float> s(static_cast<std::size_t>(w * h));
    std::vector<double> thresholds = {5, 10, 15, 25};
    for (std::int64_t r = 0; r < h; ++r) {
      for (std::int64_t c = 0; c < w; ++c) {
        double d = 1e30;
        for (auto [x, y] : src) d = std::min(d, std::hypot(static_cast<double>(c) - x, static_cast<double>(r) - y));
        double t = d * 40.0 + u(rng) * 240.0;  // seconds
        if (u(rng) < 0.03) t = std::numeric_limits<double>::infinity();
        s[static_cast<std::size_t>(r * w + c)] = static_cast<float>(t);
      }
    }
    for (auto mode : {IsochroneBands::Rings, IsochroneBands::Cumulative}) {
      for (bool eight : {false, true}) {
        for (bool simplify : {false, true}) {
          IsochroneOptions o;
          o.bands = mode;
          o.eight_connected = eight;
          o.simplify = simplify;
          const auto bands = careshed::isochrone_polygons(s.data(), grid_of(w, h, cell), thresholds, o);
          ASSERT_EQ(bands.size(), thresholds.size());
          std::int64_t cum = 0;
          for (std::size_t k = 0; k < bands.size(); ++k) {
            // Cell counts from the grid itself (the oracle), per the band definition.
            std::int64_t n = 0;
            const double lo = (mode == IsochroneBands::Rings && k > 0) ? thresholds[k - 1] * 60 : -1;
            for (float t : s) {
              if (t > lo && t <= thresholds[k] * 60) ++n;
            }
            cum += n;
            EXPECT_EQ(bands[k].cells, n);
            const Facts f = facts(bands[k].wkb);
            EXPECT_TRUE(f.valid) << "band " << k << " eight " << eight << " simplify " << simplify;
            EXPECT_EQ(f.type, GEOS_MULTIPOLYGON);
            if (!simplify) {
              // Exact: the outlines follow cell edges, whose coordinates (multiples of 25 m) and the shoelace
              // products are integers well below 2^53.
              EXPECT_EQ(f.area, static_cast<double>(n) * cell * cell) << "band " << k;
              EXPECT_EQ(bands[k].area, f.area);
            } else if (n > 0) {
              EXPECT_GT(f.area, 0.0);  // simplified: areas move a little, but the band never vanishes
            }
          }
        }
      }
    }
  }
}

TEST(Isochrones, BadInputIsRefused) {
  std::vector<float> s(4, 60.0f);
  EXPECT_THROW(careshed::isochrone_polygons(s.data(), grid_of(2, 2, 10), {}), careshed::InputError);
  EXPECT_THROW(careshed::isochrone_polygons(s.data(), grid_of(2, 2, 10), {10, 5}), careshed::InputError);
  EXPECT_THROW(careshed::isochrone_polygons(s.data(), grid_of(2, 2, 10), {0}), careshed::InputError);
  s[1] = -1.0f;
  EXPECT_THROW(careshed::isochrone_polygons(s.data(), grid_of(2, 2, 10), {5}), careshed::InputError);
  EXPECT_THROW(careshed::isochrone_polygons(nullptr, grid_of(2, 2, 10), {5}), careshed::InputError);
}

// label_polygons on a hand-made 6 x 5 label grid (25 m cells; -1/-5 = no polygon):
//    0    0   -1    1    1    1
//   -1   -1   -1    1    2    1
//    0   -1   -1    1    1    1
//    0   -5 1000 1000   -1   -1
//   -1   -1 1000   -1    4    4
// label 0: two separate parts (two rows apart, so also in 8-connectivity); label 1: a ring around label 2 (one
// part, one hole); label 3 and 5..999: absent (empty MultiPolygon); label 1000: beyond a byte (Int32 raster).
TEST(LabelPolygons, HandGridPartsHolesAbsentAndNegative) {
  const std::vector<std::int32_t> labels = {
      0,  0,  -1,   1,    1,  1,   //
      -1, -1, -1,   1,    2,  1,   //
      0,  -1, -1,   1,    1,  1,   //
      0,  -5, 1000, 1000, -1, -1,  //
      -1, -1, 1000, -1,   4,  4,   //
  };
  const std::int32_t n_labels = 1001;
  const double cell = 25.0;
  for (bool eight : {false, true}) {
    SCOPED_TRACE(eight ? "8-connected" : "4-connected");
    LabelPolygonOptions o;
    o.eight_connected = eight;
    const auto polys = careshed::label_polygons(labels.data(), grid_of(6, 5, cell), n_labels, o);
    ASSERT_EQ(polys.size(), static_cast<std::size_t>(n_labels));
    for (std::int32_t k = 0; k < n_labels; ++k) {
      std::int64_t n = 0;  // oracle: count the grid
      for (std::int32_t v : labels) n += v == k ? 1 : 0;
      const Facts f = facts(polys[static_cast<std::size_t>(k)].wkb);
      EXPECT_TRUE(f.valid) << "label " << k;
      EXPECT_EQ(f.type, GEOS_MULTIPOLYGON) << "label " << k;
      EXPECT_EQ(polys[static_cast<std::size_t>(k)].cells, n) << "label " << k;
      // Exact: cell-edge coordinates are multiples of 25 m, the shoelace sums integers below 2^53.
      EXPECT_EQ(f.area, static_cast<double>(n) * cell * cell) << "label " << k;
      EXPECT_EQ(polys[static_cast<std::size_t>(k)].area, f.area) << "label " << k;
      if (n == 0) EXPECT_EQ(f.parts, 0) << "label " << k;
    }
    EXPECT_EQ(polys[0].cells, 4);
    EXPECT_EQ(facts(polys[0].wkb).parts, 2);
    EXPECT_EQ(facts(polys[0].wkb).holes, 0);
    EXPECT_EQ(polys[1].cells, 8);
    EXPECT_EQ(facts(polys[1].wkb).parts, 1);
    EXPECT_EQ(facts(polys[1].wkb).holes, 1);
    EXPECT_EQ(polys[2].cells, 1);
    EXPECT_EQ(polys[3].cells, 0);
    EXPECT_EQ(polys[4].cells, 2);
    EXPECT_EQ(polys[1000].cells, 3);
    EXPECT_EQ(facts(polys[1000].wkb).parts, 1);
  }
}

// Random label grids (logged seed): per label, cells = the grid's count and area = cells × cell area exactly,
// always valid, in both connectivities.
TEST(LabelPolygons, RandomLabelGrids) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::printf("label_polygons seed %llu\n", static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const double cell = 10.0;
  const std::int64_t w = 23, h = 17;
  const std::int32_t n_labels = 6;
  std::uniform_int_distribution<int> lab(-2, n_labels - 1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int trial = 0; trial < 3; ++trial) {
    // Blocky labels (copy the left or upper neighbour most of the time) so runs, parts and holes form.
    std::vector<std::int32_t> labels(static_cast<std::size_t>(w * h));
    for (std::int64_t r = 0; r < h; ++r) {
      for (std::int64_t c = 0; c < w; ++c) {
        std::int32_t v = lab(rng);
        const double x = u(rng);
        if (x < 0.35 && c > 0) v = labels[static_cast<std::size_t>(r * w + c - 1)];
        else if (x < 0.7 && r > 0) v = labels[static_cast<std::size_t>((r - 1) * w + c)];
        labels[static_cast<std::size_t>(r * w + c)] = v;
      }
    }
    for (bool eight : {false, true}) {
      LabelPolygonOptions o;
      o.eight_connected = eight;
      const auto polys = careshed::label_polygons(labels.data(), grid_of(w, h, cell), n_labels, o);
      ASSERT_EQ(polys.size(), static_cast<std::size_t>(n_labels));
      for (std::int32_t k = 0; k < n_labels; ++k) {
        std::int64_t n = 0;
        for (std::int32_t v : labels) n += v == k ? 1 : 0;
        const Facts f = facts(polys[static_cast<std::size_t>(k)].wkb);
        EXPECT_TRUE(f.valid) << "trial " << trial << " label " << k << " eight " << eight;
        EXPECT_EQ(polys[static_cast<std::size_t>(k)].cells, n);
        EXPECT_EQ(f.area, static_cast<double>(n) * cell * cell) << "trial " << trial << " label " << k;
      }
    }
  }
}

TEST(LabelPolygons, BadInputIsRefused) {
  const std::vector<std::int32_t> labels = {0, 1, -1, 2};
  EXPECT_THROW(careshed::label_polygons(labels.data(), grid_of(2, 2, 10), 2), careshed::InputError);  // 2 >= n
  EXPECT_THROW(careshed::label_polygons(labels.data(), grid_of(2, 2, 10), 0), careshed::InputError);
  EXPECT_THROW(careshed::label_polygons(nullptr, grid_of(2, 2, 10), 3), careshed::InputError);
  EXPECT_THROW(careshed::label_polygons(labels.data(), grid_of(2, 2, 0), 3), careshed::InputError);
  EXPECT_EQ(careshed::label_polygons(labels.data(), grid_of(2, 2, 10), 3).size(), 3u);
}

}  // namespace

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

// Rings and cumulative bands of a 600 x 500 field of random times (seeded): the same polygons with a
// control, progress to 1, and a cancelled control stops both modes (GDALPolygonize's callback included).
TEST(IsochronesControl, SameBandsWithAControlAndCancelStops) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 1.0f);
  const std::int64_t w = 600, h = 500;
  std::vector<float> s(static_cast<std::size_t>(w * h));
  for (std::int64_t r = 0; r < h; ++r)
    for (std::int64_t c = 0; c < w; ++c)  // a smooth cone plus noise: bands with ragged edges
      s[static_cast<std::size_t>(r * w + c)] = static_cast<float>(std::hypot(r - 250, c - 300) * 6.0 + 120.0 * u(rng));
  const careshed::GridSpec grid = grid_of(w, h, 100);
  for (IsochroneBands mode : {IsochroneBands::Rings, IsochroneBands::Cumulative}) {
    IsochroneOptions o;
    o.bands = mode;
    const auto a = careshed::isochrone_polygons(s.data(), grid, {5, 10, 20}, o);
    std::vector<IsochroneBand> b;
    careshed_test::watch_progress(
        [&](careshed::RunControl* c) { b = careshed::isochrone_polygons(s.data(), grid, {5, 10, 20}, o, c); },
        "isochrone_polygons");
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].wkb, b[k].wkb) << "band " << k;
    careshed_test::expect_stops_when_cancelled_before(
        [&](careshed::RunControl* c) { careshed::isochrone_polygons(s.data(), grid, {5, 10, 20}, o, c); },
        "isochrone_polygons");
  }
}

}  // namespace
