// Tests of core/src/cover_swap.cpp: the MCLP swap search's incremental gain / loss / extra tables against a
// from-scratch recomputation, its best swap against trying every swap, and the search's answers (local optima,
// deterministic for a seed and independent of the thread count, fixed / forbidden sites respected, cancellable).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <iostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "cover_swap.hpp"
#include "test_seed.hpp"

namespace {

using careshed_test::fresh_or_replayed_seed;

using careshed::detail::CoverLists;
using careshed::detail::CoverSearchOptions;
using careshed::detail::CoverSwap;

/// A random covering instance, both ways, with integer weights (so that every sum is exact and ties are ties).
struct Instance {
  std::int32_t nd = 0, nc = 0;
  std::vector<std::int64_t> cov_off, dcov_off;
  std::vector<std::int32_t> cov_dem, dcov_cand;
  std::vector<double> w;
  CoverLists lists() const {
    CoverLists L;
    L.nd = nd, L.nc = nc;
    L.cov_off = cov_off.data(), L.cov_dem = cov_dem.data();
    L.dcov_off = dcov_off.data(), L.dcov_cand = dcov_cand.data();
    L.w = w.data();
    return L;
  }
};

/// Demand on a line, each candidate covering a random window of it (neighbouring candidates overlap, as discs do),
/// some candidates covering nothing, some demand weight 0.
Instance random_instance(std::mt19937_64& rng, std::int32_t nd, std::int32_t nc, std::int32_t max_width) {
  Instance I;
  I.nd = nd, I.nc = nc;
  std::uniform_int_distribution<int> wdist(0, 9);
  for (std::int32_t i = 0; i < nd; ++i) I.w.push_back(double(wdist(rng) == 0 ? 0 : wdist(rng) + 1));
  std::vector<std::vector<std::int32_t>> by_dem(static_cast<std::size_t>(nd));
  I.cov_off.push_back(0);
  std::uniform_int_distribution<std::int32_t> centre(0, nd - 1), width(0, max_width);
  for (std::int32_t j = 0; j < nc; ++j) {
    const std::int32_t c = centre(rng), h = (j % 7 == 3) ? -1 : width(rng);
    for (std::int32_t i = std::max(0, c - h); i <= std::min(nd - 1, c + h); ++i) {
      if (rng() % 5 == 0) continue;  // holes: not every demand in the window is within the standard
      I.cov_dem.push_back(i);
      by_dem[static_cast<std::size_t>(i)].push_back(j);
    }
    I.cov_off.push_back(std::int64_t(I.cov_dem.size()));
  }
  I.dcov_off.push_back(0);
  for (const auto& l : by_dem) {
    I.dcov_cand.insert(I.dcov_cand.end(), l.begin(), l.end());
    I.dcov_off.push_back(std::int64_t(I.dcov_cand.size()));
  }
  return I;
}

/// Covered weight of a set of sites, from scratch.
double covered(const Instance& I, const std::vector<char>& open) {
  std::vector<char> cov(static_cast<std::size_t>(I.nd), 0);
  for (std::int32_t j = 0; j < I.nc; ++j) {
    if (!open[std::size_t(j)]) continue;
    for (std::int64_t k = I.cov_off[j]; k < I.cov_off[j + 1]; ++k) cov[std::size_t(I.cov_dem[k])] = 1;
  }
  double s = 0.0;
  for (std::int32_t i = 0; i < I.nd; ++i) s += cov[std::size_t(i)] ? I.w[std::size_t(i)] : 0.0;
  return s;
}

/// Checks every table of S against its definition, recomputed from the open set.
void expect_tables_recomputed(const Instance& I, const CoverSwap& S) {
  std::vector<char> open(std::size_t(I.nc), 0);
  for (std::int32_t j : S.open_sites()) open[std::size_t(j)] = 1;
  std::vector<std::int32_t> count(std::size_t(I.nd), 0), owner(std::size_t(I.nd), -1);
  for (std::int32_t j = 0; j < I.nc; ++j) {
    if (!open[std::size_t(j)]) continue;
    for (std::int64_t k = I.cov_off[j]; k < I.cov_off[j + 1]; ++k) {
      ++count[std::size_t(I.cov_dem[k])];
      owner[std::size_t(I.cov_dem[k])] = j;
    }
  }
  ASSERT_EQ(S.objective(), covered(I, open));
  for (std::int32_t i = 0; i < I.nd; ++i) ASSERT_EQ(S.count(i), count[std::size_t(i)]) << "demand " << i;
  for (std::int32_t b = 0; b < I.nc; ++b) {
    double gain = 0.0;
    for (std::int64_t k = I.cov_off[b]; k < I.cov_off[b + 1]; ++k) {
      const std::int32_t i = I.cov_dem[k];
      if (count[std::size_t(i)] == 0) gain += I.w[std::size_t(i)];
    }
    ASSERT_EQ(S.gain(b), gain) << "gain of candidate " << b;
  }
  for (std::int32_t a = 0; a < I.nc; ++a) {
    if (!open[std::size_t(a)]) continue;
    double loss = 0.0;
    std::vector<double> extra(std::size_t(I.nc), 0.0);
    for (std::int64_t k = I.cov_off[a]; k < I.cov_off[a + 1]; ++k) {
      const std::int32_t i = I.cov_dem[k];
      if (count[std::size_t(i)] != 1) continue;
      loss += I.w[std::size_t(i)];
      for (std::int64_t m = I.dcov_off[i]; m < I.dcov_off[i + 1]; ++m) extra[std::size_t(I.dcov_cand[m])] += I.w[std::size_t(i)];
    }
    ASSERT_EQ(S.loss(a), loss) << "loss of open site " << a;
    for (std::int32_t b = 0; b < I.nc; ++b) ASSERT_EQ(S.extra(a, b), extra[std::size_t(b)]) << "extra " << a << ", " << b;
  }
}

/// The best swap by trying each one (objective recomputed), ties lowest in, then lowest out.
CoverSwap::Move best_swap_by_trying(const Instance& I, const CoverSwap& S, const std::vector<char>& may_close,
                                    const std::vector<char>& may_open) {
  std::vector<char> open(std::size_t(I.nc), 0);
  for (std::int32_t j : S.open_sites()) open[std::size_t(j)] = 1;
  const double base = covered(I, open);
  CoverSwap::Move best;
  bool any = false;
  for (std::int32_t b = 0; b < I.nc; ++b) {
    if (open[std::size_t(b)] || !may_open[std::size_t(b)]) continue;
    for (std::int32_t a = 0; a < I.nc; ++a) {
      if (!open[std::size_t(a)] || !may_close[std::size_t(a)]) continue;
      open[std::size_t(a)] = 0, open[std::size_t(b)] = 1;
      const double d = covered(I, open) - base;
      open[std::size_t(a)] = 1, open[std::size_t(b)] = 0;
      if (!any || d > best.delta) best.out = a, best.in = b, best.delta = d, any = true;  // b, a ascending: first wins ties
    }
  }
  return best;
}

TEST(CoverSwapOracle, IncrementalTablesEqualARecomputationAfterEveryMove) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Instance I = random_instance(rng, 60 + 20 * (round % 4), 12 + 3 * (round % 5), 3 + round % 9);
    const std::int32_t p = 2 + round % 5;
    CoverSwap S(I.lists(), p);
    std::vector<char> may_close(std::size_t(I.nc), 1), may_open(std::size_t(I.nc), 1);
    may_close[0] = 0;       // a fixed site (when open)
    may_open[std::size_t(I.nc - 1)] = 0;  // a forbidden one
    expect_tables_recomputed(I, S);
    for (int step = 0; step < 40; ++step) {
      SCOPED_TRACE("step " + std::to_string(step));
      const std::int32_t j = std::int32_t(rng() % std::uint64_t(I.nc));
      if (S.is_open(j) && step % 4 != 1) {
        S.close(j);
      } else if (S.is_open(j)) {  // a random swap, one pass over both lists
        std::int32_t b = std::int32_t(rng() % std::uint64_t(I.nc));
        while (S.is_open(b)) b = (b + 1) % I.nc;
        S.swap(j, b);
      } else if (S.n_open() < p) {
        S.open(j);
      } else {
        const CoverSwap::Move m = S.best_swap(may_close, may_open);
        const CoverSwap::Move t = best_swap_by_trying(I, S, may_close, may_open);
        ASSERT_EQ(m.out, t.out);
        ASSERT_EQ(m.in, t.in);
        ASSERT_EQ(m.delta, t.delta);
        if (m.out >= 0) {
          const double before = S.objective();
          if (step % 2) {
            S.swap(m.out, m.in);
          } else {
            S.close(m.out);
            S.open(m.in);
          }
          ASSERT_EQ(S.objective(), before + m.delta);
        }
      }
      expect_tables_recomputed(I, S);
      if (::testing::Test::HasFatalFailure()) return;
    }
    // move_to another set of the same size, then back
    const std::vector<std::int32_t> here = S.open_sites();
    std::vector<std::int32_t> there;
    for (std::int32_t j = I.nc - 1; j >= 0 && there.size() < here.size(); --j) there.push_back(j);
    std::sort(there.begin(), there.end());
    S.move_to(there);
    ASSERT_EQ(S.open_sites(), there);
    expect_tables_recomputed(I, S);
    S.move_to(here);
    ASSERT_EQ(S.open_sites(), here);
    expect_tables_recomputed(I, S);
  }
}

TEST(CoverSwap, MisuseIsALogicError) {
  std::mt19937_64 rng(7);
  const Instance I = random_instance(rng, 30, 6, 4);
  CoverSwap S(I.lists(), 1);
  S.open(2);
  EXPECT_THROW(S.open(2), std::logic_error);
  EXPECT_THROW(S.open(3), std::logic_error);  // one slot only
  EXPECT_THROW(S.close(4), std::logic_error);
  EXPECT_THROW(S.move_to({1, 3}), std::logic_error);
  EXPECT_THROW(S.swap(3, 4), std::logic_error);  // 3 is not open
  EXPECT_THROW(S.swap(2, 2), std::logic_error);  // 2 is open
}

TEST(CoverSwapOracle, SearchEndsAtALocalOptimumDeterministicallyOnOneOrTwoThreads) {
  const std::uint64_t seed = fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  int improved = 0;
  for (int round = 0; round < 8; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const Instance I = random_instance(rng, 300, 40, 20 + 5 * (round % 5));  // heavy overlap: weak local optima
    const std::int32_t p = 3 + round % 4;
    std::vector<char> may_close(std::size_t(I.nc), 1), may_open(std::size_t(I.nc), 1);
    may_close[5] = 0;   // fixed: in the start set, must stay
    may_open[7] = 0;    // forbidden: never opened
    std::vector<std::int32_t> start{5};  // the greedy (max_open) adds the rest
    CoverSearchOptions o;
    o.max_open = p;
    o.rounds = 0;
    const auto ls = careshed::detail::cover_search(I.lists(), may_close, may_open, start, o);
    o.rounds = 30;
    o.epoch = 4;
    o.seed = seed + std::uint64_t(round);
    const auto a = careshed::detail::cover_search(I.lists(), may_close, may_open, start, o);
    o.threads = false;
    const auto b = careshed::detail::cover_search(I.lists(), may_close, may_open, start, o);
    EXPECT_EQ(a.sites, b.sites) << "the answer depends on the thread count";
    EXPECT_EQ(a.objective, b.objective);
    EXPECT_EQ(a.rounds, 2 * o.rounds) << "rounds are counted, two chains";
    EXPECT_FALSE(a.cut);
    for (const auto* r : {&ls, &a}) {
      ASSERT_LE(std::int32_t(r->sites.size()), p);
      EXPECT_TRUE(std::binary_search(r->sites.begin(), r->sites.end(), 5)) << "the fixed site was closed";
      EXPECT_FALSE(std::binary_search(r->sites.begin(), r->sites.end(), 7)) << "the forbidden site was opened";
      std::vector<char> open(std::size_t(I.nc), 0);
      for (std::int32_t j : r->sites) open[std::size_t(j)] = 1;
      EXPECT_EQ(r->objective, covered(I, open));
      CoverSwap S(I.lists(), p);
      for (std::int32_t j : r->sites) S.open(j);
      EXPECT_LE(best_swap_by_trying(I, S, may_close, may_open).delta, 0.0) << "not a local optimum";
      if (std::int32_t(r->sites.size()) < p) {  // the greedy stopped early: nothing left to add
        for (std::int32_t b = 0; b < I.nc; ++b) EXPECT_EQ(S.is_open(b) || !may_open[std::size_t(b)] ? 0.0 : S.gain(b), 0.0);
      }
    }
    EXPECT_GE(a.objective, ls.objective) << "the iterated search lost its starting local optimum";
    improved += a.objective > ls.objective;
  }
  std::cout << "iterated rounds beat the first local optimum in " << improved << " of 8 instances\n";
}

TEST(CoverSwap, CancellationInAChainIsRethrownAfterTheThreads) {
  std::mt19937_64 rng(11);
  const Instance I = random_instance(rng, 400, 50, 8);
  std::vector<char> all(std::size_t(I.nc), 1);
  CoverSearchOptions o;
  o.rounds = 1000;
  std::atomic<int> calls{0};
  o.poll = [&calls] {
    if (++calls > 20) throw std::runtime_error("cancelled");
  };
  EXPECT_THROW(careshed::detail::cover_search(I.lists(), all, all, {0, 1, 2, 3}, o), std::runtime_error);
}

}  // namespace
