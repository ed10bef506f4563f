"""Benchmark: exact travel time, nearest facility and coverage by zone on a national-size friction grid, tile by
tile on Dask (careshed.tiled), against the in-memory engine on a grid both can run.

The input is a seeded synthetic country generated window by window (never whole in memory) and written as
VRTs of --chunk x --chunk GeoTIFF tiles (friction float32 s/m with NaN barriers, people float32, zone index
int16, class uint8):
  * background 0.5-2 s/m: a random lattice every 64 cells, bilinear (as benchmarks/raster_search.py);
  * roads 0.02-0.05 s/m: a lattice of straight roads every 150 cells plus (rows + cols) / 200 long random
    roads, 1 cell wide;
  * barriers (no data): rivers, (rows + cols) / 2000 long straight bands 2 cells thick with a 3-cell bridge
    every 1500 steps, and lakes, discs of radius 5-45 cells, one per 400 000 cells;
  * --world: a 1 km lon/lat world (default 43200 x 17400 cells, 180W-180E, 85N-60S; rows narrow towards the
    poles: cell_size = (per-row widths in metres, dy)), with oceans (no data, about two thirds of the cells)
    from a coarse random land mask;
  * people: smooth random density (mean ~1.5 per cell), 0 on barriers; class 0 (urban, > 5 people per cell,
    --thresholds' first value) or 1 (rural, the second); --zones zones (default 3000) as a grid of wavy-edged
    blocks; --facilities passable cells (default 1000, seeded) with 10-500 beds each.
Every value depends only on --seed and the cell, so any window is generated alone, in any order, in parallel.

Then, through careshed's public tiled API, one LocalCluster of --workers single-threaded worker processes
(careshed.tiled.dask_client) runs
  1. travel_time_tiled(friction.vrt, facilities, ...): seconds + nearest facility as tiled GeoTIFFs;
  2. coverage_tiled(seconds, nearest, people, zones, thresholds, classes=..., beds=...): people, covered and
     unreachable people per zone (and within --within minutes, if given), catchment people and beds per 1000
     per facility.
Reported per phase: wall, CPU of all processes (client + scheduler, nannies, workers: /proc sampled every
0.25 s), peak of the summed RSS of all those processes (shared library pages count once per process, so it is an
upper bound), rounds, tile searches and tiles searched more than once; the 1-minute load average before/after.

--compare (default when the grid has <= 300 M cells): before Dask starts, a forked child runs the in-memory
engine (careshed.arrays.travel_time_grid, --workers OpenMP threads) on the same friction read whole, timed alone
and with reading the friction and writing the same two GeoTIFFs (the same writer, compressing in --workers
threads as the tiled run's client does); the tiled outputs must equal its arrays bit for bit (checked). --efficiency: the travel-time phase with 1 and with --workers workers (parallel efficiency).

    python benchmarks/tiled.py [--size 8192 | --rows R --cols C | --world] [--tile 4096] [--workers 2]
        [--facilities 1000] [--zones 3000] [--compare/--no-compare] [--efficiency] [--workdir DIR] [--keep]
    python benchmarks/tiled.py --sizes 16384,23170,32768 [--world]  # several grids, one after the other

Disk: ~11 bytes per cell of inputs + ~12 bytes per cell of tile labels between rounds + the outputs (DEFLATE);
everything under --workdir (default a temporary folder) is deleted at the end unless --keep.
"""
from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from _common import in_child

WEB_MERCATOR = ('PROJCS["WGS 84 / Pseudo-Mercator",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,'
                '298.257223563]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],PROJECTION["Mercator_1SP"],'
                'PARAMETER["central_meridian",0],PARAMETER["scale_factor",1],PARAMETER["false_easting",0],'
                'PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","3857"]]')
WGS84 = ('GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563]],PRIMEM["Greenwich",0],'
         'UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4326"]]')
EARTH_RADIUS_M = 6371008.8


# ---- the synthetic country, cell by cell ---------------------------------------------------------------------

def _mix(x):
    """splitmix64 finaliser on uint64 arrays (wrapping arithmetic)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(seed, salt, i, j):
    """A uniform [0, 1) value per (i, j) lattice point (broadcasting integer arrays)."""
    with np.errstate(over="ignore"):
        key = (np.uint64(seed) * np.uint64(0x100000001B3) + np.uint64(salt) * np.uint64(0x9E3779B1)) \
            ^ (np.asarray(i, np.int64).astype(np.uint64) << np.uint64(32)) ^ np.asarray(j, np.int64).astype(np.uint64)
        return (_mix(_mix(key)) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def _noise(seed, salt, spacing, r0, r1, c0, c1):
    """Smooth [0, 1] noise: a random lattice every `spacing` cells, bilinear, for rows r0..r1-1, cols c0..c1-1."""
    y = np.arange(r0, r1) / spacing
    x = np.arange(c0, c1) / spacing
    iy, ix = np.floor(y).astype(np.int64), np.floor(x).astype(np.int64)
    ay, ax = (y - iy)[:, None], (x - ix)[None, :]
    i0, j0 = int(iy[0]), int(ix[0])
    lat = _uniform(seed, salt, np.arange(i0, int(iy[-1]) + 2)[:, None], np.arange(j0, int(ix[-1]) + 2)[None, :])
    a, b = iy - i0, ix - j0
    top = lat[a][:, b] * (1 - ax) + lat[a][:, b + 1] * ax
    bot = lat[a + 1][:, b] * (1 - ax) + lat[a + 1][:, b + 1] * ax
    return top * (1 - ay) + bot * ay


class Country:
    """The synthetic grid: every method returns one window, computed from the seed and the cells alone."""

    def __init__(self, rows, cols, seed, world=False, n_zones=3000):
        self.rows, self.cols, self.seed, self.world = int(rows), int(cols), int(seed), bool(world)
        rng = np.random.default_rng(seed)
        n_roads = max(1, (rows + cols) // 200)
        self.roads = [(*rng.integers(0, rows, 1), *rng.integers(0, cols, 1), *rng.integers(0, rows, 1),
                       *rng.integers(0, cols, 1), rng.uniform(0.02, 0.05)) for _ in range(n_roads)]
        n_rivers = max(1, (rows + cols) // 2000)
        self.rivers = [(*rng.integers(0, rows, 1), *rng.integers(0, cols, 1), *rng.integers(0, rows, 1),
                        *rng.integers(0, cols, 1)) for _ in range(n_rivers)]
        n_lakes = max(1, rows * cols // 400_000)
        self.lakes = np.stack([rng.integers(0, rows, n_lakes), rng.integers(0, cols, n_lakes),
                               rng.integers(5, 46, n_lakes)], 1)
        # Zones: a zr x zc grid of blocks (zr * zc = n_zones, the factor pair closest to the grid's shape)
        # whose edges wave by up to 0.3 block.
        pairs = [(a, n_zones // a) for a in range(1, n_zones + 1) if n_zones % a == 0]
        self.zr, self.zc = min(pairs, key=lambda p: abs(math.log((p[1] / p[0]) / (cols / rows))))
        self.n_zones = self.zr * self.zc
        if world:  # 30 arc-second cells from 180W, 85N
            self.transform = (-180.0, 360.0 / cols, 0.0, 85.0, 0.0, -145.0 / rows)
            self.crs = WGS84
            lat = 85.0 - (np.arange(rows) + 0.5) * 145.0 / rows
            self.dy = EARTH_RADIUS_M * math.radians(145.0 / rows)
            self.row_dx = EARTH_RADIUS_M * np.radians(360.0 / cols) * np.cos(np.radians(lat))
        else:  # 100 m cells
            self.transform = (0.0, 100.0, 0.0, rows * 100.0, 0.0, -100.0)
            self.crs = WEB_MERCATOR
            self.dy, self.row_dx = 100.0, None

    @property
    def cell_size(self):
        return (self.row_dx, self.dy) if self.world else (100.0, 100.0)

    @staticmethod
    def _segment(seg, r0, r1, c0, c1, grow=0):
        """The cells of a straight segment (rint of r0 + dr * i / (S - 1), S = max(|dr|, |dc|) + 1) that fall in
        rows r0 - grow .. r1 - 1, cols c0 - grow .. c1 - 1, with their step numbers i."""
        ra, ca, rb, cb = seg[:4]
        dr, dc = rb - ra, cb - ca
        s = max(abs(dr), abs(dc)) + 1
        lo, hi = 0.0, float(s - 1)
        for a, d, w0, w1 in ((ra, dr, r0 - grow, r1), (ca, dc, c0 - grow, c1)):
            if d == 0:
                if not w0 <= a < w1:
                    return None
                continue
            t0, t1 = (w0 - 1 - a) * (s - 1) / d, (w1 + 1 - a) * (s - 1) / d
            lo, hi = max(lo, min(t0, t1)), min(hi, max(t0, t1))
        if lo > hi:
            return None
        i = np.arange(max(0, math.floor(lo)), min(s - 1, math.ceil(hi)) + 1)
        den = max(s - 1, 1)
        rr = np.rint(ra + dr * i / den).astype(np.int64)
        cc = np.rint(ca + dc * i / den).astype(np.int64)
        return rr, cc, i

    def friction(self, r0, r1, c0, c1):
        f = np.empty((r1 - r0, c1 - c0), np.float32)
        for b0 in range(r0, r1, 512):  # row blocks keep the temporaries small
            b1 = min(r1, b0 + 512)
            f[b0 - r0:b1 - r0] = 0.5 + 1.5 * _noise(self.seed, 1, 64, b0, b1, c0, c1)
        for k in range(75 + (max(0, r0 - 75) + 149) // 150 * 150, r1, 150):
            f[k - r0, :] = 0.02 + 0.03 * _uniform(self.seed, 2, k, 0)
        for k in range(75 + (max(0, c0 - 75) + 149) // 150 * 150, c1, 150):
            f[:, k - c0] = 0.02 + 0.03 * _uniform(self.seed, 3, k, 0)
        for seg in self.roads:
            hit = self._segment(seg, r0, r1, c0, c1)
            if hit is not None:
                rr, cc, _ = hit
                ok = (rr >= r0) & (rr < r1) & (cc >= c0) & (cc < c1)
                f[rr[ok] - r0, cc[ok] - c0] = seg[4]
        for seg in self.rivers:  # 2 x 2 stamps: no diagonal move crosses them; a bridge every 1500 steps
            hit = self._segment(seg, r0, r1, c0, c1, grow=1)
            if hit is not None:
                rr, cc, i = hit
                keep = i % 1500 >= 3
                for a in (0, 1):
                    for b in (0, 1):
                        r, c = rr[keep] + a, cc[keep] + b
                        ok = (r >= r0) & (r < r1) & (c >= c0) & (c < c1)
                        f[r[ok] - r0, c[ok] - c0] = np.nan
        lk = self.lakes
        near = (lk[:, 0] + lk[:, 2] > r0) & (lk[:, 0] - lk[:, 2] < r1) & (lk[:, 1] + lk[:, 2] > c0) & \
               (lk[:, 1] - lk[:, 2] < c1)
        for cr, cc, rad in lk[near]:
            a0, a1, b0, b1 = max(r0, cr - rad), min(r1, cr + rad), max(c0, cc - rad), min(c1, cc + rad)
            yy, xx = np.ogrid[a0:a1, b0:b1]
            f[a0 - r0:a1 - r0, b0 - c0:b1 - c0][(yy - cr) ** 2 + (xx - cc) ** 2 < rad * rad] = np.nan
        if self.world:
            for b0 in range(r0, r1, 512):
                b1 = min(r1, b0 + 512)
                land = 0.75 * _noise(self.seed, 9, 1024, b0, b1, c0, c1) + 0.25 * _noise(self.seed, 10, 128, b0, b1,
                                                                                          c0, c1)
                f[b0 - r0:b1 - r0][land < 0.56] = np.nan
        return f

    def people(self, r0, r1, c0, c1, friction=None):
        f = self.friction(r0, r1, c0, c1) if friction is None else friction
        p = np.exp(4.0 * (_noise(self.seed, 5, 512, r0, r1, c0, c1) - 0.5)) * \
            (0.25 + 1.5 * _noise(self.seed, 6, 32, r0, r1, c0, c1))
        return np.where(np.isfinite(f), p, 0.0).astype(np.float32)

    def zones(self, r0, r1, c0, c1):
        r = np.arange(r0, r1)[:, None].astype(np.float64)
        c = np.arange(c0, c1)[None, :].astype(np.float64)
        h, w = self.rows / self.zr, self.cols / self.zc
        zr = np.clip(np.floor((r + 0.3 * h * np.sin(c / w * 2.1 + 0.7)) / h), 0, self.zr - 1)
        zc = np.clip(np.floor((c + 0.3 * w * np.sin(r / h * 1.7 + 0.3)) / w), 0, self.zc - 1)
        return (zr * self.zc + zc).astype(np.int16)

    def facilities(self, k):
        """k distinct passable cells (seeded)."""
        rng = np.random.default_rng(self.seed + 1)
        out = set()
        picked = []
        while len(picked) < k:
            r, c = int(rng.integers(0, self.rows)), int(rng.integers(0, self.cols))
            if (r, c) not in out and np.isfinite(self.friction(r, r + 1, c, c + 1)[0, 0]):
                out.add((r, c))
                picked.append((r, c))
        return np.array(picked, dtype=np.int64)


# ---- writing the rasters window by window (one process per chunk) ---------------------------------------------

_COUNTRY = None


def _write_chunk(args):
    from osgeo import gdal
    gdal.UseExceptions()
    folder, i, j, chunk = args
    cty = _COUNTRY
    r0, c0 = i * chunk, j * chunk
    r1, c1 = min(cty.rows, r0 + chunk), min(cty.cols, c0 + chunk)
    f = cty.friction(r0, r1, c0, c1)
    # Barriers as NaN, no no-data value: a VRT over sources with one is read through GDAL's per-pixel
    # ComplexSource path (measured: 6 % of a tiled run's CPU), over sources without one by block copies.
    layers = {"friction": f, "people": cty.people(r0, r1, c0, c1, f), "zones": cty.zones(r0, r1, c0, c1)}
    layers["classes"] = (layers["people"] <= 5.0).astype(np.uint8)
    types = {"float32": gdal.GDT_Float32, "int16": gdal.GDT_Int16, "uint8": gdal.GDT_Byte}
    gt = list(cty.transform)
    gt[0] += c0 * gt[1]
    gt[3] += r0 * gt[5]
    for name, a in layers.items():
        path = os.path.join(folder, f"{name}_{i}_{j}.tif")
        ds = gdal.GetDriverByName("GTiff").Create(path, c1 - c0, r1 - r0, 1, types[str(a.dtype)],
                                                  ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "BIGTIFF=IF_SAFER"])
        ds.SetGeoTransform(gt)
        ds.SetProjection(cty.crs)
        ds.GetRasterBand(1).WriteArray(a)
        ds = None
    return int(np.count_nonzero(np.isfinite(f)))


def write_country(cty, folder, chunk, processes):
    """friction/people/zones/classes VRTs over chunk x chunk GeoTIFFs; returns (paths, passable cells)."""
    global _COUNTRY
    from osgeo import gdal
    gdal.UseExceptions()
    _COUNTRY = cty
    jobs = [(str(folder), i, j, chunk) for i in range(-(-cty.rows // chunk)) for j in range(-(-cty.cols // chunk))]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        passable = sum(pool.imap_unordered(_write_chunk, jobs))
    paths = {}
    for name in ("friction", "people", "zones", "classes"):
        files = [os.path.join(folder, f"{name}_{i}_{j}.tif") for _, i, j, _ in jobs]
        paths[name] = os.path.join(folder, f"{name}.vrt")
        gdal.BuildVRT(paths[name], files)
    return paths, passable


# ---- measuring every process of the run ----------------------------------------------------------------------

class ProcessTree:
    """Samples this process and all its descendants (Dask nannies and workers) every `interval` seconds: summed
    RSS (peak per phase) and CPU seconds (utime + stime, the last value seen of every process)."""

    def __init__(self, interval=0.25):
        self.interval = interval
        self.tick = os.sysconf("SC_CLK_TCK")
        self.cpu = {}           # pid -> (start time, cpu seconds) last seen
        self.peak = 0
        self._pids = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _descendants(self):
        me = os.getpid()
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open(f"/proc/{d}/stat") as fh:
                        s = fh.read()
                    parent[int(d)] = int(s[s.rindex(")") + 2:].split()[1])
                except (OSError, ValueError):
                    pass
        out, todo = [me], [me]
        children = {}
        for pid, pp in parent.items():
            children.setdefault(pp, []).append(pid)
        while todo:
            for c in children.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out

    def sample(self, rescan=True):
        total = 0
        if rescan or not self._pids:
            self._pids = self._descendants()
        for pid in self._pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    f = fh.read()
                with open(f"/proc/{pid}/statm") as fh:
                    rss = int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            except (OSError, ValueError):
                continue
            v = f[f.rindex(")") + 2:].split()
            total += rss
            with self._lock:
                self.cpu[pid] = (int(v[19]), (int(v[11]) + int(v[12])) / self.tick)
        with self._lock:
            self.peak = max(self.peak, total)

    def _run(self):
        n = 0
        while not self._stop.wait(self.interval):
            self.sample(rescan=n % 8 == 0)  # the whole of /proc every 8th sample (new workers), else known pids
            n += 1

    def mark(self):
        """(wall, CPU seconds of all processes so far, keys) and a fresh peak."""
        self.sample()
        with self._lock:
            self.peak = 0
            return time.perf_counter(), dict(self.cpu)

    def since(self, mark):
        t0, cpu0 = mark
        self.sample()
        with self._lock:
            cpu = sum(c - (cpu0[pid][1] if pid in cpu0 and cpu0[pid][0] == st else 0.0)
                      for pid, (st, c) in self.cpu.items())
            return time.perf_counter() - t0, cpu, self.peak

    def close(self):
        self._stop.set()
        self._thread.join()


def gb(b):
    return f"{b / 1e9:.2f} GB"


def load():
    return f"{os.getloadavg()[0]:.1f}"


# ---- the in-memory engine on the same grid (a forked child: its own peak memory) ------------------------------

def in_memory_child(paths, src, cty, threads, out):
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from osgeo import gdal
    gdal.UseExceptions()
    import careshed.arrays
    from careshed.tiled import TiledGeoTIFF
    t0, c0 = time.perf_counter(), time.process_time()
    ds = gdal.Open(paths["friction"])
    f = ds.GetRasterBand(1).ReadAsArray()
    t_read = time.perf_counter() - t0
    t1, c1 = time.perf_counter(), time.process_time()
    sec, near = careshed.arrays.travel_time_grid(f, src, cell_size=cty.cell_size)
    t_search, cpu_search = time.perf_counter() - t1, time.process_time() - c1
    t2 = time.perf_counter()
    for name, a, dt, nd in (("s", np.where(np.isfinite(sec), sec, np.nan), "float32", float("nan")),
                            ("n", near, "int32", -1)):
        w = TiledGeoTIFF(os.path.join(out, f"inmem_{name}.tif"), a.shape, cty.transform, cty.crs, dt, nodata=nd,
                         threads=threads)  # as the tiled run's client: one compression thread per worker
        w.write(0, 0, a)
        w.commit()
    t_write = time.perf_counter() - t2
    np.save(os.path.join(out, "inmem_seconds.npy"), sec)
    np.save(os.path.join(out, "inmem_nearest.npy"), near)
    with open("/proc/self/status") as fh:
        hwm = next(int(x.split()[1]) * 1024 for x in fh if x.startswith("VmHWM"))
    with open(os.path.join(out, "inmem.txt"), "w") as fh:
        fh.write(f"{t_read} {t_search} {cpu_search} {t_write} {hwm} {time.process_time() - c0}\n")


def run_in_memory(paths, src, cty, threads, out):
    in_child("in-memory", in_memory_child, paths, src, cty, threads, out)
    t_read, t_search, cpu_search, t_write, hwm, cpu_all = map(float, open(os.path.join(out, "inmem.txt")).read().split())
    return dict(read=t_read, search=t_search, cpu=cpu_search, write=t_write, hwm=hwm, cpu_all=cpu_all)


# ---- one case -------------------------------------------------------------------------------------------------

def travel_time_phase(tiled, paths, src, cty, args, work, client, tree, label):
    mark = tree.mark()
    r = tiled.travel_time_tiled(paths["friction"], src, out_seconds=work / "seconds.tif",
                                out_nearest=work / "nearest.tif", tile_size=args.tile, cell_size=cty.cell_size,
                                client=client, scratch=work / "scratch", progress=lambda *a: None)
    wall, cpu, peak = tree.since(mark)
    again = r.tile_searches - r.tiles_searched
    print(f"  travel time ({label}): {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {gb(peak)}; {r.tiles} tiles of "
          f"{args.tile}, {r.rounds} rounds (tiles per round {r.round_sizes}), {r.tile_searches} tile searches, "
          f"{again} of them reruns; load {load()}", flush=True)
    return r, wall, cpu, peak


def run_case(rows, cols, args, world=False):
    import careshed.tiled as tiled
    print(f"== {'world ' if world else ''}{rows} x {cols} = {rows * cols / 1e6:.0f} M cells, {args.facilities} "
          f"facilities, {args.zones} zones, tiles of {args.tile}, {args.workers} workers; load {load()} "
          f"({os.cpu_count()} CPUs) at {time.strftime('%H:%M:%S')}", flush=True)
    base = Path(args.workdir) if args.workdir else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="careshed-tiled-bench-", dir=base))
    try:
        cty = Country(rows, cols, args.seed, world=world, n_zones=args.zones)
        t0 = time.perf_counter()
        paths, passable = write_country(cty, work, args.chunk, args.workers)
        src = cty.facilities(args.facilities)
        beds = np.random.default_rng(args.seed + 2).integers(10, 501, len(src)).astype(np.float64)
        du = sum(p.stat().st_size for p in work.iterdir())
        print(f"  input generated window by window in {time.perf_counter() - t0:.1f} s ({gb(du)} on disk, "
              f"{passable / (rows * cols):.1%} passable, {cty.n_zones} zones of {cty.zr} x {cty.zc}); load {load()}",
              flush=True)
        compare = args.compare if args.compare is not None else rows * cols <= 300_000_000
        mem = None
        if compare:
            mem = run_in_memory(paths, src, cty, args.workers, str(work))
            print(f"  in-memory engine ({args.workers} threads): search {mem['search']:.1f} s wall, {mem['cpu']:.1f} s "
                  f"CPU; + reading the friction {mem['read']:.1f} s and writing the two GeoTIFFs {mem['write']:.1f} s "
                  f"= {mem['read'] + mem['search'] + mem['write']:.1f} s wall, {mem['cpu_all']:.1f} s CPU; peak RSS "
                  f"{gb(mem['hwm'])}; load {load()}", flush=True)
        tree = ProcessTree()
        results = {}
        try:
            if args.efficiency:
                with tiled.dask_client(workers=1, memory_limit=args.memory_limit) as client:
                    _, w1, c1, p1 = travel_time_phase(tiled, paths, src, cty, args, work, client, tree, "1 worker")
                results["one"] = (w1, c1, p1)
                for p in ("seconds.tif", "nearest.tif"):
                    (work / p).unlink()
            m_all = tree.mark()
            with tiled.dask_client(workers=args.workers, memory_limit=args.memory_limit) as client:
                t_start = tree.since(m_all)
                r, w_tt, c_tt, p_tt = travel_time_phase(tiled, paths, src, cty, args, work, client, tree,
                                                        f"{args.workers} workers")
                mark = tree.mark()
                cov = tiled.coverage_tiled(r.seconds_path, r.nearest_path, paths["people"], paths["zones"],
                                           args.thresholds, classes=paths["classes"],
                                           zone_names=list(range(cty.n_zones)), n_facilities=len(src), beds=beds,
                                           within_minutes=args.within, tile_size=args.coverage_tile, client=client)
                w_cv, c_cv, p_cv = tree.since(mark)
            w_all, c_all, _ = tree.since(m_all)
            peak_all = max(p_tt, p_cv)
        finally:
            tree.close()
        region = cov.zones.iloc[-1]
        print(f"  coverage by {cty.n_zones} zones + catchments of {len(src)} facilities: {w_cv:.1f} s wall, "
              f"{c_cv:.1f} s CPU, peak RSS {gb(p_cv)}; {region['population'] / 1e6:.1f} M people, "
              f"{region['covered_share']:.1%} covered, median beds per 1000 "
              f"{np.nanmedian(cov.facilities['beds_per_1000']):.2f}; load {load()}", flush=True)
        print(f"  END TO END (cluster start {t_start[0]:.1f} s + travel time + coverage + close): {w_all:.1f} s wall, "
              f"{c_all:.1f} s CPU, peak RSS of all processes {gb(peak_all)}", flush=True)
        if "one" in results:
            w1 = results["one"][0]
            print(f"  parallel efficiency of the travel time, 1 -> {args.workers} workers: {w1:.1f} s -> {w_tt:.1f} s "
                  f"= {w1 / (args.workers * w_tt):.0%} (CPU {results['one'][1]:.1f} s -> {c_tt:.1f} s)", flush=True)
        if mem is not None:
            s, n = r.read()
            ref_s = np.load(work / "inmem_seconds.npy")
            ref_n = np.load(work / "inmem_nearest.npy")
            same = np.array_equal(s.view(np.int32), ref_s.view(np.int32)) and np.array_equal(n, ref_n)
            del s, n, ref_s, ref_n
            io = mem["read"] + mem["search"] + mem["write"]
            print(f"  tiled vs in-memory: {w_tt:.1f} s vs search alone {mem['search']:.1f} s = "
                  f"{w_tt / mem['search']:.2f}x; vs read + search + write {io:.1f} s = {w_tt / io:.2f}x (CPU "
                  f"{c_tt:.1f} s vs {mem['cpu']:.1f} s = {c_tt / mem['cpu']:.2f}x, vs {mem['cpu_all']:.1f} s = "
                  f"{c_tt / mem['cpu_all']:.2f}x); outputs {'IDENTICAL bit for bit' if same else 'DIFFER'}", flush=True)
            if not same:
                raise SystemExit("the tiled outputs differ from the in-memory engine's")
        du = sum(p.stat().st_size for p in work.rglob("*") if p.is_file())
        print(f"  disk used at the end: {gb(du)}; load {load()} at {time.strftime('%H:%M:%S')}", flush=True)
    finally:
        if args.keep:
            print(f"  kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=8192, help="square grid side (default 8192)")
    ap.add_argument("--sizes", type=str, default=None, help="several square sides, comma separated, one after another")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--cols", type=int, default=None)
    ap.add_argument("--world", action="store_true", help="a 1 km lon/lat world grid (default 43200 x 17400)")
    ap.add_argument("--tile", type=int, default=4096)
    ap.add_argument("--coverage-tile", type=int, default=2048,
                    help="window side of the coverage tasks (their exact sums took ~160 bytes per cell: 2.6 GiB per 4096 window)")
    ap.add_argument("--chunk", type=int, default=4096, help="cells per side of the generated GeoTIFF pieces")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--memory-limit", default="3.5GB", help="per Dask worker")
    ap.add_argument("--facilities", type=int, default=1000)
    ap.add_argument("--zones", type=int, default=3000)
    ap.add_argument("--thresholds", type=float, nargs=2, default=[30.0, 60.0], help="urban, rural minutes")
    ap.add_argument("--within", type=float, nargs="*", default=[],
                    help="extra thresholds (minutes): people within them per zone (each adds an exact-sum pass)")
    ap.add_argument("--compare", dest="compare", action="store_true", default=None)
    ap.add_argument("--no-compare", dest="compare", action="store_false")
    ap.add_argument("--efficiency", action="store_true")
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    if args.sizes:  # square grids, then the world if asked: one command for a quiet window
        for n in (int(v) for v in args.sizes.split(",")):
            run_case(n, n, args)
    if args.world:
        run_case(args.rows or 17400, args.cols or 43200, args, world=True)
    elif not args.sizes:
        run_case(args.rows or args.size, args.cols or args.size, args)


if __name__ == "__main__":
    main()
