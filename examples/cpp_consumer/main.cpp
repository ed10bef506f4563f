// careshed C++ quick start: beds per 1000 residents by county, against the plan's 7.8.
//
//   careshed_consumer data/quzhou/counties.geojson
//
// Zones come from a file (any OGR source); the baseline beds are a zone attribute (the shipped Quzhou
// counties carry a MODELLED 2020 bed count), and two planned hospitals are given inline as points, so the
// facility path (point-in-polygon, in the UTM zone careshed picks from the counties' centre) runs too.
#include <careshed/careshed.hpp>

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: " << argv[0] << " <counties.geojson>\n";
    return 2;
  }
  try {
    careshed::VectorTable counties = careshed::read_vector(argv[1]);

    // Two planned hospitals (lon/lat) with their new beds, built in memory.
    careshed::VectorTable planned;
    planned.layer = "planned";
    planned.crs_wkt = careshed::crs_to_wkt("EPSG:4326");
    planned.geometry_type = "Point";
    for (const auto& [lon, lat] : {std::pair{118.87, 28.94}, std::pair{118.62, 28.74}}) {
      planned.wkb.push_back(careshed::point_wkb(lon, lat));
      planned.fid.push_back(static_cast<int64_t>(planned.fid.size()));
    }
    planned.columns.push_back(careshed::Column::of_ints("new_beds", {600, 300}));

    careshed::ZoneFields zones;
    zones.id_field = "name_en";
    zones.population_field = "pop_census2020";
    zones.resource_fields = {{"beds", "beds_2020_modelled"}};
    careshed::FacilityFields projects;
    projects.resource_fields = {{"beds", "new_beds"}};

    careshed::DensityResult r =
        careshed::compute_density(counties, zones, {{planned, projects}}, {{"beds", 1000.0, 7.8}});

    const careshed::DensityTable& t = r.table;
    std::printf("%-12s %10s %8s %12s %10s\n", "county", "residents", "beds", "beds/1000", "shortfall");
    for (std::size_t z = 0; z <= t.n_zones; ++z) {
      const char* name = z < t.n_zones ? r.zone_ids[z].c_str() : "REGION";
      std::printf("%-12s %10.0f %8.0f %12.2f %10.0f\n", name, t.population[z], t.at(t.amount, z, 0),
                  t.at(t.rate, z, 0), t.at(t.shortfall, z, 0));
    }
    std::printf("(2020 beds per county are modelled from the city-wide 6.39 per 1000; target 7.8)\n");
    for (const auto& f : r.unassigned) std::printf("not in any county: %s row %zu\n", f.source.c_str(), f.row);
  } catch (const careshed::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
