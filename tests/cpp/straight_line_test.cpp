// Straight-line fallback against brute force written here (Euclid / haversine), ties to the lowest index,
// k nearest, grid cell centres, inclusive cutoff.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/grid.hpp"
#include "careshed/straight_line.hpp"

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();
double hav(double lon1, double lat1, double lon2, double lat2) {
  const double R = 6371008.8, k = M_PI / 180.0;
  const double a = std::pow(std::sin((lat2 - lat1) * k / 2), 2) +
                   std::cos(lat1 * k) * std::cos(lat2 * k) * std::pow(std::sin((lon2 - lon1) * k / 2), 2);
  return R * 2 * std::atan2(std::sqrt(a), std::sqrt(1 - a));
}
}  // namespace

TEST(StraightLine, RandomPointsMatchBruteForce) {
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const bool geographic = seed % 2 == 0;
    std::uniform_int_distribution<int> ui(0, 40);  // integer grid coordinates: exact ties happen
    auto pt = [&](double* x, double* y) {
      if (geographic) *x = 120.0 + 0.01 * ui(rng), *y = 28.5 + 0.01 * ui(rng);
      else *x = 250.0 * ui(rng), *y = 250.0 * ui(rng);
    };
    std::vector<double> fx(25), fy(25), px(400), py(400);
    for (size_t j = 0; j < fx.size(); ++j) pt(&fx[j], &fy[j]);
    fx[7] = fx[3], fy[7] = fy[3];  // a duplicate facility: index 3 must win
    for (size_t i = 0; i < px.size(); ++i) pt(&px[i], &py[i]);
    careshed::StraightLineOptions o;
    o.speed_kmh = 40;
    o.detour_factor = 1.3;
    o.geographic = geographic;
    o.max_seconds = seed % 3 == 0 ? 200.0 : kInf;
    std::vector<double> sec(px.size());
    std::vector<int32_t> near(px.size());
    careshed::straight_line_travel_time(fx.data(), fy.data(), fx.size(), px.data(), py.data(), px.size(), o,
                                        sec.data(), near.data());
    const int k = 3;
    std::vector<double> ksec(px.size() * k);
    std::vector<int32_t> knear(px.size() * k);
    careshed::straight_line_k_nearest(fx.data(), fy.data(), fx.size(), px.data(), py.data(), px.size(), k, o,
                                      ksec.data(), knear.data());
    for (size_t i = 0; i < px.size(); ++i) {
      std::vector<std::pair<double, int>> all;
      for (size_t j = 0; j < fx.size(); ++j) {
        const double d = geographic ? hav(px[i], py[i], fx[j], fy[j]) : std::hypot(px[i] - fx[j], py[i] - fy[j]);
        const double t = d / (40 / 3.6) * 1.3;
        if (t <= o.max_seconds) all.push_back({t, static_cast<int>(j)});
      }
      std::stable_sort(all.begin(), all.end(), [](auto& a, auto& b) { return a.first < b.first; });
      if (all.empty()) {
        EXPECT_EQ(near[i], -1);
        EXPECT_TRUE(std::isinf(sec[i]));
        continue;
      }
      EXPECT_NEAR(sec[i], all[0].first, 1e-6 * all[0].first + 1e-9) << "point " << i;
      if (!geographic) {
        EXPECT_EQ(near[i], all[0].second) << "point " << i;
      }
      for (int r = 0; r < k; ++r) {
        const size_t at = i * k + r;
        if (r < static_cast<int>(all.size())) {
          EXPECT_NEAR(ksec[at], all[r].first, 1e-6 * all[r].first + 1e-9) << "point " << i << " rank " << r;
          if (!geographic) {
            EXPECT_EQ(knear[at], all[r].second) << "point " << i << " rank " << r;
          }
        } else {
          EXPECT_EQ(knear[at], -1);
        }
      }
    }
  }
}

TEST(StraightLine, GridCellCentresAndInclusiveCutoff) {
  careshed::GridSpec grid;
  grid.width = 4;
  grid.height = 3;
  grid.geotransform = {0.0, 100.0, 0.0, 300.0, 0.0, -100.0};  // centres at x = 50..350, y = 250..50
  const double fx[] = {50, 350}, fy[] = {250, 50};
  careshed::StraightLineOptions o;
  o.speed_kmh = 3.6;  // 1 m/s: seconds = metres
  o.max_seconds = 200;
  std::vector<double> sec(12);
  std::vector<int32_t> near(12);
  careshed::straight_line_travel_time_grid(fx, fy, 2, grid, o, sec.data(), near.data());
  // Row 0 (y = 250): x = 50 → 0 s (facility 0); x = 150 → 100; x = 250 → 200 (inclusive cutoff);
  // x = 350 → 200 from facility 1 (facility 0 is 300 away).
  EXPECT_EQ(sec[0], 0);
  EXPECT_EQ(near[0], 0);
  EXPECT_EQ(sec[1], 100);
  EXPECT_EQ(sec[2], 200);
  EXPECT_EQ(near[2], 0);
  EXPECT_EQ(sec[3], 200);
  EXPECT_EQ(near[3], 1);
  // Row 1 (y = 150), x = 250: facility 0 at hypot(200,100) = 223.6 > 200, facility 1 at hypot(100,100) = 141.4.
  EXPECT_NEAR(sec[6], std::hypot(100, 100), 1e-12);
  EXPECT_EQ(near[6], 1);
  // Row 2 (y = 50), x = 50: facility 0 is 200 away, facility 1 is 300: inclusive cutoff keeps it.
  EXPECT_EQ(sec[8], 200);
  EXPECT_EQ(near[8], 0);
  o.max_seconds = kInf;
  careshed::straight_line_travel_time_grid(fx, fy, 2, grid, o, sec.data(), near.data());
  EXPECT_EQ(near[5], 0);  // (150,150): 141.4 from facility 0, 223.6 from 1
  // An exact tie (point (100, 50) equidistant from both facilities) goes to index 0 in either order.
  const double fx2[] = {0, 200}, fy2[] = {0, 0}, px[] = {100}, py[] = {50};
  double s1;
  int32_t n1;
  careshed::straight_line_travel_time(fx2, fy2, 2, px, py, 1, o, &s1, &n1);
  EXPECT_EQ(n1, 0);
  const double fx3[] = {200, 0};
  careshed::straight_line_travel_time(fx3, fy2, 2, px, py, 1, o, &s1, &n1);
  EXPECT_EQ(n1, 0);
}

TEST(StraightLine, BadOptionsAndNoFacilities) {
  const double x[] = {0}, y[] = {0};
  double s;
  int32_t n;
  careshed::StraightLineOptions o;
  careshed::straight_line_travel_time(x, y, 0, x, y, 1, o, &s, &n);
  EXPECT_EQ(n, -1);
  EXPECT_TRUE(std::isinf(s));
  o.speed_kmh = 0;
  EXPECT_THROW(careshed::straight_line_travel_time(x, y, 1, x, y, 1, o, &s, &n), careshed::InputError);
  o = {};
  o.detour_factor = std::nan("");
  EXPECT_THROW(careshed::straight_line_travel_time(x, y, 1, x, y, 1, o, &s, &n), careshed::InputError);
  o = {};
  EXPECT_THROW(careshed::straight_line_k_nearest(x, y, 1, x, y, 1, 0, o, &s, &n), careshed::InputError);
  const double bad[] = {kInf};
  EXPECT_THROW(careshed::straight_line_travel_time(x, y, 1, bad, y, 1, o, &s, &n), careshed::InputError);
}
