#include "careshed/speed_profile.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "careshed/error.hpp"

namespace careshed {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower_trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out(s.substr(b, e - b));
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void check_speed(const std::string& cls, double kmh, const std::string& where) {
  if (cls.empty()) throw InputError(where + ": empty road class name");
  if (!std::isfinite(kmh) || kmh <= 0.0) {
    std::ostringstream m;
    m << where << ": speed for class '" << cls << "' is " << kmh
      << " km/h; speeds must be finite and > 0 (remove the class to exclude its roads)";
    throw InputError(m.str());
  }
}

// One maxspeed value without ';' separators. Returns km/h or nothing.
std::optional<double> parse_one_maxspeed(const std::string& v) {
  if (v.empty()) return std::nullopt;
  // Country implicit values "CC:type". A small table; the rest is deliberately "unknown" so the class
  // speed applies (guessing a limit would be worse than the profile's own table).
  auto colon = v.find(':');
  if (colon != std::string::npos && !std::isdigit(static_cast<unsigned char>(v[0]))) {
    std::string type = v.substr(colon + 1);
    // "zone30", "zone:30"
    if (type.rfind("zone", 0) == 0) {
      std::string num = type.substr(4);
      if (!num.empty() && num[0] == ':') num = num.substr(1);
      return parse_one_maxspeed(num);
    }
    static const std::map<std::string, double> kImplicit = {
        {"ru:urban", 60.0},     {"ru:rural", 90.0},       {"ru:motorway", 110.0},
        {"de:urban", 50.0},     {"de:rural", 100.0},      {"fr:urban", 50.0},
        {"fr:rural", 80.0},     {"fr:motorway", 130.0},   {"fi:urban", 50.0},
        {"fi:rural", 80.0},     {"it:urban", 50.0},       {"it:rural", 90.0},
        {"it:motorway", 130.0}, {"gb:nsl_single", 96.56064}, {"uk:nsl_single", 96.56064},
        {"gb:nsl_dual", 112.65408}, {"uk:nsl_dual", 112.65408}, {"gb:motorway", 112.65408},
        {"uk:motorway", 112.65408}};
    auto it = kImplicit.find(v);
    if (it != kImplicit.end()) return it->second;
    return std::nullopt;
  }
  const char* begin = v.c_str();
  char* end = nullptr;
  double number = std::strtod(begin, &end);
  if (end == begin || !std::isfinite(number) || number <= 0.0) return std::nullopt;
  std::string unit = lower_trim(std::string_view(end));
  double factor;
  if (unit.empty() || unit == "km/h" || unit == "kmh" || unit == "kph" || unit == "km/hr") {
    factor = 1.0;
  } else if (unit == "mph") {
    factor = 1.609344;
  } else if (unit == "knots" || unit == "knot" || unit == "kn") {
    factor = 1.852;
  } else {
    return std::nullopt;
  }
  // "1.5e308 mph" parses as a finite number but overflows to +inf km/h: an edge of zero seconds.
  const double kmh = number * factor;
  if (!std::isfinite(kmh)) return std::nullopt;
  return kmh;
}

}  // namespace

SpeedProfile::SpeedProfile(std::string name, std::map<std::string, double> speeds_kmh, bool use_maxspeed,
                           bool respect_oneway)
    : name_(std::move(name)),
      speeds_kmh_(std::move(speeds_kmh)),
      use_maxspeed_(use_maxspeed),
      respect_oneway_(respect_oneway) {
  for (const auto& [cls, kmh] : speeds_kmh_) check_speed(cls, kmh, "SpeedProfile '" + name_ + "'");
}

SpeedProfile SpeedProfile::car() {
  return SpeedProfile("car",
                      {{"motorway", 110}, {"motorway_link", 60}, {"trunk", 90}, {"trunk_link", 50},
                       {"primary", 70}, {"primary_link", 40}, {"secondary", 60}, {"secondary_link", 40},
                       {"tertiary", 50}, {"tertiary_link", 30}, {"unclassified", 40}, {"residential", 30},
                       {"living_street", 10}, {"service", 20}, {"road", 30}, {"track", 15}},
                      true, true);
}

SpeedProfile SpeedProfile::ambulance() {
  return SpeedProfile("ambulance",
                      {{"motorway", 120}, {"motorway_link", 70}, {"trunk", 100}, {"trunk_link", 60},
                       {"primary", 80}, {"primary_link", 50}, {"secondary", 70}, {"secondary_link", 50},
                       {"tertiary", 60}, {"tertiary_link", 40}, {"unclassified", 50}, {"residential", 40},
                       {"living_street", 20}, {"service", 25}, {"road", 40}, {"track", 20}},
                      true, true);
}

SpeedProfile SpeedProfile::walking() {
  std::map<std::string, double> t;
  for (const char* c : {"primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
                        "unclassified", "residential", "living_street", "service", "road", "track",
                        "pedestrian", "footway", "path", "cycleway", "bridleway", "corridor"}) {
    t[c] = 5.0;
  }
  t["steps"] = 3.0;
  return SpeedProfile("walking", std::move(t), false, false);
}

SpeedProfile SpeedProfile::by_name(std::string_view name) {
  if (name == "car") return car();
  if (name == "ambulance") return ambulance();
  if (name == "walking") return walking();
  throw InputError("unknown speed profile '" + std::string(name) +
                   "': choose \"car\", \"ambulance\" or \"walking\", or build a SpeedProfile from a table");
}

SpeedProfile SpeedProfile::from_csv(const std::string& path, std::string name, bool use_maxspeed,
                                    bool respect_oneway) {
  std::ifstream in(path);
  if (!in) throw DataIOError(path + ": cannot open speed profile CSV (check the path)");
  std::map<std::string, double> table;
  std::string line;
  int line_no = 0;
  bool header_seen = false;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::string t = lower_trim(line);
    if (t.empty() || t[0] == '#') continue;
    const std::string where = path + " line " + std::to_string(line_no);
    auto comma = line.find(',');
    if (comma == std::string::npos)
      throw InputError(where + ": expected \"class,speed_kmh\", got '" + line + "'");
    std::string cls = trim(std::string_view(line).substr(0, comma));
    std::string val = lower_trim(std::string_view(line).substr(comma + 1));
    if (!header_seen) {
      header_seen = true;
      if (lower_trim(cls) == "class") {
        if (val != "speed_kmh")
          throw InputError(where + ": header must be \"class,speed_kmh\" (speeds in km/h), got '" + line + "'");
        continue;
      }
      throw InputError(where + ": missing header line \"class,speed_kmh\"");
    }
    char* end = nullptr;
    double kmh = std::strtod(val.c_str(), &end);
    if (val.empty() || *end != '\0')
      throw InputError(where + ": speed '" + val + "' for class '" + cls + "' is not a number (km/h)");
    if (table.count(cls)) throw InputError(where + ": class '" + cls + "' appears twice");
    check_speed(cls, kmh, where);
    table[cls] = kmh;
  }
  if (in.bad()) {  // a read error (e.g. a directory, an I/O error) is not the end of the table
    throw DataIOError(path + ": reading the speed profile CSV failed after line " + std::to_string(line_no) +
                      " (is it a regular, readable file?)");
  }
  if (!header_seen) throw InputError(path + ": empty speed profile CSV (expected header \"class,speed_kmh\")");
  return SpeedProfile(std::move(name), std::move(table), use_maxspeed, respect_oneway);
}

void SpeedProfile::to_csv(const std::string& path) const {
  const std::string tmp = path + ".tmp-careshed";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw DataIOError(path + ": cannot write speed profile CSV (check the directory exists)");
    out << "class,speed_kmh\n";
    out.precision(17);
    for (const auto& [cls, kmh] : speeds_kmh_) out << cls << ',' << kmh << '\n';
    if (!out) throw DataIOError(path + ": write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw DataIOError(path + ": cannot rename the temporary file into place");
  }
}

std::optional<double> SpeedProfile::speed_kmh(std::string_view highway_class) const {
  auto it = speeds_kmh_.find(std::string(highway_class));
  if (it == speeds_kmh_.end()) return std::nullopt;
  return it->second;
}

void SpeedProfile::set_speed_kmh(const std::string& highway_class, double speed_kmh) {
  check_speed(highway_class, speed_kmh, "SpeedProfile '" + name_ + "'");
  speeds_kmh_[highway_class] = speed_kmh;
}

bool SpeedProfile::remove(const std::string& highway_class) { return speeds_kmh_.erase(highway_class) > 0; }

double SpeedProfile::max_speed_kmh() const {
  double m = 0.0;
  for (const auto& kv : speeds_kmh_) m = std::max(m, kv.second);
  return m;
}

std::optional<double> parse_maxspeed(std::string_view text) {
  std::string v = lower_trim(text);
  if (v.empty()) return std::nullopt;
  // Several values (lanes, conditional parts, or editors' lists): take the lowest parsable one, the
  // conservative choice for travel time.
  std::optional<double> best;
  size_t start = 0;
  while (start <= v.size()) {
    size_t sep = v.find_first_of(";|", start);
    std::string part = lower_trim(std::string_view(v).substr(start, sep == std::string::npos ? std::string::npos
                                                                                             : sep - start));
    auto kmh = parse_one_maxspeed(part);
    if (kmh && (!best || *kmh < *best)) best = kmh;
    if (sep == std::string::npos) break;
    start = sep + 1;
  }
  return best;
}

}  // namespace careshed
