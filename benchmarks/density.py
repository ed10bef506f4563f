"""Benchmark: placing facility points in zones, careshed vs shapely.vectorized.contains.

Input: the six Quzhou county polygons (data/quzhou, reprojected to UTM 50N) and --points random points
drawn uniformly over the counties' bounding box (seeded, --seed), about 60 % of them inside a county.
Both libraries answer the SAME question on the SAME arrays in this one run:

* careshed: ``_core.assign_points_to_zones`` (GEOS prepared geometries in C++, GIL released);
* peer: ``shapely.vectorized.contains(polygon, x, y)`` once per county (shapely 1.8's Cython loop over
  a prepared geometry), taking the first county that contains each point.

(geopandas.sjoin would need rtree or pygeos, which Debian 12's geopandas stack here does not have.)
Results are checked to agree on every point (random points on a boundary have probability 0, so
careshed's "covers" and shapely's "contains" give the same answer). Also timed: the whole
``careshed.resource_density`` call (reprojection, assignment, C++ arithmetic) on the same points.

    python benchmarks/density.py [--points 1000000] [--repeat 3] [--seed 7]
"""
import numpy as np
from _common import ROOT, best_of, parser


def main():
    ap = parser(__doc__, repeat=3, seed=7)
    ap.add_argument("--points", type=int, default=1_000_000)
    a = ap.parse_args()

    import geopandas as gpd
    import pandas as pd
    from shapely import vectorized
    from shapely import wkb

    import careshed
    from careshed import _core

    counties = careshed.read_vector(ROOT / "data" / "quzhou" / "counties.geojson").to_crs("EPSG:32650")
    zone_wkb = [wkb.dumps(g) for g in counties.geometry]
    x0, y0, x1, y1 = counties.total_bounds
    rng = np.random.default_rng(a.seed)
    x = rng.uniform(x0, x1, a.points)
    y = rng.uniform(y0, y1, a.points)
    print(f"points: {a.points:,} (seed {a.seed}), zones: {len(counties)} Quzhou counties, UTM 50N")

    t_cs, got = best_of(a.repeat, lambda: np.asarray(_core.assign_points_to_zones(zone_wkb, x, y)))

    def peer():
        out = np.full(a.points, -1, dtype=np.int64)
        for i, geom in enumerate(counties.geometry):
            inside = vectorized.contains(geom, x, y)
            out[(out < 0) & inside] = i
        return out

    t_peer, ref = best_of(a.repeat, peer)
    assert np.array_equal(got, ref), f"{int((got != ref).sum())} points differ"
    print(f"assign points to zones: careshed {t_cs:.3f} s, shapely.vectorized {t_peer:.3f} s, "
          f"ratio peer/careshed = {t_peer / t_cs:.2f}x  (agree on all {a.points:,} points; "
          f"{int((got >= 0).sum()):,} inside)")

    pts = gpd.GeoDataFrame({"beds": np.ones(a.points)}, geometry=gpd.points_from_xy(x, y), crs="EPSG:32650")
    zones = counties

    def full():
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", careshed.UnassignedFacilitiesWarning)
            return careshed.resource_density(zones, pts, zone_id="adcode", population="pop_census2020",
                                             resources=["beds"], targets={"beds": 7.8})

    t_full, table = best_of(1, full)
    expected = pd.Series(ref[ref >= 0]).value_counts().reindex(range(len(counties)), fill_value=0)
    assert table["beds"].iloc[:-1].tolist() == expected.tolist()
    print(f"careshed.resource_density end to end (GeoDataFrame of {a.points:,} points): {t_full:.3f} s")


if __name__ == "__main__":
    main()
