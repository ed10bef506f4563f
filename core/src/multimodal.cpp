// multimodal.cpp — the combined walk + ride search of careshed/multimodal.hpp: one search of the grid engine
// (raster_search.cpp, driven through detail::tile_search on the whole grid with packed labels) with the ride
// graph as its side network (RideNetwork below): ride nodes are labels in the same bucket queue as the cells.
#include "careshed/multimodal.hpp"

#include <algorithm>
#include <limits>
#include <utility>
#include <vector>

#include "careshed/progress.hpp"
#include "careshed/raster_tiles.hpp"
#include "multimodal_setup.hpp"
#include "raster_search_internal.hpp"

namespace careshed {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr std::uint64_t kUnreached = detail::kUnreachedLabel;

using Labels = detail::MultimodalLabels;

// A 4-ary min-heap of (packed label, id): half the depth of a binary heap (the ride search's heap holds up to
// about a million items). Items with equal labels leave in any order (the search's result does not depend on it).
class QuadHeap {
 public:
  struct Item {
    std::uint64_t label;
    std::uint32_t id;
  };
  bool empty() const { return v_.empty(); }
  const Item& top() const { return v_.front(); }
  void push(Item it) {
    std::size_t i = v_.size();
    v_.push_back(it);
    while (i > 0) {
      const std::size_t up = (i - 1) >> 2;
      if (v_[up].label <= it.label) break;
      v_[i] = v_[up];
      i = up;
    }
    v_[i] = it;
  }
  void pop() {
    const Item last = v_.back();
    v_.pop_back();
    const std::size_t n = v_.size();
    if (n == 0) return;
    std::size_t i = 0;
    for (;;) {
      const std::size_t c = 4 * i + 1;
      if (c >= n) break;
      std::size_t best = c;
      for (std::size_t k = c + 1; k < std::min(c + 4, n); ++k)
        if (v_[k].label < v_[best].label) best = k;
      if (v_[best].label >= last.label) break;
      v_[i] = v_[best];
      i = best;
    }
    v_[i] = last;
  }

 private:
  std::vector<Item> v_;
};

// The ride graph as the grid engine's side network (raster_search_internal.hpp): a ride node is a label in the
// same bucket queue as the cells. The expansion of a transfer cell enters its nodes (settled); advance() is a
// binary-heap Dijkstra over the node labels below the horizon (the end of the bucket the grid works next);
// alighting offers the node's cell its label, at once when it lies inside the bucket queue's window, else
// from a second heap when the window has moved on.
class RideNetwork final : public detail::SideNetwork {
 public:
  // reverse: search the ride arcs backwards (toward the sources).
  RideNetwork(std::int64_t ncell, const CsrGraph& ride, bool reverse, const std::vector<std::int64_t>& cell_of,
              const std::vector<std::uint8_t>& mode_of, const std::vector<std::uint64_t>& to_node,
              const std::vector<std::uint64_t>& to_cell, const Labels& lb, double scale, RunControl* control)
      : SideNetwork(nullptr), cell_of_(cell_of), mode_of_(mode_of), to_node_(to_node), to_cell_(to_cell), lb_(lb),
        control_(control), node_lab_(cell_of.size(), kUnreached) {
    // The arcs in the search's direction, with their ticks (rounded once, as in the file comment).
    const std::size_t nn = cell_of.size();
    const auto& rf = ride.first();
    const auto& ra = ride.arcs();
    arc_first_.assign(nn + 1, 0);
    arc_head_.resize(ra.size());
    arc_ticks_.resize(ra.size());
    if (reverse) {
      for (const Arc& a : ra) ++arc_first_[a.head + 1];
      for (std::size_t v = 0; v < nn; ++v) arc_first_[v + 1] += arc_first_[v];
      std::vector<std::uint32_t> at(arc_first_.begin(), arc_first_.end() - 1);
      for (std::uint32_t v = 0; v < nn; ++v)
        for (std::uint32_t i = rf[v]; i < rf[v + 1]; ++i) {
          const std::uint32_t k = at[ra[i].head]++;
          arc_head_[k] = v;
          arc_ticks_[k] = detail::multimodal_ticks(ra[i].seconds, scale);
        }
    } else {
      for (std::size_t v = 0; v <= nn; ++v) arc_first_[v] = rf[v];
      for (std::size_t i = 0; i < ra.size(); ++i) {
        arc_head_[i] = ra[i].head;
        arc_ticks_[i] = detail::multimodal_ticks(ra[i].seconds, scale);
      }
    }
    // Transfer cells: a bitmap (what the grid engine tests per expansion), its rank per word, and the nodes
    // of each transfer cell in rank order (a cell may hold several nodes).
    const std::size_t words = static_cast<std::size_t>((ncell + 63) / 64);
    bits_.assign(words, 0);
    for (const std::int64_t c : cell_of)
      if (c >= 0) bits_[static_cast<std::size_t>(c) >> 6] |= std::uint64_t{1} << (c & 63);
    rank_.resize(words + 1);
    std::uint32_t r = 0;
    for (std::size_t w = 0; w < words; ++w) {
      rank_[w] = r;
      r += static_cast<std::uint32_t>(__builtin_popcountll(bits_[w]));
    }
    rank_[words] = r;
    first_.assign(static_cast<std::size_t>(r) + 1, 0);
    for (const std::int64_t c : cell_of)
      if (c >= 0) ++first_[rank(static_cast<std::uint32_t>(c)) + 1];
    for (std::size_t i = 1; i < first_.size(); ++i) first_[i] += first_[i - 1];
    nodes_.resize(first_.back());
    std::vector<std::uint32_t> fill(first_.begin(), first_.end() - 1);
    for (std::size_t v = 0; v < cell_of.size(); ++v)
      if (cell_of[v] >= 0) nodes_[fill[rank(static_cast<std::uint32_t>(cell_of[v]))]++] = static_cast<std::uint32_t>(v);
    set_joined_bits(bits_.data());
  }

  void settled(const Settled* cells, std::size_t n) override {
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint32_t r = rank(cells[i].cell);
      for (std::uint32_t j = first_[r]; j < first_[r + 1]; ++j) {
        const std::uint32_t v = nodes_[j];
        const int m = mode_of_[v];
        lower_node(v, lb_.step(cells[i].label, to_node_[m], m + 1));
      }
    }
  }

  void advance(std::uint64_t horizon_ticks, std::uint64_t offer_limit_ticks, CellSink& sink) override {
    while (!heap_.empty() && lb_.ticks(heap_.top().label) < horizon_ticks) {
      const auto [L, v] = heap_.top();
      heap_.pop();
      if (L != node_lab_[v]) continue;  // stale: lowered since pushed
      if ((++nodes_settled_ & 0xFFFF) == 0) throw_if_cancelled(control_);
      for (std::uint32_t i = arc_first_[v]; i < arc_first_[v + 1]; ++i) {
        const std::uint32_t h = arc_head_[i];
        lower_node(h, lb_.step(L, arc_ticks_[i], mode_of_[h] + 1));
      }
      const std::int64_t c = cell_of_[v];
      if (c < 0) continue;
      const std::uint64_t Lc = lb_.step(L, to_cell_[mode_of_[v]], 0);
      if (Lc == kUnreached) continue;
      if (lb_.ticks(Lc) < offer_limit_ticks)
        sink.offer(static_cast<std::uint32_t>(c), Lc);
      else
        later_.push({Lc, static_cast<std::uint32_t>(c)});
    }
    while (!later_.empty() && lb_.ticks(later_.top().label) < offer_limit_ticks) {
      sink.offer(later_.top().id, later_.top().label);
      later_.pop();
    }
  }

  std::uint64_t next_ticks() const override {
    std::uint64_t t = ~std::uint64_t{0};
    if (!heap_.empty()) t = lb_.ticks(heap_.top().label);
    if (!later_.empty()) t = std::min(t, lb_.ticks(later_.top().label));
    return t;
  }

  std::uint64_t nodes_settled() const { return nodes_settled_; }

 private:
  std::uint32_t rank(std::uint32_t c) const {
    const std::uint64_t below = bits_[c >> 6] & ((std::uint64_t{1} << (c & 63)) - 1);
    return rank_[c >> 6] + static_cast<std::uint32_t>(__builtin_popcountll(below));
  }
  void lower_node(std::uint32_t v, std::uint64_t L) {
    if (L < node_lab_[v]) {
      node_lab_[v] = L;
      heap_.push({L, v});
    }
  }

  const std::vector<std::int64_t>& cell_of_;
  const std::vector<std::uint8_t>& mode_of_;
  const std::vector<std::uint64_t>& to_node_;
  const std::vector<std::uint64_t>& to_cell_;
  const Labels lb_;
  RunControl* control_;
  std::vector<std::uint32_t> arc_first_, arc_head_;
  std::vector<std::uint64_t> arc_ticks_;
  std::vector<std::uint64_t> bits_;
  std::vector<std::uint32_t> rank_, first_, nodes_;
  std::vector<std::uint64_t> node_lab_;
  QuadHeap heap_, later_;  // node labels; cell offers beyond the bucket queue's window
  std::uint64_t nodes_settled_ = 0;
};

// The bucket width of the joint search: at most 8 typical walking steps (the grid engine rounds it down to a
// power of two ticks; alone it takes 64 steps). Inside a bucket the grid works tile by tile, not in time order,
// so a cell the walk reached before a ride's alighting was found is expanded twice; narrower buckets cost more
// tile visits instead. Measured on benchmarks/multimodal.py's road-rich grid (36 M cells, typical step 125 s,
// 1 M ride nodes, boarding 2 minutes; 2048 s with boarding 0, load 8-12): widths of 64, 128, 256, 512, 1024, 2048 and 4096 s expanded
// 1.00, 1.00, 1.01, 1.04, 1.22, 1.69 and 2.9-3.3 cells per cell reached and took 4.9-5.3, 4.1-4.4, 3.7-3.9,
// 3.4-3.8, 3.5-3.8, 4.7 and 6.5-7.3 s of CPU (BENCHMARKS.md). Speed only: the result is the same at any width.
constexpr double kBucketWalkingSteps = 8.0;

}  // namespace

MultimodalStats multimodal_travel_time(const MultimodalNetwork& net, const std::int64_t* sources_rc,
                                       std::size_t n_sources, const MultimodalOptions& o, double* out_seconds,
                                       std::int32_t* out_nearest, std::uint8_t* out_mode, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "walk + ride");
  // Checks, friction summary, transfer cells and the arithmetic, shared with the capped engine.
  const detail::MultimodalSetup su = detail::multimodal_setup(net, sources_rc, n_sources, o);
  const FrictionGrid& g = net.walk;
  const Labels lb = detail::multimodal_labels(su);
  const double sc = su.ticks_per_second;

  MultimodalStats st;
  st.tick_seconds = su.scale.tick_seconds;
  auto* lab = reinterpret_cast<std::uint64_t*>(out_seconds);  // the output doubles as the label array
  std::fill(lab, lab + su.ncell, kUnreached);
  std::vector<std::int32_t> source_index(n_sources);
  for (std::size_t s = 0; s < n_sources; ++s) source_index[s] = static_cast<std::int32_t>(s << su.mode_bits);
  if (!su.nride) {
    st.cells_settled = detail::tile_search(g, su.scale, su.grid_options, sources_rc, source_index.data(), n_sources,
                                           nullptr, 0, lab, control)
                           .cells_settled;
  } else {
    // The ride graph in the search's direction (toward the sources: the traveller's arcs reversed; a search
    // step cell -> node is then the traveller alighting, node -> cell boarding).
    const bool toward = o.direction == TravelDirection::TowardSources;
    std::vector<std::uint64_t> to_node(su.n_modes), to_cell(su.n_modes);
    for (std::size_t m = 0; m < su.n_modes; ++m) {
      to_node[m] = detail::multimodal_ticks(toward ? net.modes[m].alight_seconds : net.modes[m].board_seconds, sc);
      to_cell[m] = detail::multimodal_ticks(toward ? net.modes[m].board_seconds : net.modes[m].alight_seconds, sc);
    }
    const double typical_step =
        su.summary.passable_cells
            ? su.friction_sum / static_cast<double>(su.summary.passable_cells) * std::min(g.dx_m, g.dy_m)
            : 0.0;
    const double bucket_seconds = typical_step > 0 ? kBucketWalkingSteps * typical_step : kInf;
    RideNetwork side(su.ncell, *net.ride, toward, su.cell_of, su.mode_of, to_node, to_cell, lb, sc, control);
    st.cells_settled = detail::tile_search(g, su.scale, su.grid_options, sources_rc, source_index.data(), n_sources,
                                           nullptr, 0, lab, control, &side, bucket_seconds)
                           .cells_settled;
    st.nodes_settled = side.nodes_settled();
  }
  st.grid_rounds = 1;
  throw_if_cancelled(control);
  detail::multimodal_outputs(su, lab, out_nearest, out_mode, st);
  return st;
}

}  // namespace careshed
