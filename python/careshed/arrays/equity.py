"""Equity measures on people-weighted values (NumPy in, NumPy out): who is left behind, and how unequally.

Every function takes the values of the people (e.g. minutes to the nearest facility, one value per grid cell)
and their weights (people per cell); a weight may be fractional. Formulas and sources:

* Lorenz curve and Gini (Gini 1912; the weighted discrete form of e.g. Lerman & Yitzhaki 1989):
  sort by value, p_k = cumulative share of people, L_k = cumulative share of the value;
  G = 1 - sum_k (p_k - p_{k-1}) (L_k + L_{k-1}). It equals the mean absolute difference over all pairs of
  people divided by twice the mean, sum_ij w_i w_j |x_i - x_j| / (2 W^2 mu) (tests check both).
* Theil T index and its exact split into groups (Theil 1967; Shorrocks 1980):
  T = (1/W) sum_i w_i (x_i/mu) ln(x_i/mu) (0 ln 0 = 0); with groups g of people W_g, mean mu_g, share of the
  total s_g = W_g mu_g / (W mu): T = sum_g s_g T_g (within) + sum_g s_g ln(mu_g/mu) (between).
* Concentration index (Kakwani, Wagstaff & van Doorslaer 1997): CI = 2 cov_w(x, R) / mu, R the people's
  fractional rank by a living standard (income, or minus deprivation) from poorest (0) to richest (1); tied
  standards share the mid-point rank of their group. CI < 0: the value (e.g. travel time) is concentrated
  among the poor.
* Shares beyond thresholds: the share of people whose value is > t (inclusive thresholds, DESIGN.md: within
  t minutes = value <= t); infinite values (unreachable) are beyond every threshold.

Inequality indices need finite, non-negative values: people who reach no facility (inf) are left out of
Gini/Theil/Lorenz and counted by the threshold shares instead (the caller reports how many).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError

__all__ = ["lorenz", "gini", "theil", "TheilSplit", "concentration_index", "shares_beyond", "weighted_quantile",
           "group_samples"]


def _checked(values, weights, what: str = "values") -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(values, dtype=np.float64).ravel()
    w = np.asarray(weights, dtype=np.float64).ravel()
    if x.shape != w.shape:
        raise InputError(f"{what} and weights differ in length ({x.size} vs {w.size})")
    if np.any(~np.isfinite(w)) or np.any(w < 0):
        raise InputError("weights must be finite and >= 0 (people per cell)")
    return x, w


def _finite_positive_mean(x, w, what) -> tuple[np.ndarray, np.ndarray, float]:
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.size == 0:
        raise InputError(f"{what}: no people (all weights are zero)")
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise InputError(f"{what}: values must be finite and >= 0 (leave unreachable people out first)")
    mu = float(np.sum(w * x) / np.sum(w))
    if mu <= 0:
        raise InputError(f"{what}: the mean value is 0; the index is undefined")
    return x, w, mu


def lorenz(values, weights) -> tuple[np.ndarray, np.ndarray]:
    """(p, L): the Lorenz curve, cumulative share of people (p) against cumulative share of the value (L),
    people sorted by value ascending; both start at 0 and end at 1."""
    x, w = _checked(values, weights)
    x, w, _ = _finite_positive_mean(x, w, "lorenz")
    order = np.argsort(x, kind="stable")
    x, w = x[order], w[order]
    p = np.concatenate([[0.0], np.cumsum(w)]) / np.sum(w)
    L = np.concatenate([[0.0], np.cumsum(w * x)]) / np.sum(w * x)
    return p, L


def gini(values, weights) -> float:
    """Weighted Gini coefficient (0 = everybody equal, towards 1 = concentrated) of finite values >= 0."""
    p, L = lorenz(values, weights)
    return float(1.0 - np.sum(np.diff(p) * (L[1:] + L[:-1])))


@dataclass(frozen=True)
class TheilSplit:
    """Theil T index and its exact decomposition: ``total == within + between``; per group its people,
    mean, share of the value total and own index (``groups`` order)."""
    total: float
    within: float
    between: float
    groups: list
    people: np.ndarray
    mean: np.ndarray
    value_share: np.ndarray
    index: np.ndarray


def _theil_of(x, w, mu) -> float:
    r = x / mu
    terms = np.where(r > 0, r * np.log(np.where(r > 0, r, 1.0)), 0.0)
    return float(np.sum(w * terms) / np.sum(w))


def theil(values, weights, groups=None) -> TheilSplit:
    """Theil T index of finite values >= 0, split into within- and between-group parts by `groups` (one label per
    value, e.g. the zone of each cell or urban/rural); without groups, one group."""
    x, w = _checked(values, weights)
    g = np.zeros(x.size, dtype=np.int64) if groups is None else np.asarray(groups).ravel()
    if g.shape != x.shape:
        raise InputError(f"groups and values differ in length ({g.size} vs {x.size})")
    keep = w > 0
    x, w, g = x[keep], w[keep], g[keep]
    x, w, mu = _finite_positive_mean(x, w, "theil")
    labels, inv = np.unique(g, return_inverse=True)
    people = np.bincount(inv, weights=w)
    sums = np.bincount(inv, weights=w * x)
    means = sums / people
    share = sums / np.sum(sums)
    own = np.array([_theil_of(x[inv == k], w[inv == k], means[k]) if means[k] > 0 else 0.0
                    for k in range(labels.size)])
    within = float(np.sum(share * own))
    between = float(np.sum(np.where(share > 0, share * np.log(np.where(means > 0, means, 1.0) / mu), 0.0)))
    return TheilSplit(total=_theil_of(x, w, mu), within=within, between=between, groups=labels.tolist(),
                      people=people, mean=means, value_share=share, index=own)


def concentration_index(values, weights, standard) -> float:
    """Concentration index of the values against a living standard (higher = better off; pass minus a
    deprivation score). Negative: the values are concentrated among the worse off."""
    x, w = _checked(values, weights)
    s = np.asarray(standard, dtype=np.float64).ravel()
    if s.shape != x.shape:
        raise InputError(f"standard and values differ in length ({s.size} vs {x.size})")
    if np.any(~np.isfinite(s)):
        raise InputError("standard: every person needs a finite living-standard value")
    keep = w > 0
    x, w, s = x[keep], w[keep], s[keep]
    x, w, mu = _finite_positive_mean(x, w, "concentration_index")
    levels, inv = np.unique(s, return_inverse=True)
    level_w = np.bincount(inv, weights=w)
    W = float(np.sum(w))
    before = np.concatenate([[0.0], np.cumsum(level_w)[:-1]])
    rank = ((before + level_w / 2.0) / W)[inv]
    return float(2.0 * np.sum(w * (x - mu) * (rank - 0.5)) / (W * mu))


def shares_beyond(values, weights, thresholds) -> np.ndarray:
    """Share of the people (0..1) whose value is > each threshold (inf counts as beyond); NaN with no people."""
    x, w = _checked(values, weights)
    total = float(np.sum(w))
    t = np.asarray(thresholds, dtype=np.float64).ravel()
    if total <= 0:
        return np.full(t.size, np.nan)
    return np.array([float(np.sum(w[~(x <= ti)])) / total for ti in t])


def weighted_quantile(values, weights, q) -> np.ndarray:
    """The smallest value v with at least q of the people at or below v (q in 0..1; inverse of the weighted
    distribution function, no interpolation); inf when those people are unreachable; NaN with no people."""
    x, w = _checked(values, weights)
    keep = w > 0
    x, w = x[keep], w[keep]
    qs = np.atleast_1d(np.asarray(q, dtype=np.float64))
    if x.size == 0:
        return np.full(qs.size, np.nan)
    order = np.argsort(x, kind="stable")
    x, c = x[order], np.cumsum(w[order])
    c /= c[-1]
    idx = np.searchsorted(c, qs - 1e-12, side="left")
    return x[np.minimum(idx, x.size - 1)]


def group_samples(values, people, zone, split_cell=None, split_zone=None, split_fraction=None):
    """(values, people, zone index) of every person-carrying piece of a grid: cells wholly in one zone
    (``zone >= 0``) and, for cells split between zones (``zone == -2``, careshed.ZoneRaster with
    ``rule="fraction"``), one piece per (cell, zone) with its fraction of the cell's people. Cells in no zone
    are left out. Arrays are the grid's shape (values, people, zone) and the ZoneRaster's split lists."""
    v = np.asarray(values).ravel()
    p = np.asarray(people, dtype=np.float64).ravel()
    z = np.asarray(zone).ravel()
    if not (v.size == p.size == z.size):
        raise InputError(f"values, people and zone differ in size ({v.size}, {p.size}, {z.size})")
    whole = z >= 0
    out_v, out_p, out_z = [v[whole]], [p[whole]], [z[whole].astype(np.int64)]
    if split_cell is not None and len(split_cell):
        cells = np.asarray(split_cell, dtype=np.int64)
        out_v.append(v[cells])
        out_p.append(p[cells] * np.asarray(split_fraction, dtype=np.float64))
        out_z.append(np.asarray(split_zone, dtype=np.int64))
    return np.concatenate(out_v), np.concatenate(out_p), np.concatenate(out_z)
