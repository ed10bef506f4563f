// careshed/road_graph.hpp — a routable road graph from OpenStreetMap or any OGR line layer.
//
// What becomes the graph:
//   * Every vertex of every kept line is a graph node; vertices with exactly the same coordinates (OSM
//     ways share their nodes' coordinates bit for bit) are the same node, so ways connect where they
//     share a vertex — at junctions, not where lines merely cross (bridges stay bridges). Degree-2
//     chains are NOT contracted: keeping every vertex lets a point snap to the middle of a long rural
//     road instead of to a junction kilometres away (the graph is ~3x larger; searches stay fast).
//   * Each pair of consecutive vertices gives one or two directed edges with seconds = length / speed.
//     Length: haversine great-circle distance on a sphere of radius 6 371 008.8 m (mean Earth radius)
//     when the layer CRS is geographic (lon/lat; at most ~0.5 % from the ellipsoidal geodesic), else
//     the Euclidean length in the projected CRS times its linear unit (metres, feet, ...).
//   * Direction (profile.respect_oneway()): oneway = yes / y / true / t / 1 / ft → forward only; -1 /
//     reverse / tf → backward only; no / n / false / f / 0 / b → both ways (single letters are boolean
//     fields, ft/tf the ESRI convention); reversible / alternating → the line is excluded
//     (its direction depends on the time of day); absent → both ways, except junction = roundabout or
//     circular and highway = motorway, which OSM defines as implied one-way.
//   * Speed (km/h): OSM: a `maxspeed` that parses (parse_maxspeed) when profile.use_maxspeed(), else the
//     profile's speed for the `highway` class. Generic layers: the caller's speed field (numeric km/h, or
//     text parsed like maxspeed) when it holds a usable value, else the class speed. A line whose class is
//     not in the profile is excluded (e.g. footway for car), as is a line without any usable speed; the
//     report counts every exclusion.
//   * Node ids are renumbered along a Hilbert curve of the coordinates once at build time, so that nodes
//     near each other on the map are near each other in memory (on a 1 M-node street grid a search ran
//     1.7x faster than with randomly numbered nodes, and faster than row-major order; BENCHMARKS.md).
//     Node ids are therefore not OSM ids; node_x()/node_y() give each node's coordinates.
//
// Not modelled (deliberately simple; say so when reporting results): turn restrictions and turn costs,
// access tags (access=no/private, motor_vehicle=no), direction-specific or conditional limits
// (maxspeed:forward/backward, *:conditional), traffic and time of day, ferries (route=ferry is not a
// highway). Filter the extract beforehand (e.g. osmium tags-filter) if these matter.
//
// OSM input (from_osm): a .osm.pbf or .osm (XML) file, read by one of two readers (OsmReader):
//   * kLibosmium (the default): libosmium reads nodes and ways; graph nodes are OSM nodes, identified by
//     their OSM node id, so ways connect exactly where they share a node. Two ways that pass through the
//     same coordinates without a shared node (a bridge over a road drawn with a vertex at the crossing, a
//     tunnel, two parallel ways digitised on the same points) stay apart. A way referencing a node that is
//     not in the file (a clipped extract) is split at the missing node. Which ways are lines follows GDAL's
//     osmconf.ini rule so both readers take the same ways: a closed way (first node = last node) is an area,
//     not a road, when it has area=yes, or, unless area=no, a key of closed_ways_are_polygons (aeroway,
//     amenity, boundary, building, craft, geological, historic, landuse, leisure, military, natural, office,
//     place, shop, sport, tourism) or highway=platform / public_transport=platform. The CRS is WGS 84 lon/lat
//     (the WKT GDAL's driver gives). Damaged input (a cut-off or corrupt PBF block, malformed XML, a file
//     that is neither format) is a DataIOError naming the file, how much was read and libosmium's reason.
//   * kGdal: GDAL's OSM driver (below); vertices are matched by coordinates. Kept because: paths on GDAL's
//     virtual file systems (/vsimem/, /vsizip/, /vsicurl/ ...; the fuzz target tests/fuzz/fuzz_osm_pbf.cpp
//     reads from /vsimem/) are always read by it, libosmium cannot open them; the friction rasteriser
//     (add_road_speeds, friction.cpp) reads OSM roads through the same driver's "lines" layer; and it is the
//     reference the libosmium reader is tested against (tests/cpp/osm_reader_test.cpp).
// GDAL reader: GDAL's OSM driver, layer "lines". `highway` is a field in
// GDAL's default osmconf.ini; oneway, maxspeed and junction usually sit in the hstore-like `other_tags`
// string ("k"=>"v","k2"=>"v2"). Each key is read from its own field when the configuration has one, else
// from other_tags (escaped quotes handled).
//
// Thread-safety: building is single-threaded; a built RoadGraph is immutable and safe to read from many
// threads. Errors: DataIOError (file/layer cannot be opened or read, or is truncated/corrupt), CrsError (layer without a CRS),
// InputError (a named field is missing, with the list of fields that exist; no usable line at all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "careshed/graph_search.hpp"
#include "careshed/speed_profile.hpp"

namespace careshed {

class RunControl;  // careshed/progress.hpp

/// Direction of travel allowed on a line relative to its digitised order.
enum class Direction : int8_t { kBoth = 0, kForward = 1, kBackward = -1 };

/// Parses a oneway value (OSM or ESRI style, see header): returns false when the value means "exclude"
/// (reversible / alternating); unknown values are treated as both ways.
bool parse_oneway(const std::string& value, Direction* out);

/// One input line in memory (for callers that already hold their roads, and for tests).
struct RoadLine {
  std::vector<double> xy;  ///< interleaved x0, y0, x1, y1, ... in the graph CRS (lon/lat if geographic)
  double speed_kmh = 0.0;  ///< > 0
  Direction direction = Direction::kBoth;
  int64_t id = -1;         ///< caller's id (OSM way id, feature id), kept per edge
  /// Optional vertex identities (OSM node ids), one per vertex. When every line has them, vertices are the
  /// same graph node iff their ids are equal (coordinates are not compared); when no line has them,
  /// vertices with identical coordinates are the same node. Mixing both is an InputError.
  std::vector<int64_t> node_ids;
};

/// Which OSM reader from_osm uses (see the header comment).
enum class OsmReader : int8_t { kLibosmium = 0, kGdal = 1 };

/// Field names for a generic OGR line layer. Empty = not used.
struct LineLayerFields {
  std::string layer;         ///< layer name; empty = the first layer
  std::string speed_field;   ///< km/h (numeric) or maxspeed-like text
  std::string class_field;   ///< class looked up in the profile
  std::string oneway_field;  ///< oneway values as above
};

/// What the builder read and dropped.
struct RoadGraphReport {
  size_t features_read = 0;        ///< line features in the layer (OSM: all ways in "lines")
  size_t lines_used = 0;           ///< lines that became edges
  size_t excluded_class = 0;       ///< no class / class not in the profile
  size_t excluded_no_speed = 0;    ///< generic layers: neither a usable speed nor a class speed
  size_t excluded_reversible = 0;  ///< oneway = reversible / alternating
  size_t excluded_geometry = 0;    ///< empty or non-line geometry, or fewer than 2 distinct vertices
  size_t speed_from_maxspeed = 0;  ///< lines whose speed came from maxspeed / the speed field
  size_t oneway_lines = 0;         ///< lines kept in one direction only
};

/// Connected components: weakly connected (edge directions ignored: islands, gaps in the data) or strongly
/// connected (every node can reach every other: one-way traps, dead-end one-way streets).
struct Components {
  std::vector<int32_t> id;      ///< per node: 0 = largest component, 1 = next, ... (ties: lowest node first)
  std::vector<int64_t> sizes;   ///< nodes per component, descending
};

class RoadGraph {
 public:
  /// Builds from an OpenStreetMap extract (.osm.pbf/.osm) with a profile (see header).
  /// from_osm and from_lines take an optional RunControl (careshed/progress.hpp), polled every 4096
  /// features (progress: the OSM driver's position in the file / features read of the layer's count);
  /// they throw careshed::Cancelled after request_cancel().
  /// `reader` picks libosmium (node identity, the default) or GDAL's OSM driver (coordinate matching);
  /// a /vsi... path is always read by GDAL's driver.
  static RoadGraph from_osm(const std::string& path, const SpeedProfile& profile, RunControl* control = nullptr,
                            OsmReader reader = OsmReader::kLibosmium);
  /// Builds from any OGR line layer. At least one of fields.speed_field / fields.class_field is needed.
  static RoadGraph from_lines(const std::string& path, const LineLayerFields& fields, const SpeedProfile& profile,
                              RunControl* control = nullptr);
  /// Builds from lines in memory. crs_wkt may be empty when unknown; geographic says whether xy are lon/lat
  /// degrees (haversine lengths) or metres (Euclidean lengths).
  static RoadGraph from_road_lines(const std::vector<RoadLine>& lines, bool geographic, std::string crs_wkt = "");

  uint32_t n_nodes() const { return forward_.n_nodes(); }
  size_t n_edges() const { return tails_.size(); }
  bool geographic() const { return geographic_; }
  const std::string& crs_wkt() const { return crs_wkt_; }
  /// Metres per CRS unit of a projected graph (1 for metre CRSs and for geographic graphs).
  double metres_per_unit() const { return metres_per_unit_; }

  /// Node coordinates in the graph CRS (lon/lat degrees when geographic()).
  const std::vector<double>& node_x() const { return x_; }
  const std::vector<double>& node_y() const { return y_; }

  /// Directed edges (one entry per direction): tail, head, seconds, length in metres, speed in km/h and
  /// the id of the line they came from.
  const std::vector<uint32_t>& edge_tails() const { return tails_; }
  const std::vector<uint32_t>& edge_heads() const { return heads_; }
  const std::vector<double>& edge_seconds() const { return seconds_; }
  const std::vector<double>& edge_length_m() const { return length_m_; }
  const std::vector<double>& edge_speed_kmh() const { return speed_kmh_; }
  const std::vector<int64_t>& edge_line_id() const { return line_id_; }

  /// The CSR for searches FROM sources, and its transpose for times TO sources.
  const CsrGraph& forward() const { return forward_; }
  const CsrGraph& reverse() const { return reverse_; }

  /// Weakly (default) or strongly connected components, computed on each call in O(nodes + edges).
  /// Component 0 is the largest; equal sizes are ordered by their lowest node id.
  Components components(bool strong = false) const;

  const RoadGraphReport& report() const { return report_; }

 private:
  void scale_lengths(double metres_per_unit);
  static RoadGraph from_osm_gdal(const std::string& path, const SpeedProfile& profile, RunControl* control);
  static RoadGraph from_osm_libosmium(const std::string& path, const SpeedProfile& profile, RunControl* control);
  // Shared end of both OSM readers: "no roads" error, the graph, and the merged report.
  static RoadGraph from_osm_lines(const std::string& path, const SpeedProfile& profile,
                                  const std::vector<RoadLine>& lines, RoadGraphReport rep, bool geographic,
                                  double metres_per_unit, const std::string& crs_wkt);

  bool geographic_ = false;
  double metres_per_unit_ = 1.0;
  std::string crs_wkt_;
  std::vector<double> x_, y_;
  std::vector<uint32_t> tails_, heads_;
  std::vector<double> seconds_, length_m_, speed_kmh_;
  std::vector<int64_t> line_id_;
  CsrGraph forward_, reverse_;
  RoadGraphReport report_;
};

/// Great-circle distance in metres between two lon/lat points (degrees) on the sphere of radius
/// 6 371 008.8 m, by the haversine formula. Used for edge lengths of geographic graphs.
double haversine_m(double lon1, double lat1, double lon2, double lat2);

/// Mean Earth radius in metres used by every geographic distance in careshed's network code.
inline constexpr double kEarthRadiusM = 6371008.8;

}  // namespace careshed
