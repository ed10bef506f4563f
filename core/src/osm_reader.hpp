// Internal: what both OpenStreetMap readers (GDAL's driver in road_graph.cpp, libosmium in osm_reader.cpp)
// share, so a way's tags become the same road line whichever reader saw it.
#pragma once

#include <string>

#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"

namespace careshed::detail {

/// The tags of one OSM way that decide whether and how it becomes a road line.
struct OsmWayTags {
  std::string highway, oneway, maxspeed, junction;
};

/// Sets proto's speed and direction from the tags (rules in road_graph.hpp). Returns false, counting the
/// reason in `rep` (excluded_class / excluded_reversible), when the way is not a road of the profile;
/// counts speed_from_maxspeed when maxspeed was used.
bool osm_road_line(const OsmWayTags& tags, const SpeedProfile& profile, RoadLine* proto, RoadGraphReport* rep);

/// Remedy appended to every "truncated or corrupt OSM file" error, the same for both readers.
inline constexpr const char* kOsmReadRemedy =
    "download or export the extract again (an interrupted download leaves a cut-off file)";

}  // namespace careshed::detail
