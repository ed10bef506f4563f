"""careshed.mapping: the pieces every map shares, written atomically as PNG."""
from __future__ import annotations

import pytest
from shapely.geometry import box

from careshed.mapping import draw_polygons, new_figure, save_png, scale_bar


def test_polygons_scale_bar_and_an_atomic_png(tmp_path):
    fig = new_figure(4, 4, 50)
    ax = fig.add_axes([0, 0, 1, 1])
    draw_polygons(ax, [box(0, 0, 1000, 1000), box(1000, 0, 3000, 1000).union(box(1500, 1000, 2000, 2000))])
    assert len(ax.patches) == 2
    scale_bar(ax, 0, 0, 3000, 2000)
    out = save_png(fig, tmp_path / "m.png")
    assert out.read_bytes()[:4] == b"\x89PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]


def test_a_failing_png_leaves_nothing(tmp_path):
    class Broken:
        def savefig(self, path, format):
            open(path, "wb").write(b"half")
            raise RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        save_png(Broken(), tmp_path / "m.png")
    assert list(tmp_path.iterdir()) == []
