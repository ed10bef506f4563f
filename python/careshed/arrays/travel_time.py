"""Travel time over a friction grid (seconds per metre) with the GRASS ``r.cost`` rule.

Three searches, all exact and deterministic (see ``core/include/careshed/raster_search.hpp`` for the
arithmetic):

* :func:`travel_time_grid` — one pass from all sources: seconds to the nearest source and its index;
* :func:`travel_time_grid_k_nearest` — the k nearest distinct sources per cell (backup coverage);
* :func:`travel_time_grid_reach_lists` — for each source alone, every cell within ``max_seconds`` as sparse
  CSR lists (what 2SFCA-type accessibility models read).

Each may start every source late by its start offset (``start_offsets_seconds``: dispatch + turnout, see
docs/architecture.md's vocabulary). The former names ``raster_travel_time``, ``raster_k_nearest``,
``raster_reach_lists`` and the former keyword ``source_offsets=`` still work for one release, with a
DeprecationWarning.

Conventions (``../shared/DESIGN.md``):

* step between neighbouring cell centres = centre distance x mean of the two cells' friction; 8
  neighbours, or 16 with r.cost's knight's moves (which average the friction of the four cells the move
  touches and are blocked if any of them is impassable);
* friction NaN or +inf is impassable, 0 is allowed, negative is an error;
* ``max_seconds`` is inclusive; unreachable cells get ``inf`` seconds and index ``-1``;
* equal times go to the lowest source index (also for duplicated sources);
* a source on an impassable cell reaches nothing (not even its own cell); a ``RuntimeWarning`` names it.

Outputs of :func:`travel_time_grid` are two zero-copy views of one buffer of 8 bytes per cell:
``seconds`` (float32, strides ``(cols*8, 8)``) and ``nearest`` (int32). float32 seconds keep memory at
8 bytes per cell for national grids; use ``numpy.ascontiguousarray`` if a contiguous copy is needed.

``cell_size`` is ``(dx, dy)`` in metres: ``dx`` the column spacing, ``dy`` the row spacing. For lon/lat
grids give ``dx`` as a 1-D array with one cell width in metres per row (``dy`` stays a number); a step
between rows r1 and r2 then uses the mean width of the two rows.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _core
from ..memory import current as current_max_memory
from ..progress import current as current_progress
from ..errors import InputError, deprecated_alias, renamed_keyword

__all__ = ["travel_time_grid", "travel_time_grid_k_nearest", "travel_time_grid_reach_lists", "nearest_travel_time",
           "prepare_search", "checked_start_offsets",
           # deprecated (one release)
           "raster_travel_time", "raster_k_nearest", "raster_reach_lists"]


def _friction(friction) -> np.ndarray:
    f = np.asarray(friction)
    if f.ndim != 2:
        raise InputError(
            f"friction must be a 2-D array (rows, cols) of seconds per metre; got shape {f.shape}")
    if f.shape[0] < 1 or f.shape[1] < 1:
        raise InputError(f"friction must have at least one cell; got shape {f.shape}")
    if f.dtype not in (np.float32, np.float64):
        if f.dtype.kind not in "iuf":
            raise InputError(
                f"friction must be a float array (float32 or float64, seconds per metre, NaN for "
                f"impassable); got dtype {f.dtype}")
        f = f.astype(np.float64)  # integers, float16, longdouble: one converted copy
    # No copy when it is already a C-contiguous float32/float64 array.
    return np.ascontiguousarray(f)


def _sources(sources, shape) -> np.ndarray:
    s = np.asarray(sources)
    if s.ndim == 2 and s.shape[0] == 0:
        s = s.reshape(0, 2)
    if s.ndim != 2 or s.shape[1] != 2:
        raise InputError(f"sources must be an array of shape (K, 2) holding (row, col); got shape {s.shape}")
    if s.size and s.dtype.kind not in "iu":
        raise InputError(
            f"sources must hold integer (row, col) cell indices; got dtype {s.dtype} (round and convert "
            f"with .astype(int))")
    s = np.ascontiguousarray(s, dtype=np.int64)
    rows, cols = shape
    bad = np.flatnonzero((s[:, 0] < 0) | (s[:, 0] >= rows) | (s[:, 1] < 0) | (s[:, 1] >= cols))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"sources[{i}] = (row {s[i, 0]}, col {s[i, 1]}) lies outside the {rows} x {cols} friction "
            f"grid; give (row, col) cell indices inside it")
    return s


def _cell_size(cell_size, rows):
    try:
        dx, dy = cell_size
    except (TypeError, ValueError):
        raise InputError(
            "cell_size must be (dx, dy) in metres, dx optionally a per-row array for lon/lat grids; got "
            f"{cell_size!r}") from None
    try:
        dy = float(dy)
    except (TypeError, ValueError):
        raise InputError(f"cell_size dy must be a number of metres; got {dy!r}") from None
    if not (math.isfinite(dy) and dy > 0):
        raise InputError(f"cell_size dy must be a positive finite number of metres; got {dy}")
    if np.ndim(dx) == 0:
        dx = float(dx)
        if not (math.isfinite(dx) and dx > 0):
            raise InputError(f"cell_size dx must be a positive finite number of metres; got {dx}")
        return dx, dy, None
    row_dx = np.ascontiguousarray(dx, dtype=np.float64)
    if row_dx.ndim != 1 or row_dx.shape[0] != rows:
        raise InputError(
            f"cell_size dx given per row must have one width per friction row ({rows}); got shape "
            f"{row_dx.shape}")
    if not np.all(np.isfinite(row_dx) & (row_dx > 0)):
        i = int(np.flatnonzero(~(np.isfinite(row_dx) & (row_dx > 0)))[0])
        raise InputError(f"cell_size dx[{i}] = {row_dx[i]} must be a positive finite number of metres")
    return 1.0, dy, row_dx


def _neighbours(neighbours) -> int:
    if neighbours not in (8, 16) or isinstance(neighbours, bool):
        raise InputError(
            f"neighbours must be 8 or 16 (16 adds r.cost's knight's moves); got {neighbours!r}")
    return int(neighbours)


def _max_seconds(max_seconds, required=False) -> float:
    if max_seconds is None:
        if required:
            raise InputError("max_seconds is required (a bounded search): give the cutoff in seconds")
        return math.inf
    try:
        t = float(max_seconds)
    except (TypeError, ValueError):
        raise InputError(f"max_seconds must be a number of seconds or None; got {max_seconds!r}") from None
    if math.isnan(t) or t < 0:
        raise InputError(f"max_seconds must be >= 0 (or None for no cutoff); got {max_seconds}")
    if required and not math.isfinite(t):
        raise InputError("max_seconds must be finite (a bounded search)")
    return t


def checked_start_offsets(start_offsets_seconds, k):
    """The start offsets as a C-contiguous float64 (k,) array of finite seconds >= 0 (None stays None), else an
    InputError naming ``start_offsets_seconds``. Shared by the grid and graph engines."""
    if start_offsets_seconds is None:
        return None
    o = np.ascontiguousarray(start_offsets_seconds, dtype=np.float64)
    if o.shape != (k,):
        raise InputError(f"start_offsets_seconds must have one value per source ({k}); got shape {o.shape}")
    bad = np.flatnonzero(~(np.isfinite(o) & (o >= 0)))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"start_offsets_seconds[{i}] = {o[i]} must be a finite number of seconds >= 0")
    return o


def prepare_search(friction, sources, cell_size, neighbours, max_seconds, start_offsets_seconds,
                   required_cutoff=False):
    """The checked arguments of a core grid search (friction, sources, dx, dy, row widths, neighbours, cutoff,
    offsets); warns about sources on impassable cells. Shared by every search wrapper of the array tier."""
    f = _friction(friction)
    s = _sources(sources, f.shape)
    dx, dy, row_dx = _cell_size(cell_size, f.shape[0])
    nb = _neighbours(neighbours)
    t = _max_seconds(max_seconds, required_cutoff)
    o = checked_start_offsets(start_offsets_seconds, s.shape[0])
    if s.shape[0]:
        fs = f[s[:, 0], s[:, 1]]
        inert = np.flatnonzero(~np.isfinite(fs))
        if inert.size:
            warnings.warn(
                f"sources {inert.tolist()[:10]}{'...' if inert.size > 10 else ''} lie on impassable "
                f"cells (friction NaN or inf) and reach nothing; move them to a passable cell",
                RuntimeWarning, stacklevel=3)
    return f, s, dx, dy, row_dx, nb, t, o


def travel_time_grid(friction, sources, *, cell_size, neighbours=8, max_seconds=None,
                     start_offsets_seconds=None, source_offsets=None):
    """Seconds to the nearest source and its index, for every cell, in one multi-source search.

    Parameters
    ----------
    friction : (H, W) float array, seconds per metre; NaN (or +inf) impassable. float32 and float64
        C-contiguous arrays are used without a copy.
    sources : (K, 2) int array of (row, col).
    cell_size : (dx, dy) metres; dx may be a length-H array of per-row widths (lon/lat grids).
    neighbours : 8 or 16 (r.cost knight's moves).
    max_seconds : inclusive cutoff in seconds, or None.
    start_offsets_seconds : (K,) seconds added at each source before travel (dispatch + turnout), or None.
        ``source_offsets=`` is its former name (deprecated).

    Returns
    -------
    seconds : (H, W) float32, ``inf`` where unreachable.
    nearest : (H, W) int32 source index, ``-1`` where unreachable; ties go to the lowest index.
    """
    start_offsets_seconds = renamed_keyword(start_offsets_seconds, source_offsets, "start_offsets_seconds",
                                            "source_offsets", "travel_time_grid")
    f, s, dx, dy, row_dx, nb, t, o = prepare_search(friction, sources, cell_size, neighbours, max_seconds,
                                                    start_offsets_seconds)
    buf, _stats = _core._raster_travel_time(f, s, dx, dy, row_dx, nb, t, o, progress=current_progress(),
                                            max_memory_bytes=current_max_memory())
    return buf[..., 1].view(np.float32), buf[..., 0]


def travel_time_grid_k_nearest(friction, sources, *, k=2, cell_size, neighbours=8, max_seconds=None,
                               start_offsets_seconds=None, source_offsets=None):
    """The k nearest distinct sources of every cell, ordered by (seconds, index).

    Same arguments as :func:`travel_time_grid`, plus ``k`` (1..64). Returns ``seconds`` (H, W, k)
    float32 and ``nearest`` (H, W, k) int32; slots without a source are ``inf`` / ``-1``.
    ``[..., 0]`` equals :func:`travel_time_grid`'s result.
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= 64:
        raise InputError(f"k must be an integer between 1 and 64; got {k!r}")
    start_offsets_seconds = renamed_keyword(start_offsets_seconds, source_offsets, "start_offsets_seconds",
                                            "source_offsets", "travel_time_grid_k_nearest")
    f, s, dx, dy, row_dx, nb, t, o = prepare_search(friction, sources, cell_size, neighbours, max_seconds,
                                                    start_offsets_seconds)
    buf, _stats = _core._raster_k_nearest(f, s, int(k), dx, dy, row_dx, nb, t, o, progress=current_progress(),
                                          max_memory_bytes=current_max_memory())
    return buf[..., 1].view(np.float32), buf[..., 0]


def travel_time_grid_reach_lists(friction, sources, *, max_seconds, cell_size, neighbours=8,
                                 start_offsets_seconds=None, source_offsets=None):
    """For each source searched alone, every cell reached within ``max_seconds`` (inclusive).

    Returns CSR arrays ``(offsets, cells, seconds)``: the cells of source ``s`` are
    ``cells[offsets[s]:offsets[s + 1]]`` (flat ids ``row * W + col``, ascending, uint32) with their
    times ``seconds[...]`` (float32, the source's start offset included). Sources are searched in parallel.
    """
    start_offsets_seconds = renamed_keyword(start_offsets_seconds, source_offsets, "start_offsets_seconds",
                                            "source_offsets", "travel_time_grid_reach_lists")
    f, s, dx, dy, row_dx, nb, t, o = prepare_search(friction, sources, cell_size, neighbours, max_seconds,
                                                    start_offsets_seconds, required_cutoff=True)
    offsets, cells, seconds, _stats = _core._raster_reach_lists(f, s, dx, dy, row_dx, nb, t, o,
                                                                progress=current_progress(),
                                                                max_memory_bytes=current_max_memory())
    return offsets, cells, seconds


def nearest_travel_time(friction, sources, cell_size, start_offsets_seconds, max_seconds, neighbours):
    """(seconds float32 (H, W), nearest int32 (H, W)), both C-contiguous: :func:`travel_time_grid` with the
    start offsets (dispatch + turnout) in seconds, as the analyses use it."""
    kw = {"cell_size": tuple(float(v) for v in cell_size), "neighbours": neighbours,
          "start_offsets_seconds": np.ascontiguousarray(start_offsets_seconds, dtype=np.float64)}
    if max_seconds is not None:
        kw["max_seconds"] = float(max_seconds)
    seconds, nearest = travel_time_grid(friction, sources, **kw)
    return (np.ascontiguousarray(seconds, dtype=np.float32), np.ascontiguousarray(nearest, dtype=np.int32))


# ---- former names (one release) ----------------------------------------------------------------------------
raster_travel_time = deprecated_alias(travel_time_grid, "raster_travel_time")
raster_k_nearest = deprecated_alias(travel_time_grid_k_nearest, "raster_k_nearest")
raster_reach_lists = deprecated_alias(travel_time_grid_reach_lists, "raster_reach_lists")
