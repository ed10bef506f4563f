// raster_search.cpp — multi-source, k-nearest and per-source bounded searches over a friction grid.
//
// How the search is organised (the contract is in careshed/raster_search.hpp):
//  * Labels. A cell's label is one uint64 packing (time in integer ticks + 1, source index):
//      label = ((ticks + 1) << index_bits) | source
//    so that comparing two labels as integers compares (time, source) lexicographically: a single
//    compare implements "earlier wins, equal times go to the lower index". Because step costs are
//    integers, adding a step preserves that order exactly, which is what makes the result independent
//    of processing order (a label-correcting search converges to the unique fixpoint = per-cell
//    minimum over all paths of (time, source)). Unreached = 0x7F800000'FFFFFFFF, whose bytes are
//    already the output CellLabel {-1, +inf}; every valid label is < 2^62, so also below it.
//  * Queue. A circular bucket queue (Dial / delta-stepping) over ticks >> shift, with a bitmap of
//    non-empty buckets. The bucket width is chosen so the window (n buckets) spans more than the
//    largest step: every push then lands inside the window and no overflow list is needed. Bucket
//    width <= smallest step gives Dijkstra's "each cell once"; wider buckets only cause re-expansion of
//    a few cells inside a bucket (label-correcting), never a wrong answer. Entries carry the low 32
//    bits of the ticks they were pushed with so stale entries are skipped without a side array
//    (the nearest search's in-tile sub-buckets instead mark waiting cells, one entry per cell; work_sub).
//  * Grid access. Neighbours by precomputed flat offsets; only cells within 1 (2 for 16 neighbours)
//    of the border take the bounds-checked path (no padded copy of the friction: memory is the output
//    plus the queue). Step lengths are precomputed per direction (per row for lon/lat grids).
//  * Locality and threads. Cell-by-cell bucket order jumps across the whole front and is bound by
//    memory latency (~300 ns per cell on a 36 M-cell grid). So a bucket is worked 64 x 64 tile by tile,
//    with in-tile sub-buckets, while the tile's data is in cache; with several threads each tile of a
//    round is worked by the one thread that claims it (own checkerboard colour first, then stealing) and
//    the labels of each tile's outer ring (the only cells another thread touches) are lowered by
//    compare-and-swap, the rest with plain stores (see NearestSearch::work_tile).
//  * Memory of raster_travel_time: the output itself is the label array (8 B/cell, converted in place
//    at the end) + the bucket queue (front-sized). With a cutoff, only the reached cells are converted.
#include "careshed/raster_search.hpp"

#include <time.h>

#include <algorithm>
#include <optional>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/terrain.hpp"
#include "terrain_cost.hpp"
#include "careshed/raster_tiles.hpp"
#include "parallel_errors.hpp"
#include "raster_search_internal.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif
#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {
namespace {

__extension__ typedef unsigned __int128 u128;  // GCC/Clang; for the multiply-high row division

constexpr std::uint64_t kUnreached = 0x7F800000FFFFFFFFull;  // == bytes of CellLabel{-1, +inf}
constexpr std::uint32_t kUnreached32 = 0xFFFFFFFFu;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::int64_t kParallelCells = std::int64_t{1} << 18;  // below this, threads cost more than they give

// Directions: 4 rook, 4 diagonal, then the 8 knight's moves (r.cost -k).
constexpr int kDr[16] = {0, 0, -1, 1, -1, -1, 1, 1, -2, -2, 2, 2, -1, -1, 1, 1};
constexpr int kDc[16] = {-1, 1, 0, 0, -1, 1, -1, 1, -1, 1, -1, 1, -2, 2, -2, 2};

std::string cell_name(std::int64_t r, std::int64_t c) {
  std::ostringstream s;
  s << "[" << r << ", " << c << "]";
  return s.str();
}

// Everything derived once per call: validated inputs, step factors, tick scale.
struct Prepared {
  std::int64_t rows = 0, cols = 0;
  int K = 8;
  std::int64_t off[16] = {};
  std::int64_t mid1[16] = {}, mid2[16] = {};  // the two cells a knight's move passes between
  std::vector<double> hl;                      // per row (or one row) x K: factor * L * 2^q
  bool per_row = false;
  int q = 0;                    // tick = 2^-q s
  double scale = 1.0;           // 2^q
  int index_bits = 0;
  std::uint64_t cut_ticks = 0;  // inclusive cutoff in ticks
  std::uint64_t fastdiv_m = 0;  // Lemire: row = (m * cell) >> 64
  double max_friction = 0.0;    // largest finite friction
  double min_pos_friction = kInf;
  double mean_friction = 0.0;   // over passable cells
  std::int64_t n_passable = 0;
  int threads = 0;              // options.threads
  ThreadPolicy thread_policy = ThreadPolicy::adaptive;
  double max_seconds = kInf;    // options.max_seconds
  double max_len = 0.0, min_len = kInf;
  std::vector<double> len;      // per row (or one row) x K: centre distance L in metres
  // Bounds of the move costs (the friction's, or a terrain model's; see StepBounds).
  double max_step_s = 0.0;          // no move costs more (seconds)
  double typical_per_metre = 0.0;   // a typical move's seconds per metre (bucket width, thread choice)
  double min_pos_per_metre = kInf;  // about the cheapest positive move's seconds per metre
  std::vector<std::uint64_t> source_ticks;  // per source offset in ticks (or > cut if beyond cutoff)
  std::vector<std::uint32_t> source_cell;
  std::vector<bool> source_inert;
  RunControl* control = nullptr;  // polled once per round of the search (careshed/progress.hpp)

  std::int64_t row_of(std::uint32_t cell) const {
    if (fastdiv_m == 0) return cell;  // one column: m would be 2^64
    return static_cast<std::int64_t>((static_cast<u128>(fastdiv_m) * cell) >> 64);
  }
};

double row_dx(const FrictionGrid& g, std::int64_t r) { return g.row_dx_m ? g.row_dx_m[r] : g.dx_m; }

// What scan_friction gathers over a range of cells.
struct FrictionScan {
  double mx = 0.0, mn = kInf, sum = 0.0;  // largest finite, smallest positive finite, sum of passable
  std::int64_t passable = 0;
  bool negative = false;  // some finite friction (or -inf) < 0
};

template <class FT>
void scan_cells(const FT* f, std::int64_t lo, std::int64_t hi, FrictionScan& out) {
  FrictionScan r = out;  // a local: a double friction store might alias it
  for (std::int64_t i = lo; i < hi; ++i) {
    const double v = f[i];
    if (v < kInf) {  // finite (NaN and +inf are impassable)
      if (v < 0.0) {
        r.negative = true;
      } else {
        ++r.passable;
        r.sum += v;
        r.mx = std::max(r.mx, v);
        if (v > 0.0) r.mn = std::min(r.mn, v);
      }
    }
  }
  out = r;
}

#if defined(__x86_64__) && defined(__SSE2__)
// float32, four cells at a time without branches (the scalar loop above took ~19 instructions a cell on the
// 36 M-cell benchmark: 0.7 G, a few % of the whole search). The same largest, smallest and count; the sum is
// added in another order (it only sets the bucket width, never a result).
void scan_cells(const float* f, std::int64_t lo, std::int64_t hi, FrictionScan& out) {
  FrictionScan r = out;
  const __m128 zero = _mm_setzero_ps(), inf = _mm_set1_ps(std::numeric_limits<float>::infinity());
  __m128 mx = zero, mn = inf, neg = zero;
  __m128d s0 = _mm_setzero_pd(), s1 = _mm_setzero_pd();
  std::int64_t i = lo;
  while (hi - i >= 4) {
    // Count passable cells in 32-bit lanes, emptied every 2^20 blocks (no lane overflows).
    const std::int64_t stop = i + std::min<std::int64_t>((hi - i) & ~std::int64_t{3}, std::int64_t{4} << 20);
    __m128i cnt = _mm_setzero_si128();
    for (; i < stop; i += 4) {
      const __m128 v = _mm_loadu_ps(f + i);
      const __m128 ok = _mm_and_ps(_mm_cmpge_ps(v, zero), _mm_cmplt_ps(v, inf));  // finite >= 0
      neg = _mm_or_ps(neg, _mm_cmplt_ps(v, zero));
      cnt = _mm_sub_epi32(cnt, _mm_castps_si128(ok));
      const __m128 w = _mm_and_ps(ok, v);  // the passable value, or +0
      mx = _mm_max_ps(w, mx);
      const __m128 pos = _mm_cmpgt_ps(w, zero);
      mn = _mm_min_ps(_mm_or_ps(_mm_and_ps(pos, w), _mm_andnot_ps(pos, inf)), mn);
      s0 = _mm_add_pd(s0, _mm_cvtps_pd(w));
      s1 = _mm_add_pd(s1, _mm_cvtps_pd(_mm_movehl_ps(w, w)));
    }
    alignas(16) std::int32_t c[4];
    _mm_store_si128(reinterpret_cast<__m128i*>(c), cnt);
    r.passable += std::int64_t{c[0]} + c[1] + c[2] + c[3];
  }
  alignas(16) float a[4], b[4];
  alignas(16) double s[4];
  _mm_store_ps(a, mx);
  _mm_store_ps(b, mn);
  _mm_store_pd(s, s0);
  _mm_store_pd(s + 2, s1);
  for (int k = 0; k < 4; ++k) {
    r.mx = std::max(r.mx, static_cast<double>(a[k]));
    r.mn = std::min(r.mn, static_cast<double>(b[k]));
    r.sum += s[k];
  }
  r.negative = r.negative || _mm_movemask_ps(neg) != 0;
  scan_cells<float>(f, i, hi, r);
  out = r;
}
#endif

template <class FT>
void scan_friction(const FT* f, std::int64_t n, Prepared& p) {
  // One range per thread, combined in thread order.
  int threads = 1;
#ifdef CARESHED_HAVE_OPENMP
  if (n > kParallelCells) threads = std::max(1, omp_get_max_threads());
#endif
  std::vector<FrictionScan> parts(static_cast<std::size_t>(threads));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
#ifdef CARESHED_HAVE_OPENMP
    const int tid = omp_get_thread_num(), team = omp_get_num_threads();
#else
    const int tid = 0, team = 1;
#endif
    FrictionScan r;
    scan_cells(f, n * tid / team, n * (tid + 1) / team, r);
    parts[static_cast<std::size_t>(tid)] = r;
  }
  FrictionScan all;
  for (const FrictionScan& r : parts) {
    all.mx = std::max(all.mx, r.mx);
    all.mn = std::min(all.mn, r.mn);
    all.sum += r.sum;
    all.passable += r.passable;
    all.negative = all.negative || r.negative;
  }
  if (all.negative) {  // name the first negative cell
    std::int64_t i = 0;
    while (!(f[i] < 0.0)) ++i;
    std::ostringstream s;
    s << "raster search: friction" << cell_name(i / p.cols, i % p.cols) << " = " << static_cast<double>(f[i])
      << " is negative; friction is seconds per metre >= 0 (use NaN for impassable cells)";
    throw InputError(s.str());
  }
  p.max_friction = all.mx;
  p.min_pos_friction = all.mn;
  p.n_passable = all.passable;
  p.mean_friction = all.passable ? all.sum / static_cast<double>(all.passable) : 0.0;
}

// How a cost model other than the friction's scales the moves (terrain): a move of length L costs at
// most L * (f_max * max_mult + max_add_per_metre) where f_max is the largest finite friction; typical and
// cheapest moves likewise. The defaults are the friction's own (the r.cost rule).
struct StepBounds {
  double max_mult = 1.0, max_add_per_metre = 0.0;
  double typical_mult = 1.0, typical_add_per_metre = 0.0;
  double min_mult = 1.0, min_add_per_metre = 0.0;
};

// Validates the inputs and derives the geometry (first half of prepare; a terrain model reads p.len to
// bound its costs before prepare_ticks).
// Checks the grid's geometry (not its friction) and the search options shared by every search.
void check_geometry_and_options(const FrictionGrid& g, const RasterSearchOptions& o) {
  if (g.rows < 1 || g.cols < 1) {
    std::ostringstream s;
    s << "raster search: friction grid is " << g.rows << " x " << g.cols << "; it needs at least one cell";
    throw InputError(s.str());
  }
  if (!(g.dy_m > 0.0 && g.dy_m < kInf))
    throw InputError("raster search: cell_size dy must be a positive finite number of metres, got " +
                     std::to_string(g.dy_m));
  if (g.row_dx_m) {
    for (std::int64_t r = 0; r < g.rows; ++r)
      if (!(g.row_dx_m[r] > 0.0 && g.row_dx_m[r] < kInf))
        throw InputError("raster search: per-row cell width dx[" + std::to_string(r) +
                         "] must be a positive finite number of metres, got " + std::to_string(g.row_dx_m[r]));
  } else if (!(g.dx_m > 0.0 && g.dx_m < kInf)) {
    throw InputError("raster search: cell_size dx must be a positive finite number of metres, got " +
                     std::to_string(g.dx_m));
  }
  if (o.neighbours != 8 && o.neighbours != 16)
    throw InputError("raster search: neighbours must be 8 or 16 (16 adds r.cost's knight's moves), got " +
                     std::to_string(o.neighbours));
  if (std::isnan(o.max_seconds) || o.max_seconds < 0.0)
    throw InputError("raster search: max_seconds must be >= 0 (or infinite for no cutoff), got " +
                     std::to_string(o.max_seconds));
  if (o.threads < 0 || o.threads > 256)
    throw InputError("raster search: threads must be 0 (automatic) or 1..256, got " + std::to_string(o.threads));
}

// Centre-to-centre step lengths per direction (per row for lon/lat grids) and their extremes: p.per_row,
// p.len, p.max_len, p.min_len from the geometry alone (p.K set).
void step_lengths(const FrictionGrid& g, Prepared& p) {
  p.per_row = g.row_dx_m != nullptr;
  const std::int64_t table_rows = p.per_row ? g.rows : 1;
  std::vector<double> len(static_cast<std::size_t>(table_rows) * p.K, 0.0);
  for (std::int64_t r = 0; r < table_rows; ++r) {
    for (int k = 0; k < p.K; ++k) {
      const std::int64_t r2 = r + kDr[k];
      if (p.per_row && (r2 < 0 || r2 >= g.rows)) continue;  // never used
      const double dxm = p.per_row ? (row_dx(g, r) + row_dx(g, r2)) / 2.0 : g.dx_m;
      const double L = std::hypot(kDc[k] * dxm, kDr[k] * g.dy_m);
      len[r * p.K + k] = L;
      p.max_len = std::max(p.max_len, L);
      p.min_len = std::min(p.min_len, L);
    }
  }

  p.len = std::move(len);
}

Prepared prepare_grid(const FrictionGrid& g, const std::int64_t* sources_rc, std::size_t n_sources,
                      const RasterSearchOptions& o) {
  Prepared p;
  if ((g.friction_f32 == nullptr) == (g.friction_f64 == nullptr))
    throw InputError("raster search: give exactly one friction buffer (float32 or float64)");
  check_geometry_and_options(g, o);
  const double ncells = static_cast<double>(g.rows) * static_cast<double>(g.cols);
  if (ncells > 4294967294.0) {
    std::ostringstream s;
    s << "raster search: friction grid of " << g.rows << " x " << g.cols
      << " cells exceeds 2^32 - 2 cells (32-bit cell ids); split it into tiles";
    throw InputError(s.str());
  }
  p.rows = g.rows;
  p.cols = g.cols;
  p.K = o.neighbours;
  p.threads = o.threads;
  p.thread_policy = o.thread_policy;
  p.max_seconds = o.max_seconds;
  const std::int64_t n = g.rows * g.cols;
  for (std::size_t s = 0; s < n_sources; ++s) {
    const std::int64_t r = sources_rc[2 * s], c = sources_rc[2 * s + 1];
    if (r < 0 || r >= g.rows || c < 0 || c >= g.cols) {
      std::ostringstream m;
      m << "raster search: sources[" << s << "] = (row " << r << ", col " << c << ") lies outside the "
        << g.rows << " x " << g.cols << " friction grid; give (row, col) cell indices inside it";
      throw InputError(m.str());
    }
    if (o.source_offsets_s) {
      const double off = o.source_offsets_s[s];
      if (!(off >= 0.0 && off < kInf)) {
        std::ostringstream m;
        m << "raster search: source_offsets[" << s << "] = " << off
          << " must be a finite number of seconds >= 0";
        throw InputError(m.str());
      }
    }
  }
  if (g.friction_f32)
    scan_friction(g.friction_f32, n, p);
  else
    scan_friction(g.friction_f64, n, p);

  // Geometry.
  for (int k = 0; k < p.K; ++k) {
    p.off[k] = kDr[k] * g.cols + kDc[k];
    if (k >= 8) {
      if (kDr[k] == 2 || kDr[k] == -2) {
        p.mid1[k] = (kDr[k] / 2) * g.cols;
        p.mid2[k] = (kDr[k] / 2) * g.cols + kDc[k];
      } else {
        p.mid1[k] = kDc[k] / 2;
        p.mid2[k] = kDr[k] * g.cols + kDc[k] / 2;
      }
    }
  }
  step_lengths(g, p);
  return p;
}

// The inclusive cutoff in ticks: the largest tick count whose output seconds, float32(ticks * 2^-q) as every
// output conversion rounds them, are <= max_seconds. So a cell is reached exactly when the time the caller
// would see for it is <= the cutoff. (floor(max_seconds * 2^q) was off both ways: a 7.2 s cell's ticks round
// to nearest and may exceed floor(7.2 * 2^q), and the float32 rounding may go above the cutoff.) The output
// seconds grow monotonically with the ticks, so a binary search finds the boundary.
std::uint64_t cut_ticks_for(double max_seconds, int q) {
  const auto seconds = [q](std::uint64_t ticks) {
    return static_cast<double>(static_cast<float>(std::ldexp(static_cast<double>(ticks), -q)));
  };
  std::uint64_t lo = 0;                                                                  // seconds(lo) <= cutoff
  std::uint64_t hi = 2 * static_cast<std::uint64_t>(std::ldexp(max_seconds, q)) + 2;  // seconds(hi) > cutoff
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (seconds(mid) <= max_seconds ? lo : hi) = mid;
  }
  return lo;
}

// The integer arithmetic of a search: the largest time any label can hold must fit in ticks_bits - 1 bits
// (after the +1) next to index_bits bits of source index. Depends only on whole-grid figures, so a tiled
// search computes it once for all its tiles (raster_tiles.hpp). max_step: the most any move costs (s).
// Bits of the (ticks + 1) part of raster_reach_lists' labels (uint32, one facility per search).
constexpr int kReachTicksBits = 32;

TickScale choose_scale(double max_step, std::int64_t n_passable, double max_offset, std::size_t n_sources,
                       double max_seconds, int ticks_bits, bool multi_label) {
  double bound;
  if (max_seconds < kInf)
    bound = max_seconds + 2.0 * max_step;  // labels never exceed the cutoff; margin for rounding
  else  // a shortest path is simple: at most n_passable steps; + bucket slack
    bound = max_offset + (static_cast<double>(n_passable) + 2.0) * max_step;
  bound = bound * 1.001 + 1e-9;
  TickScale t;
  if (multi_label)
    while (t.index_bits < 32 && (std::uint64_t{1} << t.index_bits) < n_sources) ++t.index_bits;
  const int value_bits = ticks_bits - t.index_bits - 1;
  const double max_ticks = std::ldexp(1.0, value_bits);
  int q = static_cast<int>(std::floor(std::log2(max_ticks / bound)));
  q = std::min(q, 40);
  while (q > -1000 && std::ldexp(bound, q) >= max_ticks) --q;  // guard log2 rounding
  t.q = q;
  t.tick_seconds = std::ldexp(1.0, -q);
  t.cut_ticks = max_seconds < kInf ? cut_ticks_for(max_seconds, q) : static_cast<std::uint64_t>(max_ticks);
  return t;
}

// Second half of prepare: tick scale, label layout and the sources. ticks_bits: how many bits the
// (ticks + 1) part of a label may use. `fixed` (tiled searches): the whole grid's arithmetic, used instead
// of the one this grid alone would get.
void prepare_ticks(Prepared& p, const FrictionGrid& g, const std::int64_t* sources_rc, std::size_t n_sources,
                   const RasterSearchOptions& o, int ticks_bits, bool multi_label, const StepBounds& sb,
                   const TickScale* fixed = nullptr) {
  p.max_step_s = p.max_len * (p.max_friction * sb.max_mult + sb.max_add_per_metre);
  p.typical_per_metre = p.mean_friction * sb.typical_mult + sb.typical_add_per_metre;
  p.min_pos_per_metre = p.min_pos_friction < kInf ? p.min_pos_friction * sb.min_mult + sb.min_add_per_metre
                                                  : (sb.min_add_per_metre > 0.0 ? sb.min_add_per_metre : kInf);

  // Tick scale (or the whole grid's, for a tile of a tiled search).
  double max_offset = 0.0;
  if (o.source_offsets_s)
    for (std::size_t s = 0; s < n_sources; ++s) max_offset = std::max(max_offset, o.source_offsets_s[s]);
  const TickScale scale = fixed ? *fixed
                                : choose_scale(p.max_step_s, p.n_passable, max_offset, n_sources, o.max_seconds,
                                               ticks_bits, multi_label);
  p.index_bits = scale.index_bits;
  p.q = scale.q;
  p.scale = std::ldexp(1.0, scale.q);
  p.cut_ticks = scale.cut_ticks;
  p.hl.resize(p.len.size());
  for (std::size_t i = 0; i < p.len.size(); ++i) {
    const int k = static_cast<int>(i % p.K);
    p.hl[i] = (k >= 8 ? 0.25 : 0.5) * p.len[i] * p.scale;
  }
  p.fastdiv_m = ~std::uint64_t{0} / static_cast<std::uint64_t>(g.cols) + 1;

  // Sources.
  p.source_ticks.resize(n_sources);
  p.source_cell.resize(n_sources);
  p.source_inert.resize(n_sources);
  for (std::size_t s = 0; s < n_sources; ++s) {
    const std::int64_t cell = sources_rc[2 * s] * g.cols + sources_rc[2 * s + 1];
    p.source_cell[s] = static_cast<std::uint32_t>(cell);
    const double f = g.friction_f32 ? static_cast<double>(g.friction_f32[cell]) : g.friction_f64[cell];
    p.source_inert[s] = !(f < kInf);
    const double off = o.source_offsets_s ? o.source_offsets_s[s] : 0.0;
    const double t = std::floor(off * p.scale + 0.5);
    p.source_ticks[s] = t > static_cast<double>(p.cut_ticks) ? p.cut_ticks + 1 : static_cast<std::uint64_t>(t);
  }
}

Prepared prepare(const FrictionGrid& g, const std::int64_t* sources_rc, std::size_t n_sources,
                 const RasterSearchOptions& o, int ticks_bits, bool multi_label, const TickScale* fixed = nullptr) {
  Prepared p = prepare_grid(g, sources_rc, n_sources, o);
  prepare_ticks(p, g, sources_rc, n_sources, o, ticks_bits, multi_label, StepBounds{}, fixed);
  return p;
}

// floor(w + 0.5) for 0 <= w < 2^62, through the signed conversion (one instruction; the unsigned one
// is a branchy sequence on x86-64).
inline std::uint64_t to_ticks(double w) { return static_cast<std::uint64_t>(static_cast<std::int64_t>(w + 0.5)); }

// to_ticks(w) for a finite w >= 0 below 2^62; 2^63 for w = NaN or +inf (a move onto an impassable cell), which
// every caller refuses as beyond the cutoff. The conversion instruction gives exactly that (x86-64's
// "integer indefinite"); elsewhere, an explicit test.
inline std::uint64_t ticks_or_huge(double w) {
#if defined(__x86_64__) && defined(__SSE2__)
  return static_cast<std::uint64_t>(_mm_cvttsd_si64(_mm_set_sd(w + 0.5)));
#else
  return w < kInf ? to_ticks(w) : std::uint64_t{1} << 63;
#endif
}

// A growable array of trivially copyable entries (queue buckets, tiles' and sub-buckets' lists). Unlike
// std::vector's, its push_back is small enough to be inlined into the search's inner loop (GCC kept
// std::vector<Entry>::push_back, and even a plain one of this class, an out-of-line call there: ~11-17 % of
// the search's CPU time); growing is the out-of-line rare path. Moves leave the source empty; copies are not needed.
template <class T>
class PodVec {
  static_assert(std::is_trivially_copyable<T>::value, "PodVec holds trivially copyable entries only");

 public:
  PodVec() = default;
  PodVec(const PodVec&) = delete;
  PodVec& operator=(const PodVec&) = delete;
  PodVec(PodVec&& o) noexcept : b_(o.b_), e_(o.e_), cap_(o.cap_) { o.b_ = o.e_ = o.cap_ = nullptr; }
  PodVec& operator=(PodVec&& o) noexcept {
    PodVec(std::move(o)).swap(*this);
    return *this;
  }
  ~PodVec() { std::free(b_); }

  __attribute__((always_inline)) void push_back(const T& x) {
    if (__builtin_expect(e_ == cap_, 0)) grow(size() + 1);
    *e_++ = x;
  }
  void append(const T* first, const T* last) {
    const std::size_t k = static_cast<std::size_t>(last - first);
    if (k == 0) return;
    if (static_cast<std::size_t>(cap_ - e_) < k) grow(size() + k);
    std::memcpy(e_, first, k * sizeof(T));
    e_ += k;
  }
  void clear() { e_ = b_; }
  // Frees the storage (an idle list keeps none).
  void release() { PodVec().swap(*this); }
  void swap(PodVec& o) noexcept {
    std::swap(b_, o.b_);
    std::swap(e_, o.e_);
    std::swap(cap_, o.cap_);
  }
  bool empty() const { return e_ == b_; }
  std::size_t size() const { return static_cast<std::size_t>(e_ - b_); }
  std::size_t capacity() const { return static_cast<std::size_t>(cap_ - b_); }
  T& operator[](std::size_t i) { return b_[i]; }
  const T& operator[](std::size_t i) const { return b_[i]; }
  T* begin() { return b_; }
  T* end() { return e_; }
  const T* begin() const { return b_; }
  const T* end() const { return e_; }

 private:
  // Doubles the capacity (at least `need`, at least 16 entries); std::bad_alloc when memory runs out.
  __attribute__((noinline)) void grow(std::size_t need) {
    std::size_t cap = std::max<std::size_t>({need, 2 * capacity(), 16});
    const std::size_t n = size();
    T* nb = static_cast<T*>(std::realloc(b_, cap * sizeof(T)));
    if (nb == nullptr) throw std::bad_alloc();
    b_ = nb;
    e_ = nb + n;
    cap_ = nb + cap;
  }

  T* b_ = nullptr;
  T* e_ = nullptr;
  T* cap_ = nullptr;
};

// Circular bucket queue over absolute bucket numbers [cur, cur + nb).
template <class Entry>
class BucketQueue {
 public:
  void reset(int shift) {
    shift_ = shift;
    if (buckets_.empty()) {
      buckets_.resize(kBuckets);
      bits_.assign(kBuckets / 64, 0);
    }
    for (std::size_t w = 0; w < bits_.size(); ++w) {
      std::uint64_t word = bits_[w];
      while (word) {
        buckets_[w * 64 + __builtin_ctzll(word)].clear();
        word &= word - 1;
      }
      bits_[w] = 0;
    }
    cur_ = 0;
  }
  int shift() const { return shift_; }
  std::uint64_t bucket_of(std::uint64_t ticks) const { return ticks >> shift_; }
  void push(std::uint64_t ticks, const Entry& e) {
    const std::size_t slot = static_cast<std::size_t>(ticks >> shift_) & kMask;
    buckets_[slot].push_back(e);
    bits_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
  }
  // Smallest absolute bucket >= cur holding entries; false if the queue is empty.
  bool next_nonempty(std::uint64_t& out) const {
    const std::size_t start = static_cast<std::size_t>(cur_) & kMask;
    std::size_t w = start >> 6;
    std::uint64_t word = bits_[w] & (~std::uint64_t{0} << (start & 63));
    for (std::size_t i = 0; i <= bits_.size(); ++i) {
      if (word) {
        const std::size_t slot = w * 64 + __builtin_ctzll(word);
        out = cur_ + ((slot - start) & kMask);
        return true;
      }
      w = (w + 1) % bits_.size();
      word = bits_[w];
      if (w == (start >> 6)) word &= ~(~std::uint64_t{0} << (start & 63));  // wrapped: only below start
    }
    return false;
  }
  void set_current(std::uint64_t b) { cur_ = b; }
  bool empty_bucket(std::uint64_t b) const { return buckets_[static_cast<std::size_t>(b) & kMask].empty(); }
  // Moves the entries of absolute bucket b into `work` (which must be empty); false if none.
  bool take(std::uint64_t b, PodVec<Entry>& work) {
    const std::size_t slot = static_cast<std::size_t>(b) & kMask;
    if (buckets_[slot].empty()) return false;
    work.swap(buckets_[slot]);
    // Leave the slot without storage: otherwise every slot of the ring keeps the capacity of the
    // largest bucket it ever held, and the ring would hold far more memory than the live entries.
    buckets_[slot].release();
    bits_[slot >> 6] &= ~(std::uint64_t{1} << (slot & 63));
    return true;
  }
  // Moves every entry of `other` (whose window starts at the same current bucket) into this queue.
  void absorb(BucketQueue& other) {
    for (std::size_t w = 0; w < other.bits_.size(); ++w) {
      std::uint64_t word = other.bits_[w];
      while (word) {
        const std::size_t slot = w * 64 + __builtin_ctzll(word);
        PodVec<Entry>& from = other.buckets_[slot];
        PodVec<Entry>& to = buckets_[slot];
        if (to.empty())
          to.swap(from);
        else
          to.append(from.begin(), from.end());
        from.release();
        bits_[w] |= std::uint64_t{1} << (slot & 63);
        word &= word - 1;
      }
      other.bits_[w] = 0;
    }
  }
  // Puts entries back into absolute bucket b (taken from it and not worked).
  void put_back(std::uint64_t b, const PodVec<Entry>& entries) {
    if (entries.empty()) return;
    const std::size_t slot = static_cast<std::size_t>(b) & kMask;
    buckets_[slot].append(entries.begin(), entries.end());
    bits_[slot >> 6] |= std::uint64_t{1} << (slot & 63);
  }
  static constexpr std::size_t kBuckets = std::size_t{1} << 14;
  static constexpr std::size_t kMask = kBuckets - 1;

 private:
  std::vector<PodVec<Entry>> buckets_;
  std::vector<std::uint64_t> bits_;
  std::uint64_t cur_ = 0;
  int shift_ = 0;
};

// Bucket width. It must be wide enough that the window spans the largest step (no overflow list).
// Beyond that it is a speed knob only (exactness never depends on it, see the file comment).
//  * wide (tiled nearest search): about 32 typical steps, split into 64 in-tile sub-buckets of about
//    half a typical step. Measured on the benchmark grid (6000^2, 100 sources): 2 typical steps cost
//    3x more time (many small rounds, a tile reloaded for every thin band of the front). Cells expanded
//    more than once (a wave entering a tile in a later round of the bucket): 36.3 M expansions for
//    35.8 M reached cells at 16 steps, 37.2 M at 32, 40.1 M at 64, 54.8 M at 128. 64 was the fastest
//    while grouping a round's entries read every entry's label (a cache miss each); since the sub-bucket
//    comes from the entry itself (work_tile), 32 is: callgrind on 3000^2 (one thread) 2.55 G instructions
//    against 2.84 G at 64, and no more D1 or LL misses.
//  * otherwise (k-nearest, FIFO inside a bucket): the smallest positive step, Dial's choice, so that
//    cells are expanded about once.
// max_width_ticks: a caller's cap on the width (a side network's, see detail::SideNetwork).
int choose_shift(const Prepared& p, bool wide, double max_width_ticks = kInf) {
  const double max_step_ticks = p.max_step_s * p.scale + 2.0;
  const double target_ticks = std::min(wide ? 32.0 * p.min_len * p.typical_per_metre * p.scale
                                            : 0.5 * p.min_len * p.min_pos_per_metre * p.scale,
                                       max_width_ticks);
  int shift_min = 0;
  while (std::ldexp(1.0, shift_min) * (static_cast<double>(BucketQueue<int>::kBuckets) - 4.0) < max_step_ticks)
    ++shift_min;
  int shift_target = 0;
  while (shift_target < 62 && std::ldexp(1.0, shift_target + 1) <= target_ticks) ++shift_target;
  return std::max(shift_min, shift_target);
}

struct Entry {
  std::uint32_t cell;
  std::uint32_t ticks_lo;  // low 32 bits of the ticks it was pushed with (stale check)
};

struct SourceEvent {
  std::uint64_t ticks;
  std::uint32_t index;
  std::uint32_t cell;
};

std::vector<SourceEvent> sorted_sources(const Prepared& p) {
  std::vector<SourceEvent> ev;
  for (std::size_t s = 0; s < p.source_ticks.size(); ++s)
    if (!p.source_inert[s] && p.source_ticks[s] <= p.cut_ticks)
      ev.push_back({p.source_ticks[s], static_cast<std::uint32_t>(s), p.source_cell[s]});
  std::sort(ev.begin(), ev.end(), [](const SourceEvent& a, const SourceEvent& b) {
    return a.ticks != b.ticks ? a.ticks < b.ticks : a.index < b.index;
  });
  return ev;
}

// The single-label search (nearest source). LabelT = uint64 (multi-source, index in the low bits) or
// uint32 (one source per search: index_bits = 0).
//
// Order of work: the global bucket queue gives the bucket b; a bucket is worked in rounds. A round
// takes the bucket's entries, groups them by 64 x 64 tile and works tile by tile: a tile's labels and
// friction (~48 KB) stay in cache while the wave inside it is carried through the rest of bucket b
// (pushes that stay in the tile and in b go to kSub in-tile sub-buckets, handled on the spot, so the
// in-tile order stays close to Dijkstra's); pushes leaving the tile or the bucket go back to the global
// queue. Rounds repeat until bucket b is empty. With several threads, a round's entries are grouped by tile
// by the tile's checkerboard owner, then each tile is worked by the one thread that claims it (its own tiles
// first, then the others' left over), labels on a tile's outer ring are lowered with compare-and-swap and the
// others with plain stores (see work_tile; a label-correcting search converges to the same unique fixpoint in
// any interleaving), and barriers separate the phases of a round.
//
// Busy machines. A barrier waits for the slowest thread: when another process deschedules one of the
// threads, the others wait for it at every round, so the threads together may do less work per second
// than one thread alone. Under ThreadPolicy::adaptive thread 0 measures, at each round, the useful CPU
// time of all threads (thread CPU clock outside the barriers) per wall second over the last >= 20 ms,
// and if that falls clearly (below 3/4) under the rate one thread achieved alone (1 core until
// measured), the parallel phase ends at that round: the entries the round had taken go back into the
// queue, every worker's queue is merged into worker 0's, and thread 0 carries on alone (its rate is
// measured) for as long as the search has run so far (20 ms to 1 s) before all threads try again.
// Small rounds (a narrow front on a grid just big enough for threads) trip the same test on a quiet
// machine, where one thread is then faster too. The hand-over happens at a round boundary, where no
// tile is being worked, and any order of work gives the same labels (see the file comment), so the
// result is bit-identical to a run on any number of threads.
// Cost: detail::IsoCost (the r.cost rule, inline below) or a directed terrain cost (terrain_cost.hpp).
// kSide: a side network searched in the same queue (detail::SideNetwork; set_side): expansions of its joined
// cells are reported per worker, and thread 0 advances it between buckets (see loop). Off: no code for it.
template <class FT, int K, class LabelT, class Cost = detail::IsoCost, bool kSide = false>
class NearestSearch {
  static_assert(!kSide || sizeof(LabelT) == 8, "a side network works on packed 64-bit labels");
 public:
  static constexpr int kTileShift = 6;
  static constexpr std::int64_t kTileSide = std::int64_t{1} << kTileShift;
  // The outer ring of a tile that moves from other tiles reach (knight's moves: 2 cells).
  static constexpr std::int64_t kRing = K == 16 ? 2 : 1;
  static constexpr int kSubBits = 6, kSub = 1 << kSubBits;

  struct Worker {
    BucketQueue<Entry> q;
    PodVec<Entry> work[2];  // this round's and the previous round's entries (double buffer)
    PodVec<Entry> sub[kSub];
    std::vector<std::uint32_t> active;
    std::vector<std::uint32_t> touched;
    // Per cell of the tile being worked (row-major, kTileSide wide): 1 while the cell has an entry in a
    // sub-bucket and has not been expanded since (see work_sub). All 0 between tile visits.
    std::uint8_t pending[kTileSide * kTileSide] = {};
    std::uint64_t settled = 0;
    // Current tile / bucket being worked.
    std::int64_t cur_tr = -1, cur_tc = -1;
    int cur_sub = 0;
    bool overflow = false;  // touched list past the limit
    // Thread CPU nanoseconds spent outside barriers (written by the owner, read by thread 0).
    std::int64_t cpu_work_ns = 0;
    std::int64_t cpu_mark_ns = 0;
  };

  // report_progress: whether this search reports its progress to p.control (a search among many, as in
  // the reach lists, only polls for cancellation).
  NearestSearch(const Prepared& p, const FT* fr, LabelT* lab, int threads, bool record_touched, int shift,
                std::vector<PodVec<Entry>>& tiles, bool report_progress = true, const Cost* cost = nullptr)
      : p_(p), fr_(fr), lab_(lab), threads_(threads), record_(record_touched), report_(report_progress),
        cost_(cost), tiles_(tiles), workers_(threads) {
    ntx_ = ((p.cols - 1) >> kTileShift) + 1;
    shift_ = shift;
    sub_shift_ = shift > kSubBits ? shift - kSubBits : 0;
    for (Worker& w : workers_) w.q.reset(shift);
    if (threads > 1) claims_.assign(tiles.size(), 0);
  }

  // Sources must be sorted by (ticks, index). Sets the source labels, then searches.
  void run(const std::vector<SourceEvent>& sources) {
    for (const SourceEvent& s : sources) {
      const LabelT L = static_cast<LabelT>(((s.ticks + 1) << p_.index_bits) | s.index);
      if (L < lab_[s.cell]) {
        if (record_ && lab_[s.cell] == unreached()) workers_[0].touched.push_back(s.cell);
        lab_[s.cell] = L;
      }
    }
    sp_ = 0;
    finished_ = false;
    if (threads_ <= 1) {
      active_ = 1;
      loop(sources, 0);
      errors_.rethrow_if_failed();
      return;
    }
    const double run_start = wall_seconds();
    for (;;) {
      // All threads, until done or until thread 0 decides that one thread would do better.
      active_ = threads_;
      phase_rounds_ = 0;
      for (Worker& w : workers_) w.cpu_work_ns = 0;
      window_start_ = last_sync_ = wall_seconds();
      window_cpu_ns_ = 0;
#pragma omp parallel num_threads(threads_)
      {
#ifdef CARESHED_HAVE_OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        workers_[tid].cpu_mark_ns = thread_cpu_ns();
        loop(sources, tid);
      }
      if (finished_) {
        errors_.rethrow_if_failed();
        return;
      }
      // Hand over to thread 0: the stopped round's entries back into bucket cur_b_, all queues into one.
      Worker& first = workers_[0];
      for (Worker& w : workers_) {
        first.q.put_back(cur_b_, w.work[stop_round_ & 1]);
        w.work[0].clear();
        w.work[1].clear();
        if (&w != &first) first.q.absorb(w.q);
      }
      active_ = 1;
      phase_rounds_ = 0;
      ++handovers_;
      const double t0 = wall_seconds();
      const std::int64_t c0 = thread_cpu_ns();
      // One thread alone for as long as the search has run so far (20 ms .. 1 s): the cost of trying
      // the threads again (waking them, one window) stays a small fraction of the run.
      const double single_span = std::min(std::max(t0 - run_start, kMinSingleSpan), kMaxSingleSpan);
      single_until_ = p_.thread_policy == ThreadPolicy::alternate ? t0 : t0 + single_span;
      loop(sources, 0);
      if (finished_) {
        errors_.rethrow_if_failed();
        return;
      }
      const double span = wall_seconds() - t0;
      if (span > 0.0) single_rate_ = std::min(1.0, 1e-9 * static_cast<double>(thread_cpu_ns() - c0) / span);
    }
  }

  // Ready for another search on the same label array (whose labels the caller has reset).
  void reset() {
    for (Worker& w : workers_) {
      w.q.reset(shift_);
      std::memset(w.pending, 0, sizeof w.pending);  // a visit cut short by an exception may leave marks
      w.touched.clear();
      w.settled = 0;
      w.overflow = false;
    }
  }

  bool touched_overflow() const {
    for (const Worker& w : workers_)
      if (w.overflow) return true;
    return false;
  }

  std::vector<Worker>& workers() { return workers_; }
  std::uint64_t handovers() const { return handovers_; }
  std::uint64_t settled() const {
    std::uint64_t s = 0;
    for (const Worker& w : workers_) s += w.settled;
    return s;
  }
  std::size_t touched_count() const {
    std::size_t s = 0;
    for (const Worker& w : workers_) s += w.touched.size();
    return s;
  }

  static constexpr LabelT unreached() {
    return sizeof(LabelT) == 8 ? static_cast<LabelT>(kUnreached) : static_cast<LabelT>(kUnreached32);
  }

 private:
  static constexpr double kWindow = 0.02, kMinSingleSpan = 0.02, kMaxSingleSpan = 1.0;  // seconds
  // Fall back only when the threads are clearly worse than one thread (no flapping on noise).
  static constexpr double kClearlyWorse = 0.75;

  static double wall_seconds() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  static std::int64_t thread_cpu_ns() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }

  void barrier(Worker& me) {
    if (active_ > 1) {
      if (p_.thread_policy == ThreadPolicy::adaptive) {
        const std::int64_t now = thread_cpu_ns();
        __atomic_store_n(&me.cpu_work_ns, me.cpu_work_ns + (now - me.cpu_mark_ns), __ATOMIC_RELAXED);
#pragma omp barrier
        me.cpu_mark_ns = thread_cpu_ns();
        if (&me == &workers_[0]) last_sync_ = wall_seconds();
      } else {
#pragma omp barrier
      }
    }
  }

  // Thread 0, in a parallel phase, before a round's barrier: should the phase end at this round?
  // The window ends at the last barrier passed, up to which every thread's CPU time is published.
  bool one_thread_would_do_better() {
    if (p_.thread_policy == ThreadPolicy::alternate) return phase_rounds_ > 0;
    if (p_.thread_policy != ThreadPolicy::adaptive) return false;
    const double now = last_sync_;
    std::int64_t cpu = 0;
    for (const Worker& w : workers_) cpu += __atomic_load_n(&w.cpu_work_ns, __ATOMIC_RELAXED);
    if (phase_rounds_ == 0) {  // the first window starts once every thread has started (not a cost per round)
      window_start_ = now;
      window_cpu_ns_ = cpu;
      return false;
    }
    if (now - window_start_ < kWindow) return false;
    const double rate = 1e-9 * static_cast<double>(cpu - window_cpu_ns_) / (now - window_start_);
    window_start_ = now;
    window_cpu_ns_ = cpu;
    return rate < kClearlyWorse * single_rate_;
  }

  std::uint64_t ticks_of(LabelT L) const { return (static_cast<std::uint64_t>(L) >> p_.index_bits) - 1; }
  int sub_of(std::uint64_t ticks) const {
    const std::uint64_t s = ticks >= b_start_ ? (ticks - b_start_) >> sub_shift_ : 0;
    return s < kSub ? static_cast<int>(s) : kSub - 1;
  }
  int owner(std::int64_t tr, std::int64_t tc) const { return static_cast<int>((tr + tc) % active_); }
  // Several threads: true for the one thread that claims tile t in the round numbered `serial`.
  bool claim(std::uint32_t t, std::uint64_t serial) {
    std::uint64_t seen = __atomic_load_n(&claims_[t], __ATOMIC_RELAXED);
    return seen != serial &&
           __atomic_compare_exchange_n(&claims_[t], &seen, serial, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
  }

  LabelT load(std::uint32_t v) const {
    if (active_ > 1) return __atomic_load_n(&lab_[v], __ATOMIC_RELAXED);
    return lab_[v];
  }

  void loop(const std::vector<SourceEvent>& sources, int tid) {
    Worker& me = workers_[tid];
    for (;;) {
      // Next bucket: the smallest non-empty one over all workers' queues, or the next source's.
      std::uint64_t b = 0;
      bool has = false;
      for (const Worker& w : workers_) {
        std::uint64_t bw;
        if (w.q.next_nonempty(bw) && (!has || bw < b)) b = bw, has = true;
      }
      const std::size_t sp = sp_;
      if (sp < sources.size()) {
        const std::uint64_t sb = sources[sp].ticks >> shift_;
        if (!has || sb <= b) b = sb, has = true;
      }
      if constexpr (kSide) {  // reports not yet advanced: this bucket again (their labels are in it)
        std::uint64_t st = side_->next_ticks();
        for (const auto& reports : side_settled_)
          if (!reports.empty()) st = std::min(st, b_start_);
        if (st != ~std::uint64_t{0} && (!has || (st >> shift_) < b)) b = st >> shift_, has = true;
      }
      barrier(me);  // everyone has read the queues and sp_ before they change
      if (!has) {
        if (tid == 0) finished_ = true;
        break;
      }
      me.q.set_current(b);
      b_start_ = b << shift_;  // same value written by every thread
      cur_b_ = b;
      if (tid == 0) {
        std::size_t s = sp;
        errors_.run([&] {
          while (s < sources.size() && (sources[s].ticks >> shift_) == b) {
            me.q.push(sources[s].ticks, Entry{sources[s].cell, static_cast<std::uint32_t>(sources[s].ticks)});
            ++s;
          }
        });
        sp_ = s;
        if constexpr (kSide) errors_.run([&] { advance_side(me, b); });
      }
      barrier(me);
      // Rounds of bucket b. One barrier per round: work vectors are double-buffered (round parity),
      // so a worker only clears the buffer of round r - 1 once everybody has passed the barrier of
      // round r, i.e. finished reading it. A round in which no worker took anything ends the bucket.
      // Cancellation is decided once per round by thread 0 and read by all after the barrier, so all
      // threads leave at the same round (double-buffered like the work vectors, for the same reason).
      bool stopped = false;
      for (unsigned round = 0;; ++round) {
        if (active_ == 1 && threads_ > 1 && phase_rounds_ > 0 && wall_seconds() >= single_until_) {
          me.work[0].clear();
          me.work[1].clear();
          return;  // hand back to all threads
        }
        PodVec<Entry>& mine = me.work[round & 1];
        mine.clear();
        errors_.run([&] { me.q.take(b, mine); });
        if (tid == 0) {
          // A failed allocation (kept in errors_, rethrown by run) stops the search like a cancellation.
          stop_[round & 1] = cancel_requested(p_.control) || errors_.failed();
          if (report_ && p_.control) report_round(me, b);
          // The hand-over decision for this round, double-buffered by parity like stop_.
          if (active_ > 1) handover_[round & 1] = !stop_[round & 1] && one_thread_would_do_better();
          ++round_serial_;  // read by all after the barrier; written again only after the next round's grouping barrier
        }
        barrier(me);
        stopped = stop_[round & 1];
        if (active_ > 1 && handover_[round & 1]) {
          if (tid == 0) stop_round_ = round;
          return;  // thread 0 puts this round's entries back and carries on alone
        }
        if (tid == 0) ++phase_rounds_;
        const std::uint64_t serial = round_serial_;  // this round's tile claims (see claim)
        bool any = false;
        for (const Worker& w : workers_) any |= !w.work[round & 1].empty();
        if (!any || stopped) break;
        // Allocations here (queues, tiles, the touched list) may fail: an exception must not leave the
        // parallel region, so it is kept and this thread goes on to the barriers until thread 0 stops the run.
        // The round's entries are grouped by tile, each tile's by one thread (the checkerboard owner); the
        // active lists of the previous round are cleared only now, when no thread can be reading them.
        me.active.clear();
        errors_.run([&] {
          for (const Worker& w : workers_) {
            for (const Entry& e : w.work[round & 1]) {
              const std::int64_t row = p_.row_of(e.cell);
              const std::int64_t col = static_cast<std::int64_t>(e.cell) - row * p_.cols;
              const std::int64_t tr = row >> kTileShift, tc = col >> kTileShift;
              if (active_ > 1 && owner(tr, tc) != tid) continue;
              const std::size_t t = static_cast<std::size_t>(tr * ntx_ + tc);
              if (tiles_[t].empty()) me.active.push_back(static_cast<std::uint32_t>(t));
              tiles_[t].push_back(e);
            }
          }
        });
        // Tiles are then worked by whichever thread claims them: a thread works its own list, then takes
        // what is left of the others' lists from their ends (a wave crossing tile by tile fills one
        // checkerboard colour in one round and the other in the next: a fixed split left one thread
        // waiting for the other ~10 % of the time on the benchmark grid). One thread per tile and round,
        // and only a tile's outer ring is touched from another tile (compare-and-swap), whichever thread
        // works the neighbour, so deep cells stay plain loads and stores (see work_tile).
        barrier(me);  // every tile list of the round is complete
        errors_.run([&] {
          const auto work_claimed = [&](std::uint32_t t) {
            if (active_ > 1 && !claim(t, serial)) return;
            if (cancel_requested(p_.control) || errors_.failed()) {  // leave it: the run ends next round
              tiles_[t].clear();
              return;
            }
            work_tile(me, t);
          };
          for (const std::uint32_t t : me.active) work_claimed(t);
          if (active_ > 1)
            for (int o = 1; o < active_; ++o) {
              const std::vector<std::uint32_t>& theirs = workers_[(tid + o) % active_].active;
              for (std::size_t i = theirs.size(); i-- > 0;) work_claimed(theirs[i]);
            }
        });
        me.cur_tr = me.cur_tc = -1;
        if (record_ && me.touched.size() > touched_limit_) me.overflow = true;
      }
      me.work[0].clear();
      me.work[1].clear();
      if (stopped) {  // cancelled: the run ends here (the caller throws after the parallel region)
        if (tid == 0) finished_ = true;
        break;
      }
    }
  }

  // Thread 0 at the start of bucket b, no grid work running (between barriers): hands the side network the
  // joined cells expanded since the last call and lets it search up to the end of b; its offers lower labels
  // (plain stores: no other thread runs) and go into worker 0's queue, in bucket b or later, inside the window.
  void advance_side(Worker& me, std::uint64_t b) {
    struct Sink final : detail::SideNetwork::CellSink {
      LabelT* lab;
      BucketQueue<Entry>* q;
      int index_bits;
      void offer(std::uint32_t cell, std::uint64_t label) override {
        if (label >= lab[cell]) return;
        lab[cell] = label;
        const std::uint64_t t = (label >> index_bits) - 1;
        q->push(t, Entry{cell, static_cast<std::uint32_t>(t)});
      }
    } sink;
    sink.lab = lab_;
    sink.q = &me.q;
    sink.index_bits = p_.index_bits;
    for (auto& reports : side_settled_) {
      side_->settled(reports.data(), reports.size());
      reports.clear();
    }
    // First ticks of buckets, saturated: with fine ticks the window's end lies beyond 2^64 (a wrapped limit
    // would hold offers back for ever).
    const std::uint64_t last = ~std::uint64_t{0} >> shift_;
    auto start = [&](std::uint64_t bucket) { return bucket > last ? ~std::uint64_t{0} : bucket << shift_; };
    side_->advance(start(b + 1), start(b + BucketQueue<Entry>::kBuckets - 1), sink);
  }

  // Progress estimate (thread 0, once per round): with a cutoff, the time the wave front reached over
  // the cutoff; without, cells settled (thread 0's share x threads, about even with tile claiming)
  // over passable cells, capped below 1 (re-expansions; the caller's span reports 1 at the end).
  void report_round(const Worker& me, std::uint64_t b) {
    double f;
    if (p_.max_seconds < kInf)
      f = static_cast<double>(b << shift_) / (static_cast<double>(p_.cut_ticks) + 1.0);
    else
      f = static_cast<double>(me.settled) * threads_ / (static_cast<double>(p_.n_passable) + 1.0);
    p_.control->report(std::min(f, 0.99));
  }

  // What expanding a cell reads for every neighbour, copied into a by-value local: the compiler then keeps
  // it in registers across the label stores and list appends (members of *this and of p_ it must reload
  // after each store, since a uint64 label store may alias them). Fixed for a tile's visit; `sub` per
  // sub-bucket.
  struct Hot {
    LabelT* lab;
    const FT* fr;
    std::uint64_t cut_ticks;  // p_.cut_ticks
    std::uint64_t b;          // the bucket being worked (cur_b_)
    std::uint64_t b_start;    // its first tick (b_start_)
    std::int64_t rows, cols;
    std::int64_t tr, tc;      // the tile being worked
    int index_bits;
    int shift, sub_shift;
    int sub;                  // the sub-bucket being worked
    bool shared;              // active_ > 1: labels are read atomically and lowered by compare-and-swap
    bool per_row;             // p_.per_row
    const double* hl;         // p_.hl.data()
    std::uint64_t fastdiv_m;  // p_.fastdiv_m
    LabelT label_one;         // 1 << index_bits: adding d ticks to a label adds d * label_one
    std::uint64_t b_width;    // 1 << shift: ticks t lie in bucket b exactly when t - b_start < b_width
    // The tile's deep cells (see work_tile): rows [deep_r0, deep_r0 + deep_rn), cols [deep_c0, deep_c0 + deep_cn).
    std::int64_t deep_r0, deep_c0;
    std::uint64_t deep_rn, deep_cn;
    // Its inner cells (several threads; see work_tile): deep ones and those of the ring of width kRing just
    // inside the outer ring, rows [inner_r0, inner_r0 + inner_rn), cols likewise; the tile's first row and column.
    std::int64_t inner_r0, inner_c0;
    std::uint64_t inner_rn, inner_cn;
    std::int64_t tile_r0, tile_c0;
    std::uint8_t* pending;    // the worker's (Worker::pending)
  };

  // Index of a cell of tile (tr, tc) in Worker::pending.
  std::size_t local_index(std::uint32_t cell, std::int64_t tr, std::int64_t tc) const {
    const std::int64_t row = p_.row_of(cell), col = static_cast<std::int64_t>(cell) - row * p_.cols;
    return static_cast<std::size_t>(((row - (tr << kTileShift)) << kTileShift) + (col - (tc << kTileShift)));
  }

  void work_tile(Worker& me, std::uint32_t t) {
    me.cur_tr = t / ntx_;
    me.cur_tc = t % ntx_;
    PodVec<Entry>& tq = tiles_[t];
    // Entries whose cell has been lowered since they were pushed are dropped here (they would expand nothing
    // new); the others mark their cell waiting (Worker::pending), once per cell, and join the sub-bucket of
    // their ticks (the bits of the sub-bucket lie in their low 32 bits when sub_shift_ + kSubBits <= 32).
    const auto start_lo = static_cast<std::uint32_t>(b_start_);
    const bool low_bits = sub_shift_ + kSubBits <= 32;
    for (const Entry& e : tq) {
      const std::uint64_t ticks = ticks_of(load(e.cell));
      if (static_cast<std::uint32_t>(ticks) != e.ticks_lo) continue;
      std::uint8_t& mark = me.pending[local_index(e.cell, me.cur_tr, me.cur_tc)];
      if (mark) continue;  // an entry with the same ticks already waits
      mark = 1;
      if (low_bits) {
        const std::uint32_t s = (e.ticks_lo - start_lo) >> sub_shift_;
        me.sub[s < kSub ? s : kSub - 1].push_back(e);
      } else {
        me.sub[sub_of(ticks)].push_back(e);
      }
    }
    if (tq.capacity() > 256)  // idle tiles keep <= 2 KB each (< 0.5 B/cell); big visits reallocate
      tq.release();
    else
      tq.clear();
    // Deep cells: every neighbour is in this tile (so a push stays in it) and in the grid, and with several
    // threads also outside the tile's outer ring of width m, the only cells of a tile that another thread
    // touches (it relaxes the neighbours of the cells of the tiles it works, at most m cells into ours). In a
    // round, a tile is worked by the one thread that claimed it, alone, so a deep cell's neighbours are read
    // and lowered with plain loads and stores, no compare-and-swap. With several threads the cells of the ring
    // of width m inside the outer ring ("inner" but not deep) have every neighbour in the tile too: only their
    // moves onto the outer ring need the compare-and-swap (expand_inner), the others stay plain (m = kRing).
    const std::int64_t deep_lo = active_ > 1 ? 2 * kRing : kRing;
    const std::int64_t r0 = me.cur_tr * kTileSide + deep_lo, c0 = me.cur_tc * kTileSide + deep_lo;
    const std::int64_t r1 = std::min(me.cur_tr * kTileSide + kTileSide - deep_lo, p_.rows - kRing);
    const std::int64_t c1 = std::min(me.cur_tc * kTileSide + kTileSide - deep_lo, p_.cols - kRing);
    const std::int64_t ir0 = me.cur_tr * kTileSide + kRing, ic0 = me.cur_tc * kTileSide + kRing;
    const std::int64_t ir1 = std::min(me.cur_tr * kTileSide + kTileSide - kRing, p_.rows - kRing);
    const std::int64_t ic1 = std::min(me.cur_tc * kTileSide + kTileSide - kRing, p_.cols - kRing);
    Hot h{};
    h.lab = lab_;
    h.fr = fr_;
    h.cut_ticks = p_.cut_ticks;
    h.b = cur_b_;
    h.b_start = b_start_;
    h.rows = p_.rows;
    h.cols = p_.cols;
    h.tr = me.cur_tr;
    h.tc = me.cur_tc;
    h.index_bits = p_.index_bits;
    h.shift = shift_;
    h.sub_shift = sub_shift_;
    h.shared = active_ > 1;
    h.per_row = p_.per_row;
    h.hl = p_.hl.data();
    h.fastdiv_m = p_.fastdiv_m;
    h.label_one = static_cast<LabelT>(LabelT{1} << p_.index_bits);
    h.b_width = std::uint64_t{1} << shift_;
    h.deep_r0 = r0;
    h.deep_c0 = c0;
    h.deep_rn = r1 > r0 ? static_cast<std::uint64_t>(r1 - r0) : 0;
    h.deep_cn = c1 > c0 ? static_cast<std::uint64_t>(c1 - c0) : 0;
    h.inner_r0 = ir0;
    h.inner_c0 = ic0;
    h.inner_rn = ir1 > ir0 ? static_cast<std::uint64_t>(ir1 - ir0) : 0;
    h.inner_cn = ic1 > ic0 ? static_cast<std::uint64_t>(ic1 - ic0) : 0;
    h.tile_r0 = me.cur_tr * kTileSide;
    h.tile_c0 = me.cur_tc * kTileSide;
    h.pending = me.pending;
    for (me.cur_sub = 0; me.cur_sub < kSub; ++me.cur_sub) {
      h.sub = me.cur_sub;
      PodVec<Entry>& sq = me.sub[me.cur_sub];
      if (!sq.empty()) {
        if (record_)
          work_sub<true>(me, h, sq);
        else
          work_sub<false>(me, h, sq);
      }
      sq.clear();
    }
  }

  // The entries of one sub-bucket in order (pushes into this same sub-bucket join its end). Out of line,
  // and reading what it needs from h (by value): a small function whose hot values get registers (inlined
  // into loop(), most of them lived on the stack).
  // kRecord: record_ (a compile-time flag: the test per lowered label cost ~2 % of the search's instructions).
  template <bool kRecord>
  __attribute__((noinline)) void work_sub(Worker& me, const Hot h, PodVec<Entry>& sq) {
    std::uint64_t settled = 0;
    for (std::size_t i = 0; i < sq.size(); ++i) {
      const std::uint32_t c = sq[i].cell;
      const std::int64_t row =
          h.fastdiv_m == 0 ? std::int64_t{c} : static_cast<std::int64_t>((static_cast<u128>(h.fastdiv_m) * c) >> 64);
      const std::int64_t col = static_cast<std::int64_t>(c) - row * h.cols;
      std::uint8_t* const pu = h.pending + (((row - h.tile_r0) << kTileShift) + (col - h.tile_c0));
      // Stale: expanded since this entry was pushed. A cell lowered while it waits is expanded once, with
      // the label it has when its entry comes up (see push_sub).
      if (*pu == 0) continue;
      *pu = 0;
      const LabelT L = load(h, c);
      const std::uint64_t t = (static_cast<std::uint64_t>(L) >> h.index_bits) - 1;
      ++settled;
      if constexpr (kSide) {
        if (side_->joined(c)) side_settled_[static_cast<std::size_t>(&me - workers_.data())].push_back({L, c});
      }
      const double* const hl = h.per_row ? h.hl + row * K : h.hl;
      if constexpr (Cost::kIsotropic) {
        if (static_cast<std::uint64_t>(row - h.deep_r0) < h.deep_rn &&
            static_cast<std::uint64_t>(col - h.deep_c0) < h.deep_cn)
          expand_deep<kRecord, false>(me, h, c, L, t, hl, pu);
        else if (static_cast<std::uint64_t>(row - h.inner_r0) < h.inner_rn &&
                 static_cast<std::uint64_t>(col - h.inner_c0) < h.inner_cn)
          expand_inner<kRecord>(me, h, c, L, t, row - h.tile_r0, col - h.tile_c0, hl, pu);
        else
          expand(me, h, c, L, t, row, col, hl);
      } else {
        // Terrain costs: a deep cell's moves at fixed offsets with plain loads and stores; the others through
        // the general path, whose moves onto cells only this thread touches are plain too.
        if (static_cast<std::uint64_t>(row - h.deep_r0) < h.deep_rn &&
            static_cast<std::uint64_t>(col - h.deep_c0) < h.deep_cn)
          expand_deep_cost<kRecord>(me, h, c, L, t, row, hl, pu);
        else
          expand(me, h, c, L, t, row, col, hl);
      }
    }
    me.settled += settled;
  }

  // A deep cell's moves, isotropic costs (see work_tile). The r.cost rule of relax() and relax_knight() in
  // fewer instructions: an impassable v (or a cell a knight's move passes between) makes the move's cost
  // NaN or +inf, whose conversion gives 2^63 ticks (ticks_or_huge), beyond every cutoff, so one test refuses
  // both; and the new label is L + d * label_one (the same bits as ((t + d + 1) << index_bits) | idx).
  // kShared: an inner cell that is not deep (several threads; see work_tile), at (lr, lc) in its tile: a move
  // onto the tile's outer ring (width kRing) reads atomically and lowers by compare-and-swap, the others not.
  // pu: the cell's mark in Worker::pending.
  template <bool kRecord, bool kShared>
  __attribute__((always_inline)) static void expand_deep(Worker& me, const Hot& h, std::uint32_t c, LabelT L,
                                                         std::uint64_t t, const double* hl, std::uint8_t* pu,
                                                         std::int64_t lr = 0, std::int64_t lc = 0) {
    const double fu = h.fr[c];
    const std::int64_t n = h.cols;
    const auto outer = [lr, lc](int k) {
      constexpr auto kSpan = static_cast<std::uint64_t>(kTileSide - 2 * kRing);
      return kShared && (static_cast<std::uint64_t>(lr + kDr[k] - kRing) >= kSpan ||
                         static_cast<std::uint64_t>(lc + kDc[k] - kRing) >= kSpan);
    };
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k)
      relax_deep<false, kRecord>(me, h, static_cast<std::uint32_t>(c + kDr[k] * n + kDc[k]), L, t, fu, hl[k], 0.0,
                                 outer(k), pu + (kDr[k] * kTileSide + kDc[k]));
    if constexpr (K == 16) {
#pragma GCC unroll 8
      for (int k = 8; k < 16; ++k) {
        // The two cells the knight's move passes between (as Prepared::mid1, mid2).
        const std::int64_t mid1 = (kDr[k] == 2 || kDr[k] == -2) ? (kDr[k] / 2) * n : kDc[k] / 2;
        const std::int64_t mid2 = (kDr[k] == 2 || kDr[k] == -2) ? (kDr[k] / 2) * n + kDc[k] : kDr[k] * n + kDc[k] / 2;
        relax_deep<true, kRecord>(me, h, static_cast<std::uint32_t>(c + kDr[k] * n + kDc[k]), L, t, fu, hl[k],
                                  double{h.fr[c + mid1]} + double{h.fr[c + mid2]}, outer(k),
                                  pu + (kDr[k] * kTileSide + kDc[k]));
      }
    }
  }
  // Out of line: few cells take it (the ring of width kRing inside each tile's outer ring, several threads).
  template <bool kRecord>
  __attribute__((noinline)) static void expand_inner(Worker& me, const Hot& h, std::uint32_t c, LabelT L,
                                                     std::uint64_t t, std::int64_t lr, std::int64_t lc,
                                                     const double* hl, std::uint8_t* pu) {
    expand_deep<kRecord, true>(me, h, c, L, t, hl, pu, lr, lc);
  }

  static LabelT load(const Hot& h, std::uint32_t v) {
    if (h.shared) return __atomic_load_n(&h.lab[v], __ATOMIC_RELAXED);
    return h.lab[v];
  }
  // Lowers lab[v] from `seen` to `nw` (nw < seen). False if another thread got there first with a
  // label <= nw. On success `seen` holds the replaced label.
  static bool lower(const Hot& h, std::uint32_t v, LabelT& seen, LabelT nw) {
    if (!h.shared) {
      h.lab[v] = nw;
      return true;
    }
    while (!__atomic_compare_exchange_n(&h.lab[v], &seen, nw, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
      if (seen <= nw) return false;
    return true;
  }

  static void push(Worker& me, const Hot& h, std::uint32_t v, std::uint64_t nt, std::int64_t rv, std::int64_t cv) {
    if ((rv >> kTileShift) == h.tr && (cv >> kTileShift) == h.tc)
      push_in_tile(me, h, v, nt, h.pending + (((rv - h.tile_r0) << kTileShift) + (cv - h.tile_c0)));
    else
      me.q.push(nt, Entry{v, static_cast<std::uint32_t>(nt)});
  }

  inline void offer(Worker& me, const Hot& h, std::uint32_t v, std::int64_t rv, std::int64_t cv, LabelT Lv,
                    std::uint64_t nt, LabelT idx) {
    if (nt > h.cut_ticks) return;
    const LabelT Ln = static_cast<LabelT>(((nt + 1) << h.index_bits) | idx);
    if (Ln < Lv && lower(h, v, Lv, Ln)) {
      if (record_ && Lv == unreached()) me.touched.push_back(v);
      push(me, h, v, nt, rv, cv);
    }
  }

  // u: the expanded cell (row `row`), k: the direction of the move u -> v (terrain costs only).
  inline void relax(Worker& me, const Hot& h, std::uint32_t u, std::int64_t row, int k, std::uint32_t v,
                    std::int64_t rv, std::int64_t cv, LabelT L, std::uint64_t t, double fu, double hl, LabelT idx) {
    const LabelT Lv = load(h, v);
    if (Lv <= L) return;  // v already at least as good as anything reachable through u
    const double fv = h.fr[v];
    if (!(fv < kInf)) return;  // impassable
    if constexpr (Cost::kIsotropic) {
      (void)u, (void)row, (void)k;
      offer(me, h, v, rv, cv, Lv, t + to_ticks((fu + fv) * hl), idx);
    } else {
      std::uint64_t nt;
      if (terrain_move(h, u, row, k, v, t, (fu + fv) * hl, idx, Lv, &nt)) offer(me, h, v, rv, cv, Lv, nt, idx);
    }
  }

  // One move of expand_deep to a neighbour v. Knight's moves: fab = fa + fb of the two cells passed between.
  // shared: v may be touched by another thread (read atomically, lowered by compare-and-swap).
  template <bool kKnight, bool kRecord>
  __attribute__((always_inline)) static void relax_deep(Worker& me, const Hot& h, std::uint32_t v, LabelT L,
                                                        std::uint64_t t, double fu, double hl, double fab,
                                                        bool shared, std::uint8_t* pv) {
    LabelT Lv = shared ? __atomic_load_n(&h.lab[v], __ATOMIC_RELAXED) : h.lab[v];
    if (Lv <= L) return;  // v already at least as good as anything reachable through u
    const double fv = h.fr[v];
    const std::uint64_t d = ticks_or_huge(kKnight ? ((fu + fv) + fab) * hl : (fu + fv) * hl);
    const std::uint64_t nt = t + d;
    if (nt > h.cut_ticks) return;  // beyond the cutoff, or impassable (d = 2^63)
    const LabelT Ln = static_cast<LabelT>(L + static_cast<LabelT>(d) * h.label_one);
    if (Ln >= Lv) return;
    if (shared) {  // as lower()
      while (!__atomic_compare_exchange_n(&h.lab[v], &Lv, Ln, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        if (Lv <= Ln) return;
    } else {
      h.lab[v] = Ln;
    }
    if (kRecord && Lv == unreached()) me.touched.push_back(v);
    push_in_tile(me, h, v, nt, pv);
  }

  // Queues v, a cell of the tile being worked just lowered to ticks nt: in its sub-bucket when nt lies in the
  // bucket being worked, else in the global queue. pv: its mark in Worker::pending.
  __attribute__((always_inline)) static void push_in_tile(Worker& me, const Hot& h, std::uint32_t v, std::uint64_t nt,
                                                          std::uint8_t* pv) {
    const std::uint64_t rel = nt - h.b_start;  // < b_width exactly when nt lies in bucket b
    if (rel < h.b_width)
      push_sub(me, h, v, nt, rel, pv);
    else
      me.q.push(nt, Entry{v, static_cast<std::uint32_t>(nt)});
  }

  // Queues v, just lowered to ticks nt = b_start + rel (in the bucket being worked), in its sub-bucket of the
  // tile being worked; pv: its mark in Worker::pending. A cell expands once per mark (work_sub): when v is
  // marked it already waits, unexpanded, in a sub-bucket, and that entry expands it with the label it has
  // then, so no entry is added. About half the entries were stale before (33.2 M of 65.9 M on the 36 M-cell
  // benchmark), each a push and a skip. Exact either way: every lowered cell is expanded after its last
  // lowering, with its label at that time (the search is label-correcting, see the file comment).
  __attribute__((always_inline)) static void push_sub(Worker& me, const Hot& h, std::uint32_t v, std::uint64_t nt,
                                                      std::uint64_t rel, std::uint8_t* pv) {
    if (*pv) return;
    *pv = 1;
    const int s = std::max(h.sub, static_cast<int>(rel >> h.sub_shift));
    me.sub[s].push_back(Entry{v, static_cast<std::uint32_t>(nt)});
  }

  // A deep cell's moves under a terrain cost (see work_tile; plain loads and stores whatever h.shared): the rule
  // of relax() and relax_knight() with the neighbours at fixed offsets and expand_deep's pushes (every neighbour
  // lies in the tile), without the general path's bounds, ring and in-tile tests. pu: the cell's mark in
  // Worker::pending.
  template <bool kRecord>
  __attribute__((noinline)) void expand_deep_cost(Worker& me, const Hot& h, std::uint32_t c, LabelT L,
                                                  std::uint64_t t, std::int64_t row, const double* hl,
                                                  std::uint8_t* pu) {
    const LabelT idx = static_cast<LabelT>(L & ((LabelT{1} << h.index_bits) - 1));
    const double fu = h.fr[c];
    const std::int64_t n = h.cols;
#pragma GCC unroll 8
    for (int k = 0; k < 8; ++k) {
      const auto v = static_cast<std::uint32_t>(c + kDr[k] * n + kDc[k]);
      const LabelT Lv = h.lab[v];
      if (Lv <= L) continue;
      const double fv = h.fr[v];
      if (!(fv < kInf)) continue;
      relax_cost<kRecord>(me, h, c, row, k, v, t, (fu + fv) * hl[k], idx, Lv, pu + (kDr[k] * kTileSide + kDc[k]));
    }
    if constexpr (K == 16) {
      for (int k = 8; k < 16; ++k) {
        const auto v = static_cast<std::uint32_t>(c + kDr[k] * n + kDc[k]);
        const LabelT Lv = h.lab[v];
        if (Lv <= L) continue;
        const auto a = static_cast<std::uint32_t>(c + p_.mid1[k]), bb = static_cast<std::uint32_t>(c + p_.mid2[k]);
        const double fv = h.fr[v], fa = h.fr[a], fb = h.fr[bb];
        if (!(fv < kInf) || !(fa < kInf) || !(fb < kInf)) continue;
        if (!(cost_->z[a] == cost_->z[a]) || !(cost_->z[bb] == cost_->z[bb])) continue;  // no elevation: impassable
        relax_cost<kRecord>(me, h, c, row, k, v, t, ((fu + fv) + (fa + fb)) * hl[k], idx, Lv,
                            pu + (kDr[k] * kTileSide + kDc[k]));
      }
    }
  }

  // The rest of a deep move u -> v under a terrain cost, from the base cost (friction sum x half length).
  template <bool kRecord>
  __attribute__((always_inline)) void relax_cost(Worker& me, const Hot& h, std::uint32_t u, std::int64_t row, int k,
                                                 std::uint32_t v, std::uint64_t t, double base, LabelT idx, LabelT Lv,
                                                 std::uint8_t* pv) {
    std::uint64_t nt;
    if (!terrain_move(h, u, row, k, v, t, base, idx, Lv, &nt) || nt > h.cut_ticks) return;
    const LabelT Ln = static_cast<LabelT>(((nt + 1) << h.index_bits) | idx);
    if (Ln >= Lv) return;
    h.lab[v] = Ln;
    if (kRecord && Lv == unreached()) me.touched.push_back(v);
    push_in_tile(me, h, v, nt, pv);
  }

  // A terrain move u -> v (direction k, u in row `row`) from its base cost (friction sum x half length): false when
  // it cannot lower Lv (cannot_improve) or the cost model refuses it, else *nt = its arrival ticks (the caller
  // checks the cut-off and the label). The one rule of relax(), relax_knight() and relax_cost().
  __attribute__((always_inline)) bool terrain_move(const Hot& h, std::uint32_t u, std::int64_t row, int k,
                                                   std::uint32_t v, std::uint64_t t, double base, LabelT idx,
                                                   LabelT Lv, std::uint64_t* nt) const {
    if (cannot_improve(h, Lv, t, base, idx)) return false;
    double w;
    if (!cost_->ticks(u, v, row, k, base, &w)) return false;
    *nt = t + to_ticks(w);
    return true;
  }

  // Terrain costs with a lower bound (Cost::kLowerBound): true when even the cheapest possible move from
  // this label, t + ticks(base * min_factor), cannot lower Lv (offer() would refuse the real one too).
  inline bool cannot_improve(const Hot& h, LabelT Lv, std::uint64_t t, double base, LabelT idx) const {
    if constexpr (Cost::kLowerBound) {
      const std::uint64_t lb = t + to_ticks(base * cost_->min_factor);
      return lb > h.cut_ticks || static_cast<LabelT>(((lb + 1) << h.index_bits) | idx) >= Lv;
    } else {
      (void)h, (void)Lv, (void)t, (void)base, (void)idx;
      return false;
    }
  }

  inline void relax_knight(Worker& me, const Hot& h, std::uint32_t u, std::int64_t row, int k, std::uint32_t v,
                           std::int64_t rv, std::int64_t cv, std::uint32_t a, std::uint32_t bb, LabelT L,
                           std::uint64_t t, double fu, double hl, LabelT idx) {
    const LabelT Lv = load(h, v);
    if (Lv <= L) return;
    const double fv = h.fr[v], fa = h.fr[a], fb = h.fr[bb];
    if (!(fv < kInf) || !(fa < kInf) || !(fb < kInf)) return;
    if constexpr (Cost::kIsotropic) {
      (void)u, (void)row, (void)k;
      offer(me, h, v, rv, cv, Lv, t + to_ticks(((fu + fv) + (fa + fb)) * hl), idx);
    } else {
      if (!(cost_->z[a] == cost_->z[a]) || !(cost_->z[bb] == cost_->z[bb])) return;  // no elevation: impassable
      std::uint64_t nt;
      if (terrain_move(h, u, row, k, v, t, ((fu + fv) + (fa + fb)) * hl, idx, Lv, &nt))
        offer(me, h, v, rv, cv, Lv, nt, idx);
    }
  }

  // The moves of a cell that is not deep (or of any cell under a terrain cost): bounds-checked near the grid's
  // border, in-tile test per push, compare-and-swap when shared. Out of line (work_sub stays small).
  // The moves onto cells of this tile off its outer ring, which no other thread touches (see work_tile), are
  // read and lowered with plain loads and stores (through a copy of h with shared = false), the others as h says.
  void expand(Worker& me, const Hot& h, std::uint32_t c, LabelT L, std::uint64_t t, std::int64_t row,
              std::int64_t col, const double* hl) {
    if (h.shared) {
      Hot plain = h;
      plain.shared = false;
      expand_moves(me, h, plain, c, L, t, row, col, hl);
    } else {
      expand_moves(me, h, h, c, L, t, row, col, hl);
    }
  }
  __attribute__((noinline)) void expand_moves(Worker& me, const Hot& h, const Hot& plain, std::uint32_t c, LabelT L,
                                              std::uint64_t t, std::int64_t row, std::int64_t col, const double* hl) {
    const LabelT idx = static_cast<LabelT>(L & ((LabelT{1} << h.index_bits) - 1));
    const double fu = h.fr[c];
    const auto access = [&h, &plain](std::int64_t rv, std::int64_t cv) -> const Hot& {
      constexpr auto kSpan = static_cast<std::uint64_t>(kTileSide - 2 * kRing);
      return h.shared && (static_cast<std::uint64_t>(rv - h.tile_r0 - kRing) >= kSpan ||
                          static_cast<std::uint64_t>(cv - h.tile_c0 - kRing) >= kSpan)
                 ? h
                 : plain;
    };
    constexpr int m = kRing;
    if (row >= m && row < h.rows - m && col >= m && col < h.cols - m) {
#pragma GCC unroll 8
      for (int k = 0; k < 8; ++k) {
        const std::int64_t rv = row + kDr[k], cv = col + kDc[k];
        relax(me, access(rv, cv), c, row, k, static_cast<std::uint32_t>(c + kDr[k] * h.cols + kDc[k]), rv, cv, L,
              t, fu, hl[k], idx);
      }
      if constexpr (K == 16) {
        for (int k = 8; k < 16; ++k) {
          const std::int64_t rv = row + kDr[k], cv = col + kDc[k];
          relax_knight(me, access(rv, cv), c, row, k, static_cast<std::uint32_t>(c + p_.off[k]), rv, cv,
                       static_cast<std::uint32_t>(c + p_.mid1[k]), static_cast<std::uint32_t>(c + p_.mid2[k]), L, t,
                       fu, hl[k], idx);
        }
      }
    } else {
      for (int k = 0; k < K; ++k) {
        const std::int64_t r2 = row + kDr[k], c2 = col + kDc[k];
        if (r2 < 0 || r2 >= h.rows || c2 < 0 || c2 >= h.cols) continue;
        if (k < 8)
          relax(me, access(r2, c2), c, row, k, static_cast<std::uint32_t>(c + p_.off[k]), r2, c2, L, t, fu, hl[k],
                idx);
        else
          relax_knight(me, access(r2, c2), c, row, k, static_cast<std::uint32_t>(c + p_.off[k]), r2, c2,
                       static_cast<std::uint32_t>(c + p_.mid1[k]),
                       static_cast<std::uint32_t>(c + p_.mid2[k]), L, t, fu, hl[k], idx);
      }
    }
  }

  const Prepared& p_;
  const FT* fr_;
  LabelT* lab_;
  int threads_;
  bool record_;
  bool report_;
  const Cost* cost_;  // terrain costs (nullptr for IsoCost)
  bool stop_[2] = {false, false};  // per-round cancellation decision of thread 0 (see loop)
  std::vector<PodVec<Entry>>& tiles_;
  std::vector<Worker> workers_;
  std::vector<std::uint64_t> claims_;  // per tile: the round serial of its last claim (several threads)
  std::uint64_t round_serial_ = 0;     // rounds started; written by thread 0 between barriers
  std::int64_t ntx_ = 0;
  int shift_ = 0, sub_shift_ = 0;
  std::uint64_t b_start_ = 0, cur_b_ = 0;
  std::size_t sp_ = 0;
  // Phases (see "Busy machines" above). active_ threads work the current phase (threads_ or 1).
  int active_ = 1;
  bool finished_ = false;
  detail::FirstException errors_;  // the first exception of any thread in loop(); rethrown by run()
  unsigned phase_rounds_ = 0;  // rounds worked in the current phase (each phase works at least one)
  bool handover_[2] = {false, false};  // per-round hand-over decision of thread 0 (see loop)
  unsigned stop_round_ = 0;
  double window_start_ = 0.0, last_sync_ = 0.0, single_until_ = 0.0;
  std::int64_t window_cpu_ns_ = 0;
  std::uint64_t handovers_ = 0;
  double single_rate_ = 1.0;  // useful CPU seconds per wall second of one thread alone (measured)

 public:
  // Past this many touched cells (per worker) the caller converts the whole grid instead of the
  // touched lists: keeps memory within the output + front-sized queues.
  std::size_t touched_limit_ = ~std::size_t{0};

  // kSide: the side network (caller-owned), set before run().
  void set_side(detail::SideNetwork* side) {
    side_ = side;
    side_settled_.resize(workers_.size());
  }

 private:
  detail::SideNetwork* side_ = nullptr;
  std::vector<std::vector<detail::SideNetwork::Settled>> side_settled_;  // per worker: joined cells expanded
};

// The search jumps between rows all over a grid of hundreds of MB: with 4 KB pages nearly every
// neighbour access is a TLB miss. Asking for transparent huge pages on the (not yet touched) output
// buffer before the first write removes most of them. Advisory only; ignored where unsupported.
void advise_huge_pages(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t kHuge = std::uintptr_t{1} << 21;
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t lo = (a + kHuge - 1) & ~(kHuge - 1), hi = (a + bytes) & ~(kHuge - 1);
  if (hi > lo) madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

std::size_t tile_count(const Prepared& p) {
  return static_cast<std::size_t>((((p.rows - 1) >> 6) + 1) * (((p.cols - 1) >> 6) + 1));
}

// tick_seconds = 2^-q: multiplying by a power of two is exact (as ldexp is, and correctly rounded the same way
// near underflow), and a multiply instead of a libm call per cell.
inline CellLabel to_output(std::uint64_t L, int index_bits, double tick_seconds) {
  const std::uint64_t idx = L & ((std::uint64_t{1} << index_bits) - 1);
  const std::uint64_t t = (L >> index_bits) - 1;
  // t < 2^62: through int64 the conversion is one instruction (from uint64 a branchy sequence), same value.
  return CellLabel{static_cast<std::int32_t>(idx),
                   static_cast<float>(static_cast<double>(static_cast<std::int64_t>(t)) * tick_seconds)};
}

template <class FT, int K, class Cost = detail::IsoCost>
RasterSearchStats travel_time_impl(const FT* fr, const Prepared& p, bool cutoff, CellLabel* out,
                                   const Cost* cost = nullptr) {
  const std::int64_t n = p.rows * p.cols;
  // The output buffer doubles as the label array (same 8 bytes per cell; see the file comment).
  auto* lab = reinterpret_cast<std::uint64_t*>(out);
  advise_huge_pages(lab, static_cast<std::size_t>(n) * sizeof(std::uint64_t));
#pragma omp parallel for schedule(static) if (n > kParallelCells)
  for (std::int64_t i = 0; i < n; ++i) lab[i] = kUnreached;
  int threads = 1;
#ifdef CARESHED_HAVE_OPENMP
  // Threads pay off on large grids only (barriers per round); small searches stay on one thread.
  // With a cutoff, the reach is estimated from the typical step: (cutoff / typical step)^2 cells
  // around each source (a rough upper bound when the typical cell dominates). Small reaches stay on
  // one thread: the rounds' barriers would cost more than the search.
  bool large = n >= (std::int64_t{1} << 20);
  if (large && cutoff && p.typical_per_metre > 0.0) {
    const double radius_cells = p.max_seconds / (p.typical_per_metre * p.min_len);
    large = static_cast<double>(p.source_cell.size()) * 4.0 * radius_cells * radius_cells >= 1048576.0;
  }
  if (p.threads > 0)
    threads = p.threads;
  else if (large)
    threads = std::max(1, std::min(omp_get_max_threads(), 8));
#endif
  std::vector<PodVec<Entry>> tiles(tile_count(p));
  NearestSearch<FT, K, std::uint64_t, Cost> s(p, fr, lab, threads, cutoff, choose_shift(p, true), tiles, true, cost);
  s.touched_limit_ = static_cast<std::size_t>(n / 16);
  s.run(sorted_sources(p));
  throw_if_cancelled(p.control);  // after the parallel region: exceptions must not cross it
  if (s.touched_overflow()) cutoff = false;
  RasterSearchStats st;
  st.tick_seconds = std::ldexp(1.0, -p.q);
  st.cells_settled = s.settled();
  st.handovers_to_one_thread = s.handovers();
  std::uint64_t reached = 0;
  // Copies (firstprivate): read through p or st, they would be reloaded after every label store (may alias).
  const int index_bits = p.index_bits;
  const double tick_seconds = st.tick_seconds;
  if (cutoff) {  // convert only what was reached: cost grows with the reach, not the grid
    for (auto& w : s.workers()) {
      for (const std::uint32_t c : w.touched) {
        const CellLabel o = to_output(lab[c], index_bits, tick_seconds);
        std::memcpy(&lab[c], &o, sizeof o);
      }
      reached += w.touched.size();
    }
  } else {
#pragma omp parallel for schedule(static) reduction(+ : reached) firstprivate(index_bits, tick_seconds) if (n > kParallelCells)
    for (std::int64_t i = 0; i < n; ++i) {
      const std::uint64_t L = lab[i];
      if (L != kUnreached) {
        const CellLabel o = to_output(L, index_bits, tick_seconds);
        std::memcpy(&lab[i], &o, sizeof o);
        ++reached;
      }
    }
  }
  st.cells_reached = reached;
  return st;
}

// ---- k nearest -------------------------------------------------------------------------------------

struct KEntry {
  std::uint64_t label;
  std::uint32_t cell;
};

template <class FT, int K>
struct KNearestSearch {
  const Prepared& p;
  const FT* fr;
  std::uint64_t* lab;  // k labels per cell, ascending
  int k;
  BucketQueue<KEntry>& q;
  PodVec<KEntry>& work;
  std::uint64_t settled = 0;
  std::uint64_t idx_mask = 0;

  // Offers candidate C to cell v's list; true if it entered.
  bool offer(std::uint32_t v, std::uint64_t C) {
    std::uint64_t* list = lab + static_cast<std::size_t>(v) * k;
    if (C >= list[k - 1]) return false;
    const std::uint64_t id = C & idx_mask;
    int j = 0;
    for (; j < k; ++j)
      if (list[j] != kUnreached && (list[j] & idx_mask) == id) break;
    if (j < k) {
      if (list[j] <= C) return false;
      for (int i = j; i + 1 < k; ++i) list[i] = list[i + 1];
      list[k - 1] = kUnreached;
    }
    int pos = k - 1;
    while (pos > 0 && list[pos - 1] > C) {
      list[pos] = list[pos - 1];
      --pos;
    }
    list[pos] = C;
    return true;
  }

  void run(const std::vector<SourceEvent>& sources) {
    const int ib = p.index_bits;
    idx_mask = (std::uint64_t{1} << ib) - 1;
    std::size_t sp = 0;
    for (std::uint64_t n_buckets = 0;; ++n_buckets) {
      if (p.control && (n_buckets & 255) == 0) {  // narrow buckets: poll every 256
        p.control->throw_if_cancelled();
        p.control->report(std::min(0.99, static_cast<double>(settled) / (static_cast<double>(p.n_passable) * k + 1.0)));
      }
      std::uint64_t b = 0;
      bool has = q.next_nonempty(b);
      if (sp < sources.size()) {
        const std::uint64_t sb = q.bucket_of(sources[sp].ticks);
        if (!has || sb <= b) {
          b = sb;
          has = true;
        }
      }
      if (!has) break;
      q.set_current(b);
      while (sp < sources.size() && q.bucket_of(sources[sp].ticks) == b) {
        const SourceEvent& s = sources[sp];
        const std::uint64_t L = ((s.ticks + 1) << ib) | s.index;
        if (offer(s.cell, L)) q.push(s.ticks, KEntry{L, s.cell});
        ++sp;
      }
      while (q.take(b, work)) {
        for (const KEntry& e : work) expand(e);
        work.clear();
      }
    }
  }

  inline void push_if(std::uint32_t v, std::uint64_t nt, std::uint64_t idx) {
    if (nt > p.cut_ticks) return;
    const std::uint64_t C = ((nt + 1) << p.index_bits) | idx;
    if (offer(v, C)) q.push(nt, KEntry{C, v});
  }

  void expand(const KEntry& e) {
    const std::uint32_t c = e.cell;
    const std::uint64_t* list = lab + static_cast<std::size_t>(c) * k;
    bool present = false;
    for (int j = 0; j < k; ++j) present |= list[j] == e.label;
    if (!present) return;  // stale
    ++settled;
    const std::uint64_t L = e.label;
    const std::uint64_t t = (L >> p.index_bits) - 1;
    const std::uint64_t idx = L & idx_mask;
    const double fu = fr[c];
    const std::int64_t row = p.row_of(c);
    const std::int64_t col = static_cast<std::int64_t>(c) - row * p.cols;
    const double* hl = p.per_row ? &p.hl[static_cast<std::size_t>(row) * K] : p.hl.data();
    for (int d = 0; d < K; ++d) {
      const std::int64_t r2 = row + kDr[d], c2 = col + kDc[d];
      if (r2 < 0 || r2 >= p.rows || c2 < 0 || c2 >= p.cols) continue;
      const auto v = static_cast<std::uint32_t>(c + p.off[d]);
      if (lab[static_cast<std::size_t>(v) * k + k - 1] <= L) continue;  // v's list is full of better ones
      const double fv = fr[v];
      if (!(fv < kInf)) continue;
      double fsum = fu + fv;
      if (d >= 8) {
        const double fa = fr[c + p.mid1[d]], fb = fr[c + p.mid2[d]];
        if (!(fa < kInf) || !(fb < kInf)) continue;
        fsum = (fu + fv) + (fa + fb);
      }
      push_if(v, t + to_ticks(fsum * hl[d]), idx);
    }
  }
};

template <class FT, int K>
RasterSearchStats k_nearest_impl(const FT* fr, const Prepared& p, int k, CellLabel* out) {
  const std::int64_t n = p.rows * p.cols * k;
  auto* lab = reinterpret_cast<std::uint64_t*>(out);
#pragma omp parallel for schedule(static) if (n > kParallelCells)
  for (std::int64_t i = 0; i < n; ++i) lab[i] = kUnreached;
  BucketQueue<KEntry> q;
  q.reset(choose_shift(p, false));
  PodVec<KEntry> work;
  KNearestSearch<FT, K> s{p, fr, lab, k, q, work};
  s.run(sorted_sources(p));
  RasterSearchStats st;
  st.tick_seconds = std::ldexp(1.0, -p.q);
  st.cells_settled = s.settled;
  std::uint64_t reached = 0;
  const int index_bits = p.index_bits;
  const double tick_seconds = st.tick_seconds;
#pragma omp parallel for schedule(static) reduction(+ : reached) firstprivate(index_bits, tick_seconds) if (n > kParallelCells)
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint64_t L = lab[i];
    if (L != kUnreached) {
      const CellLabel o = to_output(L, index_bits, tick_seconds);
      std::memcpy(&lab[i], &o, sizeof o);
      if (i % k == 0) ++reached;
    }
  }
  st.cells_reached = reached;
  return st;
}

// ---- per-source reach lists ------------------------------------------------------------------------

template <class FT, int K>
ReachLists reach_impl(const FT* fr, const Prepared& p, RasterSearchStats* stats) {
  const std::size_t ns = p.source_cell.size();
  const std::int64_t n = p.rows * p.cols;
  std::vector<std::vector<std::uint32_t>> cells(ns);
  std::vector<std::vector<float>> secs(ns);
  std::uint64_t settled = 0;
  const int shift = choose_shift(p, true);
  const double tick = std::ldexp(1.0, -p.q);
  ProgressCounter progress(p.control, ns);
  detail::FirstException errors;  // e.g. std::bad_alloc of a thread's scratch: rethrown after the region
#pragma omp parallel reduction(+ : settled) if (ns > 1 && static_cast<double>(n) * static_cast<double>(ns) > 1e6)
  {
    // Per-thread scratch: one grid of 4-byte labels (ticks + 1), reset through the touched list.
    std::vector<std::uint32_t> lab;
    std::vector<std::pair<std::uint32_t, float>> tmp;
    std::vector<PodVec<Entry>> tiles;
    std::optional<NearestSearch<FT, K, std::uint32_t>> search;
    errors.run([&] {
      lab.assign(static_cast<std::size_t>(n), kUnreached32);
      tiles.resize(tile_count(p));
      search.emplace(p, fr, lab.data(), 1, true, shift, tiles, false);
    });
#pragma omp for schedule(dynamic, 1)
    for (std::int64_t si = 0; si < static_cast<std::int64_t>(ns); ++si) {
      const auto s = static_cast<std::size_t>(si);
      if (!progress.running() || errors.failed()) continue;  // cancelled / failed: skip the remaining sources
      if (p.source_inert[s] || p.source_ticks[s] > p.cut_ticks) {
        progress.done();
        continue;
      }
      errors.run([&] {
        search->reset();
        search->run({SourceEvent{p.source_ticks[s], 0u, p.source_cell[s]}});
        std::vector<std::uint32_t>& touched = search->workers()[0].touched;
        settled += search->settled();
        if (!progress.done()) return;  // the search may have stopped half-way
        tmp.clear();
        tmp.reserve(touched.size());
        for (const std::uint32_t c : touched) {
          tmp.emplace_back(c, static_cast<float>(static_cast<double>(lab[c] - 1u) * tick));
          lab[c] = kUnreached32;
        }
        std::sort(tmp.begin(), tmp.end(),
                  [](const std::pair<std::uint32_t, float>& a, const std::pair<std::uint32_t, float>& b) {
                    return a.first < b.first;
                  });
        cells[s].resize(tmp.size());
        secs[s].resize(tmp.size());
        for (std::size_t i = 0; i < tmp.size(); ++i) {
          cells[s][i] = tmp[i].first;
          secs[s][i] = tmp[i].second;
        }
      });
    }
  }
  errors.rethrow_if_failed();
  throw_if_cancelled(p.control);  // after the parallel region: exceptions must not cross it
  ReachLists out;
  out.offsets.resize(ns + 1, 0);
  for (std::size_t s = 0; s < ns; ++s) out.offsets[s + 1] = out.offsets[s] + static_cast<std::int64_t>(cells[s].size());
  out.cells.resize(static_cast<std::size_t>(out.offsets[ns]));
  out.seconds.resize(static_cast<std::size_t>(out.offsets[ns]));
  std::uint64_t reached = 0;
  for (std::size_t s = 0; s < ns; ++s) {
    std::copy(cells[s].begin(), cells[s].end(), out.cells.begin() + out.offsets[s]);
    std::copy(secs[s].begin(), secs[s].end(), out.seconds.begin() + out.offsets[s]);
    reached += cells[s].size();
    std::vector<std::uint32_t>().swap(cells[s]);
    std::vector<float>().swap(secs[s]);
  }
  if (stats) {
    stats->tick_seconds = tick;
    stats->cells_settled = settled;
    stats->cells_reached = reached;
  }
  return out;
}

// ---- one tile of a tiled search (raster_tiles.hpp) ------------------------------------------------

template <class FT, int K>
RasterSearchStats tile_impl(const FT* fr, const Prepared& p, const std::vector<SourceEvent>& events,
                            std::uint64_t* lab, detail::SideNetwork* side, double max_bucket_seconds) {
  const std::int64_t n = p.rows * p.cols;
  int threads = 1;
#ifdef CARESHED_HAVE_OPENMP
  if (p.threads > 0)
    threads = p.threads;
  else if (n >= (std::int64_t{1} << 20))
    threads = std::max(1, std::min(omp_get_max_threads(), 8));
#endif
  std::vector<PodVec<Entry>> tiles(tile_count(p));
  const int shift = choose_shift(p, true, max_bucket_seconds * p.scale);
  RasterSearchStats st;
  st.tick_seconds = std::ldexp(1.0, -p.q);
  auto search = [&](auto& s) {
    s.run(events);
    throw_if_cancelled(p.control);
    st.cells_settled = s.settled();
    st.handovers_to_one_thread = s.handovers();
  };
  if (side) {
    NearestSearch<FT, K, std::uint64_t, detail::IsoCost, true> s(p, fr, lab, threads, false, shift, tiles);
    s.set_side(side);
    search(s);
  } else {
    NearestSearch<FT, K, std::uint64_t> s(p, fr, lab, threads, false, shift, tiles);
    search(s);
  }
  std::uint64_t reached = 0;
  for (std::int64_t i = 0; i < n; ++i) reached += lab[i] != kUnreached;
  st.cells_reached = reached;
  return st;
}

}  // namespace

namespace detail {

FrictionSummary friction_summary(const FrictionGrid& piece) {
  if ((piece.friction_f32 == nullptr) == (piece.friction_f64 == nullptr))
    throw InputError("raster search: give exactly one friction buffer (float32 or float64)");
  if (piece.rows < 0 || piece.cols < 0) throw InputError("raster search: friction piece has a negative size");
  Prepared p;
  p.rows = piece.rows;
  p.cols = piece.cols;
  if (piece.friction_f32)
    scan_friction(piece.friction_f32, piece.rows * piece.cols, p);
  else
    scan_friction(piece.friction_f64, piece.rows * piece.cols, p);
  return FrictionSummary{p.max_friction, p.n_passable};
}

TickScale whole_grid_scale(const FrictionGrid& geometry, const FrictionSummary& whole, std::size_t n_sources,
                           double max_start_offset_s, const RasterSearchOptions& options, bool reach_lists) {
  check_geometry_and_options(geometry, options);
  if (!(max_start_offset_s >= 0.0 && max_start_offset_s < kInf))
    throw InputError("raster search: the largest start offset must be a finite number of seconds >= 0, got " +
                     std::to_string(max_start_offset_s));
  if (!(whole.max_friction >= 0.0 && whole.max_friction < kInf) || whole.passable_cells < 0)
    throw InputError("raster search: friction summary must hold a finite max_friction >= 0 and passable_cells >= 0");
  if (n_sources > 0x7FFFFFFFu) throw InputError("raster search: at most 2^31 - 1 sources");
  Prepared p;
  p.K = options.neighbours;
  step_lengths(geometry, p);
  // As prepare_ticks with the friction's own cost model (StepBounds{}): a move costs at most L * f_max.
  const StepBounds sb;
  return choose_scale(p.max_len * (whole.max_friction * sb.max_mult + sb.max_add_per_metre), whole.passable_cells,
                      max_start_offset_s, n_sources, options.max_seconds, reach_lists ? kReachTicksBits : 62,
                      !reach_lists);
}

RasterSearchStats tile_search(const FrictionGrid& window, const TickScale& scale, const RasterSearchOptions& options,
                              const std::int64_t* sources_rc, const std::int32_t* source_index, std::size_t n_sources,
                              const std::int64_t* seed_cells, std::size_t n_seeds, std::uint64_t* labels,
                              RunControl* control, SideNetwork* side, double max_bucket_seconds) {
  Prepared p = prepare(window, sources_rc, n_sources, options, 62, true, &scale);
  p.control = control;
  // Sources with their whole-search indices, then the seeds with the labels the caller put there.
  std::vector<SourceEvent> events;
  events.reserve(n_sources + n_seeds);
  for (std::size_t s = 0; s < n_sources; ++s)
    if (!p.source_inert[s] && p.source_ticks[s] <= p.cut_ticks)
      events.push_back({p.source_ticks[s], static_cast<std::uint32_t>(source_index[s]), p.source_cell[s]});
  const std::uint64_t idx_mask = (std::uint64_t{1} << p.index_bits) - 1;
  for (std::size_t i = 0; i < n_seeds; ++i) {
    const auto cell = static_cast<std::uint32_t>(seed_cells[i]);
    const std::uint64_t L = labels[cell];
    const double f = window.friction_f32 ? static_cast<double>(window.friction_f32[cell]) : window.friction_f64[cell];
    if (L == kUnreached || !(f < kInf)) continue;
    events.push_back({(L >> p.index_bits) - 1, static_cast<std::uint32_t>(L & idx_mask), cell});
  }
  std::sort(events.begin(), events.end(), [](const SourceEvent& a, const SourceEvent& b) {
    return a.ticks != b.ticks ? a.ticks < b.ticks : a.index < b.index;
  });
  if (window.friction_f32)
    return options.neighbours == 16 ? tile_impl<float, 16>(window.friction_f32, p, events, labels, side, max_bucket_seconds)
                                    : tile_impl<float, 8>(window.friction_f32, p, events, labels, side, max_bucket_seconds);
  return options.neighbours == 16 ? tile_impl<double, 16>(window.friction_f64, p, events, labels, side, max_bucket_seconds)
                                  : tile_impl<double, 8>(window.friction_f64, p, events, labels, side, max_bucket_seconds);
}

}  // namespace detail

RasterSearchStats raster_travel_time(const FrictionGrid& grid, const std::int64_t* sources_rc,
                                     std::size_t n_sources, const RasterSearchOptions& options,
                                     CellLabel* out, RunControl* control) {
  if (n_sources > 0x7FFFFFFFu) throw InputError("raster_travel_time: at most 2^31 - 1 sources");
  ProgressSpan span(control, 0.0, 1.0, "travel time");
  Prepared p = prepare(grid, sources_rc, n_sources, options, 62, true);
  p.control = control;
  const bool cutoff = options.max_seconds < kInf;
  if (grid.friction_f32)
    return options.neighbours == 16 ? travel_time_impl<float, 16>(grid.friction_f32, p, cutoff, out)
                                    : travel_time_impl<float, 8>(grid.friction_f32, p, cutoff, out);
  return options.neighbours == 16 ? travel_time_impl<double, 16>(grid.friction_f64, p, cutoff, out)
                                  : travel_time_impl<double, 8>(grid.friction_f64, p, cutoff, out);
}

RasterSearchStats raster_k_nearest(const FrictionGrid& grid, const std::int64_t* sources_rc,
                                   std::size_t n_sources, int k, const RasterSearchOptions& options,
                                   CellLabel* out, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "k nearest");
  if (k < 1 || k > 64)
    throw InputError("raster_k_nearest: k must be between 1 and 64, got " + std::to_string(k));
  if (n_sources > 0x7FFFFFFFu) throw InputError("raster_k_nearest: at most 2^31 - 1 sources");
  Prepared p = prepare(grid, sources_rc, n_sources, options, 62, true);
  p.control = control;
  if (grid.friction_f32)
    return options.neighbours == 16 ? k_nearest_impl<float, 16>(grid.friction_f32, p, k, out)
                                    : k_nearest_impl<float, 8>(grid.friction_f32, p, k, out);
  return options.neighbours == 16 ? k_nearest_impl<double, 16>(grid.friction_f64, p, k, out)
                                  : k_nearest_impl<double, 8>(grid.friction_f64, p, k, out);
}

// ---- terrain (directed costs; careshed/terrain.hpp) ----------------------------------------------------

double tobler_slope_factor(double slope) { return std::exp(3.5 * (std::fabs(slope + 0.05) - 0.05)); }

namespace {

void check_rwalk(const RWalkCoefficients& w) {
  const double v[6] = {w.a, w.b, w.c, w.d, w.slope_factor, w.lambda};
  const char* names[6] = {"a", "b", "c", "d", "slope_factor", "lambda"};
  for (int i = 0; i < 6; ++i)
    if (!std::isfinite(v[i]))
      throw InputError(std::string("terrain search: r.walk coefficient ") + names[i] + " = " + std::to_string(v[i]) +
                       " must be a finite number");
  auto refuse = [](const std::string& what) {
    throw InputError("terrain search: r.walk coefficients: " + what +
                     " (every move must cost >= 0 seconds; r.walk's defaults are a=0.72, b=6.0, c=1.9998, "
                     "d=-1.9998, slope_factor=-0.2125, lambda=1)");
  };
  if (w.a < 0) refuse("a = " + std::to_string(w.a) + " must be >= 0");
  if (w.b < 0) refuse("b = " + std::to_string(w.b) + " must be >= 0");
  if (w.d > 0) refuse("d = " + std::to_string(w.d) + " must be <= 0");
  if (w.lambda < 0) refuse("lambda = " + std::to_string(w.lambda) + " must be >= 0");
  if (!(w.slope_factor < 0)) refuse("slope_factor = " + std::to_string(w.slope_factor) + " must be < 0");
  if (w.a + w.c * w.slope_factor < 0) refuse("a + c * slope_factor must be >= 0");
}

// The largest |dz| / L over all moves of the grid (both directions have the same |dz|).
double max_abs_slope(const Prepared& p, const float* z, const std::vector<double>& inv_len) {
  double m = 0.0;
#pragma omp parallel for reduction(max : m) schedule(static) if (p.rows * p.cols > kParallelCells)
  for (std::int64_t r = 0; r < p.rows; ++r) {
    const double* il = &inv_len[static_cast<std::size_t>(p.per_row ? r : 0) * p.K];
    for (int k = 0; k < p.K; ++k) {
      if (p.off[k] < 0) continue;  // the opposite move covers the pair
      const std::int64_t r2 = r + kDr[k];
      if (r2 < 0 || r2 >= p.rows) continue;
      const std::int64_t c0 = std::max<std::int64_t>(0, -kDc[k]), c1 = std::min(p.cols, p.cols - kDc[k]);
      double dmax = 0.0;
      const float* zu = z + r * p.cols;
      const float* zv = z + r2 * p.cols + kDc[k];
      for (std::int64_t c = c0; c < c1; ++c) {
        const double d = std::fabs(static_cast<double>(zv[c]) - static_cast<double>(zu[c]));
        if (d > dmax) dmax = d;  // NaN never compares greater
      }
      m = std::max(m, dmax * il[k]);
    }
  }
  return m;
}

template <class FT, class Cost>
RasterSearchStats terrain_dispatch(const FT* fr, const Prepared& p, bool cutoff, CellLabel* out, const Cost& cost) {
  return p.K == 16 ? travel_time_impl<FT, 16, Cost>(fr, p, cutoff, out, &cost)
                   : travel_time_impl<FT, 8, Cost>(fr, p, cutoff, out, &cost);
}

template <class Cost>
RasterSearchStats terrain_run(const FrictionGrid& grid, const Prepared& p, bool cutoff, CellLabel* out,
                              const Cost& cost) {
  return grid.friction_f32 ? terrain_dispatch(grid.friction_f32, p, cutoff, out, cost)
                           : terrain_dispatch(grid.friction_f64, p, cutoff, out, cost);
}

}  // namespace

RasterSearchStats raster_travel_time_terrain(const FrictionGrid& grid, const TerrainModel& terrain,
                                             const std::int64_t* sources_rc, std::size_t n_sources,
                                             const RasterSearchOptions& options, CellLabel* out,
                                             RunControl* control) {
  if (n_sources > 0x7FFFFFFFu) throw InputError("raster_travel_time_terrain: at most 2^31 - 1 sources");
  if (terrain.elevation_m == nullptr)
    throw InputError("terrain search: no elevation given; pass the DEM on the friction grid (metres, NaN = no data)");
  if (terrain.slope_model == SlopeModel::RWalk) check_rwalk(terrain.rwalk);
  ProgressSpan span(control, 0.0, 1.0, "terrain travel time");
  Prepared p = prepare_grid(grid, sources_rc, n_sources, options);
  p.control = control;
  detail::TerrainCostBase base;
  base.z = terrain.elevation_m;
  base.per_row = p.per_row;
  base.K = p.K;
  base.toward_sources = terrain.direction == TravelDirection::TowardSources;
  base.inv_len.resize(p.len.size());
  for (std::size_t i = 0; i < p.len.size(); ++i) base.inv_len[i] = p.len[i] > 0.0 ? 1.0 / p.len[i] : 0.0;
  const double smax = max_abs_slope(p, terrain.elevation_m, base.inv_len);
  StepBounds sb;
  const RWalkCoefficients& w = terrain.rwalk;
  if (terrain.slope_model == SlopeModel::Tobler) {
    sb.max_mult = tobler_slope_factor(smax) * (1.0 + 1e-9);  // >= every factor: |S + 0.05| - 0.05 <= |S|
    sb.min_mult = tobler_slope_factor(-0.05);
  } else {
    sb.max_mult = sb.typical_mult = sb.min_mult = w.lambda;
    sb.max_add_per_metre = w.a + std::max({w.b, std::fabs(w.c), std::fabs(w.d)}) * smax;
    sb.typical_add_per_metre = w.a;
    sb.min_add_per_metre = std::max(w.a + std::min(0.0, w.c * w.slope_factor), 1e-3 * w.a);
  }
  prepare_ticks(p, grid, sources_rc, n_sources, options, 62, true, sb);
  for (std::size_t s = 0; s < n_sources; ++s)  // a source without elevation is inert, like one on NaN friction
    if (!(terrain.elevation_m[p.source_cell[s]] == terrain.elevation_m[p.source_cell[s]])) p.source_inert[s] = true;
  base.scale = p.scale;
  const bool cutoff = options.max_seconds < kInf;
  if (terrain.slope_model == SlopeModel::Tobler) {
    detail::ToblerCost cost;
    static_cast<detail::TerrainCostBase&>(cost) = std::move(base);
    return terrain_run(grid, p, cutoff, out, cost);
  }
  detail::RWalkCost cost;
  static_cast<detail::TerrainCostBase&>(cost) = std::move(base);
  cost.a = w.a, cost.b = w.b, cost.c = w.c, cost.d = w.d, cost.slope_factor = w.slope_factor, cost.lambda = w.lambda;
  cost.len = p.len;
  return terrain_run(grid, p, cutoff, out, cost);
}

ReachLists raster_reach_lists(const FrictionGrid& grid, const std::int64_t* sources_rc, std::size_t n_sources,
                              const RasterSearchOptions& options, RasterSearchStats* stats, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reach lists");
  if (!(options.max_seconds < kInf))
    throw InputError(
        "raster_reach_lists: max_seconds must be finite (a bounded search); use raster_travel_time for "
        "unbounded times");
  // 32-bit labels: ticks + 1 must stay below 0xFFFFFFFF.
  Prepared p = prepare(grid, sources_rc, n_sources, options, kReachTicksBits, false);
  p.control = control;
  if (grid.friction_f32)
    return options.neighbours == 16 ? reach_impl<float, 16>(grid.friction_f32, p, stats)
                                    : reach_impl<float, 8>(grid.friction_f32, p, stats);
  return options.neighbours == 16 ? reach_impl<double, 16>(grid.friction_f64, p, stats)
                                  : reach_impl<double, 8>(grid.friction_f64, p, stats);
}

}  // namespace careshed
