"""careshed — who can reach care, how fast, and is there enough of it where people live.

Quick start::

    import careshed
    table = careshed.resource_density("counties.geojson", "hospitals.gpkg",
                                      zone_id="adcode", population="pop",
                                      resources=["beds"], targets={"beds": 7.8})

See the README and docs/ for every analysis.
"""
# Development builds put the compiled careshed._core under <build>/python/careshed; extending __path__
# over sys.path lets PYTHONPATH=python:<build>/python import both halves. Harmless when installed.
from pkgutil import extend_path

__path__ = extend_path(__path__, __name__)

from . import _core  # noqa: E402
from .projdata import configure_pyproj  # noqa: E402

configure_pyproj()  # before any module below imports pyproj (through geopandas)
from .errors import CareshedError, CRSError, DataIOError, InputError  # noqa: E402
from .io import read_table, read_vector, write_layers  # noqa: E402
from .density import (DEFAULT_PER, Facilities, UnassignedFacilitiesWarning, compare_density,  # noqa: E402
                      resource_density, write_table)
from .network import RoadGraph, SpeedProfile, graph_travel_time, parse_maxspeed, straight_line_travel_time  # noqa: E402,E501
from .raster import Grid, make_grid, make_lonlat_grid, raster_info, read_raster, write_geotiff  # noqa: E402
from .raster_search import raster_k_nearest, raster_reach_lists, raster_travel_time  # noqa: E402
from .friction import FrictionSurface, friction_surface, speed_to_friction  # noqa: E402
from .access import AccessResult, GridAccessResult, accessibility, fca, graph_accessibility, grid_accessibility  # noqa: E402,E501
from .zonal import (GHSL_RULES, NO_CLASS, PopulationGrid, ZoneRaster, population_grid,  # noqa: E402
                    rasterize_zones, urban_rural, zonal_sum)
from .coverage import CoverageTables, ambulance_check, coverage_by_zone, isochrones  # noqa: E402
from .catchment import CapacityCoverage, CatchmentTable, capacity_coverage, catchments  # noqa: E402
from .reach import Reach, Study, reach  # noqa: E402
from .planning import AccessMap, Catchments, study_access, study_catchments  # noqa: E402

__version__ = _core.__version__

__all__ = ["CareshedError", "CRSError", "DataIOError", "InputError", "__version__"]
__all__ += ["raster_travel_time", "raster_k_nearest", "raster_reach_lists"]
__all__ += ["fca", "accessibility", "grid_accessibility", "graph_accessibility", "AccessResult", "GridAccessResult"]
__all__ += ["read_vector", "read_table", "write_layers", "resource_density", "compare_density",
            "Facilities", "UnassignedFacilitiesWarning", "DEFAULT_PER", "write_table"]
__all__ += ["graph_travel_time", "RoadGraph", "SpeedProfile", "parse_maxspeed", "straight_line_travel_time"]
__all__ += ["Grid", "make_grid", "make_lonlat_grid", "raster_info", "read_raster", "write_geotiff",
            "FrictionSurface", "friction_surface", "speed_to_friction"]
__all__ += ["ZoneRaster", "PopulationGrid", "rasterize_zones", "zonal_sum", "population_grid", "urban_rural",
            "GHSL_RULES", "NO_CLASS"]
__all__ += ["coverage_by_zone", "CoverageTables", "ambulance_check", "isochrones"]
__all__ += ["catchments", "CatchmentTable", "capacity_coverage", "CapacityCoverage"]
__all__ += ["reach", "Study", "Reach"]
__all__ += ["study_catchments", "study_access", "Catchments", "AccessMap"]
