// cover_swap.cpp — the MCLP swap search with incremental gains (see cover_swap.hpp for why and how).
#include "cover_swap.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>

#include "parallel_errors.hpp"

#ifdef CARESHED_HAVE_OPENMP
#include <omp.h>
#endif

namespace careshed::detail {
namespace {

constexpr double kNegInf = -std::numeric_limits<double>::infinity();

}  // namespace

double cover_swap_table_bytes(std::int32_t max_open, std::int32_t n_candidates) {
  return 8.0 * double(std::max(max_open, 0)) * double(std::max(n_candidates, 0));
}

CoverSwap::CoverSwap(const CoverLists& lists, std::int32_t max_open)
    : L_(lists),
      max_open_(std::max(max_open, 0)),
      count_(std::size_t(lists.nd), 0),
      owner_(std::size_t(lists.nd), 0),
      slot_(std::size_t(lists.nc), -1),
      site_(std::size_t(max_open_), -1),
      gain_(std::size_t(lists.nc), 0.0),
      loss_(std::size_t(max_open_), 0.0),
      extra_(std::size_t(max_open_) * std::size_t(lists.nc), 0.0) {
  for (std::int32_t s = max_open_ - 1; s >= 0; --s) free_.push_back(s);  // slot 0 is taken first
  for (std::int32_t j = 0; j < L_.nc; ++j) {
    double g = 0.0;
    for (std::int64_t k = L_.cov_off[j]; k < L_.cov_off[j + 1]; ++k) g += L_.w[L_.cov_dem[k]];
    gain_[std::size_t(j)] = g;
  }
}

double CoverSwap::loss(std::int32_t a) const {
  if (!is_open(a)) throw std::logic_error("CoverSwap::loss: site " + std::to_string(a) + " is not open");
  return loss_[std::size_t(slot_[std::size_t(a)])];
}

double CoverSwap::extra(std::int32_t a, std::int32_t b) const {
  if (!is_open(a)) throw std::logic_error("CoverSwap::extra: site " + std::to_string(a) + " is not open");
  return extra_[std::size_t(slot_[std::size_t(a)]) * std::size_t(L_.nc) + std::size_t(b)];
}

std::vector<std::int32_t> CoverSwap::open_sites() const {
  std::vector<std::int32_t> out;
  out.reserve(std::size_t(n_open_));
  for (std::int32_t j = 0; j < L_.nc; ++j) {
    if (slot_[std::size_t(j)] >= 0) out.push_back(j);
  }
  return out;
}

void CoverSwap::open(std::int32_t j) {
  if (is_open(j)) throw std::logic_error("CoverSwap::open: site " + std::to_string(j) + " is already open");
  if (free_.empty()) throw std::logic_error("CoverSwap::open: more than " + std::to_string(max_open_) + " open sites");
  const std::int32_t s = free_.back();
  free_.pop_back();
  slot_[std::size_t(j)] = s;
  site_[std::size_t(s)] = j;
  ++n_open_;
  const std::size_t nc = std::size_t(L_.nc);
  double* const row = extra_.data() + std::size_t(s) * nc;
  double* const gain = gain_.data();
  double lost = 0.0;
  for (std::int64_t k = L_.cov_off[j]; k < L_.cov_off[j + 1]; ++k) {
    const std::int32_t i = L_.cov_dem[k];
    const double wi = L_.w[i];
    const std::int32_t c = count_[std::size_t(i)];
    count_[std::size_t(i)] = c + 1;
    if (wi > 0.0 && c <= 1) {
      const std::int32_t* m = L_.dcov_cand + L_.dcov_off[i];
      const std::int32_t* const m_end = L_.dcov_cand + L_.dcov_off[i + 1];
      if (c == 0) {  // newly covered, by j alone: nobody gains it any more; j loses it when closed, b saves it
        obj_ += wi;
        lost += wi;
        for (; m < m_end; ++m) gain[*m] -= wi, row[*m] += wi;
      } else {  // its one owner o shares it now: o no longer loses it, nor does any b save it for o
        const std::size_t o = std::size_t(slot_[std::size_t(owner_[std::size_t(i)])]);
        loss_[o] -= wi;
        double* const orow = extra_.data() + o * nc;
        for (; m < m_end; ++m) orow[*m] -= wi;
      }
    }
    owner_[std::size_t(i)] ^= j;
  }
  loss_[std::size_t(s)] = lost;
}

void CoverSwap::close(std::int32_t j) {
  if (!is_open(j)) throw std::logic_error("CoverSwap::close: site " + std::to_string(j) + " is not open");
  const std::int32_t s = slot_[std::size_t(j)];
  const std::size_t nc = std::size_t(L_.nc);
  double* const gain = gain_.data();
  for (std::int64_t k = L_.cov_off[j]; k < L_.cov_off[j + 1]; ++k) {
    const std::int32_t i = L_.cov_dem[k];
    const double wi = L_.w[i];
    const std::int32_t c = count_[std::size_t(i)];
    count_[std::size_t(i)] = c - 1;
    owner_[std::size_t(i)] ^= j;
    if (wi > 0.0 && (c == 1 || c == 2)) {
      const std::int32_t* m = L_.dcov_cand + L_.dcov_off[i];
      const std::int32_t* const m_end = L_.dcov_cand + L_.dcov_off[i + 1];
      if (c == 1) {  // uncovered again: every candidate covering it gains it (j's own row is cleared below)
        obj_ -= wi;
        for (; m < m_end; ++m) gain[*m] += wi;
      } else {  // the other site covering it owns it alone now
        const std::size_t o = std::size_t(slot_[std::size_t(owner_[std::size_t(i)])]);
        loss_[o] += wi;
        double* const orow = extra_.data() + o * nc;
        for (; m < m_end; ++m) orow[*m] += wi;
      }
    }
  }
  std::fill(extra_.begin() + std::ptrdiff_t(std::size_t(s) * nc), extra_.begin() + std::ptrdiff_t(std::size_t(s + 1) * nc),
            0.0);
  loss_[std::size_t(s)] = 0.0;
  site_[std::size_t(s)] = -1;
  slot_[std::size_t(j)] = -1;
  free_.push_back(s);
  --n_open_;
}

void CoverSwap::swap(std::int32_t a, std::int32_t b) {
  if (!is_open(a)) throw std::logic_error("CoverSwap::swap: site " + std::to_string(a) + " is not open");
  if (is_open(b)) throw std::logic_error("CoverSwap::swap: site " + std::to_string(b) + " is already open");
  const std::int32_t s = slot_[std::size_t(a)];  // b takes a's slot: its row, where b inherits what a owned
  slot_[std::size_t(a)] = -1;
  slot_[std::size_t(b)] = s;
  site_[std::size_t(s)] = b;
  const std::size_t nc = std::size_t(L_.nc);
  double* const row = extra_.data() + std::size_t(s) * nc;
  double* const gain = gain_.data();
  std::int64_t ka = L_.cov_off[a], kb = L_.cov_off[b];
  const std::int64_t ea = L_.cov_off[a + 1], eb = L_.cov_off[b + 1];
  constexpr std::int32_t kEnd = std::numeric_limits<std::int32_t>::max();
  while (ka < ea || kb < eb) {
    const std::int32_t ia = ka < ea ? L_.cov_dem[ka] : kEnd, ib = kb < eb ? L_.cov_dem[kb] : kEnd;
    if (ia == ib) {  // covered by both: same count; when a was its only cover, b owns it in the same row
      owner_[std::size_t(ia)] ^= a ^ b;
      ++ka, ++kb;
      continue;
    }
    const bool drop = ia < ib;
    const std::int32_t i = drop ? ia : ib;
    drop ? ++ka : ++kb;
    const double wi = L_.w[i];
    const std::int32_t c = count_[std::size_t(i)];
    count_[std::size_t(i)] = drop ? c - 1 : c + 1;
    if (drop) owner_[std::size_t(i)] ^= a;
    const std::int32_t* m = L_.dcov_cand + L_.dcov_off[i];
    const std::int32_t* const m_end = L_.dcov_cand + L_.dcov_off[i + 1];
    if (wi > 0.0) {
      if (drop && c == 1) {  // a covered it alone: uncovered now
        obj_ -= wi;
        loss_[std::size_t(s)] -= wi;
        for (; m < m_end; ++m) gain[*m] += wi, row[*m] -= wi;
      } else if (!drop && c == 0) {  // newly covered by b alone
        obj_ += wi;
        loss_[std::size_t(s)] += wi;
        for (; m < m_end; ++m) gain[*m] -= wi, row[*m] += wi;
      } else if ((drop && c == 2) || (!drop && c == 1)) {  // one other cover o: it owns i alone now / no longer
        const std::size_t o = std::size_t(slot_[std::size_t(owner_[std::size_t(i)])]);
        const double sw = drop ? wi : -wi;
        loss_[o] += sw;
        double* const orow = extra_.data() + o * nc;
        for (; m < m_end; ++m) orow[*m] += sw;
      }
    }
    if (!drop) owner_[std::size_t(i)] ^= b;
  }
}

CoverSwap::Move CoverSwap::best_swap(const std::vector<char>& may_close, const std::vector<char>& may_open) const {
  const std::size_t nc = std::size_t(L_.nc);
  std::vector<double> g(nc);
  for (std::size_t b = 0; b < nc; ++b) g[b] = may_open[b] && slot_[b] < 0 ? gain_[b] : kNegInf;
  Move best;
  best.delta = kNegInf;
  for (std::int32_t s = 0; s < max_open_; ++s) {
    const std::int32_t a = site_[std::size_t(s)];
    if (a < 0 || !may_close[std::size_t(a)]) continue;
    const double* const row = extra_.data() + std::size_t(s) * nc;
    double m = kNegInf;
    std::int32_t bm = -1;
    for (std::size_t b = 0; b < nc; ++b) {
      const double v = g[b] + row[b];
      if (v > m) m = v, bm = std::int32_t(b);  // strict: the lowest b of the row's best
    }
    if (bm < 0) continue;
    const double d = m - loss_[std::size_t(s)];
    if (d > best.delta || (d == best.delta && (bm < best.in || (bm == best.in && a < best.out)))) {
      best.out = a, best.in = bm, best.delta = d;
    }
  }
  if (best.out < 0) best.delta = 0.0;
  return best;
}

void CoverSwap::move_to(const std::vector<std::int32_t>& sites) {
  std::vector<char> want(std::size_t(L_.nc), 0);
  for (std::int32_t j : sites) want[std::size_t(j)] = 1;
  std::vector<std::int32_t> out, in;
  for (std::int32_t j = 0; j < L_.nc; ++j) {
    if (is_open(j) && !want[std::size_t(j)]) out.push_back(j);
    if (!is_open(j) && want[std::size_t(j)]) in.push_back(j);
  }
  if (out.size() != in.size()) throw std::logic_error("CoverSwap::move_to: the target set has another size");
  for (std::size_t k = 0; k < out.size(); ++k) swap(out[k], in[k]);
}

CoverSearchResult cover_search(const CoverLists& lists, const std::vector<char>& may_close,
                               const std::vector<char>& may_open, const std::vector<std::int32_t>& start,
                               const CoverSearchOptions& o) {
  using Clock = std::chrono::steady_clock;
  CoverSearchResult r;
  auto tol = [&](double obj) { return o.rel_tol * std::max(1.0, std::fabs(obj)); };
  auto poll = [&]() {
    if (o.poll) o.poll();
  };
  // The best-improvement swap to a local optimum; false when the deadline stopped it.
  auto local_search = [&](CoverSwap& S, std::int64_t& moves, const std::vector<char>& opening) {
    for (;;) {
      poll();
      if (Clock::now() > o.deadline) return false;
      const CoverSwap::Move m = S.best_swap(may_close, opening);
      if (m.out < 0 || !(m.delta > tol(S.objective()))) return true;
      S.swap(m.out, m.in);
      ++moves;
    }
  };
  const int n_chains = std::max(1, o.chains);
  std::vector<std::unique_ptr<CoverSwap>> S;
  const std::int32_t max_open = std::max(o.max_open, std::int32_t(start.size()));
  S.push_back(std::make_unique<CoverSwap>(lists, max_open));
  for (std::int32_t j : start) S[0]->open(j);
  // The greedy on the kept gains: each step one pass over the candidates and one open (what the lazy greedy's
  // first evaluation of every candidate, a pass over all pairs, costs many times over at scale).
  while (S[0]->n_open() < max_open) {
    poll();
    std::int32_t best_b = -1;
    for (std::int32_t b = 0; b < lists.nc; ++b) {
      if (may_open[std::size_t(b)] && !S[0]->is_open(b) && (best_b < 0 || S[0]->gain(b) > S[0]->gain(best_b))) best_b = b;
    }
    if (best_b < 0 || !(S[0]->gain(best_b) > tol(S[0]->objective()))) break;
    S[0]->open(best_b);
  }
  r.cut = !local_search(*S[0], r.moves, may_open);
  if (o.rounds <= 0 || r.cut) {
    r.sites = S[0]->open_sites();
    r.objective = S[0]->objective();
    return r;
  }
  for (int c = 1; c < n_chains; ++c) S.push_back(std::make_unique<CoverSwap>(*S[0]));
  // Each chain's best state, copied back when a round fails (one copy of the tables: cheaper than swapping back
  // the kicks and the moves that followed them, each a pass over the demand of two sites).
  std::vector<std::unique_ptr<CoverSwap>> saved;
  for (int c = 0; c < n_chains; ++c) saved.push_back(std::make_unique<CoverSwap>(*S[0]));
  std::vector<std::vector<std::int32_t>> best(std::size_t(n_chains), S[0]->open_sites());
  std::vector<double> best_obj(std::size_t(n_chains), S[0]->objective());
  std::vector<KickRng> rng;
  for (int c = 0; c < n_chains; ++c) rng.push_back(KickRng{o.seed + 0x632be59bd9b4e019ull * std::uint64_t(c + 1)});
  std::vector<std::int64_t> done(std::size_t(n_chains), 0), moves(std::size_t(n_chains), 0);
  std::vector<char> cut(std::size_t(n_chains), 0);

  // One round of chain c: kicks, local search, keep or go back.
  auto round = [&](int c) {
    CoverSwap& T = *S[std::size_t(c)];
    std::vector<std::int32_t> movable;
    for (std::int32_t j : best[std::size_t(c)]) {
      if (may_close[std::size_t(j)]) movable.push_back(j);
    }
    if (movable.empty()) return false;
    KickRng& next = rng[std::size_t(c)];
    // The sites a kick moves away stay closed for the rest of the round: the best swap after a kick is often
    // the kick undone (back to the same local optimum); this way the round ends elsewhere or is dropped.
    std::vector<char> opening = may_open;
    const int kicks = 1 + int(done[std::size_t(c)] % 3);
    for (int k = 0; k < kicks; ++k) {
      const std::int32_t a = movable[next(movable.size())];
      const std::int64_t n_a = lists.cov_off[a + 1] - lists.cov_off[a];
      if (!T.is_open(a) || n_a == 0) continue;
      const std::int32_t i = lists.cov_dem[lists.cov_off[a] + std::int64_t(next(std::uint64_t(n_a)))];
      const std::int64_t n_i = lists.dcov_off[i + 1] - lists.dcov_off[i];
      const std::int32_t b = lists.dcov_cand[lists.dcov_off[i] + std::int64_t(next(std::uint64_t(n_i)))];
      if (b == a || T.is_open(b) || !opening[std::size_t(b)]) continue;
      T.swap(a, b);
      opening[std::size_t(a)] = 0;
    }
    if (!local_search(T, moves[std::size_t(c)], opening)) cut[std::size_t(c)] = 1;
    std::vector<std::int32_t> now = T.open_sites();
    if (!cut[std::size_t(c)] && T.objective() > best_obj[std::size_t(c)] + tol(best_obj[std::size_t(c)])) {
      best[std::size_t(c)] = std::move(now);
      best_obj[std::size_t(c)] = T.objective();
      *saved[std::size_t(c)] = T;
    } else if (now != best[std::size_t(c)]) {
      T = *saved[std::size_t(c)];
    }
    ++done[std::size_t(c)];
    return !cut[std::size_t(c)];
  };

  int n_threads = 1;
#ifdef CARESHED_HAVE_OPENMP
  if (o.threads) n_threads = std::min(n_chains, std::min(2, std::max(1, omp_get_max_threads())));
#endif
  int leader = 0;
  bool stop = false;
  for (std::int64_t from = 0; from < o.rounds && !stop; from += o.epoch) {
    const std::int64_t n = std::min(std::max<std::int64_t>(o.epoch, 1), o.rounds - from);
    for (int c = 0; c < n_chains; ++c) {  // every chain continues from the best set found so far
      if (c == leader || best[std::size_t(c)] == best[std::size_t(leader)]) continue;
      *S[std::size_t(c)] = *saved[std::size_t(leader)];
      *saved[std::size_t(c)] = *saved[std::size_t(leader)];
      best[std::size_t(c)] = best[std::size_t(leader)];
      best_obj[std::size_t(c)] = best_obj[std::size_t(leader)];
    }
    FirstException errors;
#ifdef CARESHED_HAVE_OPENMP
#pragma omp parallel for schedule(static, 1) num_threads(n_threads) if (n_threads > 1)
#endif
    for (int c = 0; c < n_chains; ++c) {
      errors.run([&] {
        for (std::int64_t t = 0; t < n; ++t) {
          if (Clock::now() > o.deadline) {
            cut[std::size_t(c)] = 1;
            break;
          }
          if (!round(c)) break;
        }
      });
    }
    errors.rethrow_if_failed();
    for (int c = 0; c < n_chains; ++c) {
      if (best_obj[std::size_t(c)] > best_obj[std::size_t(leader)] + tol(best_obj[std::size_t(leader)])) leader = c;
      stop = stop || cut[std::size_t(c)];
    }
  }
  for (int c = 0; c < n_chains; ++c) {
    r.rounds += done[std::size_t(c)];
    r.moves += moves[std::size_t(c)];
    r.cut = r.cut || cut[std::size_t(c)];
  }
  // The rounds' searches kept their kicked-out sites closed: one unrestricted swap search makes the best set a
  // local optimum of the whole neighbourhood again.
  CoverSwap& L = *saved[std::size_t(leader)];
  if (!r.cut) r.cut = !local_search(L, r.moves, may_open);
  r.sites = L.open_sites();
  r.objective = L.objective();
  return r;
}

}  // namespace careshed::detail
