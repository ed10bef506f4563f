#include "careshed/straight_line.hpp"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "kdtree.hpp"
#include "parallel_errors.hpp"

namespace careshed {

namespace {

void check(const StraightLineOptions& o) {
  auto bad = [](const char* name, double v, const char* rule) {
    std::ostringstream m;
    m << name << " = " << v << " " << rule;
    throw InputError(m.str());
  };
  if (!std::isfinite(o.speed_kmh) || o.speed_kmh <= 0.0) bad("speed_kmh", o.speed_kmh, "must be finite and > 0");
  if (!std::isfinite(o.detour_factor) || o.detour_factor <= 0.0)
    bad("detour_factor", o.detour_factor, "must be finite and > 0 (typically 1.2-1.5)");
  if (std::isnan(o.max_seconds) || o.max_seconds < 0.0) bad("max_seconds", o.max_seconds, "must be >= 0 or +inf");
  if (!std::isfinite(o.metres_per_unit) || o.metres_per_unit <= 0.0)
    bad("metres_per_unit", o.metres_per_unit, "must be finite and > 0");
}

void check_xy(const double* x, const double* y, size_t n, const char* what) {
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      std::ostringstream m;
      m << what << "[" << i << "] = (" << x[i] << ", " << y[i] << ") is not a finite coordinate";
      throw InputError(m.str());
    }
}

// seconds per metre, and the distance limit (metres) implied by the cutoff.
struct Rate {
  double s_per_m;
  double max_m;
};
Rate rate(const StraightLineOptions& o) {
  const double s_per_m = o.detour_factor / (o.speed_kmh / 3.6);
  return {s_per_m, std::isfinite(o.max_seconds) ? o.max_seconds / s_per_m : std::numeric_limits<double>::infinity()};
}

template <typename PointAt>
void nearest_loop(const detail::PointTree& tree, size_t n, PointAt point_at, const StraightLineOptions& o,
                  double* out_seconds, int32_t* out_nearest) {
  const Rate r = rate(o);
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n > 20000)
#endif
  for (int64_t i = 0; i < static_cast<int64_t>(n); ++i) {
    double x, y;
    point_at(static_cast<size_t>(i), x, y);
    // The distance limit is slightly widened by the tree; the exact inclusive test is on seconds here.
    auto [idx, d] = tree.nearest(x, y, r.max_m * (1.0 + 1e-9));
    const double t = idx >= 0 ? d * r.s_per_m : std::numeric_limits<double>::infinity();
    if (idx >= 0 && t <= o.max_seconds) {
      out_seconds[i] = t;
      out_nearest[i] = static_cast<int32_t>(idx);
    } else {
      out_seconds[i] = std::numeric_limits<double>::infinity();
      out_nearest[i] = -1;
    }
  }
}

}  // namespace

void straight_line_travel_time(const double* fx, const double* fy, size_t n_facilities, const double* px,
                               const double* py, size_t n_points, const StraightLineOptions& o,
                               double* out_seconds, int32_t* out_nearest) {
  check(o);
  check_xy(fx, fy, n_facilities, "facilities");
  check_xy(px, py, n_points, "points");
  detail::PointTree tree(fx, fy, n_facilities, o.geographic, o.metres_per_unit);
  nearest_loop(
      tree, n_points, [&](size_t i, double& x, double& y) { x = px[i], y = py[i]; }, o, out_seconds, out_nearest);
}

void straight_line_k_nearest(const double* fx, const double* fy, size_t n_facilities, const double* px,
                             const double* py, size_t n_points, int k, const StraightLineOptions& o,
                             double* out_seconds, int32_t* out_nearest) {
  check(o);
  if (k < 1 || k > 64) throw InputError("k = " + std::to_string(k) + " must be in [1, 64]");
  check_xy(fx, fy, n_facilities, "facilities");
  check_xy(px, py, n_points, "points");
  detail::PointTree tree(fx, fy, n_facilities, o.geographic, o.metres_per_unit);
  const Rate r = rate(o);
  const size_t kk = static_cast<size_t>(k);
  detail::FirstException errors;  // k_nearest allocates: std::bad_alloc is rethrown after the parallel loop
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n_points > 20000)
#endif
  for (int64_t i = 0; i < static_cast<int64_t>(n_points); ++i) {
    errors.run([&] {
      auto items = tree.k_nearest(px[i], py[i], kk, r.max_m * (1.0 + 1e-9));
      for (size_t j = 0; j < kk; ++j) {
        const size_t at = static_cast<size_t>(i) * kk + j;
        const double t = j < items.size() ? items[j].first * r.s_per_m : std::numeric_limits<double>::infinity();
        if (j < items.size() && t <= o.max_seconds) {
          out_seconds[at] = t;
          out_nearest[at] = static_cast<int32_t>(items[j].second);
        } else {
          out_seconds[at] = std::numeric_limits<double>::infinity();
          out_nearest[at] = -1;
        }
      }
    });
  }
  errors.rethrow_if_failed();
}

void straight_line_travel_time_grid(const double* fx, const double* fy, size_t n_facilities, const GridSpec& grid,
                                    const StraightLineOptions& o, double* out_seconds, int32_t* out_nearest) {
  check(o);
  if (!grid.north_up()) throw InputError("straight_line_travel_time_grid needs a north-up grid (no rotation)");
  if (grid.width < 0 || grid.height < 0) throw InputError("grid width and height must be >= 0");
  check_xy(fx, fy, n_facilities, "facilities");
  detail::PointTree tree(fx, fy, n_facilities, o.geographic, o.metres_per_unit);
  const size_t w = static_cast<size_t>(grid.width);
  nearest_loop(
      tree, static_cast<size_t>(grid.size()),
      [&](size_t i, double& x, double& y) {
        x = grid.col_center_x(static_cast<double>(i % w));
        y = grid.row_center_y(static_cast<double>(i / w));
      },
      o, out_seconds, out_nearest);
}

}  // namespace careshed
