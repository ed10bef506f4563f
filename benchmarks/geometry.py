"""Benchmark: point-in-polygon at scale, careshed vs shapely (1.8, Debian 12) with a bounding-box prefilter.

Input (generated, seeded): a 32 x 32 jittered grid of quadrilateral zones (1,024 zones sharing edges and
vertices, 20 km cells, with ~20 extra vertices per edge so each zone has ~84 vertices like real boundaries)
in a metric CRS, and --points uniform random points over it. Both answer the SAME question on the SAME
arrays in this one run:

* careshed: ``_core.assign_points_to_zones`` (GEOS prepared geometries, grid index over zone boxes,
  GIL released, OpenMP threads);
* peer: for each zone, numpy selects the points inside its bounding box, then
  ``shapely.vectorized.contains`` tests them (prepared geometry in Cython); first zone wins.

Random points fall on a shared edge with probability 0, so careshed's "covers" and shapely's "contains"
agree; the script asserts they do on every point.

    python benchmarks/geometry.py [--points 1000000] [--grid 32] [--repeat 1] [--seed 11]
"""
import numpy as np
from _common import best_of, parser


def make_zones(grid, rng, cell=20_000.0, per_edge=20):
    from shapely.geometry import Polygon

    jit = rng.uniform(-0.25, 0.25, size=(grid + 1, grid + 1, 2)) * cell
    jit[0, :, :] = jit[-1, :, :] = jit[:, 0, :] = jit[:, -1, :] = 0.0
    ii, jj = np.meshgrid(np.arange(grid + 1), np.arange(grid + 1), indexing="ij")
    v = np.stack([ii * cell, jj * cell], axis=-1) + jit

    def edge(a, b):  # densified edge a -> b (without b): the same points for both zones sharing it
        t = np.linspace(0.0, 1.0, per_edge + 1)[:-1, None]
        return a + t * (b - a)

    zones = []
    for i in range(grid):
        for j in range(grid):
            c = [v[i, j], v[i + 1, j], v[i + 1, j + 1], v[i, j + 1]]
            ring = np.concatenate([edge(c[k], c[(k + 1) % 4]) for k in range(4)])
            zones.append(Polygon(ring))
    return zones, grid * cell


def main():
    ap = parser(__doc__, repeat=1, seed=11)
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--grid", type=int, default=32)
    a = ap.parse_args()

    from shapely import vectorized, wkb

    from careshed import _core

    rng = np.random.default_rng(a.seed)
    zones, side = make_zones(a.grid, rng)
    zone_wkb = [wkb.dumps(z) for z in zones]
    x = rng.uniform(-0.05 * side, 1.05 * side, a.points)
    y = rng.uniform(-0.05 * side, 1.05 * side, a.points)
    print(f"points: {a.points:,}, zones: {len(zones):,} ({a.grid}x{a.grid} jittered grid, "
          f"{len(zones[0].exterior.coords) - 1} vertices each), seed {a.seed}")

    t_cs, got = best_of(a.repeat, lambda: np.asarray(_core.assign_points_to_zones(zone_wkb, x, y)))

    def peer():
        out = np.full(a.points, -1, dtype=np.int64)
        for k, z in enumerate(zones):
            x0, y0, x1, y1 = z.bounds
            idx = np.nonzero((out < 0) & (x >= x0) & (x <= x1) & (y >= y0) & (y <= y1))[0]
            if idx.size:
                inside = vectorized.contains(z, x[idx], y[idx])
                out[idx[inside]] = k
        return out

    t_peer, ref = best_of(a.repeat, peer)
    assert np.array_equal(got, ref), f"{int((got != ref).sum())} points differ"
    print(f"assign points to zones: careshed {t_cs:.3f} s, shapely bbox+vectorized {t_peer:.3f} s, "
          f"ratio peer/careshed = {t_peer / t_cs:.1f}x (agree on all {a.points:,} points; "
          f"{int((got >= 0).sum()):,} inside)")


if __name__ == "__main__":
    main()
