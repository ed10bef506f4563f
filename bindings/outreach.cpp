// Bindings of careshed/outreach.hpp: mobile outreach circuits (exact with CBC, or savings + local search with a
// proven lower bound). NumPy in (checked before the GIL is released), a dict of NumPy arrays and scalars out; the
// solve runs without the GIL under run_watch (Ctrl-C and progress=, bindings/run_watch.hpp).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/outreach.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

OutreachProblem problem_of(const Arr<double>& travel_seconds, const Arr<std::int32_t>& point_node,
                           const Arr<double>& service_seconds, const Arr<std::int32_t>& visits,
                           const Arr<std::int32_t>& team_base, const Arr<std::int32_t>& team_days,
                           const Arr<double>& team_day_seconds, double day_cost_seconds) {
  if (travel_seconds.ndim() != 2 || travel_seconds.shape(0) != travel_seconds.shape(1)) {
    throw InputError("travel_seconds: expected a square (n_nodes, n_nodes) array of seconds from row to column");
  }
  OutreachProblem p;
  p.n_nodes = std::int32_t(travel_seconds.shape(0));
  p.travel_seconds.assign(travel_seconds.data(), travel_seconds.data() + travel_seconds.size());
  p.point_node = vector_1d(point_node, "point_node");
  p.service_seconds = vector_1d(service_seconds, "service_seconds");
  p.visits = vector_1d(visits, "visits");
  const std::vector<std::int32_t> base = vector_1d(team_base, "team_base"), days = vector_1d(team_days, "team_days");
  const std::vector<double> day = vector_1d(team_day_seconds, "team_day_seconds");
  if (days.size() != base.size() || day.size() != base.size()) {
    throw InputError("team_base, team_days and team_day_seconds: one value per team each (got " +
                     std::to_string(base.size()) + ", " + std::to_string(days.size()) + ", " +
                     std::to_string(day.size()) + ")");
  }
  for (std::size_t k = 0; k < base.size(); ++k) p.teams.push_back(OutreachTeam{base[k], days[k], day[k]});
  p.day_cost_seconds = day_cost_seconds;
  return p;
}

OutreachSolver solver_of(const std::string& s) {
  if (s == "exact") return OutreachSolver::Exact;
  if (s == "heuristic") return OutreachSolver::Heuristic;
  if (s == "auto") return OutreachSolver::Auto;
  throw InputError("solver: '" + s + "' is not 'exact' (CBC), 'heuristic' (savings + local search) or 'auto'");
}

#define CARESHED_OUTREACH_PARAMS                                                                               \
  const Arr<double>&travel_seconds, const Arr<std::int32_t>&point_node, const Arr<double>&service_seconds,     \
      const Arr<std::int32_t>&visits, const Arr<std::int32_t>&team_base, const Arr<std::int32_t>&team_days,    \
      const Arr<double>&team_day_seconds, double day_cost_seconds
#define CARESHED_OUTREACH_ARGS                                                                                 \
  py::arg("travel_seconds"), py::arg("point_node"), py::arg("service_seconds"), py::arg("visits"),             \
      py::arg("team_base"), py::arg("team_days"), py::arg("team_day_seconds"), py::kw_only(),                  \
      py::arg("day_cost_seconds") = 0.0

}  // namespace

void init_outreach(py::module_& m) {
  m.def(
      "plan_outreach",
      [](CARESHED_OUTREACH_PARAMS, const std::string& solver, double time_limit_s, std::int64_t max_routes,
         bool local_search, double bound_seconds, const py::object& progress) {
        check_progress_arg(progress);
        const OutreachProblem p = problem_of(travel_seconds, point_node, service_seconds, visits, team_base,
                                             team_days, team_day_seconds, day_cost_seconds);
        OutreachOptions o;
        o.solver = solver_of(solver);
        o.time_limit_s = time_limit_s;
        o.max_routes = max_routes;
        o.local_search = local_search;
        if (!(bound_seconds >= 0)) {
          throw InputError("bound_seconds = " + std::to_string(bound_seconds) +
                           " must be seconds >= 0 (0: no column-generation bound)");
        }
        o.bound_seconds = bound_seconds;
        OutreachSchedule s =
            run_interruptible(progress, [&](RunControl* c) { return plan_outreach(p, o, c); });
        std::vector<std::int32_t> team, day, points;
        std::vector<std::int64_t> offsets{0};
        std::vector<double> travel, service, duration;
        for (const OutreachRoute& r : s.routes) {
          team.push_back(r.team);
          day.push_back(r.day);
          points.insert(points.end(), r.points.begin(), r.points.end());
          offsets.push_back(std::int64_t(points.size()));
          travel.push_back(r.travel_seconds);
          service.push_back(r.service_seconds);
          duration.push_back(r.duration_seconds);
        }
        py::dict d;
        d["route_team"] = to_numpy(std::move(team));
        d["route_day"] = to_numpy(std::move(day));
        d["route_offsets"] = to_numpy(std::move(offsets));
        d["route_points"] = to_numpy(std::move(points));
        d["route_travel_seconds"] = to_numpy(std::move(travel));
        d["route_service_seconds"] = to_numpy(std::move(service));
        d["route_duration_seconds"] = to_numpy(std::move(duration));
        d["point_team"] = to_numpy(std::move(s.point_team));
        d["objective"] = s.objective;
        d["travel_seconds"] = s.travel_seconds;
        d["team_days"] = s.team_days;
        d["bound"] = s.bound;
        d["relaxation_bound"] = s.relaxation_bound;
        d["gap"] = s.gap;
        d["proven_optimal"] = s.proven_optimal;
        d["solver"] = s.solver;
        d["status"] = s.status;
        d["bound_source"] = s.bound_source;
        d["lp_bound"] = s.lp_bound;
        d["lp_converged"] = s.lp_converged;
        d["lp_iterations"] = s.lp_iterations;
        d["routes_enumerated"] = s.routes_enumerated;
        d["seconds_elapsed"] = s.seconds_elapsed;
        return d;
      },
      CARESHED_OUTREACH_ARGS, py::arg("solver") = "auto",
      py::arg("time_limit_s") = std::numeric_limits<double>::infinity(), py::arg("max_routes") = 2000000,
      py::arg("local_search") = true, py::arg("bound_seconds") = 10.0, py::arg("progress") = py::none(),
      "Each team's monthly circuit of day routes (careshed/outreach.hpp). Returns a dict: routes as CSR "
      "(route_offsets, route_points) with route_team, route_day and seconds; point_team; objective, bound, gap.");

  m.def(
      "outreach_lower_bound",
      [](CARESHED_OUTREACH_PARAMS, const py::object& progress) {
        check_progress_arg(progress);
        const OutreachProblem p = problem_of(travel_seconds, point_node, service_seconds, visits, team_base,
                                             team_days, team_day_seconds, day_cost_seconds);
        return run_interruptible(progress, [&](RunControl* c) { return outreach_lower_bound(p, c); });
      },
      CARESHED_OUTREACH_ARGS, py::arg("progress") = py::none(),
      "The assignment + bin-packing lower bound on the objective of any schedule (seconds).");

  m.def(
      "outreach_lp_bound",
      [](CARESHED_OUTREACH_PARAMS, double seconds, const py::object& progress) {
        check_progress_arg(progress);
        const OutreachProblem p = problem_of(travel_seconds, point_node, service_seconds, visits, team_base,
                                             team_days, team_day_seconds, day_cost_seconds);
        const OutreachLpBound b =
            run_interruptible(progress, [&](RunControl* c) { return outreach_lp_bound(p, seconds, c); });
        return py::make_tuple(b.value, b.converged, b.iterations);
      },
      CARESHED_OUTREACH_ARGS, py::arg("seconds") = 10.0, py::arg("progress") = py::none(),
      "The column-generation bound on the objective of any schedule: (seconds, converged, master LP solves).");
}

}  // namespace careshed::bindings
