// RoadGraph::from_osm_libosmium: the OpenStreetMap road reader with node identity (issue 14).
// Graph nodes are OSM nodes (by id), so ways meet exactly where they share a node; GDAL's driver (the
// other reader, road_graph.cpp) hands over coordinates only, and the builder must match them. Tag rules,
// units and the graph layout are shared with that reader (osm_reader.hpp, from_osm_lines).
#include <ogr_srs_api.h>
#include <cpl_conv.h>

#include <cstring>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <osmium/handler.hpp>
#include <osmium/handler/node_locations_for_ways.hpp>
#include <osmium/index/map/flex_mem.hpp>
#include <osmium/io/pbf_input.hpp>
#include <osmium/io/xml_input.hpp>
#include <osmium/osm/way.hpp>
#include <osmium/visitor.hpp>

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

// WGS 84 lon/lat as GDAL's OSM driver declares it, so both readers give graphs with the same crs_wkt.
std::string wgs84_wkt() {
  OGRSpatialReferenceH srs = OSRNewSpatialReference(nullptr);
  std::string out;
  char* wkt = nullptr;
  if (OSRSetWellKnownGeogCS(srs, "WGS84") == OGRERR_NONE && OSRExportToWkt(srs, &wkt) == OGRERR_NONE && wkt) out = wkt;
  CPLFree(wkt);
  OSRDestroySpatialReference(srs);
  return out;
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

// Collects the profile's roads as RoadLines carrying their OSM node ids. A way is split where one of its
// nodes is missing from the file (clipped extracts): no edge is invented across the gap.
class RoadCollector : public osmium::handler::Handler {
 public:
  RoadCollector(const SpeedProfile& profile, RoadGraphReport& rep, std::vector<RoadLine>& lines)
      : profile_(profile), rep_(rep), lines_(lines) {}

  void way(const osmium::Way& way) {
    if (is_area(way)) return;
    ++rep_.features_read;
    const osmium::TagList& tags = way.tags();
    RoadLine proto;
    if (!detail::osm_road_line({tag_or_empty(tags, "highway"), tag_or_empty(tags, "oneway"),
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
  const SpeedProfile& profile_;
  RoadGraphReport& rep_;
  std::vector<RoadLine>& lines_;
};

}  // namespace

RoadGraph RoadGraph::from_osm_libosmium(const std::string& path, const SpeedProfile& profile, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reading roads");
  const std::string format = sniff_format(path);
  RoadGraphReport rep;
  std::vector<RoadLine> lines;
  try {
    osmium::io::Reader reader{osmium::io::File{path, format},
                              osmium::osm_entity_bits::node | osmium::osm_entity_bits::way};
    using Index = osmium::index::map::FlexMem<osmium::unsigned_object_id_type, osmium::Location>;
    Index index;
    osmium::handler::NodeLocationsForWays<Index> locations{index};
    locations.ignore_errors();  // a node missing from the file: its location stays invalid (see RoadCollector)
    RoadCollector roads{profile, rep, lines};
    const double size = static_cast<double>(reader.file_size());
    while (osmium::memory::Buffer buffer = reader.read()) {  // one buffer = a few thousand objects
      if (control) {
        control->throw_if_cancelled();
        if (size > 0) control->report(0.9 * static_cast<double>(reader.offset()) / size);
      }
      osmium::apply(buffer, locations, roads);
    }
    reader.close();
  } catch (const Error&) {
    throw;
  } catch (const Cancelled&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& e) {
    // libosmium's pbf_error / xml_error / io_error (cut-off block, bad zlib data, malformed XML, ...).
    throw DataIOError(path + ": reading stopped after " + std::to_string(rep.features_read) + " ways (" +
                      std::to_string(lines.size()) + " road lines): the file is truncated or corrupt (libosmium: " +
                      e.what() + "); " + detail::kOsmReadRemedy);
  }
  return from_osm_lines(path, profile, lines, rep, /*geographic=*/true, 1.0, wgs84_wkt());
}

}  // namespace careshed
