// careshed/graph_search.hpp — multi-source shortest travel times on a directed road graph.
//
// The graph is a compact CSR (compressed sparse row) of directed edges with 32-bit node ids and a
// cost in SECONDS per edge. One Dijkstra search runs from all sources (facilities) at once and gives,
// for every node, the seconds to the nearest source and that source's index — never one search per
// facility. Conventions (see DESIGN.md):
//   * unreachable nodes (or beyond the cutoff): seconds = +inf, nearest = -1;
//   * the cutoff is inclusive: a node reached in exactly max_seconds is reached;
//   * ties go to the LOWEST source index: among sources reaching a node in exactly the same time the
//     lowest index wins (the search orders labels by (seconds, source index) lexicographically, which
//     keeps Dijkstra exact and the result independent of heap order);
//   * per-source offsets (dispatch / turnout seconds) start each source at its offset instead of 0;
//   * direction: a search on the graph gives times FROM the sources (ambulance to patient); on the
//     transposed graph (CsrGraph::transposed(), or building with tails/heads swapped) times TO the
//     sources (patient to hospital), which differ on one-way streets.
//   * a source listed twice (duplicate) is harmless: the lower (offset, index) wins.
//
// Costs must be finite and >= 0 (zero-cost edges, parallel edges and self loops are fine).
// Errors: careshed::InputError naming the argument, the offending index and the fix.
// Thread-safety: a CsrGraph is immutable after construction; any number of searches may run on it
// concurrently. The functions allocate their own scratch and hold no global state.
// Memory of one multi-source search: the outputs (12 bytes per node), 16 bytes per node of working
// labels, and a heap of 24-byte entries that holds about the search frontier.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace careshed {

/// One directed edge in CSR order: its head node and its cost in seconds. (Kept together so that a
/// search reads one cache line per node's edges instead of two arrays.)
struct Arc {
  double seconds;
  uint32_t head;
};

/// An owned array of arcs. Large arrays are backed by transparent huge pages where the OS allows it:
/// a search reads arcs in frontier order, all over the array, and with 4 KiB pages most of those reads
/// also miss the TLB (measured ~7 % of search time on 1 M nodes). Copyable and movable like a vector.
class ArcArray {
 public:
  ArcArray() = default;
  explicit ArcArray(size_t n);
  ArcArray(const ArcArray& o);
  ArcArray(ArcArray&& o) noexcept : data_(o.data_), size_(o.size_) { o.data_ = nullptr, o.size_ = 0; }
  ArcArray& operator=(ArcArray o) noexcept {
    std::swap(data_, o.data_);
    std::swap(size_, o.size_);
    return *this;
  }
  ~ArcArray();
  size_t size() const { return size_; }
  Arc* data() { return data_; }
  const Arc* data() const { return data_; }
  Arc& operator[](size_t i) { return data_[i]; }
  const Arc& operator[](size_t i) const { return data_[i]; }
  const Arc* begin() const { return data_; }
  const Arc* end() const { return data_ + size_; }

 private:
  Arc* data_ = nullptr;
  size_t size_ = 0;
};

/// Directed graph in CSR form: the edges leaving node v are arcs()[first()[v] .. first()[v+1]).
/// Limits: fewer than 2^31 - 1 nodes and fewer than 2^32 edges (32-bit ids and offsets keep the search's
/// working set small; a graph of that size would not fit this design's memory budget anyway).
class CsrGraph {
 public:
  CsrGraph() = default;

  /// Builds the CSR from an edge list: edge i goes tails[i] → heads[i] and costs seconds[i].
  /// Edges keep their input order within each tail (counting sort, O(n_nodes + n_edges)).
  /// Index type: int32_t, int64_t or uint32_t. Throws InputError on ids outside [0, n_nodes), costs
  /// that are negative, NaN or infinite, n_nodes >= 2^31 - 1 or n_edges >= 2^32.
  template <typename Index>
  static CsrGraph from_edges(int64_t n_nodes, const Index* tails, const Index* heads, const double* seconds,
                             size_t n_edges);

  /// The graph with every edge reversed (for times TO the sources).
  CsrGraph transposed() const;

  uint32_t n_nodes() const { return n_nodes_; }
  size_t n_edges() const { return arcs_.size(); }
  const std::vector<uint32_t>& first() const { return first_; }  ///< size n_nodes + 1
  const ArcArray& arcs() const { return arcs_; }                 ///< size n_edges

 private:
  uint32_t n_nodes_ = 0;
  std::vector<uint32_t> first_{0};
  ArcArray arcs_;
};

class RunControl;  // careshed/progress.hpp

/// Every search takes an optional trailing RunControl (careshed/progress.hpp): polled every 16384 heap
/// pops (per source for bounded_search_per_source); on request_cancel() the search throws
/// careshed::Cancelled and caller-owned outputs hold partial results (discard them).

/// Options shared by the searches. Pointers are borrowed for the call only.
struct GraphSearchOptions {
  /// Per-source start offsets in seconds (length = number of sources), or nullptr for all zero.
  /// Must be finite and >= 0.
  const double* source_offsets = nullptr;
  /// Inclusive cutoff in seconds: nodes farther are reported unreachable. +inf = no cutoff.
  double max_seconds = std::numeric_limits<double>::infinity();
};

/// One multi-source Dijkstra. sources[j] is a node id (int32/int64/uint32 accepted); results are
/// written to caller-owned arrays of length g.n_nodes(): out_seconds (seconds to the nearest source
/// including its offset, +inf if unreachable) and out_nearest (index j into `sources`, -1 if
/// unreachable). Throws InputError for out-of-range sources or bad offsets / cutoff.
template <typename Index>
void nearest_source_search(const CsrGraph& g, const Index* sources, size_t n_sources,
                           const GraphSearchOptions& options, double* out_seconds, int32_t* out_nearest,
                           RunControl* control = nullptr);

/// Convenience form returning vectors.
struct NearestSources {
  std::vector<double> seconds;   ///< per node, +inf unreachable
  std::vector<int32_t> nearest;  ///< per node, source index or -1
};
NearestSources nearest_source_search(const CsrGraph& g, const std::vector<uint32_t>& sources,
                                     const GraphSearchOptions& options = {}, RunControl* control = nullptr);

/// The k nearest DISTINCT sources per node (k small, e.g. 2 for backup coverage), in one search that
/// lets each node accept up to k labels from different sources. Outputs are row-major (n_nodes, k):
/// column 0 is the nearest (identical to nearest_source_search), column 1 the second nearest distinct
/// source, ...; ordered by (seconds, source index); missing entries are +inf / -1. A source listed
/// twice counts as two sources (two indices) even at the same node. Cost: about k times one search.
template <typename Index>
void k_nearest_source_search(const CsrGraph& g, const Index* sources, size_t n_sources, int k,
                             const GraphSearchOptions& options, double* out_seconds, int32_t* out_nearest,
                           RunControl* control = nullptr);

/// For every source separately, all nodes within max_seconds (inclusive, offset included), as sparse
/// lists in CSR form: the entries of source j are [list_first[j], list_first[j+1]) of nodes/seconds,
/// sorted by node id. Sources run in parallel (OpenMP when available), each thread with its own
/// scratch that is reset only where it was touched, so the cost follows what is reached.
/// max_seconds must be finite (an unbounded per-source search is n_sources full searches — almost
/// always a mistake; pass a large finite value if it is really meant).
struct SourceReach {
  std::vector<uint64_t> list_first;  ///< size n_sources + 1
  std::vector<uint32_t> nodes;
  std::vector<double> seconds;
};
template <typename Index>
SourceReach bounded_search_per_source(const CsrGraph& g, const Index* sources, size_t n_sources,
                                      const GraphSearchOptions& options, RunControl* control = nullptr);

}  // namespace careshed
