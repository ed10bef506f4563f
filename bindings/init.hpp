// Declarations of the per-area binding initialisers (one bindings/<area>.cpp each).
#pragma once

#include <pybind11/pybind11.h>

namespace careshed::bindings {

void init_errors(pybind11::module_& m);         // errors.cpp
void init_io(pybind11::module_& m);             // io.cpp: vector readers, CRS helpers, point-in-polygon
void init_density(pybind11::module_& m);        // density.cpp: resource density per zone
void init_raster_search(pybind11::module_& m);  // raster_search.cpp: multi-source search on grids
void init_network(pybind11::module_& m);        // network.cpp: graph search, road graphs, snapping
void init_friction(pybind11::module_& m);       // friction.cpp: friction surfaces, raster IO
void init_access(pybind11::module_& m);         // access.cpp: 2SFCA family (floating catchments)
void init_zonal(pybind11::module_& m);          // zonal.cpp: zones on grids, zonal sums, population, urban/rural
void init_coverage(pybind11::module_& m);       // coverage.cpp: coverage by zone, ambulance check, isochrones
void init_catchment(pybind11::module_& m);      // catchment.cpp: catchments, capacity-aware coverage
void init_optimize(pybind11::module_& m);       // optimize.cpp: site optimisation (LSCP, MCLP, ..., CBC)
void init_memory(pybind11::module_& m);         // memory.cpp: memory estimate, available memory, refusal
void init_referral(pybind11::module_& m);       // referral.cpp: facility levels and referral
void init_terrain(pybind11::module_& m);        // terrain.cpp: DEM onto a grid (terrain search: raster_search.cpp)
void init_multimodal(pybind11::module_& m);     // multimodal.cpp: walk + ride in one search
void init_outreach(pybind11::module_& m);       // outreach.cpp: mobile outreach circuits (exact + heuristic)

}  // namespace careshed::bindings
