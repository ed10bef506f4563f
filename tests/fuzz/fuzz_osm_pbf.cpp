// Fuzz target: OpenStreetMap extracts (.osm.pbf, also .osm XML: GDAL's OSM driver tells them apart by
// content) through careshed's two readers — RoadGraph::from_osm (network analyses) and the friction
// builder's road burning (add_road_speeds, on a 1-degree world grid so every road lands on it); one reader per
// input (see below).
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/friction.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"
#include "fuzz_util.hpp"

// Once per process, before the first input (libFuzzer calls it): GDAL's drivers registered and configured, so
// that no input pays for it. The OSM driver's node index: SQLite instead of its custom index files, and a 1 MB
// in-memory limit before spilling to disk — 2x the exec/s; careshed's code paths are the same.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  careshed_fuzz::init_gdal_once();
  CPLSetConfigOption("OSM_USE_CUSTOM_INDEXING", "NO");
  CPLSetConfigOption("OSM_MAX_TMPFILE_SIZE", "1");
  return 0;
}

// Each input goes through ONE of the two readers, picked by the parity of its size: opening a file with GDAL's
// OSM driver (its SQLite node index, its buffers) is most of the cost of an input, so reading it twice halved
// the exec/s (docs/fuzzing.md). Mutations change the size all the time, so both readers see every kind of input.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const careshed::GridSpec world = careshed::make_lonlat_grid({-180.0, -90.0, 180.0, 90.0}, 1.0);
  careshed_fuzz::VsiMemFile file("in.osm.pbf", data, size);
  if (size % 2 == 0) {
    try {
      careshed::RoadGraph g = careshed::RoadGraph::from_osm(file.path(), careshed::SpeedProfile::car());
      // Contract: a graph from a file is never empty (no roads is an error) and its edges are usable.
      if (g.n_edges() == 0) __builtin_trap();
      (void)g.components(true);
    } catch (const careshed::Error&) {
    }
  } else {
    try {
      careshed::RoadLayer roads;
      roads.path = file.path();
      std::vector<double> speed(static_cast<size_t>(world.size()), 0.0);
      careshed::FrictionReport report;
      careshed::add_road_speeds(roads, world, speed.data(), report);
    } catch (const careshed::Error&) {
    }
  }
  return 0;
}
