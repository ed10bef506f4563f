"""Exact travel time to the nearest facility, tile by tile, on Dask (``dask.distributed``).

:func:`travel_time_tiled` cuts the friction grid into square tiles of ``tile_size`` cells. Every tile is a Dask
task that reads its window of friction (the tile plus a halo of 1 cell, 2 with 16 neighbours) straight from the
raster by GDAL, searches it with the in-memory engine's kernel seeded by its own facilities and by the labels its
neighbours hold on the halo (:func:`careshed.arrays.tiles.tile_search_packed`), keeps its labels between rounds in
the memory of the worker that searched it (each tile goes back to that worker; beyond a budget, and on the way to
another worker, in a scratch folder), and returns only the labels of its own border (a frame of halo width).
Rounds rerun only the tiles whose halo changed, until no label changes; then each worker turns its tiles' labels
into seconds and nearest facility and the client writes them. Labels are the engine's integer ticks, so the
result equals :func:`careshed.arrays.travel_time_grid` on the whole grid bit for bit (times and nearest facility,
ties to the lowest index); with ``max_seconds`` tiles beyond reach are never searched. The outputs are tiled
GeoTIFFs (or Zarr) written tile by tile (no grid-sized array anywhere), appearing together when complete.

What moves between machines: task arguments (the raster path, the tile's rectangle, its sources, the part of its
neighbours' border frames inside its window: 8 bytes x halo x perimeter per neighbour) and results (its own frame;
at the end its seconds and nearest facility, 8 bytes a cell, to the client). Friction is read by each worker from
the raster; tile labels stay in the workers' memory, or the scratch folder (shared storage on a multi-machine
cluster). A worker killed mid-run loses its tiles' labels, not the result: Dask reruns its tasks elsewhere, and a
tile whose labels are lost starts again from its last state in the scratch folder, or from scratch, with its
neighbours' current borders — any earlier state of a tile is a valid start, since labels only decrease.
See docs/scale.md.
"""
from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..arrays.tiles import (UNREACHED_LABEL, TickScale, friction_summary, in_memory_search_fits, labels_to_outputs,
                            tile_halo, tile_search_packed, tiled_scale)
from ..arrays.travel_time import checked_start_offsets, nearest_travel_time
from ..errors import InputError
from ..memory import current as current_max_memory
from ..progress import current as current_progress
from .rasters import WindowedRaster, open_windowed, tiled_writer, write_small_geotiff

__all__ = ["TileLayout", "TiledTravelTime", "travel_time_tiled", "dask_client", "dashboard_address", "Tiling",
           "nearest_travel_time_any", "DEFAULT_TILE_SIZE", "frame_rects", "checked_sources", "run_folder",
           "open_friction", "whole_summary", "mapped_from_disk", "checked_tile_size"]


# ---- layout -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TileLayout:
    """Square tiles of ``tile`` cells over a ``rows`` x ``cols`` grid, with a halo of ``halo`` cells."""

    rows: int
    cols: int
    tile: int
    halo: int

    @property
    def tile_rows(self) -> int:
        return -(-self.rows // self.tile)

    @property
    def tile_cols(self) -> int:
        return -(-self.cols // self.tile)

    def __len__(self) -> int:
        return self.tile_rows * self.tile_cols

    def own(self, k: int) -> tuple[int, int, int, int]:
        """(r0, r1, c0, c1) of tile k's own cells."""
        i, j = divmod(k, self.tile_cols)
        r0, c0 = i * self.tile, j * self.tile
        return r0, min(self.rows, r0 + self.tile), c0, min(self.cols, c0 + self.tile)

    def window(self, k: int) -> tuple[int, int, int, int]:
        """(r0, r1, c0, c1) of tile k's window: its cells and the halo, clipped at the grid border."""
        r0, r1, c0, c1 = self.own(k)
        h = self.halo
        return max(0, r0 - h), min(self.rows, r1 + h), max(0, c0 - h), min(self.cols, c1 + h)

    def near(self, k: int) -> list[int]:
        """The other tiles whose windows can overlap tile k's cells (those within the halo of it)."""
        i, j = divmod(k, self.tile_cols)
        d = -(-self.halo // self.tile)
        return [a * self.tile_cols + b
                for a in range(max(0, i - d), min(self.tile_rows, i + d + 1))
                for b in range(max(0, j - d), min(self.tile_cols, j + d + 1)) if (a, b) != (i, j)]

    def frame_rects(self, k: int) -> list[tuple[int, int, int, int]]:
        """The four strips (top, bottom, left, right) of tile k's cells within the halo width of its border:
        every cell of k that lies in another tile's window is in one of them."""
        return frame_rects(self.own(k), self.halo)


def _intersect(a, b):
    r0, r1, c0, c1 = max(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), min(a[3], b[3])
    return (r0, r1, c0, c1) if r0 < r1 and c0 < c1 else None


# ---- the tasks (module-level functions: Dask pickles them by reference) ---------------------------------------

@dataclass(frozen=True)
class WindowJob:
    """What a task of one tile's window needs, in the tiled search here and in the tiled reach lists
    (tiled/access.py). Built by keywords from :func:`window_job_fields`."""
    raster: WindowedRaster
    own: tuple
    window: tuple
    dx: object            # float, or the window's rows' widths
    dy: float
    scale: TickScale
    neighbours: int
    max_seconds: float | None
    sources: np.ndarray   # (K, 2) window rows/cols of the sources on cells of the window
    offsets: np.ndarray | None  # their start offsets (seconds), or None
    state: str            # scratch file of the window's labels
    halo: int


def window_job_fields(layout: TileLayout, k: int, raster, dx, dy, scale, neighbours, max_seconds, src, offsets,
                      state: str) -> tuple[dict, np.ndarray]:
    """(the :class:`WindowJob` fields of tile k, the indices into `src` of the sources on cells of its window).
    `src`: (N, 2) grid rows/cols of all sources; `offsets`: their start offsets or None; `dx`: a float or the
    grid's rows' widths."""
    wr0, wr1, wc0, wc1 = layout.window(k)
    idx = np.flatnonzero((src[:, 0] >= wr0) & (src[:, 0] < wr1) & (src[:, 1] >= wc0) & (src[:, 1] < wc1))
    fields = dict(raster=raster, own=layout.own(k), window=(wr0, wr1, wc0, wc1),
                  dx=dx[wr0:wr1] if np.ndim(dx) else dx, dy=dy, scale=scale, neighbours=neighbours,
                  max_seconds=max_seconds, sources=src[idx] - np.array([wr0, wc0], np.int64),
                  offsets=None if offsets is None else offsets[idx], state=state, halo=layout.halo)
    return fields, idx


@dataclass(frozen=True)
class _TileJob(WindowJob):
    source_index: np.ndarray  # (K,) int32 whole-search indices of `sources`


def _summary_task(raster: WindowedRaster, rect) -> tuple[float, int]:
    return friction_summary(raster.read(*rect))


#: Bytes of tile labels a worker process keeps in memory between rounds when its Dask memory limit is unknown,
#: and the share of a known limit. CARESHED_TILE_CACHE_BYTES (environment of the workers) overrides both.
_DEFAULT_CACHE_BYTES = 1 << 30
_CACHE_SHARE = 0.25


class _LabelStore:
    """The packed labels of the tiles a worker process searched, kept between rounds (one per process, shared by
    the worker's threads). Labels stay in memory up to a budget (:func:`_cache_budget`), with the window's
    friction when that fits too (a rerun need not read it again); a tile that does not fit goes to its scratch
    file (``np.save``, atomic rename; labels only), which is also where a tile that moved to another worker
    finds its labels. Every stored state carries the round that produced it, and :meth:`take` returns the newest
    it can find. Any state a tile ever had is a valid starting point (labels only decrease: it is the fixed point
    of the window for a halo no better than today's), so a state lost with a killed worker costs work, never
    correctness: the task starts from an older state, or from scratch, with the full current halo."""

    def __init__(self):
        self._lock = threading.Lock()
        self._mem: dict[str, tuple[int, np.ndarray, np.ndarray | None]] = {}
        self._bytes = 0

    @staticmethod
    def _size(entry) -> int:
        return entry[1].nbytes + (entry[2].nbytes if entry[2] is not None else 0)

    def take(self, path: str) -> tuple[int, np.ndarray | None, str, np.ndarray | None]:
        """(round, labels, where from: "memory", "disk" or "none", the window's friction if kept) of the newest
        state of the tile whose scratch file is ``path``, removed from memory (the caller puts it back)."""
        with self._lock:
            mem = self._mem.pop(path, None)
            if mem is not None:
                self._bytes -= self._size(mem)
        try:
            with open(path, "rb") as fh:
                disk_round = int(np.load(fh)[0])
                if mem is None or disk_round > mem[0]:
                    return disk_round, np.load(fh), "disk", mem[2] if mem is not None else None
        except FileNotFoundError:
            pass
        if mem is not None:
            return mem[0], mem[1], "memory", mem[2]
        return -1, None, "none", None

    def put(self, path: str, round_no: int, labels: np.ndarray, friction: np.ndarray | None = None) -> str:
        """Keeps the labels (and the friction, if it fits too) in memory if they fit the budget, else writes the
        labels to ``path``; says where the labels went."""
        with self._lock:
            budget = _cache_budget()
            if self._bytes + labels.nbytes <= budget:
                if friction is not None and self._bytes + labels.nbytes + friction.nbytes > budget:
                    friction = None
                entry = (round_no, labels, friction)
                self._mem[path] = entry
                self._bytes += self._size(entry)
                return "memory"
        tmp = f"{path}.tmp{os.getpid()}.{threading.get_ident()}"
        with open(tmp, "wb") as fh:
            np.save(fh, np.array([round_no], np.int64))
            np.save(fh, labels)
        os.replace(tmp, path)  # atomic: a task killed half-way leaves the previous state
        return "disk"

    def drop(self, folder: str) -> int:
        """Forgets the tiles of the run whose scratch folder is ``folder``; returns how many were held."""
        with self._lock:
            gone = [p for p in self._mem if os.path.dirname(p) == folder]
            for p in gone:
                self._bytes -= self._size(self._mem.pop(p))
        return len(gone)


_STORE = _LabelStore()


def _cache_budget() -> int:
    env = os.environ.get("CARESHED_TILE_CACHE_BYTES")
    if env:
        return int(env)
    try:
        from distributed import get_worker
        limit = get_worker().memory_manager.memory_limit
    except (ImportError, ValueError, AttributeError):
        limit = None
    return int(limit * _CACHE_SHARE) if limit else _DEFAULT_CACHE_BYTES


def _drop_run(folder: str) -> int:
    return _STORE.drop(folder)


def _worker_address() -> str | None:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return None


def _search_tile(job: _TileJob, incoming: list, round_no: int):
    """The tile's labels brought to the window's fixed point for the halo labels ``incoming`` (its neighbours'
    border cells clipped to this window: (rect, packed labels)), starting from its newest stored state."""
    wr0, wr1, wc0, wc1 = job.window
    got_round, labels, source, friction = _STORE.take(job.state)
    fresh = labels is None
    if fresh:
        labels = np.full((wr1 - wr0, wc1 - wc0), UNREACHED_LABEL, np.uint64)
    seeds = []
    for rect, lab_in in incoming:
        a0, a1, b0, b1 = rect
        mine = labels[a0 - wr0:a1 - wr0, b0 - wc0:b1 - wc0]
        improved = lab_in < mine   # packed labels order as the engine does: time, then the lower index
        if improved.any():
            mine[improved] = lab_in[improved]
            rr, cc = np.nonzero(improved)
            seeds.append((rr + (a0 - wr0)) * (wc1 - wc0) + (cc + (b0 - wc0)))
    seed_cells = np.concatenate(seeds) if seeds else np.zeros(0, np.int64)
    stats = {"seeds": int(seed_cells.size), "cells_settled": 0, "labels_from": source, "searched": False,
             "friction_read": False, "worker": _worker_address()}
    if fresh or seed_cells.size:
        if friction is None:
            friction = job.raster.read(wr0, wr1, wc0, wc1)
            stats["friction_read"] = True
        st = tile_search_packed(friction, (job.dx, job.dy), job.scale, labels,
                                sources=job.sources if fresh else None,
                                source_index=job.source_index if fresh else None,
                                start_offsets_seconds=job.offsets if fresh else None, seeds=seed_cells,
                                neighbours=job.neighbours, max_seconds=job.max_seconds)
        stats["cells_settled"] = int(st["cells_settled"])
        stats["searched"] = True
        got_round = round_no
    return got_round, labels, stats, friction


def _tile_task(job: _TileJob, incoming: list, round_no: int) -> tuple[list, dict]:
    """One round of one tile: take the better labels of the neighbours' frames into the halo, search, keep the
    labels (:class:`_LabelStore`), return the tile's own frame strips (packed labels) and the search's
    statistics."""
    wr0, _, wc0, _ = job.window
    got_round, labels, stats, friction = _search_tile(job, incoming, round_no)
    stats["labels_to"] = _STORE.put(job.state, got_round, labels, friction)
    frames = [(rect, labels[rect[0] - wr0:rect[1] - wr0, rect[2] - wc0:rect[3] - wc0].copy())
              for rect in frame_rects(job.own, job.halo)]
    return frames, stats


def _finish_task(job: _TileJob, incoming: list, round_no: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """The tile's outputs once no border changes any more: (seconds float32 with NaN, nearest int32 with -1) of
    its own cells. ``incoming`` is its final halo, so a state older than the last round (its worker was killed
    and it restarted from an earlier one) is brought up to date here first."""
    r0, r1, c0, c1 = job.own
    wr0, _, wc0, _ = job.window
    _, labels, stats, _ = _search_tile(job, incoming, round_no)
    seconds, nearest = labels_to_outputs(labels[r0 - wr0:r1 - wr0, c0 - wc0:c1 - wc0], job.scale, np.nan)
    return seconds, nearest, stats


def frame_rects(own, h):
    """The four strips (top, bottom, left, right) of the cells ``own`` = (r0, r1, c0, c1) within ``h`` cells of
    its border."""
    r0, r1, c0, c1 = own
    return [(r0, min(r1, r0 + h), c0, c1), (max(r0, r1 - h), r1, c0, c1),
            (r0, r1, c0, min(c1, c0 + h)), (r0, r1, max(c0, c1 - h), c1)]


# ---- the cluster ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def dask_client(*, client=None, scheduler: str | None = None, workers: int | None = None,
                memory_limit="auto", processes: bool = True):
    """The Dask client of a tiled run: ``client`` as given, a client of the scheduler at ``scheduler``
    (``tcp://host:8786``), or a LocalCluster of ``workers`` single-threaded worker processes (default: the
    machine's cores) with ``memory_limit`` per worker (bytes or a string such as ``"2GB"``), closed afterwards.
    A LocalCluster serves its dashboard on a free port (:func:`dashboard_address` says where)."""
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster  # lazily: only tiled runs need Dask
    if scheduler is not None:
        with Client(scheduler) as c:
            yield c
        return
    n = workers or os.cpu_count() or 1
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InputError(f"workers must be a positive number of Dask workers; got {workers!r}")
    # distributed's Nanny writes its pre-spawn variables (OMP_NUM_THREADS=1, MALLOC_TRIM_THRESHOLD_, ...) into
    # *this* process's os.environ before each worker spawn and never undoes them, so every later in-memory run
    # and subprocess here would be single-threaded. Put them back when the cluster closes.
    import dask
    touched = set(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {}) | {"DASK_PARENT"}
    saved = {k: os.environ.get(k) for k in touched}
    # No work stealing: a tile's labels stay in the memory of the worker that searched it (travel_time_tiled
    # sends each tile back there); a stolen task would start again from an older state.
    try:
        with dask.config.set({"distributed.scheduler.work-stealing": False}), \
                LocalCluster(n_workers=n, threads_per_worker=1, processes=processes, memory_limit=memory_limit,
                             dashboard_address=":0") as cluster, Client(cluster) as c:
            yield c
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def dashboard_address(client) -> tuple[str | None, str]:
    """(address of the Dask dashboard of ``client``'s scheduler or None, a sentence for the user). The dashboard's
    plots need bokeh (Debian bookworm has no python3-bokeh: ``pip install "bokeh>=2.4.2,<3"``); without it the
    address still serves the workers' pages (``/info/main/workers.html``)."""
    try:
        link = client.dashboard_link
    except (KeyError, AttributeError, OSError):
        return None, "the Dask scheduler serves no dashboard"
    if importlib.util.find_spec("bokeh") is not None:
        return link, f"Dask dashboard: {link}"
    base = link.rsplit("/", 1)[0]
    return link, (f"Dask dashboard: {link} (its plots need bokeh, not installed here: pip install \"bokeh>=2.4.2,<3\"; "
                  f"the workers' page works without it: {base}/info/main/workers.html)")


# ---- the driver -----------------------------------------------------------------------------------------------

@dataclass
class TiledTravelTime:
    """Where a tiled run wrote its outputs, and what it did."""

    seconds_path: Path
    nearest_path: Path
    shape: tuple
    tile_size: int
    tiles: int
    rounds: int
    tile_searches: int
    tiles_searched: int
    tick_seconds: float
    seconds_elapsed: float
    round_sizes: list = field(default_factory=list)

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        """(seconds float32, nearest int32) read whole from the outputs (small grids only)."""
        s = open_windowed(self.seconds_path).read(0, self.shape[0], 0, self.shape[1]).astype(np.float32)
        nearest = open_windowed(self.nearest_path).read(0, self.shape[0], 0, self.shape[1])
        s[np.isnan(s)] = np.inf
        return s, np.where(np.isnan(nearest), -1, nearest).astype(np.int32)


def checked_sources(sources, shape) -> np.ndarray:
    """``sources`` as an int64 (K, 2) array of (row, col) cells inside a grid of ``shape``, or an InputError."""
    s = np.asarray(sources)
    if s.ndim == 2 and s.shape[0] == 0:
        s = s.reshape(0, 2)
    if s.ndim != 2 or s.shape[1] != 2 or (s.size and s.dtype.kind not in "iu"):
        raise InputError(f"sources must be an integer array of shape (K, 2) holding (row, col); got {s.shape}")
    s = s.astype(np.int64)
    bad = np.flatnonzero((s[:, 0] < 0) | (s[:, 0] >= shape[0]) | (s[:, 1] < 0) | (s[:, 1] >= shape[1]))
    if bad.size:
        i = int(bad[0])
        raise InputError(f"sources[{i}] = (row {s[i, 0]}, col {s[i, 1]}) lies outside the {shape[0]} x {shape[1]} "
                         f"friction grid; give (row, col) cell indices inside it")
    return s


def _cell_size(raster: WindowedRaster, cell_size):
    if cell_size is None:
        dx, dy = raster.transform[1], -raster.transform[5]
        if 'GEOGCS' in raster.crs and 'PROJCS' not in raster.crs:
            raise InputError(f"raster '{raster.path}' is in degrees (geographic CRS); give cell_size=(dx, dy) in "
                             f"metres (dx one width per row) or warp it to a metric CRS")
        return float(abs(dx)), float(abs(dy))
    dx, dy = cell_size
    if np.ndim(dx):
        dx = np.ascontiguousarray(dx, dtype=np.float64)
        if dx.shape != (raster.rows,):
            raise InputError(f"cell_size dx per row must have one width per grid row ({raster.rows}); got {dx.shape}")
        return dx, float(dy)
    return float(dx), float(dy)


def travel_time_tiled(friction, sources, *, out_seconds, out_nearest, tile_size: int = 4096, cell_size=None,
                      neighbours: int = 8, max_seconds=None, start_offsets_seconds=None, transform=None, crs: str = "",
                      client=None, scheduler: str | None = None, workers: int | None = None, memory_limit="auto",
                      scratch=None, progress=None) -> TiledTravelTime:
    """Seconds to the nearest source and its index for every cell, tile by tile on Dask, written to two tiled
    GeoTIFFs (``out_seconds`` float32 with NaN where unreachable, ``out_nearest`` int32 with -1), or to Zarr
    arrays for paths ending in ``.zarr`` (:class:`careshed.tiled.rasters.TiledZarr`).

    friction: a raster path (GeoTIFF, COG, VRT, Zarr — any GDAL raster; band 1; no data impassable) or a 2-D
        array (written to a scratch GeoTIFF first; ``transform``/``crs`` georeference it, default a 1 m grid).
    sources: (K, 2) (row, col) cells; start_offsets_seconds: (K,) seconds added at each source.
    tile_size: cells per tile side (>= 2 with 16 neighbours). cell_size: (dx, dy) metres, default the raster's.
    client / scheduler / workers / memory_limit: which Dask cluster (see :func:`dask_client`).
    scratch: folder for the tiles' labels between rounds (default a temporary folder; on a multi-machine
        cluster a folder every worker can write, e.g. on NFS), removed afterwards.
    progress: callable (fraction, phase), default the current reporter (careshed.progress).
    """
    t_start = time.perf_counter()
    halo = checked_tile_size(tile_size, neighbours)
    report = progress if progress is not None else current_progress()
    with run_folder(scratch) as run_dir:
        raster, dx, dy = open_friction(friction, run_dir, cell_size, transform, crs)
        src = checked_sources(sources, raster.shape)
        offsets = checked_start_offsets(start_offsets_seconds, src.shape[0])
        layout = TileLayout(raster.rows, raster.cols, int(tile_size), halo)
        from distributed import as_completed  # lazily: only tiled runs need Dask
        with dask_client(client=client, scheduler=scheduler, workers=workers, memory_limit=memory_limit) as dc:
            # 1. The whole grid's arithmetic from the tiles' friction summaries.
            summary = whole_summary(dc, raster, layout)
            scale = tiled_scale(raster.shape, (dx, dy), summary, src.shape[0],
                                max_start_offset=float(offsets.max()) if offsets is not None and offsets.size else 0.0,
                                neighbours=neighbours, max_seconds=max_seconds)
            jobs = [_job(layout, k, raster, dx, dy, scale, neighbours, max_seconds, src, offsets, run_dir)
                    for k in range(len(layout))]
            place = _Placement(dc)
            try:
                # 2. Rounds until no tile's border changes.
                frames: dict[int, list] = {}
                dirty = sorted(k for k in range(len(layout)) if jobs[k].sources.shape[0])
                rounds = searches = 0
                searched: set[int] = set()
                sizes = []
                while dirty:
                    rounds += 1
                    sizes.append(len(dirty))
                    futs = {dc.submit(_tile_task, jobs[k], _incoming(layout, k, frames), rounds, pure=False,
                                      **place.of(k)): k for k in dirty}
                    results = {}
                    for done, fut in enumerate(as_completed(futs), 1):
                        results[futs[fut]] = fut.result()
                        if report is not None:
                            frac = len(searched | set(results)) / len(layout)
                            report(min(0.9, 0.9 * frac), f"tiled travel time: round {rounds}, {done}/{len(futs)} tiles")
                    searches += sum(1 for _, st in results.values() if st["searched"])
                    searched.update(results)
                    nxt = set()
                    for k, (new, stats) in results.items():
                        place.ran(k, stats["worker"])
                        old = frames.get(k)
                        for s, (rect, lab) in enumerate(new):
                            changed = lab != UNREACHED_LABEL if old is None else lab != old[s][1]
                            if changed.any():
                                rr, cc = np.nonzero(changed)
                                rr = rr + rect[0]
                                cc = cc + rect[2]
                                for u in layout.near(k):
                                    w = layout.window(u)
                                    if np.any((rr >= w[0]) & (rr < w[1]) & (cc >= w[2]) & (cc < w[3])):
                                        nxt.add(u)
                        frames[k] = new
                    dirty = sorted(nxt)
                # 3. Outputs: the workers turn their tiles' labels into seconds and nearest, the client writes
                # them tile by tile (it holds a few tiles at a time).
                delivered = _finished_tiles(dc, as_completed, place, sorted(searched),
                                            lambda k: (jobs[k], _incoming(layout, k, frames), rounds + 1))
                # The client compresses with as many threads as the cluster has workers (they wait meanwhile),
                # at most its own cores.
                threads = min(os.cpu_count() or 1, max(1, len(place.count)))
                paths = _write_outputs(out_seconds, out_nearest, raster, layout, delivered, scale, report, threads)
            finally:
                place.forget(run_dir)
        return TiledTravelTime(paths[0], paths[1], raster.shape, int(tile_size), len(layout), rounds, searches,
                               len(searched), scale.tick_seconds, time.perf_counter() - t_start, sizes)


class _Placement:
    """Which Dask worker searches which tile: the one that searched it last (its labels are in that worker's
    memory), the least busy one for a tile's first search. Loose restrictions: a tile whose worker is gone runs
    elsewhere (from its scratch file or from scratch). On a cluster it did not start (work stealing on), Dask
    may still move a task; that costs a search from the tile's older state, never correctness."""

    def __init__(self, dc):
        self.dc = dc
        self.where: dict[int, str] = {}
        self.count: dict[str, int] = {}
        try:
            self.count = {w: 0 for w in dc.scheduler_info()["workers"]}
        except (KeyError, AttributeError, OSError):
            pass

    def of(self, k: int) -> dict:
        if k not in self.where:
            if not self.count:
                return {}
            w = min(self.count, key=lambda a: (self.count[a], a))
            self.where[k] = w
            self.count[w] += 1
        return {"workers": [self.where[k]], "allow_other_workers": True}

    def ran(self, k: int, worker) -> None:
        if worker is not None and self.where.get(k) != worker:
            if k in self.where and self.where[k] in self.count:
                self.count[self.where[k]] -= 1
            self.where[k] = worker
            self.count[worker] = self.count.get(worker, 0) + 1

    def forget(self, run_dir) -> None:
        """Frees the run's labels in every worker's memory (a run stopped half-way leaves them there)."""
        with contextlib.suppress(Exception):
            self.dc.run(_drop_run, str(run_dir))


def checked_tile_size(tile_size, neighbours: int) -> int:
    """The halo of tiles of ``tile_size`` cells with ``neighbours`` (8 or 16), or an InputError."""
    if isinstance(tile_size, bool) or not isinstance(tile_size, (int, np.integer)) or tile_size < 1:
        raise InputError(f"tile_size must be a positive number of cells; got {tile_size!r}")
    halo = tile_halo(neighbours)
    if tile_size < halo:
        raise InputError(f"tile_size must be at least {halo} cells with {neighbours} neighbours; got {tile_size}")
    return halo


@contextlib.contextmanager
def run_folder(scratch=None):
    """A fresh folder for one run's tile labels inside ``scratch`` (default: a temporary folder), removed
    afterwards with everything in it (and ``scratch`` too when it was made here)."""
    own_scratch = scratch is None
    scratch_dir = Path(tempfile.mkdtemp(prefix="careshed-tiles-")) if own_scratch else Path(scratch)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=scratch_dir))
    try:
        yield run_dir
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        if own_scratch:
            shutil.rmtree(scratch_dir, ignore_errors=True)


def open_friction(friction, run_dir: Path, cell_size=None, transform=None, crs: str = ""):
    """(windowed reader, dx, dy) of a friction raster path, or of a 2-D array written to ``run_dir`` first."""
    if isinstance(friction, (str, os.PathLike)):
        raster = open_windowed(friction)
    else:
        a = np.asarray(friction)
        if a.ndim != 2 or a.dtype.kind not in "iuf":
            raise InputError(f"friction must be a raster path or a 2-D float array; got {a.dtype} {a.shape}")
        if cell_size is None and transform is None:
            raise InputError("friction given as an array needs cell_size=(dx, dy) in metres or a transform")
        gt = tuple(transform) if transform is not None else (0.0, 1.0, 0.0, float(a.shape[0]), 0.0, -1.0)
        raster = open_windowed(write_small_geotiff(run_dir / "friction.tif", a, gt, crs))
    dx, dy = _cell_size(raster, cell_size)
    return raster, dx, dy


def whole_summary(dc, raster: WindowedRaster, layout: TileLayout) -> tuple[float, int]:
    """The whole grid's friction summary (largest finite friction, passable cells), one task per tile."""
    futs = [dc.submit(_summary_task, raster, layout.own(k), pure=False) for k in range(len(layout))]
    summaries = dc.gather(futs)
    return max(s[0] for s in summaries), sum(s[1] for s in summaries)


def _finished_tiles(dc, as_completed, place, tiles: list, args, in_flight: int = 0):
    """(tile, seconds, nearest) of each of ``tiles`` from its worker's :func:`_finish_task`, as they complete;
    at most ``in_flight`` (default two per worker) tasks at a time, so that finished tiles do not pile up in the
    workers' memory while the client writes."""
    limit = in_flight or max(2, 2 * len(place.count))
    todo = list(tiles)
    pending = {}

    def submit():
        k = todo.pop(0)
        pending[dc.submit(_finish_task, *args(k), pure=False, **place.of(k))] = k

    while todo and len(pending) < limit:
        submit()
    queue = as_completed(list(pending))
    for fut in queue:
        k = pending.pop(fut)
        seconds, nearest, _stats = fut.result()
        del fut
        if todo:
            submit()
            queue.add(next(reversed(pending)))
        yield k, seconds, nearest


def _write_outputs(out_seconds, out_nearest, raster, layout, delivered, scale, report, threads=1) -> list[Path]:
    """The two outputs of a finished run (tiled GeoTIFFs compressed in ``threads`` threads, or Zarr for .zarr
    paths), tile by tile as ``delivered`` yields (tile, seconds, nearest); tiles it does not deliver (never
    searched) are unreachable. Both outputs appear or neither."""
    meta = {"UNITS": "seconds", "TICK_SECONDS": repr(scale.tick_seconds)}
    outs = []
    try:
        outs.append(tiled_writer(out_seconds, raster.shape, raster.transform, raster.crs, "float32",
                                 nodata=float("nan"), metadata=meta, threads=threads))
        outs.append(tiled_writer(out_nearest, raster.shape, raster.transform, raster.crs, "int32", nodata=-1,
                                 threads=threads))
        written = set()

        def progress():
            if report is not None:
                report(0.9 + 0.1 * len(written) / len(layout), "tiled travel time: writing")

        for k, seconds, nearest in delivered:
            r0, _, c0, _ = layout.own(k)
            outs[0].write(r0, c0, seconds)
            outs[1].write(r0, c0, nearest)
            written.add(k)
            progress()
        for k in range(len(layout)):
            if k not in written:
                r0, r1, c0, c1 = layout.own(k)
                outs[0].write(r0, c0, np.full((r1 - r0, c1 - c0), np.nan, np.float32))
                outs[1].write(r0, c0, np.full((r1 - r0, c1 - c0), -1, np.int32))
                written.add(k)
                progress()
        paths = [o.commit() for o in outs]
        outs = []
        return paths
    finally:
        for o in outs:
            o.abort()


def _job(layout: TileLayout, k, raster, dx, dy, scale, neighbours, max_seconds, src, offsets, run_dir) -> _TileJob:
    fields, idx = window_job_fields(layout, k, raster, dx, dy, scale, neighbours,
                                    None if max_seconds is None or math.isinf(max_seconds) else float(max_seconds),
                                    src, offsets, str(run_dir / f"tile{k}.npy"))
    return _TileJob(**fields, source_index=idx.astype(np.int32))


def _incoming(layout: TileLayout, k: int, frames: dict) -> list:
    """The neighbours' border labels that fall in tile k's window: [(rect, packed labels)], clipped to it."""
    w = layout.window(k)
    out = []
    for u in layout.near(k):
        for rect, lab in frames.get(u, ()):
            cut = _intersect(rect, w)
            if cut is not None:
                a0, a1, b0, b1 = cut
                out.append((cut, lab[a0 - rect[0]:a1 - rect[0], b0 - rect[2]:b1 - rect[2]]))
    return out


# ---- the same face: one switch between the in-memory and the tiled engine -------------------------------------

#: Cells per tile side when tiling is chosen automatically.
DEFAULT_TILE_SIZE = 4096


@dataclass(frozen=True)
class Tiling:
    """How a Study searches: ``tiles`` None (in memory), a tile side in cells, or ``"auto"`` (tiles of
    DEFAULT_TILE_SIZE when the core's memory estimate says the in-memory search does not fit); ``client`` (a
    running Dask client), or ``workers``, ``scheduler`` and ``memory_limit`` pick the Dask cluster (see
    :func:`dask_client`); ``scratch`` is the folder of the tiles' labels between rounds (on a multi-machine
    cluster one every worker can write, e.g. on NFS; default a local temporary folder)."""

    tiles: object = None
    workers: int | None = None
    scheduler: str | None = None
    memory_limit: object = "auto"
    client: object = field(default=None, compare=False)   # a running Dask client to use instead (the CLI's)
    scratch: object = None   # the tiles' labels between rounds: a folder every worker writes (default: local temp)

    def __post_init__(self):
        t = self.tiles
        if t is not None and t != "auto" and (isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 2):
            raise InputError(f"tiles must be a tile side in cells (>= 2), 'auto' or None; got {t!r}")
        w = self.workers
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
            raise InputError(f"workers must be a positive number of Dask workers; got {w!r}")

    def tile_size_for(self, shape, n_sources: int, max_seconds=None, max_memory_bytes: int = 0) -> int | None:
        """The tile side to use on a grid of ``shape``, or None for the in-memory engine: below one tile the
        in-memory engine is used (it is the same search without the exchange); "auto" tiles only when the
        in-memory search would not fit."""
        if self.tiles is None:
            return None
        if self.tiles == "auto":
            fits, _text = in_memory_search_fits(shape[0], shape[1], n_sources, max_seconds, max_memory_bytes)
            return None if fits else DEFAULT_TILE_SIZE
        size = int(self.tiles)
        return None if shape[0] <= size and shape[1] <= size else size


def nearest_travel_time_any(friction, sources, cell_size, start_offsets_seconds, max_seconds, neighbours,
                            tiling: Tiling | None, transform=None, crs: str = ""):
    """:func:`careshed.arrays.nearest_travel_time`, or the same result from :func:`travel_time_tiled` when
    ``tiling`` asks for tiles on a grid of this size. The tiled result is returned as arrays mapped from disk
    (:func:`mapped_from_disk`: file-backed pages, read as the analyses touch them, never a grid of anonymous
    memory); the Study's own grids (people, zones, classes, friction) are in memory, so for grids that do not
    fit one machine use travel_time_tiled and coverage_tiled directly."""
    f = np.asarray(friction)
    size = None if tiling is None else tiling.tile_size_for(f.shape, len(sources), max_seconds, current_max_memory())
    if size is None:
        return nearest_travel_time(friction, sources, cell_size, start_offsets_seconds, max_seconds, neighbours)
    with tempfile.TemporaryDirectory(prefix="careshed-tiled-") as tmp:
        r = travel_time_tiled(f, sources, out_seconds=Path(tmp) / "seconds.tif", out_nearest=Path(tmp) / "nearest.tif",
                              tile_size=size, cell_size=tuple(float(v) for v in cell_size), neighbours=int(neighbours),
                              max_seconds=max_seconds, start_offsets_seconds=start_offsets_seconds, transform=transform,
                              crs=crs, client=tiling.client, scheduler=tiling.scheduler, workers=tiling.workers,
                              memory_limit=tiling.memory_limit, scratch=tiling.scratch)
        seconds = mapped_from_disk(r.seconds_path, np.float32, np.inf, Path(tmp) / "seconds.npy")
        nearest = mapped_from_disk(r.nearest_path, np.int32, -1, Path(tmp) / "nearest.npy")
    return seconds, nearest


def mapped_from_disk(raster_path, dtype, nodata, npy_path: Path, band_rows: int = 256) -> np.ndarray:
    """The raster at ``raster_path`` as a C-contiguous ``dtype`` array mapped from the .npy file ``npy_path``
    (copy-on-write: writes stay private), filled by bands of ``band_rows`` rows (NaN -> ``nodata``). The caller
    may delete the file at once: the mapping keeps it readable until the array is freed, and its pages are the
    file's, which the operating system reads in and drops as needed."""
    raster = open_windowed(raster_path)
    out = np.lib.format.open_memmap(npy_path, mode="w+", dtype=dtype, shape=raster.shape)
    for r0 in range(0, raster.rows, band_rows):
        r1 = min(raster.rows, r0 + band_rows)
        band = raster.read(r0, r1, 0, raster.cols)
        out[r0:r1] = np.where(np.isnan(band), nodata, band).astype(dtype)
    out.flush()
    del out
    return np.load(npy_path, mmap_mode="c")
