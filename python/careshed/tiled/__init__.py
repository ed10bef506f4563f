"""Tiled exact travel time and analyses on Dask, for grids larger than one machine's memory (docs/scale.md).

``rasters`` (windowed GDAL reads and tile-by-tile GeoTIFF or Zarr writes), ``search`` (the Dask driver of the tiled
search: equal bit for bit to the in-memory engine), ``zones`` (coverage, people within reach and catchment
populations by zone and facility, summed exactly across tiles), ``access`` (the floating catchments' per-facility
reach lists, equal to the in-memory searches).
"""
from .rasters import TiledGeoTIFF, TiledZarr, WindowedRaster, open_windowed
from .search import TileLayout, TiledTravelTime, dashboard_address, dask_client, travel_time_tiled
from .zones import ExactSums, ZoneCoverage, coverage_tiled
from .access import TiledReachLists, reach_lists_tiled

__all__ = ["TiledGeoTIFF", "TiledZarr", "WindowedRaster", "open_windowed", "TileLayout", "TiledTravelTime",
           "dask_client", "dashboard_address", "travel_time_tiled", "ExactSums", "ZoneCoverage", "coverage_tiled",
           "TiledReachLists", "reach_lists_tiled"]
