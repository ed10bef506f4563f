// multimodal.cpp — the combined walk + ride search of careshed/multimodal.hpp (a plain binary-heap Dijkstra).
#include "careshed/multimodal.hpp"

#include <cmath>
#include <queue>
#include <sstream>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kDr[8] = {0, 0, -1, 1, -1, -1, 1, 1};
constexpr int kDc[8] = {-1, 1, 0, 0, -1, 1, -1, 1};

struct Label {
  double t;
  std::int32_t src;
  bool operator<(const Label& o) const { return t != o.t ? t < o.t : src < o.src; }
};

struct HeapEntry {
  Label l;
  std::uint32_t id;
  bool operator>(const HeapEntry& o) const { return o.l < l || (!(l < o.l) && id > o.id); }
};

void check_cost(double v, const char* what) {
  if (!(v >= 0.0 && v < kInf))
    throw InputError(std::string("multimodal search: ") + what + " = " + std::to_string(v) +
                     " must be a finite number of seconds >= 0");
}

}  // namespace

MultimodalStats multimodal_travel_time(const MultimodalNetwork& net, const std::int64_t* sources_rc,
                                       std::size_t n_sources, const MultimodalOptions& o, double* out_seconds,
                                       std::int32_t* out_nearest, std::uint8_t* out_rides, RunControl* control) {
  const FrictionGrid& g = net.walk;
  if ((g.friction_f32 == nullptr) == (g.friction_f64 == nullptr))
    throw InputError("multimodal search: give exactly one friction buffer (float32 or float64)");
  if (g.rows < 1 || g.cols < 1 || !(g.dx_m > 0 && g.dx_m < kInf) || !(g.dy_m > 0 && g.dy_m < kInf))
    throw InputError("multimodal search: the walking grid needs at least one cell and positive finite cell sizes");
  if (g.row_dx_m) throw InputError("multimodal search: per-row cell widths (lon/lat grids) are not supported; use a "
                                   "metric grid");
  const std::int64_t ncell = g.rows * g.cols;
  const std::int64_t nride = net.ride ? static_cast<std::int64_t>(net.ride->n_nodes()) : 0;
  if (ncell + nride >= 0xFFFFFFFFll) throw InputError("multimodal search: more than 2^32 - 1 cells and nodes");
  check_cost(net.board_seconds, "board_seconds");
  check_cost(net.alight_seconds, "alight_seconds");
  if (std::isnan(o.max_seconds) || o.max_seconds < 0)
    throw InputError("multimodal search: max_seconds must be >= 0 (or infinite)");
  auto fr = [&](std::int64_t c) { return g.friction_f32 ? static_cast<double>(g.friction_f32[c]) : g.friction_f64[c]; };
  for (std::int64_t c = 0; c < ncell; ++c)
    if (fr(c) < 0) {
      std::ostringstream m;
      m << "multimodal search: friction[" << c / g.cols << ", " << c % g.cols << "] = " << fr(c)
        << " is negative; friction is seconds per metre >= 0 (NaN for impassable)";
      throw InputError(m.str());
    }
  // Transfers, both ways: cell -> nodes boarding there (CSR over cells) and node -> its cell.
  std::vector<std::uint32_t> first(static_cast<std::size_t>(ncell) + 1, 0), boards;
  if (nride) {
    if (!net.node_cell) throw InputError("multimodal search: node_cell is required with a ride graph");
    for (std::int64_t v = 0; v < nride; ++v) {
      const std::int64_t c = net.node_cell[v];
      if (c < -1 || c >= ncell) {
        std::ostringstream m;
        m << "multimodal search: node_cell[" << v << "] = " << c << " is not a cell of the " << g.rows << " x "
          << g.cols << " grid (or -1)";
        throw InputError(m.str());
      }
      if (c >= 0) ++first[static_cast<std::size_t>(c) + 1];
    }
    for (std::int64_t c = 0; c < ncell; ++c) first[c + 1] += first[c];
    boards.resize(first[ncell]);
    std::vector<std::uint32_t> fill(first.begin(), first.end() - 1);
    for (std::int64_t v = 0; v < nride; ++v)
      if (net.node_cell[v] >= 0) boards[fill[net.node_cell[v]]++] = static_cast<std::uint32_t>(v);
  }
  const bool toward = o.direction == TravelDirection::TowardSources;
  // The search runs backwards on the traveller's arcs toward the sources: ride arcs reversed, and a search step
  // cell -> node is the traveller alighting (node -> cell), node -> cell the traveller boarding.
  CsrGraph reversed;
  const CsrGraph* ride = net.ride;
  if (ride && toward) {
    reversed = ride->transposed();
    ride = &reversed;
  }
  const double cell_to_node = toward ? net.alight_seconds : net.board_seconds;
  const double node_to_cell = toward ? net.board_seconds : net.alight_seconds;
  double len[8];
  for (int k = 0; k < 8; ++k) len[k] = std::hypot(kDc[k] * g.dx_m, kDr[k] * g.dy_m);

  const std::size_t n = static_cast<std::size_t>(ncell + nride);
  std::vector<Label> lab(n, Label{kInf, -1});
  std::vector<std::uint8_t> rides(n, 0), done(n, 0);
  std::priority_queue<HeapEntry, std::vector<HeapEntry>, std::greater<HeapEntry>> heap;
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
    const std::int64_t cell = r * g.cols + c;
    if (!(fr(cell) < kInf) || off > o.max_seconds) continue;  // inert
    const Label L{off, static_cast<std::int32_t>(s)};
    if (L < lab[cell]) {
      lab[cell] = L;
      heap.push({L, static_cast<std::uint32_t>(cell)});
    }
  }
  MultimodalStats st;
  auto offer = [&](std::uint32_t v, double t, std::int32_t src, bool rode) {
    if (t > o.max_seconds) return;
    const Label L{t, src};
    if (L < lab[v]) {
      lab[v] = L;
      rides[v] = rode;
      heap.push({L, v});
    }
  };
  while (!heap.empty()) {
    const HeapEntry e = heap.top();
    heap.pop();
    const std::uint32_t u = e.id;
    if (done[u] || lab[u] < e.l || e.l < lab[u]) continue;
    done[u] = 1;
    if ((++st.nodes_settled & 0xFFFF) == 0 && control) control->throw_if_cancelled();
    const Label L = lab[u];
    if (static_cast<std::int64_t>(u) < ncell) {
      const std::int64_t row = u / g.cols, col = u % g.cols;
      const double fu = fr(u);
      for (int k = 0; k < 8; ++k) {
        const std::int64_t r2 = row + kDr[k], c2 = col + kDc[k];
        if (r2 < 0 || r2 >= g.rows || c2 < 0 || c2 >= g.cols) continue;
        const std::int64_t v = r2 * g.cols + c2;
        const double fv = fr(v);
        if (!(fv < kInf)) continue;
        offer(static_cast<std::uint32_t>(v), L.t + len[k] * (fu + fv) / 2.0, L.src, rides[u]);
      }
      for (std::uint32_t i = first[u]; nride && i < first[u + 1]; ++i)
        offer(static_cast<std::uint32_t>(ncell + boards[i]), L.t + cell_to_node, L.src, true);
    } else {
      const std::uint32_t node = u - static_cast<std::uint32_t>(ncell);
      const auto& f = ride->first();
      for (std::uint32_t i = f[node]; i < f[node + 1]; ++i) {
        const Arc& a = ride->arcs()[i];
        offer(static_cast<std::uint32_t>(ncell + a.head), L.t + a.seconds, L.src, true);
      }
      const std::int64_t c = net.node_cell[node];
      if (c >= 0 && fr(c) < kInf) offer(static_cast<std::uint32_t>(c), L.t + node_to_cell, L.src, true);
    }
  }
  if (control) control->throw_if_cancelled();
  for (std::int64_t c = 0; c < ncell; ++c) {
    const bool reached = lab[c].t < kInf;
    out_seconds[c] = lab[c].t;
    out_nearest[c] = reached ? lab[c].src : -1;
    if (out_rides) out_rides[c] = reached && rides[c];
    st.cells_reached += reached;
    st.cells_riding += reached && rides[c];
  }
  return st;
}

}  // namespace careshed
