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
#include <map>
#include <memory>
#include <numeric>
#include <set>
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

// ---- turn restrictions (see the header: forbidden edge sequences, node splitting by an automaton) -------

namespace {

constexpr uint32_t kNoTrieNode = std::numeric_limits<uint32_t>::max();

// The forbidden sequences as an Aho-Corasick automaton over edge ids. Node 0 is the root (nothing of a
// forbidden sequence in progress); node t stands for the sequence of edges on its trie path, and after a
// route its state is the longest suffix of the route that is such a sequence. `bad` marks states that
// complete a forbidden sequence (or contain one as a suffix): no arc may lead into them.
struct TurnAutomaton {
  std::vector<uint32_t> last_edge, fail;
  std::vector<uint8_t> bad;
  std::unordered_map<uint64_t, uint32_t> child;  // (node << 32 | edge) -> node

  uint32_t get(uint32_t t, uint32_t e) const {
    const auto it = child.find((static_cast<uint64_t>(t) << 32) | e);
    return it == child.end() ? kNoTrieNode : it->second;
  }
  // The state after driving edge e in state t.
  uint32_t step(uint32_t t, uint32_t e) const {
    for (;;) {
      const uint32_t c = get(t, e);
      if (c != kNoTrieNode) return c;
      if (t == 0) return 0;
      t = fail[t];
    }
  }

  // seq_edges[first[s] .. first[s+1]) is sequence s, read backwards when `reversed`.
  TurnAutomaton(const std::vector<uint32_t>& first, const std::vector<uint32_t>& seq_edges, bool reversed)
      : last_edge{0}, fail{0}, bad{0} {
    std::vector<std::vector<uint32_t>> kids(1);
    for (size_t s = 0; s + 1 < first.size(); ++s) {
      uint32_t t = 0;
      const size_t len = first[s + 1] - first[s];
      for (size_t i = 0; i < len; ++i) {
        const uint32_t e = seq_edges[reversed ? first[s + 1] - 1 - i : first[s] + i];
        uint32_t c = get(t, e);
        if (c == kNoTrieNode) {
          c = static_cast<uint32_t>(last_edge.size());
          child.emplace((static_cast<uint64_t>(t) << 32) | e, c);
          last_edge.push_back(e), fail.push_back(0), bad.push_back(0), kids.emplace_back();
          kids[t].push_back(c);
        }
        t = c;
      }
      bad[t] = 1;
    }
    // Failure links breadth first (a node's link is shallower, so it is final when used).
    std::vector<uint32_t> queue(kids[0].begin(), kids[0].end());
    for (size_t q = 0; q < queue.size(); ++q) {
      const uint32_t t = queue[q];
      for (uint32_t c : kids[t]) {
        fail[c] = t == 0 ? 0 : step(fail[t], last_edge[c]);  // a depth-1 node's only proper suffix is empty
        bad[c] = bad[c] || bad[t] || bad[fail[c]];
        queue.push_back(c);
      }
    }
  }
};

// The split graph's arcs for a graph with edges tails[e] -> heads[e] and n nodes: one node per (node, live
// automaton state), the copies numbered n, n+1, ... in trie order; arc a runs t[a] -> h[a] along edge edge[a].
struct SplitArcs {
  std::vector<uint32_t> t, h, edge, origin;
};

SplitArcs split_arcs(uint32_t n, const std::vector<uint32_t>& tails, const std::vector<uint32_t>& heads,
                     const std::vector<uint32_t>& seq_first, const std::vector<uint32_t>& seq_edges, bool reversed) {
  const TurnAutomaton a(seq_first, seq_edges, reversed);
  const size_t states = a.last_edge.size();
  std::vector<uint32_t> id(states, kNoTrieNode);
  SplitArcs r;
  for (size_t s = 1; s < states; ++s) {
    if (a.bad[s]) continue;
    id[s] = n + static_cast<uint32_t>(r.origin.size());
    r.origin.push_back(heads[a.last_edge[s]]);
  }
  // Edges by tail (for the copies' arcs).
  std::vector<uint32_t> out_first(static_cast<size_t>(n) + 1, 0), out(tails.size());
  for (uint32_t u : tails) ++out_first[u + 1];
  for (uint32_t v = 0; v < n; ++v) out_first[v + 1] += out_first[v];
  {
    std::vector<uint32_t> fill(out_first.begin(), out_first.end() - 1);
    for (uint32_t e = 0; e < tails.size(); ++e) out[fill[tails[e]]++] = e;
  }
  const size_t reserve = tails.size() + 4 * r.origin.size();
  r.t.reserve(reserve), r.h.reserve(reserve), r.edge.reserve(reserve);
  auto arc = [&](uint32_t from, uint32_t state, uint32_t f) {
    if (a.bad[state]) return;  // the edge would complete a forbidden sequence
    r.t.push_back(from), r.h.push_back(state == 0 ? heads[f] : id[state]), r.edge.push_back(f);
  };
  for (uint32_t f = 0; f < tails.size(); ++f) arc(tails[f], a.step(0, f), f);
  for (size_t s = 1; s < states; ++s) {
    if (id[s] == kNoTrieNode) continue;
    const uint32_t v = heads[a.last_edge[s]];
    for (uint32_t k = out_first[v]; k < out_first[v + 1]; ++k) arc(id[s], a.step(static_cast<uint32_t>(s), out[k]), out[k]);
  }
  return r;
}

}  // namespace

template <typename NodeOf>
void RoadGraph::resolve_restrictions(const std::vector<TurnRestriction>& restrictions, NodeOf node_of) {
  // The edges of every way a restriction names, in one pass over the edges.
  std::unordered_map<int64_t, std::vector<uint32_t>> of_line;
  std::vector<int64_t> via(restrictions.size(), -1);
  for (size_t r = 0; r < restrictions.size(); ++r) {
    const TurnRestriction& tr = restrictions[r];
    of_line.try_emplace(tr.from_way), of_line.try_emplace(tr.to_way);
    for (int64_t w : tr.via_ways) of_line.try_emplace(w);
    if (tr.via_ways.empty()) via[r] = node_of(tr.via_node);
  }
  for (uint32_t e = 0; e < tails_.size(); ++e)
    if (auto it = of_line.find(line_id_[e]); it != of_line.end()) it->second.push_back(e);
  // Edges leaving each node (CSR), for only_* (every exit but the to way's is forbidden).
  const uint32_t n = n_nodes();
  std::vector<uint32_t> out_first(static_cast<size_t>(n) + 1, 0), out(tails_.size());
  for (uint32_t u : tails_) ++out_first[u + 1];
  for (uint32_t v = 0; v < n; ++v) out_first[v + 1] += out_first[v];
  {
    std::vector<uint32_t> fill(out_first.begin(), out_first.end() - 1);
    for (uint32_t e = 0; e < tails_.size(); ++e) out[fill[tails_[e]]++] = e;
  }
  std::vector<std::vector<uint32_t>> seqs;
  // The sequences of one manoeuvre: from edge e, the via path, then the forbidden exits at node b.
  auto add = [&](const TurnRestriction& tr, const std::vector<uint32_t>& from, const std::vector<uint32_t>& path,
                 uint32_t b) {
    std::vector<uint32_t> last;
    if (tr.only) {
      for (uint32_t k = out_first[b]; k < out_first[b + 1]; ++k)
        if (line_id_[out[k]] != tr.to_way) last.push_back(out[k]);
    } else {
      for (uint32_t f : of_line.at(tr.to_way))
        if (tails_[f] == b) last.push_back(f);
    }
    for (uint32_t e : from)
      for (uint32_t f : last) {
        std::vector<uint32_t> s{e};
        s.insert(s.end(), path.begin(), path.end());
        s.push_back(f);
        seqs.push_back(std::move(s));
      }
  };
  auto leaves = [&](int64_t way, uint32_t b) {
    for (uint32_t f : of_line.at(way))
      if (tails_[f] == b) return true;
    return false;
  };
  auto into = [&](int64_t way, uint32_t a) {
    std::vector<uint32_t> from;
    for (uint32_t e : of_line.at(way))
      if (heads_[e] == a) from.push_back(e);
    return from;
  };
  for (size_t r = 0; r < restrictions.size(); ++r) {
    const TurnRestriction& tr = restrictions[r];
    bool usable = false;
    if (tr.via_ways.empty()) {
      if (via[r] >= 0) {
        const uint32_t v = static_cast<uint32_t>(via[r]);
        const std::vector<uint32_t> from = into(tr.from_way, v);
        if (!from.empty() && leaves(tr.to_way, v)) {
          add(tr, from, {}, v);
          usable = true;
        }
      }
    } else {
      // The via chain: its edges, its undirected segments, and its ends (nodes met by one segment; every
      // node of it when it is closed).
      std::unordered_map<uint32_t, std::vector<uint32_t>> via_out;  // node -> via edges leaving it
      std::set<std::pair<uint32_t, uint32_t>> segments;
      bool missing = false;
      for (int64_t w : tr.via_ways) {
        if (w == tr.from_way || w == tr.to_way || of_line.at(w).empty()) missing = true;
        for (uint32_t e : of_line.at(w)) {
          via_out[tails_[e]].push_back(e);
          segments.emplace(std::min(tails_[e], heads_[e]), std::max(tails_[e], heads_[e]));
        }
      }
      std::map<uint32_t, int> degree;
      for (const auto& [u, v] : segments) ++degree[u], ++degree[v];
      std::vector<uint32_t> ends;
      for (const auto& [v, d] : degree)
        if (d == 1) ends.push_back(v);
      const bool closed = ends.empty();
      if (closed)
        for (const auto& [v, d] : degree) ends.push_back(v);
      for (uint32_t a : missing ? std::vector<uint32_t>{} : ends) {
        const std::vector<uint32_t> from = into(tr.from_way, a);
        if (from.empty()) continue;
        // Fewest via segments from a to every node (breadth first, edges in the order of the edge list).
        std::unordered_map<uint32_t, uint32_t> by;  // node -> the via edge it was reached by
        std::vector<uint32_t> queue{a};
        by[a] = kNoTrieNode;
        for (size_t q = 0; q < queue.size(); ++q) {
          const auto it = via_out.find(queue[q]);
          if (it == via_out.end()) continue;
          for (uint32_t e : it->second)
            if (by.try_emplace(heads_[e], e).second) queue.push_back(heads_[e]);
        }
        for (uint32_t b : ends) {
          if (b == a || !by.count(b) || !leaves(tr.to_way, b)) continue;
          std::vector<uint32_t> path;
          for (uint32_t v = b; v != a; v = tails_[by.at(v)]) path.push_back(by.at(v));
          std::reverse(path.begin(), path.end());
          add(tr, from, path, b);
          usable = true;
        }
      }
    }
    if (usable) ++report_.restrictions_applied;
    else ++report_.restrictions_unusable;
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  turn_seq_first_.assign(1, 0);
  turn_seq_edges_.clear();
  for (const auto& s : seqs) {
    turn_seq_edges_.insert(turn_seq_edges_.end(), s.begin(), s.end());
    turn_seq_first_.push_back(static_cast<uint32_t>(turn_seq_edges_.size()));
  }
  build_turn_graph();
}

void RoadGraph::build_turn_graph() {
  turn_from_ = TurnSplit{};
  turn_to_ = TurnSplit{};
  if (turn_seq_edges_.empty()) return;
  const uint32_t n = n_nodes();
  auto make = [&](const SplitArcs& a) {
    std::vector<double> s(a.edge.size());
    for (size_t k = 0; k < s.size(); ++k) s[k] = seconds_[a.edge[k]];
    TurnSplit split;
    split.graph = CsrGraph::from_edges(static_cast<int64_t>(n) + static_cast<int64_t>(a.origin.size()), a.t.data(),
                                       a.h.data(), s.data(), a.t.size());
    split.origin = a.origin;
    return split;
  };
  // From the sources: the automaton on the graph. To them: on the transposed graph, sequences reversed.
  turn_from_ = make(split_arcs(n, tails_, heads_, turn_seq_first_, turn_seq_edges_, false));
  turn_to_ = make(split_arcs(n, heads_, tails_, turn_seq_first_, turn_seq_edges_, true));
}

RoadGraph::TurnArcs RoadGraph::turn_arcs(bool to_sources) const {
  TurnArcs r;
  if (!has_turn_restrictions()) {
    r.tails = tails_, r.heads = heads_;
    r.edges.resize(tails_.size());
    std::iota(r.edges.begin(), r.edges.end(), 0u);
    return r;
  }
  // The TO split is built on the transposed graph: its arcs are swapped back into the direction of travel.
  SplitArcs a = to_sources ? split_arcs(n_nodes(), heads_, tails_, turn_seq_first_, turn_seq_edges_, true)
                           : split_arcs(n_nodes(), tails_, heads_, turn_seq_first_, turn_seq_edges_, false);
  r.tails = std::move(to_sources ? a.h : a.t), r.heads = std::move(to_sources ? a.t : a.h);
  r.edges = std::move(a.edge), r.copy_origin = std::move(a.origin);
  return r;
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
void RoadGraph::check_sources(const Index* sources, size_t n_sources) const {
  // Checked here: the split graph would accept a copy's id, which is no node of this graph.
  const uint32_t n = n_nodes();
  for (size_t j = 0; j < n_sources; ++j) {
    const int64_t v = static_cast<int64_t>(sources[j]);
    if (v < 0 || v >= static_cast<int64_t>(n)) {
      throw InputError("sources[" + std::to_string(j) + "] = " + std::to_string(v) + " is not a node id in [0, " +
                       std::to_string(n) + "); node ids count from 0 and must be < n_nodes");
    }
  }
}

// Every search below: the same kernel on the split graph of its direction, sources at their original nodes
// (a route starts unconstrained), then each node's result is the best over the node and its copies (a route
// may end in any automaton state).

template <typename Index>
void RoadGraph::nearest(const Index* sources, size_t n_sources, const GraphSearchOptions& options, bool reverse,
                        double* out_seconds, int32_t* out_nearest, RunControl* control) const {
  if (!has_turn_restrictions()) {
    nearest_source_search(reverse ? reverse_ : forward_, sources, n_sources, options, out_seconds, out_nearest,
                          control);
    return;
  }
  check_sources(sources, n_sources);
  const TurnSplit& split = reverse ? turn_to_ : turn_from_;
  const uint32_t n = n_nodes();
  const size_t nr = split.graph.n_nodes();
  std::vector<double> secs(nr);
  std::vector<int32_t> near(nr);
  nearest_source_search(split.graph, sources, n_sources, options, secs.data(), near.data(), control);
  std::copy(secs.begin(), secs.begin() + n, out_seconds);
  std::copy(near.begin(), near.begin() + n, out_nearest);
  for (size_t k = 0; k < split.origin.size(); ++k) {
    const uint32_t v = split.origin[k];
    if (better(secs[n + k], near[n + k], out_seconds[v], out_nearest[v]))
      out_seconds[v] = secs[n + k], out_nearest[v] = near[n + k];
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

template <typename Index>
void RoadGraph::k_nearest(const Index* sources, size_t n_sources, int k, const GraphSearchOptions& options,
                          bool reverse, double* out_seconds, int32_t* out_nearest, RunControl* control) const {
  if (!has_turn_restrictions()) {
    k_nearest_source_search(reverse ? reverse_ : forward_, sources, n_sources, k, options, out_seconds, out_nearest,
                            control);
    return;
  }
  check_sources(sources, n_sources);
  const TurnSplit& split = reverse ? turn_to_ : turn_from_;
  const size_t n = n_nodes(), nr = split.graph.n_nodes(), kk = static_cast<size_t>(k);
  std::vector<double> secs(nr * kk);
  std::vector<int32_t> near(nr * kk);
  k_nearest_source_search(split.graph, sources, n_sources, k, options, secs.data(), near.data(), control);
  std::copy(secs.begin(), secs.begin() + static_cast<std::ptrdiff_t>(n * kk), out_seconds);
  std::copy(near.begin(), near.begin() + static_cast<std::ptrdiff_t>(n * kk), out_nearest);
  // Merge each copy's k labels into its original's: the best label per source, then the k best. Exact: a
  // source among a node's k best is among the k best of the copy where its best route ends (else k other
  // sources beat it there, hence at the node).
  std::vector<std::pair<double, int32_t>> labels;
  for (size_t c = 0; c < split.origin.size(); ++c) {
    const size_t v = split.origin[c];
    labels.clear();
    for (const size_t row : {v, n + c})
      for (size_t i = 0; i < kk; ++i) {
        const int32_t j = (row == v ? out_nearest : near.data())[row * kk + i];
        if (j >= 0) labels.emplace_back((row == v ? out_seconds : secs.data())[row * kk + i], j);
      }
    std::sort(labels.begin(), labels.end());  // (seconds, source): the order of the outputs
    size_t m = 0;
    for (size_t i = 0; i < labels.size() && m < kk; ++i) {
      bool seen = false;
      for (size_t p = 0; p < m; ++p) seen |= out_nearest[v * kk + p] == labels[i].second;
      if (seen) continue;
      out_seconds[v * kk + m] = labels[i].first, out_nearest[v * kk + m] = labels[i].second;
      ++m;
    }
    for (; m < kk; ++m) out_seconds[v * kk + m] = std::numeric_limits<double>::infinity(), out_nearest[v * kk + m] = -1;
  }
}

template <typename Index>
SourceReach RoadGraph::reach(const Index* sources, size_t n_sources, const GraphSearchOptions& options, bool reverse,
                             RunControl* control) const {
  if (!has_turn_restrictions())
    return bounded_search_per_source(reverse ? reverse_ : forward_, sources, n_sources, options, control);
  check_sources(sources, n_sources);
  const TurnSplit& split = reverse ? turn_to_ : turn_from_;
  SourceReach in = bounded_search_per_source(split.graph, sources, n_sources, options, control);
  const uint32_t n = n_nodes();
  SourceReach r;
  r.list_first.assign(1, 0);
  r.nodes.reserve(in.nodes.size());
  r.seconds.reserve(in.seconds.size());
  // Each list is sorted by node id, so its copies (ids >= n) form its tail: only they are mapped and sorted,
  // then merged into the originals, keeping each node's best time.
  std::vector<std::pair<uint32_t, double>> tail;
  for (size_t j = 0; j < n_sources; ++j) {
    const auto b = in.nodes.begin() + static_cast<std::ptrdiff_t>(in.list_first[j]);
    const auto e = in.nodes.begin() + static_cast<std::ptrdiff_t>(in.list_first[j + 1]);
    const auto m = std::lower_bound(b, e, n);
    tail.clear();
    for (auto it = m; it != e; ++it)
      tail.emplace_back(split.origin[*it - n], in.seconds[static_cast<size_t>(it - in.nodes.begin())]);
    std::sort(tail.begin(), tail.end());  // by node, then seconds: the first of each node is its best
    size_t k = 0;
    auto emit = [&](uint32_t v, double t) {
      if (!r.nodes.empty() && r.nodes.size() > r.list_first.back() && r.nodes.back() == v) {
        r.seconds.back() = std::min(r.seconds.back(), t);
      } else {
        r.nodes.push_back(v), r.seconds.push_back(t);
      }
    };
    for (auto it = b; it != m; ++it) {
      const size_t i = static_cast<size_t>(it - in.nodes.begin());
      for (; k < tail.size() && tail[k].first < *it; ++k) emit(tail[k].first, tail[k].second);
      emit(*it, in.seconds[i]);
    }
    for (; k < tail.size(); ++k) emit(tail[k].first, tail[k].second);
    r.list_first.push_back(r.nodes.size());
  }
  return r;
}

#define CARESHED_ROAD_GRAPH_SEARCHES(Index)                                                                        \
  template void RoadGraph::nearest<Index>(const Index*, size_t, const GraphSearchOptions&, bool, double*, int32_t*, \
                                          RunControl*) const;                                                       \
  template void RoadGraph::k_nearest<Index>(const Index*, size_t, int, const GraphSearchOptions&, bool, double*,    \
                                            int32_t*, RunControl*) const;                                           \
  template SourceReach RoadGraph::reach<Index>(const Index*, size_t, const GraphSearchOptions&, bool, RunControl*)  \
      const;
CARESHED_ROAD_GRAPH_SEARCHES(int32_t)
CARESHED_ROAD_GRAPH_SEARCHES(int64_t)
CARESHED_ROAD_GRAPH_SEARCHES(uint32_t)
#undef CARESHED_ROAD_GRAPH_SEARCHES


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
