"""careshed.report.charts: PNG charts that draw Chinese labels with the Noto CJK font (no missing glyphs)."""
from __future__ import annotations

import base64
import io
import warnings

import numpy as np
import pytest

from careshed.errors import DataIOError
from careshed.report import charts


def decode(uri: str) -> np.ndarray:
    from matplotlib.image import imread

    assert uri.startswith("data:image/png;base64,")
    return imread(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])), format="png")


def test_charts_draw_chinese_without_missing_glyphs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # "Glyph ... missing from current font" would fail here
        with charts.chart_fonts(need_cjk=True):
            t = np.arange(0, 61.0)
            uris = [
                charts.coverage_curve_chart(t, {"柯城区": np.clip(t / 30, 0, 1), "全域": np.clip(t / 40, 0, 1)},
                                            title="t 分钟内可到达机构的人口比例", xlabel="分钟", ylabel="人口比例",
                                            region="全域"),
                charts.bands_chart(["柯城区", "衢江区"], np.array([[0.5, 0.3, 0.1, 0.05, 0.05], [0.2] * 5]),
                                   ["0–15", "15–30", "30–60", "> 60", "无法到达"], title="出行时间", xlabel="人口比例"),
                charts.lorenz_chart(np.linspace(0, 1, 5), np.array([0, 0.1, 0.3, 0.6, 1.0]), title="洛伦兹曲线",
                                    xlabel="人口", ylabel="时间", equality="完全平等线", note="Gini = 0.25"),
                charts.target_chart(["柯城区", "全域"], [6.2, 8.1], 7.8, title="每千人床位", ylabel="床位",
                                    target_label="目标"),
            ]
    for uri in uris:
        img = decode(uri)
        assert img.shape[0] > 100 and img.shape[1] > 100
        assert len(np.unique(img.reshape(-1, img.shape[2])[:, :3], axis=0)) > 10   # something was drawn


def test_chinese_without_the_cjk_font_is_a_clear_error(monkeypatch):
    from matplotlib import font_manager

    # a machine without fonts-noto-cjk: matplotlib knows no CJK font and finds no file of one
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [e for e in font_manager.fontManager.ttflist if "CJK" not in e.name])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    with pytest.raises(DataIOError, match="fonts-noto-cjk"):
        with charts.chart_fonts(need_cjk=True):
            pass


def test_target_chart_colours_bars_by_target():
    # two bars: 6 (misses 7.8, orange) and 9 (meets, blue): both colours appear in the image
    img = decode(charts.target_chart(["a", "b"], [6.0, 9.0], 7.8, title="t", ylabel="y", target_label="target"))
    rgb = (img[..., :3] * 255).round().astype(int).reshape(-1, 3)
    colours = {tuple(c) for c in rgb}
    assert (0x00, 0x72, 0xB2) in colours and (0xD5, 0x5E, 0x00) in colours
