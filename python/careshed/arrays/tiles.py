"""One tile of a tiled exact travel-time search (NumPy over ``careshed/raster_tiles.hpp``).

A grid too large for one machine is searched tile by tile (the driver is :mod:`careshed.tiled`): every tile
shares the whole grid's integer arithmetic (:func:`tiled_scale`, from the merged :func:`friction_summary` of
all tiles), and each tile's search runs over its window — the tile plus a halo ring of :func:`tile_halo`
cells — seeded by its own sources and by the labels its neighbours hold on the halo. Labels are integer
ticks (``int64``, -1 unreached) and the nearest source index (``int32``, -1 unreached); seconds are
:func:`ticks_to_seconds`, exactly as :func:`careshed.arrays.travel_time_grid` rounds them, so a tiled run
iterated to its fixed point equals the in-memory engine bit for bit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import _core
from ..errors import InputError
from ..progress import current as current_progress

__all__ = ["TickScale", "friction_summary", "tiled_scale", "tile_halo", "tile_search", "ticks_to_seconds",
           "better_labels", "in_memory_search_fits", "UNREACHED_LABEL", "tile_search_packed", "pack_labels",
           "unpack_labels", "labels_to_outputs"]

#: The packed label (uint64) of an unreached cell in :func:`tile_search_packed`; every reached label is smaller.
UNREACHED_LABEL = np.uint64(_core._tile_unreached_label())


@dataclass(frozen=True)
class TickScale:
    """The whole grid's integer arithmetic, shared by every tile of one search (tick = 2**-q seconds)."""

    q: int
    index_bits: int
    cut_ticks: int
    tick_seconds: float

    def as_dict(self) -> dict:
        return {"q": self.q, "index_bits": self.index_bits, "cut_ticks": self.cut_ticks,
                "tick_seconds": self.tick_seconds}


def friction_summary(friction: np.ndarray) -> tuple[float, int]:
    """(largest finite friction, passable cells) of one piece of friction (float32/float64, NaN/inf
    impassable); pieces merge with ``max`` and ``+``. Negative friction is an InputError."""
    return _core._raster_friction_summary(np.ascontiguousarray(friction))


def tile_halo(neighbours: int) -> int:
    """Cells of halo around a tile: 1 for 8 neighbours, 2 for 16 (knight's moves)."""
    if neighbours not in (8, 16) or isinstance(neighbours, bool):
        raise InputError(f"neighbours must be 8 or 16 (16 adds r.cost's knight's moves); got {neighbours!r}")
    return 1 if neighbours == 8 else 2


def _cell_size_args(cell_size):
    """(dx, dy, row_dx) as the core's tile functions take ``cell_size`` = (dx, dy): dx one width, or one width per
    row — then passed as ``row_dx`` (float64) with dx = 1."""
    dx, dy = cell_size
    if np.ndim(dx):
        return 1.0, float(dy), np.ascontiguousarray(dx, dtype=np.float64)
    return float(dx), float(dy), None


def tiled_scale(shape, cell_size, summary, n_sources: int, *, max_start_offset: float = 0.0, neighbours: int = 8,
                max_seconds=None, reach_lists: bool = False) -> TickScale:
    """The tick scale :func:`careshed.arrays.travel_time_grid` would use on the whole grid of ``shape`` =
    (rows, cols) with ``cell_size`` = (dx, dy) metres (dx may be one width per row), the merged ``summary``
    of all its friction and ``n_sources`` sources whose largest start offset is ``max_start_offset`` s.
    reach_lists: instead the scale of the floating catchments' one-facility searches (the reach lists of
    careshed.arrays.access; ``max_seconds`` the catchment, finite; search one facility at a time with index 0)."""
    rows, cols = (int(v) for v in shape)
    dx, dy, row_dx = _cell_size_args(cell_size)
    t = math.inf if max_seconds is None else float(max_seconds)
    d = _core._raster_tiled_scale(rows, cols, float(dx), float(dy), row_dx, float(summary[0]), int(summary[1]),
                                  int(n_sources), float(max_start_offset), int(neighbours), t, bool(reach_lists))
    return TickScale(int(d["q"]), int(d["index_bits"]), int(d["cut_ticks"]), float(d["tick_seconds"]))


def tile_search(window: np.ndarray, cell_size, scale: TickScale, ticks: np.ndarray, nearest: np.ndarray, *,
                sources=None, source_index=None, start_offsets_seconds=None, seeds=None, neighbours: int = 8,
                max_seconds=None, threads: int = 1) -> dict:
    """Lowers the window's labels ``ticks`` (int64) and ``nearest`` (int32), both of the window's shape and
    changed in place, to the window's fixed point from ``sources`` ((K, 2) window rows/cols, with their
    whole-search ``source_index``) and from the ``seeds`` (flat window cells whose labels the caller lowered).
    ``cell_size`` as in :func:`tiled_scale`, dx per row sliced to the window's rows. Returns the search's
    statistics. The GIL is released during the search."""
    window = _window_of(window)
    if ticks.dtype != np.int64 or nearest.dtype != np.int32 or ticks.shape != window.shape \
            or nearest.shape != window.shape or not ticks.flags.c_contiguous or not nearest.flags.c_contiguous:
        raise InputError("ticks (int64) and nearest (int32) must be C-contiguous arrays of the window's shape "
                         f"{window.shape}")
    args = _search_args(window, cell_size, scale, sources, source_index, start_offsets_seconds, seeds, neighbours,
                        max_seconds)
    return _core._raster_tile_search(*args, ticks, nearest, threads=int(threads), progress=current_progress())


def _window_of(window) -> np.ndarray:
    window = np.ascontiguousarray(window)
    return window if window.dtype in (np.float32, np.float64) else window.astype(np.float64)


def _search_args(window, cell_size, scale, sources, source_index, start_offsets_seconds, seeds, neighbours,
                 max_seconds) -> tuple:
    """The core tile search's arguments before the labels: window, dx, dy, row_dx, scale, neighbours, cut-off,
    sources, source_index, offsets, seeds."""
    src = np.zeros((0, 2), np.int64) if sources is None else np.ascontiguousarray(sources, dtype=np.int64).reshape(-1, 2)
    idx = np.zeros(0, np.int32) if source_index is None else np.ascontiguousarray(source_index, dtype=np.int32)
    offs = None if start_offsets_seconds is None else np.ascontiguousarray(start_offsets_seconds, dtype=np.float64)
    sd = np.zeros(0, np.int64) if seeds is None else np.ascontiguousarray(seeds, dtype=np.int64)
    dx, dy, row_dx = _cell_size_args(cell_size)
    t = math.inf if max_seconds is None else float(max_seconds)
    return window, float(dx), float(dy), row_dx, scale.as_dict(), int(neighbours), t, src, idx, offs, sd


def tile_search_packed(window: np.ndarray, cell_size, scale: TickScale, labels: np.ndarray, *, sources=None,
                       source_index=None, start_offsets_seconds=None, seeds=None, neighbours: int = 8,
                       max_seconds=None, threads: int = 1) -> dict:
    """:func:`tile_search` on packed labels: ``labels`` (uint64, the window's shape, changed in place) holds
    ``((ticks + 1) << scale.index_bits) | nearest`` per reached cell and :data:`UNREACHED_LABEL` elsewhere
    (:func:`pack_labels`). Packed labels compare as the engine orders labels (fewer ticks, then the lower source
    index), take 8 bytes a cell instead of 12, and the core searches them as they are (no packing per call)."""
    window = _window_of(window)
    if labels.dtype != np.uint64 or labels.shape != window.shape or not labels.flags.c_contiguous:
        raise InputError(f"labels (uint64) must be a C-contiguous array of the window's shape {window.shape}")
    args = _search_args(window, cell_size, scale, sources, source_index, start_offsets_seconds, seeds, neighbours,
                        max_seconds)
    return _core._raster_tile_search_packed(*args, labels, threads=int(threads), progress=current_progress())


def pack_labels(ticks: np.ndarray, nearest: np.ndarray, scale: TickScale) -> np.ndarray:
    """Packed uint64 labels (:func:`tile_search_packed`) of integer ``ticks`` (-1 unreached) and ``nearest``."""
    t = np.asarray(ticks, np.int64)
    out = ((t + 1).astype(np.uint64) << np.uint64(scale.index_bits)) | np.asarray(nearest).astype(np.uint64)
    out[t < 0] = UNREACHED_LABEL
    return out


def unpack_labels(labels: np.ndarray, scale: TickScale) -> tuple[np.ndarray, np.ndarray]:
    """(ticks int64 with -1, nearest int32 with -1) of packed ``labels``."""
    lab = np.asarray(labels, np.uint64)
    none = lab == UNREACHED_LABEL
    ticks = (lab >> np.uint64(scale.index_bits)).astype(np.int64) - 1
    nearest = (lab & np.uint64((1 << scale.index_bits) - 1)).astype(np.int32)
    ticks[none] = -1
    nearest[none] = -1
    return ticks, nearest


def labels_to_outputs(labels: np.ndarray, scale: TickScale, unreached_seconds: float = math.inf):
    """(seconds float32, nearest int32) of a 2-D block of packed labels (e.g. a tile's own cells inside its
    window; rows need not be adjacent in memory) in one pass of the core: seconds as :func:`ticks_to_seconds`
    rounds them, ``unreached_seconds`` (default inf; NaN for a GeoTIFF's no data) and -1 where unreached."""
    lab = np.asarray(labels)
    if lab.dtype != np.uint64 or lab.ndim != 2:
        raise InputError(f"labels must be a 2-D uint64 array of packed labels; got {lab.dtype} {lab.shape}")
    if lab.strides[1] != 8 or lab.strides[0] < 0 or lab.strides[0] % 8:
        lab = np.ascontiguousarray(lab)
    return _core._tile_labels_to_outputs(lab, scale.as_dict(), float(unreached_seconds))


def ticks_to_seconds(ticks: np.ndarray, scale: TickScale) -> np.ndarray:
    """float32 seconds of integer ticks (-1: ``inf``), rounded exactly as the in-memory engine rounds them."""
    t = np.asarray(ticks)
    out = np.ldexp(t.astype(np.float64), -scale.q).astype(np.float32)
    out[t < 0] = np.inf
    return out


def better_labels(t1: np.ndarray, n1: np.ndarray, t2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Where label (t1, n1) is strictly better than (t2, n2) in the engine's order: reached before unreached,
    then fewer ticks, then the lower source index."""
    return (t1 >= 0) & ((t2 < 0) | (t1 < t2) | ((t1 == t2) & (n1 < n2)))


def in_memory_search_fits(rows: int, cols: int, n_sources: int, max_seconds=None, max_memory_bytes: int = 0):
    """(fits, estimate text): whether the in-memory nearest search of a ``rows`` x ``cols`` grid fits the
    available memory and the caller's limit (0: none), by the core's estimate (careshed/memory.hpp)."""
    t = math.inf if max_seconds is None else float(max_seconds)
    e = _core.estimate_memory("travel_time", int(rows), int(cols), int(n_sources), t)
    limit = int(_core.available_memory()["bytes"])
    if max_memory_bytes:
        limit = min(limit, int(max_memory_bytes)) if limit else int(max_memory_bytes)
    return (limit == 0 or e["peak_bytes"] <= limit), e["text"]
