// careshed/straight_line.hpp — the straight-line fallback: nearest facility as the crow flies.
//
//     seconds = distance_m / (speed_kmh / 3.6) × detour_factor
//
// for the coarse "service radius" standards (e.g. "a clinic within 5 km") and as a sanity baseline for
// the road and friction models. The nearest facility per point is found with a nanoflann k-d tree; ties
// go to the lowest facility index; beyond max_seconds (inclusive) a point is +inf / -1.
// Coordinates: a projected CRS (distances in CRS units × metres_per_unit) or lon/lat degrees with
// geographic = true (great-circle metres on the 6 371 008.8 m sphere). Facilities and points share the CRS.
// Grid form: every cell centre of a GridSpec (north-up) is a point; outputs are row-major (height, width).
//
// Thread-safety: pure functions; they parallelise over points with OpenMP when available.
// Errors: InputError for speed/detour/cutoff out of range, non-finite coordinates, k out of [1, 64].
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>

#include "careshed/grid.hpp"

namespace careshed {

struct StraightLineOptions {
  double speed_kmh = 5.0;       ///< > 0
  double detour_factor = 1.0;   ///< >= 1 typically (road distance / crow-fly distance), must be > 0
  double max_seconds = std::numeric_limits<double>::infinity();  ///< inclusive cutoff
  bool geographic = false;      ///< coordinates are lon/lat degrees
  double metres_per_unit = 1.0; ///< for projected coordinates not in metres
};

/// Nearest facility (fx, fy) of each point (px, py): out_seconds[i], out_nearest[i] (caller-owned, n_points).
void straight_line_travel_time(const double* fx, const double* fy, size_t n_facilities, const double* px,
                               const double* py, size_t n_points, const StraightLineOptions& options,
                               double* out_seconds, int32_t* out_nearest);

/// The k nearest facilities per point, row-major (n_points, k), ascending by (seconds, index); missing
/// entries +inf / -1.
void straight_line_k_nearest(const double* fx, const double* fy, size_t n_facilities, const double* px,
                             const double* py, size_t n_points, int k, const StraightLineOptions& options,
                             double* out_seconds, int32_t* out_nearest);

/// Every cell centre of `grid` as a point; outputs have grid.size() entries, row-major. options.geographic
/// must match the grid's CRS (the caller knows it; GridSpec carries only WKT).
void straight_line_travel_time_grid(const double* fx, const double* fy, size_t n_facilities, const GridSpec& grid,
                                    const StraightLineOptions& options, double* out_seconds, int32_t* out_nearest);

}  // namespace careshed
