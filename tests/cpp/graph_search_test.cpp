// Multi-source graph search against a plain Dijkstra written here (one std::priority_queue search per
// source, then the (seconds, index)-smallest source per node), on random graphs with logged seeds:
// zero-cost edges, parallel edges, self loops, unreachable parts, duplicate sources, offsets, cutoff
// exactly at a node's time, reversed graphs. Integer-valued costs make exact ties frequent, so the
// lowest-index tie rule is exercised with exact arithmetic.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <queue>
#include <random>
#include <tuple>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

using careshed::CsrGraph;
using careshed::GraphSearchOptions;

namespace {
constexpr double kInf = std::numeric_limits<double>::infinity();

struct EdgeList {
  int n = 0;
  std::vector<int32_t> tails, heads;
  std::vector<double> seconds;
};

EdgeList random_graph(std::mt19937& rng, int n, int m, bool integer_costs) {
  EdgeList g;
  g.n = n;
  std::uniform_int_distribution<int> node(0, n - 1);
  std::uniform_int_distribution<int> icost(0, 5);  // includes zero-cost edges
  std::uniform_real_distribution<double> rcost(0.0, 10.0);
  // Nodes in the last fifth only have edges among themselves: an unreachable part for sources below.
  const int cut = n - n / 5;
  for (int i = 0; i < m; ++i) {
    int a = node(rng), b = node(rng);
    if ((a >= cut) != (b >= cut)) b = a;  // becomes a self loop
    g.tails.push_back(a);
    g.heads.push_back(b);
    g.seconds.push_back(integer_costs ? icost(rng) : rcost(rng));
    if (i % 7 == 0) {  // a parallel edge with another cost
      g.tails.push_back(a);
      g.heads.push_back(b);
      g.seconds.push_back(integer_costs ? icost(rng) : rcost(rng));
    }
  }
  return g;
}

// Plain single-source Dijkstra on the edge list (adjacency built here, independently of CsrGraph).
std::vector<double> oracle_single(const EdgeList& g, int source, double start, bool reverse) {
  std::vector<std::vector<std::pair<int, double>>> adj(g.n);
  for (size_t i = 0; i < g.tails.size(); ++i) {
    if (reverse) adj[g.heads[i]].push_back({g.tails[i], g.seconds[i]});
    else adj[g.tails[i]].push_back({g.heads[i], g.seconds[i]});
  }
  std::vector<double> d(g.n, kInf);
  using Item = std::pair<double, int>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
  d[source] = start;
  pq.push({start, source});
  while (!pq.empty()) {
    auto [t, v] = pq.top();
    pq.pop();
    if (t > d[v]) continue;
    for (auto [w, c] : adj[v])
      if (t + c < d[w]) {
        d[w] = t + c;
        pq.push({d[w], w});
      }
  }
  return d;
}

struct Oracle {
  std::vector<std::vector<double>> per_source;  // [j][v]
};

Oracle oracle_all(const EdgeList& g, const std::vector<int32_t>& sources, const std::vector<double>& offsets,
                  bool reverse) {
  Oracle o;
  for (size_t j = 0; j < sources.size(); ++j)
    o.per_source.push_back(oracle_single(g, sources[j], offsets.empty() ? 0.0 : offsets[j], reverse));
  return o;
}

void nearest_from_oracle(const Oracle& o, int n, double max_seconds, std::vector<double>& secs,
                         std::vector<int32_t>& idx) {
  secs.assign(n, kInf);
  idx.assign(n, -1);
  for (int v = 0; v < n; ++v)
    for (size_t j = 0; j < o.per_source.size(); ++j) {
      double t = o.per_source[j][v];
      if (t <= max_seconds && t < secs[v]) {  // strict: the earlier (lower) index keeps ties
        secs[v] = t;
        idx[v] = static_cast<int32_t>(j);
      }
    }
}

CsrGraph build(const EdgeList& g, bool reverse) {
  return reverse ? CsrGraph::from_edges(g.n, g.heads.data(), g.tails.data(), g.seconds.data(), g.tails.size())
                 : CsrGraph::from_edges(g.n, g.tails.data(), g.heads.data(), g.seconds.data(), g.tails.size());
}
}  // namespace

TEST(GraphSearch, RandomGraphsMatchPlainDijkstra) {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const bool integer_costs = seed % 2 == 0;
    const int n = 20 + static_cast<int>(rng() % 200);
    EdgeList g = random_graph(rng, n, n * 2 + static_cast<int>(rng() % (n * 2)), integer_costs);
    std::uniform_int_distribution<int> node(0, n - n / 5 - 1);
    std::vector<int32_t> sources;
    const int k = 1 + static_cast<int>(rng() % 6);
    for (int j = 0; j < k; ++j) sources.push_back(node(rng));
    sources.push_back(sources[0]);  // a duplicate source: the lower index must keep every tie
    std::vector<double> offsets;
    if (seed % 3 == 0)
      for (size_t j = 0; j < sources.size(); ++j) offsets.push_back(static_cast<double>(rng() % 4));
    const bool reverse = seed % 5 == 0;
    Oracle o = oracle_all(g, sources, offsets, reverse);
    CsrGraph csr = build(g, reverse);
    GraphSearchOptions opt;
    opt.source_offsets = offsets.empty() ? nullptr : offsets.data();
    // No cutoff, then a cutoff exactly at some reached node's time (inclusive).
    std::vector<double> es;
    std::vector<int32_t> ei;
    nearest_from_oracle(o, n, kInf, es, ei);
    std::vector<double> finite;
    for (double t : es)
      if (std::isfinite(t)) finite.push_back(t);
    const double cut = finite[finite.size() / 2];
    for (double max_s : {kInf, cut}) {
      opt.max_seconds = max_s;
      nearest_from_oracle(o, n, max_s, es, ei);
      std::vector<double> secs(n);
      std::vector<int32_t> idx(n);
      careshed::nearest_source_search(csr, sources.data(), sources.size(), opt, secs.data(), idx.data());
      // The same edges sorted by tail (stable) take the builder's CSR-order path and must give the same.
      {
        std::vector<size_t> order(g.tails.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        const auto& key = reverse ? g.heads : g.tails;
        std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key[a] < key[b]; });
        EdgeList sorted_g = g;
        for (size_t i = 0; i < order.size(); ++i) {
          sorted_g.tails[i] = g.tails[order[i]];
          sorted_g.heads[i] = g.heads[order[i]];
          sorted_g.seconds[i] = g.seconds[order[i]];
        }
        std::vector<double> secs2(n);
        std::vector<int32_t> idx2(n);
        careshed::nearest_source_search(build(sorted_g, reverse), sources.data(), sources.size(), opt,
                                        secs2.data(), idx2.data());
        EXPECT_EQ(secs2, secs);
        EXPECT_EQ(idx2, idx);
      }
      for (int v = 0; v < n; ++v) {
        if (integer_costs) {
          EXPECT_EQ(secs[v], es[v]) << "node " << v;
        } else if (std::isinf(es[v])) {
          EXPECT_TRUE(std::isinf(secs[v])) << "node " << v;
        } else {
          EXPECT_NEAR(secs[v], es[v], 1e-9) << "node " << v;
        }
        if (integer_costs || !std::isfinite(es[v])) {
          EXPECT_EQ(idx[v], ei[v]) << "node " << v;
        }
      }
    }
  }
}

TEST(GraphSearch, TiesGoToLowestSourceIndex) {
  // A path 0 - 1 - 2 - 3 - 4 with unit costs both ways; sources at 0 and 4 (indices 1 and 0): node 2 is
  // equidistant and must go to index 0 (the source at node 4); the tie propagates through zero-cost 2→5.
  std::vector<int32_t> t = {0, 1, 1, 2, 2, 3, 3, 4, 2};
  std::vector<int32_t> h = {1, 0, 2, 1, 3, 2, 4, 3, 5};
  std::vector<double> c = {1, 1, 1, 1, 1, 1, 1, 1, 0};
  CsrGraph g = CsrGraph::from_edges(6, t.data(), h.data(), c.data(), t.size());
  std::vector<uint32_t> sources = {4, 0};
  auto r = careshed::nearest_source_search(g, sources);
  EXPECT_EQ(r.nearest, (std::vector<int32_t>{1, 1, 0, 0, 0, 0}));
  EXPECT_EQ(r.seconds, (std::vector<double>{0, 1, 2, 1, 0, 2}));
  sources = {0, 4};
  r = careshed::nearest_source_search(g, sources);
  EXPECT_EQ(r.nearest, (std::vector<int32_t>{0, 0, 0, 1, 1, 0}));
}

TEST(GraphSearch, AllZeroCostsEveryNodeGoesToTheLowestReachingSource) {
  // Many equal keys at once: every reachable node is at 0 s and belongs to the lowest-index source that
  // reaches it. A directed ring 0→1→…→99→0 plus a chain 100→101→…→149 that the ring cannot reach.
  std::vector<int32_t> t, h;
  for (int v = 0; v < 100; ++v) t.push_back(v), h.push_back((v + 1) % 100);
  for (int v = 100; v < 149; ++v) t.push_back(v), h.push_back(v + 1);
  std::vector<double> c(t.size(), 0.0);
  c[3] = -0.0;  // negative zero is a zero cost
  CsrGraph g = CsrGraph::from_edges(150, t.data(), h.data(), c.data(), t.size());
  std::vector<uint32_t> sources = {120, 57, 3, 130, 0};
  auto r = careshed::nearest_source_search(g, sources);
  for (int v = 0; v < 150; ++v) {
    const int expect = v < 100 ? 1 : (v >= 120 ? 0 : -1);  // ring: index 1 (node 57) is the lowest there
    EXPECT_EQ(r.nearest[v], expect) << "node " << v;
    if (expect >= 0) {
      EXPECT_EQ(r.seconds[v], 0.0);
      EXPECT_FALSE(std::signbit(r.seconds[v]));
    }
  }
}

TEST(GraphSearch, OneWayReverseIsTimeToTheSources) {
  // 0 → 1 costs 5, 1 → 0 costs 20 (an asymmetric one-way detour).
  std::vector<int32_t> t = {0, 1};
  std::vector<int32_t> h = {1, 0};
  std::vector<double> c = {5, 20};
  CsrGraph g = CsrGraph::from_edges(2, t.data(), h.data(), c.data(), 2);
  std::vector<uint32_t> s = {0};
  EXPECT_EQ(careshed::nearest_source_search(g, s).seconds[1], 5.0);
  EXPECT_EQ(careshed::nearest_source_search(g.transposed(), s).seconds[1], 20.0);
}

TEST(GraphSearch, UnreachableAndEmpty) {
  std::vector<int32_t> t = {0};
  std::vector<int32_t> h = {1};
  std::vector<double> c = {3};
  CsrGraph g = CsrGraph::from_edges(3, t.data(), h.data(), c.data(), 1);
  std::vector<uint32_t> s = {0};
  auto r = careshed::nearest_source_search(g, s);
  EXPECT_TRUE(std::isinf(r.seconds[2]));
  EXPECT_EQ(r.nearest[2], -1);
  auto none = careshed::nearest_source_search(g, {});
  EXPECT_EQ(none.nearest, (std::vector<int32_t>{-1, -1, -1}));
  // An offset above the cutoff removes the source.
  GraphSearchOptions opt;
  std::vector<double> off = {4};
  opt.source_offsets = off.data();
  opt.max_seconds = 3.5;
  r = careshed::nearest_source_search(g, s, opt);
  EXPECT_EQ(r.nearest, (std::vector<int32_t>{-1, -1, -1}));
}

TEST(GraphSearch, BadInputsThrowClearErrors) {
  std::vector<int32_t> t = {0, 1};
  std::vector<int32_t> h = {1, 2};
  std::vector<double> c = {1, 1};
  auto expect_msg = [](auto fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no exception, expected one mentioning " << needle;
    } catch (const careshed::InputError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_msg([&] { CsrGraph::from_edges(2, t.data(), h.data(), c.data(), 2); }, "heads[1]");
  std::vector<int32_t> neg = {-1, 0};
  expect_msg([&] { CsrGraph::from_edges(3, neg.data(), h.data(), c.data(), 2); }, "tails[0]");
  std::vector<double> bad = {1, -0.5};
  expect_msg([&] { CsrGraph::from_edges(3, t.data(), h.data(), bad.data(), 2); }, "seconds[1]");
  bad = {std::nan(""), 1};
  expect_msg([&] { CsrGraph::from_edges(3, t.data(), h.data(), bad.data(), 2); }, "seconds[0]");
  bad = {kInf, 1};
  expect_msg([&] { CsrGraph::from_edges(3, t.data(), h.data(), bad.data(), 2); }, "seconds[0]");
  CsrGraph g = CsrGraph::from_edges(3, t.data(), h.data(), c.data(), 2);
  expect_msg([&] { careshed::nearest_source_search(g, {0, 3}); }, "sources[1]");
  GraphSearchOptions opt;
  opt.max_seconds = std::nan("");
  expect_msg([&] { careshed::nearest_source_search(g, {0}, opt); }, "max_seconds");
  std::vector<double> off = {-1};
  opt = {};
  opt.source_offsets = off.data();
  expect_msg([&] { careshed::nearest_source_search(g, {0}, opt); }, "source_offsets[0]");
}

TEST(GraphSearch, KNearestMatchesPerSourceSearches) {
  for (uint32_t seed = 100; seed < 130; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int n = 30 + static_cast<int>(rng() % 150);
    EdgeList g = random_graph(rng, n, 3 * n, /*integer_costs=*/true);
    std::vector<int32_t> sources;
    for (int j = 0; j < 5; ++j) sources.push_back(static_cast<int32_t>(rng() % (n - n / 5)));
    sources.push_back(sources[1]);  // duplicate: counts as a distinct source index
    std::vector<double> offsets;
    for (size_t j = 0; j < sources.size(); ++j) offsets.push_back(static_cast<double>(rng() % 3));
    const double max_s = seed % 2 ? kInf : 6.0;
    Oracle o = oracle_all(g, sources, offsets, false);
    CsrGraph csr = build(g, false);
    GraphSearchOptions opt;
    opt.source_offsets = offsets.data();
    opt.max_seconds = max_s;
    for (int k : {1, 2, 3}) {
      std::vector<double> secs(static_cast<size_t>(n) * k);
      std::vector<int32_t> idx(static_cast<size_t>(n) * k);
      careshed::k_nearest_source_search(csr, sources.data(), sources.size(), k, opt, secs.data(), idx.data());
      for (int v = 0; v < n; ++v) {
        std::vector<std::pair<double, int>> all;
        for (size_t j = 0; j < sources.size(); ++j)
          if (std::isfinite(o.per_source[j][v]) && o.per_source[j][v] <= max_s) all.push_back({o.per_source[j][v], static_cast<int>(j)});
        std::sort(all.begin(), all.end());
        for (int i = 0; i < k; ++i) {
          const size_t at = static_cast<size_t>(v) * k + i;
          if (i < static_cast<int>(all.size())) {
            EXPECT_EQ(secs[at], all[i].first) << "node " << v << " rank " << i;
            EXPECT_EQ(idx[at], all[i].second) << "node " << v << " rank " << i;
          } else {
            EXPECT_TRUE(std::isinf(secs[at]));
            EXPECT_EQ(idx[at], -1);
          }
        }
      }
    }
  }
}

TEST(GraphSearch, BoundedListsMatchPerSourceOracle) {
  for (uint32_t seed = 200; seed < 220; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int n = 30 + static_cast<int>(rng() % 200);
    EdgeList g = random_graph(rng, n, 3 * n, seed % 2 == 0);
    std::vector<int32_t> sources;
    for (int j = 0; j < 7; ++j) sources.push_back(static_cast<int32_t>(rng() % n));
    std::vector<double> offsets;
    for (size_t j = 0; j < sources.size(); ++j) offsets.push_back(static_cast<double>(rng() % 3));
    Oracle o = oracle_all(g, sources, offsets, false);
    const double max_s = 5.0;
    GraphSearchOptions opt;
    opt.source_offsets = offsets.data();
    opt.max_seconds = max_s;
    auto reach = careshed::bounded_search_per_source(build(g, false), sources.data(), sources.size(), opt);
    ASSERT_EQ(reach.list_first.size(), sources.size() + 1);
    for (size_t j = 0; j < sources.size(); ++j) {
      std::vector<std::pair<uint32_t, double>> expect, got;
      for (int v = 0; v < n; ++v)
        if (o.per_source[j][v] <= max_s) expect.push_back({v, o.per_source[j][v]});
      for (uint64_t a = reach.list_first[j]; a < reach.list_first[j + 1]; ++a)
        got.push_back({reach.nodes[a], reach.seconds[a]});
      ASSERT_EQ(got.size(), expect.size()) << "source " << j;
      for (size_t i = 0; i < got.size(); ++i) {
        EXPECT_EQ(got[i].first, expect[i].first);
        EXPECT_NEAR(got[i].second, expect[i].second, 1e-9);
      }
    }
  }
  std::vector<int32_t> s = {0};
  CsrGraph g;
  EXPECT_THROW(careshed::bounded_search_per_source(CsrGraph::from_edges(1, s.data(), s.data(), nullptr, 0),
                                                   s.data(), 1, GraphSearchOptions{}),
               careshed::InputError);
}

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

// A w x h grid graph: 4-neighbour edges both ways, 1..10 s each (seeded).
careshed::CsrGraph grid_graph(int w, int h, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> cost(1.0, 10.0);
  std::vector<int32_t> t, hd;
  std::vector<double> s;
  for (int r = 0; r < h; ++r)
    for (int c = 0; c < w; ++c) {
      const int v = r * w + c;
      if (c + 1 < w) t.insert(t.end(), {v, v + 1}), hd.insert(hd.end(), {v + 1, v}), s.insert(s.end(), {cost(rng), cost(rng)});
      if (r + 1 < h) t.insert(t.end(), {v, v + w}), hd.insert(hd.end(), {v + w, v}), s.insert(s.end(), {cost(rng), cost(rng)});
    }
  return careshed::CsrGraph::from_edges(static_cast<int64_t>(w) * h, t.data(), hd.data(), s.data(), t.size());
}

TEST(GraphSearchControl, SameResultsWithAControlAndProgressReachesOne) {
  const careshed::CsrGraph g = grid_graph(150, 120, 11);
  const std::vector<uint32_t> src = {0, 5000, 17999, 9000};
  const size_t n = g.n_nodes();
  std::vector<double> s1(n), s2(n);
  std::vector<int32_t> n1(n), n2(n);
  careshed::nearest_source_search(g, src.data(), src.size(), GraphSearchOptions{}, s1.data(), n1.data());
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) {
        careshed::nearest_source_search(g, src.data(), src.size(), GraphSearchOptions{}, s2.data(), n2.data(), c);
      },
      "nearest_source_search");
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(n1, n2);
  std::vector<double> k1(n * 2), k2(n * 2);
  std::vector<int32_t> kn1(n * 2), kn2(n * 2);
  careshed::k_nearest_source_search(g, src.data(), src.size(), 2, GraphSearchOptions{}, k1.data(), kn1.data());
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) {
        careshed::k_nearest_source_search(g, src.data(), src.size(), 2, GraphSearchOptions{}, k2.data(), kn2.data(), c);
      },
      "k_nearest_source_search");
  EXPECT_EQ(k1, k2);
  EXPECT_EQ(kn1, kn2);
  GraphSearchOptions o;
  o.max_seconds = 300;
  const careshed::SourceReach a = careshed::bounded_search_per_source(g, src.data(), src.size(), o);
  careshed::SourceReach b;
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) { b = careshed::bounded_search_per_source(g, src.data(), src.size(), o, c); },
      "bounded_search_per_source");
  EXPECT_EQ(a.list_first, b.list_first);
  EXPECT_EQ(a.nodes, b.nodes);
  EXPECT_EQ(a.seconds, b.seconds);
}

TEST(GraphSearchControl, CancelStopsEverySearch) {
  const careshed::CsrGraph g = grid_graph(1000, 1000, 5);
  const size_t n = g.n_nodes();
  const std::vector<uint32_t> one = {500500};
  std::vector<double> secs(n * 2);
  std::vector<int32_t> nearest(n * 2);
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) {
        careshed::nearest_source_search(g, one.data(), 1, GraphSearchOptions{}, secs.data(), nearest.data(), c);
      },
      "nearest_source_search");
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) {
        careshed::k_nearest_source_search(g, one.data(), 1, 2, GraphSearchOptions{}, secs.data(), nearest.data(), c);
      },
      "k_nearest_source_search");
  std::vector<uint32_t> many;
  for (uint32_t i = 0; i < 64; ++i) many.push_back((i * 15485863u) % static_cast<uint32_t>(n));
  GraphSearchOptions o;
  o.max_seconds = 2000;
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) { careshed::bounded_search_per_source(g, many.data(), many.size(), o, c); },
      "bounded_search_per_source");
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { careshed::bounded_search_per_source(g, many.data(), many.size(), o, c); },
      "bounded_search_per_source");
}

}  // namespace
