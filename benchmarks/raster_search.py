"""Benchmark: multi-source travel time on a friction grid — careshed vs GRASS r.cost vs scikit-image.

Grid (seeded, --seed): --size x --size cells of 100 m, float32 friction in s/m:
  * background 0.5-2 s/m (walking / off-road), smooth: a random lattice every 64 cells, bilinearly
    interpolated;
  * roads at 0.02-0.05 s/m (72-180 km/h... 20-50 m/s): a lattice of straight roads every ~150 cells
    plus ~size/100 random long diagonal-ish roads (drawn as 1-cell-wide lines);
  * lakes: NaN discs of radius 5-45 cells (about one per 400 000 cells).
--sources passable cells are drawn at random (seeded) as sources. 8 neighbours (or --neighbours 16).

All three tools solve the SAME grid from the SAME cells in this one run:
  * careshed.arrays.travel_time_grid, in a child process (fork) so that its peak memory can be measured:
    VmHWM after the call minus VmRSS before it (the friction grid is already resident), reported in
    bytes per cell beyond the input;
  * skimage.graph.MCP_Geometric(costs, sampling=(dy, dx)).find_costs(starts): same convention (step =
    distance x mean of the two cells' cost), NaN -> inf (impassable); times in seconds;
  * GRASS 8 r.cost in a temporary EPSG:3857 location (metres), friction x cell width as input (r.cost
    counts distance in units of the east-west resolution), start_coordinates at the cell centres,
    memory=4000 MB; timed around r.cost only (import/export excluded).
Agreement: max |careshed - peer| seconds over cells both reach (careshed returns float32 seconds from
exact integer ticks of ~1e-6 s; the peers use float64), and whether they reach the same cells.
A 15-minute search from 10 sources (--cutoff-minutes) shows that the cost with a cutoff follows the
reach, not the grid. Finally travel_time_grid_reach_lists (the 2SFCA input) from 1000 sources with a 30-minute
bound (--reach-sources, --reach-minutes; 0 skips it).

    python benchmarks/raster_search.py [--size 6000] [--sources 100] [--neighbours 8] [--repeat 3]
                                       [--skip-grass] [--skip-skimage] [--seed 42]
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from _common import in_child


def friction_grid(n, seed):
    rng = np.random.default_rng(seed)
    cs = 64
    m = n // cs + 2
    coarse = rng.uniform(0.5, 2.0, (m, m))
    y = np.arange(n) / cs
    i = y.astype(np.int64)
    a = (y - i)[:, None]
    f = np.empty((n, n), np.float32)
    # Bilinear interpolation, a block of rows at a time (keeps the temporary arrays small).
    for r0 in range(0, n, 512):
        r1 = min(n, r0 + 512)
        ii, aa = i[r0:r1], a[r0:r1]
        top = coarse[ii][:, i] * (1 - a.T) + coarse[ii][:, i + 1] * a.T
        bot = coarse[ii + 1][:, i] * (1 - a.T) + coarse[ii + 1][:, i + 1] * a.T
        f[r0:r1] = top * (1 - aa) + bot * aa
    for k in range(75, n, 150):
        f[k, :] = rng.uniform(0.02, 0.05)
        f[:, k] = rng.uniform(0.02, 0.05)
    for _ in range(max(1, n // 100)):
        r0, c0, r1, c1 = rng.integers(0, n, 4)
        steps = max(abs(r1 - r0), abs(c1 - c0)) + 1
        rr = np.linspace(r0, r1, steps).round().astype(np.int64)
        cc = np.linspace(c0, c1, steps).round().astype(np.int64)
        f[rr, cc] = rng.uniform(0.02, 0.05)
    yy, xx = np.ogrid[:n, :n]
    for _ in range(max(1, n * n // 400_000)):
        cr, cc, rad = rng.integers(0, n), rng.integers(0, n), rng.integers(5, 46)
        r0, r1, c0, c1 = max(0, cr - rad), min(n, cr + rad), max(0, cc - rad), min(n, cc + rad)
        disc = (yy[r0:r1] - cr) ** 2 + (xx[:, c0:c1] - cc) ** 2 < rad * rad
        f[r0:r1, c0:c1][disc] = np.nan
    return f


def pick_sources(f, k, seed):
    rng = np.random.default_rng(seed + 1)
    out = []
    while len(out) < k:
        r, c = rng.integers(0, f.shape[0]), rng.integers(0, f.shape[1])
        if np.isfinite(f[r, c]) and (r, c) not in out:
            out.append((r, c))
    return np.array(out, dtype=np.int64)


def status_kb(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def run_careshed_child(f, src, cell, neighbours, max_seconds, repeat, out_path):
    """In a forked child: time travel_time_grid, record peak memory beyond the input."""
    import careshed
    best = float("inf")
    best_cpu = float("inf")
    extra_kb = 0
    for _ in range(repeat):
        rss0 = status_kb("VmRSS")
        # Reset the high-water mark so VmHWM measures this call only (Linux clear_refs 5).
        try:
            with open("/proc/self/clear_refs", "w") as fh:
                fh.write("5")
        except OSError:
            pass
        t0, c0 = time.perf_counter(), time.process_time()
        seconds, nearest = careshed.arrays.travel_time_grid(f, src, cell_size=(cell, cell), neighbours=neighbours,
                                                            max_seconds=max_seconds)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        best_cpu = min(best_cpu, dc)
        hwm = status_kb("VmHWM")
        extra_kb = max(extra_kb, hwm - rss0)
        best = min(best, dt)
        buf = seconds.base
        del seconds, nearest, buf
    seconds, nearest = careshed.arrays.travel_time_grid(f, src, cell_size=(cell, cell), neighbours=neighbours,
                                                        max_seconds=max_seconds)
    np.save(out_path + ".seconds.npy", np.ascontiguousarray(seconds))
    np.save(out_path + ".nearest.npy", np.ascontiguousarray(nearest))
    with open(out_path + ".txt", "w") as fh:
        fh.write(f"{best} {extra_kb} {best_cpu}\n")


def careshed_run(f, src, cell, neighbours, max_seconds, repeat, tmp):
    out = os.path.join(tmp, f"careshed_{'cut' if max_seconds else 'full'}")
    in_child("careshed", run_careshed_child, f, src, cell, neighbours, max_seconds, repeat, out)
    best, extra_kb, cpu = open(out + ".txt").read().split()
    careshed_run.cpu = float(cpu)
    return float(best), int(extra_kb) * 1024, np.load(out + ".seconds.npy"), np.load(out + ".nearest.npy")


def skimage_run(f, src, cell, neighbours):
    from skimage.graph import MCP_Geometric
    if neighbours != 8:
        return None
    costs = np.where(np.isfinite(f), f, np.inf).astype(np.float64)
    t0, c0 = time.perf_counter(), time.process_time()
    mcp = MCP_Geometric(costs, sampling=(cell, cell), fully_connected=True)
    cum, _ = mcp.find_costs([tuple(s) for s in src])
    return time.perf_counter() - t0, time.process_time() - c0, cum


def grass_run(f, src, cell, neighbours, tmp):
    from osgeo import gdal
    if shutil.which("grass") is None:
        return None
    n = f.shape[0]
    tif = os.path.join(tmp, "friction_per_cell.tif")
    drv = gdal.GetDriverByName("GTiff")
    ds = drv.Create(tif, n, n, 1, gdal.GDT_Float32, options=["TILED=YES", "COMPRESS=NONE", "BIGTIFF=YES"])
    ds.SetGeoTransform((0.0, cell, 0.0, n * cell, 0.0, -cell))
    ds.SetProjection('PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",'
                     '6378137,298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
                     'PROJECTION["Mercator_1SP"],PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],'
                     'PARAMETER["false_easting",0],PARAMETER["false_northing",0],UNIT["metre",1],'
                     'AUTHORITY["EPSG","3857"]]')
    band = ds.GetRasterBand(1)
    band.SetNoDataValue(-1.0)
    # r.cost's distance unit is the east-west resolution: cost per cell width = s/m x metres per cell.
    band.WriteArray(np.where(np.isfinite(f), f * np.float32(cell), np.float32(-1.0)))
    ds = None
    coords = ",".join(f"{(c + 0.5) * cell},{n * cell - (r + 0.5) * cell}" for r, c in src)
    out_tif = os.path.join(tmp, "rcost.tif")
    script = os.path.join(tmp, "rcost.sh")
    with open(script, "w") as fh:
        fh.write(f"""set -e
r.in.gdal -o input={tif} output=fr --quiet
g.region raster=fr
TIMEFORMAT='RCOST_SECONDS %R %U %S'
time r.cost {'-k ' if neighbours == 16 else ''}input=fr output=cost start_coordinates={coords} memory=4000 --quiet
r.out.gdal input=cost output={out_tif} format=GTiff type=Float64 --quiet -f
""")
    os.chmod(script, 0o755)
    gisdb = os.path.join(tmp, "grassdb")
    os.makedirs(gisdb, exist_ok=True)
    res = subprocess.run(["grass", "--tmp-location", "EPSG:3857", "--exec", "bash", script],
                         capture_output=True, text=True, cwd=tmp)
    secs = None
    for line in (res.stdout + res.stderr).splitlines():
        if line.startswith("RCOST_SECONDS"):
            _, real, user, sys_ = line.split()
            secs, cpu = float(real), float(user) + float(sys_)
    if secs is None:
        print(res.stdout[-2000:], res.stderr[-2000:], file=sys.stderr)
        return None
    ds = gdal.Open(out_tif)
    cum = ds.GetRasterBand(1).ReadAsArray().astype(np.float64)
    nd = ds.GetRasterBand(1).GetNoDataValue()
    if nd is not None:
        cum[cum == nd] = np.inf
    cum[~np.isfinite(cum)] = np.inf
    return secs, cpu, cum


def outputs_sha1(*arrays):
    h = hashlib.sha1()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def compare(name, ours, theirs):
    both = np.isfinite(ours) & np.isfinite(theirs)
    only_ours = int(np.count_nonzero(np.isfinite(ours) & ~np.isfinite(theirs)))
    only_theirs = int(np.count_nonzero(~np.isfinite(ours) & np.isfinite(theirs)))
    diff = np.abs(ours[both].astype(np.float64) - theirs[both])
    rel = diff / np.maximum(theirs[both], 1.0)
    print(f"  agreement with {name}: max |diff| = {diff.max():.4g} s, max relative = {rel.max():.3g}, "
          f"cells reached only by careshed: {only_ours}, only by {name}: {only_theirs}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=6000)
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--neighbours", type=int, default=8, choices=(8, 16))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cutoff-minutes", type=float, default=15.0)
    ap.add_argument("--cutoff-sources", type=int, default=10)
    ap.add_argument("--reach-sources", type=int, default=1000)
    ap.add_argument("--reach-minutes", type=float, default=30.0)
    ap.add_argument("--skip-grass", action="store_true")
    ap.add_argument("--skip-skimage", action="store_true")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    cell = 100.0
    n = args.size
    t0 = time.perf_counter()
    f = friction_grid(n, args.seed)
    src = pick_sources(f, args.sources, args.seed)
    print(f"grid {n} x {n} = {n * n / 1e6:.1f} M cells of {cell:.0f} m, float32 friction "
          f"({np.count_nonzero(~np.isfinite(f)) / f.size:.1%} impassable), {len(src)} sources, "
          f"{args.neighbours} neighbours; built in {time.perf_counter() - t0:.1f} s")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory(prefix="careshed_bench_") as tmp:
        t_cs, extra, sec_cs, near_cs = careshed_run(f, src, cell, args.neighbours, None, args.repeat, tmp)
        cpu_cs = careshed_run.cpu
        print(f"careshed travel_time_grid: {t_cs:.3f} s wall, {cpu_cs:.3f} s CPU (best of {args.repeat}), "
              f"peak memory beyond the "
              f"input {extra / 2**20:.0f} MiB = {extra / f.size:.2f} bytes/cell, "
              f"{np.count_nonzero(near_cs >= 0) / 1e6:.2f} M cells reached")
        # The bits of the outputs: a kernel change must leave them as they are (compare across versions).
        print(f"  outputs sha1 (seconds float32 + nearest int32): {outputs_sha1(sec_cs, near_cs)}")
        results = {}
        if not args.skip_skimage:
            r = skimage_run(f, src, cell, args.neighbours)
            if r is not None:
                results["scikit-image MCP_Geometric"] = r
        if not args.skip_grass:
            r = grass_run(f, src, cell, args.neighbours, tmp)
            if r is not None:
                results["GRASS r.cost"] = r
        for name, (t, cpu, cum) in results.items():
            print(f"{name}: {t:.2f} s wall, {cpu:.2f} s CPU -> careshed is {t / t_cs:.1f}x faster (wall), "
                  f"{cpu / cpu_cs:.1f}x less CPU")
            compare(name, sec_cs, cum)
        # Cutoff: cost follows the reach.
        cut_src = src[: args.cutoff_sources]
        t_cut, extra_cut, sec_cut, _near_cut = careshed_run(f, cut_src, cell, args.neighbours,
                                                    args.cutoff_minutes * 60.0, args.repeat, tmp)
        reached = int(np.count_nonzero(np.isfinite(sec_cut)))
        print(f"  cutoff outputs sha1: {outputs_sha1(sec_cut, _near_cut)}")
        # The part that does not depend on the reach: validating the friction and writing the outputs.
        t_fixed, _, _, _ = careshed_run(f, src[:0], cell, args.neighbours, args.cutoff_minutes * 60.0,
                                        args.repeat, tmp)
        print(f"careshed with a {args.cutoff_minutes:g}-minute cutoff from {len(cut_src)} sources: {t_cut:.3f} s, "
              f"{reached / 1e6:.3f} M cells reached ({reached / f.size:.2%} of the grid), "
              f"the same call with no sources (only the grid-sized part: friction validation scan + output "
              f"fill) takes {t_fixed:.3f} s, so the search itself costs {max(t_cut - t_fixed, 0.0) * 1e3:.1f} ms "
              f"for {reached} cells; the full search took {t_cs / f.size * 1e9:.0f} ns per cell")
    # Per-source bounded searches (the 2SFCA input): every cell within --reach-minutes of each of
    # --reach-sources sources, as CSR lists; parallel across sources.
    if args.reach_sources:
        import careshed
        rsrc = pick_sources(f, args.reach_sources, args.seed + 7)
        t0, c0 = time.perf_counter(), time.process_time()
        offs, cells, secs = careshed.arrays.travel_time_grid_reach_lists(
            f, rsrc, max_seconds=args.reach_minutes * 60.0, cell_size=(cell, cell), neighbours=args.neighbours)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        print(f"careshed travel_time_grid_reach_lists: {len(rsrc)} sources x {args.reach_minutes:g} min: "
              f"{dt:.2f} s wall, {dc:.2f} s CPU, {len(cells) / 1e6:.1f} M (source, cell) pairs, "
              f"{dt / len(rsrc) * 1e3:.1f} ms per source, {dc / max(len(cells), 1) * 1e9:.0f} ns CPU per pair")
        print(f"  reach lists sha1 (offsets + cells + seconds): {outputs_sha1(offs, cells, secs)}")
    print(f"load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
