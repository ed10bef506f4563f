// Fuzz target: careshed's vector reading (io.hpp read_vector / list_layers, road_graph.hpp from_lines) on
// GeoJSON, CSV, GeoPackage and FlatGeobuf bytes. The first byte picks the format (the file extension GDAL
// sees), the rest is the file, held in /vsimem/.
#include <string>

#include "careshed/error.hpp"
#include "careshed/io.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  careshed_fuzz::init_gdal_once();
  if (size < 1) return 0;
  static const char* const kNames[] = {"in.geojson", "in.csv", "in.gpkg", "in.fgb"};
  const std::string name = kNames[data[0] % 4];
  careshed_fuzz::VsiMemFile file(name, data + 1, size - 1);
  try {
    const auto layers = careshed::list_layers(file.path());
    for (size_t i = 0; i < layers.size() && i < 4; ++i) {
      careshed::ReadOptions o;
      o.layer = layers[i];
      if (name == "in.csv") {  // points from x/y columns, as the CLI does for facility tables
        o.x_field = "x";
        o.y_field = "y";
        o.crs = "EPSG:4326";
      }
      try {
        careshed::VectorTable t = careshed::read_vector(file.path(), o);
        for (const auto& c : t.columns) {
          for (size_t r = 0; r < c.size(); ++r) (void)c.number(r), (void)c.text(r);
        }
        (void)t.describe();
      } catch (const careshed::Error&) {
      }
    }
    careshed::LineLayerFields f;
    f.class_field = "highway";
    f.oneway_field = "oneway";
    (void)careshed::RoadGraph::from_lines(file.path(), f, careshed::SpeedProfile::car());
  } catch (const careshed::Error&) {
  }
  return 0;
}
