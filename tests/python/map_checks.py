"""What every careshed map must show, checked on the drawn figure (display-unit boxes, not pixels): the title
names the place, the legend and colour bar sit off the data extent, the colour bar says its unit, the labels do
not overlap one another and stay inside the map, the notes stay on the page. Used by the analyses' map tests."""
from __future__ import annotations

from matplotlib.transforms import Bbox


def check_map_layout(fig, data_bounds, *, place: str, unit: str):
    """Assert the layout of a result's map `fig` whose data lie in `data_bounds` (x0, y0, x1, y1, map CRS); returns
    (map axes, the drawn labels)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    title = fig._suptitle.get_text().replace("\n", " ")
    assert place in title, title
    ax = fig.axes[0]
    x0, y0, x1, y1 = data_bounds
    (dx0, dy0), (dx1, dy1) = ax.transData.transform([(x0, y0), (x1, y1)])
    data = Bbox([[dx0, dy0], [dx1, dy1]])
    assert not ax.get_legend(), "the legend belongs beside the map, not over it"
    assert len(fig.legends) == 1
    assert not fig.legends[0].get_window_extent(renderer).overlaps(data)
    bars = [a for a in fig.axes[1:]]
    assert len(bars) == 1
    assert not bars[0].get_window_extent(renderer).overlaps(data)
    assert unit in bars[0].get_ylabel(), bars[0].get_ylabel()
    labels = [t for t in ax.texts if t.get_gid() == "label"]
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in labels]
    frame = ax.get_window_extent(renderer)
    for i, b in enumerate(boxes):
        assert frame.x0 <= b.x0 and b.x1 <= frame.x1 and frame.y0 <= b.y0 and b.y1 <= frame.y1
        assert not any(b.overlaps(o) for o in boxes[i + 1:]), labels[i].get_text()
    page = fig.bbox
    for t in fig.texts:
        b = t.get_window_extent(renderer)
        assert page.x0 <= b.x0 and b.x1 <= page.x1 and page.y0 <= b.y0 and b.y1 <= page.y1, t.get_text()
    return ax, labels
