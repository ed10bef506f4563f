"""What real QGIS makes of careshed's outputs — run in a subprocess (QGIS wants its own process and no display).

``python qgis_check.py job.json`` prints one JSON object. The job: {"vectors": [[gpkg, layer], ...],
"slds": [[gpkg, layer], ...], "rasters": [tif, ...], "probes": [[gpkg, layer, value], ...],
"project": qgz or null, "png": path or null, "projects": [{"project", "png", "size"}, ...],
"layout": {"png", "dpi", "panels"}}. For each vector layer: valid, feature count, renderer type, field, the
classes (label, colour, lower/upper or value) and the style's name; for each SLD (the layer_styles row) the rules
QGIS reads from it; for each raster its renderer and colour-ramp items; for each probe the label of the
class a value falls in; for the project: read ok, layer names top to bottom, validity, checked state, and the
rendered PNG's count of non-background pixels and of distinct colours.

Used by test_io_qgis_styles.py and test_report_qgis_project.py (helper module, no tests of its own).
"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main(job_path: str) -> None:
    with open(job_path, encoding="utf-8") as fh:
        job = json.load(fh)
    from qgis.core import Qgis, QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    out = {"qgis_version": Qgis.QGIS_VERSION, "vectors": {}, "slds": {}, "rasters": {}, "probes": []}

    for gpkg, layer in job.get("vectors", []):
        vl = QgsVectorLayer(f"{gpkg}|layername={layer}", layer, "ogr")
        out["vectors"][f"{os.path.basename(gpkg)}:{layer}"] = describe_vector(vl)

    for gpkg, layer in job.get("slds", []):
        con = sqlite3.connect(gpkg)
        sld = con.execute("SELECT styleSLD FROM layer_styles WHERE f_table_name = ? AND useAsDefault = 1",
                          (layer,)).fetchone()[0]
        con.close()
        vl = QgsVectorLayer(f"{gpkg}|layername={layer}", layer, "ogr")
        with tempfile.NamedTemporaryFile("w", suffix=".sld", delete=False, encoding="utf-8") as fh:
            fh.write(sld)
        message, ok = vl.loadSldStyle(fh.name)
        os.unlink(fh.name)
        r = vl.renderer()
        rules = [c.label() for c in r.rootRule().children()] if r.type() == "RuleRenderer" else []
        filters = [c.filterExpression() for c in r.rootRule().children()] if r.type() == "RuleRenderer" else []
        out["slds"][f"{os.path.basename(gpkg)}:{layer}"] = {"ok": bool(ok), "message": message, "type": r.type(),
                                                          "rules": rules, "filters": filters}

    for gpkg, layer, value in job.get("probes", []):
        vl = QgsVectorLayer(f"{gpkg}|layername={layer}", layer, "ogr")
        rng = vl.renderer().rangeForValue(float(value))
        out["probes"].append(None if rng is None else rng.label())

    for tif in job.get("rasters", []):
        rl = QgsRasterLayer(tif, os.path.basename(tif))
        r = rl.renderer()
        entry = {"valid": rl.isValid(), "type": r.type()}
        if r.type() == "singlebandpseudocolor":
            fn = r.shader().rasterShaderFunction()
            entry["ramp_type"] = int(fn.colorRampType())
            entry["items"] = [{"value": i.value, "label": i.label, "colour": i.color.name()}
                              for i in fn.colorRampItemList()]
        out["rasters"][os.path.basename(tif)] = entry

    if job.get("project"):
        out["project"] = check_project(job["project"], job.get("png"), job.get("size", [800, 600]))
    for item in job.get("projects", []):     # several projects in one QGIS start
        QgsProject.instance().clear()
        out.setdefault("projects", []).append(check_project(item["project"], item.get("png"),
                                                            item.get("size", [800, 600])))
    if job.get("layout"):
        out["layout"] = render_layout(job["layout"])
    print(json.dumps(out))
    sys.stdout.flush()
    # QGIS 3.22's Python bindings can crash at interpreter exit when layers outlive exitQgis(); the answer is
    # complete here, so leave without tearing QGIS down.
    os._exit(0)


def check_project(path: str, png: str | None, size) -> dict:
    """Read the project: its layers top to bottom (name, valid, checked, source, renderer) and CRS; with `png`, the
    checked layers rendered (QgsMapRendererParallelJob) over the extent of all layers, and how much got drawn."""
    from qgis.core import QgsMapRendererParallelJob, QgsMapSettings, QgsProject, QgsRectangle
    from qgis.PyQt.QtCore import QSize
    from qgis.PyQt.QtGui import QColor

    project = QgsProject.instance()
    ok = project.read(path)
    root = project.layerTreeRoot()
    tree = root.findLayers()
    result = {
        "read": bool(ok),
        "layers": [{"name": n.name(), "valid": n.layer() is not None and n.layer().isValid(),
                    "checked": n.isVisible(), "source": n.layer().source() if n.layer() else None,
                    "renderer": (n.layer().renderer().type() if n.layer() is not None
                                 and n.layer().renderer() is not None else None)} for n in tree],
        "crs": project.crs().authid() or project.crs().description()}
    if png:
        layers = [n.layer() for n in tree if n.isVisible() and n.layer() is not None]
        settings = QgsMapSettings()
        settings.setLayers(layers)
        settings.setDestinationCrs(project.crs())
        settings.setBackgroundColor(QColor(255, 255, 255))
        settings.setOutputSize(QSize(*size))
        extent = None
        for lay in tree:
            if lay.layer() is None:
                continue
            e = QgsRectangle(lay.layer().extent())
            if extent is None:
                extent = e
            else:
                extent.combineExtentWith(e)
        settings.setExtent(settings.extent() if extent is None else extent.buffered(extent.width() * 0.03))
        render = QgsMapRendererParallelJob(settings)
        render.start()
        render.waitForFinished()
        image = render.renderedImage()
        image.save(png, "PNG")
        inked, colours = 0, set()
        step = 2
        for y in range(0, image.height(), step):
            for x in range(0, image.width(), step):
                rgb = image.pixel(x, y) & 0xFFFFFF
                colours.add(rgb)
                if rgb != 0xFFFFFF:
                    inked += 1
        result["png"] = {"inked_share": inked / ((image.width() // step) * (image.height() // step)),
                         "colours": len(colours), "errors": [str(e.message) for e in render.errors()]}
    return result


def render_layout(spec: dict) -> dict:
    """A QGIS print layout of the project already read: one map per panel ({"title", "layers": [layer names]}),
    each with QGIS's own legend of its layers, exported as one PNG (spec["png"], spec["dpi"])."""
    from qgis.core import (QgsLayoutExporter, QgsLayoutItemLabel, QgsLayoutItemLegend, QgsLayoutItemMap, QgsLegendStyle,
                           QgsLayoutPoint, QgsLayoutSize, QgsPrintLayout, QgsProject, QgsRectangle, QgsUnitTypes)
    from qgis.PyQt.QtGui import QFont

    project = QgsProject.instance()
    by_name = {n.name(): n.layer() for n in project.layerTreeRoot().findLayers()}
    panels = spec["panels"]
    width_mm, map_h, legend_w = 100.0, 100.0, 66.0
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    page = layout.pageCollection().page(0)
    page.setPageSize(QgsLayoutSize((width_mm + legend_w) * len(panels) + 10, map_h + 24,
                                   QgsUnitTypes.LayoutMillimeters))
    for k, panel in enumerate(panels):
        layers = [by_name[n] for n in panel["layers"]]
        x0 = 5 + k * (width_mm + legend_w)
        item = QgsLayoutItemMap(layout)
        layout.addLayoutItem(item)
        item.attemptMove(QgsLayoutPoint(x0, 16, QgsUnitTypes.LayoutMillimeters))
        item.attemptResize(QgsLayoutSize(width_mm, map_h, QgsUnitTypes.LayoutMillimeters))
        item.setLayers(layers)
        item.setKeepLayerSet(True)
        extent = QgsRectangle(by_name[panels[0]["layers"][-1]].extent())       # every panel: the first one's
        extent = extent.buffered(extent.width() * 0.02)
        item.setExtent(extent)               # resizes the item to the extent's shape (zoomToExtent needs an extent)
        item.attemptResize(QgsLayoutSize(width_mm, map_h, QgsUnitTypes.LayoutMillimeters))
        item.zoomToExtent(extent)
        item.setFrameEnabled(True)
        label = QgsLayoutItemLabel(layout)
        label.setText(panel["title"])
        label.setFont(QFont("DejaVu Sans", 10))
        label.attemptMove(QgsLayoutPoint(x0, 4, QgsUnitTypes.LayoutMillimeters))
        label.attemptResize(QgsLayoutSize(width_mm + legend_w - 4, 10, QgsUnitTypes.LayoutMillimeters))
        layout.addLayoutItem(label)
        legend = QgsLayoutItemLegend(layout)
        legend.setLinkedMap(item)
        legend.setAutoUpdateModel(False)
        root = legend.model().rootGroup()
        root.removeAllChildren()
        for lay in layers:
            root.addLayer(lay)
        legend.setTitle("")
        for part in (QgsLegendStyle.Subgroup, QgsLegendStyle.SymbolLabel):
            legend.setStyleFont(part, QFont("DejaVu Sans", 8))
        legend.attemptMove(QgsLayoutPoint(x0 + width_mm + 2, 16, QgsUnitTypes.LayoutMillimeters))
        layout.addLayoutItem(legend)
        legend.setResizeToContents(False)
        legend.attemptResize(QgsLayoutSize(legend_w - 4, map_h, QgsUnitTypes.LayoutMillimeters))
    exporter = QgsLayoutExporter(layout)
    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = spec.get("dpi", 110)
    result = exporter.exportToImage(spec["png"], settings)
    return {"result": int(result)}


def describe_vector(vl) -> dict:
    r = vl.renderer()
    entry = {"valid": vl.isValid(), "features": vl.featureCount(), "type": r.type() if r else None,
             "style": vl.styleManager().currentStyle()}
    if r is None:
        return entry
    if r.type() == "graduatedSymbol":
        entry["field"] = r.classAttribute()
        entry["classes"] = [{"label": g.label(), "lower": g.lowerValue(), "upper": g.upperValue(),
                             "colour": g.symbol().color().name()} for g in r.ranges()]
        entry["order_by"] = r.orderBy().dump() if r.orderByEnabled() else ""
    elif r.type() == "categorizedSymbol":
        entry["field"] = r.classAttribute()
        entry["classes"] = [{"label": c.label(), "value": str(c.value()), "colour": c.symbol().color().name(),
                             "shape": c.symbol().symbolLayer(0).properties().get("name")} for c in r.categories()]
    elif r.type() == "singleSymbol":
        props = r.symbol().symbolLayer(0).properties()
        entry["classes"] = [{"label": "", "colour": r.symbol().color().name(), "fill_style": props.get("style")}]
    return entry


if __name__ == "__main__":
    main(sys.argv[1])
