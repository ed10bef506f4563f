// Fuzz target: OpenStreetMap extracts (.osm.pbf and .osm XML) through careshed's default reader, libosmium
// (RoadGraph::from_osm with OsmReader::kLibosmium, core/src/osm_reader.cpp). fuzz_osm_pbf feeds /vsimem/ paths,
// which always go to GDAL's OSM driver (libosmium cannot open /vsi... files), so this target gives libosmium a
// real file: an anonymous in-memory file (memfd_create) opened through /proc/self/fd/N — no disk, no name to
// clean up, and the same open/read calls as a file on disk.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "careshed/error.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"

namespace {

// An in-memory file holding the input bytes, closed (and freed) on scope exit.
class MemFile {
 public:
  MemFile(const uint8_t* data, size_t size) : fd_(memfd_create("careshed_fuzz.osm", 0)) {
    if (fd_ < 0) std::abort();  // the machine cannot run this target: not a finding about the input
    for (size_t done = 0; done < size;) {
      const ssize_t w = write(fd_, data + done, size - done);
      if (w <= 0) std::abort();
      done += static_cast<size_t>(w);
    }
  }
  ~MemFile() { close(fd_); }
  MemFile(const MemFile&) = delete;
  MemFile& operator=(const MemFile&) = delete;
  std::string path() const { return "/proc/self/fd/" + std::to_string(fd_); }

 private:
  int fd_;
};

}  // namespace

// libosmium decodes PBF blocks on a thread pool sized from the machine; one worker keeps the target on the one
// core it is given (`make fuzz` runs the targets one after another on a shared machine).
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  setenv("OSMIUM_POOL_THREADS", "1", 0);
  return 0;
}

// Contract: a graph with at least one edge (a file without roads is an error), or a careshed::Error (the
// clear "truncated or corrupt" / "no roads" message the user sees). Anything else escaping — std::bad_alloc,
// a libosmium or protozero exception that was not translated, a crash or a sanitizer report — is a finding.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  MemFile file(data, size);
  try {
    careshed::RoadGraph g = careshed::RoadGraph::from_osm(file.path(), careshed::SpeedProfile::car(), nullptr,
                                                          careshed::OsmReader::kLibosmium);
    if (g.n_edges() == 0) __builtin_trap();
    (void)g.components(true);
  } catch (const careshed::Error&) {
  }
  return 0;
}
