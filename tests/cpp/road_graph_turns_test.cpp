// Turn restrictions in road-graph searches (RoadGraph::nearest on the node-split graph, road_graph.hpp).
// Oracle: a plain Dijkstra, written here, on the explicit edge-expanded (turn) graph — one state per
// directed edge, a transition e -> f wherever f leaves the node e enters and no restriction forbids the
// pair — on seeded random street grids with random no_* / only_* restrictions (seed logged, replay with
// CARESHED_TEST_SEED), both directions (from the sources and to them), offsets and cutoffs. Hand-made OSM
// files for no_left_turn / only_straight_on are in osm_reader_test.cpp. Also RoadGraph::with_speed_factors
// (time of day) against the graph built with the scaled speeds, restrictions and ferry waits included.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <tuple>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/referral.hpp"
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

// The forbidden edge sequences by the definition (road_graph.hpp), written from the restrictions' ways
// independently of the library's resolution. Via a node: (e, f), e an edge of the from way into the via
// node, f an exit the restriction forbids (no_*: the to way's; only_*: every other). Via ways (the tests'
// via chains are simple paths, given in order, so their ends are the first and last vertex): (e, w1 .. wm, f)
// along the chain's edges from the end the from way enters to the other. `usable` counts the restrictions
// the library must report as applied.
struct Forbidden {
  std::set<std::vector<uint32_t>> seqs;
  size_t usable = 0;
};

Forbidden forbidden_sequences(const RoadGraph& g, const std::vector<TurnRestriction>& restrictions,
                              const std::map<int64_t, uint32_t>& node_of_id,
                              const std::map<int64_t, std::vector<int64_t>>& vertices_of_line) {
  Forbidden out;
  auto edges_between = [&](int64_t way, uint32_t a, uint32_t b) {
    std::vector<uint32_t> r;
    for (uint32_t e = 0; e < g.n_edges(); ++e)
      if (g.edge_line_id()[e] == way && g.edge_tails()[e] == a && g.edge_heads()[e] == b) r.push_back(e);
    return r;
  };
  for (const TurnRestriction& r : restrictions) {
    // The via path as node ids from one end to the other (a via node: just that node), in both orientations.
    std::vector<std::vector<uint32_t>> chains;
    if (r.via_ways.empty()) {
      const auto it = node_of_id.find(r.via_node);
      if (it != node_of_id.end()) chains.push_back({it->second});
    } else {
      std::vector<uint32_t> chain;
      for (size_t k = 0; k < r.via_ways.size(); ++k) {
        const auto& vs = vertices_of_line.at(r.via_ways[k]);
        for (size_t i = k == 0 ? 0 : 1; i < vs.size(); ++i) chain.push_back(node_of_id.at(vs[i]));
      }
      chains.push_back(chain);
      chains.push_back(std::vector<uint32_t>(chain.rbegin(), chain.rend()));
    }
    bool applied = false;
    for (const auto& chain : chains) {
      const uint32_t a = chain.front(), b = chain.back();
      std::vector<uint32_t> from, path, exits;
      for (uint32_t e = 0; e < g.n_edges(); ++e)
        if (g.edge_line_id()[e] == r.from_way && g.edge_heads()[e] == a) from.push_back(e);
      bool drivable = true;
      for (size_t i = 0; i + 1 < chain.size(); ++i) {
        std::vector<uint32_t> es;
        for (int64_t w : r.via_ways) {
          const auto more = edges_between(w, chain[i], chain[i + 1]);
          es.insert(es.end(), more.begin(), more.end());
        }
        if (es.empty()) drivable = false;
        else path.push_back(es.front());
      }
      bool to_leaves = false;
      for (uint32_t f = 0; f < g.n_edges(); ++f) {
        if (g.edge_tails()[f] != b) continue;
        const bool onto_to = g.edge_line_id()[f] == r.to_way;
        to_leaves |= onto_to;
        if (r.only ? !onto_to : onto_to) exits.push_back(f);
      }
      if (from.empty() || !drivable || !to_leaves) continue;
      applied = true;
      for (uint32_t e : from)
        for (uint32_t f : exits) {
          std::vector<uint32_t> s{e};
          s.insert(s.end(), path.begin(), path.end());
          s.push_back(f);
          out.seqs.insert(s);
        }
    }
    out.usable += applied;
  }
  return out;
}

// Oracle: Dijkstra over explicit route states — the route's last edge plus the longest suffix of the route
// that begins some forbidden sequence (found by trying every suffix against the set of all prefixes: only
// such a suffix can still grow into a forbidden sequence), and a route is cut where a suffix IS a forbidden
// sequence — on the graph (times FROM the sources) or on the transposed graph with every sequence reversed
// (times TO them). A node's label is the best of its own sources and of every state whose last edge ends
// there. No automaton, no failure links, no node splitting.
struct RouteOracle {
  const RoadGraph& g;
  const Forbidden& fb;

  std::vector<Label> run(bool to, const std::vector<uint32_t>& src, const std::vector<double>& off,
                         double cutoff) const {
    const size_t m = g.n_edges();
    auto tail = [&](uint32_t e) { return to ? g.edge_heads()[e] : g.edge_tails()[e]; };
    auto head = [&](uint32_t e) { return to ? g.edge_tails()[e] : g.edge_heads()[e]; };
    std::set<std::vector<uint32_t>> seqs;
    for (auto s : fb.seqs) {
      if (to) std::reverse(s.begin(), s.end());
      seqs.insert(s);
    }
    std::vector<std::vector<uint32_t>> out_of(g.n_nodes());
    for (uint32_t e = 0; e < m; ++e) out_of[tail(e)].push_back(e);
    std::set<std::vector<uint32_t>> prefixes;
    for (const auto& q : seqs)
      for (size_t len = 1; len < q.size(); ++len) prefixes.insert(std::vector<uint32_t>(q.begin(), q.begin() + len));
    std::map<std::vector<uint32_t>, size_t> id;
    std::vector<std::vector<uint32_t>> state;
    std::vector<Label> best;
    std::vector<Label> node(g.n_nodes());
    using Item = std::tuple<double, int32_t, size_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
    auto relax = [&](std::vector<uint32_t> h, Label l) {
      for (size_t len = 1; len <= h.size(); ++len)  // a forbidden sequence ending with this edge?
        if (seqs.count(std::vector<uint32_t>(h.end() - static_cast<std::ptrdiff_t>(len), h.end()))) return;
      size_t keep = 1;
      for (size_t len = h.size(); len > 1; --len)
        if (prefixes.count(std::vector<uint32_t>(h.end() - static_cast<std::ptrdiff_t>(len), h.end()))) {
          keep = len;
          break;
        }
      h.erase(h.begin(), h.end() - static_cast<std::ptrdiff_t>(keep));
      auto [it, fresh] = id.try_emplace(h, state.size());
      if (fresh) state.push_back(h), best.emplace_back();
      if (before(l, best[it->second])) best[it->second] = l, pq.push({l.t, l.j, it->second});
    };
    for (size_t j = 0; j < src.size(); ++j) {
      const Label l{off[j], static_cast<int32_t>(j)};
      if (before(l, node[src[j]])) node[src[j]] = l;
      for (uint32_t f : out_of[src[j]]) relax({f}, {off[j] + g.edge_seconds()[f], l.j});
    }
    while (!pq.empty()) {
      auto [t, j, s] = pq.top();
      pq.pop();
      if (t != best[s].t || j != best[s].j) continue;
      const std::vector<uint32_t> h = state[s];
      for (uint32_t f : out_of[head(h.back())]) {
        std::vector<uint32_t> h2 = h;
        h2.push_back(f);
        relax(h2, {t + g.edge_seconds()[f], j});
      }
    }
    for (size_t s = 0; s < state.size(); ++s)
      if (before(best[s], node[head(state[s].back())])) node[head(state[s].back())] = best[s];
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
RandomCase random_case(std::mt19937_64& rng, int n, bool with_via_ways = false) {
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
  if (!with_via_ways) return c;
  // Via-way restrictions: a fresh via chain (a simple walk of 1-3 segments, as one line or two lines that meet
  // end to end, each with a random direction), from a line through one end, to a line through the other.
  const int n_via = static_cast<int>(rng() % static_cast<unsigned>(n + 1));
  const size_t n_plain = c.lines.size();
  auto lines_through = [&](int64_t node) {
    std::vector<int64_t> ids;
    for (size_t k = 0; k < n_plain; ++k)
      if (std::find(c.lines[k].node_ids.begin(), c.lines[k].node_ids.end(), node) != c.lines[k].node_ids.end())
        ids.push_back(c.lines[k].id);
    return ids;
  };
  for (int r = 0; r < n_via; ++r) {
    int i = cell(rng), j = cell(rng);
    std::vector<std::pair<int, int>> walk{{i, j}};
    for (int s = 1 + static_cast<int>(rng() % 3); s > 0; --s) {
      const int k = dir(rng);
      const int ni = i + (k == 0) - (k == 1), nj = j + (k == 2) - (k == 3);
      if (ni < 0 || nj < 0 || ni >= n || nj >= n) continue;
      if (std::find(walk.begin(), walk.end(), std::make_pair(ni, nj)) != walk.end()) continue;
      i = ni, j = nj;
      walk.push_back({i, j});
    }
    if (walk.size() < 2) continue;
    const size_t split = walk.size() > 2 && rng() % 2 ? 1 + rng() % (walk.size() - 2) : walk.size() - 1;
    std::vector<int64_t> via_ways;
    for (const auto& [lo, hi] : {std::pair<size_t, size_t>{0, split}, std::pair<size_t, size_t>{split, walk.size() - 1}}) {
      if (hi <= lo) continue;
      RoadLine line;
      line.id = 100000 + static_cast<int64_t>(c.lines.size());
      line.speed_kmh = speed(rng);
      const int d = static_cast<int>(rng() % 10);
      line.direction = d < 7 ? careshed::Direction::kBoth : d < 9 ? careshed::Direction::kForward
                                                                  : careshed::Direction::kBackward;
      for (size_t k = lo; k <= hi; ++k) {
        line.xy.push_back(100.0 * walk[k].first), line.xy.push_back(100.0 * walk[k].second);
        line.node_ids.push_back(id_of(walk[k].first, walk[k].second));
      }
      via_ways.push_back(line.id);
      c.lines.push_back(line);
    }
    const int64_t first = id_of(walk.front().first, walk.front().second);
    const int64_t last = id_of(walk.back().first, walk.back().second);
    const bool flip = rng() % 2;
    const auto at_from = lines_through(flip ? last : first), at_to = lines_through(flip ? first : last);
    const int64_t from = at_from.empty() ? 1 : at_from[rng() % at_from.size()];
    const int64_t to = at_to.empty() || rng() % 8 == 0 ? from : at_to[rng() % at_to.size()];
    c.restrictions.push_back({from, -1, to, rng() % 3 == 0, via_ways});
  }
  return c;
}

// The graph node of every OSM node id (grid point) and the vertices of every line, for the oracle.
std::map<int64_t, uint32_t> nodes_by_id(const RoadGraph& g, int n) {
  std::map<int64_t, uint32_t> r;
  for (uint32_t v = 0; v < g.n_nodes(); ++v) {
    const int i = static_cast<int>(std::lround(g.node_x()[v] / 100.0)), j = static_cast<int>(std::lround(g.node_y()[v] / 100.0));
    r[int64_t{1000} + i * n + j] = v;
  }
  return r;
}
std::map<int64_t, std::vector<int64_t>> vertices_by_line(const std::vector<RoadLine>& lines) {
  std::map<int64_t, std::vector<int64_t>> r;
  for (const RoadLine& l : lines) r[l.id] = l.node_ids;
  return r;
}

}  // namespace

// Every search kind of RoadGraph (nearest, k nearest, per-source reach; from and to the sources) against the
// route-state oracle, on seeded grids with via-node and via-way restrictions.
TEST(TurnRestrictions, EverySearchEqualsDijkstraOnTheExplicitRouteStates) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  size_t applied = 0, applied_via_way = 0, differ = 0, differ_via_way = 0, k_checked = 0, reach_checked = 0;
  // 150 grids, and more (up to 1500) while no node time has yet changed because of a via way: on most seeds 150
  // grids give 4-46 such nodes, but CARESHED_TEST_SEED=968816883 gave none, and the test must always be able
  // to tell a reader that ignores via ways from one that applies them.
  for (int trial = 0; trial < 150 || (differ_via_way == 0 && trial < 1500); ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int n = 3 + static_cast<int>(rng() % 6);
    const RandomCase c = random_case(rng, n, /*with_via_ways=*/true);
    const RoadGraph g = RoadGraph::from_road_lines(c.lines, /*geographic=*/false, "", c.restrictions);
    const RoadGraph plain = RoadGraph::from_road_lines(c.lines, false, "");
    std::vector<TurnRestriction> via_nodes_only;
    for (const TurnRestriction& r : c.restrictions)
      if (r.via_ways.empty()) via_nodes_only.push_back(r);
    const RoadGraph node_turns = RoadGraph::from_road_lines(c.lines, false, "", via_nodes_only);
    const auto& rep = g.report();
    EXPECT_EQ(rep.restrictions_applied + rep.restrictions_unusable, c.restrictions.size());
    const Forbidden fb = forbidden_sequences(g, c.restrictions, nodes_by_id(g, n), vertices_by_line(c.lines));
    ASSERT_EQ(rep.restrictions_applied, fb.usable);
    applied += rep.restrictions_applied;
    size_t via_way_usable = 0;
    for (const TurnRestriction& r : c.restrictions)
      if (!r.via_ways.empty()) via_way_usable += forbidden_sequences(g, {r}, nodes_by_id(g, n), vertices_by_line(c.lines)).usable;
    applied_via_way += via_way_usable;
    const RouteOracle oracle{g, fb};
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
    const int k = 1 + static_cast<int>(rng() % 3);
    const double reach_cutoff = std::uniform_real_distribution<double>(10.0, 150.0)(rng);
    for (bool reverse : {false, true}) {
      const careshed::NearestSources got = g.nearest(src, opt, reverse);
      const std::vector<Label> want = oracle.run(reverse, src, off, opt.max_seconds);
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
      const careshed::NearestSources without_via_ways = node_turns.nearest(src, opt, reverse);
      for (uint32_t v = 0; v < g.n_nodes(); ++v) differ_via_way += got.seconds[v] != without_via_ways.seconds[v];
      // Per source alone: the oracle's single-source fields give the k nearest distinct sources and the
      // per-source reach lists.
      std::vector<std::vector<Label>> alone(src.size());
      for (size_t j = 0; j < src.size(); ++j) {
        alone[j] = oracle.run(reverse, {src[j]}, {off[j]}, kInf);
        for (Label& l : alone[j]) l.j = l.j < 0 ? -1 : static_cast<int32_t>(j);
      }
      std::vector<double> ks(static_cast<size_t>(g.n_nodes()) * k);
      std::vector<int32_t> kn(ks.size());
      g.k_nearest(src.data(), src.size(), k, opt, reverse, ks.data(), kn.data());
      for (uint32_t v = 0; v < g.n_nodes(); ++v) {
        std::vector<Label> labels;
        for (size_t j = 0; j < src.size(); ++j)
          if (alone[j][v].j >= 0 && alone[j][v].t <= opt.max_seconds) labels.push_back(alone[j][v]);
        std::sort(labels.begin(), labels.end(), before);
        for (int i = 0; i < k; ++i) {
          const size_t at = static_cast<size_t>(v) * k + i;
          if (static_cast<size_t>(i) < labels.size()) {
            ASSERT_EQ(kn[at], labels[i].j) << "node " << v << " rank " << i << " reverse " << reverse;
            ASSERT_NEAR(ks[at], labels[i].t, 1e-9 * (1 + labels[i].t));
          } else {
            ASSERT_EQ(kn[at], -1);
            ASSERT_TRUE(std::isinf(ks[at]));
          }
          ++k_checked;
        }
      }
      GraphSearchOptions ro;
      ro.source_offsets = off.data();
      ro.max_seconds = reach_cutoff;
      const careshed::SourceReach r = g.reach(src.data(), src.size(), ro, reverse);
      for (size_t j = 0; j < src.size(); ++j) {
        std::vector<std::pair<uint32_t, double>> want_list, got_list;
        for (uint32_t v = 0; v < g.n_nodes(); ++v)
          if (alone[j][v].j >= 0 && alone[j][v].t <= reach_cutoff) want_list.push_back({v, alone[j][v].t});
        for (uint64_t i = r.list_first[j]; i < r.list_first[j + 1]; ++i) got_list.push_back({r.nodes[i], r.seconds[i]});
        ASSERT_EQ(got_list.size(), want_list.size()) << "source " << j << " reverse " << reverse;
        for (size_t i = 0; i < got_list.size(); ++i) {
          ASSERT_EQ(got_list[i].first, want_list[i].first);  // sorted by node id, each node once
          ASSERT_NEAR(got_list[i].second, want_list[i].second, 1e-9 * (1 + want_list[i].second));
        }
        reach_checked += got_list.size();
      }
    }
  }
  std::printf("[ turn restrictions ] %zu applied (%zu via ways), %zu node times changed by them (%zu by the via "
              "ways); %zu k-nearest labels and %zu reach entries checked\n", applied, applied_via_way, differ,
              differ_via_way, k_checked, reach_checked);
  EXPECT_GT(applied, 100u);  // the random cases really exercise the restrictions
  EXPECT_GT(applied_via_way, 50u);
  EXPECT_GT(differ, 10u);
  EXPECT_GT(differ_via_way, 0u);  // ignoring the via ways would fail the comparison above
}

TEST(TurnRestrictions, WithoutRestrictionsTheSearchIsThePlainOne) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const RandomCase c = random_case(rng, 8);
  const RoadGraph g = RoadGraph::from_road_lines(c.lines, false, "");
  EXPECT_FALSE(g.has_turn_restrictions());
  EXPECT_EQ(g.turn_graph(false).n_nodes(), 0u);  // no split graph is built
  EXPECT_EQ(g.turn_graph(true).n_nodes(), 0u);
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

// Referral on a RoadGraph with restrictions (referral_on_road_graph): the per-level fields and the referral
// times equal the route-state oracle's times TO the facilities; routes run from the facility's node to its
// target's along graph edges.
TEST(TurnRestrictions, RoadGraphReferralHonoursThem) {
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  size_t referrals = 0, changed = 0, fields_changed = 0;
  for (int trial = 0; trial < 40; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    const int n = 3 + static_cast<int>(rng() % 5);
    const RandomCase c = random_case(rng, n, /*with_via_ways=*/true);
    const RoadGraph g = RoadGraph::from_road_lines(c.lines, false, "", c.restrictions);
    const Forbidden fb = forbidden_sequences(g, c.restrictions, nodes_by_id(g, n), vertices_by_line(c.lines));
    const RouteOracle oracle{g, fb};
    const size_t nf = 2 + rng() % 5;
    std::vector<int64_t> node(nf);
    std::vector<int32_t> level(nf), assigned(nf, -1);
    for (size_t i = 0; i < nf; ++i) {
      node[i] = static_cast<int64_t>(rng() % g.n_nodes());
      level[i] = i == 0 ? 1 : static_cast<int32_t>(rng() % 2);
      if (i > 0 && rng() % 5 == 0) assigned[i] = 0;
    }
    careshed::FacilityLevels lv{level.data(), 2, assigned.data()};
    careshed::ReferralOptions o;
    o.keep_routes = true;
    std::vector<double> secs(2 * static_cast<size_t>(g.n_nodes()));
    std::vector<int32_t> near(secs.size());
    const careshed::Referrals r =
        careshed::referral_on_road_graph(g, node.data(), nf, lv, o, secs.data(), near.data());
    std::vector<std::vector<Label>> field(2);
    for (int l = 0; l < 2; ++l) {
      std::vector<uint32_t> src;
      std::vector<int32_t> index;
      for (size_t i = 0; i < nf; ++i)
        if (level[i] == l) src.push_back(static_cast<uint32_t>(node[i])), index.push_back(static_cast<int32_t>(i));
      field[l] = oracle.run(/*to=*/true, src, std::vector<double>(src.size(), 0.0), kInf);
      for (uint32_t v = 0; v < g.n_nodes(); ++v) {
        const size_t at = static_cast<size_t>(l) * g.n_nodes() + v;
        const int32_t want = field[l][v].j < 0 ? -1 : index[static_cast<size_t>(field[l][v].j)];
        ASSERT_EQ(near[at], want) << "level " << l << " node " << v;
        if (want >= 0) ASSERT_NEAR(secs[at], field[l][v].t, 1e-9 * (1 + field[l][v].t));
      }
    }
    const RoadGraph p = RoadGraph::from_road_lines(c.lines, false, "");
    std::vector<double> free_secs(secs.size());
    std::vector<int32_t> free_near(secs.size());
    const careshed::Referrals free =
        careshed::referral_on_road_graph(p, node.data(), nf, lv, o, free_secs.data(), free_near.data());
    for (size_t x = 0; x < secs.size(); ++x) fields_changed += secs[x] != free_secs[x];
    for (size_t i = 0; i < nf; ++i) {
      Label want;
      if (assigned[i] >= 0) {
        want = oracle.run(true, {static_cast<uint32_t>(node[0])}, {0.0}, kInf)[static_cast<size_t>(node[i])];
        if (want.j >= 0) want.j = 0;
      } else if (level[i] == 0) {
        want = field[1][static_cast<size_t>(node[i])];  // level 1's field (checked above) names the target
        if (want.j >= 0) want.j = near[g.n_nodes() + static_cast<size_t>(node[i])];
      }
      ASSERT_EQ(r.target[i], want.j) << "facility " << i;
      if (want.j < 0) continue;
      ++referrals;
      changed += r.seconds[i] != free.seconds[i];
      ASSERT_NEAR(r.seconds[i], want.t, 1e-9 * (1 + want.t));
      ASSERT_TRUE(std::isfinite(r.metres[i])) << "facility " << i;
      // The route: from the facility's node to the target's, each step along an edge of the graph.
      const auto b = r.route_first[i], e = r.route_first[i + 1];
      ASSERT_GT(e, b);
      ASSERT_EQ(r.route_items[static_cast<size_t>(b)], node[i]);
      ASSERT_EQ(r.route_items[static_cast<size_t>(e - 1)], node[static_cast<size_t>(r.target[i])]);
      for (auto k = b; k + 1 < e; ++k) {
        bool edge = false;
        for (size_t x = 0; x < g.n_edges() && !edge; ++x)
          edge = g.edge_tails()[x] == r.route_items[static_cast<size_t>(k)] &&
                 g.edge_heads()[x] == r.route_items[static_cast<size_t>(k + 1)];
        ASSERT_TRUE(edge) << "facility " << i << " step " << k - b;
      }
    }
  }
  std::printf("[ referral with turn restrictions ] %zu referrals checked, %zu of their times and %zu field values "
              "changed by the restrictions\n", referrals, changed, fields_changed);
  EXPECT_GT(referrals, 40u);
  EXPECT_GT(fields_changed, 0u);  // a referral on the plain edges would fail the field comparison
}
