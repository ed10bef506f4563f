"""Raster and vector fixtures written with GDAL/OGR's own Python bindings (osgeo), independently of careshed's
writers; shared by the raster IO, friction and Comoros tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from osgeo import gdal, ogr, osr

import careshed

gdal.UseExceptions()
ogr.UseExceptions()

ROOT = Path(__file__).resolve().parents[2]
COMOROS = ROOT / "data" / "comoros"
COMOROS_POPULATION = 869_595  # data/comoros/README.md
SEED = 20261123


def srs(epsg):
    s = osr.SpatialReference()
    s.ImportFromEPSG(epsg)
    s.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return s


def gdal_raster(path, array, gt, epsg, nodata=None, dtype=gdal.GDT_Float64):
    array = np.asarray(array)
    ds = gdal.GetDriverByName("GTiff").Create(str(path), array.shape[1], array.shape[0], 1, dtype)
    ds.SetGeoTransform(gt)
    if epsg:
        ds.SetSpatialRef(srs(epsg))
    band = ds.GetRasterBand(1)
    if nodata is not None:
        band.SetNoDataValue(nodata)
    band.WriteArray(array)
    ds = None
    return path


def ogr_layer(path, epsg, fields, features):
    """features: [(wkt, {field: value})]."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    lyr = ds.CreateLayer("layer", srs(epsg), ogr.wkbUnknown)
    for name in fields:
        lyr.CreateField(ogr.FieldDefn(name, ogr.OFTString))
    for wkt, values in features:
        f = ogr.Feature(lyr.GetLayerDefn())
        for k, v in values.items():
            f.SetField(k, v)
        f.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        lyr.CreateFeature(f)
    ds = None
    return path


def small_grid():
    return careshed.make_grid((500000, 8800000, 501000, 8801000), 100, "EPSG:32738")


def cy(row):
    return 8801000 - 100 * (row + 0.5)


def cx(col):
    return 500000 + 100 * (col + 0.5)
