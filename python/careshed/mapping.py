"""Publication maps for planners: the pieces every careshed map shares (PNG or PDF, matplotlib, no display).

* Layout: the map on the left, its legend and colour bar in a panel beside it (never over the data), the title
  naming the place, the notes wrapped (never cut off) at the foot; a scale bar and a north arrow.
* Text: DejaVu Sans (Latin, Cyrillic, Arabic) with Noto Sans CJK (Debian's fonts-noto-cjk, found through
  matplotlib's font_manager) as the fallback for Chinese; Arabic is shaped and ordered right to left
  (python3-arabic-reshaper, python3-bidi) so names such as "الصحة العسكرية" are drawn joined, not as boxes.
  :func:`missing_glyphs` says which characters no font of the family has.
* Labels that do not pile up: :func:`place_labels` draws labels in priority order (largest first), tries a few
  positions around each point and drops a label that would overlap one already drawn; the map says how many
  were left out.
* Colour scales robust to outliers: :func:`robust_scale` clips the colour range at Tukey's fences (quartiles
  ± 1.5 IQR, within the data) and the colour bar says so (arrow ends, "colours clipped to ..."); colour maps
  are viridis / cividis (monotone in lightness: readable in greyscale and by colour-blind readers), the class
  colours differ in lightness as well as hue.
* Scenarios: :func:`scenario_maps` draws before / after / difference panels of a per-cell coverage change.

Maps are drawn in a metric CRS (the analysis grid's, or a UTM zone), so the scale bar is true in the map's
centre. Files are written atomically (temporary name, then renamed), as PNG or, for a ``.pdf`` path, PDF.
"""
from __future__ import annotations

import math
import textwrap
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

import arabic_reshaper
import numpy as np
from bidi.algorithm import get_display

from .errors import DataIOError
from .io.atomic import write_atomically

__all__ = ["new_figure", "map_axes", "draw_polygons", "scale_bar", "north_arrow", "frame_zones", "map_footnotes",
           "save_png", "save_figure", "map_fonts", "cjk_font_name", "display_text", "missing_glyphs",
           "place_labels", "PlacedLabels", "robust_scale", "ColourScale", "add_colourbar", "legend_beside",
           "map_title", "place_name", "zone_names", "scenario_maps", "wrap", "COVERED_COLOUR", "BEYOND_COLOUR",
           "UNREACHABLE_COLOUR", "SEQUENTIAL_CMAP", "CHANGE_COLOURS"]

# Class colours: colour-blind safe (blue / orange / dark purple) and distinct in lightness, so a greyscale print
# still tells them apart (tests/python/test_mapping.py checks the lightness steps).
COVERED_COLOUR = "#4393c3"      # within the threshold of the cell's class
BEYOND_COLOUR = "#fdb863"       # reached, but later than the threshold
UNREACHABLE_COLOUR = "#40004b"  # not reached at all
#: The sequential colour map of every continuous map (lightness rises monotonically; colour-blind safe).
SEQUENTIAL_CMAP = "cividis"
#: Difference panel of a scenario: covered in both, newly covered, no longer covered, uncovered in both.
CHANGE_COLOURS = {"kept": "#92c5de", "gained": "#2d004b", "lost": "#e66101", "none": "#ececec"}

#: The map's place on the page (figure fractions): map on the left, legend panel on the right, notes below.
MAP_BOX = (0.03, 0.17, 0.64, 0.71)
SIDE_X = 0.70
NOTE_TOP = 0.135

_CJK_FILE_HINTS = ("NotoSansCJK", "NotoSerifCJK")


# ---- fonts and scripts ----------------------------------------------------------------------------------------


def cjk_font_name(required: bool = True) -> str | None:
    """The family name of a Noto CJK font (Debian's fonts-noto-cjk) as matplotlib's font_manager knows it,
    registering the installed file when matplotlib's font cache predates it. `required`: raise
    :class:`careshed.errors.DataIOError` saying what to install when there is none (else return None)."""
    from matplotlib import font_manager

    for entry in font_manager.fontManager.ttflist:
        if "Noto Sans CJK" in entry.name:
            return entry.name
    files = sorted((f for f in font_manager.findSystemFonts() if Path(f).name.startswith(_CJK_FILE_HINTS)),
                   key=lambda f: ("Sans" not in Path(f).name, "Regular" not in Path(f).name, f))
    for f in files:
        try:
            font_manager.fontManager.addfont(f)
        except (OSError, RuntimeError, ValueError):
            continue
        for entry in font_manager.fontManager.ttflist:
            if entry.fname == f:
                return entry.name
    if required:
        raise DataIOError("map labels in Chinese need a CJK font and none is installed: install Debian's "
                          "fonts-noto-cjk (apt-get install fonts-noto-cjk), or label with a field without Chinese "
                          "characters")
    return None


def _has_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(ch) in ("W", "F") and ch.isalpha() for ch in str(text))


def map_fonts(texts=()) -> list[str]:
    """The font family list of map text: DejaVu Sans, then the Noto CJK font when installed (matplotlib falls
    back per character). Raises DataIOError when a text of `texts` has Chinese characters and no CJK font is
    installed (instead of drawing empty boxes)."""
    need = any(_has_cjk(t) for t in texts)
    cjk = cjk_font_name(required=need)
    return ["DejaVu Sans"] + ([cjk] if cjk else [])


def _is_arabic(ch: str) -> bool:
    o = ord(ch)
    return 0x0600 <= o <= 0x06FF or 0x0750 <= o <= 0x077F or 0x08A0 <= o <= 0x08FF or 0xFB50 <= o <= 0xFDFF \
        or 0xFE70 <= o <= 0xFEFF


def display_text(text) -> str:
    """`text` as it must be drawn: Arabic letters in their joined (presentation) forms and right-to-left runs in
    visual order (matplotlib draws characters left to right without shaping); other text unchanged."""
    text = str(text)
    if not any(_is_arabic(ch) for ch in text):
        return text
    return get_display(arabic_reshaper.reshape(text))


def _font_chars(path: str) -> set:
    from matplotlib.ft2font import FT2Font

    cache = _font_chars.__dict__.setdefault("cache", {})
    if path not in cache:
        cache[path] = set(FT2Font(path).get_charmap())
    return cache[path]


def missing_glyphs(text, family) -> list[str]:
    """The characters of `text` (as drawn: :func:`display_text`) that no font of `family` (a list of family
    names, in fallback order) has a glyph for — what would be drawn as an empty box."""
    from matplotlib import font_manager

    paths = []
    for name in ([family] if isinstance(family, str) else list(family)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            path = font_manager.findfont(font_manager.FontProperties(family=name), fallback_to_default=False)
        if path:
            paths.append(path)
    charsets = [_font_chars(p) for p in paths]
    return [ch for ch in display_text(text) if not ch.isspace() and not any(ord(ch) in c for c in charsets)]


def wrap(text: str, width: int) -> str:
    """`text` wrapped at `width` characters (long words are not broken)."""
    return "\n".join(textwrap.wrap(str(text), width=width, break_long_words=False, break_on_hyphens=False)) or ""


# ---- figure, axes, polygons ---------------------------------------------------------------------------------


def new_figure(width_in=10.0, height_in=8.6, dpi=120):
    """A matplotlib Figure on an Agg canvas (works without a display, thread-safe enough for batch runs)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def map_axes(fig, box=MAP_BOX):
    """The map's axes at `box` (figure fractions: left, bottom, width, height); the legend panel is to its right
    (:func:`legend_beside`, :func:`add_colourbar`)."""
    return fig.add_axes(list(box))


def _polygons(geom):
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if hasattr(geom, "geoms"):
        return [p for g in geom.geoms for p in _polygons(g)]
    return []


def draw_polygons(ax, geoms, *, facecolors=None, edgecolor="#333333", linewidth=0.8, fill=True, zorder=1,
                  linestyle="-"):
    """Draw (Multi)Polygons: filled with `facecolors` (one per geometry) or outlines only (`fill=False`).
    Holes are drawn as holes (a Path with the interior rings). Returns the patches added."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MplPath

    added = []
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
            added.append(ax.add_patch(PathPatch(path, facecolor=face, edgecolor=edgecolor, linewidth=linewidth,
                                                zorder=zorder, linestyle=linestyle)))
    return added


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
    ax.text(bx + length / 2, by + pad * 0.15, text, ha="center", va="bottom", fontsize=8, zorder=11,
            gid="scale-bar")
    return length


def north_arrow(ax, *, x=0.95, y=0.95):
    """An arrow with N at the top right of the axes (grid north of a metric CRS; within a degree or two of true
    north in a UTM zone)."""
    ax.annotate("N", xy=(x, y), xytext=(x, y - 0.1), xycoords="axes fraction", ha="center", va="center",
                fontsize=11, fontweight="bold", arrowprops=dict(arrowstyle="-|>", color="black", linewidth=1.5),
                zorder=12, gid="north-arrow")


def save_figure(fig, path) -> Path:
    """Write the figure to a temporary name next to `path`, then rename it into place: PDF for a ``.pdf`` path,
    else PNG. A map never ships empty boxes: when a character has no glyph in the installed fonts, nothing is
    written and :class:`careshed.errors.DataIOError` names the characters."""
    fmt = "pdf" if str(path).lower().endswith(".pdf") else "png"

    def write(tmp):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fig.savefig(tmp, format=fmt)
        missing = sorted({str(w.message) for w in caught if "missing from" in str(w.message)})
        for w in caught:
            if "missing from" not in str(w.message):
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        if missing:
            raise DataIOError(f"{path}: the map has characters no installed font can draw ({'; '.join(missing[:3])})"
                              "; install a font with them (Debian fonts-noto-core, fonts-noto-cjk) or label with "
                              "another field")
    return write_atomically(path, write)


def save_png(fig, path) -> Path:
    """:func:`save_figure` (the name every map writer used; PDF too for a ``.pdf`` path)."""
    return save_figure(fig, path)


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


def _chars_per_line(fig, left: float, right: float, fontsize: float) -> int:
    """How many characters of DejaVu Sans at `fontsize` fit between figure fractions `left` and `right`
    (0.6 em per character: the widest common lower-case letters, so a wrapped line never runs off)."""
    width_pt = (right - left) * fig.get_figwidth() * 72.0
    return max(20, int(width_pt / (0.6 * fontsize)))


def map_footnotes(fig, notes, grid, tail: str, *, extra=(), max_lines: int = 9) -> list:
    """The foot of a map, wrapped to the page width (never cut off): its MODELLED notes, `extra` lines (e.g. how
    many labels were left out), then (a grid map) the cells people were counted on + `tail`. When more lines
    would not fit under the map, the last one says where the rest is. Returns the Text objects."""
    modelled = [n for n in notes if n.startswith("MODELLED")]
    lines = list(modelled) + list(extra)
    if grid is not None:
        lines.append(f"People counted on {grid.width} x {grid.height} cells of {grid.cell_size[0]:g} m"
                     f"{f' (EPSG:{grid.epsg})' if grid.epsg else ''}{tail}")
    fontsize = 7.0
    width = _chars_per_line(fig, 0.03, 0.97, fontsize)
    wrapped = [w for line in lines for w in (wrap(line, width).split("\n") if line else [])]
    if len(wrapped) > max_lines:
        wrapped = wrapped[: max_lines - 1] + ["… more notes: see the notes layer of the GeoPackage and the CSV's "
                                              ".notes.txt"]
    line_h = fontsize * 1.35 / 72.0 / fig.get_figheight()
    texts = []
    for k, line in enumerate(wrapped):
        texts.append(fig.text(0.03, NOTE_TOP - line_h * k, line, fontsize=fontsize, va="top",
                              fontfamily=map_fonts([line]), gid="footnote"))
    return texts


def place_name(study) -> str:
    """The place a map is of: the study's region label, or (left at the default "region") its zones' names
    ("Nzwani, Ngazidja and Mwali"; the first three and how many more)."""
    label = str(getattr(study, "region_label", "") or "")
    if label and label != "region":
        return label
    names = zone_names(study)
    if len(names) <= 3:
        return ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1] if names else "Study area"
    return f"{', '.join(names[:3])} and {len(names) - 3} more zones"


def zone_names(study) -> list[str]:
    """The zones' names: the last kept text field of the study, else the zone ids."""
    frame = getattr(study, "frame", None)
    for k in list(getattr(study, "keep", []) or [])[::-1]:
        if frame is not None and k in frame.columns and frame[k].dtype == object:
            return [str(v) for v in frame[k]]
    return [str(i) for i in getattr(study, "ids", [])]


def map_title(fig, title: str, subtitle: str | None = None):
    """The title (wrapped, bold) and subtitle at the top of the page; returns the Text objects."""
    width = _chars_per_line(fig, 0.03, 0.97, 12.0)
    out = [fig.suptitle(wrap(title, width), x=0.5, y=0.985, ha="center", va="top", fontsize=12, fontweight="bold",
                        fontfamily=map_fonts([title]), gid="title")]
    if subtitle:
        w2 = _chars_per_line(fig, 0.03, 0.97, 8.5)
        n_title = out[0].get_text().count("\n") + 1
        out.append(fig.text(0.5, 0.985 - n_title * 0.026, wrap(subtitle, w2), ha="center", va="top", fontsize=8.5,
                            fontfamily=map_fonts([subtitle]), gid="subtitle"))
    return out


# ---- labels ------------------------------------------------------------------------------------------------


@dataclass
class PlacedLabels:
    """What :func:`place_labels` drew: the Text objects, and how many candidate labels were left out."""
    texts: list
    skipped: int
    total: int
    boxes: list


    def note(self, what: str) -> str | None:
        """A footnote line when labels were left out, e.g. "Labels: 24 of 70 facilities (most people first; ...)"."""
        if not self.skipped:
            return None
        return (f"Labels: {len(self.texts)} of {self.total} {what} (largest first; the others would overlap — every "
                "one is in the CSV and the GeoPackage).")


_NEAR = ((5, 4, "left", "bottom"), (-5, 4, "right", "bottom"), (5, -4, "left", "top"), (-5, -4, "right", "top"),
         (0, 7, "center", "bottom"), (0, -7, "center", "top"))
#: beside the point, then (with a leader line) three times as far
_POINT_OFFSETS = _NEAR + tuple((3 * dx, 3 * dy, ha, va) for dx, dy, ha, va in _NEAR)
_AREA_OFFSETS = ((0, 0, "center", "center"), (0, 12, "center", "center"), (0, -12, "center", "center"),
                 (14, 0, "center", "center"), (-14, 0, "center", "center"))


def place_labels(ax, items, *, kind="point", fontsize=7.5, max_labels=None, box=True, zorder=8,
                 gid="label", avoid=()) -> PlacedLabels:
    """Draw labels that do not overlap: `items` are (x, y, text, priority) in data coordinates; the highest
    priority first, each at the first of a few positions around its point (`kind` "point": beside it; "area":
    centred, then nudged) whose box overlaps no label drawn before and stays inside the axes; otherwise left
    out. At most `max_labels`; `avoid`: boxes (display units) already taken, e.g. ``.boxes`` of an earlier call.
    Call after the axes limits are final. Returns :class:`PlacedLabels`."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    ax.apply_aspect()
    axes_box = ax.get_window_extent(renderer)
    placed_boxes = list(avoid)
    texts = []
    order = sorted(range(len(items)), key=lambda i: (-float(items[i][3]), i))
    offsets = _AREA_OFFSETS if kind == "area" else _POINT_OFFSETS
    family = map_fonts([it[2] for it in items])
    style = dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.8) if box else None
    for i in order:
        if max_labels is not None and len(texts) >= max_labels:
            break
        x, y, label, _ = items[i]
        if not (np.isfinite(x) and np.isfinite(y)):
            continue
        shown = display_text(label)
        for dx, dy, ha, va in offsets:
            leader = dict(arrowstyle="-", color="#444444", linewidth=0.6, shrinkA=0, shrinkB=2) \
                if abs(dx) + abs(dy) > 12 and kind != "area" else None
            t = ax.annotate(shown, (x, y), xytext=(dx, dy), textcoords="offset points", ha=ha, va=va,
                            fontsize=fontsize, fontfamily=family, bbox=style, zorder=zorder, gid=gid,
                            annotation_clip=False, arrowprops=leader)
            bb = t.get_window_extent(renderer)
            if t.get_bbox_patch() is not None:
                t.update_bbox_position_size(renderer)
                bb = t.get_bbox_patch().get_window_extent(renderer)
            inside = (bb.x0 >= axes_box.x0 and bb.x1 <= axes_box.x1 and bb.y0 >= axes_box.y0
                      and bb.y1 <= axes_box.y1)
            if inside and not any(bb.overlaps(o) for o in placed_boxes):
                placed_boxes.append(bb.padded(1.0))
                texts.append(t)
                break
            t.remove()
    return PlacedLabels(texts, sum(1 for it in items if np.isfinite(it[0]) and np.isfinite(it[1])) - len(texts),
                        len(items), placed_boxes)


# ---- colour scales and the legend panel ------------------------------------------------------------------------


@dataclass
class ColourScale:
    """A colour scale: matplotlib `norm` and `cmap`; `lo`..`hi` the coloured range, `data_lo`..`data_hi` the
    data's; `extend` for the colour bar ("neither", "min", "max", "both")."""
    norm: object
    cmap: object
    lo: float
    hi: float
    data_lo: float
    data_hi: float

    @property
    def extend(self) -> str:
        low, high = self.data_lo < self.lo, self.data_hi > self.hi
        return "both" if low and high else "min" if low else "max" if high else "neither"

    def note(self, unit: str = "") -> str | None:
        """What the legend says when the range is clipped (None when it is not)."""
        if self.extend == "neither":
            return None
        u = f" {unit}" if unit else ""
        return (f"colours clipped to {self.lo:.3g}–{self.hi:.3g}{u} (data {self.data_lo:.3g}–{self.data_hi:.3g}; "
                "beyond: the end colours)")


def robust_scale(values, *, cmap=SEQUENTIAL_CMAP, centre=None) -> ColourScale:
    """A colour scale of `values` robust to outliers: the range is clipped at Tukey's fences (lower quartile
    − 1.5 IQR, upper quartile + 1.5 IQR), never beyond the data; `centre` (e.g. a target) is kept inside the
    range. One outlier (45 beds per 1000 among
    values of 2–8) no longer washes the others out; the colour bar says what was clipped."""
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        data_lo, data_hi = 0.0, 1.0
        lo, hi = data_lo, data_hi
    else:
        data_lo, data_hi = float(v.min()), float(v.max())
        q1, q3 = np.percentile(v, [25, 75])
        iqr = q3 - q1
        lo, hi = max(data_lo, q1 - 1.5 * iqr), min(data_hi, q3 + 1.5 * iqr)
        if not hi > lo:
            lo, hi = data_lo, data_hi
    if centre is not None and math.isfinite(centre):
        lo, hi = min(lo, float(centre)), max(hi, float(centre))
    if not hi > lo:
        hi = lo + 1.0
    cm = colormaps[cmap].copy() if isinstance(cmap, str) else cmap
    cm.set_bad((1, 1, 1, 0))
    return ColourScale(Normalize(vmin=lo, vmax=hi, clip=False), cm, lo, hi, data_lo, data_hi)


def add_colourbar(fig, scale: ColourScale, label: str, *, unit: str = "", box=(SIDE_X + 0.03, 0.2, 0.028, 0.34),
                  marks=()):
    """The colour bar of `scale` in the legend panel: `label` (with its unit), arrow ends and a "colours
    clipped to ..." line when the scale is clipped, horizontal lines at `marks` ({value: text})."""
    from matplotlib.cm import ScalarMappable

    cax = fig.add_axes(list(box))
    cb = fig.colorbar(ScalarMappable(norm=scale.norm, cmap=scale.cmap), cax=cax, extend=scale.extend)
    note = scale.note(unit)
    width = _chars_per_line(fig, box[0] + box[2] + 0.06, 0.99, 7.5)
    text = wrap(label, max(18, width)) + (("\n" + wrap(note, max(18, width))) if note else "")
    cb.set_label(text, fontsize=7.5, fontfamily=map_fonts([label]))
    cb.ax.tick_params(labelsize=7.5)
    for value, what in dict(marks).items():
        if scale.lo <= value <= scale.hi:
            cb.ax.axhline(value, color="black", linewidth=1.2)
            cb.ax.text(-0.3, scale.norm(value), what, transform=cb.ax.transAxes, ha="right", va="center",
                       fontsize=7)
    return cb


def legend_beside(fig, handles, *, title=None, top=0.86, fontsize=7.5):
    """The map's legend in the panel right of the map (never over the data); labels wrapped to the panel."""
    width = _chars_per_line(fig, SIDE_X + 0.03, 0.99, fontsize)
    for h in handles:
        h.set_label(wrap(h.get_label(), width))
    family = map_fonts([h.get_label() for h in handles])
    return fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(SIDE_X, top), fontsize=fontsize,
                      title=title, title_fontsize=fontsize + 0.5, frameon=False, prop={"family": family,
                                                                                       "size": fontsize})


# ---- scenarios: before / after / difference ----------------------------------------------------------------


def scenario_maps(zones, grid, before, after, people, *, title: str, names=("before", "after"), unit="people",
                  kept_points=None, added_points=None, added_labels=None, notes=(), dpi=120):
    """Three panels on one page: cells covered `before`, covered `after` (boolean arrays on `grid`, populated
    cells only are shaded) and the difference (newly covered, no longer covered, covered in both, in neither),
    each panel saying how many people; `kept_points` / `added_points` ((x, y) arrays, grid CRS) drawn on the
    panels they belong to, `added_labels` (text per added point) on the after panel. Returns the Figure."""
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    people = np.nan_to_num(np.asarray(people, dtype=np.float64))
    before = np.asarray(before, dtype=bool)
    after = np.asarray(after, dtype=bool)
    if before.shape != grid.shape or after.shape != grid.shape or people.shape != grid.shape:
        raise ValueError(f"scenario_maps: before, after and people must be arrays of the grid's shape {grid.shape}")
    populated = people > 0
    fig = new_figure(15.0, 6.8, dpi)
    x0, y0, x1, y1 = grid.bounds
    width = 0.305
    totals = {"before": float(people[before & populated].sum()), "after": float(people[after & populated].sum())}
    cat_cov = ListedColormap([(1, 1, 1, 0), COVERED_COLOUR, BEYOND_COLOUR])
    change = np.zeros(grid.shape, np.uint8)
    change[populated & before & after] = 1
    change[populated & ~before & after] = 2
    change[populated & before & ~after] = 3
    change[populated & ~before & ~after] = 4
    cat_change = ListedColormap([(1, 1, 1, 0), CHANGE_COLOURS["kept"], CHANGE_COLOURS["gained"],
                                 CHANGE_COLOURS["lost"], CHANGE_COLOURS["none"]])
    gained = float(people[change == 2].sum())
    lost = float(people[change == 3].sum())
    axes = []
    for k, (state, name) in enumerate(zip((before, after, None), (names[0], names[1], "difference"))):
        ax = fig.add_axes([0.015 + k * (width + 0.02), 0.2, width, 0.62])
        axes.append(ax)
        if state is not None:
            cat = np.where(populated, np.where(state, 1, 2), 0).astype(np.uint8)
            ax.imshow(cat, cmap=cat_cov, vmin=-0.5, vmax=2.5, extent=(x0, x1, y0, y1), origin="upper",
                      interpolation="nearest", zorder=1)
            key = "before" if k == 0 else "after"
            ax.set_title(wrap(f"{name}: {totals[key]:,.0f} {unit} covered", 50), fontsize=10)
        else:
            ax.imshow(change, cmap=cat_change, vmin=-0.5, vmax=4.5, extent=(x0, x1, y0, y1), origin="upper",
                      interpolation="nearest", zorder=1)
            ax.set_title(wrap(f"difference: +{gained:,.0f} {unit} newly covered"
                              + (f", −{lost:,.0f} no longer" if lost else ""), 50), fontsize=10)
        draw_polygons(ax, list(zones.geometry), fill=False, edgecolor="#222222", linewidth=0.8, zorder=3)
        if kept_points is not None and len(kept_points[0]):
            ax.scatter(kept_points[0], kept_points[1], marker="^", s=36, c="black", edgecolors="white",
                       linewidths=0.7, zorder=7)
        if k > 0 and added_points is not None and len(added_points[0]):
            ax.scatter(added_points[0], added_points[1], marker="P", s=70, c="#e66101", edgecolors="black",
                       linewidths=0.7, zorder=8)
        frame_zones(ax, zones)
    if added_labels is not None and added_points is not None:
        items = [(x, y, str(t), -i) for i, (x, y, t) in enumerate(zip(added_points[0], added_points[1],
                                                                          added_labels))]
        place_labels(axes[1], items, fontsize=7.5, box=True)
    handles = [Patch(facecolor=COVERED_COLOUR, label=f"covered ({names[0]} / {names[1]} panels)"),
               Patch(facecolor=BEYOND_COLOUR, label="not covered (populated cells)"),
               Patch(facecolor=CHANGE_COLOURS["gained"], label="newly covered"),
               Patch(facecolor=CHANGE_COLOURS["kept"], label="covered in both"),
               Patch(facecolor=CHANGE_COLOURS["lost"], label="no longer covered"),
               Patch(facecolor=CHANGE_COLOURS["none"], label="covered in neither"),
               Line2D([], [], marker="^", color="black", linestyle="none", label="existing sites"),
               Line2D([], [], marker="P", color="#e66101", markeredgecolor="black", linestyle="none",
                      label="added sites")]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.085), ncol=4, fontsize=8,
               frameon=False)
    fig.suptitle(wrap(title, _chars_per_line(fig, 0.03, 0.97, 13)), x=0.5, y=0.975, ha="center", va="top",
                 fontsize=13, fontweight="bold", fontfamily=map_fonts([title]), gid="title")
    line_h = 7.0 * 1.35 / 72.0 / fig.get_figheight()
    width_chars = _chars_per_line(fig, 0.02, 0.98, 7.0)
    lines = [w for n in notes for w in wrap(n, width_chars).split("\n")][:4]
    for k, line in enumerate(lines):
        fig.text(0.02, 0.06 - line_h * k, line, fontsize=7, va="top", gid="footnote")
    fig.careshed_panels = axes
    return fig
