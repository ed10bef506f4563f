// referral.cpp — facility levels and referral over the existing searches (see careshed/referral.hpp).
//
// Why the referral targets cost no search of their own: the target of a level-l facility is the nearest
// level-(l+1) facility by travel time from it, and level l+1's multi-source field already holds, at every
// cell / node, the time to the nearest facility of that level and which one (ties to the lowest index,
// because each level's sources are passed in ascending facility index). So the per-level fields the planner
// needs for "time to the nearest X" also answer every referral; only assigned targets need searches
// (one per distinct target).
#include "careshed/referral.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/progress.hpp"
#include "careshed/road_graph.hpp"
#include "parallel_errors.hpp"

namespace careshed {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Levels and assignments checked once; per level the facility indices in ascending order.
struct LevelPlan {
  std::vector<std::vector<std::int32_t>> members;  // members[l] = facility indices of level l, ascending
  std::map<std::int32_t, std::vector<std::int32_t>> assigned_to;  // target j -> facilities assigned to j
};

LevelPlan plan_levels(std::size_t n, const FacilityLevels& levels) {
  if (levels.n_levels < 1) {
    throw InputError("referral: n_levels = " + std::to_string(levels.n_levels) +
                     " must be at least 1 (give the level names in order, lowest first)");
  }
  if (n > 0 && levels.level == nullptr) throw InputError("referral: the facilities' levels are missing");
  if (n >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    throw InputError("referral: too many facilities (" + std::to_string(n) + "); at most 2^31 - 2");
  }
  LevelPlan p;
  p.members.resize(static_cast<std::size_t>(levels.n_levels));
  for (std::size_t i = 0; i < n; ++i) {
    const std::int32_t l = levels.level[i];
    if (l < 0 || l >= levels.n_levels) {
      throw InputError("referral: facility " + std::to_string(i) + " has level " + std::to_string(l) +
                       "; levels are 0.." + std::to_string(levels.n_levels - 1) +
                       " (one of the given level names, lowest first)");
    }
    p.members[static_cast<std::size_t>(l)].push_back(static_cast<std::int32_t>(i));
  }
  if (levels.assigned) {
    for (std::size_t i = 0; i < n; ++i) {
      const std::int32_t j = levels.assigned[i];
      if (j == -1) continue;
      if (j < 0 || static_cast<std::size_t>(j) >= n) {
        throw InputError("referral: facility " + std::to_string(i) + " is assigned to facility " + std::to_string(j) +
                         ", which does not exist (0.." + std::to_string(n - 1) + ", or -1 for the nearest of the "
                         "next level)");
      }
      if (static_cast<std::size_t>(j) == i) {
        throw InputError("referral: facility " + std::to_string(i) +
                         " is assigned to itself; give another facility, or -1 for the nearest of the next level");
      }
      p.assigned_to[j].push_back(static_cast<std::int32_t>(i));
    }
  }
  return p;
}

Referrals empty_referrals(std::size_t n, const FacilityLevels& levels) {
  Referrals r;
  r.target.assign(n, -1);
  r.seconds.assign(n, kInf);
  r.metres.assign(n, kInf);
  r.assigned.assign(n, 0);
  if (levels.assigned) {
    for (std::size_t i = 0; i < n; ++i) r.assigned[i] = levels.assigned[i] >= 0 ? 1 : 0;
  }
  return r;
}

// One referral to retrace: facility i to target j along the field `field` (whose label `want` is j's).
struct Leg {
  std::int32_t facility;
  std::int32_t target;
  int field;         // which field: level index, or n_levels + k for the k-th assigned search
  std::int32_t want; // the label of the target in that field (facility index; 0 in a single-source field)
};

void pack_routes(Referrals& r, std::vector<std::vector<std::int64_t>>& routes) {
  r.route_first.assign(routes.size() + 1, 0);
  for (std::size_t i = 0; i < routes.size(); ++i) {
    r.route_first[i + 1] = r.route_first[i] + static_cast<std::int64_t>(routes[i].size());
  }
  r.route_items.reserve(static_cast<std::size_t>(r.route_first.back()));
  for (auto& v : routes) {
    r.route_items.insert(r.route_items.end(), v.begin(), v.end());
    std::vector<std::int64_t>().swap(v);
  }
}

// ---- grid ---------------------------------------------------------------------------------------------

struct GridGeometry {
  const FrictionGrid& g;
  double friction(std::int64_t cell) const {
    const double f = g.friction_f32 ? static_cast<double>(g.friction_f32[cell]) : g.friction_f64[cell];
    return (std::isnan(f) || f == kInf) ? kInf : f;
  }
  double dx(std::int64_t row) const { return g.row_dx_m ? g.row_dx_m[row] : g.dx_m; }
  // Centre distance of a move (dr, dc) from row r1 to row r2 (the raster_search.hpp rule).
  double length(std::int64_t r1, std::int64_t r2, int dr, int dc) const {
    return std::hypot(dc * 0.5 * (dx(r1) + dx(r2)), dr * g.dy_m);
  }
};

// Retraces the least-time route from facility cell `from` to cell `to` down `field` (see the header).
// Returns the metres (NaN when no strictly decreasing step exists) and appends the cells to `route`.
double retrace_grid(const GridGeometry& geo, int neighbours, const CellLabel* field, std::int32_t want,
                    std::int64_t from, std::int64_t to, std::vector<std::int64_t>* route) {
  static const int kMoves[16][2] = {{-1, 0}, {1, 0}, {0, -1}, {0, 1}, {-1, -1}, {-1, 1}, {1, -1}, {1, 1},
                                    {-2, -1}, {-2, 1}, {2, -1}, {2, 1}, {-1, -2}, {1, -2}, {-1, 2}, {1, 2}};
  const std::int64_t cols = geo.g.cols, rows = geo.g.rows;
  std::int64_t cur = from;
  double metres = 0.0;
  if (route) route->push_back(cur);
  while (cur != to) {
    const std::int64_t r = cur / cols, c = cur % cols;
    const double t_cur = field[cur].seconds;
    const double f_cur = geo.friction(cur);
    std::int64_t best = -1;
    double best_v = kInf, best_len = 0.0;
    for (int m = 0; m < neighbours; ++m) {
      const int dr = kMoves[m][0], dc = kMoves[m][1];
      const std::int64_t nr = r + dr, nc = c + dc;
      if (nr < 0 || nr >= rows || nc < 0 || nc >= cols) continue;
      const std::int64_t n = nr * cols + nc;
      if (field[n].nearest != want || !(field[n].seconds < t_cur)) continue;
      double fsum = f_cur + geo.friction(n), fcount = 2.0;
      if (m >= 8) {  // knight's move: also the two cells it passes between (raster_search.hpp)
        std::int64_t c1, c2;
        if (dr == 2 || dr == -2) {
          c1 = (r + dr / 2) * cols + c;
          c2 = (r + dr / 2) * cols + nc;
        } else {
          c1 = r * cols + (c + dc / 2);
          c2 = nr * cols + (c + dc / 2);
        }
        fsum += geo.friction(c1) + geo.friction(c2);
        fcount = 4.0;
      }
      if (!(fsum < kInf)) continue;  // blocked
      const double len = geo.length(r, nr, dr, dc);
      const double v = static_cast<double>(field[n].seconds) + len * fsum / fcount;
      if (v < best_v) best_v = v, best = n, best_len = len;
    }
    if (best < 0) return kNaN;
    metres += best_len;
    cur = best;
    if (route) route->push_back(cur);
  }
  return metres;
}

}  // namespace

Referrals referral_on_grid(const FrictionGrid& grid, const std::int64_t* facilities_rc, std::size_t n_facilities,
                           const FacilityLevels& levels, const ReferralOptions& options, CellLabel* out,
                           RunControl* control) {
  ProgressSpan whole(control, 0.0, 1.0, "referral");
  const LevelPlan plan = plan_levels(n_facilities, levels);
  if (grid.rows <= 0 || grid.cols <= 0) throw InputError("referral: the friction grid has no cells");
  const std::int64_t cells = grid.rows * grid.cols;
  for (std::size_t i = 0; i < n_facilities; ++i) {
    const std::int64_t r = facilities_rc[2 * i], c = facilities_rc[2 * i + 1];
    if (r < 0 || r >= grid.rows || c < 0 || c >= grid.cols) {
      throw InputError("referral: facility " + std::to_string(i) + " at (row " + std::to_string(r) + ", col " +
                       std::to_string(c) + ") lies outside the " + std::to_string(grid.rows) + " x " +
                       std::to_string(grid.cols) + " grid");
    }
  }
  RasterSearchOptions so;
  so.neighbours = options.neighbours;
  so.max_seconds = options.max_seconds;
  so.threads = options.threads;
  const int n_levels = levels.n_levels;
  const std::size_t n_assigned_targets = plan.assigned_to.size();
  // Progress: one equal share per search (levels, then assigned targets) and one for the nearest-target routes.
  const double unit = 1.0 / (static_cast<double>(n_levels) + static_cast<double>(n_assigned_targets) + 1.0);
  // -- one multi-source search per level -----------------------------------------------------------------
  for (int l = 0; l < n_levels; ++l) {
    const auto& mem = plan.members[static_cast<std::size_t>(l)];
    CellLabel* field = out + static_cast<std::int64_t>(l) * cells;
    ProgressSpan span(control, unit * l, unit * (l + 1), "level search");
    std::vector<std::int64_t> src(2 * mem.size());
    for (std::size_t k = 0; k < mem.size(); ++k) {
      src[2 * k] = facilities_rc[2 * static_cast<std::size_t>(mem[k])];
      src[2 * k + 1] = facilities_rc[2 * static_cast<std::size_t>(mem[k]) + 1];
    }
    raster_travel_time(grid, src.data(), mem.size(), so, field, control);
    // level-local source index -> facility index
    const std::int32_t* ids = mem.data();
#pragma omp parallel for schedule(static)
    for (std::int64_t x = 0; x < cells; ++x) {
      if (field[x].nearest >= 0) field[x].nearest = ids[field[x].nearest];
    }
  }
  Referrals res = empty_referrals(n_facilities, levels);
  std::vector<Leg> legs;
  const std::int32_t* assigned = levels.assigned;
  for (std::size_t i = 0; i < n_facilities; ++i) {
    if (assigned && assigned[i] >= 0) continue;
    const int next = levels.level[i] + 1;
    if (next >= n_levels) continue;
    const std::int64_t cell = facilities_rc[2 * i] * grid.cols + facilities_rc[2 * i + 1];
    const CellLabel& lab = out[static_cast<std::int64_t>(next) * cells + cell];
    if (lab.nearest < 0) continue;
    res.target[i] = lab.nearest;
    res.seconds[i] = lab.seconds;
    legs.push_back({static_cast<std::int32_t>(i), lab.nearest, next, lab.nearest});
  }
  const GridGeometry geo{grid};
  std::vector<std::vector<std::int64_t>> routes(options.keep_routes ? n_facilities : 0);
  auto retrace_legs = [&](const std::vector<Leg>& todo, const CellLabel* field_of_assigned) {
    ProgressCounter counter(control, todo.size());
    detail::FirstException errors;  // a route's cells grow a vector: std::bad_alloc is rethrown after the loop
#pragma omp parallel for schedule(dynamic, 16)
    for (std::int64_t k = 0; k < static_cast<std::int64_t>(todo.size()); ++k) {
      if (!counter.running() || errors.failed()) continue;
      errors.run([&] {
        const Leg& leg = todo[static_cast<std::size_t>(k)];
        const std::size_t i = static_cast<std::size_t>(leg.facility), j = static_cast<std::size_t>(leg.target);
        const std::int64_t from = facilities_rc[2 * i] * grid.cols + facilities_rc[2 * i + 1];
        const std::int64_t to = facilities_rc[2 * j] * grid.cols + facilities_rc[2 * j + 1];
        const CellLabel* field =
            field_of_assigned ? field_of_assigned : out + static_cast<std::int64_t>(leg.field) * cells;
        res.metres[i] = retrace_grid(geo, options.neighbours, field, leg.want, from, to,
                                     options.keep_routes ? &routes[i] : nullptr);
        counter.done();
      });
    }
    errors.rethrow_if_failed();
    throw_if_cancelled(control);
  };
  {
    ProgressSpan span(control, unit * n_levels, unit * (n_levels + 1), "routes");
    retrace_legs(legs, nullptr);
  }
  // -- assigned targets: one single-source search each ---------------------------------------------------
  if (n_assigned_targets) {
    std::vector<CellLabel> scratch(static_cast<std::size_t>(cells));
    int k = 0;
    for (const auto& [j, from_list] : plan.assigned_to) {
      ProgressSpan span(control, unit * (n_levels + 1 + k), unit * (n_levels + 2 + k), "assigned targets");
      const std::int64_t src[2] = {facilities_rc[2 * static_cast<std::size_t>(j)],
                                   facilities_rc[2 * static_cast<std::size_t>(j) + 1]};
      raster_travel_time(grid, src, 1, so, scratch.data(), control);
      std::vector<Leg> todo;
      for (const std::int32_t i : from_list) {
        const std::int64_t cell = facilities_rc[2 * static_cast<std::size_t>(i)] * grid.cols +
                                  facilities_rc[2 * static_cast<std::size_t>(i) + 1];
        if (scratch[static_cast<std::size_t>(cell)].nearest < 0) continue;  // not in reach: stays -1 / inf
        res.target[static_cast<std::size_t>(i)] = j;
        res.seconds[static_cast<std::size_t>(i)] = scratch[static_cast<std::size_t>(cell)].seconds;
        todo.push_back({i, j, -1, 0});
      }
      retrace_legs(todo, scratch.data());
      ++k;
    }
  }
  if (options.keep_routes) pack_routes(res, routes);
  return res;
}

// ---- graph --------------------------------------------------------------------------------------------

namespace {

// Referral on an edge list whose nodes n_out .. n_nodes-1 are copies of copy_origin[id - n_out] (a RoadGraph's
// turn-restriction split graph for times TO sources, road_graph.hpp; none for a plain graph). Searches run on
// the whole list from original nodes; a node's result is the best over it and its copies (a trip may leave a
// node in any state), and a facility's route is retraced from whichever of them holds that best.
Referrals graph_referral(std::int64_t n_nodes, const std::int64_t* tails, const std::int64_t* heads,
                         const double* seconds, const double* length_m, std::size_t n_edges,
                         const std::uint32_t* copy_origin, std::size_t n_copies, const std::int64_t* facility_nodes,
                         std::size_t n_facilities, const FacilityLevels& levels, const ReferralOptions& options,
                         double* out_seconds, std::int32_t* out_nearest, RunControl* control) {
  ProgressSpan whole(control, 0.0, 1.0, "referral");
  const LevelPlan plan = plan_levels(n_facilities, levels);
  for (std::size_t e = 0; e < n_edges; ++e) {
    if (!(length_m[e] >= 0.0) || !std::isfinite(length_m[e])) {
      std::ostringstream m;
      m << "referral: length_m[" << e << "] = " << length_m[e] << " must be a finite length >= 0 metres";
      throw InputError(m.str());
    }
  }
  const CsrGraph forward = CsrGraph::from_edges(n_nodes, tails, heads, seconds, n_edges);  // checks ids, costs
  const std::int64_t n_out = n_nodes - static_cast<std::int64_t>(n_copies);  // the graph's own nodes
  for (std::size_t i = 0; i < n_facilities; ++i) {
    if (facility_nodes[i] < 0 || facility_nodes[i] >= n_out) {
      throw InputError("referral: facility " + std::to_string(i) + " is at node " + std::to_string(facility_nodes[i]) +
                       ", outside the graph's nodes 0.." + std::to_string(n_out - 1));
    }
  }
  const CsrGraph reverse = forward.transposed();
  // Lengths in forward-CSR order: from_edges keeps the input order within each tail (stable counting sort).
  std::vector<double> arc_length(n_edges);
  {
    std::vector<std::uint32_t> fill(forward.first().begin(), forward.first().end() - 1);
    for (std::size_t e = 0; e < n_edges; ++e) arc_length[fill[static_cast<std::size_t>(tails[e])]++] = length_m[e];
  }
  // Each node's copies (CSR), to find where a facility's best route starts.
  const std::size_t nn = static_cast<std::size_t>(n_out), nt = static_cast<std::size_t>(n_nodes);
  std::vector<std::size_t> copies_first(n_copies ? nn + 1 : 0, 0), copies;
  if (n_copies) {
    for (std::size_t c = 0; c < n_copies; ++c) ++copies_first[copy_origin[c] + 1];
    for (std::size_t v = 0; v < nn; ++v) copies_first[v + 1] += copies_first[v];
    copies.resize(n_copies);
    std::vector<std::size_t> fill(copies_first.begin(), copies_first.end() - 1);
    for (std::size_t c = 0; c < n_copies; ++c) copies[fill[copy_origin[c]]++] = nn + c;
  }
  // The best over a node and its copies: (seconds, facility) lower first; unreached (-1) last.
  auto reduce = [&](const double* s, const std::int32_t* ne, double* out_s, std::int32_t* out_ne) {
    std::copy(s, s + nn, out_s);
    std::copy(ne, ne + nn, out_ne);
    for (std::size_t c = 0; c < n_copies; ++c) {
      const std::size_t v = copy_origin[c], x = nn + c;
      if (ne[x] >= 0 && (out_ne[v] < 0 || s[x] < out_s[v] || (s[x] == out_s[v] && ne[x] < out_ne[v])))
        out_s[v] = s[x], out_ne[v] = ne[x];
    }
  };
  // The node (the original or a copy) of facility i's node that holds `label`.
  auto start_of = [&](std::size_t v, const double* s, const std::int32_t* ne) {
    std::size_t best = v;
    if (n_copies)
      for (std::size_t k = copies_first[v]; k < copies_first[v + 1]; ++k) {
        const std::size_t x = copies[k];
        if (ne[x] >= 0 && (ne[best] < 0 || s[x] < s[best] || (s[x] == s[best] && ne[x] < ne[best]))) best = x;
      }
    return static_cast<std::int64_t>(best);
  };
  GraphSearchOptions go;
  go.max_seconds = options.max_seconds;
  const int n_levels = levels.n_levels;
  const double unit = 1.0 / (static_cast<double>(n_levels) + static_cast<double>(plan.assigned_to.size()) + 1.0);
  // With copies the fields cover every node of the list (the outputs get the reduced fields); without, the
  // outputs are the fields.
  std::vector<double> full_s(n_copies ? static_cast<std::size_t>(n_levels) * nt : 0);
  std::vector<std::int32_t> full_ne(full_s.size());
  double* fields_s = n_copies ? full_s.data() : out_seconds;
  std::int32_t* fields_ne = n_copies ? full_ne.data() : out_nearest;
  for (int l = 0; l < n_levels; ++l) {
    ProgressSpan span(control, unit * l, unit * (l + 1), "level search");
    const auto& mem = plan.members[static_cast<std::size_t>(l)];
    std::vector<std::int64_t> src(mem.size());
    for (std::size_t k = 0; k < mem.size(); ++k) src[k] = facility_nodes[static_cast<std::size_t>(mem[k])];
    double* s = fields_s + static_cast<std::size_t>(l) * nt;
    std::int32_t* ne = fields_ne + static_cast<std::size_t>(l) * nt;
    nearest_source_search(reverse, src.data(), src.size(), go, s, ne, control);
    for (std::size_t v = 0; v < nt; ++v) {
      if (ne[v] >= 0) ne[v] = mem[static_cast<std::size_t>(ne[v])];
    }
    if (n_copies) reduce(s, ne, out_seconds + static_cast<std::size_t>(l) * nn, out_nearest + static_cast<std::size_t>(l) * nn);
  }
  Referrals res = empty_referrals(n_facilities, levels);
  std::vector<std::vector<std::int64_t>> routes(options.keep_routes ? n_facilities : 0);
  auto origin_of = [&](std::int64_t x) {
    return x < n_out ? x : static_cast<std::int64_t>(copy_origin[static_cast<std::size_t>(x - n_out)]);
  };
  // Retrace down a field (times TO its sources) along forward arcs: the step that explains the time exactly.
  auto retrace = [&](const double* fs, const std::int32_t* fn, std::int32_t want, std::size_t i, std::int64_t to) {
    std::int64_t cur = start_of(static_cast<std::size_t>(facility_nodes[i]), fs, fn);
    double metres = 0.0;
    std::vector<std::int64_t>* route = options.keep_routes ? &routes[i] : nullptr;
    if (route) route->push_back(origin_of(cur));
    std::size_t steps = 0;
    const auto& first = forward.first();
    const auto& arcs = forward.arcs();
    while (cur != to) {
      const double t = fs[cur];
      std::int64_t best = -1;
      std::uint32_t best_arc = 0;
      for (std::uint32_t a = first[static_cast<std::size_t>(cur)]; a < first[static_cast<std::size_t>(cur) + 1]; ++a) {
        const std::uint32_t p = arcs[a].head;
        if (fn[p] != want || fs[p] + arcs[a].seconds != t) continue;
        if (best < 0) best = p, best_arc = a;  // a zero-cost arc (same time) only when nothing earlier exists:
        if (fs[p] < t) {                       // such arcs could cycle (bounded by the step count below)
          best = p, best_arc = a;
          break;
        }
      }
      if (best < 0 || ++steps > nt) return kNaN;
      metres += arc_length[best_arc];
      cur = best;
      if (route) route->push_back(origin_of(cur));
    }
    return metres;
  };
  {
    ProgressSpan span(control, unit * n_levels, unit * (n_levels + 1), "routes");
    for (std::size_t i = 0; i < n_facilities; ++i) {
      if (levels.assigned && levels.assigned[i] >= 0) continue;
      const int next = levels.level[i] + 1;
      if (next >= n_levels) continue;
      const std::size_t v = static_cast<std::size_t>(facility_nodes[i]) + static_cast<std::size_t>(next) * nn;
      if (out_nearest[v] < 0) continue;
      const std::int32_t j = out_nearest[v];
      res.target[i] = j;
      res.seconds[i] = out_seconds[v];
      res.metres[i] = retrace(fields_s + static_cast<std::size_t>(next) * nt, fields_ne + static_cast<std::size_t>(next) * nt,
                              j, i, facility_nodes[static_cast<std::size_t>(j)]);
      if ((i & 1023) == 0) throw_if_cancelled(control);
    }
  }
  if (!plan.assigned_to.empty()) {
    std::vector<double> s(nt), rs(nn);
    std::vector<std::int32_t> ne(nt), rne(nn);
    int k = 0;
    for (const auto& [j, from_list] : plan.assigned_to) {
      ProgressSpan span(control, unit * (n_levels + 1 + k), unit * (n_levels + 2 + k), "assigned targets");
      const std::int64_t src = facility_nodes[static_cast<std::size_t>(j)];
      nearest_source_search(reverse, &src, 1, go, s.data(), ne.data(), control);
      if (n_copies) reduce(s.data(), ne.data(), rs.data(), rne.data());
      const double* best_s = n_copies ? rs.data() : s.data();
      const std::int32_t* best_ne = n_copies ? rne.data() : ne.data();
      for (const std::int32_t i : from_list) {
        const std::size_t v = static_cast<std::size_t>(facility_nodes[static_cast<std::size_t>(i)]);
        if (best_ne[v] < 0) continue;
        res.target[static_cast<std::size_t>(i)] = j;
        res.seconds[static_cast<std::size_t>(i)] = best_s[v];
        res.metres[static_cast<std::size_t>(i)] = retrace(s.data(), ne.data(), 0, static_cast<std::size_t>(i), src);
      }
      ++k;
    }
  }
  if (options.keep_routes) pack_routes(res, routes);
  return res;
}

}  // namespace

Referrals referral_on_graph(std::int64_t n_nodes, const std::int64_t* tails, const std::int64_t* heads,
                            const double* seconds, const double* length_m, std::size_t n_edges,
                            const std::int64_t* facility_nodes, std::size_t n_facilities,
                            const FacilityLevels& levels, const ReferralOptions& options, double* out_seconds,
                            std::int32_t* out_nearest, RunControl* control) {
  return graph_referral(n_nodes, tails, heads, seconds, length_m, n_edges, nullptr, 0, facility_nodes, n_facilities,
                        levels, options, out_seconds, out_nearest, control);
}

Referrals referral_on_road_graph(const RoadGraph& graph, const std::int64_t* facility_nodes, std::size_t n_facilities,
                                 const FacilityLevels& levels, const ReferralOptions& options, double* out_seconds,
                                 std::int32_t* out_nearest, RunControl* control) {
  // The split graph for times TO sources, in the direction of travel (plain edges when there is no restriction).
  const RoadGraph::TurnArcs a = graph.turn_arcs(/*to_sources=*/true);
  const std::size_t m = a.edges.size();
  std::vector<std::int64_t> t(a.tails.begin(), a.tails.end()), h(a.heads.begin(), a.heads.end());
  std::vector<double> s(m), len(m);
  for (std::size_t k = 0; k < m; ++k) s[k] = graph.edge_seconds()[a.edges[k]], len[k] = graph.edge_length_m()[a.edges[k]];
  const std::int64_t n = static_cast<std::int64_t>(graph.n_nodes()) + static_cast<std::int64_t>(a.copy_origin.size());
  return graph_referral(n, t.data(), h.data(), s.data(), len.data(), m, a.copy_origin.data(), a.copy_origin.size(),
                        facility_nodes, n_facilities, levels, options, out_seconds, out_nearest, control);
}

}  // namespace careshed
