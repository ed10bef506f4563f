"""Benchmark: the walk + ride search (careshed.arrays.travel_time_multimodal) against the single-mode grid search.

Grid (seeded, --seed): the friction grid of benchmarks/raster_search.py (--size x --size cells of 100 m); with
--walking, its road cells (0.02-0.05 s/m, 72-180 km/h) are walked at 0.5 s/m like the slowest background, so the
friction is a walking surface and the roads are only ridden (the intended use of walk + ride).
Ride graph: a street lattice over the grid, a node every --spacing cells in both directions, two-way arcs to the
four lattice neighbours at 40 km/h (9 s per 100 m), every node a transfer point at its cell; --sources random
passable cells; boarding 2 minutes.

Timed in one run, alternating, best of --repeat (wall and CPU seconds):
  * careshed.arrays.travel_time_grid (the tiled, threaded single-mode engine),
  * travel_time_multimodal with walking only (the combined engine's own cost on the same grid),
  * travel_time_multimodal with the ride graph.
Issue 14's target is multimodal <= 2x the single-mode grid search at 36 M cells + 1 M nodes (--size 6000
--spacing 6). The walking-only run must give the grid engine's seconds bit for bit (checked and printed).

    nice python benchmarks/multimodal.py [--size 6000] [--spacing 6] [--sources 100] [--repeat 3] [--seed 42]
"""
import os
import time

import numpy as np

from _common import parser
from raster_search import friction_grid


def lattice(n, spacing):
    """(tails, heads, seconds), node (row, col): a street lattice every `spacing` cells, 40 km/h, two-way."""
    k = np.arange(spacing // 2, n, spacing)
    m = len(k)
    rr, cc = np.meshgrid(k, k, indexing="ij")
    ids = np.arange(m * m).reshape(m, m)
    step = spacing * 100.0 / (40 / 3.6)
    right = np.column_stack([ids[:, :-1].ravel(), ids[:, 1:].ravel()])
    down = np.column_stack([ids[:-1, :].ravel(), ids[1:, :].ravel()])
    pairs = np.concatenate([right, down])
    tails = np.concatenate([pairs[:, 0], pairs[:, 1]])
    heads = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return (tails, heads, np.full(len(tails), step)), np.column_stack([rr.ravel(), cc.ravel()])


def case(n, seed, sources, spacing, walking):
    """The benchmark's input: the raster benchmark's friction grid (walking: its road cells slowed to 0.5 s/m), `sources`
    seeded passable cells as (row, col), and the ride lattice every `spacing` cells."""
    f = friction_grid(n, seed)
    if walking:
        f[f < 0.5] = 0.5
    rng = np.random.default_rng(seed)
    passable = np.flatnonzero(np.isfinite(f.ravel()))
    cells = rng.choice(passable, sources, replace=False)
    src = np.column_stack([cells // n, cells % n]).astype(np.int64)
    edges, nodes = lattice(n, spacing)
    return f, src, edges, nodes


def main():
    ap = parser(__doc__, repeat=3, seed=42)
    ap.add_argument("--size", type=int, default=6000)
    ap.add_argument("--spacing", type=int, default=6)
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--walking", action="store_true", help="walk the friction's road cells at 0.5 s/m")
    ap.add_argument("--save", help="write the walk + ride outputs (seconds, nearest, mode) to this .npz")
    ap.add_argument("--compare", help="compare the walk + ride outputs with this .npz (from --save): equal bit for bit?")
    args = ap.parse_args()
    from careshed.arrays import travel_time_grid, travel_time_multimodal

    n = args.size
    f, src, edges, nodes = case(n, args.seed, args.sources, args.spacing, walking=args.walking)
    print(f"grid {n} x {n} = {n * n / 1e6:.1f} M cells{' (walking surface)' if args.walking else ''}, ride graph {len(nodes):,} nodes / {len(edges[0]):,} arcs, "
          f"{args.sources} sources")
    cs = (100.0, 100.0)
    stats = {}

    full = {}

    def multimodal(name, **kw):
        secs, near, mode, stats[name] = travel_time_multimodal(f, src, cell_size=cs, return_stats=True, **kw)
        full[name] = (secs, near, mode)
        return secs

    engines = {
        "grid (single mode)": lambda: travel_time_grid(f, src, cell_size=cs)[0],
        "multimodal, walk only": lambda: multimodal("multimodal, walk only"),
        "multimodal, walk + ride": lambda: multimodal("multimodal, walk + ride", ride_edges=edges, node_cells=nodes,
                                                      board_minutes=2),
    }
    print(f"load average at the start: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    wall = {k: float("inf") for k in engines}
    cpu = {k: float("inf") for k in engines}
    out = {}
    for _ in range(args.repeat):
        for name, fn in engines.items():
            t, c = time.perf_counter(), time.process_time()
            out[name] = fn()
            wall[name] = min(wall[name], time.perf_counter() - t)
            cpu[name] = min(cpu[name], time.process_time() - c)
    print(f"load average at the end: {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    base = "grid (single mode)"
    for name in engines:
        print(f"{name:26s} wall {wall[name]:7.2f} s (x{wall[name] / wall[base]:.1f})   CPU {cpu[name]:7.2f} s "
              f"(x{cpu[name] / cpu[base]:.1f})")
    for name, st in stats.items():
        print(f"{name}: {st}")
    walk = out["multimodal, walk only"]
    print("walk-only multimodal == grid engine, bit for bit:", bool(np.array_equal(walk.astype(np.float32), out[base])))
    print("ride helps (cells faster than walking):", int((out["multimodal, walk + ride"] < walk).sum()))
    secs, near, mode = full["multimodal, walk + ride"]
    if args.save:
        np.savez(args.save, seconds=secs, nearest=near, mode=mode)
    if args.compare:
        ref = np.load(args.compare)
        same = all(np.array_equal(a, ref[k]) for k, a in (("seconds", secs), ("nearest", near), ("mode", mode)))
        print(f"walk + ride outputs == {args.compare}, bit for bit:", same)


if __name__ == "__main__":
    main()
