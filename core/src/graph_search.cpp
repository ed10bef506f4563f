#include "careshed/graph_search.hpp"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <sstream>
#include <string>
#include <utility>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "huge_alloc.hpp"
#include "parallel_errors.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed {

namespace {

constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();  // "no source" (becomes -1 in outputs)

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

// Heap entries carry their key (seconds, source) so comparisons never touch the label arrays.
struct HeapEntry {
  double t;
  uint32_t src;
  uint32_t node;
};

// The multi-source kernel's entry also carries the node's arc range, so popping a node reads its arcs
// directly instead of first waiting for its (often cold) label line to learn where they are.
struct ArcHeapEntry {
  double t;
  uint32_t src;
  uint32_t node;
  uint32_t first;
  uint32_t end;
};

inline bool before(const HeapEntry& a, const HeapEntry& b) {
  return a.t < b.t || (a.t == b.t && a.src < b.src);
}

// Per-node label of the multi-source search, 16 bytes: the tentative (seconds, source) and, in the
// padding, the node's first arc. An improvement already holds the label's line, so it can put the node's
// arc range into the heap entry (and prefetch the arcs) without touching a separate offsets array.
struct NodeLabel {
  NodeLabel() {}  // deliberately uninitialised: fresh_labels() writes every entry once, in parallel
  NodeLabel(double t_, uint32_t src_, uint32_t first_) : t(t_), src(src_), first(first_) {}
  double t;
  uint32_t src;
  uint32_t first;
};

// Lazy 4-ary min-heap of (t, src, node), ordered by (t, src), for the k-nearest and per-source searches.
// A 4-ary heap halves the depth of a binary heap and four 16-byte children share a cache line. A node is
// pushed on every improvement and stale entries are skipped on pop: no position array to keep up to date,
// and on road graphs a node is improved only ~1.3 times on average.
class LazyQuadHeap {
 public:
  bool empty() const { return h_.empty(); }
  void reserve(size_t n) { h_.reserve(n); }
  void push(const HeapEntry e) {
    size_t i = h_.size();
    h_.push_back(e);
    while (i > 0) {
      size_t p = (i - 1) >> 2;
      if (!before(e, h_[p])) break;
      h_[i] = h_[p];
      i = p;
    }
    h_[i] = e;
  }
  HeapEntry pop() {
    const HeapEntry top = h_[0];
    const HeapEntry e = h_.back();
    h_.pop_back();
    const size_t n = h_.size();
    if (n == 0) return top;
    size_t i = 0;
    for (;;) {
      size_t c = 4 * i + 1;
      if (c >= n) break;
      size_t best = c;
      if (c + 3 < n) {  // the common case: all four children exist
        size_t b1 = before(h_[c + 1], h_[c]) ? c + 1 : c;
        size_t b2 = before(h_[c + 3], h_[c + 2]) ? c + 3 : c + 2;
        best = before(h_[b2], h_[b1]) ? b2 : b1;
      } else {
        for (size_t k = c + 1; k < n; ++k)
          if (before(h_[k], h_[best])) best = k;
      }
      if (!before(h_[best], e)) break;
      h_[i] = h_[best];
      i = best;
    }
    h_[i] = e;
    return top;
  }

 private:
  std::vector<HeapEntry> h_;
};

// Radix heap (Ahuja, Mehlhorn, Orlin & Tarjan 1990) over the bit patterns of non-negative doubles, which
// order like the doubles themselves. Dijkstra pops keys in non-decreasing order, which is all a radix heap
// needs: an entry lives in bucket b = 1 + index of the highest bit where its key differs from the last
// popped key (bucket 0: equal keys); a pop empties the lowest non-empty bucket into lower ones. Every
// operation is an append or a sequential scan, so it beats a comparison heap once the frontier is large.
// Ties: equal keys sit in bucket 0, kept sorted by source index descending so the lowest index pops first.
// Entries pushed into bucket 0 later come through zero-cost edges from the entry just popped, whose source
// index is the lowest there, so appending them keeps the order.
class RadixHeap {
 public:
  bool empty() const { return size_ == 0; }
  void push(const ArcHeapEntry& e) {
    b_[bucket(key(e.t))].push_back(e);
    ++size_;
  }
  ArcHeapEntry pop() {
    if (b_[0].empty()) {
      int i = 1;
      while (b_[i].empty()) ++i;
      uint64_t m = ~uint64_t(0);
      for (const ArcHeapEntry& e : b_[i]) m = std::min(m, key(e.t));
      last_ = m;
      for (const ArcHeapEntry& e : b_[i]) b_[bucket(key(e.t))].push_back(e);
      b_[i].clear();
      if (b_[0].size() > 1) {
        std::sort(b_[0].begin(), b_[0].end(),
                  [](const ArcHeapEntry& a, const ArcHeapEntry& b) { return a.src > b.src; });
      }
    }
    const ArcHeapEntry e = b_[0].back();
    b_[0].pop_back();
    --size_;
    return e;
  }

 private:
  static uint64_t key(double t) {
    uint64_t k;
    std::memcpy(&k, &t, sizeof k);
    return k;
  }
  int bucket(uint64_t k) const { return k == last_ ? 0 : 64 - __builtin_clzll(k ^ last_); }

  std::vector<ArcHeapEntry> b_[65];
  uint64_t last_ = 0;
  size_t size_ = 0;
};

// The core multi-source search on caller-provided labels (t = +inf, src = kNone, first = arc offset).
// Polls `control` every kPollPops pops (a few ms of work): cancellation, and nodes popped / nodes as the
// progress estimate (capped below 1: with a cutoff most nodes are never reached).
constexpr uint64_t kPollPops = 1 << 14;

void run_dijkstra(const CsrGraph& g, const std::vector<uint32_t>& sources, const double* offsets,
                  double max_seconds, NodeLabel* label, RunControl* control) {
  const Arc* arcs = g.arcs().data();
  RadixHeap heap;
  // Pushed from the highest index down, so sources starting at the same time land in bucket 0 already
  // in the descending order the heap pops from the back. (Any order would still be exact: an
  // improvement always re-pushes its node; this order just avoids that work.)
  for (size_t jj = sources.size(); jj-- > 0;) {
    const size_t j = jj;
    const uint32_t v = sources[j];
    const double t = (offsets ? offsets[j] : 0.0) + 0.0;  // + 0.0 turns -0.0 into +0.0 (radix keys)
    if (!(t <= max_seconds)) continue;
    const uint32_t s = static_cast<uint32_t>(j);
    if (t < label[v].t || (t == label[v].t && s < label[v].src)) {
      label[v].t = t;
      label[v].src = s;
      heap.push({t, s, v, label[v].first, label[v + 1].first});
    }
  }
  for (uint64_t pops = 1; !heap.empty(); ++pops) {
    if (control && pops % kPollPops == 0) {
      control->throw_if_cancelled();
      control->report(std::min(0.99, static_cast<double>(pops) / (g.n_nodes() + 1.0)));
    }
    const ArcHeapEntry e = heap.pop();
    const NodeLabel& lv = label[e.node];
    if (e.t != lv.t || e.src != lv.src) continue;  // stale: the node was improved after this push
    for (uint32_t a = e.first; a < e.end; ++a) {
      const Arc arc = arcs[a];
      const double nt = e.t + arc.seconds;
      if (nt > max_seconds) continue;
      NodeLabel& lw = label[arc.head];
      // Settled nodes can never pass this test: labels pop in non-decreasing (t, src) order.
      if (nt < lw.t || (nt == lw.t && e.src < lw.src)) {
        lw.t = nt;
        lw.src = e.src;
        heap.push({nt, e.src, arc.head, lw.first, label[arc.head + 1].first});
        // Start loading the node's arcs now: it pops after about one frontier's worth of other nodes,
        // and its arcs are then usually still in L2 instead of in memory (worth ~10 % on 1 M nodes).
        __builtin_prefetch(&arcs[lw.first], 0, 2);
      }
    }
  }
}

// Labels for a search: n + 1 entries (the extra one carries the end offset of the last node's arcs).
detail::huge_vector<NodeLabel> fresh_labels(const CsrGraph& g) {
  const size_t n = g.n_nodes();
  detail::huge_vector<NodeLabel> label(n + 1);
  const uint32_t* first = g.first().data();
  NodeLabel* l = label.data();
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n > 100000)
#endif
  for (int64_t v = 0; v <= static_cast<int64_t>(n); ++v)
    l[v] = NodeLabel(std::numeric_limits<double>::infinity(), kNone, first[v]);
  return label;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
ArcArray::ArcArray(size_t n) : data_(detail::HugePageAllocator<Arc>().allocate(n)), size_(n) {}
ArcArray::ArcArray(const ArcArray& o) : ArcArray(o.size_) { std::copy(o.begin(), o.end(), data_); }
ArcArray::~ArcArray() {
  if (data_ != nullptr) detail::HugePageAllocator<Arc>().deallocate(data_, size_);
}

template <typename Index>
CsrGraph CsrGraph::from_edges(int64_t n_nodes, const Index* tails, const Index* heads, const double* seconds,
                              size_t n_edges) {
  if (n_nodes < 0 || n_nodes >= static_cast<int64_t>(std::numeric_limits<int32_t>::max())) {
    std::ostringstream m;
    m << "n_nodes = " << n_nodes << " must be in [0, 2^31 - 1) (32-bit node ids)";
    throw InputError(m.str());
  }
  if (n_edges >= static_cast<size_t>(std::numeric_limits<uint32_t>::max())) {
    throw InputError("a graph of " + std::to_string(n_edges) + " edges exceeds the 2^32 - 1 edge limit; split it");
  }
  CsrGraph g;
  g.n_nodes_ = static_cast<uint32_t>(n_nodes);
  g.first_.assign(static_cast<size_t>(n_nodes) + 1, 0);
  // Validate everything before building, so an error leaves nothing half-made and names the edge. The
  // parallel pass only finds the first bad edge (and whether tails are already sorted, as in edge lists
  // exported from a CSR); the message is then made for that edge alone.
  const int64_t m_edges = static_cast<int64_t>(n_edges);
  int64_t first_bad = m_edges;
  int sorted = 1;
  g.arcs_ = ArcArray(n_edges);
  Arc* arcs = g.arcs_.data();
  // One parallel pass validates, checks whether the tails are already sorted (edge lists exported from
  // a CSR usually are) and copies each edge to arc i, which is its final place when they are.
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) reduction(min : first_bad) reduction(&& : sorted) if (n_edges > 100000)
#endif
  for (int64_t i = 0; i < m_edges; ++i) {
    const int64_t t = static_cast<int64_t>(tails[i]), h = static_cast<int64_t>(heads[i]);
    const double c = seconds[i];
    if (t < 0 || t >= n_nodes || h < 0 || h >= n_nodes || !(c >= 0.0) || !std::isfinite(c))
      first_bad = std::min(first_bad, i);
    if (i > 0 && static_cast<int64_t>(tails[i - 1]) > t) sorted = 0;
    arcs[i] = {c + 0.0, static_cast<uint32_t>(h)};  // + 0.0: -0.0 → +0.0
  }
  if (first_bad < m_edges) {
    const size_t i = static_cast<size_t>(first_bad);
    checked_node(tails[i], n_nodes, "tails", i);
    checked_node(heads[i], n_nodes, "heads", i);
    std::ostringstream m;
    m << "seconds[" << i << "] = " << seconds[i] << " (edge " << static_cast<int64_t>(tails[i]) << " -> "
      << static_cast<int64_t>(heads[i]) << ") must be finite and >= 0; drop impassable edges instead";
    throw InputError(m.str());
  }
  uint32_t* first = g.first_.data();
  if (sorted) {
    // first[v] = index of the first edge with tail >= v: each boundary between runs of equal tails fills
    // the offsets of the nodes it skips, so the pass splits across threads without conflicts.
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n_edges > 100000)
#endif
    for (int64_t i = 0; i <= m_edges; ++i) {
      const int64_t lo = i == 0 ? -1 : static_cast<int64_t>(tails[i - 1]);
      const int64_t hi = i == m_edges ? n_nodes : static_cast<int64_t>(tails[i]);
      for (int64_t v = lo + 1; v <= hi; ++v) first[v] = static_cast<uint32_t>(i);
    }
  } else {
    for (size_t i = 0; i < n_edges; ++i) ++first[static_cast<size_t>(tails[i]) + 1];
    for (size_t v = 0; v < static_cast<size_t>(n_nodes); ++v) first[v + 1] += first[v];
    std::vector<uint32_t> fill(g.first_.begin(), g.first_.end() - 1);
    for (size_t i = 0; i < n_edges; ++i) {
      const uint32_t at = fill[static_cast<size_t>(tails[i])]++;
      arcs[at] = {seconds[i] + 0.0, static_cast<uint32_t>(heads[i])};
    }
  }
  return g;
}

CsrGraph CsrGraph::transposed() const {
  CsrGraph r;
  r.n_nodes_ = n_nodes_;
  r.first_.assign(first_.size(), 0);
  for (const Arc& a : arcs_) ++r.first_[a.head + 1];
  for (size_t v = 0; v < n_nodes_; ++v) r.first_[v + 1] += r.first_[v];
  r.arcs_ = ArcArray(arcs_.size());
  std::vector<uint32_t> fill(r.first_.begin(), r.first_.end() - 1);
  for (uint32_t v = 0; v < n_nodes_; ++v) {
    for (uint32_t a = first_[v]; a < first_[v + 1]; ++a) r.arcs_[fill[arcs_[a].head]++] = {arcs_[a].seconds, v};
  }
  return r;
}

// ---------------------------------------------------------------------------------------------------
template <typename Index>
void nearest_source_search(const CsrGraph& g, const Index* sources, size_t n_sources,
                           const GraphSearchOptions& options, double* out_seconds, int32_t* out_nearest,
                           RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "graph search");
  check_options(options, n_sources);
  const std::vector<uint32_t> s = checked_sources(g, sources, n_sources);
  const size_t n = g.n_nodes();
  detail::huge_vector<NodeLabel> label = fresh_labels(g);
  run_dijkstra(g, s, options.source_offsets, options.max_seconds, label.data(), control);
  const NodeLabel* l = label.data();
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static) if (n > 100000)
#endif
  for (int64_t v = 0; v < static_cast<int64_t>(n); ++v) {
    out_seconds[v] = l[v].t;
    out_nearest[v] = static_cast<int32_t>(l[v].src);  // kNone becomes -1
  }
}

NearestSources nearest_source_search(const CsrGraph& g, const std::vector<uint32_t>& sources,
                                     const GraphSearchOptions& options, RunControl* control) {
  NearestSources r;
  r.seconds.resize(g.n_nodes());
  r.nearest.resize(g.n_nodes());
  nearest_source_search(g, sources.data(), sources.size(), options, r.seconds.data(), r.nearest.data(), control);
  return r;
}

// ---------------------------------------------------------------------------------------------------
template <typename Index>
void k_nearest_source_search(const CsrGraph& g, const Index* sources, size_t n_sources, int k,
                             const GraphSearchOptions& options, double* out_seconds, int32_t* out_nearest,
                             RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "graph k nearest");
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
  // Every (source, node) label pops at most once and a node accepts at most k labels, one per distinct
  // source, in (t, src) order; every accepted label is that source's shortest time to the node (a
  // k-label generalisation of Dijkstra: when v already holds k labels better than (t, s), any path of
  // s through v is beaten at every node after v by those k sources, so dropping it loses nothing).
  auto has_source = [&](uint32_t v, uint32_t src) {
    const int32_t* row = out_nearest + static_cast<size_t>(v) * kk;
    for (size_t i = 0; i < count[v]; ++i)
      if (static_cast<uint32_t>(row[i]) == src) return true;
    return false;
  };
  LazyQuadHeap heap;
  for (size_t j = 0; j < s.size(); ++j) {
    const double t = options.source_offsets ? options.source_offsets[j] : 0.0;
    if (t <= options.max_seconds) heap.push({t, static_cast<uint32_t>(j), s[j]});
  }
  const uint32_t* first = g.first().data();
  const Arc* arcs = g.arcs().data();
  for (uint64_t pops = 1; !heap.empty(); ++pops) {
    if (control && pops % kPollPops == 0) {
      control->throw_if_cancelled();
      control->report(std::min(0.99, static_cast<double>(pops) / (static_cast<double>(n) * kk + 1.0)));
    }
    const HeapEntry e = heap.pop();
    const uint32_t v = e.node;
    if (count[v] >= kk || has_source(v, e.src)) continue;
    out_seconds[v * kk + count[v]] = e.t;
    out_nearest[v * kk + count[v]] = static_cast<int32_t>(e.src);
    ++count[v];
    for (uint32_t a = first[v]; a < first[v + 1]; ++a) {
      const uint32_t w = arcs[a].head;
      const double nt = e.t + arcs[a].seconds;
      if (nt > options.max_seconds || count[w] >= kk || has_source(w, e.src)) continue;
      heap.push({nt, e.src, w});
    }
  }
}

// ---------------------------------------------------------------------------------------------------
template <typename Index>
SourceReach bounded_search_per_source(const CsrGraph& g, const Index* sources, size_t n_sources,
                                      const GraphSearchOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "graph reach lists");
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
  ProgressCounter progress(control, n_sources);
  detail::FirstException errors;

#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel
#endif
  {
    // Per-thread scratch, allocated once and reset only where touched, so each search costs what it
    // reaches, not the size of the graph. An allocation failure (here or in a search) is kept and rethrown
    // after the region: exceptions must not leave it.
    std::vector<double> dist;
    errors.run([&] { dist.assign(n, std::numeric_limits<double>::infinity()); });
    std::vector<uint32_t> touched;
    std::vector<std::pair<uint32_t, double>> list;
    LazyQuadHeap heap;
    const uint32_t* first = g.first().data();
    const Arc* arcs = g.arcs().data();
#ifdef CARESHED_HAVE_OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int64_t jj = 0; jj < static_cast<int64_t>(n_sources); ++jj) {
      const size_t j = static_cast<size_t>(jj);
      if (!progress.running() || errors.failed()) continue;  // cancelled / failed: skip the remaining sources
      errors.run([&] {
        const double off = options.source_offsets ? options.source_offsets[j] : 0.0;
        touched.clear();
        list.clear();
        if (off <= options.max_seconds) {
          const uint32_t v0 = s[j];
          dist[v0] = off;
          touched.push_back(v0);
          heap.push({off, 0, v0});
          while (!heap.empty()) {
            const HeapEntry e = heap.pop();
            if (e.t != dist[e.node]) continue;  // stale entry
            list.emplace_back(e.node, e.t);
            for (uint32_t a = first[e.node]; a < first[e.node + 1]; ++a) {
              const uint32_t w = arcs[a].head;
              const double nt = e.t + arcs[a].seconds;
              if (nt > options.max_seconds || !(nt < dist[w])) continue;
              if (dist[w] == std::numeric_limits<double>::infinity()) touched.push_back(w);
              dist[w] = nt;
              heap.push({nt, 0, w});
            }
          }
          for (uint32_t v : touched) dist[v] = std::numeric_limits<double>::infinity();
        }
        std::sort(list.begin(), list.end());
        per_nodes[j].resize(list.size());
        per_secs[j].resize(list.size());
        for (size_t i = 0; i < list.size(); ++i) {
          per_nodes[j][i] = list[i].first;
          per_secs[j][i] = list[i].second;
        }
      });
      progress.done();
    }
  }
  errors.rethrow_if_failed();
  throw_if_cancelled(control);  // after the parallel region: exceptions must not cross it
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
                                             double*, int32_t*, RunControl*);                               \
  template void k_nearest_source_search<Index>(const CsrGraph&, const Index*, size_t, int,                  \
                                               const GraphSearchOptions&, double*, int32_t*, RunControl*);  \
  template SourceReach bounded_search_per_source<Index>(const CsrGraph&, const Index*, size_t,              \
                                                        const GraphSearchOptions&, RunControl*);
CARESHED_INSTANTIATE(int32_t)
CARESHED_INSTANTIATE(int64_t)
CARESHED_INSTANTIATE(uint32_t)
#undef CARESHED_INSTANTIATE

}  // namespace careshed
