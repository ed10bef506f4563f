// Bindings of careshed/density.hpp: density_table (the arithmetic the Python resource_density() uses).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include "careshed/density.hpp"
#include "careshed/error.hpp"
#include "init.hpp"
#include "io_numpy.hpp"

namespace py = pybind11;

namespace careshed::bindings {

void init_density(py::module_& m) {
  m.def(
      "density_table",
      [](const DoubleArray& population, const DoubleArray& amounts, const DoubleArray& per,
         const DoubleArray& targets) {
        require_1d(population, "population");
        const py::ssize_t n = population.shape(0);
        require_1d(per, "per");
        const py::ssize_t m = per.shape(0);
        require_1d(targets, "targets", m);
        if (amounts.ndim() != 2 || amounts.shape(0) != n || amounts.shape(1) != m) {
          std::string got;
          for (py::ssize_t d = 0; d < amounts.ndim(); ++d) got += (d ? ", " : "") + std::to_string(amounts.shape(d));
          throw InputError("density_table: amounts must have shape (n_zones, n_resources) = (" + std::to_string(n) +
                           ", " + std::to_string(m) + "), got (" + got + ")");
        }
        std::vector<double> pop(population.data(), population.data() + n);
        std::vector<double> amt(amounts.data(), amounts.data() + n * m);
        std::vector<double> pr(per.data(), per.data() + m), tg(targets.data(), targets.data() + m);
        DensityTable t;
        {
          py::gil_scoped_release nogil;
          t = density_table(pop, amt, pr, tg);
        }
        const std::vector<py::ssize_t> shape2{n + 1, m};
        py::dict d;
        d["population"] = to_numpy(std::move(t.population));
        d["amount"] = to_numpy(std::move(t.amount), shape2);
        d["rate"] = to_numpy(std::move(t.rate), shape2);
        d["target"] = to_numpy(std::move(t.target), shape2);
        d["shortfall"] = to_numpy(std::move(t.shortfall), shape2);
        d["shortfall_sum_of_zones"] = to_numpy(std::move(t.shortfall_sum_of_zones));
        return d;
      },
      py::arg("population"), py::arg("amounts"), py::arg("per"), py::arg("targets"),
      R"doc(Resources per N residents per zone, against targets.

population: (n_zones,) residents, finite and > 0; amounts: (n_zones, n_resources) resource totals per
zone, finite and >= 0; per: (n_resources,) residents per rate unit (1000, 10000, 30000 ...), > 0;
targets: (n_resources,) target units per `per` residents, NaN = no target.
Returns a dict of float64 arrays with n_zones + 1 rows, the last row being the whole region (sums of
population and amounts, rate from the sums): "population" (n+1,), "amount", "rate" = amount / population
* per, "target" (NaN where none), "shortfall" = max(0, ceil(target*population/per - amount - 1e-9)) whole
units missing (NaN where no target) — all (n+1, n_resources) — and "shortfall_sum_of_zones" (n_resources,),
the sum of the zones' own shortfalls (the region row lets a surplus offset a deficit; this does not).
Raises InputError naming the zone / resource index for invalid values.)doc");
}

}  // namespace careshed::bindings
