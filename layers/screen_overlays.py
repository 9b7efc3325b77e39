"""The overlays with their own controls on the print sheet: key-population density (tag,
counts or per km²) and the risk surface (window, playback frame), drawn so that a snapshot
matches the screen it was taken from.

Both overlays are aggregated on the server and classed on what is in view: the hexagon
resolution follows the zoom and the colour classes follow the values in the viewport. A sheet
has its own aspect ratio and size, so its fitted zoom and its visible box differ from the
screen's. When the snapshot carries the screen's view (``bbox`` + ``zoom``), the sheet takes
the screen's resolution and the screen's classes: hexagons the screen showed keep their
colour, the rest of the sheet is classed on the screen's breaks, and the legend is the
screen's. Density stays the *published* figures only (:mod:`layers.density`): suppressed
cells are drawn suppressed, with no number.

Extents are EPSG:4326 lon/lat degrees; GeoJSON is in the display CRS (:mod:`layers.display`).
"""

from __future__ import annotations

from bisect import bisect_left

from geodata.geometry import BBox
from geodata.maps import fetch_extent
from layers import display, sensors
from layers.cases import build_case_layer
from layers.density import build_density, nice_breaks
from layers.risk import build_risk
from layers.screen_spec import SnapshotSpec
from layers.view import View, parse_view

EMPTY = {"type": "FeatureCollection", "features": []}


def screen_view(conn, spec: SnapshotSpec, sheet: View) -> View:
    """The view of the screen the snapshot was taken from (its box, its zoom), as the map
    page's callbacks saw it; the sheet's own view when the snapshot names no screen
    (a street, the district, or a box without a zoom)."""
    if spec.bbox is None or spec.zoom is None:
        return sheet
    box = spec.bbox
    return parse_view([[box.minlat, box.minlon], [box.maxlat, box.maxlon]], spec.zoom, fetch_extent(conn).bbox)


def _reclass(wide: dict, shown: dict) -> dict:
    """``wide``'s cells with ``shown``'s classes: the same class for the same hexagon, the
    screen's breaks for hexagons only the sheet shows (above the top: the top class)."""
    same = {f["properties"]["cell"]: f["properties"]["c"] for f in shown["features"]}
    values = [f["properties"]["v"] for f in shown["features"] if f["properties"]["v"] is not None]
    breaks = nice_breaks([float(v) for v in values])
    if not breaks:  # nothing published on the screen: no classes to extend
        return shown
    for feature in wide["features"]:
        p = feature["properties"]
        if p["cell"] in same:
            p["c"] = same[p["cell"]]
        elif p["v"] is not None:
            p["c"] = min(bisect_left(breaks, float(p["v"])), len(breaks) - 1)
    return wide


def build_sheet_density(conn, spec: SnapshotSpec, sheet: View, screen: View, t: dict) -> dict:
    """``{cells, legend}``: published density hexagons over the sheet's box at the screen's
    resolution, in the screen's classes, with the screen's legend (tag, unit, classes,
    suppressed). InvalidInput for an unknown tag."""
    shown = build_density(conn, screen, spec.density_tag, spec.density_metric, t, spec.lang)
    if screen == sheet:
        return {"cells": shown["cells"], "legend": shown["legend"]}
    wide = build_density(conn, View(sheet.bbox, screen.zoom), spec.density_tag, spec.density_metric, t, spec.lang)
    return {"cells": _reclass(wide["cells"], shown["cells"]), "legend": shown["legend"]}


def build_sheet_risk(conn, spec: SnapshotSpec, sheet: View, screen: View, t: dict) -> dict:
    """``{heat, cells, legend, time}`` of the risk layers on in ``spec`` over the sheet's box,
    at the screen's resolution, scaled on the screen's box (same classes, same heat)."""
    heat, cells = "risk_heat" in spec.layers, "risk_cells" in spec.layers
    scale_bbox: BBox | None = None if screen == sheet else screen.bbox
    return build_risk(conn, View(sheet.bbox, screen.zoom), spec.risk_window, spec.risk_frame, t, heat, cells,
                      scale_bbox=scale_bbox)


def add_overlays(conn, spec: SnapshotSpec, data: dict, zoom: float, flt, t: dict) -> dict:
    """Fill ``data`` (the sheet's :func:`layers.viewport.build_viewport` answer) with the live
    overlays the map page loads through their own callbacks — ``cases``, ``sensors``,
    ``risk_heat``/``risk_cells``, ``density`` — and their legends (risk and density first, as
    on the map page). Returns ``{sensor_kinds, risk_time}`` (the risk "as of" label or None)."""
    sheet = View(BBox(*data["view"]["bbox"]), zoom)
    screen = screen_view(conn, spec, sheet)
    on = set(spec.layers)
    data.update(cases=EMPTY, sensors=EMPTY, risk_heat=EMPTY, risk_cells=EMPTY, density=EMPTY)
    first, out = [], {"sensor_kinds": {}, "risk_time": None}
    if "cases" in on:
        fc = build_case_layer(conn, sheet, flt, t, spec.lang)
        if fc.pop("truncated"):
            data["truncated"].append("cases")
        del fc["cursor"], fc["checked"]
        data["cases"] = fc
    if "sensors" in on:
        out["sensor_kinds"] = sensors.kind_styles(conn, spec.lang)
        fc = sensors.build_sensor_layer(conn, sheet)
        if fc.pop("truncated"):
            data["truncated"].append("sensors")
        data["sensors"] = display.collection_to_display(fc)
    if on & {"risk_heat", "risk_cells"}:
        risk = build_sheet_risk(conn, spec, sheet, screen, t)
        data["risk_heat"], data["risk_cells"], out["risk_time"] = risk["heat"], risk["cells"], risk["time"]
        first.extend(risk["legend"])
    if "density" in on:
        density = build_sheet_density(conn, spec, sheet, screen, t)
        data["density"] = density["cells"]
        first.append(density["legend"])
    data["legend"][:0] = first
    return out
