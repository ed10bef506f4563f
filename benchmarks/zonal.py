"""Benchmark: zonal sums over 36 M cells and rasterising zones, careshed vs numpy / GDAL / shapely.

Input: the six Quzhou counties (data/quzhou/counties.geojson) in UTM 50N. Both sides of each comparison work
on the SAME arrays in this one run, and the script checks that they agree:

1. zonal sums — a 6000 x 6000 grid (36 M cells, ~22 m) with the counties rasterised by exact area fractions
   and a float32 value per cell (seeded random, ~10 % NaN):
   careshed ``zonal_sum`` (one pass, fixed blocks, OpenMP, GIL released) vs numpy ``bincount`` over the whole
   cells + ``bincount`` over the split entries (the usual numpy idiom; NaN removed by a mask first).
2. rasterize_zones at 100 m (1306 x 1408 ≈ 1.8 M cells, 0.9 M inside the counties):
   cell-centre rule: careshed vs ``gdal.Rasterize`` of the zone index into an in-memory Int32 raster (GDAL's
   default rule is also "centre inside"; it differs only for centres exactly on an edge);
   area fractions: careshed (all cells) vs a shapely 1.8 loop intersecting each cell the boundaries cut with
   the county (exactextract's result, computed naively) — the peer is GIVEN the list of cut cells, so it
   does strictly less work than careshed, which also finds them.

    python benchmarks/zonal.py [--side 6000] [--repeat 1] [--seed 7]
"""
import sys

import numpy as np
from _common import ROOT, best_of, parser


def main():
    ap = parser(__doc__, repeat=1, seed=7)
    ap.add_argument("--side", type=int, default=6000, help="grid side for the zonal-sum case (cells)")
    a = ap.parse_args()

    sys.path.insert(0, str(ROOT / "python"))
    import careshed
    from careshed import _core
    from osgeo import gdal, ogr, osr
    from shapely import wkb as shapely_wkb
    from shapely.geometry import box

    counties = careshed.read_vector(ROOT / "data" / "quzhou" / "counties.geojson")
    g100 = careshed.make_grid(tuple(counties.total_bounds), 100.0, bounds_crs="EPSG:4326")
    metric = counties.to_crs(g100.crs)
    wkb = [shapely_wkb.dumps(g) for g in metric.geometry]

    # ---- 1. zonal sums over side² cells ----------------------------------------------------------------
    x0, y0, x1, y1 = g100.bounds
    dx = (x1 - x0) / a.side
    dy = (y1 - y0) / a.side
    big = careshed.Grid(a.side, a.side, (x0, dx, 0.0, y1, 0.0, -dy), g100.crs)
    t_rz_big, zr = best_of(1, lambda: careshed.rasterize_zones(wkb, big, rule="fraction"))
    rng = np.random.default_rng(a.seed)
    values = rng.random(big.shape, dtype=np.float32) * 10
    values[rng.random(big.shape) < 0.1] = np.nan

    def numpy_peer():
        v = values.ravel()
        z = zr.zone.ravel()
        m = (z >= 0) & ~np.isnan(v)
        out = np.bincount(z[m], weights=v[m], minlength=zr.n_zones)
        sv = v[zr.split_cell].astype(np.float64) * zr.split_fraction
        ok = ~np.isnan(sv)
        return out + np.bincount(zr.split_zone[ok], weights=sv[ok], minlength=zr.n_zones)

    t_cs, s_cs = best_of(a.repeat, lambda: careshed.zonal_sum(values, zr))
    t_np, s_np = best_of(a.repeat, numpy_peer)
    assert np.allclose(s_cs, s_np, rtol=1e-9), (s_cs, s_np)
    print(f"zonal sums, {a.side}x{a.side} = {a.side * a.side / 1e6:.0f} M cells, {zr.n_zones} zones, "
          f"{zr.split_cell.size:,} split entries (rasterised by fractions in {t_rz_big:.2f} s):")
    print(f"  careshed zonal_sum {t_cs:.3f} s   numpy bincount {t_np:.3f} s   ratio {t_np / t_cs:.1f}x")
    del values, zr

    # ---- 2. rasterize_zones at 100 m -----------------------------------------------------------------
    t_c, zc = best_of(a.repeat, lambda: careshed.rasterize_zones(wkb, g100, rule="centre"))

    def gdal_peer():
        drv = ogr.GetDriverByName("Memory")
        src = drv.CreateDataSource("zones")
        srs = osr.SpatialReference()
        srs.ImportFromWkt(g100.crs)
        lyr = src.CreateLayer("zones", srs, ogr.wkbMultiPolygon)
        lyr.CreateField(ogr.FieldDefn("z", ogr.OFTInteger))
        for i in reversed(range(len(wkb))):  # later features overwrite: burn the lowest index last
            f = ogr.Feature(lyr.GetLayerDefn())
            f.SetField("z", i)
            f.SetGeometry(ogr.CreateGeometryFromWkb(wkb[i]))
            lyr.CreateFeature(f)
        ds = gdal.GetDriverByName("MEM").Create("", g100.width, g100.height, 1, gdal.GDT_Int32)
        ds.SetGeoTransform(g100.transform)
        ds.SetProjection(g100.crs)
        band = ds.GetRasterBand(1)
        band.Fill(-1)
        gdal.RasterizeLayer(ds, [1], lyr, options=["ATTRIBUTE=z"])
        return band.ReadAsArray()

    t_g, zg = best_of(a.repeat, gdal_peer)
    agree = np.mean(zg == zc.zone)
    inside = int((zc.zone >= 0).sum())
    print(f"rasterize_zones centre rule, Quzhou at 100 m ({g100.width}x{g100.height}, {inside:,} cells in zones):")
    print(f"  careshed {t_c:.3f} s   gdal.RasterizeLayer {t_g:.3f} s   ratio {t_g / t_c:.1f}x   "
          f"same zone on {agree * 100:.4f} % of cells")

    t_f, zf = best_of(a.repeat, lambda: careshed.rasterize_zones(wkb, g100, rule="fraction"))
    cells = zf.split_cell
    zones_of = zf.split_zone
    gx0, gdx, _, gy0, _, gdy = g100.transform

    def shapely_peer():
        out = np.empty(cells.size)
        geoms = list(metric.geometry)
        area = abs(gdx * gdy)
        for i, (c, z) in enumerate(zip(cells, zones_of)):
            r, col = divmod(int(c), g100.width)
            xa, ya = gx0 + col * gdx, gy0 + r * gdy
            out[i] = geoms[z].intersection(box(xa, ya + gdy, xa + gdx, ya)).area / area
        return out

    t_s, fs = best_of(1, shapely_peer)
    err = float(np.max(np.abs(fs - zf.split_fraction)))
    print(f"rasterize_zones area fractions, same grid ({cells.size:,} cut cells):")
    print(f"  careshed {t_f:.3f} s (whole grid)   shapely per-cut-cell intersections {t_s:.3f} s   "
          f"ratio {t_s / t_f:.1f}x   max |fraction difference| {err:.1e}")


if __name__ == "__main__":
    main()
