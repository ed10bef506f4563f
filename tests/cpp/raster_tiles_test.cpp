// Tests of careshed/raster_tiles.hpp: the tiled search iterated to its fixed point in-process must give
// exactly (bit for bit: seconds as float32 bits, nearest index) what raster_travel_time gives on the whole
// grid, on random friction with barriers (NaN and +inf), zero-friction patches, many sources (on tile
// edges and corners, duplicated), offsets, cutoffs, lon/lat row widths, 8 and 16 neighbours, float32 and
// float64, and tiles of 1, 2, 3 cells and more. Seeds are logged (CARESHED_TEST_SEED replays a run).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/raster_search.hpp"
#include "careshed/raster_tiles.hpp"
#include "raster_test_grid.hpp"
#include "test_seed.hpp"

using careshed_test::fresh_or_replayed_seed;

namespace {

using careshed::CellLabel;
using careshed::FrictionGrid;
using careshed::FrictionSummary;
using careshed::RasterSearchOptions;
using careshed::TickScale;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Problem {
  int rows = 0, cols = 0;
  std::vector<double> f64;
  std::vector<float> f32;
  bool use_f32 = false;
  double dx = 1.0, dy = 1.0;
  std::vector<double> row_dx;  // empty: constant dx
  std::vector<std::int64_t> src;  // (row, col) pairs
  std::vector<double> offsets;    // empty: none
  int neighbours = 8;
  double max_seconds = kInf;

  std::size_t n_sources() const { return src.size() / 2; }
  double friction(int r, int c) const { return use_f32 ? f32[r * cols + c] : f64[r * cols + c]; }
  FrictionGrid whole() const {
    return careshed_test::friction_view(rows, cols, use_f32 ? nullptr : f64.data(), use_f32 ? f32.data() : nullptr, dx,
                                        dy, row_dx);
  }
  RasterSearchOptions options() const {
    RasterSearchOptions o;
    o.neighbours = neighbours;
    o.max_seconds = max_seconds;
    o.source_offsets_s = offsets.empty() ? nullptr : offsets.data();
    return o;
  }
};

std::vector<CellLabel> whole_grid(const Problem& pb, double* tick) {
  std::vector<CellLabel> out(static_cast<std::size_t>(pb.rows) * pb.cols);
  const auto st = careshed::raster_travel_time(pb.whole(), pb.src.data(), pb.n_sources(), pb.options(), out.data());
  *tick = st.tick_seconds;
  return out;
}

// (ticks, nearest) with -1 = unreached, ordered as the engine orders labels.
bool better(std::int64_t t1, std::int32_t n1, std::int64_t t2, std::int32_t n2) {
  if (t1 < 0) return false;
  if (t2 < 0) return true;
  return t1 != t2 ? t1 < t2 : n1 < n2;
}

struct TiledResult {
  std::vector<CellLabel> out;
  TickScale scale;
  int rounds = 0;
  std::int64_t tile_searches = 0;
};

// The tiled search driven as python/careshed/tiled/ drives it: Jacobi rounds (every tile of a round sees
// the labels its neighbours had at the end of the previous round), only tiles with improved halos rerun.
// packed_calls: every other tile search goes through raster_tile_search_packed (labels packed by the test).
TiledResult tiled(const Problem& pb, int tr, int tc, bool packed_calls = false) {
  const int h = careshed::tile_halo(pb.neighbours);
  const int ntr = (pb.rows + tr - 1) / tr, ntc = (pb.cols + tc - 1) / tc;
  struct Tile {
    int r0, r1, c0, c1;      // own cells [r0, r1) x [c0, c1)
    int wr0, wr1, wc0, wc1;  // window
    std::vector<double> f64;
    std::vector<float> f32;
    std::vector<double> row_dx;
    std::vector<std::int64_t> ticks;
    std::vector<std::int32_t> nearest;
    std::vector<std::int64_t> src;
    std::vector<std::int32_t> src_index;
    std::vector<double> src_offsets;
    bool started = false;
    int wcols() const { return wc1 - wc0; }
  };
  std::vector<Tile> tiles;
  FrictionSummary whole;
  for (int i = 0; i < ntr; ++i)
    for (int j = 0; j < ntc; ++j) {
      Tile t;
      t.r0 = i * tr, t.r1 = std::min(pb.rows, t.r0 + tr), t.c0 = j * tc, t.c1 = std::min(pb.cols, t.c0 + tc);
      t.wr0 = std::max(0, t.r0 - h), t.wr1 = std::min(pb.rows, t.r1 + h);
      t.wc0 = std::max(0, t.c0 - h), t.wc1 = std::min(pb.cols, t.c1 + h);
      for (int r = t.wr0; r < t.wr1; ++r) {
        if (!pb.row_dx.empty()) t.row_dx.push_back(pb.row_dx[r]);
        for (int c = t.wc0; c < t.wc1; ++c) {
          if (pb.use_f32)
            t.f32.push_back(pb.f32[r * pb.cols + c]);
          else
            t.f64.push_back(pb.f64[r * pb.cols + c]);
        }
      }
      const std::size_t wn = static_cast<std::size_t>(t.wr1 - t.wr0) * t.wcols();
      t.ticks.assign(wn, -1);
      t.nearest.assign(wn, -1);
      for (std::size_t s = 0; s < pb.n_sources(); ++s) {
        const std::int64_t r = pb.src[2 * s], c = pb.src[2 * s + 1];
        if (r >= t.wr0 && r < t.wr1 && c >= t.wc0 && c < t.wc1) {
          t.src.push_back(r - t.wr0);
          t.src.push_back(c - t.wc0);
          t.src_index.push_back(static_cast<std::int32_t>(s));
          if (!pb.offsets.empty()) t.src_offsets.push_back(pb.offsets[s]);
        }
      }
      // Summaries of the tiles' own cells, merged (what the driver computes from windows read by GDAL).
      std::vector<double> own;
      for (int r = t.r0; r < t.r1; ++r)
        for (int c = t.c0; c < t.c1; ++c) own.push_back(pb.friction(r, c));
      FrictionGrid piece;
      piece.friction_f64 = own.data();
      piece.rows = t.r1 - t.r0;
      piece.cols = t.c1 - t.c0;
      whole = careshed::merge_summaries(whole, careshed::raster_friction_summary(piece));
      tiles.push_back(std::move(t));
    }
  TiledResult res;
  const FrictionGrid geometry = pb.whole();
  double max_offset = 0.0;
  for (double o : pb.offsets) max_offset = std::max(max_offset, o);
  res.scale = careshed::raster_tiled_scale(geometry, whole, pb.n_sources(), max_offset, pb.options());

  const std::size_t n = static_cast<std::size_t>(pb.rows) * pb.cols;
  std::vector<std::int64_t> gt(n, -1);
  std::vector<std::int32_t> gn(n, -1);
  std::set<int> dirty;
  for (int k = 0; k < static_cast<int>(tiles.size()); ++k)
    if (!tiles[k].src.empty()) dirty.insert(k);
  while (!dirty.empty()) {
    ++res.rounds;
    if (res.rounds > 100000) ADD_FAILURE() << "tiled search does not converge";
    if (res.rounds > 100000) break;
    const std::vector<std::int64_t> snap_t = gt;  // the labels as the previous round left them
    const std::vector<std::int32_t> snap_n = gn;
    std::set<int> next;
    for (const int k : dirty) {
      Tile& t = tiles[k];
      std::vector<std::int64_t> seeds;
      for (int r = t.wr0; r < t.wr1; ++r)
        for (int c = t.wc0; c < t.wc1; ++c) {
          if (r >= t.r0 && r < t.r1 && c >= t.c0 && c < t.c1) continue;
          const std::size_t w = static_cast<std::size_t>(r - t.wr0) * t.wcols() + (c - t.wc0);
          const std::size_t g = static_cast<std::size_t>(r) * pb.cols + c;
          if (better(snap_t[g], snap_n[g], t.ticks[w], t.nearest[w])) {
            t.ticks[w] = snap_t[g];
            t.nearest[w] = snap_n[g];
            seeds.push_back(static_cast<std::int64_t>(w));
          }
        }
      FrictionGrid win;
      if (pb.use_f32)
        win.friction_f32 = t.f32.data();
      else
        win.friction_f64 = t.f64.data();
      win.rows = t.wr1 - t.wr0;
      win.cols = t.wcols();
      win.dx_m = pb.dx;
      win.dy_m = pb.dy;
      win.row_dx_m = t.row_dx.empty() ? nullptr : t.row_dx.data();
      RasterSearchOptions o = pb.options();
      o.source_offsets_s = t.src_offsets.empty() ? nullptr : t.src_offsets.data();
      const std::size_t ns = t.started ? 0 : t.src_index.size();
      if (packed_calls && (k + res.rounds) % 2) {
        // The packed form, with the labels packed here by the header's formula.
        std::vector<std::uint64_t> lab(t.ticks.size());
        for (std::size_t i = 0; i < lab.size(); ++i)
          lab[i] = t.ticks[i] < 0 ? careshed::tile_unreached_label()
                                  : ((static_cast<std::uint64_t>(t.ticks[i]) + 1) << res.scale.index_bits) |
                                        static_cast<std::uint64_t>(t.nearest[i]);
        careshed::raster_tile_search_packed(win, res.scale, o, t.src.data(), t.src_index.data(), ns, seeds.data(),
                                            seeds.size(), lab.data());
        const std::uint64_t mask = (std::uint64_t{1} << res.scale.index_bits) - 1;
        for (std::size_t i = 0; i < lab.size(); ++i) {
          const bool none = lab[i] == careshed::tile_unreached_label();
          t.ticks[i] = none ? -1 : static_cast<std::int64_t>((lab[i] >> res.scale.index_bits) - 1);
          t.nearest[i] = none ? -1 : static_cast<std::int32_t>(lab[i] & mask);
        }
      } else {
        careshed::raster_tile_search(win, res.scale, o, t.src.data(), t.src_index.data(), ns, seeds.data(),
                                     seeds.size(), t.ticks.data(), t.nearest.data());
      }
      t.started = true;
      ++res.tile_searches;
      for (int r = t.r0; r < t.r1; ++r)
        for (int c = t.c0; c < t.c1; ++c) {
          const std::size_t w = static_cast<std::size_t>(r - t.wr0) * t.wcols() + (c - t.wc0);
          const std::size_t g = static_cast<std::size_t>(r) * pb.cols + c;
          if (t.ticks[w] == gt[g] && t.nearest[w] == gn[g]) continue;
          EXPECT_TRUE(better(t.ticks[w], t.nearest[w], gt[g], gn[g])) << "a label rose at " << r << "," << c;
          gt[g] = t.ticks[w];
          gn[g] = t.nearest[w];
          // Every other tile whose window holds this cell must look again.
          for (int i = std::max(0, (r - h) / tr); i <= std::min(ntr - 1, (r + h) / tr); ++i)
            for (int j = std::max(0, (c - h) / tc); j <= std::min(ntc - 1, (c + h) / tc); ++j)
              if (i * ntc + j != k) next.insert(i * ntc + j);
        }
    }
    dirty.swap(next);
  }
  res.out.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    res.out[i].nearest = gn[i];
    res.out[i].seconds = gt[i] < 0 ? std::numeric_limits<float>::infinity()
                                   : static_cast<float>(std::ldexp(static_cast<double>(gt[i]), -res.scale.q));
  }
  return res;
}

void expect_identical(const Problem& pb, int tr, int tc, bool packed_calls = false) {
  SCOPED_TRACE("grid " + std::to_string(pb.rows) + " x " + std::to_string(pb.cols) + ", tiles " + std::to_string(tr) +
               " x " + std::to_string(tc) + ", neighbours " + std::to_string(pb.neighbours) +
               (pb.use_f32 ? ", float32" : ", float64") + (pb.row_dx.empty() ? "" : ", per-row dx") +
               (pb.offsets.empty() ? "" : ", offsets") + (pb.max_seconds < kInf ? ", cutoff" : "") +
               (packed_calls ? ", packed calls" : "") + ", " +
               std::to_string(pb.n_sources()) + " sources");
  double tick = 0;
  const std::vector<CellLabel> ref = whole_grid(pb, &tick);
  const TiledResult got = tiled(pb, tr, tc, packed_calls);
  ASSERT_EQ(got.scale.tick_seconds, tick) << "the tiles must share the whole grid's tick";
  std::size_t diff = 0, first = 0;
  for (std::size_t i = 0; i < ref.size(); ++i)
    if (std::memcmp(&ref[i], &got.out[i], sizeof(CellLabel)) != 0 && diff++ == 0) first = i;
  EXPECT_EQ(diff, 0u) << "first differing cell (" << first / pb.cols << ", " << first % pb.cols << "): whole grid "
                      << ref[first].seconds << " s from " << ref[first].nearest << ", tiled " << got.out[first].seconds
                      << " s from " << got.out[first].nearest << "; rounds " << got.rounds;
}

Problem random_problem(std::mt19937_64& rng, int rows, int cols) {
  Problem pb;
  pb.rows = rows;
  pb.cols = cols;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const int kind = static_cast<int>(rng() % 3);  // 0: continuous friction, 1: few levels (many ties), 2: roads
  const double barrier = u(rng) * 0.3;
  pb.f64.resize(static_cast<std::size_t>(rows) * cols);
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) {
      double f;
      if (kind == 0)
        f = 0.01 + u(rng) * 2.0;
      else if (kind == 1)
        f = (1 + rng() % 3) * 0.5;
      else  // a road grid: fast rows/columns every 5 cells across slow land
        f = (r % 5 == 2 || c % 7 == 3) ? 0.05 : 1.0 + u(rng);
      const double x = u(rng);
      if (x < barrier * 0.5)
        f = std::numeric_limits<double>::quiet_NaN();
      else if (x < barrier)
        f = kInf;
      else if (x < barrier + 0.03)
        f = 0.0;  // zero-cost steps
      pb.f64[static_cast<std::size_t>(r) * cols + c] = f;
    }
  pb.use_f32 = rng() % 2;
  if (pb.use_f32) pb.f32.assign(pb.f64.begin(), pb.f64.end());
  pb.neighbours = rng() % 2 ? 16 : 8;
  pb.dx = 50.0 + 50.0 * u(rng);
  pb.dy = rng() % 2 ? pb.dx : 60.0;
  if (rng() % 4 == 0)
    for (int r = 0; r < rows; ++r) pb.row_dx.push_back(80.0 + 0.7 * r);
  const int ns = 1 + static_cast<int>(rng() % 30);
  for (int s = 0; s < ns; ++s) {
    pb.src.push_back(static_cast<std::int64_t>(rng() % rows));
    pb.src.push_back(static_cast<std::int64_t>(rng() % cols));
  }
  if (rng() % 3 == 0) {  // a duplicate: the lower index must win everywhere it reaches
    pb.src.push_back(pb.src[0]);
    pb.src.push_back(pb.src[1]);
  }
  if (rng() % 2)
    for (std::size_t s = 0; s < pb.n_sources(); ++s) pb.offsets.push_back(std::floor(u(rng) * 4.0) * 30.0);
  if (rng() % 3 == 0) pb.max_seconds = (0.2 + u(rng)) * 40.0 * pb.dx;
  return pb;
}

// Sources on the corners and edges of tiles of size t (the cells where tiles meet).
void add_tile_corner_sources(Problem& pb, int t) {
  for (int r = t - 1; r < pb.rows; r += 2 * t)
    for (int c = t - 1; c < pb.cols; c += 3 * t) {
      pb.src.push_back(r);
      pb.src.push_back(c);
      if (c + 1 < pb.cols) {
        pb.src.push_back(r);
        pb.src.push_back(c + 1);
      }
      if (r + 1 < pb.rows && c + 1 < pb.cols) {
        pb.src.push_back(r + 1);
        pb.src.push_back(c + 1);
      }
    }
  if (!pb.offsets.empty()) pb.offsets.resize(pb.n_sources(), 60.0);
}

TEST(RasterTiles, RandomGridsEqualWholeGridBitForBit) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    const int rows = 1 + static_cast<int>(rng() % 28), cols = 1 + static_cast<int>(rng() % 28);
    Problem pb = random_problem(rng, rows, cols);
    const int sizes[] = {1, 2, 3, 4 + static_cast<int>(rng() % 9), std::max(rows, cols)};
    for (int t : sizes) {
      Problem with_corners = pb;
      if (trial % 2) add_tile_corner_sources(with_corners, t);
      expect_identical(with_corners, t, t, trial % 3 == 1);
      if (::testing::Test::HasFailure()) return;
    }
    // Non-square tiles.
    expect_identical(pb, 1 + static_cast<int>(rng() % 4), 2 + static_cast<int>(rng() % 6));
    if (::testing::Test::HasFailure()) return;
  }
}

TEST(RasterTiles, LargerGridWithWallsAndManySources) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  Problem pb = random_problem(rng, 120, 97);
  // A wall with one gap across the grid: paths wind through many tiles.
  for (int r = 0; r < 110; ++r) {
    pb.f64[static_cast<std::size_t>(r) * 97 + 40] = std::numeric_limits<double>::quiet_NaN();
    if (pb.use_f32) pb.f32[static_cast<std::size_t>(r) * 97 + 40] = std::numeric_limits<float>::quiet_NaN();
  }
  pb.src.clear();
  pb.offsets.clear();
  for (int s = 0; s < 150; ++s) {
    pb.src.push_back(static_cast<std::int64_t>(rng() % 120));
    pb.src.push_back(static_cast<std::int64_t>(rng() % 40));
  }
  for (int t : {2, 3, 16, 33, 64}) {
    expect_identical(pb, t, t, t % 2 == 1);
    if (::testing::Test::HasFailure()) return;
  }
}

// Two sources at exactly the same time from a cell in another tile: the lower index wins in both engines.
TEST(RasterTiles, TieAcrossTilesGoesToLowestIndex) {
  Problem pb;
  pb.rows = 5;
  pb.cols = 9;
  pb.f64.assign(45, 1.0);
  pb.src = {2, 8, 2, 0};  // index 0 on the right, index 1 on the left: column 4 is a tie
  for (int t : {1, 2, 3, 4}) expect_identical(pb, t, t);
  double tick = 0;
  const std::vector<CellLabel> ref = whole_grid(pb, &tick);
  EXPECT_EQ(ref[2 * 9 + 4].nearest, 0);
  const TiledResult got = tiled(pb, 2, 2);
  EXPECT_EQ(got.out[2 * 9 + 4].nearest, 0);
}

TEST(RasterTiles, DiagonalMoveAcrossATileCorner) {
  // Only a diagonal step connects the two halves (the rook neighbours are walls): it crosses the corner
  // of 1-cell and 2-cell tiles and must use the friction of the two cells it joins.
  Problem pb;
  pb.rows = 4;
  pb.cols = 4;
  const double N = std::numeric_limits<double>::quiet_NaN();
  pb.f64 = {1, 1, N, N,   //
            1, 2, N, N,   //
            N, N, 3, 1,   //
            N, N, 1, 1};
  pb.src = {0, 0};
  for (int t : {1, 2, 3}) expect_identical(pb, t, t);
  double tick = 0;
  const std::vector<CellLabel> ref = whole_grid(pb, &tick);
  EXPECT_NEAR(ref[2 * 4 + 2].seconds, std::sqrt(2.0) * 1.5 + std::sqrt(2.0) * 2.5, 1e-4);
}

TEST(RasterTiles, CutoffPrunesTilesBeyondReach) {
  Problem pb;
  pb.rows = 40;
  pb.cols = 40;
  pb.f64.assign(1600, 1.0);
  pb.src = {0, 0};
  pb.max_seconds = 5.0;
  expect_identical(pb, 4, 4);
  const TiledResult got = tiled(pb, 4, 4);
  EXPECT_LE(got.tile_searches, 9) << "tiles beyond the cutoff are never searched";
}

TEST(RasterTiles, BadArgumentsAreRefused) {
  Problem pb;
  pb.rows = 2;
  pb.cols = 2;
  pb.f64 = {1, 1, 1, 1};
  pb.src = {0, 0};
  const TickScale scale = careshed::raster_tiled_scale(pb.whole(), careshed::FrictionSummary{1.0, 4}, 1, 0.0, pb.options());
  std::vector<std::int64_t> ticks(4, -1);
  std::vector<std::int32_t> nearest(4, -1);
  const std::int32_t bad_index = 5;
  EXPECT_THROW(careshed::raster_tile_search(pb.whole(), scale, pb.options(), pb.src.data(), &bad_index, 1, nullptr, 0,
                                            ticks.data(), nearest.data()),
               careshed::InputError);
  const std::int64_t bad_seed = 9;
  const std::int32_t idx = 0;
  EXPECT_THROW(careshed::raster_tile_search(pb.whole(), scale, pb.options(), pb.src.data(), &idx, 1, &bad_seed, 1,
                                            ticks.data(), nearest.data()),
               careshed::InputError);
  ticks[1] = static_cast<std::int64_t>(scale.cut_ticks) + 1;
  nearest[1] = 0;
  EXPECT_THROW(careshed::raster_tile_search(pb.whole(), scale, pb.options(), pb.src.data(), &idx, 1, nullptr, 0,
                                            ticks.data(), nearest.data()),
               careshed::InputError);
  // Packed labels: ticks beyond the cutoff, and ticks + 1 == 0 (no valid label), are refused, labels untouched.
  std::vector<std::uint64_t> lab(4, careshed::tile_unreached_label());
  lab[2] = (scale.cut_ticks + 2) << scale.index_bits;
  EXPECT_THROW(careshed::raster_tile_search_packed(pb.whole(), scale, pb.options(), pb.src.data(), &idx, 1, nullptr, 0,
                                                   lab.data()),
               careshed::InputError);
  lab[2] = 0;
  EXPECT_THROW(careshed::raster_tile_search_packed(pb.whole(), scale, pb.options(), pb.src.data(), &idx, 1, nullptr, 0,
                                                   lab.data()),
               careshed::InputError);
  EXPECT_EQ(lab[0], careshed::tile_unreached_label());
  lab[2] = careshed::tile_unreached_label();
  careshed::raster_tile_search_packed(pb.whole(), scale, pb.options(), pb.src.data(), &idx, 1, nullptr, 0, lab.data());
  EXPECT_EQ(lab[0], std::uint64_t{1} << scale.index_bits) << "the source's own cell: 0 ticks, index 0";
  std::vector<double> neg = {1, -1};
  FrictionGrid piece;
  piece.friction_f64 = neg.data();
  piece.rows = 1;
  piece.cols = 2;
  EXPECT_THROW(careshed::raster_friction_summary(piece), careshed::InputError);
  EXPECT_THROW(careshed::tile_halo(4), careshed::InputError);
}

TEST(RasterTiles, CancelledTileSearchThrows) {
  Problem pb;
  pb.rows = 300;
  pb.cols = 300;
  pb.f64.assign(90000, 1.0);
  pb.src = {0, 0};
  const TickScale scale =
      careshed::raster_tiled_scale(pb.whole(), careshed::raster_friction_summary(pb.whole()), 1, 0.0, pb.options());
  std::vector<std::int64_t> ticks(90000, -1);
  std::vector<std::int32_t> nearest(90000, -1);
  careshed::RunControl control;
  control.request_cancel();
  const std::int32_t idx = 0;
  EXPECT_THROW(careshed::raster_tile_search(pb.whole(), scale, pb.options(), pb.src.data(), &idx, 1, nullptr, 0,
                                            ticks.data(), nearest.data(), &control),
               careshed::Cancelled);
}

}  // namespace
