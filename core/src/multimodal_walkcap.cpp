// multimodal_walkcap.cpp — walk + ride with a maximum walking leg (careshed/multimodal_walkcap.hpp): an exact
// label-setting search over (cell, walked ticks of the current leg) with dominance, on the arithmetic of
// multimodal_travel_time (multimodal.cpp) so that a cap nobody reaches gives its output bit for bit.
#include "careshed/multimodal_walkcap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "multimodal_setup.hpp"

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint64_t kUnreached = detail::kUnreachedLabel;
constexpr std::uint64_t kNever = std::numeric_limits<std::uint64_t>::max();
// The grid engine's neighbour order (raster_search.cpp): 4 rook, 4 diagonal, 8 knight's moves.
constexpr int kDr[16] = {0, 0, -1, 1, -1, -1, 1, 1, -2, -2, 2, 2, -1, -1, 1, 1};
constexpr int kDc[16] = {-1, 1, 0, 0, -1, 1, -1, 1, -1, 1, -1, 1, -2, 2, -2, 2};

// One label in the heap: its packed (ticks, source, code), the walked ticks of its current leg (cells) and the
// vertex (cells 0..n-1, ride node v as n + v). Heap order (key, walked).
struct Item {
  std::uint64_t key;
  std::uint64_t walked;
  std::uint64_t vertex;
  bool operator>(const Item& o) const { return key != o.key ? key > o.key : walked > o.walked; }
};

}  // namespace

MultimodalStats multimodal_travel_time_walk_capped(const MultimodalNetwork& net, const std::int64_t* sources_rc,
                                                   std::size_t n_sources, const MultimodalOptions& o,
                                                   double max_walk_seconds, double* out_seconds,
                                                   std::int32_t* out_nearest, std::uint8_t* out_mode,
                                                   RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "walk + ride (maximum walking leg)");
  if (std::isnan(max_walk_seconds) || max_walk_seconds < 0)
    throw InputError("multimodal search: max_walk_seconds must be >= 0 (or infinite for no cap)");
  // The checks and the arithmetic of multimodal_travel_time (one shared setup: the same bits when the cap
  // does not bind).
  const detail::MultimodalSetup su = detail::multimodal_setup(net, sources_rc, n_sources, o);
  const FrictionGrid& g = net.walk;
  const std::int64_t ncell = su.ncell, nride = su.nride;
  const std::size_t n_modes = su.n_modes;
  const std::vector<std::int64_t>& cell_of = su.cell_of;
  const std::vector<std::uint8_t>& mode_of = su.mode_of;
  const int mb = su.mode_bits;
  const double sc = su.ticks_per_second;
  const detail::MultimodalLabels lb = detail::multimodal_labels(su);
  auto fr = [&](std::int64_t c) { return detail::multimodal_friction(g, c); };
  auto to_ticks = [sc](double seconds) { return detail::multimodal_ticks(seconds, sc); };
  // The cap in ticks (inclusive); walking-only labels keep at most cap + 1 (past the cap they cannot board, and
  // every such label is then alike).
  const std::uint64_t cap = max_walk_seconds < std::ldexp(1.0, 61) / sc
                                ? static_cast<std::uint64_t>(std::floor(max_walk_seconds * sc))
                                : std::uint64_t{1} << 61;

  // -- the combined graph in the search's direction -----------------------------------------------------------
  const bool toward = o.direction == TravelDirection::TowardSources;
  const CsrGraph* ride = net.ride;
  CsrGraph reversed;
  if (ride && toward) {
    reversed = ride->transposed();
    ride = &reversed;
  }
  std::vector<std::uint64_t> to_node(n_modes), to_cell(n_modes);
  for (std::size_t m = 0; m < n_modes; ++m) {
    to_node[m] = to_ticks(toward ? net.modes[m].alight_seconds : net.modes[m].board_seconds);
    to_cell[m] = to_ticks(toward ? net.modes[m].board_seconds : net.modes[m].alight_seconds);
  }
  std::vector<std::uint64_t> arc_ticks;
  if (ride) {
    arc_ticks.reserve(ride->arcs().size());
    for (const Arc& a : ride->arcs()) arc_ticks.push_back(to_ticks(a.seconds));
  }
  // Transfer nodes per cell (CSR over the cells that have any).
  std::vector<std::uint32_t> transfer_first, transfer_node;
  std::vector<std::uint32_t> transfer_slot;  // per cell: 1 + its index in transfer_first (0: no ride node)
  if (nride) {
    transfer_slot.assign(static_cast<std::size_t>(ncell), 0);
    std::vector<std::pair<std::int64_t, std::uint32_t>> pairs;
    for (std::int64_t v = 0; v < nride; ++v)
      if (cell_of[v] >= 0) pairs.emplace_back(cell_of[v], static_cast<std::uint32_t>(v));
    std::sort(pairs.begin(), pairs.end());
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      if (i == 0 || pairs[i].first != pairs[i - 1].first) {
        transfer_first.push_back(static_cast<std::uint32_t>(i));
        transfer_slot[pairs[i].first] = static_cast<std::uint32_t>(transfer_first.size());
      }
      transfer_node.push_back(pairs[i].second);
    }
    transfer_first.push_back(static_cast<std::uint32_t>(pairs.size()));
  }
  // Walking moves (r.cost's rule, as the grid engine): half the step length (a quarter for knight's moves, which
  // average four cells) x 2^q, times the friction sum of the cells.
  const int K = o.neighbours;
  double hl[16];
  for (int k = 0; k < K; ++k) hl[k] = (k >= 8 ? 0.25 : 0.5) * std::hypot(kDc[k] * g.dx_m, kDr[k] * g.dy_m) * sc;

  // -- the search ------------------------------------------------------------------------------------------------
  auto* lab = reinterpret_cast<std::uint64_t*>(out_seconds);  // the answer per cell (the first label settled)
  std::fill(lab, lab + ncell, kUnreached);
  // The least walking of the labels a cell has settled: over walking-only labels, and over all.
  std::vector<std::uint64_t> min_walk_only(static_cast<std::size_t>(ncell), kNever);
  std::vector<std::uint64_t> min_walk_any(static_cast<std::size_t>(ncell), kNever);
  std::vector<std::uint64_t> node_lab(static_cast<std::size_t>(nride), kUnreached);
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> heap;
  auto dominated = [&](std::int64_t c, std::uint64_t key, std::uint64_t walked) {
    return ((key & lb.code_mask) == 0 ? min_walk_only[c] : min_walk_any[c]) <= walked;
  };
  // The least-key label pushed to each cell (speed only): a new label it dominates is dropped at once — that
  // label is settled (and dominates the new one) or is dropped for a settled label that dominates both.
  std::vector<std::uint64_t> pending_key(static_cast<std::size_t>(ncell), kNever);
  std::vector<std::uint64_t> pending_walked(static_cast<std::size_t>(ncell), kNever);
  auto push_cell = [&](std::int64_t c, std::uint64_t key, std::uint64_t walked) {
    if (dominated(c, key, walked)) return;
    const std::uint64_t pk = pending_key[c];
    if (pk <= key && pending_walked[c] <= walked && ((pk & lb.code_mask) == 0 || (key & lb.code_mask) != 0)) return;
    if (key < pk) {
      pending_key[c] = key;
      pending_walked[c] = walked;
    }
    heap.push(Item{key, walked, static_cast<std::uint64_t>(c)});
  };
  for (std::size_t s = 0; s < n_sources; ++s) {
    const std::int64_t c = sources_rc[2 * s] * g.cols + sources_rc[2 * s + 1];
    if (!(fr(c) < kInf)) continue;  // a source on an impassable cell reaches nothing (as the grid engine)
    const double off = o.source_offsets_s ? o.source_offsets_s[s] : 0.0;
    const double t0 = std::floor(off * sc + 0.5);
    if (t0 > static_cast<double>(lb.cut)) continue;  // beyond the cut-off (the grid engine's rule)
    const std::uint64_t key = ((static_cast<std::uint64_t>(t0) + 1) << lb.ib) | (static_cast<std::uint64_t>(s) << mb);
    push_cell(c, key, 0);
  }
  MultimodalStats st;
  st.tick_seconds = su.scale.tick_seconds;
  const double passable = static_cast<double>(std::max<std::int64_t>(su.summary.passable_cells, 1));
  std::uint64_t pops = 0;
  while (!heap.empty()) {
    const Item it = heap.top();
    heap.pop();
    if ((++pops & 0xFFFF) == 0) {
      throw_if_cancelled(control);
      if (control) control->report(std::min(1.0, static_cast<double>(st.cells_settled) / passable));
    }
    if (it.vertex >= static_cast<std::uint64_t>(ncell)) {  // a ride node
      const std::int64_t v = static_cast<std::int64_t>(it.vertex) - ncell;
      if (it.key != node_lab[v]) continue;  // stale
      ++st.nodes_settled;
      const auto& first = ride->first();
      const auto& arcs = ride->arcs();
      for (std::uint32_t i = first[v]; i < first[v + 1]; ++i) {
        const std::uint32_t h = arcs[i].head;
        const std::uint64_t L = lb.step(it.key, arc_ticks[i], mode_of[h] + 1);
        if (L < node_lab[h]) {
          node_lab[h] = L;
          heap.push(Item{L, 0, static_cast<std::uint64_t>(ncell) + h});
        }
      }
      const std::int64_t c = cell_of[v];
      if (c < 0) continue;
      const std::uint64_t L = lb.step(it.key, to_cell[mode_of[v]], 0);  // a new walking leg starts at 0
      if (L != kUnreached) push_cell(c, L, 0);
      continue;
    }
    const std::int64_t c = static_cast<std::int64_t>(it.vertex);
    const std::uint64_t key = it.key, walked = it.walked;
    const bool walk_only = (key & lb.code_mask) == 0;
    if (dominated(c, key, walked)) continue;
    ++st.cells_settled;
    if (lab[c] == kUnreached) lab[c] = key;  // labels leave the heap in key order: the first is the answer
    min_walk_any[c] = std::min(min_walk_any[c], walked);
    if (walk_only) min_walk_only[c] = std::min(min_walk_only[c], walked);
    // Board the ride nodes at this cell: the leg that ends here is within the cap.
    if (nride && walked <= cap) {
      if (const std::uint32_t slot = transfer_slot[c]) {
        for (std::uint32_t j = transfer_first[slot - 1]; j < transfer_first[slot]; ++j) {
          const std::uint32_t v = transfer_node[j];
          const std::uint64_t L = lb.step(key, to_node[mode_of[v]], mode_of[v] + 1);
          if (L < node_lab[v]) {
            node_lab[v] = L;
            heap.push(Item{L, 0, static_cast<std::uint64_t>(ncell) + v});
          }
        }
      }
    }
    // Walk on.
    const std::int64_t row = c / g.cols, col = c % g.cols;
    const double fu = fr(c);
    for (int k = 0; k < K; ++k) {
      const std::int64_t r2 = row + kDr[k], c2 = col + kDc[k];
      if (r2 < 0 || r2 >= g.rows || c2 < 0 || c2 >= g.cols) continue;
      const std::int64_t v = r2 * g.cols + c2;
      const double fv = fr(v);
      if (!(fv < kInf)) continue;
      double fsum = fu + fv;
      if (k >= 8) {
        const std::int64_t a = (kDr[k] == 2 || kDr[k] == -2) ? (row + kDr[k] / 2) * g.cols + col
                                                             : row * g.cols + col + kDc[k] / 2;
        const std::int64_t b = (kDr[k] == 2 || kDr[k] == -2) ? (row + kDr[k] / 2) * g.cols + c2
                                                             : r2 * g.cols + col + kDc[k] / 2;
        const double fa = fr(a), fb = fr(b);
        if (!(fa < kInf) || !(fb < kInf)) continue;
        fsum = (fu + fv) + (fa + fb);
      }
      // floor(w + 0.5) through the signed conversion, exactly as the grid engine rounds a step
      const std::uint64_t dt = static_cast<std::uint64_t>(static_cast<std::int64_t>(fsum * hl[k] + 0.5));
      const std::uint64_t L = lb.step(key, dt, 0);
      if (L == kUnreached) continue;
      std::uint64_t w = walked + dt;
      if (walk_only)
        w = std::min(w, cap + 1);  // walking-only trips are not capped; past the cap they only cannot board
      else if (w > cap)
        continue;
      push_cell(v, L, w);
    }
  }
  throw_if_cancelled(control);

  detail::multimodal_outputs(su, lab, out_nearest, out_mode, st);
  return st;
}

}  // namespace careshed
