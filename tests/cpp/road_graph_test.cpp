// Road graph builder on the real OSM extracts shipped in data/ (and on small layers written here).
// Independent checks: the test reads the same ways with OGR itself (its own tag lookup), computes
// haversine lengths with its own formula (atan2 form), runs its own BFS for components, and compares.
#include <gtest/gtest.h>

#include <cpl_error.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/graph_search.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"
#include "careshed/progress.hpp"
#include "run_control_checks.hpp"

using careshed::Direction;
using careshed::RoadGraph;
using careshed::SpeedProfile;

namespace {

const std::string kData = std::string(CARESHED_SOURCE_DIR) + "/data/";

// Great-circle metres, atan2 form of the haversine (written independently of the library's asin form).
double haversine_test(double lon1, double lat1, double lon2, double lat2) {
  const double R = 6371008.8, k = M_PI / 180.0;
  const double dlat = (lat2 - lat1) * k, dlon = (lon2 - lon1) * k;
  const double a = std::pow(std::sin(dlat / 2), 2) + std::cos(lat1 * k) * std::cos(lat2 * k) * std::pow(std::sin(dlon / 2), 2);
  return R * 2 * std::atan2(std::sqrt(a), std::sqrt(1 - a));
}

std::string tag(const std::string& other_tags, const std::string& key) {
  const std::string pat = "\"" + key + "\"=>\"";
  auto p = other_tags.find(pat);
  if (p == std::string::npos) return "";
  p += pat.size();
  return other_tags.substr(p, other_tags.find('"', p) - p);
}

struct OsmWay {
  int64_t id;
  std::string highway, other;
  std::vector<double> lon, lat;
};

std::vector<OsmWay> read_ways(const std::string& path) {
  GDALAllRegister();
  CPLPushErrorHandler(CPLQuietErrorHandler);  // the OSM driver warns about other layers' broken rings
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR, nullptr, nullptr, nullptr);
  EXPECT_NE(ds, nullptr);
  std::vector<OsmWay> ways;
  OGRLayerH lines = GDALDatasetGetLayerByName(ds, "lines");
  for (;;) {
    OGRLayerH belongs = nullptr;
    OGRFeatureH f = GDALDatasetGetNextFeature(ds, &belongs, nullptr, nullptr, nullptr);
    if (!f) break;
    if (belongs == lines) {
      OsmWay w;
      w.id = std::stoll(OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "osm_id")));
      w.highway = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "highway"));
      w.other = OGR_F_GetFieldAsString(f, OGR_F_GetFieldIndex(f, "other_tags"));
      OGRGeometryH g = OGR_F_GetGeometryRef(f);
      for (int i = 0; g && i < OGR_G_GetPointCount(g); ++i) {
        w.lon.push_back(OGR_G_GetX(g, i));
        w.lat.push_back(OGR_G_GetY(g, i));
      }
      ways.push_back(std::move(w));
    }
    OGR_F_Destroy(f);
  }
  GDALClose(ds);
  CPLPopErrorHandler();
  return ways;
}

int64_t node_at(const RoadGraph& g, double lon, double lat) {
  for (uint32_t v = 0; v < g.n_nodes(); ++v)
    if (g.node_x()[v] == lon && g.node_y()[v] == lat) return v;
  return -1;
}

// Seconds of the edge tail→head coming from line `id`, or -1.
double edge_seconds(const RoadGraph& g, int64_t tail, int64_t head, int64_t id) {
  for (size_t i = 0; i < g.n_edges(); ++i)
    if (g.edge_tails()[i] == tail && g.edge_heads()[i] == head && g.edge_line_id()[i] == id) return g.edge_seconds()[i];
  return -1;
}

}  // namespace

TEST(RoadGraph, HelsinkiOneWayStreetsAreAsymmetric) {
  RoadGraph g = RoadGraph::from_osm(kData + "osm/helsinki.osm.pbf", SpeedProfile::car());
  auto ways = read_ways(kData + "osm/helsinki.osm.pbf");
  int checked = 0;
  for (const OsmWay& w : ways) {
    if (w.highway != "residential" || tag(w.other, "oneway") != "yes" || w.lon.size() < 2) continue;
    const int64_t a = node_at(g, w.lon[0], w.lat[0]), b = node_at(g, w.lon[1], w.lat[1]);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    SCOPED_TRACE("way " + std::to_string(w.id));
    EXPECT_GT(edge_seconds(g, a, b, w.id), 0.0);      // the digitised direction exists
    EXPECT_EQ(edge_seconds(g, b, a, w.id), -1.0);     // the other does not
    // Network times: a→b is at most the edge; b→a must detour around the block (or is impossible).
    auto from_a = careshed::nearest_source_search(g.forward(), {static_cast<uint32_t>(a)});
    auto from_b = careshed::nearest_source_search(g.forward(), {static_cast<uint32_t>(b)});
    EXPECT_LE(from_a.seconds[b], edge_seconds(g, a, b, w.id) + 1e-9);
    EXPECT_GT(from_b.seconds[a], from_a.seconds[b]);
    // Time TO a (reverse graph) from b equals time FROM b to a.
    auto to_a = careshed::nearest_source_search(g.reverse(), {static_cast<uint32_t>(a)});
    EXPECT_DOUBLE_EQ(to_a.seconds[b], from_b.seconds[a]);
    if (++checked == 5) break;
  }
  EXPECT_EQ(checked, 5);
  EXPECT_GT(g.report().oneway_lines, 100u);
}

TEST(RoadGraph, ComorosRoundaboutsAreImpliedOneWay) {
  RoadGraph g = RoadGraph::from_osm(kData + "comoros/comores-latest.osm.pbf", SpeedProfile::car());
  int checked = 0;
  for (const OsmWay& w : read_ways(kData + "comoros/comores-latest.osm.pbf")) {
    if (tag(w.other, "junction") != "roundabout" || !tag(w.other, "oneway").empty() || w.lon.size() < 2) continue;
    if (!SpeedProfile::car().speed_kmh(w.highway)) continue;
    SCOPED_TRACE("way " + std::to_string(w.id));
    const int64_t a = node_at(g, w.lon[0], w.lat[0]), b = node_at(g, w.lon[1], w.lat[1]);
    ASSERT_TRUE(a >= 0 && b >= 0);
    EXPECT_GT(edge_seconds(g, a, b, w.id), 0.0);
    EXPECT_EQ(edge_seconds(g, b, a, w.id), -1.0);
    ++checked;
  }
  EXPECT_GE(checked, 5);
  // Walking ignores one-way rules, roundabouts included.
  RoadGraph walk = RoadGraph::from_osm(kData + "comoros/comores-latest.osm.pbf", SpeedProfile::walking());
  EXPECT_EQ(walk.report().oneway_lines, 0u);
}

TEST(RoadGraph, HelsinkiMaxspeedAndClassSpeeds) {
  SpeedProfile car = SpeedProfile::car();
  RoadGraph g = RoadGraph::from_osm(kData + "osm/helsinki.osm.pbf", car);
  std::map<int64_t, double> speed_of_line;
  for (size_t i = 0; i < g.n_edges(); ++i) speed_of_line[g.edge_line_id()[i]] = g.edge_speed_kmh()[i];
  int with_ms = 0, without_ms = 0, excluded = 0;
  for (const OsmWay& w : read_ways(kData + "osm/helsinki.osm.pbf")) {
    const std::string ms = tag(w.other, "maxspeed");
    auto it = speed_of_line.find(w.id);
    if (!car.speed_kmh(w.highway)) {
      EXPECT_EQ(it, speed_of_line.end()) << "way " << w.id << " highway=" << w.highway << " must be excluded";
      ++excluded;
      continue;
    }
    if (it == speed_of_line.end()) continue;  // e.g. a reversible way
    if (!ms.empty() && ms.find_first_not_of("0123456789") == std::string::npos) {
      EXPECT_DOUBLE_EQ(it->second, std::stod(ms)) << "way " << w.id;
      ++with_ms;
    } else if (ms.empty()) {
      EXPECT_DOUBLE_EQ(it->second, *car.speed_kmh(w.highway)) << "way " << w.id;
      ++without_ms;
    }
  }
  EXPECT_GT(with_ms, 100);
  EXPECT_GT(without_ms, 10);
  EXPECT_GT(excluded, 100);  // footways, paths, cycleways, steps ...
  // Walking ignores maxspeed and oneway: every edge at the walking table's speed, both directions.
  RoadGraph walk = RoadGraph::from_osm(kData + "osm/helsinki.osm.pbf", SpeedProfile::walking());
  EXPECT_EQ(walk.report().oneway_lines, 0u);
  EXPECT_EQ(walk.report().speed_from_maxspeed, 0u);
  EXPECT_GT(walk.report().lines_used, g.report().lines_used);
}

TEST(RoadGraph, EdgeLengthsMatchHaversine) {
  RoadGraph g = RoadGraph::from_osm(kData + "osm/finland_small.osm.pbf", SpeedProfile::car());
  ASSERT_TRUE(g.geographic());
  ASSERT_GT(g.n_edges(), 100u);
  for (size_t i = 0; i < g.n_edges(); ++i) {
    const uint32_t a = g.edge_tails()[i], b = g.edge_heads()[i];
    const double expect = haversine_test(g.node_x()[a], g.node_y()[a], g.node_x()[b], g.node_y()[b]);
    ASSERT_NEAR(g.edge_length_m()[i], expect, 1e-6 * expect + 1e-9) << "edge " << i;
    ASSERT_NEAR(g.edge_seconds()[i], expect / (g.edge_speed_kmh()[i] / 3.6), 1e-6) << "edge " << i;
  }
  // A whole way: its vertices' lengths summed from the file equal the summed edge lengths of that way.
  for (const OsmWay& w : read_ways(kData + "osm/finland_small.osm.pbf")) {
    if (w.highway != "residential" || !tag(w.other, "oneway").empty() || w.lon.size() < 4) continue;
    double file_len = 0;
    for (size_t k = 1; k < w.lon.size(); ++k) file_len += haversine_test(w.lon[k - 1], w.lat[k - 1], w.lon[k], w.lat[k]);
    double graph_len = 0;
    for (size_t i = 0; i < g.n_edges(); ++i)
      if (g.edge_line_id()[i] == w.id) graph_len += g.edge_length_m()[i];
    EXPECT_NEAR(graph_len, 2 * file_len, 1e-6 * file_len) << "way " << w.id << " (both directions)";
    break;
  }
}

TEST(RoadGraph, ComponentsMatchBreadthFirstSearch) {
  // The roads alone (ferries off): the islands are separate road networks (with ferries: below).
  careshed::OsmReadOptions roads_only;
  roads_only.ferries = false;
  RoadGraph g = RoadGraph::from_osm(kData + "comoros/comores-latest.osm.pbf", SpeedProfile::car(), roads_only);
  auto c = g.components();
  ASSERT_EQ(c.id.size(), g.n_nodes());
  // Independent BFS over undirected adjacency.
  std::vector<std::vector<uint32_t>> adj(g.n_nodes());
  for (size_t i = 0; i < g.n_edges(); ++i) {
    adj[g.edge_tails()[i]].push_back(g.edge_heads()[i]);
    adj[g.edge_heads()[i]].push_back(g.edge_tails()[i]);
  }
  std::vector<int> label(g.n_nodes(), -1);
  std::vector<int64_t> sizes;
  for (uint32_t s = 0; s < g.n_nodes(); ++s) {
    if (label[s] >= 0) continue;
    const int id = static_cast<int>(sizes.size());
    int64_t count = 0;
    std::queue<uint32_t> q;
    q.push(s);
    label[s] = id;
    while (!q.empty()) {
      uint32_t v = q.front();
      q.pop();
      ++count;
      for (uint32_t w : adj[v])
        if (label[w] < 0) label[w] = id, q.push(w);
    }
    sizes.push_back(count);
  }
  std::vector<int64_t> sorted = sizes;
  std::sort(sorted.rbegin(), sorted.rend());
  EXPECT_EQ(c.sizes, sorted);
  // Same partition: nodes share a BFS label exactly when they share a component id.
  std::map<int, int> bfs_to_comp;
  for (uint32_t v = 0; v < g.n_nodes(); ++v) {
    auto [it, fresh] = bfs_to_comp.emplace(label[v], c.id[v]);
    ASSERT_EQ(it->second, c.id[v]) << "node " << v;
  }
  EXPECT_EQ(bfs_to_comp.size(), c.sizes.size());
  // The Comoros are islands: Grande Comore, Anjouan and Mohéli cannot be one road network.
  ASSERT_GE(c.sizes.size(), 3u);
  EXPECT_GT(c.sizes[2], 1000);
  EXPECT_LT(c.sizes[0], static_cast<int64_t>(g.n_nodes()));
  // The largest component is an island: its longitudes span far less than the archipelago's.
  double lo = 1e9, hi = -1e9;
  for (uint32_t v = 0; v < g.n_nodes(); ++v)
    if (c.id[v] == 0) lo = std::min(lo, g.node_x()[v]), hi = std::max(hi, g.node_x()[v]);
  EXPECT_LT(hi - lo, 0.6);
  // The OSM ferry ways join island networks: the largest component grows beyond one island.
  const RoadGraph ferries = RoadGraph::from_osm(kData + "comoros/comores-latest.osm.pbf", SpeedProfile::car());
  EXPECT_GT(ferries.report().ferry_lines, 0u);
  EXPECT_GT(ferries.components().sizes[0], c.sizes[0]);
}

TEST(RoadGraph, StrongComponentsMatchMutualReachability) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int n = 5 + static_cast<int>(rng() % 40);
    // Random one-way and two-way segments between points on a small integer grid.
    std::vector<careshed::RoadLine> lines;
    for (int i = 0; i < n; ++i) {
      careshed::RoadLine l;
      const double a = rng() % 8, b = rng() % 8, c = rng() % 8, d = rng() % 8;
      if (a == c && b == d) continue;
      l.xy = {a, b, c, d};
      l.speed_kmh = 10;
      l.direction = static_cast<Direction>(static_cast<int>(rng() % 3) - 1);
      lines.push_back(l);
    }
    if (lines.empty()) continue;
    RoadGraph g = RoadGraph::from_road_lines(lines, false);
    const uint32_t nn = g.n_nodes();
    // reach[u][v] by BFS from every node.
    std::vector<std::vector<uint32_t>> adj(nn);
    for (size_t i = 0; i < g.n_edges(); ++i) adj[g.edge_tails()[i]].push_back(g.edge_heads()[i]);
    std::vector<std::vector<char>> reach(nn, std::vector<char>(nn, 0));
    for (uint32_t s = 0; s < nn; ++s) {
      std::queue<uint32_t> q;
      q.push(s);
      reach[s][s] = 1;
      while (!q.empty()) {
        uint32_t v = q.front();
        q.pop();
        for (uint32_t w : adj[v])
          if (!reach[s][w]) reach[s][w] = 1, q.push(w);
      }
    }
    auto c = g.components(/*strong=*/true);
    int64_t total = 0;
    for (auto sz : c.sizes) total += sz;
    EXPECT_EQ(total, nn);
    for (uint32_t u = 0; u < nn; ++u)
      for (uint32_t v = 0; v < nn; ++v)
        ASSERT_EQ(c.id[u] == c.id[v], reach[u][v] && reach[v][u]) << "nodes " << u << ", " << v;
    for (size_t k = 1; k < c.sizes.size(); ++k) EXPECT_GE(c.sizes[k - 1], c.sizes[k]);
  }
}

TEST(RoadGraph, SharedVerticesConnectCrossingsDoNot) {
  // Two lines crossing at (5, 5) without a shared vertex, and a third sharing (10, 10) with the first.
  std::vector<careshed::RoadLine> lines(3);
  lines[0].xy = {0, 0, 10, 10};
  lines[0].speed_kmh = 36;  // 10 m/s
  lines[1].xy = {0, 10, 10, 0};
  lines[1].speed_kmh = 36;
  lines[2].xy = {10, 10, 10, 20, 10, 20};  // a repeated vertex is ignored
  lines[2].speed_kmh = 72;
  lines[2].direction = Direction::kForward;
  RoadGraph g = RoadGraph::from_road_lines(lines, /*geographic=*/false);
  EXPECT_EQ(g.n_nodes(), 5u);
  EXPECT_EQ(g.n_edges(), 2u + 2u + 1u);
  auto c = g.components();
  EXPECT_EQ(c.sizes, (std::vector<int64_t>{3, 2}));
  const int64_t o = node_at(g, 0, 0), top = node_at(g, 10, 20);
  auto r = careshed::nearest_source_search(g.forward(), {static_cast<uint32_t>(o)});
  EXPECT_NEAR(r.seconds[top], std::sqrt(200.0) / 10 + 10.0 / 20, 1e-12);
  auto back = careshed::nearest_source_search(g.forward(), {static_cast<uint32_t>(top)});
  EXPECT_TRUE(std::isinf(back.seconds[o]));  // one-way: no way back
}

TEST(RoadGraph, ParseOneway) {
  Direction d;
  for (const char* s : {"yes", "True", "1", "FT", "T", "y"}) {
    ASSERT_TRUE(careshed::parse_oneway(s, &d));
    EXPECT_EQ(d, Direction::kForward) << s;
  }
  for (const char* s : {"-1", "reverse", "TF"}) {
    ASSERT_TRUE(careshed::parse_oneway(s, &d));
    EXPECT_EQ(d, Direction::kBackward) << s;
  }
  for (const char* s : {"no", "false", "0", "", "B", "F", "N", "maybe"}) {
    ASSERT_TRUE(careshed::parse_oneway(s, &d));
    EXPECT_EQ(d, Direction::kBoth) << s;
  }
  EXPECT_FALSE(careshed::parse_oneway("reversible", &d));
  EXPECT_FALSE(careshed::parse_oneway("alternating", &d));
}

namespace {
// Writes a GeoJSON line layer in EPSG:3067 (metres) or without CRS.
std::string write_layer(const std::string& name, bool with_crs) {
  const std::string path = ::testing::TempDir() + name;
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fprintf(f, "{\"type\":\"FeatureCollection\",%s\"features\":[\n",
               with_crs ? "\"crs\":{\"type\":\"name\",\"properties\":{\"name\":\"urn:ogc:def:crs:EPSG::3067\"}}," : "");
  std::fprintf(f,
               "{\"type\":\"Feature\",\"properties\":{\"kind\":\"primary\",\"kmh\":72,\"dir\":\"FT\"},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[300,400]]}},\n"
               "{\"type\":\"Feature\",\"properties\":{\"kind\":\"residential\",\"kmh\":null,\"dir\":\"B\"},"
               "\"geometry\":{\"type\":\"MultiLineString\",\"coordinates\":[[[300,400],[300,1000]],[[0,0],[0,-50]]]}},\n"
               "{\"type\":\"Feature\",\"properties\":{\"kind\":\"footway\",\"kmh\":5,\"dir\":null},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[0,0],[-10,0]]}},\n"
               "{\"type\":\"Feature\",\"properties\":{\"kind\":\"secondary\",\"kmh\":\"30 mph\",\"dir\":\"TF\"},"
               "\"geometry\":{\"type\":\"LineString\",\"coordinates\":[[300,1000],[300,1100]]}}\n"
               "]}\n");
  std::fclose(f);
  return path;
}
}  // namespace

TEST(RoadGraph, GenericLineLayerWithFields) {
  const std::string path = write_layer("careshed_lines.geojson", true);
  careshed::LineLayerFields fields;
  fields.class_field = "kind";
  fields.speed_field = "kmh";
  fields.oneway_field = "dir";
  RoadGraph g = RoadGraph::from_lines(path, fields, SpeedProfile::car());
  EXPECT_FALSE(g.geographic());
  EXPECT_EQ(g.report().features_read, 4u);
  EXPECT_EQ(g.report().excluded_class, 1u);  // footway is not in the car profile
  const int64_t o = node_at(g, 0, 0), a = node_at(g, 300, 400), b = node_at(g, 300, 1000),
                c = node_at(g, 300, 1100), s = node_at(g, 0, -50);
  ASSERT_TRUE(o >= 0 && a >= 0 && b >= 0 && c >= 0 && s >= 0);
  auto from_o = careshed::nearest_source_search(g.forward(), {static_cast<uint32_t>(o)});
  EXPECT_NEAR(from_o.seconds[a], 500.0 / 20.0, 1e-12);                   // 72 km/h = 20 m/s, FT
  EXPECT_NEAR(from_o.seconds[b], 25.0 + 600.0 / (30.0 / 3.6), 1e-9);     // residential class speed
  EXPECT_NEAR(from_o.seconds[s], 50.0 / (30.0 / 3.6), 1e-9);             // second part of the multi-line
  EXPECT_TRUE(std::isinf(from_o.seconds[c]));                             // TF: only 1100 → 1000
  auto from_c = careshed::nearest_source_search(g.forward(), {static_cast<uint32_t>(c)});
  EXPECT_NEAR(from_c.seconds[b], 100.0 / (30 * 1.609344 / 3.6), 1e-9);   // "30 mph" parsed
  EXPECT_TRUE(std::isinf(from_c.seconds[o]));                             // a→o blocked by FT
}

TEST(RoadGraph, ClearErrors) {
  careshed::LineLayerFields fields;
  fields.class_field = "kind";
  // A CSV with WKT geometries carries no CRS: refused, because lengths could not be measured.
  const std::string csv = ::testing::TempDir() + "careshed_nocrs.csv";
  std::FILE* f = std::fopen(csv.c_str(), "w");
  std::fprintf(f, "WKT,kind\n\"LINESTRING (0 0,1 1)\",primary\n");
  std::fclose(f);
  EXPECT_THROW(RoadGraph::from_lines(csv, fields, SpeedProfile::car()), careshed::CrsError);
  // A missing field names the fields that exist.
  fields.class_field = "highway_class";
  try {
    RoadGraph::from_lines(write_layer("careshed_fields.geojson", true), fields, SpeedProfile::car());
    FAIL();
  } catch (const careshed::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("kind, kmh, dir"), std::string::npos) << e.what();
  }
  fields = {};
  EXPECT_THROW(RoadGraph::from_lines(write_layer("careshed_nofields.geojson", true), fields, SpeedProfile::car()),
               careshed::InputError);
  EXPECT_THROW(RoadGraph::from_osm(kData + "osm/does_not_exist.osm.pbf", SpeedProfile::car()), careshed::DataIOError);
  EXPECT_THROW(RoadGraph::from_osm(csv, SpeedProfile::car()), careshed::DataIOError);
  // A profile with no class present in the extract: nothing to build.
  SpeedProfile none("none", {{"no_such_class", 10}});
  EXPECT_THROW(RoadGraph::from_osm(kData + "osm/finland_small.osm.pbf", none), careshed::InputError);
}

// ---- cancellation and progress (careshed/progress.hpp) ------------------------------------------------
namespace {

TEST(RoadGraphControl, SameGraphWithAControlAndCancelStopsTheOsmReader) {
  const std::string path = kData + "osm/helsinki.osm.pbf";
  const RoadGraph a = RoadGraph::from_osm(path, SpeedProfile::car());
  RoadGraph b = RoadGraph::from_osm(path, SpeedProfile::car());  // replaced below
  careshed_test::watch_progress(
      [&](careshed::RunControl* c) { b = RoadGraph::from_osm(path, SpeedProfile::car(), c); }, "RoadGraph::from_osm");
  EXPECT_EQ(a.forward().n_nodes(), b.forward().n_nodes());
  EXPECT_EQ(a.forward().n_edges(), b.forward().n_edges());
  EXPECT_EQ(a.report().features_read, b.report().features_read);
  careshed_test::expect_stops_when_cancelled_before(
      [&](careshed::RunControl* c) { RoadGraph::from_osm(path, SpeedProfile::car(), c); }, "RoadGraph::from_osm");
  careshed_test::expect_stops_when_cancelled_midway(
      [&](careshed::RunControl* c) {
        RoadGraph::from_osm(kData + "comoros/comores-latest.osm.pbf", SpeedProfile::car(), c);
      },
      "RoadGraph::from_osm (Comoros)", 0.02);
}

}  // namespace
