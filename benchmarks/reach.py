"""Benchmark: the whole Quzhou ambulance-reach analysis (issue 4) at 100 m cells, careshed vs a numpy /
scikit-image / GDAL pipeline doing the same search, coverage table and isochrones on the same arrays.

Input: the shipped, MODELLED Quzhou example (data/quzhou: 6 counties, census totals spread by GHSL urban shares
over modelled urban cores, modelled trunk roads at 60 km/h over a 25 km/h background, a station at each county
seat, urban 11 / rural 15 minutes, 3 minutes dispatch). At 100 m the grid is 1289 x 1389 = 1.79 M cells (the
counties' bounding box in UTM 50N; 0.88 M of them inside the counties).

careshed, timed per stage after the data is loaded (vector files read, nothing computed):
  grid + zones    make_grid, check polygons, rasterize_zones (cell centre)
  friction        careshed.friction_surface (background + roads burned)
  classes         urban cores rasterised (cell centre)
  population      census totals spread by class shares, reconciled (careshed.population_grid)
  search          careshed.arrays.travel_time_grid from the 6 stations, dispatch as start offsets
  coverage        careshed.coverage_by_zone (per zone/class, mean, p90, curve, station table) + table shaping
  isochrones      careshed.isochrones at 11 and 15 minutes (GDAL polygonize + GEOS dissolve)
Peer on the SAME friction, population, zones and classes: scikit-image MCP_Geometric (same cost rule: distance x
mean friction of the two cells, 8 neighbours) from all stations at once + the dispatch offset; the coverage
table in numpy (bincount per zone and class, sorted weighted p90, minute histogram curve) — what an analyst would
write; isochrones with GDAL Polygonize on the banded grid + shapely unary_union per band. The peer has no nearest
station (MCP gives times only), so no station table. The script checks both sides agree (covered population
within 0.5 %, MCP's float64 sums vs careshed's exact ticks).

    PYTHONPATH=python:build/<dir>/python .venv/bin/python benchmarks/reach.py [--cell-size 100] [--repeat 3]
        [--no-peer] [--threads N]

--threads sets OMP_NUM_THREADS for the run (the raster search uses OpenMP threads on grids of 2^20+ cells).
"""
import argparse
import os
import sys
import time


def parse():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cell-size", type=float, default=100.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-peer", action="store_true")
    p.add_argument("--threads", type=int, default=None)
    return p.parse_args()


ARGS = parse()
if ARGS.threads:
    os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)   # before careshed (OpenMP) is loaded

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import careshed  # noqa: E402
from careshed import demo  # noqa: E402
from careshed.io import read_table, read_vector  # noqa: E402


def load(data_dir):
    counties = read_vector(data_dir / "counties.geojson")
    ghsl = read_table(data_dir / "census2020_ghsl.csv")
    share = dict(zip(ghsl["CODE"].astype("int64"), ghsl["GHSL_URB"].astype(float)))
    counties["urban_share_ghsl"] = [share[int(c)] for c in counties["adcode"]]
    counties["rural_share_ghsl"] = 1.0 - counties["urban_share_ghsl"]
    cores = read_vector(data_dir / "urban_cores_modelled.geojson")
    seats = read_table(data_dir / "county_seats.csv")
    import geopandas as gpd
    stations = gpd.GeoDataFrame(seats, geometry=gpd.points_from_xy(seats["lon"], seats["lat"]), crs="EPSG:4326")
    return counties, cores, stations


def careshed_run(counties, cores, stations, data_dir, cell):
    t = {}
    t0 = time.perf_counter()
    study = careshed.Study(
        counties, zone_id="adcode", population="pop_census2020",
        class_shares={"urban": "urban_share_ghsl", "rural": "rural_share_ghsl"},
        classes={"polygons": cores, "inside": "urban", "outside": "rural"},
        travel={"roads": str(data_dir / "roads_modelled.geojson"), "road_profile": {"trunk": 60.0},
                "background_speed_kmh": 25.0},
        cell_size_m=cell, thresholds_min={"urban": 11, "rural": 15}, region_label="Quzhou")
    t["study (all)"] = time.perf_counter() - t0
    t["grid + zones"] = study.timings["grid"] + study.timings["zones"]
    for k in ("friction", "classes", "population"):
        t[k] = study.timings[k]
    r = study.reach(stations, facility_id="county_adcode", dispatch_minutes=3)
    t["stations"] = r.timings["stations"]
    t["search"] = r.timings["search"]
    t["coverage"] = r.timings["coverage"] + r.timings["tables"]
    t1 = time.perf_counter()
    iso = r.isochrones()
    t["isochrones"] = time.perf_counter() - t1
    t["total"] = time.perf_counter() - t0
    return t, study, r, iso


def peer_run(study, r, stations_rc, dispatch_s, thresholds_s):
    """numpy / scikit-image / GDAL on careshed's prepared friction, population, zones and classes."""
    from osgeo import gdal, ogr, osr
    from shapely import wkb as shapely_wkb
    from shapely.ops import unary_union
    from skimage.graph import MCP_Geometric

    t = {}
    grid = study.grid
    fric = study.friction.seconds_per_metre
    dx, dy = grid.cell_size
    t0 = time.perf_counter()
    costs = np.where(np.isfinite(fric), fric, -1.0)      # negative = impassable for MCP
    mcp = MCP_Geometric(costs, fully_connected=True, sampling=(dy, dx))
    cum, _ = mcp.find_costs([tuple(p) for p in stations_rc])
    seconds = np.where(np.isfinite(cum), cum + dispatch_s, np.inf)
    t["search"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    zone = study.zone_raster.zone.ravel()
    pop = np.nan_to_num(study.population.ravel())
    cls = study.cell_class.ravel().astype(np.int64)
    sec = seconds.ravel()
    thr = np.asarray(thresholds_s)[cls]
    inz = zone >= 0
    z, p, c, s = zone[inz], pop[inz], cls[inz], sec[inz]
    n_z = study.zone_raster.n_zones
    covered = s <= thr[inz]
    key = z * 2 + c
    pop_zc = np.bincount(key, weights=p, minlength=2 * n_z).reshape(n_z, 2)
    cov_zc = np.bincount(key, weights=p * covered, minlength=2 * n_z).reshape(n_z, 2)
    reached = np.isfinite(s)
    mean = np.bincount(z, weights=np.where(reached, p * s, 0), minlength=n_z) / \
        np.bincount(z, weights=np.where(reached, p, 0), minlength=n_z)
    p90 = np.empty(n_z)
    for k in range(n_z):
        m = z == k
        order = np.argsort(s[m], kind="stable")
        cum_p = np.cumsum(p[m][order])
        p90[k] = s[m][order][np.searchsorted(cum_p, 0.9 * cum_p[-1])]
    minute = np.minimum(np.ceil(np.where(reached, s, 1e9) / 60.0), 61).astype(np.int64)
    hist = np.bincount(z * 62 + minute, weights=p, minlength=62 * n_z).reshape(n_z, 62)
    curve = np.cumsum(hist, axis=1)[:, :61] / pop_zc.sum(axis=1)[:, None]
    table = pd.DataFrame({"population": pop_zc.sum(1), "covered": cov_zc.sum(1), "covered_urban": cov_zc[:, 0],
                          "covered_rural": cov_zc[:, 1], "mean_minutes": mean / 60, "p90_minutes": p90 / 60})
    t["coverage"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    band = np.zeros(seconds.shape, np.uint8)
    band[seconds <= 15 * 60] = 2
    band[seconds <= 11 * 60] = 1
    drv = gdal.GetDriverByName("MEM")
    ds = drv.Create("", grid.width, grid.height, 1, gdal.GDT_Byte)
    ds.SetGeoTransform(grid.transform)
    ds.SetProjection(grid.crs)
    ds.GetRasterBand(1).WriteArray(band)
    srs = osr.SpatialReference()
    srs.ImportFromWkt(grid.crs)
    vds = ogr.GetDriverByName("Memory").CreateDataSource("")
    layer = vds.CreateLayer("bands", srs=srs)
    layer.CreateField(ogr.FieldDefn("band", ogr.OFTInteger))
    gdal.Polygonize(ds.GetRasterBand(1), ds.GetRasterBand(1), layer, 0)
    parts = {1: [], 2: []}
    for f in layer:
        parts[f.GetField("band")].append(shapely_wkb.loads(bytes(f.GetGeometryRef().ExportToWkb())))
    iso = [unary_union(parts[1]), unary_union(parts[1] + parts[2])]   # cumulative: <= 11, <= 15 minutes
    t["isochrones"] = time.perf_counter() - t0
    t["total"] = t["search"] + t["coverage"] + t["isochrones"]
    return t, seconds, table, curve, iso


def main():
    data_dir = demo.find_data_dir("quzhou")
    counties, cores, stations = load(data_dir)
    best, best_peer = None, None
    for i in range(max(ARGS.repeat, 1)):
        t, study, r, iso = careshed_run(counties, cores, stations, data_dir, ARGS.cell_size)
        if best is None or t["total"] < best["total"]:
            best = t
    g = study.grid
    print(f"Quzhou reach at {ARGS.cell_size:g} m: {g.width} x {g.height} = {g.width * g.height:,} cells "
          f"({int((study.zone_raster.zone >= 0).sum()):,} in the counties), 6 stations, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, best of {ARGS.repeat}")
    region = r.table.iloc[-1]
    print(f"careshed result: {region['covered']:,.0f} of {region['population']:,.0f} covered "
          f"({region['covered_share']:.2%}), mean {region['mean_minutes']:.2f} min, p90 {region['p90_minutes']:.2f}")
    stages = ["grid + zones", "friction", "classes", "population", "stations", "search", "coverage", "isochrones"]
    if ARGS.no_peer:
        print("| stage | careshed |")
        print("|---|---|")
        for k in stages + ["total"]:
            print(f"| {k} | {best[k]:.3f} s |")
        return 0
    rc = np.column_stack([r.stations["row"].to_numpy(), r.stations["col"].to_numpy()])
    thr = [11 * 60.0, 15 * 60.0]
    for i in range(max(ARGS.repeat, 1)):
        tp, seconds, table, curve, piso = peer_run(study, r, rc, 180.0, thr)
        if best_peer is None or tp["total"] < best_peer["total"]:
            best_peer = tp
    # Agreement: same cost rule; MCP sums float64 steps, careshed exact integer ticks -> tiny time differences
    # can move a cell across a threshold.
    fin = np.isfinite(seconds)
    diff = np.abs(r.seconds[fin].astype(np.float64) - seconds[fin])
    cov_c = r.table["covered"].to_numpy()[:-1]
    cov_p = table["covered"].to_numpy()
    rel = np.max(np.abs(cov_c - cov_p) / np.maximum(cov_p, 1))
    area_c = [g_.area for g_ in iso.geometry]
    area_p = [g_.area for g_ in piso]
    print(f"agreement: max |seconds difference| {diff.max():.4f} s; covered per county within {rel:.2e} relative; "
          f"isochrone areas careshed {area_c[0] / 1e6:.2f}/{area_c[1] / 1e6:.2f} km2 vs peer "
          f"{area_p[0] / 1e6:.2f}/{area_p[1] / 1e6:.2f} km2")
    ok = diff.max() < 1.0 and rel < 5e-3
    print("| stage | careshed | peer (skimage MCP + numpy + GDAL/shapely) | ratio |")
    print("|---|---|---|---|")
    for k in stages:
        if k in best_peer:
            print(f"| {k} | {best[k]:.3f} s | {best_peer[k]:.3f} s | {best_peer[k] / best[k]:.1f}x |")
        else:
            print(f"| {k} | {best[k]:.3f} s | — | |")
    core = best["search"] + best["coverage"] + best["isochrones"]
    print(f"| search + coverage + isochrones | {core:.3f} s | {best_peer['total']:.3f} s | "
          f"{best_peer['total'] / core:.1f}x |")
    print(f"| whole analysis after data load | {best['total']:.3f} s | | |")
    print("results agree" if ok else "RESULTS DIFFER")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
