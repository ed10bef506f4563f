"""Benchmark: walking on terrain (directed costs) against the isotropic search on the same grid.

Grid (seeded, --seed): the friction grid of benchmarks/raster_search.py (--size x --size cells of 100 m:
smooth 0.5-2 s/m background, fast road lattice, NaN lakes) and a DEM on it: the sum of three smooth random
lattices (every 512, 128 and 32 cells, amplitudes 1500, 600 and 300 m): hill country, rook slopes
median ~0.05, up to ~0.3. --sources
passable cells drawn at random (seeded). 8 neighbours (or --neighbours 16).

Timed in this one run, on the same friction, DEM and sources, alternating the engines in every repetition
(the machine is shared: alternation spreads its load evenly), best of --repeat:
  * careshed.arrays.travel_time_grid (isotropic, GRASS r.cost rule),
  * careshed.arrays.travel_time_terrain, model "tobler" (toward the sources),
  * careshed.arrays.travel_time_terrain, model "rwalk".
Reported: wall and CPU seconds each (best of the repetitions) and the ratios terrain / isotropic (issue 14's
target: <= 2); on a shared machine the CPU ratio is the steadier one. Checked: on a flat DEM
the Tobler search returns exactly the isotropic seconds (a sanity check of the run, not a test).
No peer: GRASS r.walk is the natural one, but GRASS is not installed on the benchmark machine.

    nice python benchmarks/terrain.py [--size 6000] [--sources 100] [--neighbours 8] [--repeat 3] [--seed 42]
"""
import os
import time

import numpy as np

from _common import parser
from raster_search import friction_grid


def smooth_lattice(n, step, amplitude, rng):
    m = n // step + 2
    coarse = rng.uniform(0, amplitude, (m, m))
    y = np.arange(n) / step
    i = y.astype(np.int64)
    a = (y - i)
    out = np.empty((n, n), np.float32)
    for r0 in range(0, n, 512):
        r1 = min(n, r0 + 512)
        ii, aa = i[r0:r1], a[r0:r1, None]
        top = coarse[ii][:, i] * (1 - a) + coarse[ii][:, i + 1] * a
        bot = coarse[ii + 1][:, i] * (1 - a) + coarse[ii + 1][:, i + 1] * a
        out[r0:r1] = top * (1 - aa) + bot * aa
    return out


def dem_grid(n, seed):
    rng = np.random.default_rng(seed + 1)
    z = smooth_lattice(n, 512, 1500.0, rng)
    z += smooth_lattice(n, 128, 600.0, rng)
    z += smooth_lattice(n, 32, 300.0, rng)
    return z


def main():
    ap = parser(__doc__, repeat=3, seed=42)
    ap.add_argument("--size", type=int, default=6000)
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--neighbours", type=int, default=8)
    args = ap.parse_args()
    from careshed.arrays import travel_time_grid, travel_time_terrain

    n = args.size
    t0 = time.perf_counter()
    f = friction_grid(n, args.seed)
    z = dem_grid(n, args.seed)
    rng = np.random.default_rng(args.seed)
    passable = np.flatnonzero(np.isfinite(f.ravel()))
    cells = rng.choice(passable, args.sources, replace=False)
    src = np.column_stack([cells // n, cells % n]).astype(np.int64)
    dzx = np.abs(np.diff(z, axis=1)) / 100.0
    print(f"grid {n} x {n} = {n * n / 1e6:.1f} M cells, {args.sources} sources, {args.neighbours} neighbours; "
          f"DEM {z.min():.0f}..{z.max():.0f} m, slope (rook, along rows) median {np.median(dzx):.3f}, "
          f"p99 {np.quantile(dzx, 0.99):.3f}, max {dzx.max():.3f}; built in {time.perf_counter() - t0:.1f} s")
    del dzx
    kw = dict(cell_size=(100.0, 100.0), neighbours=args.neighbours)
    engines = {
        "isotropic": lambda: travel_time_grid(f, src, **kw),
        "tobler": lambda: travel_time_terrain(f, z, src, model="tobler", **kw),
        "rwalk": lambda: travel_time_terrain(f, z, src, model="rwalk", **kw),
    }
    best = {k: float("inf") for k in engines}
    cpu = {k: float("inf") for k in engines}
    reached = {}
    for rep in range(args.repeat):
        for name, fn in engines.items():
            t, c = time.perf_counter(), time.process_time()
            seconds, _ = fn()
            best[name] = min(best[name], time.perf_counter() - t)
            cpu[name] = min(cpu[name], time.process_time() - c)
            reached[name] = int(np.isfinite(seconds).sum())
            del seconds
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    for name in engines:
        print(f"{name:10s} wall {best[name]:7.2f} s (x{best[name] / best['isotropic']:.2f})   CPU {cpu[name]:7.2f} s "
              f"(x{cpu[name] / cpu['isotropic']:.2f})   reached {reached[name]:,} cells")
    # Sanity: on a flat DEM Tobler's factor is exactly 1 (bit-identical to the isotropic search).
    flat = np.zeros_like(z)
    a, _ = travel_time_grid(f, src, **kw)
    b, _ = travel_time_terrain(f, flat, src, **kw)
    print("flat DEM: terrain == isotropic:", bool(np.array_equal(a, b)))


if __name__ == "__main__":
    main()
