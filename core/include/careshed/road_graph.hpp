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
// Turn restrictions (libosmium reader, profiles that respect one-way streets, i.e. vehicles; issue 14):
//   * OSM relations type=restriction with restriction=no_* (no_left_turn, no_right_turn, no_straight_on,
//     no_u_turn, no_entry, no_exit) or only_* (only_left_turn, only_right_turn, only_straight_on,
//     only_u_turn), and restriction:motorcar / restriction:motor_vehicle (which win over restriction=), with
//     a `from` way, a `via` NODE or one or more `via` WAYS, and a `to` way. A restriction whose `except` lists
//     motorcar or motor_vehicle does not apply.
//   * Via a node: no_*: arriving at the via node on the from way, the car may not leave on the to way;
//     only_*: it may leave only on the to way. A from/to way that passes through the via node instead of
//     ending there (an OSM tagging error) is taken on both sides of the node.
//   * Via ways: the via path is the route along the via way(s) (only their edges, in their allowed
//     direction) from the end of the via chain the from way reaches to the end the to way leaves from (the
//     chain's ends are the nodes met by one via segment; when there is a choice, e.g. a closed via way, the
//     path of fewest segments). no_*: a car that arrives on the from way and drives the whole via path may not
//     then leave on the to way; only_*: having driven it, it may leave only on the to way. Turning off the via
//     path in its middle, or reaching it from another way, is not restricted (the restriction speaks of the
//     manoeuvre from -> via -> to as a whole, as OSRM and Valhalla read it). A via chain that is not one
//     simple path, whose ends the from / to ways do not meet, or that cannot be driven in the needed
//     direction is unusable.
//   * Counted, not applied: conditional restrictions (restriction:conditional, not read at all), and those
//     whose members are missing, are not roads of the profile or do not meet at the via node / chain
//     (restrictions_unusable). Turn COSTS (a left turn takes longer) are not modelled.
//   * Exactly what is forbidden: each usable restriction becomes forbidden EDGE SEQUENCES — (e, f) for a via
//     node (e an edge of the from way into the via node, f an edge leaving it that the restriction forbids),
//     (e, w1, ..., wm, f) for a via path w1..wm. A route is allowed iff none of them occurs in it as
//     consecutive edges.
//   * How searches honour them — node splitting generalised to via ways: the forbidden sequences form a
//     trie with Aho-Corasick failure links (an automaton whose state is the longest suffix of the route
//     driven so far that begins some forbidden sequence); the split graph has one node per (graph node,
//     automaton state) pair that a route can be in — the original node for "no restriction in progress",
//     plus one COPY per proper prefix of a forbidden sequence, sitting at the node that prefix ends at —
//     and an arc for every edge and state except those completing a forbidden sequence. For a via node this
//     is one copy per restricted incoming edge that keeps only its allowed continuations (the original node
//     keeps every arc and receives every other incoming edge); for a via path it is one restricted copy of
//     each node along the path, entered only from the from way, whose last copy lacks the forbidden exits.
//     Dijkstra on this plain node graph is exactly the shortest allowed route (the automaton makes "allowed"
//     a property of the state reached; the graph is the product of the road graph with the automaton). It
//     grows by a few nodes and arcs per restriction (a few thousand in a national extract) where an
//     edge-based graph would multiply the graph's size by its mean degree (~2.5x nodes and ~3x arcs) for
//     every search, and a path-dependent via way could not be expressed on an edge-based graph without the
//     same copies.
//   * Two split graphs: one for searches FROM sources (the automaton above) and one for searches TO them (the
//     same construction on the transposed graph with every sequence reversed), so both kinds start at
//     original nodes only (a route may begin anywhere unconstrained) and a node's result is the best over
//     the original and its copies (a route may end in any state). This makes every kind of search honour the
//     restrictions with the same kernels: nearest(), k_nearest() and reach() below, the snapped searches of
//     snap.hpp and referral_on_road_graph (referral.hpp); turn_arcs() gives the split graph to engines that
//     take an arc list (walk + ride: copies transfer at their original's cell). A graph without restrictions
//     has no split graph and every search runs the plain CSR: the unrestricted path is the same code at the
//     same speed.
//     forward()/reverse() and the edge lists stay the plain graph (they do not see restrictions).
//
// Ferries (libosmium reader; OsmReadOptions.ferries): ways tagged route=ferry, and the member ways of
// route relations with route=ferry, become ferry lines at ferry_speed_kmh (or at the way's `duration` tag,
// [HH:]MM or ISO 8601 PT..H..M, spread over its length) with ferry_wait_seconds of waiting added to the
// first segment in each direction (boarding at a terminal; a ferry way with a connection in its middle
// would let a car board there without waiting — ferry ways run from pier to pier in OSM). Their edges carry
// edge_ferry() = 1 and their waiting share in edge_wait_seconds(), so the multimodal engine can tell ferry
// edges from road edges. They connect to roads where they share a node (OSM ferry ways end on the
// terminal's road node); a ferry line is kept for every profile (pedestrians and cars both board).
//
// Not modelled (deliberately simple; say so when reporting results): turn costs, access tags
// (access=no/private, motor_vehicle=no), direction-specific or conditional limits
// (maxspeed:forward/backward, *:conditional), traffic. Filter the extract beforehand (e.g. osmium
// tags-filter) if these matter.
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
  bool ferry = false;           ///< a ferry crossing (edge_ferry() = 1 on its edges)
  std::string road_class;       ///< its class (OSM highway, "ferry", a layer's class field; "" none), per edge
  double wait_seconds = 0.0;    ///< >= 0, waiting added to the first segment in each direction (boarding)
};

/// Which OSM reader from_osm uses (see the header comment).
enum class OsmReader : int8_t { kLibosmium = 0, kGdal = 1 };

/// A turn restriction in the ids of the input lines: RoadLine::id of the ways and RoadLine::node_ids of the
/// via node (OSM way and node ids). Via a node (via_ways empty) or via one or more ways (via_ways, in any
/// order; via_node is then ignored).
struct TurnRestriction {
  int64_t from_way = -1;  ///< the way the vehicle arrives on
  int64_t via_node = -1;  ///< the node where it turns (when via_ways is empty)
  int64_t to_way = -1;    ///< the way it leaves on
  bool only = false;      ///< only_*: to_way is the only way it may leave on; no_*: it may not leave on to_way
  std::vector<int64_t> via_ways;  ///< the via way(s) of a via-way restriction (see the header)
};

/// Options of the OSM readers beyond the profile. Turn restrictions and ferries are read by the
/// libosmium reader only (GDAL's driver gives no node identity for a restriction's via node, and keeps
/// relations in another layer); with kGdal they are absent and the report says so (0 read).
struct OsmReadOptions {
  OsmReader reader = OsmReader::kLibosmium;
  bool turn_restrictions = true;      ///< read and honour restriction relations (vehicle profiles)
  bool ferries = true;                ///< route=ferry ways and ferry route relations become ferry lines
  double ferry_speed_kmh = 20.0;      ///< > 0; used when the ferry way has no usable `duration`
  double ferry_wait_seconds = 1800.0; ///< >= 0; waiting time added when boarding at a terminal
};

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
  size_t ferry_lines = 0;          ///< ferry lines (route=ferry ways and ferry relation members) used
  size_t restrictions_read = 0;    ///< restriction relations of the profile read (via node or via way)
  size_t restrictions_applied = 0; ///< of those, honoured by the searches
  size_t restrictions_via_way = 0; ///< of those read, restrictions via a way (applied or unusable like the others)
  size_t restrictions_unusable = 0;///< not applied: a member missing, not a road of the profile, or not at the via node
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
  /// The same with every reader option (turn restrictions, ferries). InputError for a ferry speed that is
  /// not finite and > 0 or a waiting time that is not finite and >= 0.
  static RoadGraph from_osm(const std::string& path, const SpeedProfile& profile, const OsmReadOptions& options,
                            RunControl* control = nullptr);
  /// Builds from any OGR line layer. At least one of fields.speed_field / fields.class_field is needed.
  static RoadGraph from_lines(const std::string& path, const LineLayerFields& fields, const SpeedProfile& profile,
                              RunControl* control = nullptr);
  /// Builds from lines in memory. crs_wkt may be empty when unknown; geographic says whether xy are lon/lat
  /// degrees (haversine lengths) or metres (Euclidean lengths).
  /// `restrictions` (needs node ids on the lines) are resolved against the lines' ids and node ids; those
  /// that cannot be (see the header) are counted in report().restrictions_unusable, not an error.
  static RoadGraph from_road_lines(const std::vector<RoadLine>& lines, bool geographic, std::string crs_wkt = "",
                                   const std::vector<TurnRestriction>& restrictions = {});

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
  /// Per edge: 1 for a ferry crossing, 0 for a road; and the seconds of waiting included in edge_seconds()
  /// (the ferry's boarding wait on a terminal's first segment, else 0).
  const std::vector<uint8_t>& edge_ferry() const { return ferry_; }
  const std::vector<double>& edge_wait_seconds() const { return wait_seconds_; }
  /// Per edge, the index of its line's class in class_names() (OSM highway, "ferry", a layer's class field,
  /// "" when the line had none): what time-of-day factors by class are looked up by.
  const std::vector<uint16_t>& edge_class() const { return class_; }
  const std::vector<std::string>& class_names() const { return class_names_; }

  /// A copy whose edges run at speed x factors[e] (time of day, congestion; issue 14): seconds become
  /// (seconds - wait) / factor + wait (a ferry's boarding wait does not scale), speeds speed x factor; the
  /// CSRs and the turn restrictions' split graph are rebuilt. factors: one per edge, finite and > 0
  /// (InputError naming the first bad edge otherwise). O(nodes + edges).
  RoadGraph with_speed_factors(const std::vector<double>& factors) const;

  /// The multi-source search of graph_search.hpp (same conventions, sources are node ids < n_nodes())
  /// honouring the turn restrictions: times FROM the sources (reverse = false; a node's time is its best
  /// arrival over every incoming edge) or TO them (reverse = true; a node is the unconstrained start).
  /// Outputs have n_nodes() entries. Without restrictions it is exactly nearest_source_search on
  /// forward()/reverse(). Index: int32_t, int64_t or uint32_t.
  template <typename Index>
  void nearest(const Index* sources, size_t n_sources, const GraphSearchOptions& options, bool reverse,
               double* out_seconds, int32_t* out_nearest, RunControl* control = nullptr) const;
  NearestSources nearest(const std::vector<uint32_t>& sources, const GraphSearchOptions& options = {},
                         bool reverse = false, RunControl* control = nullptr) const;

  /// The k nearest distinct sources per node honouring the turn restrictions (k_nearest_source_search's
  /// conventions; outputs (n_nodes(), k) row-major). Without restrictions exactly k_nearest_source_search on
  /// forward()/reverse().
  template <typename Index>
  void k_nearest(const Index* sources, size_t n_sources, int k, const GraphSearchOptions& options, bool reverse,
                 double* out_seconds, int32_t* out_nearest, RunControl* control = nullptr) const;
  /// Per source, every node within options.max_seconds honouring the turn restrictions
  /// (bounded_search_per_source's conventions: lists sorted by node id, node ids < n_nodes()).
  template <typename Index>
  SourceReach reach(const Index* sources, size_t n_sources, const GraphSearchOptions& options, bool reverse,
                    RunControl* control = nullptr) const;

  /// Whether some turn restriction is honoured (then the searches run on the split graphs).
  bool has_turn_restrictions() const { return !turn_seq_edges_.empty(); }
  /// The split graph for searches FROM sources (to_sources = false) or TO them (true; its arcs run against
  /// the direction of travel, as reverse() does), empty (0 nodes) without restrictions. Node ids < n_nodes()
  /// are the graph's nodes, ids >= n_nodes() copies of turn_copy_origin(to_sources)[id - n_nodes()].
  const CsrGraph& turn_graph(bool to_sources) const { return to_sources ? turn_to_.graph : turn_from_.graph; }
  const std::vector<uint32_t>& turn_copy_origin(bool to_sources = false) const {
    return to_sources ? turn_to_.origin : turn_from_.origin;
  }
  /// The arcs of the split graph for searches FROM sources (to_sources = false) or TO them (true), both in
  /// the direction of travel: arc a runs tails[a] -> heads[a] along plain edge edges[a] (its seconds, length,
  /// class ...); node ids >= n_nodes() are copies of copy_origin[id - n_nodes()]. The FROM arcs also serve
  /// searches of either direction whose every copy may start and end a trip at its original's place (walk +
  /// ride: a copy holds a subset of its original's arcs, so starting at a copy is never better than starting
  /// at the original, and ending at a copy is ending at the original). Without restrictions: the plain edges
  /// (edges[a] = a), no copies. O(edges) to build (not stored).
  struct TurnArcs {
    std::vector<uint32_t> tails, heads, edges;
    std::vector<uint32_t> copy_origin;  ///< per copy (node id - n_nodes()), its original node
  };
  TurnArcs turn_arcs(bool to_sources = false) const;

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
  static RoadGraph from_osm_libosmium(const std::string& path, const SpeedProfile& profile,
                                      const OsmReadOptions& options, RunControl* control);
  // Shared end of both OSM readers: "no roads" error, the graph, and the merged report.
  static RoadGraph from_osm_lines(const std::string& path, const SpeedProfile& profile,
                                  const std::vector<RoadLine>& lines, RoadGraphReport rep, bool geographic,
                                  double metres_per_unit, const std::string& crs_wkt,
                                  const std::vector<TurnRestriction>& restrictions = {});

  bool geographic_ = false;
  double metres_per_unit_ = 1.0;
  std::string crs_wkt_;
  std::vector<double> x_, y_;
  std::vector<uint32_t> tails_, heads_;
  std::vector<double> seconds_, length_m_, speed_kmh_;
  std::vector<int64_t> line_id_;
  std::vector<uint8_t> ferry_;
  std::vector<uint16_t> class_;
  std::vector<std::string> class_names_;
  std::vector<double> wait_seconds_;
  CsrGraph forward_, reverse_;
  // The turn restrictions as forbidden edge sequences (CSR: sequence s is turn_seq_edges_[turn_seq_first_[s] ..
  // turn_seq_first_[s+1])), resolved once; the split graphs are rebuilt from them when seconds change.
  template <typename NodeOf>
  void resolve_restrictions(const std::vector<TurnRestriction>& restrictions, NodeOf node_of);
  void build_turn_graph();
  template <typename Index>
  void check_sources(const Index* sources, size_t n_sources) const;
  std::vector<uint32_t> turn_seq_first_{0}, turn_seq_edges_;
  struct TurnSplit {
    CsrGraph graph;
    std::vector<uint32_t> origin;
  };
  TurnSplit turn_from_, turn_to_;
  RoadGraphReport report_;
};

/// Great-circle distance in metres between two lon/lat points (degrees) on the sphere of radius
/// 6 371 008.8 m, by the haversine formula. Used for edge lengths of geographic graphs.
double haversine_m(double lon1, double lat1, double lon2, double lat2);

/// Mean Earth radius in metres used by every geographic distance in careshed's network code.
inline constexpr double kEarthRadiusM = 6371008.8;

}  // namespace careshed
