#include "careshed/graph_search.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "careshed/error.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();  // "no source" / "not in heap"
constexpr uint32_t kDone = kNone - 1;                               // settled

template <typename Index>
uint32_t checked_node(Index id, int64_t n_nodes, const char* what, size_t i) {
  if (static_cast<int64_t>(id) < 0 || static_cast<int64_t>(id) >= n_nodes) {
    std::ostringstream m;
    m << what << "[" << i << "] = " << static_cast<int64_t>(id) << " is not a node id in [0, " << n_nodes
      << "); node ids count from 0 and must be < n_nodes";
    throw InputError(m.str());
  }
  return static_cast<uint32_t>(id);
}

void check_options(const GraphSearchOptions& o, size_t n_sources) {
  if (std::isnan(o.max_seconds) || o.max_seconds < 0.0) {
    std::ostringstream m;
    m << "max_seconds = " << o.max_seconds << " must be >= 0 (or +inf / None for no cutoff)";
    throw InputError(m.str());
  }
  if (o.source_offsets != nullptr) {
    for (size_t j = 0; j < n_sources; ++j) {
      double v = o.source_offsets[j];
      if (!std::isfinite(v) || v < 0.0) {
        std::ostringstream m;
        m << "source_offsets[" << j << "] = " << v << " must be finite and >= 0 seconds";
        throw InputError(m.str());
      }
    }
  }
}

template <typename Index>
std::vector<uint32_t> checked_sources(const CsrGraph& g, const Index* sources, size_t n_sources) {
  if (n_sources >= static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InputError("too many sources: indices must fit a 32-bit signed integer");
  std::vector<uint32_t> s(n_sources);
  for (size_t j = 0; j < n_sources; ++j) s[j] = checked_node(sources[j], g.n_nodes(), "sources", j);
  return s;
}

// 4-ary min-heap keyed by (seconds, source) with decrease-key through a position array. A 4-ary heap
// halves the depth of a binary heap and its four children share a cache line, which is what Dijkstra's
// pop-heavy workload wants. Entries carry their key so comparisons never touch the label arrays.
struct HeapEntry {
  double t;
  uint32_t src;
  uint32_t node;
};

inline bool before(const HeapEntry& a, const HeapEntry& b) {
  return a.t < b.t || (a.t == b.t && a.src < b.src);
}

class QuadHeap {
 public:
  explicit QuadHeap(uint32_t* pos) : pos_(pos) {}
  bool empty() const { return h_.empty(); }
  void reserve(size_t n) { h_.reserve(n); }

  void push(const HeapEntry& e) {
    h_.push_back(e);
    sift_up(h_.size() - 1);
  }
  // e.node is in the heap and e's key is not greater than its current key.
  void decrease(const HeapEntry& e) { sift_up(pos_[e.node], e); }

  HeapEntry pop() {
    HeapEntry top = h_[0];
    HeapEntry last = h_.back();
    h_.pop_back();
    if (!h_.empty()) sift_down(last);
    return top;
  }

 private:
  void sift_up(size_t i) { sift_up(i, HeapEntry(h_[i])); }  // a copy: h_[i] is overwritten below
  void sift_up(size_t i, const HeapEntry e) {
    while (i > 0) {
      size_t p = (i - 1) >> 2;
      if (!before(e, h_[p])) break;
      h_[i] = h_[p];
      pos_[h_[i].node] = static_cast<uint32_t>(i);
      i = p;
    }
    h_[i] = e;
    pos_[e.node] = static_cast<uint32_t>(i);
  }
  void sift_down(const HeapEntry& e) {
    const size_t n = h_.size();
    size_t i = 0;
    for (;;) {
      size_t c = 4 * i + 1;
      if (c >= n) break;
      size_t best = c;
      size_t end = std::min(c + 4, n);
      for (size_t k = c + 1; k < end; ++k)
        if (before(h_[k], h_[best])) best = k;
      if (!before(h_[best], e)) break;
      h_[i] = h_[best];
      pos_[h_[i].node] = static_cast<uint32_t>(i);
      i = best;
    }
    h_[i] = e;
    pos_[e.node] = static_cast<uint32_t>(i);
  }

  std::vector<HeapEntry> h_;
  uint32_t* pos_;
};

// The core multi-source search. labels: dist[v], src[v] (kNone = none). `pos` must be kNone for all.
// Returns nothing; dist/src hold the final labels (settled or +inf/kNone).
void run_dijkstra(const CsrGraph& g, const std::vector<uint32_t>& sources, const double* offsets,
                  double max_seconds, double* dist, uint32_t* src, uint32_t* pos) {
  const uint64_t* first = g.first().data();
  const uint32_t* heads = g.heads().data();
  const double* cost = g.seconds().data();
  QuadHeap heap(pos);
  heap.reserve(std::min<size_t>(g.n_nodes(), 1u << 16));
  for (size_t j = 0; j < sources.size(); ++j) {
    const uint32_t v = sources[j];
    const double t = offsets ? offsets[j] : 0.0;
    if (!(t <= max_seconds)) continue;
    const uint32_t s = static_cast<uint32_t>(j);
    if (t < dist[v] || (t == dist[v] && s < src[v])) {
      dist[v] = t;
      src[v] = s;
      if (pos[v] == kNone) heap.push({t, s, v});
      else heap.decrease({t, s, v});
    }
  }
  while (!heap.empty()) {
    const HeapEntry e = heap.pop();
    pos[e.node] = kDone;
    const uint64_t end = first[e.node + 1];
    for (uint64_t a = first[e.node]; a < end; ++a) {
      const uint32_t w = heads[a];
      const double nt = e.t + cost[a];
      if (nt > max_seconds) continue;
      const uint32_t pw = pos[w];
      if (pw == kDone) continue;
      if (nt < dist[w] || (nt == dist[w] && e.src < src[w])) {
        dist[w] = nt;
        src[w] = e.src;
        if (pw == kNone) heap.push({nt, e.src, w});
        else heap.decrease({nt, e.src, w});
      }
    }
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
template <typename Index>
CsrGraph CsrGraph::from_edges(int64_t n_nodes, const Index* tails, const Index* heads, const double* seconds,
                              size_t n_edges) {
  if (n_nodes < 0 || n_nodes >= static_cast<int64_t>(std::numeric_limits<int32_t>::max())) {
    std::ostringstream m;
    m << "n_nodes = " << n_nodes << " must be in [0, 2^31 - 1) (32-bit node ids)";
    throw InputError(m.str());
  }
  CsrGraph g;
  g.n_nodes_ = static_cast<uint32_t>(n_nodes);
  g.first_.assign(static_cast<size_t>(n_nodes) + 1, 0);
  // Validate everything before building, so an error leaves nothing half-made and names the edge.
  for (size_t i = 0; i < n_edges; ++i) {
    const uint32_t t = checked_node(tails[i], n_nodes, "tails", i);
    checked_node(heads[i], n_nodes, "heads", i);
    const double c = seconds[i];
    if (!(c >= 0.0) || !std::isfinite(c)) {
      std::ostringstream m;
      m << "seconds[" << i << "] = " << c << " (edge " << static_cast<int64_t>(tails[i]) << " -> "
        << static_cast<int64_t>(heads[i]) << ") must be finite and >= 0; drop impassable edges instead";
      throw InputError(m.str());
    }
    ++g.first_[t + 1];
  }
  for (size_t v = 0; v < static_cast<size_t>(n_nodes); ++v) g.first_[v + 1] += g.first_[v];
  g.heads_.resize(n_edges);
  g.seconds_.resize(n_edges);
  std::vector<uint64_t> fill(g.first_.begin(), g.first_.end() - 1);
  for (size_t i = 0; i < n_edges; ++i) {
    const uint64_t a = fill[static_cast<size_t>(tails[i])]++;
    g.heads_[a] = static_cast<uint32_t>(heads[i]);
    g.seconds_[a] = seconds[i];
  }
  return g;
}

CsrGraph CsrGraph::transposed() const {
  CsrGraph r;
  r.n_nodes_ = n_nodes_;
  r.first_.assign(first_.size(), 0);
  for (uint32_t h : heads_) ++r.first_[h + 1];
  for (size_t v = 0; v < n_nodes_; ++v) r.first_[v + 1] += r.first_[v];
  r.heads_.resize(heads_.size());
  r.seconds_.resize(heads_.size());
  std::vector<uint64_t> fill(r.first_.begin(), r.first_.end() - 1);
  for (uint32_t v = 0; v < n_nodes_; ++v) {
    for (uint64_t a = first_[v]; a < first_[v + 1]; ++a) {
      const uint64_t b = fill[heads_[a]]++;
      r.heads_[b] = v;
      r.seconds_[b] = seconds_[a];
    }
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------
template <typename Index>
void nearest_source_search(const CsrGraph& g, const Index* sources, size_t n_sources,
                           const GraphSearchOptions& options, double* out_seconds, int32_t* out_nearest) {
  check_options(options, n_sources);
  const std::vector<uint32_t> s = checked_sources(g, sources, n_sources);
  const size_t n = g.n_nodes();
  std::fill(out_seconds, out_seconds + n, std::numeric_limits<double>::infinity());
  // out_nearest doubles as the source label: -1 reinterpreted as uint32 is kNone, so "lower index
  // wins" comparisons work unchanged and no extra array is needed.
  std::fill(out_nearest, out_nearest + n, -1);
  std::vector<uint32_t> pos(n, kNone);
  run_dijkstra(g, s, options.source_offsets, options.max_seconds, out_seconds,
               reinterpret_cast<uint32_t*>(out_nearest), pos.data());
}

NearestSources nearest_source_search(const CsrGraph& g, const std::vector<uint32_t>& sources,
                                     const GraphSearchOptions& options) {
  NearestSources r;
  r.seconds.resize(g.n_nodes());
  r.nearest.resize(g.n_nodes());
  nearest_source_search(g, sources.data(), sources.size(), options, r.seconds.data(), r.nearest.data());
  return r;
}

// ---------------------------------------------------------------------------------------------------
template <typename Index>
void k_nearest_source_search(const CsrGraph& g, const Index* sources, size_t n_sources, int k,
                             const GraphSearchOptions& options, double* out_seconds, int32_t* out_nearest) {
  if (k < 1 || k > 64) {
    throw InputError("k = " + std::to_string(k) + " must be in [1, 64] (k nearest sources per node)");
  }
  check_options(options, n_sources);
  const std::vector<uint32_t> s = checked_sources(g, sources, n_sources);
  const size_t n = g.n_nodes();
  const size_t kk = static_cast<size_t>(k);
  std::fill(out_seconds, out_seconds + n * kk, std::numeric_limits<double>::infinity());
  std::fill(out_nearest, out_nearest + n * kk, -1);
  std::vector<uint8_t> count(n, 0);
  // Lazy-deletion binary heap of labels (t, src, node). A node accepts at most k labels, one per
  // distinct source, in (t, src) order; every label is the shortest path from its source to the node
  // (a k-source generalisation of Dijkstra: the first time source s settles at v is its shortest time
  // there, and a path from s to w through v can only use v's settled s-label).
  auto after = [](const HeapEntry& a, const HeapEntry& b) { return before(b, a); };
  std::vector<HeapEntry> heap;
  auto has_source = [&](uint32_t v, uint32_t src) {
    const int32_t* row = out_nearest + static_cast<size_t>(v) * kk;
    for (size_t i = 0; i < count[v]; ++i)
      if (static_cast<uint32_t>(row[i]) == src) return true;
    return false;
  };
  for (size_t j = 0; j < s.size(); ++j) {
    const double t = options.source_offsets ? options.source_offsets[j] : 0.0;
    if (!(t <= options.max_seconds)) continue;
    heap.push_back({t, static_cast<uint32_t>(j), s[j]});
  }
  std::make_heap(heap.begin(), heap.end(), after);
  const uint64_t* first = g.first().data();
  const uint32_t* heads = g.heads().data();
  const double* cost = g.seconds().data();
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    const HeapEntry e = heap.back();
    heap.pop_back();
    const uint32_t v = e.node;
    if (count[v] >= kk || has_source(v, e.src)) continue;
    out_seconds[v * kk + count[v]] = e.t;
    out_nearest[v * kk + count[v]] = static_cast<int32_t>(e.src);
    ++count[v];
    for (uint64_t a = first[v]; a < first[v + 1]; ++a) {
      const uint32_t w = heads[a];
      const double nt = e.t + cost[a];
      if (nt > options.max_seconds || count[w] >= kk || has_source(w, e.src)) continue;
      heap.push_back({nt, e.src, w});
      std::push_heap(heap.begin(), heap.end(), after);
    }
  }
}

// ---------------------------------------------------------------------------------------------------
template <typename Index>
SourceReach bounded_search_per_source(const CsrGraph& g, const Index* sources, size_t n_sources,
                                      const GraphSearchOptions& options) {
  check_options(options, n_sources);
  if (!std::isfinite(options.max_seconds)) {
    throw InputError(
        "bounded_search_per_source needs a finite max_seconds: without a cutoff every source reaches the "
        "whole graph (use nearest_source_search for the nearest facility)");
  }
  const std::vector<uint32_t> s = checked_sources(g, sources, n_sources);
  const size_t n = g.n_nodes();
  std::vector<std::vector<uint32_t>> per_nodes(n_sources);
  std::vector<std::vector<double>> per_secs(n_sources);

#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel
#endif
  {
    // Per-thread scratch, allocated once and reset only where touched.
    std::vector<double> dist(n, std::numeric_limits<double>::infinity());
    std::vector<uint32_t> pos(n, kNone);
    std::vector<uint32_t> touched;
    std::vector<std::pair<uint32_t, double>> list;
#ifdef CARESHED_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t jj = 0; jj < static_cast<int64_t>(n_sources); ++jj) {
      const size_t j = static_cast<size_t>(jj);
      const double off = options.source_offsets ? options.source_offsets[j] : 0.0;
      // A single-source search that records the nodes it touches, so the reset costs what was reached.
      touched.clear();
      list.clear();
      if (off <= options.max_seconds) {
        const uint64_t* first = g.first().data();
        const uint32_t* heads = g.heads().data();
        const double* cost = g.seconds().data();
        QuadHeap heap(pos.data());
        const uint32_t v0 = s[j];
        dist[v0] = off;
        touched.push_back(v0);
        heap.push({off, 0, v0});
        while (!heap.empty()) {
          const HeapEntry e = heap.pop();
          pos[e.node] = kDone;
          list.emplace_back(e.node, e.t);
          for (uint64_t a = first[e.node]; a < first[e.node + 1]; ++a) {
            const uint32_t w = heads[a];
            const double nt = e.t + cost[a];
            if (nt > options.max_seconds) continue;
            const uint32_t pw = pos[w];
            if (pw == kDone) continue;
            if (nt < dist[w]) {
              if (pw == kNone) {
                if (dist[w] == std::numeric_limits<double>::infinity()) touched.push_back(w);
                dist[w] = nt;
                heap.push({nt, 0, w});
              } else {
                dist[w] = nt;
                heap.decrease({nt, 0, w});
              }
            }
          }
        }
        for (uint32_t v : touched) {
          dist[v] = std::numeric_limits<double>::infinity();
          pos[v] = kNone;
        }
      }
      std::sort(list.begin(), list.end());
      per_nodes[j].resize(list.size());
      per_secs[j].resize(list.size());
      for (size_t i = 0; i < list.size(); ++i) {
        per_nodes[j][i] = list[i].first;
        per_secs[j][i] = list[i].second;
      }
    }
  }
  SourceReach r;
  r.list_first.assign(n_sources + 1, 0);
  for (size_t j = 0; j < n_sources; ++j) r.list_first[j + 1] = r.list_first[j] + per_nodes[j].size();
  r.nodes.reserve(r.list_first.back());
  r.seconds.reserve(r.list_first.back());
  for (size_t j = 0; j < n_sources; ++j) {
    r.nodes.insert(r.nodes.end(), per_nodes[j].begin(), per_nodes[j].end());
    r.seconds.insert(r.seconds.end(), per_secs[j].begin(), per_secs[j].end());
    std::vector<uint32_t>().swap(per_nodes[j]);
    std::vector<double>().swap(per_secs[j]);
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------
#define CARESHED_INSTANTIATE(Index)                                                                         \
  template CsrGraph CsrGraph::from_edges<Index>(int64_t, const Index*, const Index*, const double*, size_t); \
  template void nearest_source_search<Index>(const CsrGraph&, const Index*, size_t, const GraphSearchOptions&, \
                                             double*, int32_t*);                                            \
  template void k_nearest_source_search<Index>(const CsrGraph&, const Index*, size_t, int,                  \
                                               const GraphSearchOptions&, double*, int32_t*);               \
  template SourceReach bounded_search_per_source<Index>(const CsrGraph&, const Index*, size_t,              \
                                                        const GraphSearchOptions&);
CARESHED_INSTANTIATE(int32_t)
CARESHED_INSTANTIATE(int64_t)
CARESHED_INSTANTIATE(uint32_t)
#undef CARESHED_INSTANTIATE

}  // namespace careshed
