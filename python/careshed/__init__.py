"""careshed — who can reach care, how fast, and is there enough of it where people live.

Quick start::

    import careshed
    study = careshed.Study("counties.gpkg", zone_id="adcode", population="pop",
                           travel={"roads": "roads.osm.pbf", "background_speed_kmh": 5})
    reach = study.reach("stations.gpkg", thresholds_min=15)
    reach.table; reach.plot("reach.png"); reach.save("out/")

    table = careshed.resource_density("counties.geojson", "hospitals.gpkg", zone_id="adcode",
                                      population="pop", resources=["beds"], targets={"beds": 7.8})

The planner's API is listed in ``careshed.__all__``; the array tier (NumPy in, NumPy out) is
``careshed.arrays``; reading and writing ``careshed.io``. docs/architecture.md shows where everything lives.
"""
# Development builds put the compiled careshed._core under <build>/python/careshed; extending __path__
# over sys.path lets PYTHONPATH=python:<build>/python import both halves. Harmless when installed.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from .projdata import configure_pyproj  # noqa: E402

configure_pyproj()  # before any module below imports pyproj (through geopandas)

from . import analyses, arrays, io  # noqa: E402
from .analyses.access import AccessMap  # noqa: E402
from .analyses.access_table import access_table  # noqa: E402
from .analyses.catchments import Catchments  # noqa: E402
from .analyses.density import (Density, Facilities, UnassignedFacilitiesWarning, compare_density,  # noqa: E402
                                resource_density)
from .analyses.optimize import Optimized  # noqa: E402
from .analyses.hours import ReachByHour  # noqa: E402
from .analyses.reach import Reach  # noqa: E402
from .analyses.referral import Referral  # noqa: E402
from .analyses.round_trip import RoundTrip  # noqa: E402
from .constants import (DEFAULT_PER, DEFAULT_THRESHOLDS_MIN, NO_CLASS, RESIDENTS_PER_VEHICLE,  # noqa: E402
                        VERSION)
from .errors import CareshedError, CRSError, DataIOError, InputError, SolverError, UsageError  # noqa: E402
from .io import (Grid, OutputSet, make_grid, make_lonlat_grid, raster_info, read_raster, read_table,  # noqa: E402
                 read_vector, write_geotiff, write_layers, write_table)
from .placement import UnplacedFacilitiesWarning, UnplacedStationsWarning  # noqa: E402
from .results import Result  # noqa: E402
from .study import Study, reach, study_access, study_catchments  # noqa: E402

# The array tier under its former top-level names (careshed <= 0.1); new code: careshed.arrays.<name> (the
# travel-time engines there are named travel_time_*; these old engine names warn when called).
from .arrays import (GHSL_RULES, AccessResult, CapacityCoverage, CatchmentTable, CoverageTables,  # noqa: E402
                     FrictionSurface, GridAccessResult, PopulationGrid, RoadGraph, SpeedProfile, ZoneRaster,
                     accessibility, ambulance_check, capacity_coverage, catchments, coverage_by_zone, fca,
                     friction_surface, graph_accessibility, graph_travel_time, grid_accessibility, isochrones,
                     parse_maxspeed, population_grid, raster_k_nearest, raster_reach_lists, raster_travel_time,
                     rasterize_zones, speed_to_friction, straight_line_travel_time, urban_rural, zonal_sum)

__version__ = VERSION

__all__ = [
    "__version__",
    # the planner's API: a study prepared once, one method per analysis, results with one face
    "Study", "Result", "Reach", "ReachByHour", "Catchments", "AccessMap", "Density", "Optimized", "Referral", "RoundTrip",
    # zone tables: resources per N residents; accessibility from your own cost table
    "resource_density", "compare_density", "Facilities", "access_table",
    # reading and writing
    "read_vector", "read_table", "write_layers", "write_table", "read_raster", "write_geotiff", "raster_info",
    "Grid", "make_grid", "make_lonlat_grid", "OutputSet",
    # errors and warnings
    "CareshedError", "InputError", "UsageError", "CRSError", "DataIOError", "SolverError",
    "UnassignedFacilitiesWarning",
    "UnplacedFacilitiesWarning",
    # numbers with a meaning
    "NO_CLASS", "RESIDENTS_PER_VEHICLE", "DEFAULT_THRESHOLDS_MIN", "DEFAULT_PER",
    # subpackages: the array tier and IO
    "arrays", "io", "analyses",
    # deprecated (one release): use Study(...).reach / study.catchments / study.access
    "reach", "study_catchments", "study_access",
]
