// coverage.cpp — coverage by zone in one pass over the grid (see careshed/coverage.hpp for every definition).
//
// Structure of the computation:
//  1. a scan of `seconds` (rejects NaN, negative and absurd (> 1e9 s) times and finds the largest finite time,
//     which sizes the per-zone histograms) and of the population (its largest finite value bounds every sum);
//  2. one pass over the cells that matter (populated and in a zone), parallel over rows (OpenMP, static
//     schedule). Each thread owns a full accumulator set (scalars per zone and class, a fine histogram of times
//     per zone, a whole-minute histogram per zone for the curve, station sums), so there is no sharing and no
//     atomics; bad cells are remembered (lowest flat id per thread) instead of thrown inside the parallel region;
//  3. the thread accumulators are added, the region is the sum over zones, and percentiles / curves are read
//     off the cumulative histograms.
// Every sum is exact integer arithmetic on 128-bit fixed point (exact_sum.hpp), so the partition of the rows
// over threads cannot change a bit of the result: tables are byte-identical across thread counts (issue 8).
// The histogram bin width depends on the memory cap, the zones and the largest time, never on the threads.
// Why histograms: a weighted percentile by sorting would be O(n log n) and need a copy of every populated
// cell's time; a histogram keeps the pass O(cells) and bounds the error by the bin width, which we report.
#include "careshed/coverage.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/zonal.hpp"
#include "exact_sum.hpp"
#include "parallel_errors.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kNoBad = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kParallelCells = 1 << 16;
/// Largest finite response time accepted (~31 years): keeps whole-second bin arithmetic in int64.
constexpr float kMaxSeconds = 1e9f;
/// The bin width is chosen so that this many accumulator sets fit the histogram cap; the pass then uses at most
/// max(1, cap / set size) threads. A constant, so that the bins (and p90) never depend on the thread count.
constexpr int kHistogramSets = 4;

using detail::u128;
using detail::FixedPoint;

int max_threads() {
#ifdef CARESHED_HAVE_OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return 1;
#endif
}

std::string cell_name(std::int64_t cell, std::int64_t cols) {
  return "cell " + std::to_string(cell) + " (row " + std::to_string(cell / cols) + ", col " +
         std::to_string(cell % cols) + ")";
}

/// What can be wrong with a cell, found during the pass; the lowest flat id wins so the message is
/// deterministic.
enum class Bad { None, Population, Zone, Class, NearestMissing, NearestRange, NearestOnUnreachable };

struct BadCell {
  Bad kind = Bad::None;
  std::int64_t cell = kNoBad;
  int value = 0;  // the offending class / zone / nearest
  void note(Bad k, std::int64_t c, int v) {
    if (c < cell) {
      kind = k;
      cell = c;
      value = v;
    }
  }
};

/// Per-thread sums. Scalars per zone: [pop by class (C)] [covered by class (C)] [unreachable] [reached]
/// [Σ w·t]. Histograms per zone: fine (n_bins + 1: the extra last slot takes the unreachable) and whole-minute
/// (n_minutes = curve_max + 2: the last slot takes everything beyond the curve and the unreachable). Stations:
/// (population, covered) pairs, plus one dummy pair for "no station" (unreached cells, or no station table).
/// The dummy slots let every populated cell do the same straight-line updates with no data-dependent branch.
struct Accumulator {
  std::size_t n_classes, stride, hist_stride, n_minutes;
  std::vector<u128> scalars, hist, minutes, stations;  // fixed point: weights and w·t (slot 2C+2) own scales
  Accumulator(std::size_t zones, std::size_t classes, std::size_t bins, std::size_t mins, std::size_t n_stations)
      : n_classes(classes),
        stride(2 * classes + 3),
        hist_stride(bins + 1),
        n_minutes(mins),
        scalars(zones * (2 * classes + 3), 0),
        hist(zones * (bins + 1), 0),
        minutes(zones * mins, 0),
        stations(2 * (n_stations + 1), 0) {}
  void add(const Accumulator& o) {
    auto plus = [](std::vector<u128>& a, const std::vector<u128>& b) {
      for (std::size_t i = 0; i < a.size(); ++i) a[i] += b[i];
    };
    plus(scalars, o.scalars);
    plus(hist, o.hist);
    plus(minutes, o.minutes);
    plus(stations, o.stations);
  }
};

/// Everything one populated, zoned cell needs, computed once and applied to each of its zones. The flags are
/// all-ones / zero masks rather than bools so that the updates are ANDs, not branches (on real grids covered
/// and uncovered cells interleave and a branch would mispredict often).
struct CellFacts {
  std::size_t cls;
  u128 covered;        // all ones if time <= the class threshold, else 0
  u128 reached;        // all ones if the time is finite, else 0
  double t;            // 0 when unreached (so w·t stays finite)
  std::size_t bin;     // n_bins (the overflow slot) when unreached
  std::size_t minute;  // curve_max + 1 when beyond the curve or unreached
  std::size_t station; // n_stations (dummy) when unreached or no station table
};

/// Raw pointers into one thread's Accumulator, held in registers by the inner loop (the compiler cannot prove
/// that the stores into the sums leave std::vector's own pointers unchanged, so it would reload them).
struct AccView {
  u128* scalars = nullptr;
  u128* hist = nullptr;
  u128* minutes = nullptr;
  u128* stations = nullptr;
  std::size_t n_classes = 0, stride = 0, hist_stride = 0, n_minutes = 0;
  AccView() = default;
  explicit AccView(Accumulator& a)
      : scalars(a.scalars.data()),
        hist(a.hist.data()),
        minutes(a.minutes.data()),
        stations(a.stations.data()),
        n_classes(a.n_classes),
        stride(a.stride),
        hist_stride(a.hist_stride),
        n_minutes(a.n_minutes) {}
};

/// Adds one weight w (as fixed point: `w`, and w·t in its own scale: `wt`) of a cell to zone z.
inline void accumulate(const AccView& a, std::size_t z, u128 w, u128 wt, const CellFacts& f) {
  u128* s = a.scalars + z * a.stride;
  const std::size_t c = a.n_classes;
  const u128 wc = w & f.covered, wr = w & f.reached;
  s[f.cls] += w;
  s[c + f.cls] += wc;
  s[2 * c] += w - wr;
  s[2 * c + 1] += wr;
  s[2 * c + 2] += wt;
  a.hist[z * a.hist_stride + f.bin] += w;
  a.minutes[z * a.n_minutes + f.minute] += w;
  a.stations[2 * f.station] += w;
  a.stations[2 * f.station + 1] += wc;
}

/// Statistics of one zone from its reduced scalars and histograms.
ZoneCoverage finish_zone(const double* s, const double* hist, const double* minutes, std::size_t n_classes,
                         std::size_t n_bins, int curve_max, double bin_s) {
  ZoneCoverage z;
  z.population_by_class.assign(s, s + n_classes);
  z.covered_by_class.assign(s + n_classes, s + 2 * n_classes);
  for (std::size_t c = 0; c < n_classes; ++c) {
    z.population += z.population_by_class[c];
    z.covered += z.covered_by_class[c];
    z.covered_share_by_class.push_back(z.population_by_class[c] > 0 ? z.covered_by_class[c] / z.population_by_class[c]
                                                                     : kNaN);
  }
  z.unreachable = s[2 * n_classes];
  const double reached = s[2 * n_classes + 1];
  z.uncovered = z.population - z.covered;
  z.covered_share = z.population > 0 ? z.covered / z.population : kNaN;
  z.mean_seconds = reached > 0 ? s[2 * n_classes + 2] / reached : kNaN;
  // p90: smallest bin edge k·b with population(time <= k·b) >= 0.9 · population, written 10·cum >= 9·pop so
  // that integer-valued populations compare exactly.
  if (!(z.population > 0)) {
    z.p90_seconds = kNaN;
  } else if (10.0 * reached < 9.0 * z.population) {
    z.p90_seconds = kInf;
  } else {
    double cum = 0.0;
    std::size_t k = 0;
    for (; k < n_bins; ++k) {
      cum += hist[k];
      if (10.0 * cum >= 9.0 * z.population) break;
    }
    // Rounding can leave Σ bins a hair below `reached`; then the last non-empty bin is the answer.
    if (k == n_bins) {
      k = n_bins - 1;
      while (k > 0 && hist[k] == 0.0) --k;
    }
    z.p90_seconds = static_cast<double>(k) * bin_s;
  }
  z.curve.resize(static_cast<std::size_t>(curve_max) + 1);
  double cum = 0.0;
  for (int m = 0; m <= curve_max; ++m) {
    cum += minutes[m];
    z.curve[static_cast<std::size_t>(m)] = z.population > 0 ? cum / z.population : kNaN;
  }
  return z;
}

template <class Pop>
void coverage_pass(const CoverageInputs& in, const Pop* pop, const std::vector<double>& thr, double bin_s,
                   std::size_t n_bins, int curve_max, const FixedPoint& wfix, const FixedPoint& tfix, int n_sets,
                   std::vector<std::unique_ptr<Accumulator>>& accs, std::vector<BadCell>& bads,
                   ProgressCounter& progress, detail::FirstException& errors) {
  const std::int64_t rows = in.rows, cols = in.cols;
  const ZoneCells& zc = in.zones;
  const std::size_t n_zones = static_cast<std::size_t>(zc.n_zones);
  const std::size_t n_classes = thr.size();
  const std::size_t n_minutes = static_cast<std::size_t>(curve_max) + 2;
  const bool unit_bins = bin_s == 1.0;
  const std::int64_t bin_i = static_cast<std::int64_t>(bin_s);
  const std::size_t n_station_slots = static_cast<std::size_t>(in.n_stations);
  // Threads only pay off on real grids; on small ones their start-up dominates.
  const bool parallel = rows * cols >= kParallelCells;
  (void)parallel;
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel if (parallel) num_threads(n_sets)
#endif
  {
#ifdef CARESHED_HAVE_OPENMP
    const int tid = omp_get_thread_num();
#else
    const int tid = 0;
#endif
    // Allocated by the thread that fills it (first touch puts the pages near it). std::bad_alloc may not leave
    // the parallel region: it is kept for the caller, and every thread skips its rows.
    errors.run([&] {
      accs[static_cast<std::size_t>(tid)] = std::make_unique<Accumulator>(n_zones, n_classes, n_bins, n_minutes,
                                                                          static_cast<std::size_t>(in.n_stations));
    });
    const AccView acc = accs[static_cast<std::size_t>(tid)] ? AccView(*accs[static_cast<std::size_t>(tid)]) : AccView();
    const float* const seconds = in.seconds;
    const std::int32_t* const nearest = in.nearest;
    const std::uint8_t* const cell_class = in.cell_class;
    const std::int32_t* const zone = zc.zone;
    const double* const thr_s = thr.data();
    const std::int32_t n_stations = in.n_stations;
    BadCell& bad = bads[static_cast<std::size_t>(tid)];
#ifdef CARESHED_HAVE_OPENMP
#pragma omp for schedule(static)
#endif
    for (std::int64_t r = 0; r < rows; ++r) {
      // cancelled or out of memory: skip the remaining rows (thrown by the caller)
      if (!progress.running() || errors.failed()) continue;
      const std::int64_t begin = r * cols, end = begin + cols;
      // Split entries of this row: they are sorted by cell, so one binary search per row, then a walk.
      std::size_t si = 0;
      if (zc.n_splits > 0) {
        si = static_cast<std::size_t>(std::lower_bound(zc.split_cell, zc.split_cell + zc.n_splits, begin) -
                                      zc.split_cell);
      }
      for (std::int64_t cell = begin; cell < end; ++cell) {
        const double p = static_cast<double>(pop[cell]);
        if (!(p > 0.0) || p == std::numeric_limits<double>::infinity()) {  // 0 and NaN (no data): nobody
          if (p < 0.0 || p > 0.0) bad.note(Bad::Population, cell, 0);
          continue;
        }
        const std::int32_t z = zone[cell];
        if (z == -1) continue;
        if (z < -2 || z >= zc.n_zones) {
          bad.note(Bad::Zone, cell, z);
          continue;
        }
        CellFacts f;
        std::size_t cls = 0;
        if (cell_class != nullptr && cell_class[cell] != 255) cls = cell_class[cell];
        if (cls >= n_classes) {
          bad.note(Bad::Class, cell, static_cast<int>(cls));
          continue;
        }
        f.cls = cls;
        const float tf = seconds[cell];
        const bool reached = tf != std::numeric_limits<float>::infinity();
        f.reached = reached ? ~u128(0) : u128(0);
        f.t = reached ? static_cast<double>(tf) : 0.0;
        // Whole seconds up: k1 = ceil(t) (t <= kMaxSeconds, checked by the scan). Every threshold that matters
        // for binning is a whole number of seconds (bin edges k·b, minute edges 60·m), and for an integer E,
        // t <= E  <=>  ceil(t) <= E; so bins and minutes follow from k1 with exact integer arithmetic.
        std::int64_t k1 = static_cast<std::int64_t>(f.t);
        k1 += static_cast<double>(k1) < f.t ? 1 : 0;
        const std::int64_t kb = unit_bins ? k1 : (k1 + bin_i - 1) / bin_i;
        f.bin = reached ? static_cast<std::size_t>(kb) : n_bins;
        const std::int64_t km = std::min<std::int64_t>((k1 + 59) / 60, curve_max + 1);
        f.minute = reached ? static_cast<std::size_t>(km) : n_minutes - 1;
        f.covered = (reached && f.t <= thr_s[cls]) ? ~u128(0) : u128(0);
        f.station = n_station_slots;
        if (nearest != nullptr) {
          const std::int32_t n = nearest[cell];
          if (reached) {
            if (n < 0) {
              bad.note(Bad::NearestMissing, cell, n);
              continue;
            }
            if (n >= n_stations) {
              bad.note(Bad::NearestRange, cell, n);
              continue;
            }
            f.station = static_cast<std::size_t>(n);
          } else if (n != -1) {
            bad.note(Bad::NearestOnUnreachable, cell, n);
            continue;
          }
        }
        if (z >= 0) {
          accumulate(acc, static_cast<std::size_t>(z), wfix.to_fixed(p), tfix.to_fixed(p * f.t), f);
        } else {
          while (si < zc.n_splits && zc.split_cell[si] < cell) ++si;
          for (; si < zc.n_splits && zc.split_cell[si] == cell; ++si) {
            const double w = p * zc.split_fraction[si];
            accumulate(acc, static_cast<std::size_t>(zc.split_zone[si]), wfix.to_fixed(w), tfix.to_fixed(w * f.t),
                       f);
          }
        }
      }
      progress.done();
    }
  }
}

/// The largest finite positive value of a population array (0 if none); NaN, inf and negatives are skipped.
template <class Pop>
double largest_finite(const Pop* pop, std::int64_t n) {
  double mx = 0.0;
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(max : mx) if (n >= kParallelCells)
#endif
  for (std::int64_t i = 0; i < n; ++i) {
    const double p = static_cast<double>(pop[i]);
    if (p > mx && p != std::numeric_limits<double>::infinity()) mx = p;
  }
  return mx;
}

void check_inputs(const CoverageInputs& in, const CoverageOptions& opt) {
  if (in.rows <= 0 || in.cols <= 0) {
    throw InputError("coverage_by_zone: the grid must have rows > 0 and cols > 0 (got " + std::to_string(in.rows) +
                     " x " + std::to_string(in.cols) + ")");
  }
  if (in.seconds == nullptr) throw InputError("coverage_by_zone: seconds is missing (pass the response-time grid)");
  if ((in.population_f32 == nullptr) == (in.population_f64 == nullptr)) {
    throw InputError("coverage_by_zone: give exactly one population array (float32 or float64)");
  }
  if (in.zones.zone == nullptr) throw InputError("coverage_by_zone: zones.zone is missing (one zone index per cell)");
  if (in.zones.n_zones <= 0) {
    throw InputError("coverage_by_zone: n_zones must be >= 1 (got " + std::to_string(in.zones.n_zones) + ")");
  }
  if (in.nearest != nullptr && in.n_stations < 0) {
    throw InputError("coverage_by_zone: n_stations must be >= 0 (got " + std::to_string(in.n_stations) + ")");
  }
  if (opt.thresholds_s.empty()) {
    throw InputError("coverage_by_zone: thresholds_s is empty; give one threshold (seconds) per cell class");
  }
  if (opt.thresholds_s.size() > 255) {
    throw InputError("coverage_by_zone: at most 255 classes (class 255 means 'no class'); got " +
                     std::to_string(opt.thresholds_s.size()) + " thresholds");
  }
  for (std::size_t c = 0; c < opt.thresholds_s.size(); ++c) {
    const double t = opt.thresholds_s[c];
    if (!(t > 0.0) || !std::isfinite(t)) {
      throw InputError("coverage_by_zone: the threshold of class " + std::to_string(c) +
                       " must be a positive, finite number of seconds (got " + std::to_string(t) + ")");
    }
  }
  if (opt.curve_max_minutes < 0 || opt.curve_max_minutes > 10080) {
    throw InputError("coverage_by_zone: curve_max_minutes must be in 0..10080 (one week); got " +
                     std::to_string(opt.curve_max_minutes));
  }
  const ZoneCells& z = in.zones;
  if (z.n_splits > 0 && (z.split_cell == nullptr || z.split_zone == nullptr || z.split_fraction == nullptr)) {
    throw InputError("coverage_by_zone: zones has n_splits > 0 but a split array is missing");
  }
  const std::int64_t n_cells = in.rows * in.cols;
  for (std::size_t i = 0; i < z.n_splits; ++i) {
    const std::int64_t c = z.split_cell[i];
    const std::string where = "zones split entry " + std::to_string(i);
    if (c < 0 || c >= n_cells) {
      throw InputError(where + ": cell " + std::to_string(c) + " is outside the grid (0.." +
                       std::to_string(n_cells - 1) + ")");
    }
    if (z.zone[c] != -2) {
      throw InputError(where + ": " + cell_name(c, in.cols) + " is listed as split but its zone is " +
                       std::to_string(z.zone[c]) + ", not -2 (zone arrays and split lists do not match)");
    }
    if (z.split_zone[i] < 0 || z.split_zone[i] >= z.n_zones) {
      throw InputError(where + ": zone " + std::to_string(z.split_zone[i]) + " is not in 0.." +
                       std::to_string(z.n_zones - 1));
    }
    const double f = z.split_fraction[i];
    if (!(f >= 0.0 && f <= 1.0)) {
      throw InputError(where + ": fraction " + std::to_string(f) + " is not in [0, 1]");
    }
    if (i > 0 && (z.split_cell[i - 1] > c || (z.split_cell[i - 1] == c && z.split_zone[i - 1] >= z.split_zone[i]))) {
      throw InputError(where + ": split entries must be sorted by (cell, zone) without duplicates");
    }
  }
}

[[noreturn]] void throw_bad(const BadCell& b, const CoverageInputs& in, const CoverageOptions& opt) {
  const std::string where = "coverage_by_zone: " + cell_name(b.cell, in.cols);
  switch (b.kind) {
    case Bad::Population:
      throw InputError(where + " has a negative population or an infinite one; population must be >= 0 and finite "
                               "(NaN = no data)");
    case Bad::Zone:
      throw InputError(where + " has zone " + std::to_string(b.value) + "; expected 0.." +
                       std::to_string(in.zones.n_zones - 1) + ", -1 (no zone) or -2 (split cell)");
    case Bad::Class:
      throw InputError(where + " is populated and has class " + std::to_string(b.value) +
                       ", which has no threshold (thresholds are given for classes 0.." +
                       std::to_string(opt.thresholds_s.size() - 1) + "); add a threshold for class " +
                       std::to_string(b.value) + " or reclassify the cell");
    case Bad::NearestMissing:
      throw InputError(where + " has a finite time but nearest = -1; seconds and nearest must come from the same "
                               "search");
    case Bad::NearestRange:
      throw InputError(where + " has nearest station " + std::to_string(b.value) + " but n_stations is " +
                       std::to_string(in.n_stations));
    case Bad::NearestOnUnreachable:
      throw InputError(where + " is unreachable (seconds = inf) but nearest = " + std::to_string(b.value) +
                       "; expected -1 (seconds and nearest must come from the same search)");
    case Bad::None:
      break;
  }
  throw Error("coverage_by_zone: internal error (unknown bad cell kind)");
}

}  // namespace

CoverageResult coverage_by_zone(const CoverageInputs& in, const CoverageOptions& opt, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "coverage");
  check_inputs(in, opt);
  const std::int64_t n_cells = in.rows * in.cols;

  // 1. Scan the times: the first invalid one (lowest id) and the largest finite one.
  float max_t = 0.0f;
  std::int64_t first_bad = kNoBad;
  const float* sec = in.seconds;
  const float inf = std::numeric_limits<float>::infinity();
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(max : max_t) reduction(min : first_bad) if (n_cells >= kParallelCells)
#endif
  for (std::int64_t i = 0; i < n_cells; ++i) {
    const float t = sec[i];
    // NaN, negative, or finite but absurd (beyond kMaxSeconds: a units mistake, and it would overflow the bins)
    if (!(t >= 0.0f) || (t > kMaxSeconds && t != inf)) first_bad = std::min(first_bad, i);
    if (t != inf && t > max_t) max_t = t;
  }
  if (first_bad != kNoBad) {
    throw InputError("coverage_by_zone: " + cell_name(first_bad, in.cols) + " has seconds = " +
                     std::to_string(sec[first_bad]) + "; response times must be >= 0 and at most 1e9 s, +inf when "
                     "unreachable");
  }

  // The largest finite population bounds every sum (each cell counts at most once per zone it is split into),
  // which fixes the fixed-point scales. inf is left to the pass, which names the cell.
  const double max_pop = in.population_f32 != nullptr ? largest_finite(in.population_f32, n_cells)
                                                      : largest_finite(in.population_f64, n_cells);
  const double terms = static_cast<double>(n_cells) + static_cast<double>(in.zones.n_splits);
  const FixedPoint wfix(max_pop * terms);
  const FixedPoint tfix(max_pop * terms * std::max(1.0, static_cast<double>(max_t)));

  // 2. Histogram size: 1 s bins unless the memory cap forces wider ones. Sized for kHistogramSets sets, not for
  // the threads, so that the bins are the same on every machine.
  const double bytes_per_bin = static_cast<double>(sizeof(u128)) * static_cast<double>(in.zones.n_zones);
  const double cells_per_bin_budget =
      static_cast<double>(opt.max_histogram_bytes) / (bytes_per_bin * kHistogramSets);
  static const double kWidths[] = {1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60};
  double bin_s = 0.0;
  for (double w : kWidths) {
    if (std::ceil(static_cast<double>(max_t) / w) + 1.0 <= cells_per_bin_budget) {
      bin_s = w;
      break;
    }
  }
  if (bin_s == 0.0) {  // whole minutes: 120, 180, ... s
    const double minutes_needed = std::ceil(static_cast<double>(max_t) / 60.0 / std::max(1.0, cells_per_bin_budget - 1));
    bin_s = 60.0 * std::max(2.0, minutes_needed);
  }
  // Same integer arithmetic as the pass: the largest bin index is ceil(ceil(max_t) / b).
  const std::int64_t max_k1 = static_cast<std::int64_t>(std::ceil(static_cast<double>(max_t)));
  const std::int64_t bin_i = static_cast<std::int64_t>(bin_s);
  const std::size_t n_bins = static_cast<std::size_t>((max_k1 + bin_i - 1) / bin_i) + 1;
  // As many accumulator sets (threads) as the cap allows, at least one, at most the threads available.
  const double set_bytes = bytes_per_bin * static_cast<double>(n_bins + 1);
  const double sets_that_fit = std::floor(static_cast<double>(opt.max_histogram_bytes) / set_bytes);
  const int n_sets = static_cast<int>(std::max(1.0, std::min<double>(max_threads(), sets_that_fit)));

  // 3. The pass.
  std::vector<std::unique_ptr<Accumulator>> accs(static_cast<std::size_t>(max_threads()));
  std::vector<BadCell> bads(accs.size());
  const std::int32_t n_stations_saved = in.nearest != nullptr ? in.n_stations : 0;
  CoverageInputs inputs = in;
  inputs.n_stations = n_stations_saved;
  ProgressCounter progress(control, static_cast<std::uint64_t>(in.rows));
  detail::FirstException errors;
  if (in.population_f32 != nullptr) {
    coverage_pass(inputs, in.population_f32, opt.thresholds_s, bin_s, n_bins, opt.curve_max_minutes, wfix, tfix,
                  n_sets, accs, bads, progress, errors);
  } else {
    coverage_pass(inputs, in.population_f64, opt.thresholds_s, bin_s, n_bins, opt.curve_max_minutes, wfix, tfix,
                  n_sets, accs, bads, progress, errors);
  }
  errors.rethrow_if_failed();
  throw_if_cancelled(control);
  BadCell worst;
  for (const BadCell& b : bads) {
    if (b.kind != Bad::None) worst.note(b.kind, b.cell, b.value);
  }
  if (worst.kind != Bad::None) throw_bad(worst, inputs, opt);

  // 4. Reduction: exact integer sums, so neither the order nor the number of sets matters.
  std::unique_ptr<Accumulator> total;
  for (auto& a : accs) {
    if (!a) continue;
    if (!total) {
      total = std::move(a);
    } else {
      total->add(*a);
      a.reset();
    }
  }
  const std::size_t n_zones = static_cast<std::size_t>(in.zones.n_zones);
  const std::size_t n_classes = opt.thresholds_s.size();
  const std::size_t stride = total->stride, n_minutes = total->n_minutes;
  // Fixed point to double, one zone (or the region) at a time.
  std::vector<double> s(stride), h(n_bins), m(n_minutes);
  auto finish = [&](const u128* fs, const u128* fh, const u128* fm) {
    for (std::size_t k = 0; k < stride; ++k) s[k] = (k == 2 * n_classes + 2 ? tfix : wfix).to_double(fs[k]);
    for (std::size_t k = 0; k < n_bins; ++k) h[k] = wfix.to_double(fh[k]);
    for (std::size_t k = 0; k < n_minutes; ++k) m[k] = wfix.to_double(fm[k]);
    return finish_zone(s.data(), h.data(), m.data(), n_classes, n_bins, opt.curve_max_minutes, bin_s);
  };
  CoverageResult result;
  result.bin_seconds = bin_s;
  std::vector<u128> rs(stride, 0), rh(n_bins, 0), rm(n_minutes, 0);
  for (std::size_t z = 0; z < n_zones; ++z) {
    const u128* zs = &total->scalars[z * stride];
    const u128* zh = &total->hist[z * total->hist_stride];
    const u128* zm = &total->minutes[z * n_minutes];
    result.zones.push_back(finish(zs, zh, zm));
    for (std::size_t k = 0; k < stride; ++k) rs[k] += zs[k];
    for (std::size_t k = 0; k < n_bins; ++k) rh[k] += zh[k];
    for (std::size_t k = 0; k < n_minutes; ++k) rm[k] += zm[k];
  }
  result.region = finish(rs.data(), rh.data(), rm.data());
  const std::size_t ns = static_cast<std::size_t>(n_stations_saved);
  result.station_population.resize(ns);
  result.station_covered_population.resize(ns);
  for (std::size_t st = 0; st < ns; ++st) {
    result.station_population[st] = wfix.to_double(total->stations[2 * st]);
    result.station_covered_population[st] = wfix.to_double(total->stations[2 * st + 1]);
  }
  return result;
}

CoverageResult coverage_by_zone(const CoverageInputs& inputs, const ZoneRaster& zones, const CoverageOptions& options,
                                RunControl* control) {
  if (zones.rows != inputs.rows || zones.cols != inputs.cols ||
      static_cast<std::int64_t>(zones.zone.size()) != inputs.rows * inputs.cols) {
    throw InputError("coverage_by_zone: the ZoneRaster is " + std::to_string(zones.rows) + " x " +
                     std::to_string(zones.cols) + " cells but the grid is " + std::to_string(inputs.rows) + " x " +
                     std::to_string(inputs.cols) + "; rasterize the zones on the analysis grid");
  }
  std::vector<std::int64_t> cell(zones.splits.size());
  std::vector<std::int32_t> zone(zones.splits.size());
  std::vector<double> fraction(zones.splits.size());
  for (std::size_t i = 0; i < zones.splits.size(); ++i) {
    cell[i] = zones.splits[i].cell;
    zone[i] = zones.splits[i].zone;
    fraction[i] = zones.splits[i].fraction;
  }
  CoverageInputs in = inputs;
  in.zones.zone = zones.zone.data();
  in.zones.n_zones = zones.n_zones;
  in.zones.split_cell = cell.data();
  in.zones.split_zone = zone.data();
  in.zones.split_fraction = fraction.data();
  in.zones.n_splits = zones.splits.size();
  return coverage_by_zone(in, options, control);
}

std::vector<VehicleCheck> ambulance_check(const std::vector<double>& population, const std::vector<double>& vehicles,
                                          double residents_per_vehicle) {
  if (!(residents_per_vehicle > 0.0) || !std::isfinite(residents_per_vehicle)) {
    throw InputError("ambulance_check: residents_per_vehicle must be a positive number (got " +
                     std::to_string(residents_per_vehicle) + "); the plan's standard is 30000");
  }
  if (population.size() != vehicles.size()) {
    throw InputError("ambulance_check: population has " + std::to_string(population.size()) +
                     " zones but vehicles has " + std::to_string(vehicles.size()) + "; give one count per zone");
  }
  std::vector<VehicleCheck> out(population.size());
  for (std::size_t i = 0; i < population.size(); ++i) {
    const double p = population[i], v = vehicles[i];
    if (!(p >= 0.0) || !std::isfinite(p)) {
      throw InputError("ambulance_check: population of zone " + std::to_string(i) + " must be >= 0 (got " +
                       std::to_string(p) + ")");
    }
    if (!(v >= 0.0) || !std::isfinite(v)) {
      throw InputError("ambulance_check: vehicles of zone " + std::to_string(i) + " must be >= 0 (got " +
                       std::to_string(v) + ")");
    }
    VehicleCheck& c = out[i];
    c.population = p;
    c.vehicles = v;
    c.needed = static_cast<std::int64_t>(std::ceil(p / residents_per_vehicle));
    c.shortfall = std::max<std::int64_t>(0, c.needed - static_cast<std::int64_t>(std::floor(v)));
  }
  return out;
}

}  // namespace careshed
