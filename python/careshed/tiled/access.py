"""Floating-catchment reach lists (2SFCA family), tile by tile on Dask, equal to the in-memory searches.

The floating catchments of :func:`careshed.arrays.access.grid_accessibility` search every facility alone up to the
catchment (``max_seconds``) and keep each facility's reached cells and times (its *reach list*).
:func:`reach_lists_tiled` makes the same lists tile by tile: every tile is a Dask task that searches, one facility
at a time, the facilities whose search reaches its window (the tile plus a halo of 1 cell, 2 with 16 neighbours),
seeded by the facility's own cell when it lies in the window and by the labels its neighbours hold on the halo for
that facility. Rounds rerun only the tiles whose halo improved for some facility, until nothing changes. Every
search uses the whole grid's arithmetic of the in-memory reach lists (``tiled_scale(..., reach_lists=True)``), so
the merged lists — per facility, its cells in ascending order and float32 seconds — equal
``careshed._core.access_reach_lists`` bit for bit, and the accessibility model run on them
(:func:`careshed.arrays.access.grid_accessibility` with ``reach_lists=``) equals the in-memory result.

A tile keeps, between rounds, the sparse labels (cells, ticks) of each facility reaching it in the scratch
folder; tasks carry the border labels of their neighbours (per facility, only those that changed), and return
their own border labels. Memory per task: the tile's window of friction plus, while one facility is searched,
one window of labels (12 bytes a cell); the client holds the border labels and, at the end, the reach lists
themselves (8 bytes per reached (facility, cell) pair, as in memory). See docs/scale.md.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass

import numpy as np

from ..arrays.tiles import tile_search, tiled_scale, ticks_to_seconds
from ..arrays.travel_time import checked_start_offsets
from ..errors import InputError
from ..progress import current as current_progress
from .search import (TileLayout, Tiling, WindowJob, checked_sources, checked_tile_size, dask_client, frame_rects,
                     open_friction, run_folder, whole_summary, window_job_fields)

__all__ = ["TiledReachLists", "reach_lists_tiled", "reach_lists_on_tiles"]


@dataclass(frozen=True)
class _ReachJob(WindowJob):  # state: the scratch file of the window's sparse labels per facility
    grid_cols: int
    facilities: np.ndarray  # (K,) int64 whole-search indices of the facilities on cells of the window (`sources`)


def _load_labels(job: _ReachJob) -> dict:
    """{facility: (window flat cells int64 ascending, ticks int64)} of the tile's previous rounds."""
    try:
        with np.load(job.state) as z:
            fac, first, cells, ticks = z["facility"], z["first"], z["cells"], z["ticks"]
    except FileNotFoundError:
        return {}
    return {int(f): (cells[first[i]:first[i + 1]], ticks[first[i]:first[i + 1]]) for i, f in enumerate(fac)}


def _save_labels(job: _ReachJob, labels: dict) -> None:
    fac = np.array(sorted(labels), np.int64)
    sizes = [labels[int(f)][0].size for f in fac]
    first = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    cat = (lambda i: np.concatenate([labels[int(f)][i] for f in fac]) if fac.size else np.zeros(0, np.int64))
    tmp = f"{job.state}.tmp{os.getpid()}.npz"
    np.savez(tmp, facility=fac, first=first, cells=cat(0), ticks=cat(1))
    os.replace(tmp, job.state)  # atomic: a task killed half-way leaves the previous state


def _window_cells(job: _ReachJob, global_cells: np.ndarray) -> np.ndarray:
    wr0, _, wc0, wc1 = job.window
    r, c = np.divmod(global_cells, job.grid_cols)
    return (r - wr0) * (wc1 - wc0) + (c - wc0)


def _global_cells(job: _ReachJob, window_cells: np.ndarray) -> np.ndarray:
    wr0, _, wc0, wc1 = job.window
    r, c = np.divmod(window_cells, wc1 - wc0)
    return (r + wr0) * job.grid_cols + (c + wc0)


def _reach_task(job: _ReachJob, incoming: dict) -> tuple[dict, dict]:
    """One round of one tile: for every facility with better labels on the halo (``incoming``: {facility:
    (global cells, ticks)}) or not yet searched from its own cell in this window, search the window for that
    facility alone; save; return the tile's border labels {facility: (global cells ascending, ticks)}."""
    wr0, wr1, wc0, wc1 = job.window
    h, w = wr1 - wr0, wc1 - wc0
    labels = _load_labels(job)
    own_source = {int(f): i for i, f in enumerate(job.facilities)}
    todo = sorted(set(incoming) | {f for f in own_source if f not in labels})
    friction = None
    stats = {"facility_searches": 0, "cells_settled": 0}
    for f in todo:
        ticks = np.full(h * w, -1, np.int64)
        if f in labels:
            ticks[labels[f][0]] = labels[f][1]
        seeds = np.zeros(0, np.int64)
        if f in incoming:
            cells = _window_cells(job, incoming[f][0])
            best = np.full(h * w, np.iinfo(np.int64).max, np.int64)
            np.minimum.at(best, cells, incoming[f][1])   # one label per cell if frames overlap
            cells = np.unique(cells)
            better = (ticks[cells] < 0) | (best[cells] < ticks[cells])
            seeds = cells[better]
            ticks[seeds] = best[seeds]
        fresh = f in own_source and f not in labels
        if not seeds.size and not fresh:
            continue
        if friction is None:
            friction = job.raster.read(wr0, wr1, wc0, wc1)
        t2 = ticks.reshape(h, w)
        nearest = np.where(t2 >= 0, 0, -1).astype(np.int32)
        i = own_source.get(f)
        st = tile_search(friction, (job.dx, job.dy), job.scale, t2, nearest,
                         sources=job.sources[i:i + 1] if fresh else None,
                         source_index=np.zeros(1, np.int32) if fresh else None,
                         start_offsets_seconds=job.offsets[i:i + 1] if fresh and job.offsets is not None else None,
                         seeds=seeds, neighbours=job.neighbours, max_seconds=job.max_seconds)
        stats["facility_searches"] += 1
        stats["cells_settled"] += int(st["cells_settled"])
        reached = np.flatnonzero(ticks >= 0)
        labels[f] = (reached, ticks[reached])
    if stats["facility_searches"] or not os.path.exists(job.state):
        _save_labels(job, labels)
    frame = np.zeros((h, w), bool)
    for a0, a1, b0, b1 in frame_rects(job.own, job.halo):
        frame[a0 - wr0:a1 - wr0, b0 - wc0:b1 - wc0] = True
    frame = frame.ravel()
    out = {}
    for f, (cells, ticks) in labels.items():
        on = frame[cells]
        if on.any():
            out[f] = (_global_cells(job, cells[on]), ticks[on])
    return out, stats


def _own_lists_task(job: _ReachJob) -> dict:
    """{facility: (global cells ascending, float32 seconds)} of the tile's own cells (its part of the lists)."""
    wr0, wr1, wc0, wc1 = job.window
    r0, r1, c0, c1 = job.own
    out = {}
    for f, (cells, ticks) in _load_labels(job).items():
        r, c = np.divmod(cells, wc1 - wc0)
        mine = (r >= r0 - wr0) & (r < r1 - wr0) & (c >= c0 - wc0) & (c < c1 - wc0)
        if mine.any():
            out[f] = (_global_cells(job, cells[mine]), ticks_to_seconds(ticks[mine], job.scale))
    return out


@dataclass
class TiledReachLists:
    """The reach lists of a tiled run — ``first`` (int64, one offset per facility + 1), ``cells`` (uint32 flat
    cell ids, ascending per facility), ``seconds`` (float32) — as ``careshed._core.access_reach_lists`` returns
    them, and what the run did."""

    first: np.ndarray
    cells: np.ndarray
    seconds: np.ndarray
    tiles: int
    rounds: int
    tile_searches: int
    facility_searches: int
    tick_seconds: float
    seconds_elapsed: float

    def lists(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.first, self.cells, self.seconds


def reach_lists_tiled(friction, facilities_rc, max_seconds, *, tile_size: int = 4096, cell_size=None,
                      neighbours: int = 8, start_offsets_seconds=None, transform=None, crs: str = "", client=None,
                      scheduler: str | None = None, workers: int | None = None, memory_limit="auto", scratch=None,
                      progress=None) -> TiledReachLists:
    """Every facility's reach list up to ``max_seconds`` (the catchment, inclusive, finite), tile by tile on Dask.

    friction, cell_size, transform, crs, tile_size, neighbours, client / scheduler / workers / memory_limit,
    scratch, progress: as :func:`careshed.tiled.travel_time_tiled`. facilities_rc: (n, 2) (row, col) cells;
    start_offsets_seconds: (n,) seconds added at each facility. Returns :class:`TiledReachLists`, equal to the
    in-memory ``access_reach_lists`` on the same grid.
    """
    t_start = time.perf_counter()
    try:
        max_s = float(max_seconds)
    except (TypeError, ValueError):
        raise InputError(f"max_seconds must be the catchment in seconds; got {max_seconds!r}") from None
    if not (math.isfinite(max_s) and max_s >= 0):
        raise InputError(f"max_seconds must be a finite catchment >= 0 seconds (a bounded search); got {max_seconds!r}")
    halo = checked_tile_size(tile_size, neighbours)
    report = progress if progress is not None else current_progress()
    with run_folder(scratch) as run_dir:
        raster, dx, dy = open_friction(friction, run_dir, cell_size, transform, crs)
        if raster.rows * raster.cols > 2**32 - 1:
            raise InputError(f"reach lists: the grid of {raster.rows} x {raster.cols} cells exceeds 2^32 - 1 cells "
                             "(32-bit cell ids of the lists); split the study area")
        src = checked_sources(facilities_rc, raster.shape)
        offsets = checked_start_offsets(start_offsets_seconds, src.shape[0])
        layout = TileLayout(raster.rows, raster.cols, int(tile_size), halo)
        from distributed import as_completed  # lazily: only tiled runs need Dask
        with dask_client(client=client, scheduler=scheduler, workers=workers, memory_limit=memory_limit) as dc:
            summary = whole_summary(dc, raster, layout)
            scale = tiled_scale(raster.shape, (dx, dy), summary, 1,
                                max_start_offset=float(offsets.max()) if offsets is not None and offsets.size else 0.0,
                                neighbours=neighbours, max_seconds=max_s, reach_lists=True)
            jobs = [_reach_job(layout, k, raster, dx, dy, scale, neighbours, max_s, src, offsets, run_dir)
                    for k in range(len(layout))]
            frames: dict[int, dict] = {}
            pending: dict[int, set] = {k: set() for k in range(len(layout)) if jobs[k].facilities.size}
            rounds = searches = facility_searches = 0
            searched: set[int] = set()
            while pending:
                rounds += 1
                futs = {dc.submit(_reach_task, jobs[k], _incoming(layout, k, frames, pending[k]), pure=False): k
                        for k in sorted(pending)}
                results = {}
                for done, fut in enumerate(as_completed(futs), 1):
                    results[futs[fut]] = fut.result()
                    if report is not None:
                        report(0.9 * len(searched | set(results)) / len(layout),
                               f"tiled reach lists: round {rounds}, {done}/{len(futs)} tiles")
                searches += len(results)
                searched.update(results)
                pending = {}
                for k, (new, stats) in sorted(results.items()):
                    facility_searches += stats["facility_searches"]
                    old = frames.get(k, {})
                    for f, (cells, ticks) in new.items():
                        changed = _changed(cells, ticks, *old[f]) if f in old else cells
                        if changed.size:
                            r, c = np.divmod(changed, raster.cols)
                            for u in layout.near(k):
                                a0, a1, b0, b1 = layout.window(u)
                                if np.any((r >= a0) & (r < a1) & (c >= b0) & (c < b1)):
                                    pending.setdefault(u, set()).add((k, f))
                    frames[k] = new
            # The lists: each tile's own cells per facility, merged in cell order.
            parts: dict[int, list] = {}
            futs = [dc.submit(_own_lists_task, jobs[k], pure=False) for k in sorted(searched)]
            for done, fut in enumerate(as_completed(futs), 1):
                for f, piece in fut.result().items():
                    parts.setdefault(f, []).append(piece)
                if report is not None:
                    report(0.9 + 0.1 * done / len(futs), "tiled reach lists: merging")
    first = np.zeros(src.shape[0] + 1, np.int64)
    cells_out, secs_out = [], []
    for f in range(src.shape[0]):
        pieces = parts.get(f, [])
        if pieces:
            c = np.concatenate([p[0] for p in pieces])
            s = np.concatenate([p[1] for p in pieces])
            order = np.argsort(c, kind="stable")
            cells_out.append(c[order].astype(np.uint32))
            secs_out.append(s[order])
        first[f + 1] = first[f] + sum(p[0].size for p in pieces)
    cells = np.concatenate(cells_out) if cells_out else np.zeros(0, np.uint32)
    secs = np.concatenate(secs_out) if secs_out else np.zeros(0, np.float32)
    return TiledReachLists(first, cells, secs, len(layout), rounds, searches, facility_searches, scale.tick_seconds,
                           time.perf_counter() - t_start)


def _changed(cells, ticks, old_cells, old_ticks) -> np.ndarray:
    """The cells (ascending, as old_cells) whose label is new or differs from the old one."""
    if not old_cells.size:
        return cells
    i = np.minimum(np.searchsorted(old_cells, cells), old_cells.size - 1)
    return cells[(old_cells[i] != cells) | (old_ticks[i] != ticks)]


def _reach_job(layout: TileLayout, k, raster, dx, dy, scale, neighbours, max_s, src, offsets, run_dir) -> _ReachJob:
    fields, inside = window_job_fields(layout, k, raster, dx, dy, scale, neighbours, max_s, src, offsets,
                                       str(run_dir / f"reach{k}.npz"))
    return _ReachJob(**fields, grid_cols=raster.cols, facilities=inside.astype(np.int64))


def _incoming(layout: TileLayout, k: int, frames: dict, changed: set) -> dict:
    """{facility: (global cells, ticks)}: the current border labels, inside tile k's window, of the
    (neighbour, facility) pairs that changed last round."""
    a0, a1, b0, b1 = layout.window(k)
    got: dict[int, list] = {}
    for u, f in sorted(changed):
        cells, ticks = frames[u][f]
        r, c = np.divmod(cells, layout.cols)
        inside = (r >= a0) & (r < a1) & (c >= b0) & (c < b1)
        if inside.any():
            got.setdefault(f, []).append((cells[inside], ticks[inside]))
    return {f: (np.concatenate([p[0] for p in ps]), np.concatenate([p[1] for p in ps])) for f, ps in got.items()}


def reach_lists_on_tiles(tiling: Tiling, tile_size: int, friction, sources, max_seconds, cell_size, neighbours,
                         start_offsets_seconds=None, transform=None, crs: str = ""):
    """(offsets, cells, seconds) of :func:`reach_lists_tiled` on the Dask cluster ``tiling`` names — the form of
    ``careshed.arrays.travel_time_grid_reach_lists``, equal to it (how a Study with ``tiles=`` makes the reach lists
    of access and optimize)."""
    return reach_lists_tiled(friction, sources, max_seconds, tile_size=int(tile_size),
                             cell_size=tuple(float(v) for v in cell_size), neighbours=int(neighbours),
                             start_offsets_seconds=start_offsets_seconds, transform=transform, crs=crs,
                             client=tiling.client, scheduler=tiling.scheduler, workers=tiling.workers,
                             memory_limit=tiling.memory_limit, scratch=tiling.scratch).lists()
