// RoadGraph::from_osm_libosmium: the OpenStreetMap road reader with node identity (issue 14).
// Graph nodes are OSM nodes (by id), so ways meet exactly where they share a node; GDAL's driver (the
// other reader, road_graph.cpp) hands over coordinates only, and the builder must match them. Tag rules,
// units and the graph layout are shared with that reader (osm_reader.hpp, from_osm_lines).
#include <ogr_srs_api.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <cmath>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/pbf_input.hpp>
#include <osmium/io/xml_input.hpp>
#include <osmium/osm/relation.hpp>
#include <osmium/osm/way.hpp>
#include <osmium/thread/pool.hpp>
#include <osmium/visitor.hpp>
#include <protozero/exception.hpp>
#include <protozero/pbf_reader.hpp>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/road_graph.hpp"
#include "osm_reader.hpp"

namespace careshed {

namespace {

// The format from the first bytes, not the name: a PBF file starts with a BlobHeader whose type is
// "OSMHeader"; OSM XML starts with '<' (after an optional UTF-8 byte order mark and white space).
// Returns "pbf" or "xml"; throws DataIOError naming the file otherwise.
std::string sniff_format(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw DataIOError(path + ": cannot open as an OpenStreetMap file (.osm.pbf / .osm) (check the path and format)");
  }
  char head[64] = {};
  in.read(head, sizeof head);
  const size_t n = static_cast<size_t>(in.gcount());
  if (n == 0) {
    throw DataIOError(path + ": the file is empty (0 bytes), so truncated or never written; " +
                      detail::kOsmReadRemedy);
  }
  for (size_t i = 0; i + 9 <= n; ++i)
    if (std::memcmp(head + i, "OSMHeader", 9) == 0) return "pbf";
  size_t i = (n >= 3 && std::memcmp(head, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
  while (i < n && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) ++i;
  if (i < n && head[i] == '<') return "xml";
  throw DataIOError(path + ": cannot read as an OpenStreetMap file (.osm.pbf / .osm): it starts with neither an "
                           "OSM PBF header nor XML (" + std::to_string(n) +
                    " bytes looked at); if it is an extract, it is cut off or corrupt: " + detail::kOsmReadRemedy);
}

// libosmium compares each BlobHeader's type string with std::strncmp(expected, type.data(), type.size()); a
// header without a type passes a null pointer there (undefined behaviour, found by fuzz_osm_libosmium) and is then
// taken for the expected type. So careshed walks the PBF framing first — per blob a 4-byte big-endian header length,
// the BlobHeader (field 1: type, field 3: datasize), then datasize bytes — and refuses a header without a type.
// Anything else odd in the framing (a cut-off file, a missing datasize, a bad length) ends the walk and is left to
// libosmium, whose own error says where reading stopped. Reads only the headers: one seek per blob.
void check_pbf_blob_types(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(std::max<std::streamoff>(0, in.tellg()));
  std::uint64_t offset = 0;
  std::string header;
  for (std::uint64_t blob = 0; offset + 4 <= file_size; ++blob) {
    unsigned char len_be[4];
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(reinterpret_cast<char*>(len_be), 4)) return;
    const std::uint32_t len = (std::uint32_t{len_be[0]} << 24) | (std::uint32_t{len_be[1]} << 16) |
                              (std::uint32_t{len_be[2]} << 8) | std::uint32_t{len_be[3]};
    if (len == 0 || len > 64 * 1024 || len > file_size - offset - 4) return;
    header.resize(len);
    if (!in.read(&header[0], len)) return;
    bool has_type = false;
    std::int64_t datasize = 0;
    try {
      protozero::pbf_reader msg{header};
      while (msg.next()) {
        if (msg.tag() == 1 && msg.wire_type() == protozero::pbf_wire_type::length_delimited) {
          has_type = msg.get_view().size() > 0;
        } else if (msg.tag() == 3 && msg.wire_type() == protozero::pbf_wire_type::varint) {
          datasize = msg.get_int32();
        } else {
          msg.skip();
        }
      }
    } catch (const protozero::exception&) {
      return;  // a malformed header: libosmium says so
    }
    if (!has_type) {
      throw DataIOError(path + ": the file is truncated or corrupt: its blob " + std::to_string(blob + 1) +
                        " (at byte " + std::to_string(offset) + ") has no type (OSMHeader / OSMData); " +
                        detail::kOsmReadRemedy);
    }
    if (datasize <= 0) return;
    offset += 4 + std::uint64_t{len} + static_cast<std::uint64_t>(datasize);
  }
}

// WGS 84 lon/lat as GDAL's OSM driver declares it, so both readers give graphs with the same crs_wkt
// (osm_reader_test compares them). GDAL's own constant, not an OSRSetWellKnownGeogCS + export round trip: that
// round trip gave the same string but created GDAL's thread-local PROJ context and its database just to format a
// constant, and fuzz_osm_libosmium then met an UndefinedBehaviorSanitizer report in PROJ's teardown of that
// context at process exit (docs/fuzzing.md). The libosmium reader now needs no PROJ at all.
std::string wgs84_wkt() { return SRS_WKT_WGS84_LAT_LONG; }

// libosmium keeps an object's tags as NUL-terminated key and value strings one after the other, and walks them
// with strlen-like steps until it lands exactly on the list's end. A PBF string table may hold a string with a
// NUL byte inside (found by fuzz_osm_libosmium): the key/value pairing then shifts, a walk can step past the
// end and every tag lookup reads out of bounds. So each object's tag list is walked here within its bytes
// before any lookup, and a list that does not split into whole key/value pairs makes the file damaged.
void check_tag_list(const osmium::TagList& tags, const char* kind, osmium::object_id_type id) {
  const char* p = reinterpret_cast<const char*>(tags.data()) + sizeof(osmium::TagList);
  const char* const end = reinterpret_cast<const char*>(tags.data()) + tags.byte_size();
  while (p < end) {
    for (int part = 0; part < 2; ++part) {  // key, then value
      const void* nul = p < end ? std::memchr(p, '\0', static_cast<size_t>(end - p)) : nullptr;
      if (nul == nullptr) {
        throw std::runtime_error(std::string(kind) + " " + std::to_string(id) +
                                 " has a tag whose key or value holds a NUL byte (a damaged string table)");
      }
      p = static_cast<const char*>(nul) + 1;
    }
  }
}

std::string tag_or_empty(const osmium::TagList& tags, const char* key) {
  const char* v = tags.get_value_by_key(key);
  return v ? std::string(v) : std::string();
}

// GDAL osmconf.ini's closed_ways_are_polygons (keys, and the two key=value entries): a closed way with one
// of them is an area, which GDAL puts in "multipolygons", not "lines". Followed so both readers take the
// same ways as roads (see road_graph.hpp).
bool is_area(const osmium::Way& way) {
  const auto& nodes = way.nodes();
  if (nodes.size() < 3 || nodes.front().ref() != nodes.back().ref()) return false;
  static const char* const kAreaKeys[] = {"aeroway", "amenity", "boundary", "building", "craft",   "geological",
                                          "historic", "landuse", "leisure", "military", "natural", "office",
                                          "place",    "shop",    "sport",   "tourism"};
  const osmium::TagList& tags = way.tags();
  if (const char* area = tags.get_value_by_key("area")) {
    if (std::strcmp(area, "yes") == 0) return true;
    if (std::strcmp(area, "no") == 0) return false;
  }
  for (const char* k : kAreaKeys)
    if (tags.has_key(k)) return true;
  return tags.has_tag("highway", "platform") || tags.has_tag("public_transport", "platform");
}

// A ferry's `duration` tag in seconds: "MM", "HH:MM", "HH:MM:SS" or ISO 8601 "PT1H30M" / "PT45M" / "PT2H".
// nullopt when it does not parse or is not > 0.
std::optional<double> parse_duration_seconds(const char* text) {
  if (text == nullptr) return std::nullopt;
  const std::string v(text);
  double total = 0.0;
  if (v.size() > 2 && v[0] == 'P' && v[1] == 'T') {
    size_t i = 2;
    bool any = false;
    while (i < v.size()) {
      size_t j = i;
      while (j < v.size() && (std::isdigit(static_cast<unsigned char>(v[j])) || v[j] == '.')) ++j;
      if (j == i || j >= v.size()) return std::nullopt;
      const double x = std::atof(v.substr(i, j - i).c_str());
      const char unit = v[j];
      if (unit == 'H') total += 3600.0 * x;
      else if (unit == 'M') total += 60.0 * x;
      else if (unit == 'S') total += x;
      else return std::nullopt;
      any = true;
      i = j + 1;
    }
    if (!any) return std::nullopt;
  } else {
    // [[HH:]MM:]SS is ambiguous in OSM; the wiki's forms are MM, HH:MM and HH:MM:SS.
    std::vector<double> parts;
    size_t i = 0;
    while (i <= v.size()) {
      size_t j = v.find(':', i);
      if (j == std::string::npos) j = v.size();
      const std::string part = v.substr(i, j - i);
      if (part.empty() || part.find_first_not_of("0123456789.") != std::string::npos) return std::nullopt;
      parts.push_back(std::atof(part.c_str()));
      i = j + 1;
    }
    if (parts.size() == 1) total = 60.0 * parts[0];
    else if (parts.size() == 2) total = 3600.0 * parts[0] + 60.0 * parts[1];
    else if (parts.size() == 3) total = 3600.0 * parts[0] + 60.0 * parts[1] + parts[2];
    else return std::nullopt;
  }
  if (!(total > 0.0) || !std::isfinite(total)) return std::nullopt;
  return total;
}

// Whether a restriction's `except` (e.g. "psv;bicycle") exempts cars.
bool exempts_cars(const char* except) {
  if (except == nullptr) return false;
  std::string v(except);
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(';', i);
    if (j == std::string::npos) j = v.size();
    std::string item = v.substr(i, j - i);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item == "motorcar" || item == "motor_vehicle") return true;
    i = j + 1;
  }
  return false;
}

// First pass (relations only; they come last in a file, after the ways they name): the turn restrictions
// of vehicle profiles, and the member ways of ferry routes.
class RelationCollector : public osmium::handler::Handler {
 public:
  RelationCollector(const SpeedProfile& profile, const OsmReadOptions& options, RoadGraphReport& rep,
                    std::vector<TurnRestriction>& restrictions, std::unordered_set<int64_t>& ferry_ways)
      : vehicle_(profile.respect_oneway()), options_(options), rep_(rep), restrictions_(restrictions),
        ferry_ways_(ferry_ways) {}

  void relation(const osmium::Relation& rel) {
    check_tag_list(rel.tags(), "relation", rel.id());
    const osmium::TagList& tags = rel.tags();
    if (options_.ferries && tags.has_tag("type", "route") && tags.has_tag("route", "ferry")) {
      for (const osmium::RelationMember& m : rel.members())
        if (m.type() == osmium::item_type::way) ferry_ways_.insert(m.ref());
      return;
    }
    if (!options_.turn_restrictions || !vehicle_ || !tags.has_tag("type", "restriction")) return;
    const char* value = tags.get_value_by_key("restriction:motorcar");
    if (value == nullptr) value = tags.get_value_by_key("restriction:motor_vehicle");
    if (value == nullptr) value = tags.get_value_by_key("restriction");
    if (value == nullptr || exempts_cars(tags.get_value_by_key("except"))) return;
    const bool only = std::strncmp(value, "only_", 5) == 0;
    if (!only && std::strncmp(value, "no_", 3) != 0) return;
    std::vector<int64_t> from, to, via_nodes, via_ways;
    for (const osmium::RelationMember& m : rel.members()) {
      const char* role = m.role();
      if (std::strcmp(role, "from") == 0 && m.type() == osmium::item_type::way) from.push_back(m.ref());
      else if (std::strcmp(role, "to") == 0 && m.type() == osmium::item_type::way) to.push_back(m.ref());
      else if (std::strcmp(role, "via") == 0) {
        if (m.type() == osmium::item_type::node) via_nodes.push_back(m.ref());
        else if (m.type() == osmium::item_type::way) via_ways.push_back(m.ref());
      }
    }
    // One (from, via, to) turn per pair: no_entry names several from ways, no_exit several to ways.
    const size_t turns = std::max<size_t>(1, from.size() * to.size());
    rep_.restrictions_read += turns;
    if (!via_ways.empty()) rep_.restrictions_via_way += turns;
    // Exactly one via node, or one or more via ways (road_graph.hpp); only_* names one from and one to way.
    const bool via_ok = via_ways.empty() ? via_nodes.size() == 1 : via_nodes.empty();
    if (!via_ok || from.empty() || to.empty() || (only && (from.size() != 1 || to.size() != 1))) {
      rep_.restrictions_unusable += turns;
      return;
    }
    for (int64_t f : from)
      for (int64_t t : to)
        restrictions_.push_back({f, via_ways.empty() ? via_nodes[0] : -1, t, only, via_ways});
  }

 private:
  bool vehicle_;
  const OsmReadOptions& options_;
  RoadGraphReport& rep_;
  std::vector<TurnRestriction>& restrictions_;
  std::unordered_set<int64_t>& ferry_ways_;
};

// Sum of the haversine lengths of a way's located segments, metres.
double way_length_m(const osmium::WayNodeList& nodes) {
  double len = 0.0;
  for (size_t i = 1; i < nodes.size(); ++i) {
    const osmium::Location a = nodes[i - 1].location(), b = nodes[i].location();
    if (a.valid() && b.valid()) len += haversine_m(a.lon_without_check(), a.lat_without_check(),
                                                   b.lon_without_check(), b.lat_without_check());
  }
  return len;
}

// Collects the profile's roads as RoadLines carrying their OSM node ids. A way is split where one of its
// nodes is missing from the file (clipped extracts): no edge is invented across the gap.
class RoadCollector : public osmium::handler::Handler {
 public:
  RoadCollector(const SpeedProfile& profile, const OsmReadOptions& options,
                const std::unordered_set<int64_t>& ferry_ways, RoadGraphReport& rep, std::vector<RoadLine>& lines)
      : profile_(profile), options_(options), ferry_ways_(ferry_ways), rep_(rep), lines_(lines) {}

  void way(const osmium::Way& way) {
    check_tag_list(way.tags(), "way", way.id());
    if (is_area(way)) return;
    ++rep_.features_read;
    const osmium::TagList& tags = way.tags();
    RoadLine proto;
    if (options_.ferries && (tags.has_tag("route", "ferry") || ferry_ways_.count(way.id()))) {
      if (!ferry_line(way, &proto)) return;
    } else if (!detail::osm_road_line({tag_or_empty(tags, "highway"), tag_or_empty(tags, "oneway"),
                                       tag_or_empty(tags, "maxspeed"), tag_or_empty(tags, "junction")},
                                      profile_, &proto, &rep_)) {
      return;
    }
    proto.id = way.id();
    bool any = false;
    RoadLine part = proto;
    auto flush = [&] {
      if (part.node_ids.size() >= 2) {
        lines_.push_back(std::move(part));
        any = true;
      }
      part = proto;
    };
    for (const osmium::NodeRef& nr : way.nodes()) {
      const osmium::Location loc = nr.location();
      if (!loc.valid()) {
        flush();
        continue;
      }
      part.xy.push_back(loc.lon_without_check());
      part.xy.push_back(loc.lat_without_check());
      part.node_ids.push_back(nr.ref());
    }
    flush();
    if (!any) ++rep_.excluded_geometry;
  }

 private:
  // A ferry crossing: the options' speed, or the way's duration over its length; both ways unless a
  // vehicle profile meets oneway; not for cars when the ferry carries no motor vehicles.
  bool ferry_line(const osmium::Way& way, RoadLine* proto) {
    const osmium::TagList& tags = way.tags();
    if (profile_.respect_oneway() && (tags.has_tag("motor_vehicle", "no") || tags.has_tag("motorcar", "no"))) {
      ++rep_.excluded_class;
      return false;
    }
    proto->ferry = true;
    proto->road_class = "ferry";
    proto->wait_seconds = options_.ferry_wait_seconds;
    proto->speed_kmh = options_.ferry_speed_kmh;
    if (auto d = parse_duration_seconds(tags.get_value_by_key("duration"))) {
      const double len = way_length_m(way.nodes());
      if (len > 0.0) proto->speed_kmh = len / *d * 3.6;
    }
    if (profile_.respect_oneway()) {
      if (const char* ow = tags.get_value_by_key("oneway")) {
        if (!parse_oneway(ow, &proto->direction)) {
          ++rep_.excluded_reversible;
          return false;
        }
      }
    }
    return true;
  }

  const SpeedProfile& profile_;
  const OsmReadOptions& options_;
  const std::unordered_set<int64_t>& ferry_ways_;
  RoadGraphReport& rep_;
  std::vector<RoadLine>& lines_;
};

// libosmium's errors (cut-off block, bad zlib data, malformed XML, ...) as the DataIOError of both readers.
[[noreturn]] void throw_damaged(const std::string& path, const std::string& read_so_far, const std::exception& e) {
  throw DataIOError(path + ": reading stopped after " + read_so_far + ": the file is truncated or corrupt (libosmium: " +
                    e.what() + "); " + detail::kOsmReadRemedy);
}

}  // namespace

RoadGraph RoadGraph::from_osm_libosmium(const std::string& path, const SpeedProfile& profile,
                                        const OsmReadOptions& options, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reading roads");
  const std::string format = sniff_format(path);
  if (format == "pbf") check_pbf_blob_types(path);
  RoadGraphReport rep;
  std::vector<RoadLine> lines;
  std::vector<TurnRestriction> restrictions;
  std::unordered_set<int64_t> ferry_ways;
  // Pass 1, relations only: a file lists relations after the ways they name, and a ferry relation's member
  // ways must be known when the ways are read. Skipped when neither restrictions nor ferries are wanted.
  const bool relations = options.ferries || (options.turn_restrictions && profile.respect_oneway());
  const double pass2_start = relations ? 0.2 : 0.0;
  // libosmium decodes PBF blocks on a thread pool. Its default pool is a process-wide static whose threads live
  // until exit: a process forked after a read (Python's multiprocessing, Dask workers) inherits the pool without
  // its threads and hangs forever on its next read (libosmium's own note: "Do not use this if your program will
  // fork"; test_fork_after_reading_osm), and the pool's threads race the exit-time teardown (fuzz_osm_libosmium
  // saw UndefinedBehaviorSanitizer reports there, docs/fuzzing.md). So each call owns its pool, declared before
  // the readers so that it outlives them: its threads are joined before from_osm returns or throws. Threads:
  // OSMIUM_POOL_THREADS, by default the cores minus 2, at least 1 (libosmium's rule).
  osmium::thread::Pool pool{};
  auto read = [&](osmium::osm_entity_bits::type entities, double from, double to, auto&... handlers) {
    osmium::io::Reader reader{osmium::io::File{path, format}, entities, pool};
    const double size = static_cast<double>(reader.file_size());
    while (osmium::memory::Buffer buffer = reader.read()) {  // one buffer = a few thousand objects
      if (control) {
        control->throw_if_cancelled();
        if (size > 0) control->report(from + (to - from) * static_cast<double>(reader.offset()) / size);
      }
      osmium::apply(buffer, handlers...);
    }
    reader.close();
  };
  try {
    if (relations) {
      RelationCollector rels{profile, options, rep, restrictions, ferry_ways};
      read(osmium::osm_entity_bits::relation, 0.0, pass2_start, rels);
    }
    using Index = osmium::index::map::FlexMem<osmium::unsigned_object_id_type, osmium::Location>;
    Index index;
    osmium::handler::NodeLocationsForWays<Index> locations{index};
    locations.ignore_errors();  // a node missing from the file: its location stays invalid (see RoadCollector)
    RoadCollector roads{profile, options, ferry_ways, rep, lines};
    read(osmium::osm_entity_bits::node | osmium::osm_entity_bits::way, pass2_start, 0.9, locations, roads);
  } catch (const Error&) {
    throw;
  } catch (const Cancelled&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    throw_damaged(path, std::to_string(rep.features_read) + " ways (" + std::to_string(lines.size()) + " road lines)",
                  e);
  }
  return from_osm_lines(path, profile, lines, rep, /*geographic=*/true, 1.0, wgs84_wkt(), restrictions);
}

}  // namespace careshed
