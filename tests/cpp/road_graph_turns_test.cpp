// Turn restrictions in road-graph searches (RoadGraph::nearest on the node-split graph, road_graph.hpp).
// Oracle: a plain Dijkstra, written here, on the explicit edge-expanded (turn) graph — one state per
// directed edge, a transition e -> f wherever f leaves the node e enters and no restriction forbids the
// pair — on seeded random street grids with random no_* / only_* restrictions (seed logged, replay with
// CARESHED_TEST_SEED), both directions (from the sources and to them), offsets and cutoffs. Hand-made OSM
// files for no_left_turn / only_straight_on are in osm_reader_test.cpp. Also RoadGraph::with_speed_factors
// (time of day) against the graph built with the scaled speeds, restrictions and ferry waits included.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <tuple>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/road_graph.hpp"
#include "test_seed.hpp"

using careshed::GraphSearchOptions;
using careshed::RoadGraph;
using careshed::RoadLine;
using careshed::TurnRestriction;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Label {
  double t = kInf;
  int32_t j = -1;
};
bool before(const Label& a, const Label& b) {
  if (a.j < 0) return false;
  if (b.j < 0) return true;
  return a.t < b.t || (a.t == b.t && a.j < b.j);
}

// The restriction's forbidden (in edge, out edge) pairs by the definition, or none when the restriction
// cannot apply (no edge of the from way enters the via node, or none of the to way leaves it).
struct TurnOracle {
  const RoadGraph& g;
  std::vector<std::vector<uint32_t>> out_of, in_of;  // edge indices per node
  std::vector<std::vector<uint8_t>> forbidden_after;  // [e] -> flags over out_of[head(e)]

  TurnOracle(const RoadGraph& graph, const std::vector<std::pair<TurnRestriction, uint32_t>>& restrictions)
      : g(graph), out_of(graph.n_nodes()), in_of(graph.n_nodes()), forbidden_after(graph.n_edges()) {
    for (uint32_t e = 0; e < g.n_edges(); ++e) {
      out_of[g.edge_tails()[e]].push_back(e);
      in_of[g.edge_heads()[e]].push_back(e);
    }
    for (uint32_t e = 0; e < g.n_edges(); ++e) forbidden_after[e].assign(out_of[g.edge_heads()[e]].size(), 0);
    for (const auto& [r, via] : restrictions) {
      bool has_from = false, has_to = false;
      for (uint32_t e : in_of[via]) has_from |= g.edge_line_id()[e] == r.from_way;
      for (uint32_t f : out_of[via]) has_to |= g.edge_line_id()[f] == r.to_way;
      if (!has_from || !has_to) continue;
      for (uint32_t e : in_of[via]) {
        if (g.edge_line_id()[e] != r.from_way) continue;
        for (size_t k = 0; k < out_of[via].size(); ++k) {
          const bool onto_to = g.edge_line_id()[out_of[via][k]] == r.to_way;
          if (r.only ? !onto_to : onto_to) forbidden_after[e][k] = 1;
        }
      }
    }
  }

  // Times FROM the sources: states are edges; a node's label is the best of its sources and incoming edges.
  std::vector<Label> from(const std::vector<uint32_t>& src, const std::vector<double>& off, double cutoff) const {
    std::vector<Label> edge(g.n_edges()), node(g.n_nodes());
    using Item = std::tuple<double, int32_t, uint32_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
    auto relax = [&](uint32_t f, Label l) {
      if (before(l, edge[f])) edge[f] = l, pq.push({l.t, l.j, f});
    };
    for (size_t j = 0; j < src.size(); ++j) {
      const Label l{off[j], static_cast<int32_t>(j)};
      if (before(l, node[src[j]])) node[src[j]] = l;
      for (uint32_t f : out_of[src[j]]) relax(f, {off[j] + g.edge_seconds()[f], l.j});
    }
    while (!pq.empty()) {
      auto [t, j, e] = pq.top();
      pq.pop();
      if (t != edge[e].t || j != edge[e].j) continue;
      const uint32_t v = g.edge_heads()[e];
      const auto& outs = out_of[v];
      for (size_t k = 0; k < outs.size(); ++k)
        if (!forbidden_after[e][k]) relax(outs[k], {t + g.edge_seconds()[outs[k]], j});
    }
    for (uint32_t e = 0; e < g.n_edges(); ++e)
      if (before(edge[e], node[g.edge_heads()[e]])) node[g.edge_heads()[e]] = edge[e];
    for (Label& l : node)
      if (l.t > cutoff) l = Label{};
    return node;
  }

  // Times TO the sources: R[e] = best (time, source) starting along e; a node's label is the best of its
  // own sources and its outgoing edges.
  std::vector<Label> to(const std::vector<uint32_t>& src, const std::vector<double>& off, double cutoff) const {
    std::vector<Label> edge(g.n_edges()), node(g.n_nodes());
    using Item = std::tuple<double, int32_t, uint32_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
    auto relax = [&](uint32_t e, Label l) {
      if (before(l, edge[e])) edge[e] = l, pq.push({l.t, l.j, e});
    };
    for (size_t j = 0; j < src.size(); ++j) {
      const Label l{off[j], static_cast<int32_t>(j)};
      if (before(l, node[src[j]])) node[src[j]] = l;
      for (uint32_t e : in_of[src[j]]) relax(e, {off[j] + g.edge_seconds()[e], l.j});
    }
    while (!pq.empty()) {
      auto [t, j, f] = pq.top();
      pq.pop();
      if (t != edge[f].t || j != edge[f].j) continue;
      const uint32_t u = g.edge_tails()[f];
      for (uint32_t e : in_of[u]) {  // e then f: allowed unless forbidden
        const auto& outs = out_of[u];
        const size_t k = static_cast<size_t>(std::find(outs.begin(), outs.end(), f) - outs.begin());
        if (!forbidden_after[e][k]) relax(e, {t + g.edge_seconds()[e], j});
      }
    }
    for (uint32_t e = 0; e < g.n_edges(); ++e)
      if (before(edge[e], node[g.edge_tails()[e]])) node[g.edge_tails()[e]] = edge[e];
    for (Label& l : node)
      if (l.t > cutoff) l = Label{};
    return node;
  }
};

struct RandomCase {
  std::vector<RoadLine> lines;
  std::vector<TurnRestriction> restrictions;
};

// A street grid of n x n OSM nodes (id 1000 + i*n + j at (100 i, 100 j) metres) with random lines along
// it (random walks of 1-4 steps, random speeds and directions, so lines share nodes, cross and overlap)
// and random restrictions: mostly at a vertex where a from line and a to line really meet, some not.
RandomCase random_case(std::mt19937_64& rng, int n) {
  RandomCase c;
  auto id_of = [&](int i, int j) { return int64_t{1000} + i * n + j; };
  std::uniform_int_distribution<int> cell(0, n - 1), steps(1, 4), dir(0, 3);
  std::uniform_real_distribution<double> speed(10.0, 80.0);
  std::vector<std::vector<int64_t>> vertices;
  const int n_lines = 2 * n * n / 2 + 3;
  for (int l = 0; l < n_lines; ++l) {
    int i = cell(rng), j = cell(rng);
    RoadLine line;
    line.id = l + 1;
    line.speed_kmh = speed(rng);
    const int d = static_cast<int>(rng() % 10);
    line.direction = d < 6 ? careshed::Direction::kBoth : d < 8 ? careshed::Direction::kForward
                                                                : careshed::Direction::kBackward;
    auto add = [&] {
      line.xy.push_back(100.0 * i), line.xy.push_back(100.0 * j);
      line.node_ids.push_back(id_of(i, j));
    };
    add();
    for (int s = steps(rng); s > 0; --s) {
      const int k = dir(rng);
      const int ni = i + (k == 0) - (k == 1), nj = j + (k == 2) - (k == 3);
      if (ni < 0 || nj < 0 || ni >= n || nj >= n) continue;
      i = ni, j = nj;
      add();
    }
    if (line.node_ids.size() < 2) {
      --l;
      continue;
    }
    c.lines.push_back(line);
  }
  const int n_restrictions = static_cast<int>(rng() % static_cast<unsigned>(3 * n));
  for (int r = 0; r < n_restrictions; ++r) {
    const RoadLine& a = c.lines[rng() % c.lines.size()];
    const int64_t via = a.node_ids[rng() % a.node_ids.size()];
    std::vector<const RoadLine*> through;
    for (const RoadLine& b : c.lines)
      if (std::find(b.node_ids.begin(), b.node_ids.end(), via) != b.node_ids.end()) through.push_back(&b);
    const RoadLine& b = rng() % 8 == 0 ? c.lines[rng() % c.lines.size()] : *through[rng() % through.size()];
    c.restrictions.push_back({a.id, rng() % 10 == 0 ? id_of(cell(rng), cell(rng)) : via, b.id, rng() % 3 == 0});
  }
  return c;
}

}  // namespace

TEST(TurnRestrictions, SplitGraphSearchEqualsDijkstraOnTheEdgeExpandedGraph) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  size_t applied = 0, differ = 0;
  for (int trial = 0; trial < 150; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int n = 3 + static_cast<int>(rng() % 6);
    const RandomCase c = random_case(rng, n);
    const RoadGraph g = RoadGraph::from_road_lines(c.lines, /*geographic=*/false, "", c.restrictions);
    const RoadGraph plain = RoadGraph::from_road_lines(c.lines, false, "");
    const auto& rep = g.report();
    EXPECT_EQ(rep.restrictions_applied + rep.restrictions_unusable, c.restrictions.size());
    applied += rep.restrictions_applied;
    // The oracle's via nodes by coordinates (every OSM node has its own grid point).
    std::map<std::pair<double, double>, uint32_t> at;
    for (uint32_t v = 0; v < g.n_nodes(); ++v) at[{g.node_x()[v], g.node_y()[v]}] = v;
    std::vector<std::pair<TurnRestriction, uint32_t>> resolved;
    for (const TurnRestriction& r : c.restrictions) {
      const int64_t k = r.via_node - 1000;
      const auto it = at.find({100.0 * static_cast<double>(k / n), 100.0 * static_cast<double>(k % n)});
      if (it != at.end()) resolved.push_back({r, it->second});
    }
    const TurnOracle oracle(g, resolved);
    const size_t n_src = 1 + rng() % 3;
    std::vector<uint32_t> src;
    std::vector<double> off;
    for (size_t j = 0; j < n_src; ++j) {
      src.push_back(static_cast<uint32_t>(rng() % g.n_nodes()));
      off.push_back(rng() % 2 ? 0.0 : std::uniform_real_distribution<double>(0.0, 30.0)(rng));
    }
    GraphSearchOptions opt;
    opt.source_offsets = off.data();
    opt.max_seconds = rng() % 3 == 0 ? std::uniform_real_distribution<double>(10.0, 100.0)(rng) : kInf;
    for (bool reverse : {false, true}) {
      const careshed::NearestSources got = g.nearest(src, opt, reverse);
      const std::vector<Label> want = reverse ? oracle.to(src, off, opt.max_seconds)
                                              : oracle.from(src, off, opt.max_seconds);
      const careshed::NearestSources free = plain.nearest(src, opt, reverse);
      for (uint32_t v = 0; v < g.n_nodes(); ++v) {
        ASSERT_EQ(got.nearest[v], want[v].j) << "node " << v << " reverse " << reverse;
        if (want[v].j >= 0) ASSERT_NEAR(got.seconds[v], want[v].t, 1e-9 * (1 + want[v].t)) << "node " << v;
        else ASSERT_TRUE(std::isinf(got.seconds[v]));
        // a restriction can only lengthen a trip
        if (std::isinf(free.seconds[v])) ASSERT_TRUE(std::isinf(got.seconds[v]));
        else ASSERT_GE(got.seconds[v], free.seconds[v] - 1e-9 * (1 + free.seconds[v]));
        if (got.seconds[v] != free.seconds[v]) ++differ;
      }
    }
  }
  std::printf("[ turn restrictions ] %zu applied, %zu node times changed by them\n", applied, differ);
  EXPECT_GT(applied, 100u);  // the random cases really exercise the restrictions
  EXPECT_GT(differ, 10u);
}

TEST(TurnRestrictions, WithoutRestrictionsTheSearchIsThePlainOne) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const RandomCase c = random_case(rng, 8);
  const RoadGraph g = RoadGraph::from_road_lines(c.lines, false, "");
  EXPECT_FALSE(g.has_turn_restrictions());
  EXPECT_EQ(g.turn_forward().n_nodes(), 0u);  // no split graph is built
  const std::vector<uint32_t> src{0, static_cast<uint32_t>(g.n_nodes() - 1)};
  for (bool reverse : {false, true}) {
    const careshed::NearestSources a = g.nearest(src, {}, reverse);
    const careshed::NearestSources b = careshed::nearest_source_search(reverse ? g.reverse() : g.forward(), src);
    EXPECT_EQ(a.seconds, b.seconds);
    EXPECT_EQ(a.nearest, b.nearest);
  }
}

TEST(TurnRestrictions, AForbiddenLeftTurnTakesTheDetourAndOnlyStraightOnBlocksTheSide) {
  // A T junction: west 1 - 2 - 3 east along way 10, way 20 from 2 north to 4; a loop 3 - 5 - 4 (way 30)
  // lets a car that may not turn left at 2 reach 4 the long way.
  auto line = [](int64_t id, std::vector<std::pair<int64_t, std::pair<double, double>>> pts) {
    RoadLine l;
    l.id = id;
    l.speed_kmh = 36.0;  // 10 m/s
    for (auto& [nid, xy] : pts) l.xy.push_back(xy.first), l.xy.push_back(xy.second), l.node_ids.push_back(nid);
    return l;
  };
  const std::vector<RoadLine> lines{line(10, {{1, {0, 0}}, {2, {100, 0}}, {3, {200, 0}}}),
                                    line(20, {{2, {100, 0}}, {4, {100, 100}}}),
                                    line(30, {{3, {200, 0}}, {5, {200, 100}}, {4, {100, 100}}})};
  auto node = [](const RoadGraph& g, double x, double y) {
    for (uint32_t v = 0; v < g.n_nodes(); ++v)
      if (g.node_x()[v] == x && g.node_y()[v] == y) return v;
    return UINT32_MAX;
  };
  for (bool only : {false, true}) {
    // no_left_turn from way 10 onto way 20 at node 2; or only_straight_on from way 10 (to way 10) at node 2
    const TurnRestriction r = only ? TurnRestriction{10, 2, 10, true} : TurnRestriction{10, 2, 20, false};
    const RoadGraph g = RoadGraph::from_road_lines(lines, false, "", {r});
    ASSERT_TRUE(g.has_turn_restrictions());
    const uint32_t n1 = node(g, 0, 0), n4 = node(g, 100, 100), n2 = node(g, 100, 0);
    const careshed::NearestSources from1 = g.nearest({n1});
    EXPECT_DOUBLE_EQ(from1.seconds[n2], 10.0);  // node 2 itself is reached
    EXPECT_DOUBLE_EQ(from1.seconds[n4], 40.0);  // 1-2-3-5-4 instead of 1-2-4 (20 s)
    // Starting at node 2 (no incoming edge) the turn does not apply; nor does it from the north.
    EXPECT_DOUBLE_EQ(g.nearest({n2}).seconds[n4], 10.0);
    const careshed::NearestSources to4 = g.nearest({n4}, {}, /*reverse=*/true);
    EXPECT_DOUBLE_EQ(to4.seconds[n1], 40.0);
    EXPECT_DOUBLE_EQ(to4.seconds[n2], 10.0);
    // The other way round (from 4 to 1: right turn at 2 onto way 10 westbound) is not restricted.
    EXPECT_DOUBLE_EQ(g.nearest({n4}).seconds[n1], 20.0);
  }
}

TEST(TurnRestrictions, RestrictionsNeedNodeIdsAndBadOnesAreCounted) {
  RoadLine a;
  a.id = 1;
  a.speed_kmh = 50;
  a.xy = {0, 0, 100, 0};
  EXPECT_THROW(RoadGraph::from_road_lines({a}, false, "", {{1, 5, 1, false}}), careshed::InputError);
  a.node_ids = {7, 8};
  const RoadGraph g = RoadGraph::from_road_lines({a}, false, "", {{1, 99, 1, false}, {2, 8, 1, false}});
  EXPECT_EQ(g.report().restrictions_unusable, 2u);  // unknown via node; from way not at the via node
  EXPECT_EQ(g.report().restrictions_applied, 0u);
  EXPECT_FALSE(g.has_turn_restrictions());
  const RoadGraph u = RoadGraph::from_road_lines({a}, false, "", {{1, 8, 1, false}});  // no U-turn at the end
  EXPECT_EQ(u.report().restrictions_applied, 1u);
  EXPECT_TRUE(u.has_turn_restrictions());
  EXPECT_EQ(u.turn_copy_origin().size(), 1u);  // one copy: node 8 as entered from node 7
  EXPECT_THROW(g.nearest({2u}), careshed::InputError);  // node ids are those of the graph, < n_nodes
}

TEST(SpeedFactors, AGraphWithFactorsEqualsTheGraphBuiltWithScaledSpeeds) {
  // Oracle: the same lines built with speed x factor (and the same boarding waits, which do not scale), with the
  // same restrictions: equal edge seconds and equal searches both ways.
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 30; ++trial) {
    RandomCase c = random_case(rng, 3 + static_cast<int>(rng() % 5));
    std::vector<double> line_factor(c.lines.size());
    for (size_t i = 0; i < c.lines.size(); ++i) {
      line_factor[i] = std::uniform_real_distribution<double>(0.2, 1.5)(rng);
      if (rng() % 4 == 0) c.lines[i].wait_seconds = 60.0 * static_cast<double>(rng() % 30);
    }
    const RoadGraph g = RoadGraph::from_road_lines(c.lines, false, "", c.restrictions);
    std::map<int64_t, double> by_id;
    std::vector<RoadLine> scaled = c.lines;
    for (size_t i = 0; i < c.lines.size(); ++i) {
      by_id[c.lines[i].id] = line_factor[i];
      scaled[i].speed_kmh *= line_factor[i];
    }
    std::vector<double> per_edge(g.n_edges());
    for (size_t e = 0; e < g.n_edges(); ++e) per_edge[e] = by_id.at(g.edge_line_id()[e]);
    const RoadGraph at = g.with_speed_factors(per_edge);
    const RoadGraph ref = RoadGraph::from_road_lines(scaled, false, "", c.restrictions);
    ASSERT_EQ(at.n_edges(), ref.n_edges());
    for (size_t e = 0; e < at.n_edges(); ++e) {
      ASSERT_NEAR(at.edge_seconds()[e], ref.edge_seconds()[e], 1e-9 * (1 + ref.edge_seconds()[e])) << e;
      ASSERT_EQ(at.edge_wait_seconds()[e], g.edge_wait_seconds()[e]);
    }
    EXPECT_EQ(at.has_turn_restrictions(), g.has_turn_restrictions());
    const std::vector<uint32_t> src{static_cast<uint32_t>(rng() % g.n_nodes())};
    for (bool reverse : {false, true}) {
      const careshed::NearestSources a = at.nearest(src, {}, reverse), b = ref.nearest(src, {}, reverse);
      for (uint32_t v = 0; v < g.n_nodes(); ++v) {
        ASSERT_EQ(a.nearest[v], b.nearest[v]);
        if (b.nearest[v] >= 0) ASSERT_NEAR(a.seconds[v], b.seconds[v], 1e-9 * (1 + b.seconds[v]));
      }
    }
  }
  RoadLine l;
  l.id = 7;
  l.speed_kmh = 36;
  l.xy = {0, 0, 100, 0};
  const RoadGraph g = RoadGraph::from_road_lines({l}, false, "");
  EXPECT_THROW(g.with_speed_factors({1.0}), careshed::InputError);           // 2 edges (both ways)
  EXPECT_THROW(g.with_speed_factors({1.0, 0.0}), careshed::InputError);      // not > 0
  EXPECT_THROW(g.with_speed_factors({1.0, NAN}), careshed::InputError);
  EXPECT_DOUBLE_EQ(g.with_speed_factors({2.0, 0.5}).edge_seconds()[0] * g.with_speed_factors({2.0, 0.5}).edge_seconds()[1],
                   5.0 * 20.0);
}
