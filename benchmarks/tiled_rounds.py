"""How the tiled search's rounds, tile searches and traffic grow with tile size and the friction's pattern.

Small cases (a 1024 x 1024 grid, 20 sources) on a LocalCluster of threads in this process, so every task can be
counted: rounds, tile searches (tasks that searched), and the bytes each task moves — border frames in and out
(what travels over the network between client and workers), the friction window it reads, and its labels read
and written in the scratch folder (shared storage on a cluster). Patterns: uniform friction; random friction; a
fast road grid every 128 cells over random friction; a river of barrier across the grid with one bridge (paths
detour through one tile). Every run is checked against the in-memory engine (equal times and nearest facility).
Prints a Markdown table (docs/scale.md, "Work, rounds and traffic against tile size"); wall times are from a
shared, busy machine and only indicative.

    .venv/bin/python benchmarks/tiled_rounds.py [--size 1024] [--tiles 64,128,256,512]
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np


def patterns(n: int, rng) -> dict:
    base = rng.uniform(0.5, 1.5, (n, n)).astype(np.float32)
    road = base.copy()
    road[::128, :] = 0.03
    road[:, ::128] = 0.03
    river = base.copy()
    river[n // 2 - 2:n // 2 + 2, :] = np.nan
    river[n // 2 - 2:n // 2 + 2, n // 8] = 0.6   # one bridge near the west edge
    return {"uniform": np.full((n, n), 0.72, np.float32), "random": base, "road grid": road,
            "river, one bridge": river}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--tiles", default="64,128,256,512")
    ap.add_argument("--sources", type=int, default=20)
    args = ap.parse_args()
    import distributed
    import careshed.tiled.search as S
    from careshed.arrays import travel_time_grid

    rng = np.random.default_rng(12)
    n = args.size
    src = np.stack([rng.integers(0, n, args.sources), rng.integers(0, n, args.sources)], 1)
    # Dask pickles the task function by value (even to in-process workers): keep the counts on the module.
    S.bench_traffic = traffic = []
    S.bench_plain_task = S._tile_task

    def counted_task(job, incoming, round_no):
        import careshed.tiled.search as M
        frames, stats = M.bench_plain_task(job, incoming, round_no)
        wr0, wr1, wc0, wc1 = job.window
        cells = (wr1 - wr0) * (wc1 - wc0)
        M.bench_traffic.append({"frames_in": sum(lab.nbytes for _, lab in incoming),
                                "frames_out": sum(lab.nbytes for _, lab in frames),
                                "friction": cells * 4 if stats["friction_read"] else 0,
                                # packed labels, 8 bytes a cell, read or written only when they leave memory
                                "labels": cells * 8 * ((stats["labels_from"] == "disk") + (stats["labels_to"] == "disk")),
                                "settled": stats["cells_settled"]})
        return frames, stats

    S._tile_task = counted_task
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    print("| friction | tile | tiles | rounds | tile searches | cells settled / grid | frames in+out (client <-> "
          "workers) | friction read | labels read+written (scratch) | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cl, distributed.Client(cl) as client:
        for name, f in patterns(n, rng).items():
            ref_s, ref_n = travel_time_grid(f, src, cell_size=(100.0, 100.0))
            for tile in (int(t) for t in args.tiles.split(",")):
                traffic.clear()
                t0 = time.perf_counter()
                r = S.travel_time_tiled(f, src, out_seconds="/tmp/careshed_rounds_s.tif",
                                        out_nearest="/tmp/careshed_rounds_n.tif", tile_size=tile,
                                        cell_size=(100.0, 100.0), client=client)
                wall = time.perf_counter() - t0
                s, near = r.read()
                assert np.array_equal(s.view(np.int32), ref_s.view(np.int32)) and np.array_equal(near, ref_n)
                mb = {k: sum(x[k] for x in traffic) / 1e6 for k in ("frames_in", "frames_out", "friction", "labels")}
                print(f"| {name} | {tile} | {r.tiles} | {r.rounds} | {r.tile_searches} | "
                      f"{sum(x['settled'] for x in traffic) / (n * n):.2f} | "
                      f"{mb['frames_in'] + mb['frames_out']:.1f} MB | {mb['friction']:.0f} MB | "
                      f"{mb['labels']:.0f} MB | {wall:.1f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
