// Tests of careshed/terrain.hpp: the directed (anisotropic) grid search against
//  (1) closed forms on analytic cones and planes (Tobler and r.walk; uphill != downhill; symmetric when flat),
//  (2) the isotropic engine on flat ground (bit for bit),
//  (3) a plain Dijkstra written here on the explicit directed 8/16-neighbour graph, on random DEMs with NaN
//      holes (seed logged, CARESHED_TEST_SEED replays), reproducing the documented tick arithmetic exactly;
// and read_elevation_into on tiles mosaicked through a VRT, on real SRTM tiles of the Comoros, and its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <unistd.h>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "careshed/crs.hpp"
#include "careshed/error.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/terrain.hpp"
#include "cutoff_ticks.hpp"
#include "raster_test_grid.hpp"
#include "test_seed.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::CellLabel;
using careshed::FrictionGrid;
using careshed::RasterSearchOptions;
using careshed::RWalkCoefficients;
using careshed::SlopeModel;
using careshed::TerrainModel;
using careshed::TravelDirection;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint64_t kNone = std::numeric_limits<std::uint64_t>::max();

using careshed_test::kDc;
using careshed_test::kDr;

int opposite(int k) {
  for (int j = 0; j < 16; ++j)
    if (kDr[j] == -kDr[k] && kDc[j] == -kDc[k]) return j;
  return -1;
}

struct Terrain {
  int rows = 0, cols = 0;
  double dx = 30, dy = 30;
  std::vector<double> row_dx;
  std::vector<double> f;
  std::vector<float> z;
  FrictionGrid view() const { return careshed_test::friction_view(rows, cols, f.data(), nullptr, dx, dy, row_dx); }
  bool ok(int r, int c) const {
    const std::size_t i = static_cast<std::size_t>(r) * cols + c;
    return std::isfinite(f[i]) && !std::isnan(z[i]);
  }
};

std::vector<CellLabel> run(const Terrain& t, const TerrainModel& m, const std::vector<std::int64_t>& src,
                           const RasterSearchOptions& o, careshed::RasterSearchStats* st = nullptr) {
  std::vector<CellLabel> out(static_cast<std::size_t>(t.rows) * t.cols);
  TerrainModel mm = m;
  mm.elevation_m = t.z.data();
  const auto s = careshed::raster_travel_time_terrain(t.view(), mm, src.data(), src.size() / 2, o, out.data());
  if (st) *st = s;
  return out;
}

// ---- the oracle: the documented cost of the traveller's move a -> b, in ticks -------------------------------
// Returns false when the move is blocked. k is the direction of the move a -> b.
bool travel_ticks(const Terrain& t, const TerrainModel& m, int ra, int ca, int k, double scale, std::uint64_t* out) {
  const int rb = ra + kDr[k], cb = ca + kDc[k];
  if (rb < 0 || rb >= t.rows || cb < 0 || cb >= t.cols) return false;
  if (!t.ok(ra, ca) || !t.ok(rb, cb)) return false;
  const double L = careshed_test::move_length(ra, k, t.dx, t.dy, t.row_dx);
  const std::size_t ia = static_cast<std::size_t>(ra) * t.cols + ca, ib = static_cast<std::size_t>(rb) * t.cols + cb;
  double fsum = t.f[ia] + t.f[ib];
  double h = 0.5 * L * scale;
  if (k >= 8) {
    int r1, c1, r2, c2;
    careshed_test::knight_mid_cells(ra, ca, k, &r1, &c1, &r2, &c2);
    if (!t.ok(r1, c1) || !t.ok(r2, c2)) return false;
    fsum = fsum + (t.f[static_cast<std::size_t>(r1) * t.cols + c1] + t.f[static_cast<std::size_t>(r2) * t.cols + c2]);
    h = 0.25 * L * scale;
  }
  const double dz = static_cast<double>(t.z[ib]) - static_cast<double>(t.z[ia]);
  const double S = dz * (1.0 / L);
  double w;
  if (m.slope_model == SlopeModel::Tobler) {
    w = (fsum * h) * std::exp(3.5 * (std::fabs(S + 0.05) - 0.05));
  } else {
    const RWalkCoefficients& c = m.rwalk;
    const double walk = dz > 0 ? c.a * L + c.b * dz : (S < c.slope_factor ? c.a * L + c.d * dz : c.a * L + c.c * dz);
    w = walk * scale + c.lambda * (fsum * h);
  }
  *out = static_cast<std::uint64_t>(std::floor(w + 0.5));
  return true;
}

// Per-source plain Dijkstra on the explicit directed graph of K neighbours. Toward the sources, the time of
// cell x is the cheapest trip x -> source: searched backwards from the source, over the edges y -> x costed
// in the traveller's direction y -> x.
std::vector<std::uint64_t> oracle(const Terrain& t, const TerrainModel& m, int K, int sr, int sc,
                                  std::uint64_t start, double scale, std::uint64_t cut) {
  return careshed_test::dijkstra_oracle<std::uint64_t>(
      t.rows, t.cols, K, sr, sc, start, cut, kNone, t.ok(sr, sc), [&](int ru, int cu, int k, std::uint64_t* w) {
        return m.direction == TravelDirection::TowardSources
                   ? travel_ticks(t, m, ru + kDr[k], cu + kDc[k], opposite(k), scale, w)  // traveller goes v -> u
                   : travel_ticks(t, m, ru, cu, k, scale, w);                             // traveller goes u -> v
      });
}

// ---- closed forms --------------------------------------------------------------------------------------------

// A cone of slope s around the centre cell (apex there if s > 0 means the apex is the highest point: z = H - s r).
Terrain cone(int n, double cell, double f, double s) {
  Terrain t;
  t.rows = t.cols = n;
  t.dx = t.dy = cell;
  t.f.assign(static_cast<std::size_t>(n) * n, f);
  t.z.resize(t.f.size());
  const int c0 = n / 2;
  for (int r = 0; r < n; ++r)
    for (int c = 0; c < n; ++c)
      t.z[static_cast<std::size_t>(r) * n + c] =
          static_cast<float>(1000.0 - s * cell * std::hypot(r - c0, c - c0));
  return t;
}

// Cells on the 8 rays from the centre (rook and diagonal), with their distance in metres.
template <class F>
void for_ray_cells(int n, double cell, F&& fn) {
  const int c0 = n / 2;
  for (int k = 0; k < 8; ++k)
    for (int j = 1; j <= c0; ++j) {
      const int r = c0 + j * kDr[k], c = c0 + j * kDc[k];
      if (r < 0 || r >= n || c < 0 || c >= n) continue;
      fn(r, c, cell * std::hypot(j * kDr[k], j * kDc[k]));
    }
}

TEST(TerrainClosedForm, ToblerConeUphillAndDownhill) {
  const int n = 41;
  const double cell = 30, f = 0.72, s = 0.15;  // |S| < 1/3.5: the straight ray is the fastest path
  const Terrain t = cone(n, cell, f, s);       // apex = the facility
  const std::vector<std::int64_t> src = {n / 2, n / 2};
  TerrainModel toward, away;
  away.direction = TravelDirection::FromSources;
  const auto up = run(t, toward, src, {});     // patients walk UP to the facility on the summit
  const auto down = run(t, away, src, {});     // the facility's staff walk down
  int checked = 0;
  for_ray_cells(n, cell, [&](int r, int c, double dist) {
    const std::size_t i = static_cast<std::size_t>(r) * n + c;
    const double want_up = dist * f * std::exp(3.5 * s);                    // S = +0.15
    const double want_down = dist * f * std::exp(3.5 * (s - 0.05 - 0.05));  // S = -0.15
    EXPECT_NEAR(up[i].seconds, want_up, 2e-6 * want_up) << r << "," << c;
    EXPECT_NEAR(down[i].seconds, want_down, 2e-6 * want_down) << r << "," << c;
    EXPECT_GT(up[i].seconds, down[i].seconds * 1.3);  // uphill != downhill
    ++checked;
  });
  EXPECT_EQ(checked, 8 * (n / 2));
}

TEST(TerrainClosedForm, RWalkConeMatchesFormula) {
  const int n = 31;
  const double cell = 25, f = 0.1, s = 0.12;  // moderate downhill (S > slope_factor)
  const Terrain valley = cone(n, cell, f, -s);  // the facility at the bottom: patients walk DOWN to it
  const std::vector<std::int64_t> src = {n / 2, n / 2};
  TerrainModel m;
  m.slope_model = SlopeModel::RWalk;
  m.rwalk.lambda = 0.5;
  const auto toward = run(valley, m, src, {});
  m.direction = TravelDirection::FromSources;
  const auto from = run(valley, m, src, {});
  const RWalkCoefficients& w = m.rwalk;
  for_ray_cells(n, cell, [&](int r, int c, double dist) {
    const std::size_t i = static_cast<std::size_t>(r) * n + c;
    // The drop from the cell to the bottom, from the float32 elevations the search reads (s * dist to 1e-7).
    const double H = static_cast<double>(valley.z[i]) - static_cast<double>(valley.z[(n / 2) * n + n / 2]);
    EXPECT_NEAR(H, s * dist, 1e-4);
    const double want_down = w.a * dist - w.c * H + w.lambda * f * dist;  // walk down: c * dz, dz = -H
    const double want_up = w.a * dist + w.b * H + w.lambda * f * dist;    // walk back up: b * dz
    EXPECT_NEAR(toward[i].seconds, want_down, 2e-6 * want_down);
    EXPECT_NEAR(from[i].seconds, want_up, 2e-6 * want_up);
  });
}

TEST(TerrainClosedForm, TiltedPlaneAlongRows) {
  // z = g * x: walking east climbs. Facility in the middle of the middle row.
  const int rows = 5, cols = 61;
  const double cell = 20, f = 0.5, g = 0.08;
  Terrain t;
  t.rows = rows, t.cols = cols, t.dx = t.dy = cell;
  t.f.assign(static_cast<std::size_t>(rows) * cols, f);
  t.z.resize(t.f.size());
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) t.z[static_cast<std::size_t>(r) * cols + c] = static_cast<float>(g * cell * c);
  const int r0 = 2, c0 = 30;
  const auto out = run(t, TerrainModel{}, {r0, c0}, {});
  for (int c = 0; c < cols; ++c) {
    const double dist = cell * std::abs(c - c0);
    // A patient west of the facility walks uphill (S = +g), east of it downhill (S = -g).
    const double S = c < c0 ? g : -g;
    const double want = dist * f * careshed::tobler_slope_factor(S);
    EXPECT_NEAR(out[static_cast<std::size_t>(r0) * cols + c].seconds, want, 2e-6 * want + 1e-9) << c;
  }
  // The two sides at equal distance differ (uphill != downhill).
  EXPECT_GT(out[static_cast<std::size_t>(r0) * cols + c0 - 10].seconds,
            out[static_cast<std::size_t>(r0) * cols + c0 + 10].seconds * 1.2);
}

TEST(TerrainClosedForm, FlatGroundIsSymmetricAndEqualsTheIsotropicEngine) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int rep = 0; rep < 20; ++rep) {
    Terrain t;
    t.rows = 1 + static_cast<int>(30 * u(rng));
    t.cols = 1 + static_cast<int>(30 * u(rng));
    t.dx = 10 + 90 * u(rng);
    t.dy = u(rng) < 0.5 ? t.dx : 10 + 90 * u(rng);
    t.f.resize(static_cast<std::size_t>(t.rows) * t.cols);
    for (auto& x : t.f) x = u(rng) < 0.15 ? std::nan("") : 0.05 + 2 * u(rng);
    t.z.assign(t.f.size(), static_cast<float>(500 * u(rng)));  // flat at any height
    std::vector<std::int64_t> src;
    const int ns = 1 + static_cast<int>(4 * u(rng));
    for (int s = 0; s < ns; ++s) {
      src.push_back(static_cast<int>(t.rows * u(rng)));
      src.push_back(static_cast<int>(t.cols * u(rng)));
    }
    RasterSearchOptions o;
    o.neighbours = u(rng) < 0.5 ? 8 : 16;
    if (u(rng) < 0.3) o.max_seconds = 2000 * u(rng);
    std::vector<CellLabel> iso(t.f.size());
    careshed::raster_travel_time(t.view(), src.data(), src.size() / 2, o, iso.data());
    TerrainModel toward, from;
    from.direction = TravelDirection::FromSources;
    const auto a = run(t, toward, src, o), b = run(t, from, src, o);
    for (std::size_t i = 0; i < iso.size(); ++i) {
      ASSERT_EQ(a[i].nearest, iso[i].nearest) << i;
      ASSERT_EQ(a[i].seconds, iso[i].seconds) << i;  // bit for bit: the Tobler factor is exactly 1
      ASSERT_EQ(b[i].seconds, a[i].seconds) << i;
    }
    // r.walk on the flat is symmetric too.
    TerrainModel rw;
    rw.slope_model = SlopeModel::RWalk;
    const auto c = run(t, rw, src, o);
    rw.direction = TravelDirection::FromSources;
    const auto d = run(t, rw, src, o);
    for (std::size_t i = 0; i < iso.size(); ++i) ASSERT_EQ(c[i].seconds, d[i].seconds) << i;
  }
}

// ---- random oracle -----------------------------------------------------------------------------------------

TEST(TerrainOracle, MatchesPlainDijkstraOnTheDirectedGraph) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (int rep = 0; rep < 60; ++rep) {
    Terrain t;
    t.rows = 1 + static_cast<int>(22 * u(rng));
    t.cols = 1 + static_cast<int>(22 * u(rng));
    t.dx = 5 + 95 * u(rng);
    t.dy = u(rng) < 0.5 ? t.dx : 5 + 95 * u(rng);
    if (u(rng) < 0.25) {
      t.row_dx.resize(t.rows);
      for (auto& d : t.row_dx) d = 20 + 60 * u(rng);
    }
    const std::size_t n = static_cast<std::size_t>(t.rows) * t.cols;
    t.f.resize(n);
    t.z.resize(n);
    const double hole = 0.15 * u(rng), zhole = 0.1 * u(rng), relief = 200 * u(rng);
    for (std::size_t i = 0; i < n; ++i) {
      t.f[i] = u(rng) < hole ? std::nan("") : (u(rng) < 0.1 ? 0.0 : 0.1 + 1.5 * u(rng));
      // Rough terrain: a tilted plane plus noise, with some cliffs and some missing elevations.
      const double x = static_cast<double>(i % t.cols), y = static_cast<double>(i / t.cols);
      double z = 3 * x - 2 * y + relief * u(rng) * (u(rng) < 0.1 ? 5 : 0.2);
      t.z[i] = u(rng) < zhole ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(z);
    }
    TerrainModel m;
    m.slope_model = u(rng) < 0.5 ? SlopeModel::Tobler : SlopeModel::RWalk;
    if (m.slope_model == SlopeModel::RWalk && u(rng) < 0.5) {
      m.rwalk.a = 0.2 + u(rng);
      m.rwalk.b = 10 * u(rng);
      m.rwalk.slope_factor = -0.05 - 0.5 * u(rng);
      m.rwalk.c = u(rng) * m.rwalk.a / -m.rwalk.slope_factor;
      m.rwalk.d = -5 * u(rng);
      m.rwalk.lambda = 2 * u(rng);
    }
    m.direction = u(rng) < 0.5 ? TravelDirection::TowardSources : TravelDirection::FromSources;
    std::vector<std::int64_t> src;
    std::vector<double> offsets;
    const int ns = 1 + static_cast<int>(5 * u(rng));
    for (int s = 0; s < ns; ++s) {
      src.push_back(static_cast<int>(t.rows * u(rng)));
      src.push_back(static_cast<int>(t.cols * u(rng)));
      offsets.push_back(u(rng) < 0.5 ? 0.0 : std::floor(300 * u(rng)));
    }
    RasterSearchOptions o;
    o.neighbours = u(rng) < 0.5 ? 8 : 16;
    if (u(rng) < 0.5) o.source_offsets_s = offsets.data();
    if (u(rng) < 0.3) o.max_seconds = 3000 * u(rng);
    SCOPED_TRACE("rep " + std::to_string(rep));
    careshed::RasterSearchStats st;
    const auto got = run(t, m, src, o, &st);
    const double scale = 1.0 / st.tick_seconds;
    const std::uint64_t cut = o.max_seconds < kInf
                                  ? static_cast<std::uint64_t>(careshed_test::cutoff_ticks(o.max_seconds, 1.0 / scale))
                                  : kNone - 1;
    std::vector<std::vector<std::uint64_t>> d;
    for (int s = 0; s < ns; ++s) {
      const double off = o.source_offsets_s ? offsets[s] : 0.0;
      const auto start = static_cast<std::uint64_t>(std::floor(off * scale + 0.5));
      d.push_back(oracle(t, m, o.neighbours, static_cast<int>(src[2 * s]), static_cast<int>(src[2 * s + 1]), start,
                         scale, cut));
    }
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t best = kNone;
      int arg = -1;
      for (int s = 0; s < ns; ++s)
        if (d[s][i] < best) best = d[s][i], arg = s;
      ASSERT_EQ(got[i].nearest, arg) << "cell " << i;
      if (arg >= 0) {
        ASSERT_EQ(got[i].seconds, static_cast<float>(static_cast<double>(best) * st.tick_seconds))
            << "cell " << i;
      } else {
        ASSERT_TRUE(std::isinf(got[i].seconds));
      }
    }
  }
}

// ---- errors ----------------------------------------------------------------------------------------------------

TEST(TerrainErrors, MissingElevationAndBadCoefficientsAreRefused) {
  Terrain t = cone(5, 10, 1, 0.1);
  std::vector<CellLabel> out(25);
  const std::vector<std::int64_t> src = {2, 2};
  TerrainModel m;  // no elevation
  try {
    careshed::raster_travel_time_terrain(t.view(), m, src.data(), 1, {}, out.data());
    FAIL() << "expected InputError";
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("elevation"), std::string::npos) << e.what();
  }
  m.elevation_m = t.z.data();
  m.slope_model = SlopeModel::RWalk;
  m.rwalk.d = 1.0;
  try {
    careshed::raster_travel_time_terrain(t.view(), m, src.data(), 1, {}, out.data());
    FAIL() << "expected InputError";
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("d = 1"), std::string::npos) << e.what();
  }
  m.rwalk = RWalkCoefficients{};
  m.rwalk.c = 10;  // a + c * slope_factor < 0: moderate downhill would cost negative time
  EXPECT_THROW(careshed::raster_travel_time_terrain(t.view(), m, src.data(), 1, {}, out.data()), careshed::InputError);
}

TEST(TerrainSearch, SourceWithoutElevationIsInert) {
  Terrain t = cone(5, 10, 1, 0.1);
  t.z[12] = std::numeric_limits<float>::quiet_NaN();
  const auto out = run(t, TerrainModel{}, {2, 2, 0, 0}, {});
  EXPECT_EQ(out[12].nearest, -1);
  EXPECT_TRUE(std::isinf(out[12].seconds));
  EXPECT_EQ(out[1].nearest, 1);  // the other source reaches around the hole
}

// ---- reading DEMs ------------------------------------------------------------------------------------------------

std::filesystem::path temp_dir() {
  auto d = std::filesystem::temp_directory_path() / ("careshed_terrain_" + std::to_string(::getpid()));
  std::filesystem::create_directories(d);
  return d;
}

careshed::GridSpec utm_grid(double x0, double y0, int w, int h, double cell) {
  careshed::GridSpec g;
  g.width = w;
  g.height = h;
  g.geotransform = {x0, cell, 0.0, y0, 0.0, -cell};
  g.crs_wkt = careshed::epsg_to_wkt(32738);
  return g;
}

TEST(TerrainDem, TilesAreMosaickedThroughAVrtAcrossTheSeam) {
  const auto dir = temp_dir();
  // Two tiles of the plane z = 0.01 x + 0.02 y, side by side, 100 m cells.
  auto tile = [&](double x0, const std::string& name) {
    careshed::GridSpec g = utm_grid(x0, 8.6e6, 20, 20, 100);
    std::vector<double> v(400);
    for (int r = 0; r < 20; ++r)
      for (int c = 0; c < 20; ++c) v[r * 20 + c] = 0.01 * g.col_center_x(c) + 0.02 * (g.row_center_y(r) - 8.5e6);
    const std::string p = (dir / name).string();
    careshed::write_geotiff(p, v, g);
    return p;
  };
  const std::string a = tile(400000, "a.tif"), b = tile(402000, "b.tif");
  // An analysis grid straddling the seam (x = 402000), 50 m cells, inside both tiles' centres.
  const careshed::GridSpec g = utm_grid(401000, 8.5995e6, 40, 20, 50);
  std::vector<float> z(static_cast<std::size_t>(g.size()));
  const auto rep = careshed::read_elevation_into({a, b}, g, z.data());
  EXPECT_EQ(rep.sources.size(), 2u);
  EXPECT_EQ(rep.valid_cells, g.size());
  for (int r = 0; r < g.height; ++r)
    for (int c = 0; c < g.width; ++c) {
      const double want = 0.01 * g.col_center_x(c) + 0.02 * (g.row_center_y(r) - 8.5e6);
      ASSERT_NEAR(z[static_cast<std::size_t>(r) * g.width + c], want, 1e-3) << r << "," << c;  // bilinear of a plane
    }
  std::filesystem::remove_all(dir);
}

TEST(TerrainDem, ErrorsNameTheFile) {
  const careshed::GridSpec g = utm_grid(400000, 8.6e6, 4, 4, 100);
  std::vector<float> z(16);
  EXPECT_THROW(careshed::read_elevation_into({}, g, z.data()), careshed::InputError);
  try {
    careshed::read_elevation_into({"/nonexistent/dem.tif", "/nonexistent/dem2.tif"}, g, z.data());
    FAIL();
  } catch (const careshed::DataIOError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dem.tif"), std::string::npos) << e.what();
  }
}

TEST(TerrainDem, RealSrtmTilesOfTheComoros) {
  const std::string dir = std::string(CARESHED_SOURCE_DIR) + "/data/comoros/srtm/";
  const std::vector<std::string> tiles = {dir + "S12E043.SRTMGL1.hgt.zip", dir + "S13E043.SRTMGL1.hgt.zip",
                                          dir + "S13E044.SRTMGL1.hgt.zip"};
  for (const auto& p : tiles)
    if (!std::filesystem::exists(p)) GTEST_SKIP() << "missing " << p;
  // Grande Comore (Ngazidja) with Mount Karthala (2361 m), 500 m UTM 38S cells.
  const careshed::GridSpec g = utm_grid(300000, 8748000, 80, 140, 500);
  std::vector<float> z(static_cast<std::size_t>(g.size()));
  const auto rep = careshed::read_elevation_into(tiles, g, z.data());
  EXPECT_GT(rep.valid_cells, g.size() / 4);
  EXPECT_GT(rep.max_m, 1800.0);  // Karthala at 500 m cells (bilinear smooths the summit a little)
  EXPECT_LT(rep.max_m, 2400.0);
  EXPECT_GT(rep.min_m, -100.0);
}

}  // namespace
