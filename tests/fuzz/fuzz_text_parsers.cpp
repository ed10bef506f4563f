// Fuzz target: the small text parsers that see user strings — OSM maxspeed and oneway values (from any
// .osm.pbf or road layer), numbers in text columns (Column::number), and the names of profiles,
// resampling methods, friction units and zone rules (CLI / Python arguments).
#include <cmath>
#include <string>
#include <string_view>

#include "careshed/error.hpp"
#include "careshed/friction.hpp"
#include "careshed/io.hpp"
#include "careshed/raster_io.hpp"
#include "careshed/road_graph.hpp"
#include "careshed/speed_profile.hpp"
#include "careshed/zonal.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto kmh = careshed::parse_maxspeed(text)) {
    // The documented contract: a usable speed is finite and > 0.
    if (!(std::isfinite(*kmh) && *kmh > 0.0)) __builtin_trap();
  }
  careshed::Direction d = careshed::Direction::kBoth;
  (void)careshed::parse_oneway(text, &d);
  const careshed::Column col = careshed::Column::of_strings("v", {text});
  if (auto v = col.number(0)) (void)*v;
  (void)col.text(0);
  try { (void)careshed::SpeedProfile::by_name(text); } catch (const careshed::Error&) {}
  try { (void)careshed::resampling_from_string(text); } catch (const careshed::Error&) {}
  try { (void)careshed::friction_unit_from_string(text); } catch (const careshed::Error&) {}
  try { (void)careshed::zone_rule_from_string(text); } catch (const careshed::Error&) {}
  return 0;
}
