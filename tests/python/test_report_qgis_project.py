"""careshed.report.qgis_project: the .qgz next to the outputs — its order, relative paths, all-or-none with the
other outputs — and real QGIS 3.22 opening it (every layer valid and styled) and rendering a map."""
from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
import zipfile

import pytest

import careshed.results
from careshed.errors import InputError
from careshed.report.qgis_project import project_layers, qgs_xml, write_qgis_project
from qgis_case import run_qgis, saved_results


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return saved_results(tmp_path_factory.mktemp("qgis_outputs"))


def _qgs(qgz):
    with zipfile.ZipFile(qgz) as z:
        names = z.namelist()
        assert names == [qgz.with_suffix(".qgs").name]
        return ET.fromstring(z.read(names[0]).decode("utf-8").split("\n", 1)[1])


def test_layers_in_order_with_relative_paths(saved):
    result, files = saved["catchments"]
    root = _qgs(files["catchments.qgz"])
    tree = [(e.get("name"), e.get("checked")) for e in root.iter("layer-tree-layer")]
    # facilities on top, zones drawn as outlines above the catchments, the travel-time raster at the bottom;
    # the raster starts switched off because the opaque catchments cover it
    assert tree == [("facilities (facilities)", "Qt::Checked"), ("zones (zones)", "Qt::Checked"),
                    ("catchments (catchment by facility)", "Qt::Checked"), ("catchments_minutes", "Qt::Unchecked")]
    sources = [e.text for e in root.iter("datasource")]
    assert sources == ["./catchments.gpkg|layername=facilities", "./catchments.gpkg|layername=zones",
                       "./catchments.gpkg|layername=catchments", "./catchments_minutes.tif"]
    assert root.find("properties/Paths/Absolute").text == "false"
    # drawing order: bottom first
    ids = {e.get("name"): e.get("id") for e in root.iter("layer-tree-layer")}
    assert [e.get("id") for e in root.find("layerorder")] == [ids[n] for n, _ in reversed(tree)]
    # each map layer carries the style the GeoPackage / sidecar has
    kinds = [m.find("renderer-v2").get("type") if m.get("type") == "vector" else
             m.find("pipe/rasterrenderer").get("type") for m in root.iter("maplayer")]
    assert kinds == ["singleSymbol", "singleSymbol", "categorizedSymbol", "singlebandpseudocolor"]
    reach = _qgs(saved["reach"][1]["reach.qgz"])
    assert [e.get("name") for e in reach.iter("layer-tree-layer")] == [
        "stations (facilities)", "zones (covered share)", "isochrones (response-time bands)", "reach_minutes"]


def test_every_result_writes_its_project(saved):
    for name, (result, files) in saved.items():
        assert f"{result.default_prefix}.qgz" in files, name
        for qml in (n for n in files if n.endswith(".qml")):
            assert qml.replace(".qml", ".tif") in files
    assert {n for n in saved["reach"][1] if n.endswith(".qml")} == {"reach_minutes.qml"}


def test_project_needs_a_qgz_and_a_styled_layer(tmp_path, saved):
    result, files = saved["density"]
    with pytest.raises(InputError, match=r"\.qgz"):
        write_qgis_project(tmp_path / "p.qgs", [files["density.gpkg"]])
    with pytest.raises(InputError, match="GeoPackages"):
        write_qgis_project(tmp_path / "p.qgz", [files["density.csv"]])
    with pytest.raises(InputError, match="at least one styled layer"):
        qgs_xml([])
    assert list(tmp_path.iterdir()) == []
    assert [lay.layer for lay in project_layers([files["density.gpkg"]], tmp_path)] == ["density"]


def test_project_is_all_or_none_with_the_other_outputs(tmp_path, saved, monkeypatch):
    result = saved["reach"][0]

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(careshed.results, "write_qgis_project", broken)
    with pytest.raises(OSError, match="disk full"):
        result.save(tmp_path / "out", draw_map=False, qgis_project=True)
    assert list((tmp_path / "out").iterdir()) == []
    names = [p.name for p in result.save(tmp_path / "plain", draw_map=False)]
    assert "reach.qgz" not in names and "reach_minutes.qml" in names


def test_qgis_opens_the_project_and_renders_it(tmp_path, saved):
    """The folder moved elsewhere (relative paths), then QGIS reads the .qgz: every layer valid and styled, in
    order, and a rendered map that is not blank. The PNG is kept (path printed) as the test's artefact."""
    moved = {}
    for name in ("reach", "catchments", "optimize", "referral"):
        folder = saved[name][1][f"{saved[name][0].default_prefix}.qgz"].parent
        moved[name] = shutil.copytree(folder, tmp_path / "moved" / name)
    pngs = {}
    got = run_qgis({"projects": [{"project": str(folder / f"{name}.qgz"), "png": str(tmp_path / f"qgis_{name}.png"),
                                  "size": [640, 480]} for name, folder in moved.items()]}, tmp_path)
    for (name, folder), proj in zip(moved.items(), got["projects"]):
        png = tmp_path / f"qgis_{name}.png"
        assert proj["read"], name
        assert proj["crs"] == "EPSG:32631", name
        assert all(lay["valid"] for lay in proj["layers"]), proj["layers"]
        assert all(lay["source"].startswith(str(folder)) for lay in proj["layers"]), proj["layers"]
        assert proj["png"]["errors"] == [], name
        assert proj["png"]["inked_share"] > 0.05 and proj["png"]["colours"] >= 3, (name, proj["png"])
        assert png.stat().st_size > 2000
        pngs[name] = (proj, png)
    reach = pngs["reach"][0]["layers"]
    assert [(lay["name"], lay["renderer"], lay["checked"]) for lay in reach] == [
        ("stations (facilities)", "singleSymbol", True), ("zones (covered share)", "graduatedSymbol", True),
        ("isochrones (response-time bands)", "graduatedSymbol", False),
        ("reach_minutes", "singlebandpseudocolor", False)]
    opt = pngs["optimize"][0]["layers"]
    assert [lay["name"] for lay in opt] == ["chosen (chosen sites)", "sites (candidates)", "zones (covered share)"]
    ref = pngs["referral"][0]["layers"]
    assert [(lay["name"], lay["checked"]) for lay in ref][:4] == [    # the 2 villages above the 5 facilities
        ("villages (villages)", True), ("facilities (facilities)", True),
        ("referral_lines (referral routes)", True), ("zones (covered share)", True)]
    assert {lay["renderer"] for lay in ref[4:]} == {"singlebandpseudocolor"}          # the rasters, below
    print(f"QGIS renders: {', '.join(str(p) for _, p in pngs.values())}")


def test_qgis_lays_out_the_quzhou_reach(tmp_path):
    """`careshed demo`'s reach outputs (Quzhou, MODELLED inputs) opened from their .qgz by QGIS and laid out with
    QGIS's own legends: the project as it opens (covered share by county), the response-time bands and the
    travel-time raster drawn by its .qml sidecar. The README's screenshot is this PNG: with
    CARESHED_DOC_IMAGES=docs/images the test writes it there (docs/images/qgis_quzhou_reach.png)."""
    import os

    from careshed.demo import find_data_dir, quzhou_reach

    result = quzhou_reach(find_data_dir())
    written = {p.name: p for p in result.save(tmp_path / "out", prefix="quzhou_reach", qgis_project=True,
                                               draw_map=False)}
    png = tmp_path / "qgis_quzhou_reach.png"
    panels = [{"title": "As the project opens: covered share by county", "layers": ["stations (facilities)",
                                                                                    "zones (covered share)"]},
              {"title": "Response-time bands (isochrones layer)", "layers": ["stations (facilities)",
                                                                            "isochrones (response-time bands)"]},
              {"title": "Response time raster (.qml sidecar)", "layers": ["stations (facilities)",
                                                                         "quzhou_reach_minutes"]}]
    got = run_qgis({"project": str(written["quzhou_reach.qgz"]),
                    "layout": {"png": str(png), "dpi": 96, "panels": panels}}, tmp_path)
    assert got["project"]["read"] and all(lay["valid"] for lay in got["project"]["layers"])
    assert got["layout"]["result"] == 0                                  # QgsLayoutExporter.Success
    from PIL import Image

    with Image.open(png) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 20)
        assert im.width > 1500 and len(colours) > 50
        white = max(colours)[1] == (255, 255, 255)
        assert white and max(colours)[0] < 0.8 * im.width * im.height          # not blank
    target = os.environ.get("CARESHED_DOC_IMAGES")
    if target:
        shutil.copyfile(png, os.path.join(target, png.name))
    print(f"QGIS layout: {png}")
