// Bindings of careshed/optimize.hpp: sparse site costs, the site optimisation models (exact with CBC, or greedy +
// swap with a certified bound), scenario evaluation and the marginal-gain curve. NumPy in, NumPy out: every array is
// checked (length, dtype by forcecast) before the GIL is released; solves run without the GIL, watched
// (run_watch.hpp: Ctrl-C stops them within a second, `progress(fraction, phase)` sees how far they got). Results are dicts of
// numpy arrays and scalars; the Python layer turns them into tables.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "careshed/error.hpp"
#include "careshed/optimize.hpp"
#include "init.hpp"
#include "io_numpy.hpp"
#include "run_watch.hpp"

namespace py = pybind11;

namespace careshed::bindings {
namespace {

template <class T>
std::vector<T> vec_of(const std::optional<Arr<T>>& a, const char* what, py::ssize_t n) {
  if (!a) return {};
  return vector_1d(*a, what, n);
}

SiteModel model_of(const std::string& name) {
  if (name == "lscp") return SiteModel::Lscp;
  if (name == "mclp") return SiteModel::Mclp;
  if (name == "backup") return SiteModel::Backup;
  if (name == "mexclp") return SiteModel::Mexclp;
  if (name == "p-median" || name == "p_median") return SiteModel::PMedian;
  if (name == "p-center" || name == "p_center") return SiteModel::PCenter;
  throw InputError("model: '" + name + "' is not one of lscp, mclp, backup, mexclp, p-median, p-center");
}

SiteSolver solver_of(const std::string& name) {
  if (name == "exact") return SiteSolver::Exact;
  if (name == "heuristic") return SiteSolver::Heuristic;
  throw InputError("solver: '" + name + "' is not 'exact' (CBC) or 'heuristic' (greedy + swap)");
}

/// The problem from keyword arguments (see careshed::SiteProblem for each field).
SiteProblem problem_of(const SiteCosts& c, const std::string& model, const std::optional<Arr<double>>& weights,
                       const std::optional<Arr<double>>& max_seconds, std::int32_t p,
                       const std::optional<Arr<std::uint8_t>>& site_status,
                       const std::optional<Arr<double>>& site_cost, double budget,
                       const std::optional<Arr<std::int32_t>>& demand_zone,
                       const std::optional<Arr<double>>& zone_min_share, bool skip_uncoverable, double backup_weight,
                       bool require_primary, double busy_fraction, std::int32_t max_vehicles_per_site,
                       const std::optional<Arr<std::int32_t>>& min_vehicles,
                       const std::optional<Arr<double>>& site_capacity, std::int32_t max_closures,
                       const std::optional<Arr<double>>& closing_cost, bool single_source) {
  SiteProblem pr;
  pr.model = model_of(model);
  pr.weights = vec_of(weights, "weights", c.n_demand);
  pr.max_seconds = vec_of(max_seconds, "max_seconds", -1);
  pr.p = p;
  for (std::uint8_t s : vec_of(site_status, "site_status", c.n_candidates)) {
    if (s > 3) {
      throw InputError("site_status: values are 0 free, 1 fixed open, 2 forbidden, 3 existing that may close; got " +
                       std::to_string(s));
    }
    pr.site_status.push_back(SiteStatus(s));
  }
  pr.site_cost = vec_of(site_cost, "site_cost", c.n_candidates);
  pr.budget = budget;
  pr.demand_zone = vec_of(demand_zone, "demand_zone", c.n_demand);
  pr.zone_min_share = vec_of(zone_min_share, "zone_min_share", -1);
  pr.skip_uncoverable = skip_uncoverable;
  pr.backup_weight = backup_weight;
  pr.require_primary = require_primary;
  pr.busy_fraction = busy_fraction;
  pr.max_vehicles_per_site = max_vehicles_per_site;
  pr.min_vehicles = vec_of(min_vehicles, "min_vehicles", c.n_candidates);
  pr.site_capacity = vec_of(site_capacity, "site_capacity", c.n_candidates);
  pr.max_closures = max_closures;
  pr.closing_cost = vec_of(closing_cost, "closing_cost", c.n_candidates);
  pr.single_source = single_source;
  return pr;
}

void put_evaluation(py::dict& d, SiteEvaluation&& e) {
  d["sites"] = to_numpy(std::move(e.sites));
  d["vehicles"] = to_numpy(std::move(e.vehicles));
  d["objective"] = e.objective;
  d["total_cost"] = e.total_cost;
  d["weight"] = e.weight;
  d["covered"] = e.covered;
  d["backed_up"] = e.backed_up;
  d["expected_covered"] = e.expected_covered;
  d["uncoverable"] = e.uncoverable;
  d["max_seconds"] = e.max_seconds;
  d["weighted_seconds"] = e.weighted_seconds;
  d["assignment"] = to_numpy(std::move(e.assignment));
  d["assigned_seconds"] = to_numpy(std::move(e.assigned_seconds));
  d["served"] = to_numpy(std::move(e.served));
  d["site_load"] = to_numpy(std::move(e.site_load));
  d["closed"] = to_numpy(std::move(e.closed));
  d["zone_weight"] = to_numpy(std::move(e.zone_weight));
  d["zone_covered"] = to_numpy(std::move(e.zone_covered));
  d["feasible"] = e.feasible;
  d["infeasible_reason"] = e.infeasible_reason;
}

// The problem's parameters, as the three model-taking functions receive them (same order as
// CARESHED_PROBLEM_ARGS), and the SiteProblem they make: written once here rather than in each lambda.
#define CARESHED_PROBLEM_PARAMS                                                                                   \
  const std::string& model, const std::optional<Arr<double>>& weights,                                           \
      const std::optional<Arr<double>>& max_seconds, std::int32_t p,                                             \
      const std::optional<Arr<std::uint8_t>>& site_status, const std::optional<Arr<double>>& site_cost,          \
      double budget, const std::optional<Arr<std::int32_t>>& demand_zone,                                        \
      const std::optional<Arr<double>>& zone_min_share, bool skip_uncoverable, double backup_weight,             \
      bool require_primary, double busy_fraction, std::int32_t max_vehicles_per_site,                            \
      const std::optional<Arr<std::int32_t>>& min_vehicles, const std::optional<Arr<double>>& site_capacity,      \
      std::int32_t max_closures, const std::optional<Arr<double>>& closing_cost, bool single_source
#define CARESHED_PROBLEM_OF                                                                                       \
  problem_of(costs, model, weights, max_seconds, p, site_status, site_cost, budget, demand_zone, zone_min_share,   \
             skip_uncoverable, backup_weight, require_primary, busy_fraction, max_vehicles_per_site, min_vehicles, \
             site_capacity, max_closures, closing_cost, single_source)

#define CARESHED_PROBLEM_ARGS                                                                                      \
  py::arg("model"), py::arg("weights") = py::none(), py::arg("max_seconds") = py::none(), py::arg("p") = 0,       \
      py::arg("site_status") = py::none(), py::arg("site_cost") = py::none(),                                     \
      py::arg("budget") = std::numeric_limits<double>::infinity(), py::arg("demand_zone") = py::none(),           \
      py::arg("zone_min_share") = py::none(), py::arg("skip_uncoverable") = false, py::arg("backup_weight") = 1.0, \
      py::arg("require_primary") = false, py::arg("busy_fraction") = 0.0, py::arg("max_vehicles_per_site") = 1,  \
      py::arg("min_vehicles") = py::none(), py::arg("site_capacity") = py::none(), py::arg("max_closures") = -1,  \
      py::arg("closing_cost") = py::none(), py::arg("single_source") = false

}  // namespace

void init_optimize(py::module_& m) {
  py::class_<SiteCosts>(m, "SiteCosts",
                        "Sparse travel seconds between demand points and candidate sites (candidate-major CSR).")
      .def_readonly("n_demand", &SiteCosts::n_demand)
      .def_readonly("n_candidates", &SiteCosts::n_candidates)
      .def_property_readonly("n_pairs", &SiteCosts::n_pairs)
      .def_property_readonly("offsets", [](const SiteCosts& c) { return Arr<std::int64_t>(py::ssize_t(c.offsets.size()), c.offsets.data()); })
      .def_property_readonly("demand", [](const SiteCosts& c) { return Arr<std::int32_t>(py::ssize_t(c.demand.size()), c.demand.data()); })
      .def_property_readonly("seconds", [](const SiteCosts& c) { return Arr<float>(py::ssize_t(c.seconds.size()), c.seconds.data()); });

  m.def(
      "site_costs_from_pairs",
      [](std::int32_t n_demand, std::int32_t n_candidates, const Arr<std::int32_t>& demand,
         const Arr<std::int32_t>& candidate, const Arr<double>& seconds) {
        const py::ssize_t n = demand.ndim() == 1 ? demand.shape(0) : -1;
        if (n < 0 || candidate.ndim() != 1 || seconds.ndim() != 1 || candidate.shape(0) != n || seconds.shape(0) != n) {
          throw InputError("costs: demand, candidate and seconds must be 1-D arrays of the same length (one per pair)");
        }
        py::gil_scoped_release nogil;
        return site_costs_from_pairs(n_demand, n_candidates, demand.data(), candidate.data(), seconds.data(),
                                     std::size_t(n));
      },
      py::arg("n_demand"), py::arg("n_candidates"), py::arg("demand"), py::arg("candidate"), py::arg("seconds"),
      "SiteCosts from (demand, candidate, seconds) pairs; a missing pair is unreachable, an explicit 0 is a real 0.");

  m.def(
      "site_costs_from_compressed",
      [](std::int32_t n_demand, std::int32_t n_candidates, bool by_candidate, const Arr<std::int64_t>& indptr,
         const Arr<std::int32_t>& indices, const py::array& data) {
        if (indptr.ndim() != 1 || indices.ndim() != 1 || data.ndim() != 1 || indices.shape(0) != data.shape(0)) {
          throw InputError("costs: a sparse matrix's indptr, indices and data must be 1-D, indices and data of the "
                           "same length");
        }
        const std::int64_t n = indices.shape(0);
        auto build = [&](const auto& secs) {
          py::gil_scoped_release nogil;
          return site_costs_from_compressed(n_demand, n_candidates, by_candidate, indptr.data(), indptr.shape(0),
                                            indices.data(), secs.data(), n);
        };
        // float32 data is read as it is (no float64 copy of 100 M entries); anything else as float64.
        if (data.dtype().is(py::dtype::of<float>())) return build(Arr<float>::ensure(data));
        return build(Arr<double>::ensure(data));
      },
      py::arg("n_demand"), py::arg("n_candidates"), py::arg("by_candidate"), py::arg("indptr"), py::arg("indices"),
      py::arg("data"),
      "SiteCosts from a scipy CSC (by_candidate) or CSR matrix's arrays, without a triplet copy.");

  m.def(
      "site_costs_from_reach_lists",
      [](const Arr<std::int64_t>& offsets, const Arr<std::uint32_t>& items, const Arr<float>& seconds,
         const Arr<std::int32_t>& item_demand, std::int32_t n_demand,
         const std::optional<Arr<double>>& max_seconds_per_demand) {
        if (offsets.ndim() != 1 || offsets.shape(0) < 1 || items.ndim() != 1 || seconds.ndim() != 1 ||
            items.shape(0) != seconds.shape(0) || item_demand.ndim() != 1) {
          throw InputError("reach lists: expected 1-D offsets (n_candidates + 1), cells/nodes and seconds of equal "
                           "length, and a 1-D demand map");
        }
        if (max_seconds_per_demand && (max_seconds_per_demand->ndim() != 1 || max_seconds_per_demand->shape(0) != n_demand)) {
          throw InputError("max_seconds_per_demand: expected one value per demand (" + std::to_string(n_demand) + ")");
        }
        ReachLists rl;
        rl.offsets.assign(offsets.data(), offsets.data() + offsets.shape(0));
        if (rl.offsets.back() != items.shape(0)) throw InputError("reach lists: offsets[-1] must equal the number of cells");
        rl.cells.assign(items.data(), items.data() + items.shape(0));
        rl.seconds.assign(seconds.data(), seconds.data() + seconds.shape(0));
        const double* ms = max_seconds_per_demand ? max_seconds_per_demand->data() : nullptr;
        py::gil_scoped_release nogil;
        return site_costs_from_reach_lists(rl, item_demand.data(), item_demand.shape(0), n_demand, ms);
      },
      py::arg("offsets"), py::arg("cells"), py::arg("seconds"), py::arg("cell_demand"), py::arg("n_demand"),
      py::arg("max_seconds_per_demand") = py::none(),
      "SiteCosts from per-candidate reach lists (raster cells or graph nodes) and a cell -> demand index map (-1 none).");

  m.def(
      "solve_sites",
      [](const SiteCosts& costs, CARESHED_PROBLEM_PARAMS, const std::string& solver, double time_limit_s,
         double gap_target, bool local_search, bool lp_bound, const py::object& progress) {
        check_progress_arg(progress);
        const SiteProblem pr = CARESHED_PROBLEM_OF;
        SiteOptions o;
        o.solver = solver_of(solver);
        o.time_limit_s = time_limit_s;
        o.gap_target = gap_target;
        o.local_search = local_search;
        o.lp_bound = lp_bound;
        SiteSolution s = run_interruptible(progress, [&](RunControl* c) { return solve_sites(costs, pr, o, c); });
        py::dict d;
        d["model"] = std::string(site_model_name(s.model));
        d["solver"] = solver;
        d["bound"] = s.bound;
        d["gap"] = s.gap;
        d["proven_optimal"] = s.proven_optimal;
        d["status"] = s.status;
        d["bound_source"] = s.bound_source;
        d["ties_resolved"] = s.ties_resolved;
        d["added_order"] = to_numpy(std::move(s.added_order));
        d["marginal_gain"] = to_numpy(std::move(s.marginal_gain));
        d["seconds_elapsed"] = s.seconds_elapsed;
        put_evaluation(d, std::move(static_cast<SiteEvaluation&>(s)));
        return d;
      },
      py::arg("costs"), CARESHED_PROBLEM_ARGS, py::arg("solver") = "exact",
      py::arg("time_limit_s") = std::numeric_limits<double>::infinity(), py::arg("gap_target") = 0.0,
      py::arg("local_search") = true, py::arg("lp_bound") = true, py::arg("progress") = py::none(),
      "Solve a site optimisation model (careshed/optimize.hpp); returns a dict of arrays and scalars.");

  m.def(
      "evaluate_sites",
      [](const SiteCosts& costs, const Arr<std::int32_t>& sites, CARESHED_PROBLEM_PARAMS, const py::object& progress) {
        check_progress_arg(progress);
        const SiteProblem pr = CARESHED_PROBLEM_OF;
        if (sites.ndim() != 1) throw InputError("sites: expected a 1-D array of candidate indices");
        std::vector<std::int32_t> s(sites.data(), sites.data() + sites.shape(0));
        SiteEvaluation e = run_interruptible(progress, [&](RunControl* c) { return evaluate_sites(costs, pr, s, c); });
        py::dict d;
        put_evaluation(d, std::move(e));
        return d;
      },
      py::arg("costs"), py::arg("sites"), CARESHED_PROBLEM_ARGS, py::arg("progress") = py::none(),
      "Score a given set of sites with the same numbers as a solution (infeasibility reported, not raised).");

  m.def(
      "marginal_gain_curve",
      [](const SiteCosts& costs, std::int32_t k, CARESHED_PROBLEM_PARAMS, const py::object& progress) {
        check_progress_arg(progress);
        const SiteProblem pr = CARESHED_PROBLEM_OF;
        MarginalGainCurve c =
            run_interruptible(progress, [&](RunControl* ctl) { return marginal_gain_curve(costs, pr, k, ctl); });
        py::dict d;
        d["sites"] = to_numpy(std::move(c.sites));
        d["gain"] = to_numpy(std::move(c.gain));
        d["objective"] = to_numpy(std::move(c.objective));
        return d;
      },
      py::arg("costs"), py::arg("k"), CARESHED_PROBLEM_ARGS, py::arg("progress") = py::none(),
      "Greedy marginal-gain curve: the 1st, 2nd, ... k-th best added site and what each adds.");
}

}  // namespace careshed::bindings
