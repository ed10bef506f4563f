// The libosmium OSM reader (node identity) against GDAL's OSM driver (coordinate matching) on the real
// extracts shipped in data/, a hand-written bridge that coordinate matching wrongly joins, and damaged files.
// Oracle for the real extracts: GDAL's graph must equal the libosmium graph with nodes at identical
// coordinates merged (the only thing coordinate matching does differently): same directed edges (by end
// coordinates and way id) with the same seconds and lengths; when no two OSM nodes share coordinates, the
// graphs are the same, so the shortest-path times (test's own Dijkstra, random sources, logged seed) agree.
#include <gtest/gtest.h>

#include <cpl_vsi.h>
#include <gdal.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <queue>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"
#include "test_seed.hpp"
#include "vector_test_util.hpp"

using careshed::OsmReader;
using careshed::RoadGraph;
using careshed::SpeedProfile;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(CARESHED_SOURCE_DIR) + "/data/";

using Coord = std::pair<double, double>;

// Directed edge by its end coordinates and way id; seconds and length alongside.
struct EdgeRow {
  Coord tail, head;
  int64_t line;
  double seconds, length;
  bool operator<(const EdgeRow& o) const {
    return std::tie(tail, head, line, seconds) < std::tie(o.tail, o.head, o.line, o.seconds);
  }
};

// The graph's edges with nodes replaced by their coordinates; edges whose ends coincide (between two
// distinct OSM nodes at the same point) are dropped, as coordinate matching drops them.
std::vector<EdgeRow> edges_by_coordinates(const RoadGraph& g) {
  std::vector<EdgeRow> rows;
  for (size_t i = 0; i < g.n_edges(); ++i) {
    const uint32_t t = g.edge_tails()[i], h = g.edge_heads()[i];
    const Coord a{g.node_x()[t], g.node_y()[t]}, b{g.node_x()[h], g.node_y()[h]};
    if (a == b) continue;
    rows.push_back({a, b, g.edge_line_id()[i], g.edge_seconds()[i], g.edge_length_m()[i]});
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Number of graph nodes that share their coordinates with another node.
size_t coincident_nodes(const RoadGraph& g) {
  std::map<Coord, int> count;
  for (uint32_t v = 0; v < g.n_nodes(); ++v) ++count[{g.node_x()[v], g.node_y()[v]}];
  size_t n = 0;
  for (const auto& [c, k] : count)
    if (k > 1) n += static_cast<size_t>(k);
  return n;
}

// Plain Dijkstra over the edge lists (independent of the library's CSR searches).
std::vector<double> dijkstra(const RoadGraph& g, uint32_t source) {
  std::vector<std::vector<std::pair<uint32_t, double>>> adj(g.n_nodes());
  for (size_t i = 0; i < g.n_edges(); ++i) adj[g.edge_tails()[i]].push_back({g.edge_heads()[i], g.edge_seconds()[i]});
  std::vector<double> d(g.n_nodes(), INFINITY);
  using Item = std::pair<double, uint32_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> pq;
  d[source] = 0.0;
  pq.push({0.0, source});
  while (!pq.empty()) {
    auto [du, u] = pq.top();
    pq.pop();
    if (du > d[u]) continue;
    for (auto [v, w] : adj[u])
      if (du + w < d[v]) d[v] = du + w, pq.push({d[v], v});
  }
  return d;
}

std::map<Coord, uint32_t> node_by_coordinates(const RoadGraph& g) {
  std::map<Coord, uint32_t> m;
  for (uint32_t v = 0; v < g.n_nodes(); ++v) m.emplace(Coord{g.node_x()[v], g.node_y()[v]}, v);
  return m;
}

double total_length(const RoadGraph& g) {
  double s = 0.0;
  for (double l : g.edge_length_m()) s += l;
  return s;
}

struct Case {
  const char* file;
  const char* profile;
};

class ReadersAgree : public ::testing::TestWithParam<Case> {};

TEST_P(ReadersAgree, GdalGraphIsTheLibosmiumGraphWithCoincidentNodesMerged) {
  const std::string path = kData + GetParam().file;
  const SpeedProfile profile = SpeedProfile::by_name(GetParam().profile);
  // GDAL's driver reads neither ferries nor restrictions: compare the road network alone (ferries off;
  // restrictions change searches, not edges).
  careshed::OsmReadOptions roads_only;
  roads_only.ferries = false;
  const RoadGraph osm = RoadGraph::from_osm(path, profile, roads_only);
  const RoadGraph gdal = RoadGraph::from_osm(path, profile, nullptr, OsmReader::kGdal);
  ASSERT_GT(osm.n_edges(), 100u);
  EXPECT_EQ(osm.crs_wkt(), gdal.crs_wkt());
  EXPECT_TRUE(osm.geographic());
  EXPECT_EQ(osm.report().lines_used, gdal.report().lines_used);
  EXPECT_EQ(osm.report().oneway_lines, gdal.report().oneway_lines);
  // Ways none of whose segments has both nodes in the file (clipped extracts: 36 in helsinki.osm.pbf) are
  // counted by libosmium as excluded_geometry (after their maxspeed was counted); GDAL leaves them out of
  // "lines". Neither reader makes an edge of them (checked below), so they only shift these counters.
  const size_t extra_dropped = osm.report().excluded_geometry - gdal.report().excluded_geometry;
  EXPECT_GE(osm.report().excluded_geometry, gdal.report().excluded_geometry);
  EXPECT_GE(osm.report().speed_from_maxspeed, gdal.report().speed_from_maxspeed);
  EXPECT_LE(osm.report().speed_from_maxspeed, gdal.report().speed_from_maxspeed + extra_dropped);
  EXPECT_EQ(osm.report().excluded_reversible, gdal.report().excluded_reversible);

  const std::vector<EdgeRow> a = edges_by_coordinates(osm), b = edges_by_coordinates(gdal);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].tail, b[i].tail) << i;
    ASSERT_EQ(a[i].head, b[i].head) << i;
    ASSERT_EQ(a[i].line, b[i].line) << i;
    ASSERT_NEAR(a[i].seconds, b[i].seconds, 1e-9 * (1 + b[i].seconds)) << i;
    ASSERT_NEAR(a[i].length, b[i].length, 1e-9 * (1 + b[i].length)) << i;
  }
  const size_t coincident = coincident_nodes(osm);
  EXPECT_EQ(coincident_nodes(gdal), 0u);  // coordinate matching cannot keep two nodes at one point
  // Merging coincident nodes is the only difference in node count.
  EXPECT_EQ(node_by_coordinates(osm).size(), gdal.n_nodes());
  std::printf("[ %s %s ] libosmium %u nodes %zu edges %.1f m; GDAL %u nodes %zu edges %.1f m; coincident OSM "
              "nodes %zu\n",
              GetParam().file, GetParam().profile, osm.n_nodes(), osm.n_edges(), total_length(osm), gdal.n_nodes(),
              gdal.n_edges(), total_length(gdal), coincident);

  // Shortest paths from random nodes: equal where no node is coincident; with coincident nodes GDAL's joins
  // can only add connections, so its times are never longer.
  const std::uint64_t seed = careshed_test::fresh_or_replayed_seed();
  SCOPED_TRACE("CARESHED_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const auto gdal_node = node_by_coordinates(gdal);
  for (int trial = 0; trial < 4; ++trial) {
    const uint32_t s = static_cast<uint32_t>(rng() % osm.n_nodes());
    const std::vector<double> d_osm = dijkstra(osm, s);
    const std::vector<double> d_gdal = dijkstra(gdal, gdal_node.at({osm.node_x()[s], osm.node_y()[s]}));
    size_t reached = 0;
    for (uint32_t v = 0; v < osm.n_nodes(); ++v) {
      const double g = d_gdal[gdal_node.at({osm.node_x()[v], osm.node_y()[v]})];
      if (std::isfinite(d_osm[v])) ++reached;
      if (coincident == 0) {
        if (std::isinf(g)) {
          ASSERT_TRUE(std::isinf(d_osm[v])) << "source " << s << " node " << v;
        } else {
          ASSERT_NEAR(d_osm[v], g, 1e-6 * (1 + g)) << "source " << s << " node " << v;
        }
      } else {
        ASSERT_LE(g, d_osm[v] * (1 + 1e-9) + 1e-9) << "source " << s << " node " << v;
      }
    }
    EXPECT_GT(reached, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(ShippedExtracts, ReadersAgree,
                         ::testing::Values(Case{"comoros/comores-latest.osm.pbf", "car"},
                                           Case{"comoros/comores-latest.osm.pbf", "walking"},
                                           Case{"osm/helsinki.osm.pbf", "car"},
                                           Case{"osm/helsinki.osm.pbf", "walking"},
                                           Case{"osm/finland_small.osm.pbf", "car"}));

// ---- hand-written OSM XML: the files of the cases below ---------------------------------------------------
using Tags = std::vector<std::pair<const char*, const char*>>;
struct XmlNode {
  int id;
  const char* lat;
  const char* lon;
};
struct Member {
  const char* type;
  int ref;
  const char* role;
};

std::string tags_xml(const Tags& tags) {
  std::string s;
  for (const auto& [k, v] : tags) s += std::string("<tag k=\"") + k + "\" v=\"" + v + "\"/>";
  return s;
}

// An OSM XML file: the nodes (one line each), then the ways and relations as given.
std::string osm_xml(const std::vector<XmlNode>& nodes, const std::vector<std::string>& ways_and_relations) {
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<osm version=\"0.6\" generator=\"hand\">\n";
  for (const XmlNode& n : nodes)
    s += "  <node id=\"" + std::to_string(n.id) + "\" lat=\"" + n.lat + "\" lon=\"" + n.lon + "\"/>\n";
  for (const std::string& e : ways_and_relations) s += "  " + e + "\n";
  return s + "</osm>\n";
}

std::string way(int id, const std::vector<int>& refs, const Tags& tags = {{"highway", "residential"}}) {
  std::string s = "<way id=\"" + std::to_string(id) + "\">";
  for (int r : refs) s += "<nd ref=\"" + std::to_string(r) + "\"/>";
  return s + tags_xml(tags) + "</way>";
}

std::string relation(int id, const std::vector<Member>& members, const Tags& tags) {
  std::string s = "<relation id=\"" + std::to_string(id) + "\">";
  for (const Member& m : members)
    s += std::string("<member type=\"") + m.type + "\" ref=\"" + std::to_string(m.ref) + "\" role=\"" + m.role + "\"/>";
  return s + tags_xml(tags) + "</relation>";
}

// A turn restriction (type=restriction, restriction=`kind`, then `more` tags) from way `from` over `via` (a node
// or a way: its type and id) to way `to`.
std::string turn(int id, int from, std::pair<const char*, int> via, int to, const char* kind, const Tags& more = {}) {
  Tags tags{{"type", "restriction"}, {"restriction", kind}};
  tags.insert(tags.end(), more.begin(), more.end());
  return relation(id, {{"way", from, "from"}, {via.first, via.second, "via"}, {"way", to, "to"}}, tags);
}

// ---- a bridge over a road: a vertex at the crossing point, but no shared node -------------------------
// Way 10 (residential, west-east) passes node 2 at (43.001, -11.5); way 20 (primary bridge, south-north)
// passes node 5 at exactly the same coordinates. Way 30 (residential) meets way 10 at its shared node 3.
const std::string kBridgeOsm = osm_xml(
    {{1, "-11.5", "43.0"}, {2, "-11.5", "43.001"}, {3, "-11.5", "43.002"}, {4, "-11.501", "43.001"},
     {5, "-11.5", "43.001"}, {6, "-11.499", "43.001"}, {7, "-11.499", "43.002"}},
    {way(10, {1, 2, 3}), way(20, {4, 5, 6}, {{"highway", "primary"}, {"bridge", "yes"}, {"layer", "1"}}),
     way(30, {3, 7})});

std::string write_file(const careshed::testing::ScratchDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.path(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(OsmBridge, LibosmiumKeepsTheBridgeApartWhereCoordinateMatchingJoinsIt) {
  careshed::testing::ScratchDir dir;
  const std::string path = write_file(dir, "bridge.osm", kBridgeOsm);
  const RoadGraph osm = RoadGraph::from_osm(path, SpeedProfile::car());  // the default reader
  const RoadGraph gdal = RoadGraph::from_osm(path, SpeedProfile::car(), nullptr, OsmReader::kGdal);
  // 7 OSM nodes; coordinate matching merges 2 and 5.
  EXPECT_EQ(osm.n_nodes(), 7u);
  EXPECT_EQ(gdal.n_nodes(), 6u);
  EXPECT_EQ(osm.n_edges(), 10u);  // 5 segments, both ways
  EXPECT_EQ(gdal.n_edges(), 10u);
  // Two pieces (the road with its side street, and the bridge) vs one wrongly joined network.
  const careshed::Components c = osm.components();
  ASSERT_EQ(c.sizes.size(), 2u);
  EXPECT_EQ(c.sizes[0], 4);  // nodes 1, 2, 3, 7
  EXPECT_EQ(c.sizes[1], 3);  // nodes 4, 5, 6
  EXPECT_EQ(gdal.components().sizes.size(), 1u);
  // From node 1 (43.0, -11.5): node 6 on the bridge is unreachable; node 7 is reached through node 3.
  const auto at = [](const RoadGraph& g, double lon, double lat) {
    for (uint32_t v = 0; v < g.n_nodes(); ++v)
      if (g.node_x()[v] == lon && g.node_y()[v] == lat) return v;
    return UINT32_MAX;
  };
  const std::vector<double> d = dijkstra(osm, at(osm, 43.0, -11.5));
  EXPECT_TRUE(std::isinf(d[at(osm, 43.001, -11.499)]));
  const double residential = *SpeedProfile::car().speed_kmh("residential") / 3.6;
  const double expect = (careshed::haversine_m(43.0, -11.5, 43.002, -11.5) +
                         careshed::haversine_m(43.002, -11.5, 43.002, -11.499)) / residential;
  EXPECT_NEAR(d[at(osm, 43.002, -11.499)], expect, 1e-9 * expect);
  EXPECT_TRUE(std::isfinite(dijkstra(gdal, at(gdal, 43.0, -11.5))[at(gdal, 43.001, -11.499)]));  // the flaw
}

TEST(OsmBridge, AGdalVirtualPathIsReadByGdalsDriver) {
  // libosmium cannot open /vsimem/ (GDAL-only) files: from_osm falls back to GDAL's driver, which merges
  // the bridge's node 5 into node 2 (6 nodes, not 7) — the sign that it was GDAL that read it.
  GDALAllRegister();
  const std::string text = kBridgeOsm;
  const std::string path = "/vsimem/osm_reader_test_bridge.osm";
  VSILFILE* f = VSIFileFromMemBuffer(path.c_str(), reinterpret_cast<GByte*>(const_cast<char*>(text.data())),
                                     text.size(), FALSE);
  ASSERT_NE(f, nullptr);
  VSIFCloseL(f);
  const RoadGraph g = RoadGraph::from_osm(path, SpeedProfile::car());
  VSIUnlink(path.c_str());
  EXPECT_EQ(g.n_nodes(), 6u);
  EXPECT_EQ(g.n_edges(), 10u);
}

TEST(OsmBridge, AWayWithANodeMissingFromTheFileIsSplitThere) {
  careshed::testing::ScratchDir dir;
  std::string text = kBridgeOsm;
  text.replace(text.find("<node id=\"2\""), std::string("<node id=\"2\" lat=\"-11.5\" lon=\"43.001\"/>").size(), "");
  const RoadGraph g = RoadGraph::from_osm(write_file(dir, "clipped.osm", text), SpeedProfile::car());
  // Way 10 loses its middle node: 1 and 3 must not be joined by an invented edge, so way 10 has no edge.
  EXPECT_EQ(g.n_nodes(), 5u);      // 3, 4, 5, 6, 7
  EXPECT_EQ(g.n_edges(), 6u);      // 4-5, 5-6, 3-7 both ways
  EXPECT_EQ(g.report().excluded_geometry, 1u);
}

// ---- damaged files ----------------------------------------------------------------------------------
void expect_damaged(const std::string& path, const std::string& says) {
  try {
    RoadGraph::from_osm(path, SpeedProfile::car());
    ADD_FAILURE() << "no error for " << path;
  } catch (const careshed::DataIOError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find(path), std::string::npos) << m;
    EXPECT_NE(m.find(says), std::string::npos) << m;
    EXPECT_NE(m.find("download or export the extract again"), std::string::npos) << m;
  }
}

TEST(OsmDamaged, TruncatedPbfIsAClearErrorNamingTheFile) {
  careshed::testing::ScratchDir dir;
  const std::string intact = kData + "osm/helsinki.osm.pbf";
  std::ifstream in(intact, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(RoadGraph::from_osm(intact, SpeedProfile::car()).n_edges(), 0u);  // control: the intact file reads
  const std::string cut = write_file(dir, "cut.osm.pbf", bytes.substr(0, bytes.size() * 2 / 3));
  expect_damaged(cut, "truncated or corrupt (libosmium:");
  // Zeros over 4 kB in the middle: a block that does not decode.
  std::string zeroed = bytes;
  std::fill(zeroed.begin() + zeroed.size() / 2, zeroed.begin() + zeroed.size() / 2 + 4096, '\0');
  expect_damaged(write_file(dir, "zeroed.osm.pbf", zeroed), "truncated or corrupt (libosmium:");
  expect_damaged(write_file(dir, "empty.osm.pbf", ""), "empty (0 bytes)");
  expect_damaged(write_file(dir, "text.osm.pbf", "not an OSM file at all\n"), "neither an OSM PBF header nor XML");
}

// ---- turn restrictions and ferries, hand-made ------------------------------------------------------------
// A T junction: way 10 runs west-east 1 - 2 - 3, way 20 goes north from 2 to 4, way 30 loops 3 - 5 - 4.
// Driving east on way 10, north onto way 20 at node 2 is a left turn. Each case adds its relations.
std::string junction_with(const std::vector<std::string>& relations) {
  std::vector<std::string> elements{way(10, {1, 2, 3}), way(20, {2, 4}), way(30, {3, 5, 4})};
  elements.insert(elements.end(), relations.begin(), relations.end());
  return osm_xml({{1, "-11.5", "43.0"}, {2, "-11.5", "43.001"}, {3, "-11.5", "43.002"}, {4, "-11.499", "43.001"},
                  {5, "-11.499", "43.002"}},
                 elements);
}

uint32_t node_at(const RoadGraph& g, double lon, double lat) {
  for (uint32_t v = 0; v < g.n_nodes(); ++v)
    if (g.node_x()[v] == lon && g.node_y()[v] == lat) return v;
  return UINT32_MAX;
}

TEST(OsmTurnRestrictions, NoLeftTurnAndOnlyStraightOnSendTheCarRoundTheLoop) {
  careshed::testing::ScratchDir dir;
  const double v = *SpeedProfile::car().speed_kmh("residential") / 3.6;
  using careshed::haversine_m;
  const double direct = (haversine_m(43.0, -11.5, 43.001, -11.5) + haversine_m(43.001, -11.5, 43.001, -11.499)) / v;
  const double loop = (haversine_m(43.0, -11.5, 43.002, -11.5) + haversine_m(43.002, -11.5, 43.002, -11.499) +
                       haversine_m(43.002, -11.499, 43.001, -11.499)) / v;
  const std::string no_left = turn(100, 10, {"node", 2}, 20, "no_left_turn");
  const std::string only_straight = turn(101, 10, {"node", 2}, 10, "only_straight_on");
  for (const std::string& rel : {no_left, only_straight}) {
    const std::string path = write_file(dir, "junction.osm", junction_with({rel}));
    const RoadGraph g = RoadGraph::from_osm(path, SpeedProfile::car());
    EXPECT_EQ(g.report().restrictions_read, 1u);
    EXPECT_EQ(g.report().restrictions_applied, 1u);
    const uint32_t n1 = node_at(g, 43.0, -11.5), n4 = node_at(g, 43.001, -11.499);
    EXPECT_NEAR(g.nearest({n1}).seconds[n4], loop, 1e-9 * loop);
    EXPECT_NEAR(g.nearest({n4}, {}, /*reverse=*/true).seconds[n1], loop, 1e-9 * loop);
    EXPECT_NEAR(g.nearest({n4}).seconds[n1], direct, 1e-9 * direct);  // the right turn back is allowed
    // Not for pedestrians, nor when switched off, nor with GDAL's reader.
    careshed::OsmReadOptions off;
    off.turn_restrictions = false;
    const double walk = *SpeedProfile::walking().speed_kmh("residential") / 3.6;
    for (const auto& [free, direct_s] : {std::pair{RoadGraph::from_osm(path, SpeedProfile::walking()), direct * v / walk},
                                          std::pair{RoadGraph::from_osm(path, SpeedProfile::car(), off), direct},
                                          std::pair{RoadGraph::from_osm(path, SpeedProfile::car(), nullptr,
                                                                        OsmReader::kGdal), direct}}) {
      EXPECT_FALSE(free.has_turn_restrictions());
      const double t = free.nearest({node_at(free, 43.0, -11.5)}).seconds[node_at(free, 43.001, -11.499)];
      EXPECT_NEAR(t, direct_s, 1e-9 * direct_s);
    }
  }
}

TEST(OsmTurnRestrictions, ExemptionsAndBrokenRelationsAreCountedNotApplied) {
  careshed::testing::ScratchDir dir;
  const std::vector<std::string> rels{
      turn(100, 10, {"way", 30}, 20, "no_u_turn"),
      turn(101, 10, {"node", 2}, 20, "no_left_turn", {{"except", "psv;motorcar"}}),
      turn(102, 10, {"node", 5}, 20, "no_left_turn"),
      turn(103, 99, {"node", 2}, 20, "no_right_turn"),
      relation(104, {{"way", 10, "from"}, {"node", 2, "via"}, {"way", 20, "to"}},
               {{"type", "restriction"}, {"restriction:hgv", "no_left_turn"}})};
  const RoadGraph g = RoadGraph::from_osm(write_file(dir, "junction.osm", junction_with(rels)), SpeedProfile::car());
  EXPECT_EQ(g.report().restrictions_read, 3u);      // 100, 102, 103 (101 exempts cars, 104 is for lorries)
  EXPECT_EQ(g.report().restrictions_via_way, 1u);   // 100: way 10 ends at node 3, where via way 30 begins
  EXPECT_EQ(g.report().restrictions_unusable, 2u);  // 102: way 10 does not reach node 5; 103: no way 99
  EXPECT_EQ(g.report().restrictions_applied, 1u);   // 100
  EXPECT_TRUE(g.has_turn_restrictions());
  // A via way whose two ends the from and the to way do not meet, or a via way and a via node, is unusable.
  const std::vector<std::string> broken{
      turn(105, 20, {"way", 30}, 20, "no_u_turn"),
      relation(106, {{"way", 10, "from"}, {"way", 30, "via"}, {"node", 3, "via"}, {"way", 20, "to"}},
               {{"type", "restriction"}, {"restriction", "no_u_turn"}})};
  const RoadGraph b = RoadGraph::from_osm(write_file(dir, "broken.osm", junction_with(broken)), SpeedProfile::car());
  EXPECT_EQ(b.report().restrictions_read, 2u);
  EXPECT_EQ(b.report().restrictions_via_way, 2u);
  EXPECT_EQ(b.report().restrictions_unusable, 2u);  // 105: way 20 meets via way 30 at one end only; 106: via a way and a node
  EXPECT_FALSE(b.has_turn_restrictions());
}

// Via ways, hand-made. Way 10 runs west-east 1 - 2 - 3, way 40 west-east 6 - 7 - 8 to its north, the via
// way 50 links 2 north to 7 (a median crossing), way 70 goes on north from 7 to 11, and way 60 loops 3 - 9 - 8
// on the east. Every way is two-way.
std::string via_way_with(const std::string& restriction) {
  return osm_xml({{1, "-11.5", "43.0"}, {2, "-11.5", "43.001"}, {3, "-11.5", "43.002"}, {6, "-11.499", "43.0"},
                  {7, "-11.499", "43.001"}, {8, "-11.499", "43.002"}, {9, "-11.4995", "43.002"},
                  {11, "-11.498", "43.001"}},
                 {way(10, {1, 2, 3}), way(40, {6, 7, 8}), way(50, {2, 7}), way(60, {3, 9, 8}), way(70, {7, 11}),
                  restriction});
}

TEST(OsmTurnRestrictions, NoUTurnAndOnlyStraightOnViaAWay) {
  careshed::testing::ScratchDir dir;
  const double v = *SpeedProfile::car().speed_kmh("residential") / 3.6;
  using careshed::haversine_m;
  struct P {
    double lon, lat;
  };
  const P p1{43.0, -11.5}, p2{43.001, -11.5}, p3{43.002, -11.5}, p6{43.0, -11.499}, p7{43.001, -11.499},
      p8{43.002, -11.499}, p9{43.002, -11.4995}, p11{43.001, -11.498};
  auto secs = [&](std::vector<P> route) {
    double m = 0.0;
    for (size_t i = 0; i + 1 < route.size(); ++i)
      m += haversine_m(route[i].lon, route[i].lat, route[i + 1].lon, route[i + 1].lat);
    return m / v;
  };
  // no_u_turn: from way 10 across the median (via way 50) back onto way 40; only_straight_on: from way 10
  // across it, only on to way 70.
  const std::string no_u_turn = turn(100, 10, {"way", 50}, 40, "no_u_turn");
  const std::string only_straight = turn(101, 10, {"way", 50}, 70, "only_straight_on");
  const double loop_1_to_6 = secs({p1, p2, p3, p9, p8, p7, p6}), direct_1_to_6 = secs({p1, p2, p7, p6});
  for (const std::string& rel : {no_u_turn, only_straight}) {
    const std::string path = write_file(dir, "via_way.osm", via_way_with(rel));
    const RoadGraph g = RoadGraph::from_osm(path, SpeedProfile::car());
    EXPECT_EQ(g.report().restrictions_read, 1u);
    EXPECT_EQ(g.report().restrictions_via_way, 1u);
    EXPECT_EQ(g.report().restrictions_applied, 1u);
    const uint32_t n1 = node_at(g, p1.lon, p1.lat), n6 = node_at(g, p6.lon, p6.lat), n7 = node_at(g, p7.lon, p7.lat),
                   n8 = node_at(g, p8.lon, p8.lat), n11 = node_at(g, p11.lon, p11.lat);
    const careshed::NearestSources from1 = g.nearest({n1});
    // 1 -> 2 -> 7 -> 6 is the forbidden manoeuvre: round the loop 3 - 9 - 8 instead.
    EXPECT_NEAR(from1.seconds[n6], loop_1_to_6, 1e-9 * loop_1_to_6);
    EXPECT_NEAR(g.nearest({n6}, {}, /*reverse=*/true).seconds[n1], loop_1_to_6, 1e-9 * loop_1_to_6);
    // Driving the via way and stopping, or going on to way 70 (no_u_turn) / the only way (only_straight_on).
    EXPECT_NEAR(from1.seconds[n7], secs({p1, p2, p7}), 1e-9);
    EXPECT_NEAR(from1.seconds[n11], secs({p1, p2, p7, p11}), 1e-9);
    // Way 40 eastbound from 7 is forbidden too (no_*: the to way either way; only_*: not the only way).
    EXPECT_NEAR(from1.seconds[n8], secs({p1, p2, p3, p9, p8}), 1e-9);
    // Starting on the via way, or reaching it from another way, is not restricted.
    EXPECT_NEAR(g.nearest({node_at(g, p2.lon, p2.lat)}).seconds[n6], secs({p2, p7, p6}), 1e-9);
    EXPECT_NEAR(g.nearest({n6}).seconds[n1], direct_1_to_6, 1e-9);  // the other way round
    // The k-nearest and per-source searches honour it too.
    const uint32_t src[2] = {n1, n11};
    std::vector<double> ks(2 * g.n_nodes());
    std::vector<int32_t> kn(ks.size());
    g.k_nearest(src, 2, 2, {}, false, ks.data(), kn.data());
    EXPECT_EQ(kn[2 * n6 + 1], 0);
    EXPECT_NEAR(ks[2 * n6 + 1], loop_1_to_6, 1e-9);
    careshed::GraphSearchOptions o;
    o.max_seconds = direct_1_to_6 * 1.01;
    const careshed::SourceReach r = g.reach(src, 1, o, false);
    EXPECT_EQ(std::count(r.nodes.begin(), r.nodes.end(), n6), 0);  // only the forbidden route is that short
    EXPECT_EQ(std::count(r.nodes.begin(), r.nodes.end(), n7), 1);
    // GDAL's reader reads no restrictions: the forbidden route is taken.
    const RoadGraph gd = RoadGraph::from_osm(path, SpeedProfile::car(), nullptr, OsmReader::kGdal);
    EXPECT_NEAR(gd.nearest({node_at(gd, p1.lon, p1.lat)}).seconds[node_at(gd, p6.lon, p6.lat)], direct_1_to_6, 1e-9);
  }
}

// Way 40 links node 3 to the pier at node 6; way 50 is a ferry (route=ferry, 30 minutes) from 6 to 7; way 60
// (7 - 8, untagged) crosses on only as a member of the ferry route relation 200; way 70 (8 - 9, untagged) is
// in no relation and is not a road. Way 80 (6 - 9) is a foot ferry.
const std::string kFerryOsm = osm_xml(
    {{3, "-11.5", "43.002"}, {6, "-11.5", "43.01"}, {7, "-11.5", "43.05"}, {8, "-11.5", "43.06"},
     {9, "-11.49", "43.06"}},
    {way(40, {3, 6}), way(50, {6, 7}, {{"route", "ferry"}, {"duration", "00:30"}}), way(60, {7, 8}, {}),
     way(70, {8, 9}, {}), way(80, {6, 9}, {{"route", "ferry"}, {"motor_vehicle", "no"}}),
     relation(200, {{"way", 60, ""}}, {{"type", "route"}, {"route", "ferry"}})});

TEST(OsmFerries, FerryWaysAndRelationMembersBecomeFerryEdgesWithTheirWait) {
  careshed::testing::ScratchDir dir;
  const std::string path = write_file(dir, "ferry.osm", kFerryOsm);
  careshed::OsmReadOptions o;
  o.ferry_wait_seconds = 600.0;
  o.ferry_speed_kmh = 25.0;
  const RoadGraph g = RoadGraph::from_osm(path, SpeedProfile::car(), o);
  EXPECT_EQ(g.report().ferry_lines, 2u);  // 50 and 60; 80 carries no cars
  size_t ferry_edges = 0;
  for (size_t e = 0; e < g.n_edges(); ++e) {
    const int64_t way = g.edge_line_id()[e];
    EXPECT_EQ(g.edge_ferry()[e], way == 50 || way == 60 ? 1 : 0) << way;
    EXPECT_EQ(g.edge_wait_seconds()[e], way == 50 || way == 60 ? 600.0 : 0.0) << way;  // one segment each
    ferry_edges += g.edge_ferry()[e];
  }
  EXPECT_EQ(ferry_edges, 4u);
  const uint32_t n6 = node_at(g, 43.01, -11.5), n7 = node_at(g, 43.05, -11.5), n8 = node_at(g, 43.06, -11.5);
  EXPECT_EQ(node_at(g, 43.06, -11.49), UINT32_MAX);  // way 70 is not a road, way 80 not for cars
  // 30 minutes of crossing (the duration tag) plus the wait, either way; then way 60 at the ferry speed.
  EXPECT_NEAR(g.nearest({n6}).seconds[n7], 600.0 + 1800.0, 1e-6);
  EXPECT_NEAR(g.nearest({n7}).seconds[n6], 600.0 + 1800.0, 1e-6);
  const double leg60 = careshed::haversine_m(43.05, -11.5, 43.06, -11.5) / (25.0 / 3.6);
  EXPECT_NEAR(g.nearest({n6}).seconds[n8], 2400.0 + 600.0 + leg60, 1e-6);
  // Pedestrians take the foot ferry too; with ferries off only the road is left.
  EXPECT_EQ(RoadGraph::from_osm(path, SpeedProfile::walking(), o).report().ferry_lines, 3u);
  careshed::OsmReadOptions off;
  off.ferries = false;
  const RoadGraph roads = RoadGraph::from_osm(path, SpeedProfile::car(), off);
  EXPECT_EQ(roads.report().ferry_lines, 0u);
  EXPECT_EQ(roads.n_nodes(), 2u);
  o.ferry_speed_kmh = 0.0;
  EXPECT_THROW(RoadGraph::from_osm(path, SpeedProfile::car(), o), careshed::InputError);
}

TEST(OsmDamaged, TruncatedXmlIsAClearErrorNamingTheFile) {
  careshed::testing::ScratchDir dir;
  const std::string text = kBridgeOsm;
  ASSERT_GT(RoadGraph::from_osm(write_file(dir, "whole.osm", text), SpeedProfile::car()).n_edges(), 0u);
  expect_damaged(write_file(dir, "cut.osm", text.substr(0, text.find("<way id=\"20\"") + 20)),
                 "truncated or corrupt (libosmium:");
}

}  // namespace
