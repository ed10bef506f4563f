// multimodal_setup.cpp — the checks, arithmetic and outputs shared by the walk + ride engines
// (multimodal_setup.hpp).
#include "multimodal_setup.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "careshed/error.hpp"
#include "raster_search_internal.hpp"

namespace careshed::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

void check_cost(double v, const std::string& what) {
  if (!(v >= 0.0 && v < kInf)) {
    std::ostringstream m;
    m << "multimodal search: " << what << " = " << v << " must be a finite number of seconds >= 0";
    throw InputError(m.str());
  }
}

// Largest finite friction, passable cells, their friction sum, and the first negative cell (n if none).
template <class FT>
void scan(const FT* f, std::int64_t n, FrictionSummary& out, double& sum, std::int64_t& first_negative) {
  double mx = 0.0, total = 0.0;
  std::int64_t passable = 0, neg = n;
#pragma omp parallel for schedule(static) reduction(max : mx) reduction(+ : total, passable) reduction(min : neg) if (n > (std::int64_t{1} << 18))
  for (std::int64_t i = 0; i < n; ++i) {
    const double v = f[i];
    if (v < 0) neg = std::min(neg, i);
    if (v >= 0 && v < kInf) {
      mx = std::max(mx, v);
      total += v;
      ++passable;
    }
  }
  out.max_friction = mx;
  out.passable_cells = passable;
  sum = total;
  first_negative = neg;
}

}  // namespace

std::uint64_t multimodal_ticks(double seconds, double ticks_per_second) {
  return static_cast<std::uint64_t>(std::floor(seconds * ticks_per_second + 0.5));
}

MultimodalSetup multimodal_setup(const MultimodalNetwork& net, const std::int64_t* sources_rc, std::size_t n_sources,
                                 const MultimodalOptions& o) {
  MultimodalSetup su;
  const FrictionGrid& g = net.walk;
  if ((g.friction_f32 == nullptr) == (g.friction_f64 == nullptr))
    throw InputError("multimodal search: give exactly one friction buffer (float32 or float64)");
  if (g.rows < 1 || g.cols < 1 || !(g.dx_m > 0 && g.dx_m < kInf) || !(g.dy_m > 0 && g.dy_m < kInf))
    throw InputError("multimodal search: the walking grid needs at least one cell and positive finite cell sizes");
  if (g.row_dx_m)
    throw InputError("multimodal search: per-row cell widths (lon/lat grids) are not supported; use a metric grid");
  if (o.neighbours != 8 && o.neighbours != 16)
    throw InputError("multimodal search: neighbours must be 8 or 16, got " + std::to_string(o.neighbours));
  if (std::isnan(o.max_seconds) || o.max_seconds < 0)
    throw InputError("multimodal search: max_seconds must be >= 0 (or infinite)");
  su.ncell = g.rows * g.cols;
  if (static_cast<double>(g.rows) * static_cast<double>(g.cols) > 4294967294.0)
    throw InputError("multimodal search: more than 2^32 - 2 cells");
  const CsrGraph* ride = net.ride;
  su.nride = ride ? static_cast<std::int64_t>(ride->n_nodes()) : 0;
  su.n_modes = net.modes.size();
  if (ride && (su.n_modes < 1 || su.n_modes > 127))
    throw InputError("multimodal search: give 1 to 127 ride modes, got " + std::to_string(su.n_modes));
  for (std::size_t m = 0; m < su.n_modes; ++m) {
    check_cost(net.modes[m].board_seconds, "modes[" + std::to_string(m) + "].board_seconds");
    check_cost(net.modes[m].alight_seconds, "modes[" + std::to_string(m) + "].alight_seconds");
  }

  // Friction: the summary the tick scale needs, and the mean (the uncapped engine's round 0).
  std::int64_t first_negative = su.ncell;
  if (g.friction_f32)
    scan(g.friction_f32, su.ncell, su.summary, su.friction_sum, first_negative);
  else
    scan(g.friction_f64, su.ncell, su.summary, su.friction_sum, first_negative);
  if (first_negative < su.ncell) {
    std::ostringstream m;
    m << "multimodal search: friction[" << first_negative / g.cols << ", " << first_negative % g.cols
      << "] = " << multimodal_friction(g, first_negative)
      << " is negative; friction is seconds per metre >= 0 (NaN for impassable)";
    throw InputError(m.str());
  }
  for (std::size_t s = 0; s < n_sources; ++s) {
    const std::int64_t r = sources_rc[2 * s], c = sources_rc[2 * s + 1];
    if (r < 0 || r >= g.rows || c < 0 || c >= g.cols) {
      std::ostringstream m;
      m << "multimodal search: sources[" << s << "] = (row " << r << ", col " << c << ") lies outside the "
        << g.rows << " x " << g.cols << " grid";
      throw InputError(m.str());
    }
    const double off = o.source_offsets_s ? o.source_offsets_s[s] : 0.0;
    if (!(off >= 0 && off < kInf))
      throw InputError("multimodal search: source_offsets[" + std::to_string(s) + "] must be finite and >= 0");
    su.max_offset = std::max(su.max_offset, off);
    su.active_sources += multimodal_friction(g, r * g.cols + c) < kInf;
  }

  // Ride nodes: transfer cell (-1: none or impassable) and mode; the bound of any simple path's ride part.
  su.cell_of.assign(static_cast<std::size_t>(su.nride), -1);
  su.mode_of.assign(static_cast<std::size_t>(su.nride), 0);
  double ride_bound = 0.0, max_transfer = 0.0;
  for (const RideMode& m : net.modes) max_transfer = std::max(max_transfer, m.board_seconds + m.alight_seconds);
  if (su.nride) {
    if (!net.node_cell) throw InputError("multimodal search: node_cell is required with a ride graph");
    for (std::int64_t v = 0; v < su.nride; ++v) {
      const std::int64_t c = net.node_cell[v];
      if (c < -1 || c >= su.ncell) {
        std::ostringstream m;
        m << "multimodal search: node_cell[" << v << "] = " << c << " is not a cell of the " << g.rows << " x "
          << g.cols << " grid (or -1)";
        throw InputError(m.str());
      }
      const std::uint8_t md = net.node_mode ? net.node_mode[v] : 0;
      if (md >= su.n_modes) {
        std::ostringstream m;
        m << "multimodal search: node_mode[" << v << "] = " << int(md) << " is not one of the " << su.n_modes
          << " modes (0.." << su.n_modes - 1 << ")";
        throw InputError(m.str());
      }
      su.mode_of[v] = md;
      if (c >= 0 && multimodal_friction(g, c) < kInf) {
        su.cell_of[v] = c;
        ride_bound += max_transfer;
      }
    }
    for (const Arc& a : ride->arcs()) ride_bound += a.seconds;
  }

  // The arithmetic: the grid engine's for this grid, with the ride network's worst case added to the bound
  // and the mode code's bits below the source index.
  if (su.nride)
    while ((std::size_t{1} << su.mode_bits) < su.n_modes + 1) ++su.mode_bits;
  if ((static_cast<double>(n_sources) + 1.0) * std::ldexp(1.0, su.mode_bits) > 2147483647.0)
    throw InputError("multimodal search: too many sources for the label layout (sources x modes must stay below 2^31)");
  su.grid_options.neighbours = o.neighbours;
  su.grid_options.max_seconds = o.max_seconds;
  su.grid_options.threads = o.threads;
  su.grid_options.source_offsets_s = o.source_offsets_s;
  const std::size_t n_index = std::max<std::size_t>(n_sources << su.mode_bits, 1);
  su.scale = whole_grid_scale(g, su.summary, n_index, su.max_offset + ride_bound, su.grid_options);
  su.ticks_per_second = std::ldexp(1.0, su.scale.q);
  // The outputs are exact doubles (ticks * 2^-q), not the grid engine's float32: the inclusive cut-off is the
  // largest tick count whose seconds are <= max_seconds, floor(max_seconds * 2^q) (exact: a power-of-two scale).
  if (o.max_seconds < kInf)
    su.scale.cut_ticks = static_cast<std::uint64_t>(std::floor(o.max_seconds * su.ticks_per_second));
  return su;
}

MultimodalLabels multimodal_labels(const MultimodalSetup& su) {
  MultimodalLabels lb;
  lb.ib = su.scale.index_bits;
  lb.code_mask = (std::uint64_t{1} << su.mode_bits) - 1;
  lb.cut = su.scale.cut_ticks;
  return lb;
}

void multimodal_outputs(const MultimodalSetup& su, std::uint64_t* lab, std::int32_t* out_nearest,
                        std::uint8_t* out_mode, MultimodalStats& st) {
  const MultimodalLabels lb = multimodal_labels(su);
  const std::uint64_t idx_mask = (std::uint64_t{1} << lb.ib) - 1;
  const int mb = su.mode_bits, q = su.scale.q;
  const std::int64_t ncell = su.ncell;
  std::uint64_t reached = 0, riding = 0;
#pragma omp parallel for schedule(static) reduction(+ : reached, riding) if (ncell > (std::int64_t{1} << 18))
  for (std::int64_t c = 0; c < ncell; ++c) {
    const std::uint64_t L = lab[c];
    if (L == kUnreachedLabel) {
      const double inf = kInf;
      std::memcpy(&lab[c], &inf, sizeof inf);  // lab aliases out_seconds: bytes copied, not typed stores
      out_nearest[c] = -1;
      if (out_mode) out_mode[c] = 0;
      continue;
    }
    const std::uint64_t idx = L & idx_mask;
    const auto code = static_cast<std::uint8_t>(idx & lb.code_mask);
    const double seconds = std::ldexp(static_cast<double>(lb.ticks(L)), -q);
    std::memcpy(&lab[c], &seconds, sizeof seconds);
    out_nearest[c] = static_cast<std::int32_t>(idx >> mb);
    if (out_mode) out_mode[c] = code;
    ++reached;
    riding += code > 0;
  }
  st.cells_reached = reached;
  st.cells_riding = riding;
}

}  // namespace careshed::detail
