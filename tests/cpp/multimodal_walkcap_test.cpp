// Tests of careshed/multimodal_walkcap.hpp (walk + ride with a maximum walking leg): hand-worked cases on a strip
// (the cap exactly met, one tick over, a facility reachable only by a walk longer than the cap, the fastest label
// walking too far to board), and a cap nobody reaches against multimodal_travel_time bit for bit on random grids
// (seed logged as CARESHED_TEST_SEED). The random oracle — a plain Dijkstra on the explicit (cell, walked ticks,
// ridden) state graph — is in tests/python/test_arrays_multimodal.py.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/multimodal.hpp"
#include "careshed/multimodal_walkcap.hpp"
#include "test_seed.hpp"

namespace {

using careshed::CsrGraph;
using careshed::MultimodalNetwork;
using careshed::MultimodalOptions;
using careshed::multimodal_travel_time;
using careshed::multimodal_travel_time_walk_capped;
constexpr double kInf = std::numeric_limits<double>::infinity();

// 1 x 40 cells of 100 m walked at 0.72 s/m (72 s per step) and a one-way road of 60 s from cell 39 to cell `to`
// (nodes 1 -> 0), boarded in `board` seconds.
struct Strip {
  std::vector<double> f = std::vector<double>(40, 0.72);
  std::int32_t tails[1] = {1}, heads[1] = {0};
  double secs[1] = {60.0};
  std::int64_t cells[2] = {0, 39};
  CsrGraph road;
  Strip(std::int64_t to, double board = 0.0) : road(CsrGraph::from_edges(2, tails, heads, secs, 1)) {
    cells[0] = to;
    board_s = board;
  }
  double board_s = 0.0;
  MultimodalNetwork net() const {
    MultimodalNetwork n;
    n.walk.friction_f64 = f.data();
    n.walk.rows = 1;
    n.walk.cols = 40;
    n.walk.dx_m = n.walk.dy_m = 100.0;
    n.ride = &road;
    n.node_cell = cells;
    n.modes = {careshed::RideMode{board_s, 0.0}};
    return n;
  }
};

struct Out {
  std::vector<double> t = std::vector<double>(40);
  std::vector<std::int32_t> near = std::vector<std::int32_t>(40);
  std::vector<std::uint8_t> mode = std::vector<std::uint8_t>(40);
};

Out capped(const MultimodalNetwork& n, const std::vector<std::int64_t>& src, double cap,
           const MultimodalOptions& o = {}, careshed::MultimodalStats* stats = nullptr) {
  Out out;
  const auto st = multimodal_travel_time_walk_capped(n, src.data(), src.size() / 2, o, cap, out.t.data(),
                                                     out.near.data(), out.mode.data());
  if (stats) *stats = st;
  return out;
}

TEST(MultimodalWalkCap, TheCapExactlyMetRidesOneTickOverWalks) {
  // Clinic at cell 0, road 39 -> 0 boarded in 330 s. Uncapped, cells >= 23 ride: 390 + 72 (39 - c).
  // Cap 288 s = 4 steps: cells 35..39 may walk to the road (cell 35 walks exactly 288 s); cell 34 cannot.
  Strip s(0, 330.0);
  careshed::MultimodalStats st;
  const Out a = capped(s.net(), {0, 0}, 288.0, {}, &st);
  for (int c = 0; c < 40; ++c) {
    const double walk = 72.0 * c, ride = 390.0 + 72.0 * (39 - c);
    const bool rides = c >= 35;
    EXPECT_EQ(a.t[c], rides ? ride : walk) << c;
    EXPECT_EQ(a.mode[c], rides ? 1 : 0) << c;
    EXPECT_EQ(a.near[c], 0) << c;
  }
  // One tick less than 288 s: cell 35's walk to the road is one tick over the cap.
  const Out b = capped(s.net(), {0, 0}, 288.0 - st.tick_seconds, {}, nullptr);
  EXPECT_EQ(b.t[35], 72.0 * 35) << "one tick over the cap: cell 35 walks all the way";
  EXPECT_EQ(b.mode[35], 0);
  EXPECT_EQ(b.t[36], 390.0 + 72.0 * 3);
  EXPECT_EQ(b.mode[36], 1);
}

TEST(MultimodalWalkCap, AFacilityReachableOnlyByAWalkLongerThanTheCap) {
  // Clinic at cell 0; the road 39 -> 15 leaves people 15 steps (1080 s) from it; water in cells 20..25.
  // Cells 26..39 reach the clinic only by riding and then walking 1080 s: with the cap at 1080 s they do, with
  // the cap one second lower nobody east of the water reaches it; west of it, walking-only trips are not
  // capped (cell 19 walks 1368 s, more than either cap).
  Strip s(15, 0.0);
  for (int c = 20; c <= 25; ++c) s.f[c] = std::numeric_limits<double>::quiet_NaN();
  const Out a = capped(s.net(), {0, 0}, 1080.0);
  const Out b = capped(s.net(), {0, 0}, 1079.0);
  for (int c = 0; c < 20; ++c) {
    EXPECT_EQ(a.t[c], 72.0 * c) << c;
    EXPECT_EQ(b.t[c], 72.0 * c) << c;
    EXPECT_EQ(b.mode[c], 0) << c;
  }
  for (int c = 26; c < 40; ++c) {
    EXPECT_EQ(a.t[c], 72.0 * (39 - c) + 60.0 + 1080.0) << c;
    EXPECT_EQ(a.mode[c], 1) << c;
    EXPECT_EQ(b.t[c], kInf) << c;
    EXPECT_EQ(b.near[c], -1) << c;
  }
}

TEST(MultimodalWalkCap, TheFastestLabelWalkedTooFarToBoardASlowerOneServesTheRiders) {
  // Two clinics: cell 0 (no delay) and cell 12 (1000 s start offset); the road 39 -> 10. The alighting cell 10
  // is 720 s from clinic 0 (the fastest) but only 144 s from clinic 1. With a 300 s cap, riders must walk to
  // clinic 1: cell 39 = 60 + 144 + 1000 = 1204 s; cells 35..39 walk <= 288 s to the road; cell 34 walks to
  // clinic 0. A one-label search would keep only clinic 0's label at cell 10 and lose the riders.
  Strip s(10, 0.0);
  const double offsets[2] = {0.0, 1000.0};
  MultimodalOptions o;
  o.source_offsets_s = offsets;
  const Out a = capped(s.net(), {0, 0, 0, 12}, 300.0, o);
  for (int c = 35; c < 40; ++c) {
    EXPECT_EQ(a.t[c], 72.0 * (39 - c) + 1204.0) << c;
    EXPECT_EQ(a.near[c], 1) << c;
    EXPECT_EQ(a.mode[c], 1) << c;
  }
  EXPECT_EQ(a.t[34], 72.0 * 34);
  EXPECT_EQ(a.near[34], 0);
  EXPECT_EQ(a.mode[34], 0);
  // Uncapped (and with a cap nobody reaches), cell 39 rides to clinic 0: 60 + 720.
  const Out u = capped(s.net(), {0, 0, 0, 12}, kInf, o);
  EXPECT_EQ(u.t[39], 780.0);
  EXPECT_EQ(u.near[39], 0);
}

TEST(MultimodalWalkCap, ACapNobodyReachesGivesTheUncappedEngineBitForBit) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int riding_trials = 0;
  for (int trial = 0; trial < 6; ++trial) {
    const auto rows = static_cast<std::int64_t>(20 + rng() % 30), cols = static_cast<std::int64_t>(20 + rng() % 30);
    std::uniform_real_distribution<double> fr(0.2, 2.0), u(0.0, 1.0);
    std::vector<float> f(static_cast<std::size_t>(rows * cols));
    for (auto& v : f) v = u(rng) < 0.1 ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(fr(rng));
    const std::int64_t n_nodes = 30;
    std::vector<std::int64_t> node_cell(n_nodes);
    std::vector<std::uint8_t> node_mode(n_nodes);
    for (std::int64_t v = 0; v < n_nodes; ++v) {
      node_cell[v] = u(rng) < 0.2 ? -1 : static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(rows * cols));
      node_mode[v] = static_cast<std::uint8_t>(rng() % 2);
    }
    std::vector<std::int64_t> tails, heads;
    std::vector<double> secs;
    for (int e = 0; e < 60; ++e) {
      tails.push_back(static_cast<std::int64_t>(rng() % n_nodes));
      heads.push_back(static_cast<std::int64_t>(rng() % n_nodes));
      secs.push_back(std::floor(u(rng) * 100.0));
    }
    const CsrGraph g = CsrGraph::from_edges(n_nodes, tails.data(), heads.data(), secs.data(), tails.size());
    MultimodalNetwork n;
    n.walk.friction_f32 = f.data();
    n.walk.rows = rows;
    n.walk.cols = cols;
    n.walk.dx_m = n.walk.dy_m = 50.0 + std::floor(u(rng) * 100.0);
    n.ride = &g;
    n.node_cell = node_cell.data();
    n.node_mode = node_mode.data();
    n.modes = {careshed::RideMode{std::floor(u(rng) * 60), std::floor(u(rng) * 30)},
               careshed::RideMode{std::floor(u(rng) * 600), 0.0}};
    std::vector<std::int64_t> src;
    std::vector<double> offsets;
    for (int s = 0; s < 3; ++s) {
      src.push_back(static_cast<std::int64_t>(rng() % rows));
      src.push_back(static_cast<std::int64_t>(rng() % cols));
      offsets.push_back(std::floor(u(rng) * 100.0));
    }
    MultimodalOptions o;
    o.neighbours = trial % 2 ? 16 : 8;
    o.direction = trial % 3 ? careshed::TravelDirection::TowardSources : careshed::TravelDirection::FromSources;
    o.source_offsets_s = offsets.data();
    if (trial == 4) o.max_seconds = 2000.0;
    const std::size_t nc = static_cast<std::size_t>(rows * cols);
    std::vector<double> t1(nc), t2(nc), t3(nc);
    std::vector<std::int32_t> n1(nc), n2(nc), n3(nc);
    std::vector<std::uint8_t> m1(nc), m2(nc), m3(nc);
    multimodal_travel_time(n, src.data(), 3, o, t1.data(), n1.data(), m1.data());
    multimodal_travel_time_walk_capped(n, src.data(), 3, o, kInf, t2.data(), n2.data(), m2.data());
    multimodal_travel_time_walk_capped(n, src.data(), 3, o, 1e9, t3.data(), n3.data(), m3.data());
    EXPECT_EQ(std::memcmp(t1.data(), t2.data(), nc * sizeof(double)), 0) << trial;
    EXPECT_EQ(std::memcmp(t1.data(), t3.data(), nc * sizeof(double)), 0) << trial;
    EXPECT_EQ(n1, n2) << trial;
    EXPECT_EQ(n1, n3) << trial;
    EXPECT_EQ(m1, m2) << trial;
    EXPECT_EQ(m1, m3) << trial;
    riding_trials += std::any_of(m1.begin(), m1.end(), [](std::uint8_t m) { return m > 0; });
  }
  EXPECT_GE(riding_trials, 3) << "the cases must ride (else they only compare walking)";
}

TEST(MultimodalWalkCap, ABadCapIsRefused) {
  Strip s(0);
  for (const double cap : {-1.0, std::numeric_limits<double>::quiet_NaN()}) {
    Out out;
    const std::int64_t src[] = {0, 0};
    EXPECT_THROW(multimodal_travel_time_walk_capped(s.net(), src, 1, {}, cap, out.t.data(), out.near.data(),
                                                    out.mode.data()),
                 careshed::InputError);
  }
}

}  // namespace
