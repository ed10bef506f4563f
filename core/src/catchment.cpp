// catchment.cpp — per-facility statistics of the nearest-facility field, and display polygons.
//
// Why coverage_by_zone is called for the time statistics: the 90th percentile must mean the same thing in the
// coverage tables (issue 4) and the catchment tables (issue 5). Treating the nearest grid as a zone grid makes
// every catchment a "zone", and coverage_by_zone's histogram percentile is then used verbatim.
#include "careshed/catchment.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "careshed/coverage.hpp"
#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/isochrones.hpp"
#include "careshed/raster_io.hpp"

namespace careshed {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string cell_name(std::int64_t i, std::int64_t cols) {
  return "cell " + std::to_string(i) + " (row " + std::to_string(i / cols) + ", col " + std::to_string(i % cols) + ")";
}

}  // namespace

CatchmentResult catchment_stats(const CatchmentInputs& in, const CatchmentOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "catchments");
  const char* what = "catchment_stats: ";
  if (in.rows <= 0 || in.cols <= 0) throw InputError(std::string(what) + "the grid must have rows and columns");
  if (in.seconds == nullptr || in.nearest == nullptr)
    throw InputError(std::string(what) + "seconds and nearest are required (from raster_travel_time)");
  if ((in.population_f32 == nullptr) == (in.population_f64 == nullptr))
    throw InputError(std::string(what) + "give exactly one population array (float32 or float64)");
  if (in.n_facilities < 1)
    throw InputError(std::string(what) + "n_facilities must be >= 1 (got " + std::to_string(in.n_facilities) + ")");
  if (in.n_resources < 0 || (in.n_resources > 0 && in.resources == nullptr))
    throw InputError(std::string(what) + "resources: n_resources > 0 needs a resources array");
  const std::int64_t rows = in.rows, cols = in.cols;
  const std::size_t nf = static_cast<std::size_t>(in.n_facilities);
  const std::size_t nr = static_cast<std::size_t>(in.n_resources);
  if (in.row_cell_area_km2 != nullptr) {
    for (std::int64_t r = 0; r < rows; ++r) {
      const double a = in.row_cell_area_km2[r];
      if (!(a > 0.0) || !std::isfinite(a))
        throw InputError(std::string(what) + "row_cell_area_km2[" + std::to_string(r) + "] = " + std::to_string(a) +
                         " must be a positive finite area in km2");
    }
  }
  for (std::size_t i = 0; i < nf * nr; ++i) {
    const double v = in.resources[i];
    if (!(v >= 0.0) || !std::isfinite(v))
      throw InputError(std::string(what) + "resources of facility " + std::to_string(i / nr) + ", column " +
                       std::to_string(i % nr) + " = " + std::to_string(v) + ": must be finite and >= 0");
  }

  CatchmentResult out;
  out.population.assign(nf, 0.0);
  out.cells.assign(nf, 0);
  out.area_km2.assign(nf, in.row_cell_area_km2 ? 0.0 : kNaN);
  // One pass: validation + population, cells, area per catchment. Validation happens here (not only inside
  // coverage_by_zone) so the messages speak of facilities and catchments.
  // Progress: this pass is the first half, coverage_by_zone's the second.
  for (std::int64_t r = 0; r < rows; ++r) {
    if (control) {
      control->throw_if_cancelled();
      control->report(0.5 * static_cast<double>(r) / static_cast<double>(rows));
    }
    const double row_area = in.row_cell_area_km2 ? in.row_cell_area_km2[r] : 0.0;
    for (std::int64_t c = 0; c < cols; ++c) {
      const std::int64_t i = r * cols + c;
      const double t = in.seconds[i];
      const std::int32_t f = in.nearest[i];
      const double p = in.population_f32 ? static_cast<double>(in.population_f32[i]) : in.population_f64[i];
      if (p < 0.0) throw InputError(std::string(what) + "population is negative at " + cell_name(i, cols));
      const double people = std::isnan(p) ? 0.0 : p;
      if (std::isnan(t) || t < 0.0)
        throw InputError(std::string(what) + "seconds must be >= 0 or +inf; " + cell_name(i, cols) + " has " +
                         std::to_string(t));
      const bool reached = t != std::numeric_limits<double>::infinity();
      if (reached != (f >= 0) || f < -1 || f >= in.n_facilities)
        throw InputError(std::string(what) + "nearest (" + std::to_string(f) + ") and seconds (" + std::to_string(t) +
                         ") disagree at " + cell_name(i, cols) + ": nearest must be a facility index 0.." +
                         std::to_string(in.n_facilities - 1) +
                         " where seconds is finite and -1 where it is inf (use the two outputs of one search)");
      out.total_population += people;
      if (f < 0) {
        out.unreached_population += people;
        continue;
      }
      out.population[static_cast<std::size_t>(f)] += people;
      ++out.cells[static_cast<std::size_t>(f)];
      if (in.row_cell_area_km2) out.area_km2[static_cast<std::size_t>(f)] += row_area;
    }
  }
  for (double p : out.population) out.reached_population += p;

  // Mean and p90 exactly as coverage_by_zone defines them: catchments as zones.
  CoverageInputs ci;
  ci.rows = rows;
  ci.cols = cols;
  ci.seconds = in.seconds;
  ci.population_f32 = in.population_f32;
  ci.population_f64 = in.population_f64;
  ci.zones.zone = in.nearest;  // -1 (unreached) = "no zone": ignored, as catchments ignore it
  ci.zones.n_zones = in.n_facilities;
  CoverageOptions co;
  co.thresholds_s = {1.0};  // the covered counts are not used; a threshold is required
  co.curve_max_minutes = 0;
  co.max_histogram_bytes = options.max_histogram_bytes;
  CoverageResult cov;
  {
    ProgressSpan times(control, 0.5, 1.0);
    cov = coverage_by_zone(ci, co, control);
  }
  out.mean_seconds.resize(nf);
  out.p90_seconds.resize(nf);
  for (std::size_t f = 0; f < nf; ++f) {
    const bool empty = !(out.population[f] > 0.0);
    out.mean_seconds[f] = empty ? kNaN : cov.zones[f].mean_seconds;
    out.p90_seconds[f] = empty ? kNaN : cov.zones[f].p90_seconds;
  }
  out.bin_seconds = cov.bin_seconds;

  out.resources_per_1000.assign(nf * nr, kNaN);
  for (std::size_t f = 0; f < nf; ++f) {
    if (!(out.population[f] > 0.0)) continue;  // nobody to serve: NaN, documented
    for (std::size_t k = 0; k < nr; ++k)
      out.resources_per_1000[f * nr + k] = in.resources[f * nr + k] / out.population[f] * 1000.0;
  }
  return out;
}

std::vector<double> catchment_row_areas_km2(const GridSpec& grid) {
  const std::vector<double> w = row_cell_widths_m(grid);
  const std::vector<double> h = row_cell_heights_m(grid);
  std::vector<double> a(w.size());
  for (std::size_t r = 0; r < w.size(); ++r) a[r] = w[r] * h[r] / 1e6;
  return a;
}

std::vector<CatchmentPolygon> catchment_polygons(const std::int32_t* nearest, const GridSpec& grid,
                                                 std::int32_t n_facilities, bool eight_connected, bool simplify,
                                                 RunControl* control) {
  if (nearest == nullptr) throw InputError("catchment_polygons: nearest is missing");
  if (n_facilities < 1)
    throw InputError("catchment_polygons: n_facilities must be >= 1 (got " + std::to_string(n_facilities) + ")");
  if (grid.width <= 0 || grid.height <= 0)
    throw InputError("catchment_polygons: the grid must have rows and columns");
  const std::int64_t n_cells = grid.size();
  for (std::int64_t i = 0; i < n_cells; ++i) {
    if (nearest[i] >= n_facilities)
      throw InputError("catchment_polygons: nearest = " + std::to_string(nearest[i]) + " at " +
                       cell_name(i, grid.width) + " is not a facility index (n_facilities = " +
                       std::to_string(n_facilities) + ")");
  }
  // The shared label polygonizer (isochrones.hpp): the nearest grid is already a label grid, facility index =
  // label, -1 (unreached) = no polygon.
  std::vector<LabelPolygon> polys =
      label_polygons(nearest, grid, n_facilities, LabelPolygonOptions{eight_connected, simplify}, control);
  std::vector<CatchmentPolygon> out(static_cast<std::size_t>(n_facilities));
  for (std::int32_t k = 0; k < n_facilities; ++k) {
    CatchmentPolygon& p = out[static_cast<std::size_t>(k)];
    LabelPolygon& l = polys[static_cast<std::size_t>(k)];
    p.facility = k;
    p.cells = l.cells;
    p.area = l.area;
    p.wkb = std::move(l.wkb);
  }
  return out;
}

}  // namespace careshed
