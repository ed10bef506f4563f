#include "careshed/road_graph.hpp"

#include <cpl_conv.h>
#include <gdal.h>
#include <ogr_api.h>
#include <ogr_srs_api.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <sstream>
#include <unordered_map>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "gdal_util.hpp"
#include "osm_reader.hpp"

namespace careshed {

namespace {

constexpr double kDegToRad = 3.14159265358979323846 / 180.0;

std::string lower_trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  std::string out = s.substr(b, e - b);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// ---- other_tags: the hstore-like string GDAL's OSM driver writes: "k"=>"v","k2"=>"v2" ------------------
// Values may contain escaped quotes (\") and backslashes (\\). Anything malformed ends the parse: the keys
// read so far are kept (a broken tag string must not drop the whole way).
std::vector<std::pair<std::string, std::string>> parse_hstore(const char* s) {
  std::vector<std::pair<std::string, std::string>> out;
  if (s == nullptr) return out;
  auto read_quoted = [](const char*& p, std::string& dst) {
    if (*p != '"') return false;
    ++p;
    dst.clear();
    while (*p != '\0' && *p != '"') {
      if (*p == '\\' && p[1] != '\0') ++p;
      dst.push_back(*p++);
    }
    if (*p != '"') return false;
    ++p;
    return true;
  };
  const char* p = s;
  std::string k, v;
  while (*p != '\0') {
    while (*p == ' ' || *p == ',') ++p;
    if (*p == '\0') break;
    if (!read_quoted(p, k)) break;
    while (*p == ' ') ++p;
    if (p[0] != '=' || p[1] != '>') break;
    p += 2;
    while (*p == ' ') ++p;
    if (!read_quoted(p, v)) break;
    out.emplace_back(k, v);
  }
  return out;
}

// ---- geometry and graph assembly --------------------------------------------------------------------

struct CoordKey {
  uint64_t x, y;
  bool operator==(const CoordKey& o) const { return x == o.x && y == o.y; }
};
struct CoordHash {
  size_t operator()(const CoordKey& k) const {
    uint64_t h = k.x * 0x9E3779B97F4A7C15ull ^ (k.y + 0x632BE59BD9B4E019ull + (k.x << 6) + (k.x >> 2));
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return static_cast<size_t>(h);
  }
};
uint64_t bits(double v) {
  v += 0.0;  // -0.0 → +0.0, so both spell the same vertex
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// Hilbert index of (x, y) on a 2^16 × 2^16 grid (classic iterative xy→d).
uint64_t hilbert_d(uint32_t x, uint32_t y) {
  const uint32_t n = 1u << 16;
  uint64_t d = 0;
  for (uint32_t s = n / 2; s > 0; s /= 2) {
    const uint32_t rx = (x & s) ? 1 : 0;
    const uint32_t ry = (y & s) ? 1 : 0;
    d += static_cast<uint64_t>(s) * s * ((3 * rx) ^ ry);
    if (ry == 0) {
      if (rx == 1) {
        x = n - 1 - x;
        y = n - 1 - y;
      }
      std::swap(x, y);
    }
  }
  return d;
}

// ---- OGR reading -------------------------------------------------------------------------------------

struct DatasetCloser {
  void operator()(void* ds) const {
    if (ds != nullptr) GDALClose(ds);
  }
};
using DatasetPtr = std::unique_ptr<void, DatasetCloser>;
struct FeatureCloser {
  void operator()(void* f) const {
    if (f != nullptr) OGR_F_Destroy(f);
  }
};
using FeaturePtr = std::unique_ptr<void, FeatureCloser>;

DatasetPtr open_vector(const std::string& path, const char* const* drivers, const char* what) {
  detail::ensure_gdal_registered();
  detail::QuietGdalErrors quiet;
  GDALDatasetH ds = GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, drivers, nullptr, nullptr);
  if (ds == nullptr) detail::throw_gdal_io(path, std::string("cannot open as ") + what + " (check the path and format)");
  return DatasetPtr(ds);
}

struct LayerCrs {
  bool geographic = false;
  double metres_per_unit = 1.0;
  std::string wkt;
};

LayerCrs layer_crs(OGRLayerH layer, const std::string& context) {
  OGRSpatialReferenceH srs = OGR_L_GetSpatialRef(layer);
  if (srs == nullptr) {
    throw CrsError(context + ": the layer has no coordinate reference system; assign one (e.g. ogr2ogr -a_srs "
                             "EPSG:4326) so lengths can be measured");
  }
  LayerCrs c;
  c.geographic = OSRIsGeographic(srs) != 0;
  if (!c.geographic) {
    if (OSRIsProjected(srs) == 0 && OSRIsLocal(srs) == 0) {
      throw CrsError(context + ": the layer CRS is neither geographic nor projected; reproject it to a metric CRS");
    }
    c.metres_per_unit = OSRGetLinearUnits(srs, nullptr);
    if (!(c.metres_per_unit > 0.0)) c.metres_per_unit = 1.0;
  }
  char* wkt = nullptr;
  if (OSRExportToWkt(srs, &wkt) == OGRERR_NONE && wkt != nullptr) c.wkt = wkt;
  CPLFree(wkt);
  return c;
}

// Appends the parts of a line geometry (LineString or MultiLineString, any dimension) as RoadLines
// sharing `proto`'s attributes. Returns false for other geometry types / empty geometries.
bool append_geometry(OGRGeometryH geom, const RoadLine& proto, std::vector<RoadLine>& out) {
  if (geom == nullptr) return false;
  const OGRwkbGeometryType type = wkbFlatten(OGR_G_GetGeometryType(geom));
  auto add_line = [&](OGRGeometryH g) {
    const int np = OGR_G_GetPointCount(g);
    if (np < 2) return false;
    std::vector<double> xs(static_cast<size_t>(np)), ys(static_cast<size_t>(np));
    OGR_G_GetPoints(g, xs.data(), sizeof(double), ys.data(), sizeof(double), nullptr, 0);
    RoadLine line = proto;
    line.xy.resize(2 * static_cast<size_t>(np));
    for (int i = 0; i < np; ++i) {
      line.xy[2 * i] = xs[i];
      line.xy[2 * i + 1] = ys[i];
    }
    out.push_back(std::move(line));
    return true;
  };
  if (type == wkbLineString) return add_line(geom);
  if (type == wkbMultiLineString) {
    bool any = false;
    for (int i = 0; i < OGR_G_GetGeometryCount(geom); ++i) any = add_line(OGR_G_GetGeometryRef(geom, i)) || any;
    return any;
  }
  return false;
}

std::string field_list(OGRFeatureDefnH defn) {
  std::string s;
  for (int i = 0; i < OGR_FD_GetFieldCount(defn); ++i) {
    if (i) s += ", ";
    s += OGR_Fld_GetNameRef(OGR_FD_GetFieldDefn(defn, i));
  }
  return s;
}

int required_field(OGRFeatureDefnH defn, const std::string& name, const std::string& context, const char* role) {
  if (name.empty()) return -1;
  const int idx = OGR_FD_GetFieldIndex(defn, name.c_str());
  if (idx < 0) {
    throw InputError(context + ": " + role + " field '" + name + "' does not exist; the layer has: " +
                     field_list(defn));
  }
  return idx;
}

std::string field_string(OGRFeatureH f, int idx) {
  if (idx < 0 || !OGR_F_IsFieldSetAndNotNull(f, idx)) return {};
  const char* s = OGR_F_GetFieldAsString(f, idx);
  return s ? std::string(s) : std::string();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
double haversine_m(double lon1, double lat1, double lon2, double lat2) {
  const double p1 = lat1 * kDegToRad, p2 = lat2 * kDegToRad;
  const double dp = p2 - p1, dl = (lon2 - lon1) * kDegToRad;
  const double a = std::sin(dp / 2) * std::sin(dp / 2) + std::cos(p1) * std::cos(p2) * std::sin(dl / 2) * std::sin(dl / 2);
  return 2.0 * kEarthRadiusM * std::asin(std::min(1.0, std::sqrt(a)));
}

bool parse_oneway(const std::string& value, Direction* out) {
  const std::string v = lower_trim(value);
  // Single letters are boolean fields (shapefile logical T/F, Y/N): true means one-way forward.
  if (v == "yes" || v == "y" || v == "true" || v == "t" || v == "1" || v == "ft") {
    *out = Direction::kForward;
  } else if (v == "-1" || v == "reverse" || v == "tf") {
    *out = Direction::kBackward;
  } else if (v == "reversible" || v == "alternating") {
    return false;
  } else {
    *out = Direction::kBoth;  // "no", "n", "false", "f", "0", "b", "" and unknown values
  }
  return true;
}

RoadGraph RoadGraph::from_road_lines(const std::vector<RoadLine>& lines, bool geographic, std::string crs_wkt,
                                     const std::vector<TurnRestriction>& restrictions) {
  RoadGraph g;
  g.geographic_ = geographic;
  g.crs_wkt_ = std::move(crs_wkt);
  // Vertex identity: the caller's node ids when the lines carry them (OSM node ids), else coordinates.
  const bool by_id = !lines.empty() && !lines.front().node_ids.empty();
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t want = by_id ? lines[i].xy.size() / 2 : 0;
    if (lines[i].node_ids.size() != want) {
      throw InputError("road line " + std::to_string(i) + " (id " + std::to_string(lines[i].id) + ") has " +
                       std::to_string(lines[i].node_ids.size()) + " node ids for " +
                       std::to_string(lines[i].xy.size() / 2) + " vertices; give node ids for every vertex of " +
                       "every line, or for none");
    }
  }
  std::unordered_map<CoordKey, uint32_t, CoordHash> node_of;
  std::unordered_map<int64_t, uint32_t> node_of_id;
  std::vector<double> xs, ys;
  auto node_id = [&](double x, double y, int64_t osm_id) {
    const uint32_t next = static_cast<uint32_t>(xs.size());
    uint32_t id;
    bool inserted;
    if (by_id) {
      auto [it, ins] = node_of_id.try_emplace(osm_id, next);
      id = it->second, inserted = ins;
    } else {
      auto [it, ins] = node_of.try_emplace(CoordKey{bits(x), bits(y)}, next);
      id = it->second, inserted = ins;
    }
    if (inserted) {
      if (xs.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max() - 1))
        throw InputError("the road network has more than 2^31 - 2 distinct vertices; split the region");
      xs.push_back(x + 0.0);
      ys.push_back(y + 0.0);
    }
    return id;
  };
  std::unordered_map<std::string, uint16_t> class_index;
  size_t li = 0;
  for (const RoadLine& line : lines) {
    auto [cls_it, new_class] = class_index.try_emplace(line.road_class, static_cast<uint16_t>(g.class_names_.size()));
    if (new_class) {
      if (g.class_names_.size() >= 65535)
        throw InputError("the road lines have more than 65535 distinct classes; group them into fewer classes");
      g.class_names_.push_back(line.road_class);
    }
    const uint16_t cls = cls_it->second;
    const size_t np = line.xy.size() / 2;
    if (!(line.speed_kmh > 0.0) || !std::isfinite(line.speed_kmh)) {
      std::ostringstream m;
      m << "road line " << li << " (id " << line.id << ") has speed " << line.speed_kmh
        << " km/h; speeds must be finite and > 0";
      throw InputError(m.str());
    }
    if (!(line.wait_seconds >= 0.0) || !std::isfinite(line.wait_seconds)) {
      std::ostringstream m;
      m << "road line " << li << " (id " << line.id << ") has wait_seconds " << line.wait_seconds
        << "; waiting times must be finite and >= 0";
      throw InputError(m.str());
    }
    ++li;
    const double mps = line.speed_kmh / 3.6;
    uint32_t prev = 0;
    bool have_prev = false, any_edge = false;
    size_t last_backward = SIZE_MAX;  // the backward edge of the line's last segment (boarded first that way)
    auto add_edge = [&](uint32_t a, uint32_t b, double sec, double len, double wait) {
      g.tails_.push_back(a), g.heads_.push_back(b);
      g.seconds_.push_back(sec + wait), g.length_m_.push_back(len), g.speed_kmh_.push_back(line.speed_kmh);
      g.line_id_.push_back(line.id);
      g.ferry_.push_back(line.ferry ? 1 : 0);
      g.class_.push_back(cls);
      g.wait_seconds_.push_back(wait);
    };
    for (size_t i = 0; i < np; ++i) {
      const double x = line.xy[2 * i], y = line.xy[2 * i + 1];
      if (!std::isfinite(x) || !std::isfinite(y)) {
        throw InputError("road line id " + std::to_string(line.id) + " has a non-finite coordinate at vertex " +
                         std::to_string(i));
      }
      const uint32_t v = node_id(x, y, by_id ? line.node_ids[i] : 0);
      if (have_prev && v != prev) {
        const double len = geographic ? haversine_m(xs[prev], ys[prev], xs[v], ys[v])
                                      : std::hypot(xs[v] - xs[prev], ys[v] - ys[prev]);
        const double sec = len / mps;
        if (line.direction != Direction::kBackward) add_edge(prev, v, sec, len, any_edge ? 0.0 : line.wait_seconds);
        if (line.direction != Direction::kForward) {
          last_backward = g.tails_.size();
          add_edge(v, prev, sec, len, 0.0);
        }
        any_edge = true;
      }
      prev = v;
      have_prev = true;
    }
    if (last_backward != SIZE_MAX && line.wait_seconds > 0.0) {
      g.seconds_[last_backward] += line.wait_seconds;
      g.wait_seconds_[last_backward] = line.wait_seconds;
    }
    if (any_edge) {
      if (line.ferry) ++g.report_.ferry_lines;
      ++g.report_.lines_used;
      if (line.direction != Direction::kBoth) ++g.report_.oneway_lines;
    } else {
      ++g.report_.excluded_geometry;
    }
  }
  // Renumber nodes along a Hilbert curve (see header): perm[new] = old.
  const size_t n = xs.size();
  std::vector<uint32_t> perm(n);
  std::iota(perm.begin(), perm.end(), 0u);
  if (n > 1) {
    const auto [xmin, xmax] = std::minmax_element(xs.begin(), xs.end());
    const auto [ymin, ymax] = std::minmax_element(ys.begin(), ys.end());
    const double sx = (*xmax > *xmin) ? 65535.0 / (*xmax - *xmin) : 0.0;
    const double sy = (*ymax > *ymin) ? 65535.0 / (*ymax - *ymin) : 0.0;
    std::vector<uint64_t> key(n);
    for (size_t i = 0; i < n; ++i) {
      key[i] = hilbert_d(static_cast<uint32_t>((xs[i] - *xmin) * sx), static_cast<uint32_t>((ys[i] - *ymin) * sy));
    }
    std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) { return key[a] < key[b]; });
  }
  std::vector<uint32_t> new_id(n);
  g.x_.resize(n);
  g.y_.resize(n);
  for (size_t k = 0; k < n; ++k) {
    new_id[perm[k]] = static_cast<uint32_t>(k);
    g.x_[k] = xs[perm[k]];
    g.y_[k] = ys[perm[k]];
  }
  for (auto& t : g.tails_) t = new_id[t];
  for (auto& h : g.heads_) h = new_id[h];
  g.forward_ = CsrGraph::from_edges(static_cast<int64_t>(n), g.tails_.data(), g.heads_.data(), g.seconds_.data(),
                                    g.tails_.size());
  g.reverse_ = g.forward_.transposed();
  if (!restrictions.empty()) {
    if (!by_id) {
      throw InputError("turn restrictions name their via node by node id: give node ids on the road lines "
                       "(RoadLine::node_ids), or no restrictions");
    }
    g.resolve_restrictions(restrictions, [&](int64_t osm_id) -> int64_t {
      auto it = node_of_id.find(osm_id);
      return it == node_of_id.end() ? -1 : static_cast<int64_t>(new_id[it->second]);
    });
  }
  return g;
}

// ---- turn restrictions (see the header: node splitting) ------------------------------------------------

template <typename NodeOf>
void RoadGraph::resolve_restrictions(const std::vector<TurnRestriction>& restrictions, NodeOf node_of) {
  // The edges at each via node, found in one pass over the edges.
  std::unordered_map<uint32_t, std::pair<std::vector<uint32_t>, std::vector<uint32_t>>> at;  // via -> (in, out)
  std::vector<int64_t> via(restrictions.size());
  for (size_t r = 0; r < restrictions.size(); ++r) {
    via[r] = node_of(restrictions[r].via_node);
    if (via[r] >= 0) at.try_emplace(static_cast<uint32_t>(via[r]));
  }
  for (size_t e = 0; e < tails_.size(); ++e) {
    if (auto it = at.find(heads_[e]); it != at.end()) it->second.first.push_back(static_cast<uint32_t>(e));
    if (auto it = at.find(tails_[e]); it != at.end()) it->second.second.push_back(static_cast<uint32_t>(e));
  }
  std::vector<std::pair<uint32_t, uint32_t>> forbidden;
  for (size_t r = 0; r < restrictions.size(); ++r) {
    const TurnRestriction& tr = restrictions[r];
    std::vector<uint32_t> from, to;
    if (via[r] >= 0) {
      const auto& [in, out] = at.at(static_cast<uint32_t>(via[r]));
      for (uint32_t e : in)
        if (line_id_[e] == tr.from_way) from.push_back(e);
      for (uint32_t f : out)
        if (line_id_[f] == tr.to_way) to.push_back(f);
    }
    if (from.empty() || to.empty()) {
      ++report_.restrictions_unusable;
      continue;
    }
    ++report_.restrictions_applied;
    const auto& out = at.at(static_cast<uint32_t>(via[r])).second;
    for (uint32_t e : from) {
      if (tr.only) {
        for (uint32_t f : out)
          if (line_id_[f] != tr.to_way) forbidden.emplace_back(e, f);
      } else {
        for (uint32_t f : to) forbidden.emplace_back(e, f);
      }
    }
  }
  std::sort(forbidden.begin(), forbidden.end());
  forbidden.erase(std::unique(forbidden.begin(), forbidden.end()), forbidden.end());
  turn_forbidden_ = std::move(forbidden);
  build_turn_graph();
}

void RoadGraph::build_turn_graph() {
  turn_forward_ = CsrGraph();
  turn_reverse_ = CsrGraph();
  turn_origin_.clear();
  turn_in_edge_.clear();
  turn_copy_first_.clear();
  turn_copies_.clear();
  if (turn_forbidden_.empty()) return;
  const uint32_t n = n_nodes();
  // One copy per restricted incoming edge (the pairs are sorted by in edge).
  std::unordered_map<uint32_t, uint32_t> copy_of_edge;  // in edge -> copy node id
  std::vector<std::pair<uint32_t, uint32_t>> copies;    // (origin node, copy id), for the per-node lists
  for (const auto& [e, f] : turn_forbidden_) {
    if (copy_of_edge.count(e)) continue;
    const uint32_t c = n + static_cast<uint32_t>(turn_origin_.size());
    copy_of_edge.emplace(e, c);
    turn_origin_.push_back(heads_[e]);
    turn_in_edge_.push_back(e);
    copies.emplace_back(heads_[e], c);
  }
  std::sort(copies.begin(), copies.end());
  turn_copy_first_.assign(static_cast<size_t>(n) + 1, 0);
  for (const auto& [v, c] : copies) ++turn_copy_first_[v + 1];
  for (uint32_t v = 0; v < n; ++v) turn_copy_first_[v + 1] += turn_copy_first_[v];
  for (const auto& [v, c] : copies) turn_copies_.push_back(c);  // sorted by origin, so in CSR order
  // Arcs: every edge from its tail to its head (or the head's copy for that edge), and from each copy of
  // its tail whose incoming edge may continue on it.
  std::vector<uint32_t> t, h;
  std::vector<double> s;
  t.reserve(tails_.size() + 4 * copies.size());
  h.reserve(t.capacity());
  s.reserve(t.capacity());
  for (size_t f = 0; f < tails_.size(); ++f) {
    const auto it = copy_of_edge.find(static_cast<uint32_t>(f));
    const uint32_t head = it == copy_of_edge.end() ? heads_[f] : it->second;
    const uint32_t u = tails_[f];
    t.push_back(u), h.push_back(head), s.push_back(seconds_[f]);
    for (uint32_t k = turn_copy_first_[u]; k < turn_copy_first_[u + 1]; ++k) {
      const uint32_t c = turn_copies_[k];
      // the copy's incoming edge: the forbidden pairs know it; look the pair up
      const uint32_t e = turn_in_edge_[c - n];
      if (!std::binary_search(turn_forbidden_.begin(), turn_forbidden_.end(),
                              std::make_pair(e, static_cast<uint32_t>(f))))
        t.push_back(c), h.push_back(head), s.push_back(seconds_[f]);
    }
  }
  turn_forward_ = CsrGraph::from_edges(static_cast<int64_t>(n) + static_cast<int64_t>(turn_origin_.size()), t.data(),
                                       h.data(), s.data(), t.size());
  turn_reverse_ = turn_forward_.transposed();
}

void RoadGraph::scale_lengths(double metres_per_unit) {
  // Projected CRS in feet etc.: coordinates stay in the CRS unit, lengths and times become metres-based.
  if (metres_per_unit == 1.0) return;
  metres_per_unit_ = metres_per_unit;
  for (size_t i = 0; i < length_m_.size(); ++i) {
    length_m_[i] *= metres_per_unit;
    seconds_[i] = (seconds_[i] - wait_seconds_[i]) * metres_per_unit + wait_seconds_[i];  // waiting is not a length
  }
  forward_ = CsrGraph::from_edges(static_cast<int64_t>(n_nodes()), tails_.data(), heads_.data(), seconds_.data(),
                                  tails_.size());
  reverse_ = forward_.transposed();
  build_turn_graph();
}

RoadGraph RoadGraph::with_speed_factors(const std::vector<double>& factors) const {
  if (factors.size() != n_edges()) {
    throw InputError("speed factors: " + std::to_string(factors.size()) + " values for " +
                     std::to_string(n_edges()) + " edges; give one factor per edge");
  }
  for (size_t e = 0; e < factors.size(); ++e) {
    if (!std::isfinite(factors[e]) || !(factors[e] > 0.0)) {
      std::ostringstream m;
      m << "speed factors: edge " << e << " (line " << line_id_[e] << ") has factor " << factors[e]
        << "; factors multiply the speed and must be finite and > 0";
      throw InputError(m.str());
    }
  }
  RoadGraph g = *this;
  for (size_t e = 0; e < factors.size(); ++e) {
    g.seconds_[e] = (seconds_[e] - wait_seconds_[e]) / factors[e] + wait_seconds_[e];
    g.speed_kmh_[e] = speed_kmh_[e] * factors[e];
  }
  g.forward_ = CsrGraph::from_edges(static_cast<int64_t>(n_nodes()), g.tails_.data(), g.heads_.data(),
                                    g.seconds_.data(), g.tails_.size());
  g.reverse_ = g.forward_.transposed();
  g.build_turn_graph();
  return g;
}

// ---- searches honouring turn restrictions ---------------------------------------------------------------

namespace {

// (seconds, source) of a better label: lower seconds, then lower source index; -1 (unreached) is worst.
bool better(double t, int32_t j, double t0, int32_t j0) {
  if (j < 0) return false;
  if (j0 < 0) return true;
  return t < t0 || (t == t0 && j < j0);
}

}  // namespace

template <typename Index>
void RoadGraph::nearest(const Index* sources, size_t n_sources, const GraphSearchOptions& options, bool reverse,
                        double* out_seconds, int32_t* out_nearest, RunControl* control) const {
  if (!has_turn_restrictions()) {
    nearest_source_search(reverse ? reverse_ : forward_, sources, n_sources, options, out_seconds, out_nearest,
                          control);
    return;
  }
  const uint32_t n = n_nodes();
  for (size_t j = 0; j < n_sources; ++j) {
    const int64_t v = static_cast<int64_t>(sources[j]);
    if (v < 0 || v >= static_cast<int64_t>(n)) {
      throw InputError("sources[" + std::to_string(j) + "] = " + std::to_string(v) + " is not a node id in [0, " +
                       std::to_string(n) + "); node ids count from 0 and must be < n_nodes");
    }
  }
  const size_t nr = turn_forward_.n_nodes();
  std::vector<double> secs(nr);
  std::vector<int32_t> near(nr);
  if (!reverse) {
    // From the sources: a source starts at its node unconstrained (the original node keeps every arc); a
    // node is reached by any of its copies.
    nearest_source_search(turn_forward_, sources, n_sources, options, secs.data(), near.data(), control);
    std::copy(secs.begin(), secs.begin() + n, out_seconds);
    std::copy(near.begin(), near.begin() + n, out_nearest);
    for (size_t k = 0; k < turn_origin_.size(); ++k) {
      const uint32_t v = turn_origin_[k];
      if (better(secs[n + k], near[n + k], out_seconds[v], out_nearest[v]))
        out_seconds[v] = secs[n + k], out_nearest[v] = near[n + k];
    }
    return;
  }
  // To the sources: arriving at a source's node by any incoming edge counts, so each source is also
  // every copy of its node (same index and offset; the expanded list keeps the index order, so ties
  // still go to the lowest index); a node's time is that of its unconstrained original.
  std::vector<uint32_t> expanded;
  std::vector<double> offsets;
  std::vector<int32_t> index_of;
  for (size_t j = 0; j < n_sources; ++j) {
    const uint32_t v = static_cast<uint32_t>(sources[j]);
    const double off = options.source_offsets ? options.source_offsets[j] : 0.0;
    if (!std::isfinite(off) || off < 0.0) {  // checked here: the search would name the expanded index
      std::ostringstream m;
      m << "source_offsets[" << j << "] = " << off << " must be finite and >= 0 seconds";
      throw InputError(m.str());
    }
    expanded.push_back(v), offsets.push_back(off), index_of.push_back(static_cast<int32_t>(j));
    for (uint32_t k = turn_copy_first_[v]; k < turn_copy_first_[v + 1]; ++k)
      expanded.push_back(turn_copies_[k]), offsets.push_back(off), index_of.push_back(static_cast<int32_t>(j));
  }
  GraphSearchOptions o = options;
  o.source_offsets = offsets.data();
  nearest_source_search(turn_reverse_, expanded.data(), expanded.size(), o, secs.data(), near.data(), control);
  for (uint32_t v = 0; v < n; ++v) {
    out_seconds[v] = secs[v];
    out_nearest[v] = near[v] < 0 ? -1 : index_of[static_cast<size_t>(near[v])];
  }
}

NearestSources RoadGraph::nearest(const std::vector<uint32_t>& sources, const GraphSearchOptions& options,
                                  bool reverse, RunControl* control) const {
  NearestSources r;
  r.seconds.resize(n_nodes());
  r.nearest.resize(n_nodes());
  nearest(sources.data(), sources.size(), options, reverse, r.seconds.data(), r.nearest.data(), control);
  return r;
}

template void RoadGraph::nearest<int32_t>(const int32_t*, size_t, const GraphSearchOptions&, bool, double*, int32_t*,
                                          RunControl*) const;
template void RoadGraph::nearest<int64_t>(const int64_t*, size_t, const GraphSearchOptions&, bool, double*, int32_t*,
                                          RunControl*) const;
template void RoadGraph::nearest<uint32_t>(const uint32_t*, size_t, const GraphSearchOptions&, bool, double*,
                                           int32_t*, RunControl*) const;

namespace {

// Ranks components given each node's representative (the lowest node id of its component): largest
// first, equal sizes in the order of their lowest node.
Components rank_components(const std::vector<uint32_t>& rep) {
  const size_t n = rep.size();
  std::vector<int64_t> size_of(n, 0);
  for (size_t v = 0; v < n; ++v) ++size_of[rep[v]];
  std::vector<uint32_t> reps;
  for (size_t v = 0; v < n; ++v)
    if (size_of[v] > 0) reps.push_back(static_cast<uint32_t>(v));
  std::stable_sort(reps.begin(), reps.end(), [&](uint32_t a, uint32_t b) { return size_of[a] > size_of[b]; });
  std::vector<int32_t> rank_of(n, -1);
  Components c;
  for (size_t r = 0; r < reps.size(); ++r) {
    rank_of[reps[r]] = static_cast<int32_t>(r);
    c.sizes.push_back(size_of[reps[r]]);
  }
  c.id.resize(n);
  for (size_t v = 0; v < n; ++v) c.id[v] = rank_of[rep[v]];
  return c;
}

}  // namespace

Components RoadGraph::components(bool strong) const {
  const size_t n = n_nodes();
  std::vector<uint32_t> rep(n);
  if (!strong) {
    std::iota(rep.begin(), rep.end(), 0u);  // union-find; the root is kept at the lowest node
    auto find = [&](uint32_t v) {
      while (rep[v] != v) {
        rep[v] = rep[rep[v]];
        v = rep[v];
      }
      return v;
    };
    for (size_t i = 0; i < tails_.size(); ++i) {
      const uint32_t a = find(tails_[i]), b = find(heads_[i]);
      if (a != b) rep[std::max(a, b)] = std::min(a, b);
    }
    for (size_t v = 0; v < n; ++v) rep[v] = find(static_cast<uint32_t>(v));
    return rank_components(rep);
  }
  // Strongly connected: iterative Tarjan over the forward CSR (no recursion: road graphs have paths of
  // millions of nodes). rep[v] = lowest node id of v's component.
  constexpr uint32_t kUnseen = std::numeric_limits<uint32_t>::max();
  const uint32_t* first = forward_.first().data();
  const Arc* arcs = forward_.arcs().data();
  std::vector<uint32_t> index(n, kUnseen), low(n, 0), stack;
  std::vector<uint8_t> on_stack(n, 0);
  std::vector<std::pair<uint32_t, uint32_t>> calls;  // (node, next arc)
  uint32_t counter = 0;
  for (uint32_t s = 0; s < n; ++s) {
    if (index[s] != kUnseen) continue;
    auto visit = [&](uint32_t v) {
      index[v] = low[v] = counter++;
      stack.push_back(v);
      on_stack[v] = 1;
      calls.emplace_back(v, first[v]);
    };
    visit(s);
    while (!calls.empty()) {
      auto& [v, a] = calls.back();
      if (a < first[v + 1]) {
        const uint32_t w = arcs[a++].head;
        if (index[w] == kUnseen) {
          visit(w);  // invalidates the reference: nothing of it is used after this
        } else if (on_stack[w]) {
          low[v] = std::min(low[v], index[w]);
        }
        continue;
      }
      const uint32_t done = v;
      calls.pop_back();
      if (low[done] == index[done]) {
        size_t k = stack.size();
        uint32_t lowest = done;
        do {
          --k;
          lowest = std::min(lowest, stack[k]);
        } while (stack[k] != done);
        for (size_t i = k; i < stack.size(); ++i) {
          rep[stack[i]] = lowest;
          on_stack[stack[i]] = 0;
        }
        stack.resize(k);
      }
      if (!calls.empty()) {
        const uint32_t parent = calls.back().first;
        low[parent] = std::min(low[parent], low[done]);
      }
    }
  }
  return rank_components(rep);
}

// ---------------------------------------------------------------------------------------------------------
RoadGraph RoadGraph::from_osm(const std::string& path, const SpeedProfile& profile, RunControl* control,
                              OsmReader reader) {
  OsmReadOptions options;
  options.reader = reader;
  return from_osm(path, profile, options, control);
}

RoadGraph RoadGraph::from_osm(const std::string& path, const SpeedProfile& profile, const OsmReadOptions& options,
                              RunControl* control) {
  if (!(options.ferry_speed_kmh > 0.0) || !std::isfinite(options.ferry_speed_kmh)) {
    std::ostringstream m;
    m << "ferry_speed_kmh = " << options.ferry_speed_kmh << " must be finite and > 0 (e.g. 20)";
    throw InputError(m.str());
  }
  if (!(options.ferry_wait_seconds >= 0.0) || !std::isfinite(options.ferry_wait_seconds)) {
    std::ostringstream m;
    m << "ferry_wait_seconds = " << options.ferry_wait_seconds << " must be finite and >= 0 (e.g. 1800)";
    throw InputError(m.str());
  }
  // GDAL virtual file systems (/vsimem/, /vsizip/, /vsicurl/ ...) exist only inside GDAL: libosmium cannot
  // open them, so such paths are read by GDAL's driver.
  const bool gdal_only = path.rfind("/vsi", 0) == 0;
  return options.reader == OsmReader::kGdal || gdal_only ? from_osm_gdal(path, profile, control)
                                                         : from_osm_libosmium(path, profile, options, control);
}

bool detail::osm_road_line(const OsmWayTags& tags, const SpeedProfile& profile, RoadLine* proto,
                           RoadGraphReport* rep) {
  const std::string& highway = tags.highway;
  if (highway.empty()) {
    ++rep->excluded_class;
    return false;
  }
  auto class_speed = profile.speed_kmh(highway);
  if (!class_speed) {
    ++rep->excluded_class;
    return false;
  }
  proto->speed_kmh = *class_speed;
  proto->road_class = highway;
  if (profile.use_maxspeed() && !tags.maxspeed.empty()) {
    if (auto ms = parse_maxspeed(tags.maxspeed)) {
      proto->speed_kmh = *ms;
      ++rep->speed_from_maxspeed;
    }
  }
  if (profile.respect_oneway()) {
    if (!tags.oneway.empty()) {
      if (!parse_oneway(tags.oneway, &proto->direction)) {
        ++rep->excluded_reversible;
        return false;
      }
    } else {
      const std::string j = lower_trim(tags.junction);
      if (j == "roundabout" || j == "circular" || highway == "motorway") proto->direction = Direction::kForward;
    }
  }
  return true;
}

RoadGraph RoadGraph::from_osm_gdal(const std::string& path, const SpeedProfile& profile, RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reading roads");
  static const char* const kOsm[] = {"OSM", nullptr};
  DatasetPtr ds = open_vector(path, kOsm, "an OpenStreetMap file (.osm.pbf / .osm)");
  OGRLayerH lines_layer = GDALDatasetGetLayerByName(ds.get(), "lines");
  if (lines_layer == nullptr) detail::throw_gdal_io(path, "has no 'lines' layer (is it an OSM file?)");
  const LayerCrs crs = layer_crs(lines_layer, path + " layer 'lines'");
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(lines_layer);
  // A key comes from its own field when osmconf.ini made one, else from other_tags.
  const int f_id = OGR_FD_GetFieldIndex(defn, "osm_id");
  const int f_highway = OGR_FD_GetFieldIndex(defn, "highway");
  const int f_oneway = OGR_FD_GetFieldIndex(defn, "oneway");
  const int f_maxspeed = OGR_FD_GetFieldIndex(defn, "maxspeed");
  const int f_junction = OGR_FD_GetFieldIndex(defn, "junction");
  const int f_other = OGR_FD_GetFieldIndex(defn, "other_tags");

  RoadGraphReport rep;
  std::vector<RoadLine> lines;
  // A truncated or corrupt .osm.pbf makes the driver report an error and end the stream early, as if the
  // file had ended: without this check a cut-off download became a graph of whatever came first (or none).
  detail::GdalReadFailures failures;
  // The OSM driver produces features of all layers while it streams the file; the dataset-level
  // iterator is the documented way to read it in one pass without buffering the other layers.
  double position = 0.0;  // the driver's progress through the file, 0..1
  for (std::uint64_t n_features = 0;; ++n_features) {
    if (control && n_features % 4096 == 0) {
      control->throw_if_cancelled();
      control->report(0.9 * position);  // the graph is built after the last feature
    }
    OGRLayerH belongs = nullptr;
    FeaturePtr f(GDALDatasetGetNextFeature(ds.get(), &belongs, control ? &position : nullptr, nullptr, nullptr));
    if (!f) break;
    if (belongs != lines_layer) continue;
    ++rep.features_read;
    std::string highway = field_string(f.get(), f_highway);
    std::string oneway = field_string(f.get(), f_oneway);
    std::string maxspeed = field_string(f.get(), f_maxspeed);
    std::string junction = field_string(f.get(), f_junction);
    const bool need_tags = (f_highway < 0 || f_oneway < 0 || f_maxspeed < 0 || f_junction < 0) && f_other >= 0;
    if (need_tags && OGR_F_IsFieldSetAndNotNull(f.get(), f_other)) {
      for (auto& [k, v] : parse_hstore(OGR_F_GetFieldAsString(f.get(), f_other))) {
        if (f_highway < 0 && k == "highway") highway = v;
        else if (f_oneway < 0 && k == "oneway") oneway = v;
        else if (f_maxspeed < 0 && k == "maxspeed") maxspeed = v;
        else if (f_junction < 0 && k == "junction") junction = v;
      }
    }
    RoadLine proto;
    if (!detail::osm_road_line({highway, oneway, maxspeed, junction}, profile, &proto, &rep)) continue;
    const std::string id = field_string(f.get(), f_id);
    proto.id = id.empty() ? -1 : std::strtoll(id.c_str(), nullptr, 10);
    if (!append_geometry(OGR_F_GetGeometryRef(f.get()), proto, lines)) ++rep.excluded_geometry;
  }
  failures.throw_if_failed(path, std::to_string(rep.features_read) + " ways (" + std::to_string(lines.size()) +
                                      " road lines)",
                           detail::kOsmReadRemedy);
  return from_osm_lines(path, profile, lines, rep, crs.geographic, crs.metres_per_unit, crs.wkt);
}

RoadGraph RoadGraph::from_osm_lines(const std::string& path, const SpeedProfile& profile,
                                    const std::vector<RoadLine>& lines, RoadGraphReport rep, bool geographic,
                                    double metres_per_unit, const std::string& crs_wkt,
                                    const std::vector<TurnRestriction>& restrictions) {
  if (lines.empty()) {
    throw InputError(path + ": a road file without roads: no road of profile '" + profile.name() + "' among " +
                     std::to_string(rep.features_read) + " ways (" + std::to_string(rep.excluded_class) +
                     " without a highway class of the profile); check that the extract covers your area and "
                     "holds highway=* ways, or choose another profile");
  }
  RoadGraph g = from_road_lines(lines, geographic, crs_wkt, restrictions);
  if (g.n_edges() == 0) {  // e.g. every road's nodes repeat one point, or its other nodes are missing from the file
    throw InputError(path + ": a road file without usable roads: the " + std::to_string(lines.size()) +
                     " road line(s) of profile '" + profile.name() + "' have no segment between two distinct " +
                     "points (repeated or missing nodes); check that the extract is complete and covers your area");
  }
  if (!geographic) g.scale_lengths(metres_per_unit);  // OSM is lon/lat; kept for uniformity
  rep.lines_used = g.report_.lines_used;
  rep.oneway_lines = g.report_.oneway_lines;
  rep.ferry_lines = g.report_.ferry_lines;
  rep.excluded_geometry += g.report_.excluded_geometry;
  rep.restrictions_applied = g.report_.restrictions_applied;
  rep.restrictions_unusable += g.report_.restrictions_unusable;
  g.report_ = rep;
  return g;
}

RoadGraph RoadGraph::from_lines(const std::string& path, const LineLayerFields& fields, const SpeedProfile& profile,
                                RunControl* control) {
  ProgressSpan span(control, 0.0, 1.0, "reading roads");
  DatasetPtr ds = open_vector(path, nullptr, "a vector data source");
  OGRLayerH layer = fields.layer.empty() ? GDALDatasetGetLayer(ds.get(), 0)
                                         : GDALDatasetGetLayerByName(ds.get(), fields.layer.c_str());
  if (layer == nullptr) {
    std::string names;
    for (int i = 0; i < GDALDatasetGetLayerCount(ds.get()); ++i)
      names += std::string(i ? ", " : "") + OGR_L_GetName(GDALDatasetGetLayer(ds.get(), i));
    throw DataIOError(path + ": layer '" + fields.layer + "' not found; layers: " + names);
  }
  const std::string context = path + " layer '" + OGR_L_GetName(layer) + "'";
  if (fields.speed_field.empty() && fields.class_field.empty()) {
    throw InputError(context + ": give speed_field (km/h) and/or class_field (looked up in the profile)");
  }
  const LayerCrs crs = layer_crs(layer, context);
  OGRFeatureDefnH defn = OGR_L_GetLayerDefn(layer);
  const int f_speed = required_field(defn, fields.speed_field, context, "speed");
  const int f_class = required_field(defn, fields.class_field, context, "class");
  const int f_oneway = required_field(defn, fields.oneway_field, context, "oneway");
  const bool speed_numeric =
      f_speed >= 0 && [&] {
        const OGRFieldType t = OGR_Fld_GetType(OGR_FD_GetFieldDefn(defn, f_speed));
        return t == OFTInteger || t == OFTInteger64 || t == OFTReal;
      }();

  RoadGraphReport rep;
  std::vector<RoadLine> lines;
  detail::GdalReadFailures failures;  // a damaged file ends the feature stream early (see from_osm)
  OGR_L_ResetReading(layer);
  const double n_layer = control ? static_cast<double>(OGR_L_GetFeatureCount(layer, FALSE)) : -1.0;  // -1: unknown
  for (std::uint64_t n_features = 0;; ++n_features) {
    if (control && n_features % 4096 == 0) {
      control->throw_if_cancelled();
      if (n_layer > 0) control->report(0.9 * static_cast<double>(n_features) / n_layer);
    }
    FeaturePtr f(OGR_L_GetNextFeature(layer));
    if (!f) break;
    ++rep.features_read;
    std::optional<double> speed;
    if (f_class >= 0) {
      speed = profile.speed_kmh(field_string(f.get(), f_class));
      if (!speed) {
        ++rep.excluded_class;
        continue;
      }
    }
    if (f_speed >= 0 && OGR_F_IsFieldSetAndNotNull(f.get(), f_speed)) {
      std::optional<double> s;
      if (speed_numeric) {
        const double v = OGR_F_GetFieldAsDouble(f.get(), f_speed);
        if (std::isfinite(v) && v > 0.0) s = v;
      } else {
        s = parse_maxspeed(OGR_F_GetFieldAsString(f.get(), f_speed));
      }
      if (s) {
        speed = s;
        ++rep.speed_from_maxspeed;
      }
    }
    if (!speed) {
      ++rep.excluded_no_speed;
      continue;
    }
    RoadLine proto;
    proto.speed_kmh = *speed;
    proto.id = OGR_F_GetFID(f.get());
    if (f_class >= 0) proto.road_class = field_string(f.get(), f_class);
    if (profile.respect_oneway() && f_oneway >= 0) {
      if (!parse_oneway(field_string(f.get(), f_oneway), &proto.direction)) {
        ++rep.excluded_reversible;
        continue;
      }
    }
    if (!append_geometry(OGR_F_GetGeometryRef(f.get()), proto, lines)) ++rep.excluded_geometry;
  }
  failures.throw_if_failed(context, std::to_string(rep.features_read) + " features",
                           "export the layer again (e.g. with ogr2ogr) and check the file is complete");
  if (lines.empty()) {
    throw InputError(context + ": no usable road line among " + std::to_string(rep.features_read) +
                     " features (check the field names, the profile's classes and the speeds)");
  }
  RoadGraph g = from_road_lines(lines, crs.geographic, crs.wkt);
  if (!crs.geographic) g.scale_lengths(crs.metres_per_unit);
  rep.lines_used = g.report_.lines_used;
  rep.oneway_lines = g.report_.oneway_lines;
  rep.excluded_geometry += g.report_.excluded_geometry;
  g.report_ = rep;
  return g;
}

}  // namespace careshed
