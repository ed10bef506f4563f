"""careshed.tiled.search: the Dask driver of the tiled search. Oracle: the in-memory engine
(careshed.arrays.travel_time_grid) on the same grid — equality of every cell's float32 seconds (bit for bit)
and nearest index, in the arrays and in the written GeoTIFFs, for several tile sizes; a worker process killed
mid-run gives the same file bytes; progress is reported. Seeds are logged (CARESHED_TEST_SEED)."""
from __future__ import annotations

import os
import signal
import warnings

import numpy as np
import pytest

from careshed.arrays import travel_time_grid
from careshed.errors import InputError
from careshed.tiled import TileLayout, open_windowed, travel_time_tiled

distributed = pytest.importorskip("distributed")

SEED = int(os.environ.get("CARESHED_TEST_SEED", np.random.SeedSequence().entropy % 2**32))


def _problem(seed, shape=(41, 53), k=25, dtype=np.float32):
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.02, 1.5, shape)
    f[:, shape[1] // 2] = 0.05                      # a fast road across every row of tiles
    f[rng.random(shape) < 0.08] = np.nan            # barriers (no data)
    f[rng.random(shape) < 0.03] = np.inf
    src = np.stack([rng.integers(0, shape[0], k), rng.integers(0, shape[1], k)], 1)
    src[:4] = [[7, 7], [8, 8], [15, 0], [0, 15]]   # on the corners and edges of 8-cell tiles
    f[src[:, 0], src[:, 1]] = 0.7
    return f.astype(dtype), src


def _same(a, b):
    return np.array_equal(np.ascontiguousarray(a, np.float32).view(np.int32),
                          np.ascontiguousarray(b, np.float32).view(np.int32))


@pytest.mark.parametrize("tile_size", [5, 8, 64])
@pytest.mark.parametrize("neighbours", [8, 16])
def test_equal_to_the_in_memory_engine_in_arrays_and_geotiff(dask_threads, tmp_path, tile_size, neighbours):
    print(f"CARESHED_TEST_SEED={SEED}")
    f, src = _problem(SEED + tile_size)
    offsets = np.arange(len(src), dtype=np.float64) % 3 * 20.0
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(25.0, 25.0), neighbours=neighbours,
                                    start_offsets_seconds=offsets)
    r = travel_time_tiled(f, src, out_seconds=tmp_path / "s.tif", out_nearest=tmp_path / "n.tif",
                          tile_size=tile_size, cell_size=(25.0, 25.0), neighbours=neighbours,
                          start_offsets_seconds=offsets, client=dask_threads)
    s, n = r.read()
    assert _same(s, ref_s)
    assert np.array_equal(n, ref_n)
    assert r.tiles == len(TileLayout(41, 53, tile_size, 1)) and r.rounds >= 1
    # The files themselves: float32 seconds with NaN where unreachable, int32 nearest with -1.
    from osgeo import gdal
    ds = gdal.Open(str(tmp_path / "s.tif"))
    assert ds.GetRasterBand(1).DataType == gdal.GDT_Float32
    assert ds.GetRasterBand(1).GetBlockSize() == [256, 256]
    raw = ds.ReadAsArray()
    assert np.array_equal(np.isnan(raw), np.isinf(ref_s))
    assert _same(np.where(np.isnan(raw), np.inf, raw), ref_s)
    assert gdal.Open(str(tmp_path / "n.tif")).GetRasterBand(1).DataType == gdal.GDT_Int32


def test_labels_through_the_scratch_folder_and_lost_states_change_nothing(dask_threads, tmp_path, monkeypatch):
    """The tiles' labels between rounds: all through the scratch folder (a memory budget of 1 byte), and with
    states lost at random (as with a killed worker: the task finds an older state on disk, or none, and starts
    from it with its neighbours' current borders). Oracle: the in-memory engine, bit for bit."""
    import careshed.tiled.search as S
    print(f"CARESHED_TEST_SEED={SEED}")
    f, src = _problem(SEED + 7, (37, 44), 20)
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(25.0, 25.0), neighbours=16)
    kw = dict(tile_size=6, cell_size=(25.0, 25.0), neighbours=16, client=dask_threads)
    monkeypatch.setenv("CARESHED_TILE_CACHE_BYTES", "1")
    r = travel_time_tiled(f, src, out_seconds=tmp_path / "s1.tif", out_nearest=tmp_path / "n1.tif", **kw)
    s, n = r.read()
    assert _same(s, ref_s) and np.array_equal(n, ref_n)
    monkeypatch.delenv("CARESHED_TILE_CACHE_BYTES")
    rng = np.random.default_rng(SEED)
    real_take = S._STORE.take
    lost = []

    def forgetful_take(path):
        got = real_take(path)
        if got[1] is not None and rng.random() < 0.3:
            lost.append(path)
            try:   # what a new worker would find: the scratch file (an older state, if one was written), or none
                with open(path, "rb") as fh:
                    return int(np.load(fh)[0]), np.load(fh), "disk", None
            except FileNotFoundError:
                return -1, None, "none", None
        return got

    real_put = S._STORE.put

    def sometimes_on_disk(path, round_no, labels, friction=None):
        if rng.random() < 0.3:
            with open(path, "wb") as fh:
                np.save(fh, np.array([round_no], np.int64))
                np.save(fh, labels)
        return real_put(path, round_no, labels.copy(), friction)

    monkeypatch.setattr(S._STORE, "take", forgetful_take)
    monkeypatch.setattr(S._STORE, "put", sometimes_on_disk)
    r2 = travel_time_tiled(f, src, out_seconds=tmp_path / "s2.tif", out_nearest=tmp_path / "n2.tif", **kw)
    assert lost, "no state was dropped: the test did not test anything"
    s, n = r2.read()
    assert _same(s, ref_s) and np.array_equal(n, ref_n)
    assert r2.rounds == r.rounds  # a tile's fixed point does not depend on where its search started


def test_cutoff_prunes_tiles_and_keeps_equality(dask_threads, tmp_path):
    f, src = _problem(SEED, (60, 60), 4)
    src = np.array([[2, 2]])
    f[2, 2] = 1.0
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(10.0, 10.0), max_seconds=60.0)
    r = travel_time_tiled(f, src, out_seconds=tmp_path / "s.tif", out_nearest=tmp_path / "n.tif", tile_size=6,
                          cell_size=(10.0, 10.0), max_seconds=60.0, client=dask_threads)
    s, n = r.read()
    assert _same(s, ref_s) and np.array_equal(n, ref_n)
    assert r.tiles_searched < r.tiles / 4  # tiles beyond 60 s of the source are never searched


def test_reads_a_vrt_of_several_geotiffs(dask_threads, tmp_path):
    from osgeo import gdal
    f, src = _problem(SEED, (30, 40), 6, np.float64)
    paths = []
    for i, (c0, c1) in enumerate([(0, 17), (17, 40)]):
        p = tmp_path / f"part{i}.tif"
        ds = gdal.GetDriverByName("GTiff").Create(str(p), c1 - c0, 30, 1, gdal.GDT_Float64)
        ds.SetGeoTransform((500000.0 + 100.0 * c0, 100.0, 0.0, 1000000.0, 0.0, -100.0))
        ds.GetRasterBand(1).SetNoDataValue(-9999.0)
        ds.GetRasterBand(1).WriteArray(np.where(np.isfinite(f[:, c0:c1]), f[:, c0:c1], -9999.0))
        ds = None
        paths.append(str(p))
    gdal.BuildVRT(str(tmp_path / "all.vrt"), paths)
    assert open_windowed(tmp_path / "all.vrt").shape == (30, 40)
    f = np.where(np.isfinite(f), f, np.nan)
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(100.0, 100.0))
    r = travel_time_tiled(tmp_path / "all.vrt", src, out_seconds=tmp_path / "s.tif", out_nearest=tmp_path / "n.tif",
                          tile_size=7, client=dask_threads)
    s, n = r.read()
    assert _same(s, ref_s) and np.array_equal(n, ref_n)


def test_zarr_friction_in_zarr_outputs_out(dask_threads, tmp_path):
    """Friction from a Zarr array written by the zarr library (as xarray users have it), outputs to Zarr: the same
    times as the in-memory engine, read back by zarr and by GDAL, georeferenced like the friction."""
    zarr = pytest.importorskip("zarr")
    f, src = _problem(SEED + 3, (33, 29), 7)
    z = zarr.open(str(tmp_path / "friction.zarr"), mode="w", shape=f.shape, chunks=(10, 10), dtype="f4",
                  fill_value=np.nan)
    z[:] = np.where(np.isfinite(f), f, np.nan)
    ref_s, ref_n = travel_time_grid(np.where(np.isfinite(f), f, np.nan), src, cell_size=(50.0, 50.0))
    r = travel_time_tiled(tmp_path / "friction.zarr", src, out_seconds=tmp_path / "seconds.zarr",
                          out_nearest=tmp_path / "nearest.zarr", tile_size=6, cell_size=(50.0, 50.0), client=dask_threads)
    s, n = r.read()
    assert _same(s, ref_s) and np.array_equal(n, ref_n)
    zs = zarr.open(str(tmp_path / "seconds.zarr"), mode="r")["seconds"][:]
    assert _same(np.where(np.isnan(zs), np.inf, zs), ref_s)
    assert np.array_equal(zarr.open(str(tmp_path / "nearest.zarr"), mode="r")["nearest"][:], ref_n)
    assert open_windowed(tmp_path / "nearest.zarr").transform == open_windowed(tmp_path / "friction.zarr").transform


def test_progress_is_reported_and_reaches_one(dask_threads, tmp_path):
    f, src = _problem(SEED)
    seen = []
    travel_time_tiled(f, src, out_seconds=tmp_path / "s.tif", out_nearest=tmp_path / "n.tif", tile_size=10,
                      cell_size=(1.0, 1.0), client=dask_threads, progress=lambda frac, phase: seen.append((frac, phase)))
    fracs = [x for x, _ in seen]
    assert fracs == sorted(fracs) and fracs[-1] == 1.0
    assert any("round 1" in p for _, p in seen) and seen[-1][1] == "tiled travel time: writing"


def test_the_local_cluster_says_where_its_dashboard_is():
    """dask_client's LocalCluster serves its dashboard on a free port; dashboard_address names it, and the
    address answers (the plots need bokeh; the workers' page is served without it)."""
    import urllib.request
    from careshed.tiled.search import dashboard_address, dask_client
    with dask_client(workers=1, processes=False) as c:
        link, text = dashboard_address(c)
        assert link.startswith("http://") and link.endswith("/status") and link in text
        page = link if "bokeh" not in text else link.rsplit("/", 1)[0] + "/info/main/workers.html"
        assert page in text
        with urllib.request.urlopen(page, timeout=20) as r:
            assert r.status == 200


def test_a_worker_killed_mid_run_changes_nothing(tmp_path, monkeypatch):
    # This cluster is made here, not by careshed: undo the Nanny's writes to os.environ (OMP_NUM_THREADS=1, ...)
    # after the test, or every later test's subprocess would run single-threaded.
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_", "DASK_PARENT"):
        if k in os.environ:
            monkeypatch.setenv(k, os.environ[k])
        else:
            monkeypatch.delenv(k, raising=False)
    f, src = _problem(SEED, (48, 48), 30)
    kw = dict(tile_size=6, cell_size=(30.0, 30.0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's warnings about the lost worker
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, distributed.Client(cluster) as c:
            clean = travel_time_tiled(f, src, out_seconds=tmp_path / "s0.tif", out_nearest=tmp_path / "n0.tif",
                                      client=c, **kw)
            pids = sorted(c.run(os.getpid).values())
            killed = []

            def kill_one(frac, phase):
                if not killed and "round 2" in phase:
                    os.kill(pids[0], signal.SIGKILL)  # while the round's other tasks are queued or running
                    killed.append(phase)

            hit = travel_time_tiled(f, src, out_seconds=tmp_path / "s1.tif", out_nearest=tmp_path / "n1.tif",
                                    client=c, progress=kill_one, **kw)
            assert killed, "the run ended before a worker could be killed"
            assert pids[0] not in c.run(os.getpid).values()  # the nanny started a new process
    assert (tmp_path / "s0.tif").read_bytes() == (tmp_path / "s1.tif").read_bytes()
    assert (tmp_path / "n0.tif").read_bytes() == (tmp_path / "n1.tif").read_bytes()
    ref_s, ref_n = travel_time_grid(f, src, cell_size=(30.0, 30.0))
    s, n = hit.read()
    assert _same(s, ref_s) and np.array_equal(n, ref_n) and clean.rounds == hit.rounds


_PEAK_SCRIPT = """
import json, sys
from distributed import Client, LocalCluster
from careshed.tiled import coverage_tiled, travel_time_tiled
folder, sources = sys.argv[1], json.loads(sys.argv[2])
with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cl, Client(cl) as c:
    r = travel_time_tiled(folder + "/friction.tif", sources, out_seconds=folder + "/s.tif",
                          out_nearest=folder + "/n.tif", tile_size=512, client=c)
    cov = coverage_tiled(r.seconds_path, r.nearest_path, folder + "/pop.tif", folder + "/zones.tif", [30],
                         tile_size=512, client=c)
# VmHWM: this process image's own peak (ru_maxrss would also count the parent's size at the spawn)
peak_kb = int(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")))
print(json.dumps({"peak_kb": peak_kb, "rounds": r.rounds,
                  "population": float(cov.zones["population"].iloc[-1])}))
"""


def test_peak_memory_does_not_grow_with_the_grid(tmp_path):
    """The raster path (travel_time_tiled + coverage_tiled, the client and its in-process worker) holds tiles,
    never a grid: a grid 4 times larger (4.2 M cells in 16 tiles against 1 M in 4; one grid-sized float64 array is
    34 MB, the in-memory search's labels 50 MB) raises the whole process's peak RSS (VmHWM) by less than 30 MB
    (measured: -13 to -10 MB on this machine). A generous functional bound, not a timing."""
    import json
    import subprocess
    import sys
    from careshed.tiled.rasters import write_small_geotiff
    rng = np.random.default_rng(SEED)
    print(f"CARESHED_TEST_SEED={SEED}")
    peaks = []
    for n in (1024, 2048):
        d = tmp_path / str(n)
        d.mkdir()
        f = rng.uniform(0.5, 1.5, (n, n)).astype(np.float32)
        f[n // 3, :] = 0.05
        gt = (500000.0, 100.0, 0.0, 1e6, 0.0, -100.0)
        write_small_geotiff(d / "friction.tif", f, gt)
        write_small_geotiff(d / "pop.tif", rng.uniform(0, 10, (n, n)).astype(np.float32), gt)
        write_small_geotiff(d / "zones.tif", (np.arange(n * n) % 7).reshape(n, n).astype(np.float32), gt)
        del f
        sources = [[10, 10], [n // 2, n // 2], [n - 5, n // 3]]
        env = dict(os.environ, GDAL_CACHEMAX="16", OMP_NUM_THREADS="1")
        out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(d), json.dumps(sources)], env=env,
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        got = json.loads(out.stdout.strip().splitlines()[-1])
        assert got["rounds"] >= 1 and got["population"] > 0
        peaks.append(got["peak_kb"] / 1024.0)
    print(f"peak RSS {peaks[0]:.0f} MB at 1024 x 1024, {peaks[1]:.0f} MB at 2048 x 2048")
    assert peaks[1] - peaks[0] < 30.0


def test_bad_arguments(dask_threads, tmp_path):
    f, src = _problem(SEED, (16, 16), 4)
    kw = dict(out_seconds=tmp_path / "s.tif", out_nearest=tmp_path / "n.tif", cell_size=(1.0, 1.0), client=dask_threads)
    with pytest.raises(InputError, match="at least 2 cells"):
        travel_time_tiled(f, src, tile_size=1, neighbours=16, **kw)
    with pytest.raises(InputError, match="outside"):
        travel_time_tiled(f, [[16, 0]], tile_size=4, **kw)
    with pytest.raises(InputError, match="tile_size"):
        travel_time_tiled(f, src, tile_size=0, **kw)
    assert not (tmp_path / "s.tif").exists() and not list(tmp_path.glob(".*tmp*"))


# ---- the same face: Study(..., tiles=N) ------------------------------------------------------------------------

def test_study_with_tiles_gives_the_same_reach_and_catchments(tmp_path):
    from careshed.tiled.search import Tiling
    from strip_case import cell_centre, points, strip_study
    rng = np.random.default_rng(SEED)
    print(f"CARESHED_TEST_SEED={SEED}")
    f = rng.uniform(0.2, 1.0, (3, 10))
    st = points(["s1", "s2"], [cell_centre(1, 0), cell_centre(2, 7)], beds=[10, 20])
    plain = strip_study(f)
    tiled = strip_study(f, tiles=2, workers=1)
    assert tiled.tiling == Tiling(2, 1, None)
    a, b = plain.reach(st, dispatch_minutes=1), tiled.reach(st, dispatch_minutes=1)
    assert _same(a.seconds, b.seconds) and np.array_equal(a.nearest, b.nearest)
    assert a.table.equals(b.table)
    ca, cb = plain.catchments(st, resources=["beds"]), tiled.catchments(st, resources=["beds"])
    assert ca.table.equals(cb.table)
    # The tiled search's grids are mapped from a file already deleted (file-backed pages, not anonymous memory),
    # copy-on-write, and equal to the in-memory search's.
    s, n = tiled.nearest_travel_time(np.array([[1, 0]]), np.zeros(1), None, 8)
    ref_s, ref_n = plain.nearest_travel_time(np.array([[1, 0]]), np.zeros(1), None, 8)
    assert isinstance(s, np.memmap) and isinstance(n, np.memmap) and not os.path.exists(s.filename)
    assert s.flags.c_contiguous and s.dtype == np.float32 and n.dtype == np.int32
    assert _same(s, ref_s) and np.array_equal(n, ref_n)
    s[0, 0] = -1.0                                   # writable, privately
    assert s[0, 0] == -1.0


def test_tiling_choice_by_size_and_memory():
    from careshed.tiled.search import DEFAULT_TILE_SIZE, Tiling
    assert Tiling().tile_size_for((10**5, 10**5), 10) is None                 # default: in memory
    assert Tiling(64).tile_size_for((64, 64), 10) is None                      # one tile: in memory
    assert Tiling(64).tile_size_for((65, 64), 10) == 64
    assert Tiling("auto").tile_size_for((100, 100), 10) is None                # fits: in memory
    assert Tiling("auto").tile_size_for((100, 100), 10, max_memory_bytes=1000) == DEFAULT_TILE_SIZE
    with pytest.raises(InputError, match="tiles"):
        Tiling(1)
    with pytest.raises(InputError, match="workers"):
        Tiling(8, 0)
