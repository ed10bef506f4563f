"""Input and output: vector layers and tables (GDAL/OGR through the core), rasters and grids, CSV result
tables, and the atomic writers every output goes through. The lowest tier above ``careshed.errors`` /
``careshed.constants``: it imports no other careshed subpackage."""
from .atomic import OutputSet, atomic_path, write_atomically
from .fields import as_list, column, id_key, name_column, numeric_column, unique_ids
from .raster import (Grid, ReadReport, as_grid, looks_like_raster, make_grid, make_lonlat_grid, raster_info,
                     read_raster, write_geotiff)
from .table import write_table
from .vector import (describe_source, from_wkb, load, mask_password, points_xy, read_table, read_vector, to_wkb,
                     write_layers)

__all__ = ["OutputSet", "atomic_path", "write_atomically", "write_table", "read_vector", "read_table", "load",
           "write_layers", "describe_source", "mask_password", "points_xy", "to_wkb", "from_wkb", "Grid", "ReadReport",
           "make_grid", "make_lonlat_grid", "raster_info", "read_raster", "write_geotiff", "as_grid",
           "looks_like_raster", "id_key", "column", "numeric_column", "name_column", "as_list", "unique_ids"]
