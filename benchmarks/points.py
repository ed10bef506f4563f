"""Benchmark: point coordinates of a facility table, careshed.io.points_xy vs shapely's per-point .x / .y.

Input: --points random points (seeded, --seed) as a GeoSeries, the form every facility table arrives in. Both
read the SAME geometries in this one run and must return identical coordinates:

* careshed: ``careshed.io.points_xy`` — shapely's public API only: its vectorised functions on shapely >= 2;
  on shapely 1.8 (Debian 12) the table becomes one MultiPoint whose WKB numpy reads at once;
* peer: ``[g.x for g in geoms]``, ``[g.y for g in geoms]`` — the public per-point way.

(careshed <= 0.1 read coordinates through shapely 1.8's private ``shapely.geos.lgeos`` C handle; issue 9 removed
that: the private path is not a peer a user could call.)

    python benchmarks/points.py [--points 100000] [--repeat 3] [--seed 5]
"""
import numpy as np
from _common import best_of, parser


def main():
    ap = parser(__doc__, repeat=3, seed=5)
    ap.add_argument("--points", type=int, default=100_000)
    a = ap.parse_args()

    import geopandas as gpd
    import shapely

    from careshed.io import points_xy

    rng = np.random.default_rng(a.seed)
    geoms = gpd.GeoSeries(gpd.points_from_xy(rng.uniform(0, 1e5, a.points), rng.uniform(0, 1e5, a.points)))
    t_cs, (x, y, kind) = best_of(a.repeat, lambda: points_xy(geoms))

    def peer():
        vals = list(geoms)
        return np.array([g.x for g in vals]), np.array([g.y for g in vals])

    t_peer, (px, py) = best_of(a.repeat, peer)
    assert np.array_equal(x, px) and np.array_equal(y, py) and (kind == 0).all()
    print(f"{a.points:,} points (shapely {shapely.__version__}): careshed points_xy {t_cs:.3f} s, per-point .x/.y "
          f"{t_peer:.3f} s, ratio peer/careshed = {t_peer / t_cs:.2f}x (identical coordinates)")


if __name__ == "__main__":
    main()
