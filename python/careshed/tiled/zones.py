"""Coverage by zone, people within reach and catchment populations, tile by tile, summed exactly across tiles.

:func:`coverage_tiled` reads the travel-time outputs of :func:`careshed.tiled.travel_time_tiled` together with a
population raster, a zone-index raster and optionally a class raster (urban/rural...) on the same grid, window by
window as Dask tasks, and sums per zone and per facility. Sums are **exact**: every population value is split
into integers (:class:`ExactSums`), so the per-tile partial sums add up without rounding in any order, and each
total is the real sum of the cells' values rounded once to float64 — the same number whatever the tile size or
the order the tiles finish in, and equal to ``math.fsum`` over the whole grid. (The in-memory analyses
(careshed.arrays.coverage_by_zone) add in floating point, so their last bits may differ.)

Definitions as in careshed.arrays.coverage: covered = travel time <= the threshold of the cell's class
(inclusive); unreachable = no time; a cell counts in the zone of its index (-1 or no data: in no zone).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import InputError
from .rasters import WindowedRaster, open_windowed
from .search import TileLayout, dask_client

__all__ = ["ExactSums", "ZoneCoverage", "coverage_tiled", "tile_coverage_sums"]


class ExactSums:
    """Exact sums of float64 values into ``n`` bins: ``ints[k] * 2**exp`` is the exact sum of bin k."""

    def __init__(self, n: int, ints=None, exp: int = 0):
        self.n = int(n)
        self.ints = list(ints) if ints is not None else [0] * self.n
        self.exp = int(exp)

    @classmethod
    def of(cls, values, bins, n: int) -> "ExactSums":
        """Sums of ``values`` (float) by ``bins`` (int, values < 0 or >= n are left out); NaN values count 0."""
        v = np.asarray(values, dtype=np.float64).ravel()
        k = np.asarray(bins).ravel()
        ok = (k >= 0) & (k < n) & np.isfinite(v) & (v != 0)
        v, k = v[ok], k[ok].astype(np.int64)
        if v.size == 0:
            return cls(n)
        m, e = np.frexp(v)                       # v = m * 2**e, 0.5 <= |m| < 1: m * 2**53 is an exact integer
        mi = (m * 2.0 ** 53).astype(np.int64)
        hi = mi >> 26                            # |hi| < 2**27, 0 <= lo < 2**26: bin sums of < 2**26 cells
        lo = mi - (hi << 26)                     # stay below 2**53, exact in float64
        exps, ei = np.unique(e, return_inverse=True)
        key = k * len(exps) + ei
        parts = []
        out = []
        for w in (hi, lo):
            for start in range(0, v.size, 1 << 26):
                sl = slice(start, start + (1 << 26))
                parts.append(np.bincount(key[sl], weights=w[sl].astype(np.float64), minlength=n * len(exps)))
        half = len(parts) // 2
        hs = sum(parts[:half]).reshape(n, len(exps))
        ls = sum(parts[half:]).reshape(n, len(exps))
        base = int(exps.min()) - 53
        shifts = [int(x) - 53 - base for x in exps]
        for b in range(n):
            total = 0
            for j, s in enumerate(shifts):
                h, lw = int(hs[b, j]), int(ls[b, j])
                if h or lw:
                    total += ((h << 26) + lw) << s
            out.append(total)
        return cls(n, out, base)

    def __add__(self, other: "ExactSums") -> "ExactSums":
        if other.n != self.n:
            raise InputError(f"cannot add exact sums of {self.n} and {other.n} bins")
        e = min(self.exp, other.exp)
        a, b = self.exp - e, other.exp - e
        return ExactSums(self.n, [(x << a) + (y << b) for x, y in zip(self.ints, other.ints)], e)

    def values(self) -> np.ndarray:
        """The sums as float64, each the exact sum rounded once (Python's int division is correctly rounded)."""
        if self.exp >= 0:
            return np.array([float(x << self.exp) for x in self.ints], dtype=np.float64)
        d = 1 << -self.exp
        return np.array([x / d for x in self.ints], dtype=np.float64)


@dataclass
class ZoneCoverage:
    """Tables of a tiled coverage run: ``zones`` (one row per zone, then ``region``) and ``facilities``."""

    zones: pd.DataFrame
    facilities: pd.DataFrame


def tile_coverage_sums(seconds, nearest, population, zones, classes, thresholds_s, within_s, n_zones: int,
                       n_facilities: int) -> dict:
    """The exact per-zone and per-facility sums of one tile (arrays of one window; see :func:`coverage_tiled`)."""
    pop = np.where(np.isfinite(population), population, 0.0)
    z = np.where(np.isfinite(zones), zones, -1).astype(np.int64)
    sec = np.asarray(seconds, dtype=np.float64)
    reached = np.isfinite(sec)
    if classes is None:
        thr = np.full(sec.shape, thresholds_s[0])
    else:
        c = np.where(np.isfinite(classes), classes, -1).astype(np.int64)
        table = np.append(np.asarray(thresholds_s, dtype=np.float64), -np.inf)  # no class: never covered
        thr = table[np.where((c >= 0) & (c < len(thresholds_s)), c, len(thresholds_s))]
    covered = reached & (sec <= thr)
    near = np.where(np.isfinite(nearest), nearest, -1).astype(np.int64)
    out = {"population": ExactSums.of(pop, z, n_zones),
           "covered": ExactSums.of(np.where(covered, pop, 0.0), z, n_zones),
           "unreachable": ExactSums.of(np.where(reached, 0.0, pop), z, n_zones),
           "facility_population": ExactSums.of(pop, near, n_facilities),
           "facility_covered": ExactSums.of(np.where(covered, pop, 0.0), near, n_facilities)}
    for t in within_s:
        out[f"within_{t:g}"] = ExactSums.of(np.where(reached & (sec <= t), pop, 0.0), z, n_zones)
    return out


def _coverage_task(rasters: dict, rect, thresholds_s, within_s, n_zones, n_facilities) -> dict:
    read = {name: (r.read(*rect) if r is not None else None) for name, r in rasters.items()}
    return tile_coverage_sums(read["seconds"], read["nearest"], read["population"], read["zones"], read["classes"],
                              thresholds_s, within_s, n_zones, n_facilities)


def coverage_tiled(seconds, nearest, population, zones, thresholds_minutes, *, classes=None, zone_names=None,
                   n_facilities: int | None = None, beds=None, within_minutes=(), tile_size: int = 4096, client=None,
                   scheduler: str | None = None, workers: int | None = None, memory_limit="auto") -> ZoneCoverage:
    """Coverage by zone and catchment populations from rasters on one grid, tile by tile on Dask.

    seconds, nearest: the outputs of :func:`careshed.tiled.travel_time_tiled` (paths). population: people per
    cell (path). zones: zone index per cell (path; 0..Z-1, -1 or no data outside). classes: class index per cell
    (path) with ``thresholds_minutes`` one per class, or None with one threshold. within_minutes: extra
    thresholds (minutes, every class) reported as ``within_<m>_min`` population columns. beds: one number per
    facility for ``beds_per_1000`` of its catchment (people whose nearest facility it is).
    Returns :class:`ZoneCoverage`; every sum is exact (see the module comment).
    """
    rasters: dict[str, WindowedRaster | None] = {
        "seconds": open_windowed(seconds), "nearest": open_windowed(nearest), "population": open_windowed(population),
        "zones": open_windowed(zones), "classes": open_windowed(classes) if classes is not None else None}
    shape = rasters["seconds"].shape
    for name, r in rasters.items():
        if r is not None and r.shape != shape:
            raise InputError(f"{name} raster '{r.path}' is {r.shape[0]} x {r.shape[1]} cells, the travel times "
                             f"{shape[0]} x {shape[1]}; give rasters on the same grid")
    thr = np.atleast_1d(np.asarray(thresholds_minutes, dtype=np.float64))
    if thr.size == 0 or not np.all(np.isfinite(thr) & (thr >= 0)):
        raise InputError(f"thresholds_minutes must be minutes >= 0 (one per class); got {thresholds_minutes!r}")
    within = [float(m) for m in within_minutes]
    layout = TileLayout(shape[0], shape[1], int(tile_size), 0)
    with dask_client(client=client, scheduler=scheduler, workers=workers, memory_limit=memory_limit) as dc:
        # Sizes first (the largest zone and facility index), then the sums: two passes over small windows.
        if zone_names is None or n_facilities is None:
            futs = [dc.submit(_max_task, rasters["zones"], rasters["nearest"], layout.own(k), pure=False)
                    for k in range(len(layout))]
            mx = dc.gather(futs)
            n_z = max(m[0] for m in mx) + 1 if zone_names is None else len(zone_names)
            n_f = max(m[1] for m in mx) + 1 if n_facilities is None else int(n_facilities)
        else:
            n_z, n_f = len(zone_names), int(n_facilities)
        futs = [dc.submit(_coverage_task, rasters, layout.own(k), list(thr * 60.0), [m * 60.0 for m in within],
                          n_z, n_f, pure=False) for k in range(len(layout))]
        total = None
        for part in dc.gather(futs):
            total = part if total is None else {key: total[key] + part[key] for key in total}
    names = list(zone_names) if zone_names is not None else list(range(n_z))
    z = {"zone": names + ["region"]}
    for key, col in [("population", "population"), ("covered", "covered_population"),
                     ("unreachable", "unreachable_population")] + [(f"within_{m * 60.0:g}", f"within_{m:g}_min")
                                                                   for m in within]:
        per_zone = total[key]
        region = ExactSums(1, [sum(per_zone.ints)], per_zone.exp).values()[0]  # the zones' exact total
        vals = per_zone.values()
        z[col] = list(vals) + [region]
    zt = pd.DataFrame(z)
    with np.errstate(invalid="ignore", divide="ignore"):
        zt["covered_share"] = zt["covered_population"] / zt["population"]
    ft = pd.DataFrame({"facility": np.arange(n_f), "population": total["facility_population"].values(),
                       "covered_population": total["facility_covered"].values()})
    if beds is not None:
        b = np.asarray(beds, dtype=np.float64)
        if b.shape != (n_f,):
            raise InputError(f"beds must have one number per facility ({n_f}); got shape {b.shape}")
        ft["beds"] = b
        with np.errstate(invalid="ignore", divide="ignore"):
            ft["beds_per_1000"] = b / ft["population"] * 1000.0
    return ZoneCoverage(zt, ft)


def _max_task(zones: WindowedRaster, nearest: WindowedRaster, rect) -> tuple[int, int]:
    z = zones.read(*rect)
    n = nearest.read(*rect)
    zmax = int(np.nanmax(z)) if np.isfinite(z).any() else -1
    nmax = int(np.nanmax(n)) if np.isfinite(n).any() else -1
    return zmax, nmax
