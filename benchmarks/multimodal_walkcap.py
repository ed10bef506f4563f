"""Benchmark: walk + ride with a maximum walking leg (the exact two-criteria engine, one thread) against walk + ride
without a cap (careshed.arrays.travel_time_multimodal both), on benchmarks/multimodal.py's walking surface and
street lattice.

Grid and ride graph as ``benchmarks/multimodal.py --walking`` (seeded, --seed; --size x --size cells of 100 m, a
lattice node every --spacing cells, boarding 2 minutes, --sources random passable cells). Timed in one run, best
of --repeat, wall and CPU seconds (CPU is the honest figure on a busy machine), with the labels settled per reached
cell, for no cap and each --cap (minutes). A cap longer than any leg must give the uncapped output bit for bit
(checked and printed). The 1-minute load average is printed before and after.

    nice python benchmarks/multimodal_walkcap.py [--size 2000] [--spacing 6] [--sources 100] [--cap 10 --cap 5]
"""
import os
import time

import numpy as np

from _common import parser
from multimodal import case


def main():
    ap = parser(__doc__, repeat=1, seed=42)
    ap.add_argument("--size", type=int, default=2000)
    ap.add_argument("--spacing", type=int, default=6)
    ap.add_argument("--sources", type=int, default=100)
    ap.add_argument("--cap", type=float, action="append", help="maximum walking leg, minutes (repeatable)")
    args = ap.parse_args()
    from careshed.arrays import travel_time_multimodal

    n = args.size
    f, src, edges, nodes = case(n, args.seed, args.sources, args.spacing, walking=True)
    print(f"load {os.getloadavg()[0]:.1f}; {n * n:,} cells, {len(nodes):,} ride nodes, {args.sources} sources")
    outputs = {}
    for cap in [None, 1e9] + [c * 60.0 for c in (args.cap or [10.0, 5.0])]:
        best = None
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            out = travel_time_multimodal(f, src, cell_size=(100.0, 100.0), ride_edges=edges, node_cells=nodes,
                                         board_minutes=2, max_walk_seconds=cap, return_stats=True)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            best = (wall, cpu, out) if best is None or cpu < best[1] else best
        wall, cpu, out = best
        st = out[3]
        outputs[cap] = out[:3]
        name = "no cap" if cap is None else ("cap 1e9 s" if cap == 1e9 else f"cap {cap / 60:g} min")
        print(f"{name:>12}: wall {wall:7.2f} s  CPU {cpu:7.2f} s  labels/reached cell "
              f"{st['cells_settled'] / max(st['cells_reached'], 1):.2f}  riding cells {st['cells_riding']:,}")
    same = all(np.array_equal(a, b) for a, b in zip(outputs[None], outputs[1e9]))
    print(f"cap 1e9 s == no cap bit for bit: {same}; load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
