"""PNG maps for planners: the pieces every careshed map shares, and the reach map.

Shared pieces (used by the density demo map and :meth:`careshed.Reach.plot`): a matplotlib Figure that needs
no display (Agg canvas), polygons drawn from shapely geometries, a scale bar with a round length, a north
arrow, and an atomic PNG writer (temporary name, then renamed). Maps are drawn in a metric CRS (the analysis
grid's, or a UTM zone), so the scale bar is true in the map's centre.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .constants import OUTSIDE_ZONES_LABEL
from .io.atomic import write_atomically

__all__ = ["new_figure", "draw_polygons", "scale_bar", "north_arrow", "frame_zones", "map_footnotes", "save_png",
           "plot_reach",
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


def _outside_note(table) -> str:
    """' (N of them outside every zone)' when the table has that row, else ''."""
    if OUTSIDE_ZONES_LABEL not in table.index:
        return ""
    return f" ({table.loc[OUTSIDE_ZONES_LABEL, 'population']:,.0f} of them {OUTSIDE_ZONES_LABEL})"


def _subtitle_break(table) -> str:
    """A line break before the region's figures when the outside-every-zone note makes the line too long."""
    return "\n" if OUTSIDE_ZONES_LABEL in table.index else "  "


def plot_reach(result, path=None, *, title=None, zone_label=None, dpi=120):
    """The reach map of a :class:`careshed.Reach` (see :meth:`careshed.Reach.plot`)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    study = result.study
    grid = result.grid
    fig = new_figure(8.5, 8.6, dpi)
    ax = fig.add_axes([0.03, 0.14, 0.94, 0.72])

    # Populated cells: 1 covered, 2 reached beyond the threshold, 3 unreachable; 0 transparent. Cells outside
    # every zone are shaded too: the region row (the subtitle) counts their people in its own row.
    with np.errstate(invalid="ignore"):
        populated = np.nan_to_num(result.population) > 0
    covered = result.covered
    cat = np.zeros(grid.shape, dtype=np.uint8)
    cat[populated & covered] = 1
    cat[populated & ~covered & np.isfinite(result.seconds)] = 2
    cat[populated & ~np.isfinite(result.seconds)] = 3
    x0, y0, x1, y1 = grid.bounds
    cmap = ListedColormap([(1, 1, 1, 0), COVERED_COLOUR, BEYOND_COLOUR, UNREACHABLE_COLOUR])
    ax.imshow(cat, cmap=cmap, vmin=-0.5, vmax=3.5, extent=(x0, x1, y0, y1), origin="upper",
              interpolation="nearest", zorder=1)

    # Outline of the first class (e.g. "urban") when there are several: it explains the per-class thresholds.
    class_line = None
    if result.cell_class is not None and len(result.class_names) > 1:
        first = (result.cell_class == 0).astype(np.float32)
        if first.any() and not first.all():
            dx, dy = grid.cell_size
            xs = x0 + (np.arange(grid.width) + 0.5) * dx
            ys = y1 - (np.arange(grid.height) + 0.5) * dy
            ax.contour(xs, ys, first, levels=[0.5], colors="#3b3b98", linewidths=0.7, linestyles="--", zorder=4)
            class_line = f"{result.class_names[0]} area ({result.class_names[0]} threshold inside)"

    zones = study.zones
    draw_polygons(ax, list(zones.geometry), fill=False, edgecolor="#222222", linewidth=0.9, zorder=3)
    label_field = zone_label or (study.keep[-1] if study.keep else None)
    table = result.table
    for i, geom in enumerate(zones.geometry):
        zid = study.ids[i]
        share = table["covered_share"].iloc[i]
        name = str(zones[label_field].iloc[i]) if label_field else str(zid)
        pt = geom.representative_point()
        ax.annotate(f"{name}\n{share:.0%} covered", (pt.x, pt.y), ha="center", va="center", fontsize=8,
                    bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.75), zorder=6)
    st = result.stations
    placed = st["status"].isin(["on grid", "snapped"]).to_numpy()
    ax.scatter(st["x"].to_numpy()[placed], st["y"].to_numpy()[placed], marker="^", s=70, c="black",
               edgecolors="white", linewidths=1.0, zorder=7)
    if (~placed).any():
        ax.scatter(st["x"].to_numpy()[~placed], st["y"].to_numpy()[~placed], marker="x", s=50, c="black", zorder=7)

    frame_zones(ax, zones)

    thr = ", ".join(f"{c} {m:g} min" for c, m in result.thresholds_min.items())
    handles = [Patch(facecolor=COVERED_COLOUR, label=f"covered (response within {thr})"),
               Patch(facecolor=BEYOND_COLOUR, label="reached, but beyond the threshold"),
               Patch(facecolor=UNREACHABLE_COLOUR, label="not reached"),
               Line2D([], [], marker="^", color="black", markerfacecolor="black", linestyle="none",
                      label=result.label),
               Patch(facecolor="none", edgecolor="#222222", label="zones")]
    if class_line:
        handles.append(Line2D([], [], color="#3b3b98", linestyle="--", linewidth=0.9, label=class_line))
    ax.legend(handles=handles, loc="lower right", fontsize=7.5, framealpha=0.9)

    region = table.iloc[-1]
    modelled = "MODELLED — " if result.modelled else ""
    fig.suptitle(title or f"{modelled}{study.region_label}: who {result.label} reach within the response "
                 f"standard", fontsize=11.5, y=0.975)
    fig.text(0.5, 0.915, f"{thr}; response = dispatch {result.dispatch_minutes:g} min + turnout + travel."
             f"{_subtitle_break(table)}"
             f"{study.region_label}: {region['covered_share']:.1%} of {region['population']:,.0f} people covered"
             f"{_outside_note(table)}, mean {region['mean_minutes']:.1f} min", ha="center", fontsize=8.5)
    map_footnotes(fig, result.notes, grid, "; shading shows populated cells only.")
    if path is not None:
        save_png(fig, path)
    return fig
