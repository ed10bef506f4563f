"""``careshed.Study`` — the planner's API: a study area prepared once, one method per analysis.

:class:`Study` is :class:`careshed.prepared.PreparedStudy` (zones, grid, people, classes, travel model) plus
one method per analysis; each method is a thin call into the analysis module that implements it
(``careshed/analyses/<name>.py``, function ``run``). The preparation sits below the analyses and this class
above them, so imports only go down (docs/architecture.md); a new analysis adds one module and one method here.

The old free functions (``careshed.reach(zones, stations, ...)``, ``study_catchments(study, ...)``,
``study_access(study, ...)``) are kept as deprecated aliases for one release.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import warnings

from .analyses import access as access_analysis
from .analyses import catchments as catchments_analysis
from .analyses import density as density_analysis
from .analyses import hours as hours_analysis
from .analyses import round_trip as round_trip_analysis
from .analyses import optimize as optimize_analysis
from .analyses import reach as reach_analysis
from .analyses import outreach as outreach_analysis
from .analyses import referral as referral_analysis
from .analyses.access import AccessMap
from .analyses.catchments import Catchments
from .analyses.reach import Reach
from .errors import InputError
from .prepared import PreparedStudy
from .memory import current as current_max_memory
from .memory import limiting
from .progress import as_reporter, reporting
from .report import write_report
from .tiled.access import reach_lists_on_tiles
from .tiled.search import Tiling, nearest_travel_time_any

__all__ = ["Study", "reach", "study_catchments", "study_access", "RENAMED_KEYWORDS"]

#: Keywords renamed for one vocabulary (facility everywhere); the old names still work with a DeprecationWarning.
RENAMED_KEYWORDS = {"station_id": "facility_id"}


def renamed_keywords(kwargs: dict, where: str, stacklevel: int = 3) -> dict:
    """`kwargs` with the old keyword names of :data:`RENAMED_KEYWORDS` replaced (a DeprecationWarning each)."""
    for old, new in RENAMED_KEYWORDS.items():
        if old in kwargs:
            if new in kwargs:
                raise TypeError(f"{where}: give {new}= only ({old}= is its former name)")
            warnings.warn(f"{where}: {old}= is deprecated; use {new}=", DeprecationWarning, stacklevel=stacklevel)
            kwargs[new] = kwargs.pop(old)
    return kwargs


def _analysis_method(run, name: str):
    """A Study method calling ``run(study, ...)`` of an analysis module (signature and docs from `run`)."""
    @functools.wraps(run)
    def method(self, *args, progress=None, max_memory=None, **kwargs):
        with run_settings(progress, max_memory):
            return run(self, *args, **renamed_keywords(kwargs, f"Study.{name}"))
    method.__name__ = method.__qualname__ = name
    method.__doc__ = (run.__doc__ or "") + PROGRESS_DOC
    sig = inspect.signature(run)
    params = [q for q in sig.parameters.values() if q.kind != q.VAR_KEYWORD]
    params += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None)
               for name in ("progress", "max_memory")]
    params += [q for q in sig.parameters.values() if q.kind == q.VAR_KEYWORD]
    method.__signature__ = sig.replace(parameters=params)
    return method


#: What every Study method (and Study itself) says about ``progress=``.
PROGRESS_DOC = """
    progress : bool or callable, optional
        True draws a progress bar of the long steps (a widget in Jupyter, tqdm.auto); a callable is called as
        ``progress(fraction, phase)``. Default: none (or the command line's bar). Ctrl-C / Jupyter's interrupt
        stops a run within about a second either way (KeyboardInterrupt), and leaves no partial output.
    max_memory : str or int, optional
        The most memory the run may use ("8G", "500M", or bytes). careshed estimates each long step's peak memory
        before allocating and refuses one that would not fit this limit or the available memory
        (careshed.errors.MemoryLimitError, a MemoryError, with the estimate and what to change: cell size, cut-off,
        tiles). Default: the available memory only.
"""


def run_settings(progress, max_memory) -> contextlib.ExitStack:
    """The context of one run: its progress reporter and memory limit (None: keep what is installed, e.g. by the
    command line)."""
    stack = contextlib.ExitStack()
    if progress is not None:
        stack.enter_context(reporting(as_reporter(progress)))
    if max_memory is not None:
        stack.enter_context(limiting(max_memory))
    return stack


TILES_DOC = """
    tiles : int or "auto", optional
        Search travel times tile by tile on Dask (careshed.tiled; docs/scale.md): tiles of this many cells per side,
        or "auto" (tiles of 4096 when the in-memory search would not fit the available memory or max_memory).
        Results are identical to the in-memory search; grids of one tile or less use the in-memory search.
    workers : int, optional
        Dask worker processes of the LocalCluster started for a tiled search (default: the machine's cores).
    scheduler : str, optional
        Address of an existing Dask scheduler (``tcp://host:8786``) to run the tiles on instead.
    client : distributed.Client, optional
        A running Dask client to run the tiles on (one cluster for every search of the Study; its dashboard shows
        the tasks: ``client.dashboard_link``).
    scratch : path, optional
        Folder for the tiles' labels between rounds; on a multi-machine cluster one every worker can write (NFS).
        Default: a local temporary folder (a local cluster only).
"""


class Study(PreparedStudy):
    __doc__ = (PreparedStudy.__doc__ or "") + PROGRESS_DOC + TILES_DOC

    def __init__(self, zones, *args, progress=None, max_memory=None, tiles=None, workers=None, scheduler=None,
                 client=None, scratch=None, **kwargs):
        self.tiling = Tiling(tiles, workers, scheduler, client=client, scratch=scratch)
        with run_settings(progress, max_memory):
            super().__init__(zones, *args, **kwargs)
        if self.tiling.tiles is not None and self.terrain is not None:
            raise InputError(f"tiles={tiles!r}: walking on terrain (travel={{'dem': ...}}) is not tiled yet — the "
                             "terrain engine has no tile kernel; drop tiles= (the in-memory search), or leave 'dem' "
                             "out of travel= to tile the isotropic friction (docs/scale.md)")
        if self.tiling.tiles is not None and self.ride is not None:
            raise InputError(f"tiles={tiles!r}: walking then riding (travel={{'modes': ...}}) is not tiled yet — its "
                             "search alternates the grid with the ride network; drop tiles= (the in-memory search), "
                             "or leave 'modes' out of travel= to tile the walking friction (docs/scale.md)")

    def nearest_travel_time(self, sources, start_offsets_seconds, max_seconds, neighbours, hour=None,
                            direction=None):
        """PreparedStudy.nearest_travel_time, tile by tile on Dask when the Study was made with ``tiles=`` (see
        careshed.tiled.search.Tiling; same results). A Study walking on terrain or walking then riding refuses
        tiles= (not tiled yet)."""
        if self.tiling.tiles is None:
            return super().nearest_travel_time(sources, start_offsets_seconds, max_seconds, neighbours, hour=hour,
                                               direction=direction)
        return nearest_travel_time_any(self.friction_at(hour).seconds_per_metre, sources, self.grid.cell_size,
                                       start_offsets_seconds, max_seconds, neighbours, self.tiling,
                                       self.grid.transform, self.grid.crs)

    def searches_reach_lists(self, n_sources, max_seconds):
        """PreparedStudy.searches_reach_lists: also when the Study tiles the searches of a grid this size."""
        return (super().searches_reach_lists(n_sources, max_seconds)
                or self.tiling.tile_size_for(self.grid.shape, n_sources, max_seconds, current_max_memory()) is not None)

    def reach_lists(self, sources, max_seconds, neighbours, start_offsets_seconds=None):
        """PreparedStudy.reach_lists, tile by tile on Dask when the Study tiles a grid this size
        (careshed.tiled.access.reach_lists_tiled: the same lists bit for bit)."""
        size = self.tiling.tile_size_for(self.grid.shape, len(sources), max_seconds, current_max_memory())
        if size is None:
            return super().reach_lists(sources, max_seconds, neighbours, start_offsets_seconds)
        return reach_lists_on_tiles(self.tiling, size, self.friction.seconds_per_metre, sources, max_seconds,
                                    self.grid.cell_size, neighbours, start_offsets_seconds, self.grid.transform,
                                    self.grid.crs)

    #: Response time from stations and who is covered within the urban/rural thresholds (careshed.analyses.reach).
    reach = _analysis_method(reach_analysis.run, "reach")
    #: Reach at chosen hours of the day and the worst hour per zone (careshed.analyses.hours).
    reach_by_hour = _analysis_method(hours_analysis.run, "reach_by_hour")
    #: The ambulance's round trip: response + transport to definitive care (careshed.analyses.round_trip).
    round_trip = _analysis_method(round_trip_analysis.run, "round_trip")
    #: Nearest-facility catchments and capacity-aware coverage (careshed.analyses.catchments).
    catchments = _analysis_method(catchments_analysis.run, "catchments")
    #: Floating-catchment accessibility, 2SFCA family (careshed.analyses.access).
    access = _analysis_method(access_analysis.run, "access")
    #: Site optimisation: where new sites go, with a proven bound and the marginal-gain curve (analyses.optimize).
    optimize = _analysis_method(optimize_analysis.run, "optimize")
    #: Resources per N residents by zone against targets (careshed.analyses.density).
    density = _analysis_method(density_analysis.run, "density")
    #: Facility levels and referral: time to each level, referral targets, two-leg times, gaps (analyses.referral).
    referral = _analysis_method(referral_analysis.run, "referral")
    #: Mobile outreach: service points for the gap in fixed care, each team's monthly circuit (analyses.outreach).
    outreach = _analysis_method(outreach_analysis.run, "outreach")

    def report(self, results, path, **kwargs):
        """Write the offline HTML report of `results` (made on this study) to `path`; keywords as
        :func:`careshed.report.write_report` (lang, title, targets, density, record, standard_field, ...)."""
        results = list(results) if isinstance(results, (list, tuple)) else [results]
        for r in results:
            if getattr(r, "study", None) is not self:
                raise InputError(f"Study.report: a {type(r).__name__} made on another study; report results of "
                                 "this study only")
        return write_report(path, results, **kwargs)


# ---- deprecated entry points (one release) ----------------------------------------------------------------

_STUDY_ARGS = ("zone_id", "population", "population_raster", "population_band", "class_shares", "classes",
               "friction", "friction_unit", "speed_raster", "travel", "cell_size_m", "metric_crs", "margin_m", "counting",
               "keep", "region_label", "zones_layer")


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


def reach(zones, stations, *, zone_id, thresholds_min=None, modelled=None, notes=None, **kwargs) -> Reach:
    """Deprecated: ``careshed.Study(zones, zone_id=..., ...).reach(stations, ...)``.

    Ambulance reach in one call; every keyword of :class:`Study` and :meth:`Study.reach` is accepted. ``crs=`` is
    the CRS of the stations (as in :meth:`Study.reach`); the grid's is ``metric_crs=``."""
    _deprecated("careshed.reach(zones, stations, ...)", "careshed.Study(zones, ...).reach(stations, ...)")
    study_kw = {k: kwargs.pop(k) for k in list(kwargs) if k in _STUDY_ARGS}
    study = Study(zones, zone_id=zone_id, modelled=modelled, notes=notes, thresholds_min=thresholds_min, **study_kw)
    return study.reach(stations, thresholds_min=thresholds_min, **kwargs)


def study_catchments(study, facilities, **kwargs) -> Catchments:
    """Deprecated: ``study.catchments(facilities, ...)``."""
    _deprecated("careshed.study_catchments(study, ...)", "study.catchments(...)")
    return catchments_analysis.run(study, facilities, **kwargs)


def study_access(study, facilities, **kwargs) -> AccessMap:
    """Deprecated: ``study.access(facilities, ...)``."""
    _deprecated("careshed.study_access(study, ...)", "study.access(...)")
    return access_analysis.run(study, facilities, **kwargs)
