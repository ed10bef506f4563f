// careshed/speed_profile.hpp — travel speeds per road class, and OSM `maxspeed` parsing.
//
// A SpeedProfile is a small, editable table "highway class → speed in km/h" plus two switches that
// say how the road-graph builder (road_graph.hpp) and the friction builder use it:
//   * use_maxspeed:   a way's parsable `maxspeed` tag overrides its class speed (car, ambulance: yes;
//                     walking: no — pedestrians do not drive at the speed limit);
//   * respect_oneway: one-way streets are traversed only in their direction (walking: no).
// A road whose class is NOT in the table is excluded from the network (e.g. footway for car,
// motorway for walking). Speeds must be finite and > 0.
//
// Shipped profiles (km/h; deliberately round, typical free-flow values — edit them for your region):
//   car        motorway 110, trunk 90, primary 70, secondary 60, tertiary 50, unclassified 40,
//              residential 30, living_street 10, service 20, road 30, track 15; *_link roads slower.
//   ambulance  the car table raised for emergency driving (motorway 120, trunk 100, primary 80,
//              secondary 70, tertiary 60, unclassified 50, residential 40, living_street 20,
//              service 25, road 40, track 20); maxspeed still overrides when it parses.
//   walking    5 km/h on every class a pedestrian may use (steps 3), no motorway/trunk; ignores
//              maxspeed and oneway.
//
// CSV format (load/save): a header line "class,speed_kmh" then one "class,speed" row per class.
// Blank lines and lines starting with '#' are ignored. The switches are not stored in the CSV; pass
// them when loading.
//
// Thread-safety: SpeedProfile is a plain value; const access from many threads is safe.
// Errors: careshed::InputError for bad speeds / malformed CSV rows (message names file and line),
// careshed::DataIOError when the CSV cannot be opened or written.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace careshed {

class SpeedProfile {
 public:
  SpeedProfile() = default;
  /// A profile from a table; throws InputError if a speed is not finite and > 0 or a class is empty.
  SpeedProfile(std::string name, std::map<std::string, double> speeds_kmh, bool use_maxspeed = true,
               bool respect_oneway = true);

  /// Shipped profiles, see the header comment.
  static SpeedProfile car();
  static SpeedProfile ambulance();
  static SpeedProfile walking();
  /// "car", "ambulance" or "walking" (case-sensitive); InputError naming the choices otherwise.
  static SpeedProfile by_name(std::string_view name);

  /// Loads "class,speed_kmh" rows (see header). The profile's name is `name`.
  static SpeedProfile from_csv(const std::string& path, std::string name = "custom",
                               bool use_maxspeed = true, bool respect_oneway = true);
  /// Writes the table as CSV (to a temporary name, then renamed), classes in sorted order.
  void to_csv(const std::string& path) const;

  /// Speed of a class in km/h, or nothing when the class is not in the profile (= excluded).
  std::optional<double> speed_kmh(std::string_view highway_class) const;
  /// Adds or replaces a class; InputError if speed_kmh is not finite and > 0.
  void set_speed_kmh(const std::string& highway_class, double speed_kmh);
  /// Removes a class (its roads become excluded). Returns whether it was present.
  bool remove(const std::string& highway_class);

  const std::string& name() const { return name_; }
  const std::map<std::string, double>& speeds_kmh() const { return speeds_kmh_; }
  bool use_maxspeed() const { return use_maxspeed_; }
  bool respect_oneway() const { return respect_oneway_; }
  void set_use_maxspeed(bool on) { use_maxspeed_ = on; }
  void set_respect_oneway(bool on) { respect_oneway_ = on; }
  /// The fastest speed in the table (km/h), 0 if empty. Bounds reach for tiling with a cutoff.
  double max_speed_kmh() const;

 private:
  std::string name_ = "custom";
  std::map<std::string, double> speeds_kmh_;
  bool use_maxspeed_ = true;
  bool respect_oneway_ = true;
};

/// Parses an OSM `maxspeed` value into km/h, or nothing when it gives no usable number.
///   "50", "50 km/h", "50kmh", "50 kph", "50.5"        → 50, 50, 50, 50, 50.5
///   "30 mph", "30mph"                                  → 30 × 1.609344
///   "10 knots"                                         → 10 × 1.852
///   "50;30", "50 | 30" (several values, e.g. per lane) → the LOWEST (conservative travel time)
///   "XX:zone30", "XX:zone:30", "DE:zone30"             → 30 (number of the zone)
///   country implicit codes, a documented table        → "RU:urban" 60, "RU:rural" 90,
///       "RU:motorway" 110, "DE:urban" 50, "DE:rural" 100, "FR:urban" 50, "FR:rural" 80,
///       "FR:motorway" 130, "FI:urban" 50, "FI:rural" 80, "IT:urban" 50, "IT:rural" 90,
///       "IT:motorway" 130, "GB:nsl_single"/"UK:nsl_single" 60 mph,
///       "GB:nsl_dual" 70 mph, "GB:motorway" 70 mph; any other code (e.g. "DE:motorway", which has no
///       limit, "XX:living_street") → nothing
///   "none", "signals", "variable", "walk", "", zero, negative, garbage → nothing (use the class speed)
/// Case and surrounding blanks are ignored. Never throws.
std::optional<double> parse_maxspeed(std::string_view text);

}  // namespace careshed
