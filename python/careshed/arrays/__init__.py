"""The array tier: thin, typed NumPy-in / NumPy-out functions over the compiled core (careshed._core).

One module per kernel family: ``travel_time`` (grid searches), ``network`` (road graphs), ``friction``
(friction surfaces), ``zonal`` (zones and population on a grid, urban/rural classes), ``coverage``
(coverage by zone, isochrones, the vehicle check), ``locate`` (site optimisation: LSCP, MCLP, backup, MEXCLP,
p-median, p-center with a proven bound), ``catchments`` (nearest-facility catchments, capacity-aware
coverage), ``access`` (2SFCA family), ``referral`` (facility levels and referral), ``density`` (rates and shortfalls), ``geometry`` (CRS transforms, points
in zones). They know nothing of studies or results; the analyses (careshed.analyses) build on them.
"""
from .access import FCA_METHODS, AccessResult, GridAccessResult, accessibility, fca, graph_accessibility, grid_accessibility
from .catchments import CapacityCoverage, CatchmentTable, capacity_coverage, catchments
from .coverage import CoverageTables, ambulance_check, coverage_by_zone, isochrones
from .density import density_table
from . import locate
from .friction import FrictionSurface, friction_surface, speed_to_friction
from .geometry import assign_points_to_zones, check_polygons, metric_crs_for, transform_xy, utm_epsg_for
from .network import (Graph, RoadGraph, RoadTravelTime, SpeedProfile, graph_travel_time, parse_maxspeed,
                      straight_line_grid_travel_time, straight_line_travel_time, travel_time_graph,
                      travel_time_straight_line, travel_time_straight_line_grid)
from .referral import ReferralFields, level_codes, referral_graph, referral_grid, two_leg_seconds
from .multimodal import RIDE_MODES, mode_split, ride_modes, ride_network, travel_time_multimodal
from .travel_time import (nearest_travel_time, raster_k_nearest, raster_reach_lists, raster_travel_time,
                          travel_time_grid, travel_time_grid_k_nearest, travel_time_grid_reach_lists)
from .terrain import read_elevation, travel_time_terrain
from .zonal import GHSL_RULES, PopulationGrid, ZoneRaster, population_grid, rasterize_zones, urban_rural, zonal_sum

__all__ = [
    # travel time: the engines (travel_time_*), prepared graphs, friction
    "travel_time_grid", "travel_time_grid_k_nearest", "travel_time_grid_reach_lists", "nearest_travel_time",
    "travel_time_terrain", "read_elevation", "travel_time_multimodal", "ride_network", "ride_modes", "mode_split",
    "RIDE_MODES",
    "travel_time_graph", "travel_time_straight_line", "travel_time_straight_line_grid", "Graph", "RoadGraph",
    "RoadTravelTime", "SpeedProfile", "parse_maxspeed",
    "FrictionSurface", "friction_surface", "speed_to_friction",
    # zones and people on the grid
    "ZoneRaster", "PopulationGrid", "rasterize_zones", "zonal_sum", "population_grid", "urban_rural", "GHSL_RULES",
    # kernels of the analyses
    "coverage_by_zone", "CoverageTables", "ambulance_check", "isochrones",
    "catchments", "CatchmentTable", "capacity_coverage", "CapacityCoverage",
    "fca", "accessibility", "grid_accessibility", "graph_accessibility", "AccessResult", "GridAccessResult",
    "FCA_METHODS", "density_table", "locate",
    "referral_grid", "referral_graph", "ReferralFields", "level_codes", "two_leg_seconds",
    # geometry
    "transform_xy", "assign_points_to_zones", "check_polygons", "utm_epsg_for", "metric_crs_for",
    # deprecated (one release): former names of the travel_time_* engines
    "raster_travel_time", "raster_k_nearest", "raster_reach_lists", "graph_travel_time", "straight_line_travel_time",
    "straight_line_grid_travel_time",
]
