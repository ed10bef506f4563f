"""PNG maps for planners: the pieces every careshed map shares.

Shared pieces (used by every result's ``plot`` and the demo's density map): a matplotlib Figure that needs
no display (Agg canvas), polygons drawn from shapely geometries, a scale bar with a round length, a north
arrow, and an atomic PNG writer (temporary name, then renamed). Maps are drawn in a metric CRS (the analysis
grid's, or a UTM zone), so the scale bar is true in the map's centre.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .io.atomic import write_atomically

__all__ = ["new_figure", "draw_polygons", "scale_bar", "north_arrow", "frame_zones", "map_footnotes", "save_png",
           "COVERED_COLOUR", "BEYOND_COLOUR", "UNREACHABLE_COLOUR"]

COVERED_COLOUR = "#1a9850"      # within the threshold of the cell's class
BEYOND_COLOUR = "#fdae61"       # reached, but later than the threshold
UNREACHABLE_COLOUR = "#d73027"  # not reached at all


def new_figure(width_in=8.5, height_in=8.0, dpi=120):
    """A matplotlib Figure on an Agg canvas (works without a display, thread-safe enough for batch runs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _polygons(geom):
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def draw_polygons(ax, geoms, *, facecolors=None, edgecolor="#333333", linewidth=0.8, fill=True, zorder=1):
    """Draw (Multi)Polygons: filled with `facecolors` (one per geometry) or outlines only (`fill=False`).
    Holes are drawn as holes (a Path with the interior rings)."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    for i, geom in enumerate(geoms):
        for poly in _polygons(geom):
            verts, codes = [], []
            for ring in [poly.exterior, *poly.interiors]:
                xy = np.asarray(ring.coords)
                if len(xy) < 3:
                    continue
                verts.append(xy)
                c = np.full(len(xy), MplPath.LINETO)
                c[0] = MplPath.MOVETO
                c[-1] = MplPath.CLOSEPOLY
                codes.append(c)
            if not verts:
                continue
            path = MplPath(np.concatenate(verts), np.concatenate(codes))
            face = facecolors[i] if (fill and facecolors is not None) else "none"
            ax.add_patch(PathPatch(path, facecolor=face, edgecolor=edgecolor, linewidth=linewidth, zorder=zorder))


def _nice_length(span_m: float) -> float:
    """A round scale-bar length close to a fifth of the map width: 1, 2 or 5 x 10^k metres."""
    target = max(span_m / 5.0, 1.0)
    k = 10.0 ** np.floor(np.log10(target))
    for m in (5.0, 2.0, 1.0):
        if m * k <= target:
            return m * k
    return k


def scale_bar(ax, x0, y0, x1, y1, *, length_m=None, pad=None):
    """A scale bar in the lower left of the map extent (x0, y0, x1, y1 in metres)."""
    span = x1 - x0
    pad = 0.05 * max(x1 - x0, y1 - y0) if pad is None else pad
    length = _nice_length(span) if length_m is None else float(length_m)
    bx, by = x0 + pad * 0.5, y0 + pad * 0.5
    ax.plot([bx, bx + length], [by, by], color="black", linewidth=3, solid_capstyle="butt", zorder=10)
    ax.plot([bx, bx + length / 2], [by, by], color="white", linewidth=1.2, solid_capstyle="butt", zorder=11)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(bx + length / 2, by + pad * 0.15, text, ha="center", va="bottom", fontsize=8, zorder=11)
    return length


def north_arrow(ax, *, x=0.95, y=0.95):
    """An arrow with N at the top right of the axes (grid north of a metric CRS; within a degree or two of true
    north in a UTM zone)."""
    ax.annotate("N", xy=(x, y), xytext=(x, y - 0.1), xycoords="axes fraction", ha="center", va="center",
                fontsize=11, fontweight="bold", arrowprops=dict(arrowstyle="-|>", color="black", linewidth=1.5),
                zorder=12)


def save_png(fig, path) -> Path:
    """Write the figure as PNG to a temporary name next to `path`, then rename it into place."""
    return write_atomically(path, lambda tmp: fig.savefig(tmp, format="png"))


def _short(text: str, n: int = 150) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def frame_zones(ax, zones, *, length_m=None) -> None:
    """Fit the axes to the zones' extent plus 5 % (equal aspect, no ticks); add the scale bar and north arrow."""
    zx0, zy0, zx1, zy1 = zones.total_bounds
    pad = 0.05 * max(zx1 - zx0, zy1 - zy0)
    ax.set_xlim(zx0 - pad, zx1 + pad)
    ax.set_ylim(zy0 - pad, zy1 + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    scale_bar(ax, zx0 - pad, zy0 - pad, zx1 + pad, zy1 + pad, length_m=length_m, pad=pad)
    north_arrow(ax)


def map_footnotes(fig, notes, grid, tail: str) -> None:
    """The foot of a map: its first MODELLED notes (up to 4), then (a grid map) the cells people were counted on
    + `tail`."""
    lines = [n for n in notes if n.startswith("MODELLED")][:4]
    if grid is not None:
        lines.append(f"People counted on {grid.width} x {grid.height} cells of {grid.cell_size[0]:g} m"
                     f"{f' (EPSG:{grid.epsg})' if grid.epsg else ''}{tail}")
    for k, line in enumerate(lines):
        fig.text(0.03, 0.11 - 0.022 * k, _short(line), fontsize=7)
