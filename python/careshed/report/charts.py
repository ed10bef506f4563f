"""The report's charts as PNG data: URIs (matplotlib, Agg): coverage curve, travel-time bands per zone, Lorenz
curve, resources per 1000 against a target. Labels may be Chinese: the Noto CJK font (Debian fonts-noto-cjk)
is the fallback after DejaVu Sans, so Chinese names are drawn, not boxes. Colours are colour-blind safe
(viridis / Okabe-Ito) and keep their order in greyscale.
"""
from __future__ import annotations

import base64
import io
from contextlib import contextmanager

import numpy as np

from ..mapping import map_fonts

__all__ = ["chart_fonts", "coverage_curve_chart", "bands_chart", "lorenz_chart", "target_chart", "gain_curve_chart",
           "figure_data_uri"]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


@contextmanager
def chart_fonts(need_cjk: bool):
    """matplotlib settings for the report's charts: the map fonts (:func:`careshed.mapping.map_fonts`: DejaVu
    Sans, then Noto Sans CJK for Chinese characters). `need_cjk`: raise a clear error when the CJK font is
    missing (instead of drawing boxes)."""
    import matplotlib

    family = map_fonts(["中文"] if need_cjk else [])
    with matplotlib.rc_context({"font.family": family, "axes.spines.top": False, "axes.spines.right": False}):
        yield


def figure_data_uri(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(w, h):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def coverage_curve_chart(minutes: np.ndarray, shares: dict, *, title: str, xlabel: str, ylabel: str,
                         marks=(15.0,), region: str | None = None) -> str:
    """Lines of the share of people (0..1) within t minutes (x = `minutes`) for each name in `shares`; the
    `region` line bold and black; dashed verticals at `marks`."""
    fig = _figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    i = 0
    for name, values in shares.items():
        if name == region:
            ax.plot(minutes, np.asarray(values) * 100, color="black", linewidth=2.6, label=str(name), zorder=3)
        else:
            ax.plot(minutes, np.asarray(values) * 100, color=OKABE_ITO[i % len(OKABE_ITO)], linewidth=1.4,
                    label=str(name), linestyle=("-", "--", ":", "-.")[(i // len(OKABE_ITO)) % 4])
            i += 1
    for m in marks:
        ax.axvline(m, color="#666666", linestyle="--", linewidth=0.8)
    ax.set_xlim(0, float(minutes[-1]))
    ax.set_ylim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel + " (%)")
    ax.set_title(title, fontsize=11)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    return figure_data_uri(fig)


def bands_chart(names: list[str], shares: np.ndarray, band_labels: list[str], *, title: str, xlabel: str) -> str:
    """Stacked horizontal bars: one row per name, `shares` (rows x bands, 0..1) in band order (near first)."""
    from matplotlib import colormaps

    shares = np.asarray(shares, dtype=np.float64)
    fig = _figure(7.5, 0.45 * len(names) + 1.6)
    ax = fig.add_subplot(1, 1, 1)
    cmap = colormaps["viridis_r"]
    n = shares.shape[1]
    left = np.zeros(len(names))
    y = np.arange(len(names))[::-1]
    for b in range(n):
        colour = "#9e9e9e" if b == n - 1 and "unreach" in band_labels[b].lower() else cmap(b / max(1, n - 1))
        ax.barh(y, shares[:, b] * 100, left=left * 100, color=colour, edgecolor="white", linewidth=0.5,
                label=band_labels[b], hatch="//" if b == n - 1 else None)
        left += np.nan_to_num(shares[:, b])
    ax.set_yticks(y)
    ax.set_yticklabels([str(s) for s in names])
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel + " (%)")
    ax.set_title(title, fontsize=11)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=min(n, 5), frameon=False)
    return figure_data_uri(fig)


def lorenz_chart(p: np.ndarray, L: np.ndarray, *, title: str, xlabel: str, ylabel: str, equality: str,
                 note: str) -> str:
    """The Lorenz curve (p, L) against the line of equality, `note` (e.g. the Gini) in the corner."""
    p, L = np.asarray(p, dtype=np.float64), np.asarray(L, dtype=np.float64)
    if p.size > 2001:  # one point per grid cell is far more than a chart shows: the same polyline at 2001 points
        q = np.linspace(0.0, 1.0, 2001)
        p, L = q, np.interp(q, p, L)
    fig = _figure(5.0, 4.6)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([0, 100], [0, 100], color="#666666", linestyle="--", linewidth=1, label=equality)
    ax.plot(np.asarray(p) * 100, np.asarray(L) * 100, color=OKABE_ITO[0], linewidth=2)
    ax.fill_between(np.asarray(p) * 100, np.asarray(L) * 100, np.asarray(p) * 100, color=OKABE_ITO[0], alpha=0.15)
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 100)
    ax.set_aspect("equal")
    ax.set_xlabel(xlabel + " (%)")
    ax.set_ylabel(ylabel + " (%)")
    ax.set_title(title, fontsize=10)
    ax.text(4, 92, note, fontsize=9)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    return figure_data_uri(fig)


def target_chart(names: list[str], values: list[float], target: float | None, *, title: str, ylabel: str,
                 target_label: str, higher_is_better: bool = True) -> str:
    """Bars of a value per name with the target as a line; bars meeting the target in blue, missing in orange."""
    vals = np.asarray(values, dtype=np.float64)
    fig = _figure(7.5, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    if target is None:
        colours = [OKABE_ITO[0]] * len(vals)
    else:
        ok = vals >= target if higher_is_better else vals <= target
        colours = [OKABE_ITO[0] if k else OKABE_ITO[5] for k in ok]
    x = np.arange(len(vals))
    ax.bar(x, vals, color=colours)
    for xi, v in zip(x, vals):
        if np.isfinite(v):
            ax.text(xi, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=1.2)
        ax.text(len(vals) - 0.5, target, f" {target_label} {target:g}", va="bottom", ha="right", fontsize=8)
    ax.set_xticks(x)
    ax.set_xticklabels([str(s) for s in names], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=11)
    return figure_data_uri(fig)


def gain_curve_chart(ranks, gains, start: float, *, title: str, xlabel: str, ylabel: str, bar_label: str) -> str:
    """The marginal-gain curve of an optimisation: bars of what each added site adds (in the order added) and
    the cumulative people covered as a line from `start` (covered by the existing sites)."""
    ranks = np.asarray(ranks, dtype=np.int64)
    gains = np.asarray(gains, dtype=np.float64)
    fig = _figure(7.5, 3.8)
    ax = fig.add_subplot(1, 1, 1)
    ax.bar(ranks, gains, color=OKABE_ITO[1], label=bar_label)
    line = ax.twinx()
    line.plot(np.concatenate([[0], ranks]), start + np.concatenate([[0.0], np.cumsum(gains)]), color="black",
              marker="o", linewidth=2, label=ylabel)
    line.set_ylabel(ylabel)
    line.spines["top"].set_visible(False)
    line.spines["right"].set_visible(True)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(bar_label)
    ax.set_xticks(np.concatenate([[0], ranks]))
    ax.set_title(title, fontsize=11)
    return figure_data_uri(fig)
