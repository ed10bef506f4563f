// cover_swap.hpp (private) — the maximal covering (MCLP) swap search with its gains kept up to date.
//
// Why: at 1 M demand x 10,000 candidates x 100 M covering pairs the rescanning swap (optimize.cpp's swap_counts)
// spends ~10,000 random reads of per-demand state on every candidate it tries, so one round of the iterated search
// (a few hundred candidates near its kicks) cost ~0.4 s. Here the swap's three quantities (Resende & Werneck 2007,
// "A fast swap-based local search procedure for location problems") are kept up to date as sites open and close:
//   gain[b]     weight of the uncovered demand candidate b covers (what opening b adds),
//   loss[a]     weight of the demand only the open site a covers (what closing a loses),
//   extra[a][b] weight of the demand only a covers that b covers too (what b saves of a's loss),
// so the change of objective of "close a, open b" is gain[b] - loss[a] + extra[a][b] for every pair at once: the
// best swap over the whole neighbourhood is one pass over a p x n_candidates table, and opening or closing a site
// touches only the demand whose cover count passes through 0 / 1 / 2, each with its (sorted, contiguous) list of
// covering candidates. extra is dense, one row per open site, so it needs p x n_candidates doubles: the caller
// decides whether that fits (cover_swap_table_bytes).
//
// Units: weights as given (population). Ownership: CoverLists are views of the caller's arrays, which must outlive
// the search. Thread-safety: a CoverSwap is used by one thread at a time; cover_search runs its chains on up to two
// OpenMP threads, each with its own CoverSwap, and its answer does not depend on the number of threads. Errors:
// std::logic_error on misuse (opening an open site, more open sites than slots); whatever `poll` throws
// (cancellation) is carried out of the threads and rethrown.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace careshed::detail {

/// splitmix64: a small deterministic stream for picking kicks (uniform enough for that), shared by the iterated
/// searches here and in optimize.cpp. next(n) is in [0, n), n > 0.
struct KickRng {
  std::uint64_t s;
  std::uint64_t operator()(std::uint64_t n) {
    std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (z ^ (z >> 31)) % n;
  }
};

/// Covering pairs both ways (views of the caller's arrays). Demand with weight 0 may be listed (it changes nothing).
struct CoverLists {
  std::int32_t nd = 0, nc = 0;
  const std::int64_t* cov_off = nullptr;    ///< nc + 1: candidate j covers cov_dem[cov_off[j] .. cov_off[j + 1])
  const std::int32_t* cov_dem = nullptr;
  const std::int64_t* dcov_off = nullptr;   ///< nd + 1: demand i is covered by dcov_cand[dcov_off[i] .. [i + 1])
  const std::int32_t* dcov_cand = nullptr;
  const double* w = nullptr;                ///< nd weights, >= 0
};

/// Bytes of one CoverSwap's tables besides its per-demand arrays (8 bytes per demand): the dense extra table.
double cover_swap_table_bytes(std::int32_t max_open, std::int32_t n_candidates);

/// Open sites and the swap bookkeeping above, updated by open() and close().
class CoverSwap {
 public:
  CoverSwap(const CoverLists& lists, std::int32_t max_open);

  void open(std::int32_t j);   ///< j must be closed and fewer than max_open sites open
  void close(std::int32_t j);  ///< j must be open
  /// close(out) then open(in) in one pass over both lists: demand both cover keeps its count, and when `out` was
  /// its only cover `in` inherits out's row, so the shared demand of neighbouring sites (most of a kick's or a
  /// local move's) costs nothing.
  void swap(std::int32_t out, std::int32_t in);
  bool is_open(std::int32_t j) const { return slot_[std::size_t(j)] >= 0; }
  std::int32_t n_open() const { return n_open_; }
  double objective() const { return obj_; }  ///< covered weight (kept up to date, not re-summed)
  std::vector<std::int32_t> open_sites() const;  ///< ascending

  double gain(std::int32_t b) const { return gain_[std::size_t(b)]; }
  double loss(std::int32_t a) const;                   ///< a open
  double extra(std::int32_t a, std::int32_t b) const;  ///< a open
  std::int32_t count(std::int32_t i) const { return count_[std::size_t(i)]; }  ///< open sites covering demand i

  struct Move {
    std::int32_t out = -1, in = -1;
    double delta = 0.0;  ///< change of the objective
  };
  /// The swap (close an open site with may_close, open a closed one with may_open) raising the objective most;
  /// ties: lowest `in`, then lowest `out`. out = -1 when there is no pair.
  Move best_swap(const std::vector<char>& may_close, const std::vector<char>& may_open) const;
  /// Swaps to the set `sites` (as many sites as are open now), closing and opening in ascending pairs.
  void move_to(const std::vector<std::int32_t>& sites);

 private:
  CoverLists L_;
  std::int32_t max_open_ = 0, n_open_ = 0;
  double obj_ = 0.0;
  std::vector<std::int32_t> count_;   // per demand: open sites covering it
  std::vector<std::int32_t> owner_;   // per demand: XOR of the open sites covering it (= the one when count is 1)
  std::vector<std::int32_t> slot_;    // per candidate: its row in loss_ / extra_, -1 closed
  std::vector<std::int32_t> site_;    // per slot: its site, -1 free
  std::vector<std::int32_t> free_;    // free slots (a stack)
  std::vector<double> gain_;          // per candidate
  std::vector<double> loss_;          // per slot
  std::vector<double> extra_;         // per slot x candidate
};

struct CoverSearchOptions {
  std::int32_t max_open = -1;  ///< greedy first: open the candidate adding most (ties lowest index) until this many
                               ///< sites are open or none adds more than the tolerance; -1 = start's size, no greedy
  std::int64_t rounds = 0;     ///< iterated rounds (kicks + local search) per chain; 0 = the local search only
  int chains = 2;              ///< independent kick sequences (one per thread when there are two)
  std::int64_t epoch = 16;     ///< rounds after which every chain continues from the best set found so far
  std::uint64_t seed = 0x9e3779b97f4a7c15ull;
  double rel_tol = 1e-9;       ///< improvements must exceed rel_tol x max(1, objective)
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  std::function<void()> poll;  ///< called often from the worker threads; throws to cancel (may be empty)
  bool threads = true;         ///< run the chains on two threads when OpenMP has them
};

struct CoverSearchResult {
  std::vector<std::int32_t> sites;  ///< ascending
  double objective = 0.0;           ///< covered weight (incremental sum: the caller re-evaluates)
  std::int64_t rounds = 0;          ///< rounds run, all chains
  std::int64_t moves = 0;           ///< swaps applied by the local searches (improving moves)
  bool cut = false;                 ///< the deadline stopped it before its rounds were done
};

/// From the set `start` (and the greedy up to max_open sites): the best-improvement swap local search to a local optimum (whole neighbourhood), then
/// `rounds` iterated rounds per chain: 1-3 random kicks (an open site moves to a random candidate covering some
/// demand it covers), the local search again, kept only when strictly better than the chain's best, else back to
/// it. Every `epoch` rounds all chains continue from the best set any of them found (ties: lowest chain).
/// Deterministic for a seed: rounds are counted, not timed, unless the deadline cuts them (then .cut).
CoverSearchResult cover_search(const CoverLists& lists, const std::vector<char>& may_close,
                               const std::vector<char>& may_open, const std::vector<std::int32_t>& start,
                               const CoverSearchOptions& options);

}  // namespace careshed::detail
