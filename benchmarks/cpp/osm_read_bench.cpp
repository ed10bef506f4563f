// osm_read_bench — road graph build time from an OSM extract: libosmium reader (node identity, the default)
// against GDAL's OSM driver (coordinate matching), same file, same profile, in one run (C++ only).
// Usage: osm_read_bench [repeat=5] [profile=car] FILE.osm.pbf ...
// Times the whole RoadGraph::from_osm (read, tag rules, node numbering, Hilbert order, CSR); best of
// `repeat` for wall and process CPU time (libosmium decodes PBF blocks on a thread pool, so its CPU time can
// exceed its wall time; OSMIUM_POOL_THREADS sets that pool's size). The two graphs' sizes are printed so a
// reader that dropped roads would show.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <vector>

#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timing {
  double wall = std::numeric_limits<double>::infinity(), cpu = std::numeric_limits<double>::infinity();
  uint32_t nodes = 0;
  size_t edges = 0;
};

Timing time_reader(const std::string& path, const careshed::SpeedProfile& profile, careshed::OsmReader reader,
                   int repeat) {
  Timing t;
  for (int r = 0; r < repeat; ++r) {
    const double c0 = cpu_seconds();
    const auto w0 = std::chrono::steady_clock::now();
    const careshed::RoadGraph g = careshed::RoadGraph::from_osm(path, profile, nullptr, reader);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    t.wall = std::min(t.wall, wall);
    t.cpu = std::min(t.cpu, cpu_seconds() - c0);
    t.nodes = g.n_nodes();
    t.edges = g.n_edges();
  }
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s REPEAT PROFILE FILE.osm.pbf ...\n", argv[0]);
    return 2;
  }
  const int repeat = std::max(1, std::atoi(argv[1]));
  const careshed::SpeedProfile profile = careshed::SpeedProfile::by_name(argv[2]);
  std::printf("%-40s %-10s %9s %9s %9s %9s %8s\n", "file", "reader", "wall ms", "cpu ms", "nodes", "edges",
              "wall x");
  for (int i = 3; i < argc; ++i) {
    const Timing gdal = time_reader(argv[i], profile, careshed::OsmReader::kGdal, repeat);
    const Timing osm = time_reader(argv[i], profile, careshed::OsmReader::kLibosmium, repeat);
    std::printf("%-40s %-10s %9.1f %9.1f %9u %9zu %8s\n", argv[i], "GDAL", 1e3 * gdal.wall, 1e3 * gdal.cpu,
                gdal.nodes, gdal.edges, "1.00");
    std::printf("%-40s %-10s %9.1f %9.1f %9u %9zu %8.2f\n", argv[i], "libosmium", 1e3 * osm.wall, 1e3 * osm.cpu,
                osm.nodes, osm.edges, gdal.wall / osm.wall);
  }
  return 0;
}
