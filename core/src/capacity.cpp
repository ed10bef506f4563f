// capacity.cpp — AccessMod-style capacity-aware coverage: facilities in order absorb the remaining population
// band by band (see capacity.hpp for the exact rules).
//
// Why the reach lists are sorted per facility (not a global sweep): the facilities are sequential by definition
// (each sees what the previous ones left), so the only freedom is inside one facility, and sorting its own pairs
// by (band, cell) costs O(p log p) for its p pairs — the grid is never scanned per facility.
#include "careshed/capacity.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <utility>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/zonal.hpp"

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kWhat = "capacity_coverage: ";

void check_common(const CapacityInputs& in, const CapacityOptions& o) {
  if (in.n_facilities < 1)
    throw InputError(std::string(kWhat) + "n_facilities must be >= 1 (got " + std::to_string(in.n_facilities) + ")");
  if ((in.population_f32 == nullptr) == (in.population_f64 == nullptr))
    throw InputError(std::string(kWhat) + "give exactly one population array (float32 or float64)");
  if (in.capacity == nullptr) throw InputError(std::string(kWhat) + "capacity is missing (one value per facility)");
  for (std::int32_t f = 0; f < in.n_facilities; ++f) {
    const double c = in.capacity[f];
    if (!(c >= 0.0))
      throw InputError(std::string(kWhat) + "capacity of facility " + std::to_string(f) + " is " + std::to_string(c) +
                       ": give a number of people >= 0 (or inf for no limit)");
  }
  if (!(o.max_seconds >= 0.0) || !std::isfinite(o.max_seconds))
    throw InputError(std::string(kWhat) + "max_seconds must be finite and >= 0 (got " +
                     std::to_string(o.max_seconds) + ")");
  if (!(o.band_seconds >= 0.0) || !std::isfinite(o.band_seconds))
    throw InputError(std::string(kWhat) +
                     "band_seconds must be finite and >= 0 (0 = one band per distinct time); got " +
                     std::to_string(o.band_seconds));
  if (o.order_by == CapacityOrder::Population && !std::isnan(o.order_max_seconds) &&
      (!(o.order_max_seconds >= 0.0) || !std::isfinite(o.order_max_seconds)))
    throw InputError(std::string(kWhat) + "order_max_seconds must be finite and >= 0, or NaN for max_seconds; got " +
                     std::to_string(o.order_max_seconds));
  if (o.order_by == CapacityOrder::Given) {
    if (o.order.size() != static_cast<std::size_t>(in.n_facilities))
      throw InputError(std::string(kWhat) + "order must list every facility once (" + std::to_string(in.n_facilities) +
                       " indices); got " + std::to_string(o.order.size()));
    std::vector<char> seen(static_cast<std::size_t>(in.n_facilities), 0);
    for (std::size_t k = 0; k < o.order.size(); ++k) {
      const std::int32_t f = o.order[k];
      if (f < 0 || f >= in.n_facilities || seen[static_cast<std::size_t>(f)])
        throw InputError(std::string(kWhat) + "order[" + std::to_string(k) + "] = " + std::to_string(f) +
                         " is out of range or repeated: order must be a permutation of 0.." +
                         std::to_string(in.n_facilities - 1));
      seen[static_cast<std::size_t>(f)] = 1;
    }
  }
}

double order_cutoff(const CapacityOptions& o) {
  return std::isnan(o.order_max_seconds) ? o.max_seconds : o.order_max_seconds;
}

}  // namespace

CapacityResult capacity_coverage_lists(const ReachLists& reach, std::int64_t n_cells, const CapacityInputs& in,
                                       const CapacityOptions& o, double* uncovered, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "allocation");
  check_common(in, o);
  const std::size_t nf = static_cast<std::size_t>(in.n_facilities);
  if (uncovered == nullptr) throw InputError(std::string(kWhat) + "the uncovered output buffer is missing");
  if (n_cells <= 0) throw InputError(std::string(kWhat) + "the grid has no cells");
  if (reach.offsets.size() != nf + 1 || reach.offsets.front() != 0 ||
      static_cast<std::size_t>(reach.offsets.back()) != reach.cells.size() ||
      reach.seconds.size() != reach.cells.size())
    throw InputError(std::string(kWhat) + "reach lists must have n_facilities + 1 offsets starting at 0 and ending at "
                     "the number of pairs, and one time per cell");
  for (std::size_t f = 0; f < nf; ++f)
    if (reach.offsets[f + 1] < reach.offsets[f])
      throw InputError(std::string(kWhat) + "reach offsets decrease at facility " + std::to_string(f));
  for (std::size_t j = 0; j < reach.cells.size(); ++j) {
    if (static_cast<std::int64_t>(reach.cells[j]) >= n_cells)
      throw InputError(std::string(kWhat) + "reach pair " + std::to_string(j) + " names cell " +
                       std::to_string(reach.cells[j]) + " outside the grid of " + std::to_string(n_cells) + " cells");
    if (!(reach.seconds[j] >= 0.0f))
      throw InputError(std::string(kWhat) + "reach pair " + std::to_string(j) + " has a negative or NaN time");
  }

  // Remaining population lives in the output buffer from the start (NaN = no data, kept as NaN).
  CapacityResult r;
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const double p = in.population_f32 ? static_cast<double>(in.population_f32[i]) : in.population_f64[i];
    if (p < 0.0 || p == kInf)
      throw InputError(std::string(kWhat) + "population at cell " + std::to_string(i) + " is " + std::to_string(p) +
                       ": give people >= 0 (NaN for no data)");
    uncovered[i] = p;
    if (!std::isnan(p)) r.total_population += p;
  }
  auto people = [&](std::uint32_t cell) {
    const double p = in.population_f32 ? static_cast<double>(in.population_f32[cell]) : in.population_f64[cell];
    return std::isnan(p) ? 0.0 : p;
  };

  const double tmax = o.max_seconds;
  const double torder = order_cutoff(o);
  r.rank.assign(nf, 0);
  r.reachable_population.assign(nf, 0.0);
  r.order_population.assign(nf, kNaN);
  r.covered.assign(nf, 0.0);
  r.capacity_used.assign(nf, 0.0);
  r.capacity_remaining.assign(nf, 0.0);
  r.exhausted.assign(nf, 0);
  r.exhausted_seconds.assign(nf, tmax);
  r.cells_reached.assign(nf, 0);
  r.pairs = reach.cells.size();
  // Progress: the two passes over the facilities' lists count as one half each.
  const double progress_step = 0.5 / static_cast<double>(nf);
  for (std::size_t f = 0; f < nf; ++f) {
    if (control) {
      control->throw_if_cancelled();
      control->report(progress_step * static_cast<double>(f));
    }
    double reach_pop = 0.0, order_pop = 0.0;
    std::int64_t cells = 0;
    for (std::int64_t j = reach.offsets[f]; j < reach.offsets[f + 1]; ++j) {
      const double t = reach.seconds[static_cast<std::size_t>(j)];
      const double p = people(reach.cells[static_cast<std::size_t>(j)]);
      if (t <= tmax) {
        reach_pop += p;
        ++cells;
      }
      if (t <= torder) order_pop += p;
    }
    r.reachable_population[f] = reach_pop;
    r.cells_reached[f] = cells;
    if (o.order_by == CapacityOrder::Population) r.order_population[f] = order_pop;
  }

  // 1. Processing order.
  r.processing_order.resize(nf);
  if (o.order_by == CapacityOrder::Given) {
    r.processing_order = o.order;
  } else {
    std::iota(r.processing_order.begin(), r.processing_order.end(), 0);
    if (o.order_by == CapacityOrder::Population) {
      std::stable_sort(r.processing_order.begin(), r.processing_order.end(), [&](std::int32_t a, std::int32_t b) {
        return r.order_population[static_cast<std::size_t>(a)] > r.order_population[static_cast<std::size_t>(b)];
      });
    }
  }
  for (std::size_t k = 0; k < nf; ++k)
    r.rank[static_cast<std::size_t>(r.processing_order[k])] = static_cast<std::int32_t>(k);

  // 2–4. Facilities one after the other; each takes its bands in (band key, cell) order.
  const double b = o.band_seconds;
  std::vector<std::pair<double, std::uint32_t>> order, scratch;  // (band key, cell)
  std::vector<std::size_t> band_start;
  for (std::size_t k = 0; k < nf; ++k) {
    if (control) {
      control->throw_if_cancelled();
      control->report(0.5 + progress_step * static_cast<double>(k));
    }
    const std::size_t f = static_cast<std::size_t>(r.processing_order[k]);
    double cap = in.capacity[f];
    double covered = 0.0;
    if (cap == 0.0) {
      r.exhausted[f] = 1;
      r.exhausted_seconds[f] = 0.0;
    } else {
      order.clear();
      for (std::int64_t j = reach.offsets[f]; j < reach.offsets[f + 1]; ++j) {
        const double t = reach.seconds[static_cast<std::size_t>(j)];
        if (!(t <= tmax)) continue;
        // Band k = ceil(t / b): ((k-1)·b, k·b], band 0 = {0}. b = 0: the time itself is the key.
        const double key = b > 0.0 ? std::ceil(t / b) : t;
        order.emplace_back(key, reach.cells[static_cast<std::size_t>(j)]);
      }
      // Order by (band, cell). Reach lists come in ascending cell order, so with few bands (the usual one-minute
      // bands: max_seconds / 60 + 1 of them) a stable counting sort by band gives the same order in O(p); the
      // general case (exact times, or very many bands) sorts.
      const std::size_t n_bands = b > 0.0 ? static_cast<std::size_t>(std::ceil(tmax / b)) + 1 : 0;
      bool cell_sorted = true;
      for (std::size_t j = 1; j < order.size() && cell_sorted; ++j) cell_sorted = order[j - 1].second < order[j].second;
      if (b > 0.0 && cell_sorted && n_bands <= order.size() + 64) {
        band_start.assign(n_bands + 1, 0);
        for (const auto& x : order) ++band_start[static_cast<std::size_t>(x.first) + 1];
        for (std::size_t k = 0; k < n_bands; ++k) band_start[k + 1] += band_start[k];
        scratch.resize(order.size());
        for (const auto& x : order) scratch[band_start[static_cast<std::size_t>(x.first)]++] = x;
        order.swap(scratch);
      } else {
        std::sort(order.begin(), order.end());
      }
      for (std::size_t s = 0; s < order.size();) {
        std::size_t e = s;
        double R = 0.0;
        while (e < order.size() && order[e].first == order[s].first) {
          const double u = uncovered[order[e].second];
          if (!std::isnan(u)) R += u;
          ++e;
        }
        const double edge = b > 0.0 ? std::min(order[s].first * b, tmax) : order[s].first;
        if (R > 0.0) {
          if (R <= cap) {  // the whole band fits
            for (std::size_t j = s; j < e; ++j) {
              double& u = uncovered[order[j].second];
              if (!std::isnan(u)) u = 0.0;
            }
            cap -= R;
            covered += R;
          } else {  // the last band, taken fractionally: each cell gives the same share cap / R
            const double frac = cap / R;
            for (std::size_t j = s; j < e; ++j) {
              double& u = uncovered[order[j].second];
              if (!std::isnan(u)) u = std::max(0.0, u - u * frac);
            }
            covered += cap;
            cap = 0.0;
          }
          if (cap <= 0.0) {
            r.exhausted[f] = 1;
            r.exhausted_seconds[f] = edge;
            break;
          }
        }
        s = e;
      }
    }
    r.covered[f] = covered;
    r.capacity_used[f] = covered;
    r.capacity_remaining[f] = in.capacity[f] - covered;
    r.total_covered += covered;
  }

  // Zones: covered = population − uncovered, both through zonal_sum (split cells by area fraction).
  if (in.zones.zone != nullptr) {
    const ZoneCells& z = in.zones;
    const std::int64_t ns = static_cast<std::int64_t>(z.n_splits);
    r.zone_population = in.population_f32
                            ? zonal_sum(in.population_f32, n_cells, z.zone, z.split_cell, z.split_zone,
                                        z.split_fraction, ns, z.n_zones)
                            : zonal_sum(in.population_f64, n_cells, z.zone, z.split_cell, z.split_zone,
                                        z.split_fraction, ns, z.n_zones);
    const std::vector<double> unc =
        zonal_sum(static_cast<const double*>(uncovered), n_cells, z.zone, z.split_cell, z.split_zone,
                  z.split_fraction, ns, z.n_zones);
    const std::size_t nz = r.zone_population.size();
    r.zone_covered.resize(nz);
    r.zone_covered_share.resize(nz);
    for (std::size_t i = 0; i < nz; ++i) {
      r.zone_covered[i] = std::max(0.0, r.zone_population[i] - unc[i]);
      r.zone_covered_share[i] = r.zone_population[i] > 0.0 ? r.zone_covered[i] / r.zone_population[i] : kNaN;
    }
  }
  return r;
}

CapacityResult capacity_coverage(const CapacityInputs& in, const CapacityOptions& o, double* uncovered,
                                 RunControl* control) {
  check_common(in, o);
  if (in.sources_rc == nullptr) throw InputError(std::string(kWhat) + "sources (facility cells) are missing");
  RasterSearchOptions so;
  so.neighbours = o.neighbours;
  so.max_seconds = o.order_by == CapacityOrder::Population ? std::max(o.max_seconds, order_cutoff(o)) : o.max_seconds;
  so.source_offsets_s = o.source_offsets_s;
  // Progress: the searches are most of the work; 80 % of the bar is an estimate, not a measurement.
  ReachLists reach;
  {
    ProgressSpan search(control, 0.0, 0.8, "reach lists");
    reach = raster_reach_lists(in.friction, in.sources_rc, static_cast<std::size_t>(in.n_facilities), so, nullptr,
                               control);
  }
  ProgressSpan allocation(control, 0.8, 1.0);
  return capacity_coverage_lists(reach, in.friction.rows * in.friction.cols, in, o, uncovered, control);
}

}  // namespace careshed
