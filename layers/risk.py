"""Risk surface on the map: a heatmap (drawn by our canvas layer, ``assets/onegrid-heat.js``)
and an H3 choropleth (res 8; res 7 sums at district zoom), for a time window and a playback
frame, with a legend; and what makes one cell risky (score, top factors, links to its cases
and warnings).

Scores come from :mod:`geodata.warnings.risk` (weights in ``risk_weight``). The heat layer
gets one feature whose properties carry ``[lat, lng, intensity]`` triples (Leaflet order) and
the cell radius in metres; intensities are scores over the 95th percentile of the view.
"""

from __future__ import annotations

import math
from datetime import datetime

import h3
from dash import html

from geodata.geometry import BBox
from geodata.warnings import risk as gr
from geodata.warnings.risk_fine import FINE_RES, fetch_fine_scores
from layers.addresses import _hexagon
from layers.cases import case_link_id, local_time
from layers.display import collection_to_display, lonlat_to_display
from layers.legend import plain
from layers.view import View
from layers.warnings import ITEM_TYPE

#: Playback frames across a window (the last one is "now").
FRAMES = 12
#: Zoom up to which cells are summed to resolution 7.
DISTRICT_ZOOM = 11
#: Class upper bounds as shares of the view's 95th-percentile score (five classes).
CLASS_SHARES = (0.1, 0.25, 0.5, 0.75)
#: Heat radius per cell, metres (a bit over the hexagon's circumradius, so blobs merge).
HEAT_RADIUS_M = {7: 1800, 8: 700, FINE_RES: 100}
#: From this zoom the heatmap is drawn from res-10 cells (geodata.warnings.risk_fine): res-8
#: centres are ~800 m apart, 4–8 screen-widths of blobs at zoom 16–17.
FINE_ZOOM = 16


def frame_time(conn, window: str, frame: int | None) -> tuple[datetime, bool]:
    """The time of playback ``frame`` (0 = start of the window … FRAMES-1 = now) and whether it is now."""
    now = gr.fetch_db_now(conn)
    if frame is None or int(frame) >= FRAMES - 1:
        return now, True
    times = gr.playback_times(window, FRAMES, now)
    return times[max(0, int(frame))], False


def _classes(scale: float) -> list[float]:
    return [round(scale * s, 1) for s in CLASS_SHARES]


def _surface(conn, window: str, at: datetime, bbox, res: int) -> dict:
    surface = gr.fetch_risk_surface(conn, window, at=at, bbox=bbox)
    return gr.aggregate_to_parent(surface, res) if res != gr.RES else surface


def _padded(bbox: BBox, metres: float) -> BBox:
    """``bbox`` (lon/lat) grown by ``metres`` on every side, at its middle latitude."""
    dlat = metres / 111_320
    dlon = dlat / max(0.1, math.cos(math.radians((bbox.minlat + bbox.maxlat) / 2)))
    return BBox(bbox.minlon - dlon, bbox.minlat - dlat, bbox.maxlon + dlon, bbox.maxlat + dlat)


def build_risk(conn, view: View, window: str, frame: int | None, t: dict, want_heat: bool, want_cells: bool,
               scale_bbox=None) -> dict:
    """``{heat, cells, legend, time}`` for the viewport: heat (one-feature GeoJSON for the canvas
    layer), cells (hexagons with class ``c`` and score ``s``), the legend blocks as plain JSON
    (:func:`layers.legend.plain`: a component in the response puts the whole heat and cells
    payload on Dash's slow Python JSON path) and the "as of" label. Layers not wanted come back empty. ``scale_bbox`` (lon/lat) scales classes
    and heat on that box's scores instead of the view's (a snapshot sheet wider than the
    screen it was taken from keeps the screen's colours)."""
    gr.rebuild_risk_surface(conn)
    at, live = frame_time(conn, window, frame)
    res = 7 if view.zoom <= DISTRICT_ZOOM else gr.RES
    surface = _surface(conn, window, at, view.bbox, res)
    scale = gr.score_scale(surface if scale_bbox is None else _surface(conn, window, at, scale_bbox, res))
    breaks = _classes(scale)
    empty = {"type": "FeatureCollection", "features": []}
    heat, cells = empty, empty
    if want_heat and view.zoom >= FINE_ZOOM:
        fine = fetch_fine_scores(conn, window, at, _padded(view.bbox, 2 * HEAT_RADIUS_M[FINE_RES]))
        wide = fine if scale_bbox is None else fetch_fine_scores(conn, window, at, scale_bbox)
        heat = _heat(fine, gr.score_scale(list(wide.values())), FINE_RES, view, f"{window}-{frame}")
    elif want_heat:
        # Cells just outside the view still reach into it with their blob: without them a
        # street-zoom view showed one or two spots and empty edges.
        padded = _surface(conn, window, at, _padded(view.bbox, HEAT_RADIUS_M[res]), res)
        heat = _heat({c: r.score for c, r in padded.items()}, scale, res, view, f"{window}-{frame}")
    if want_cells:
        feats = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [list(map(list, _hexagon(c, 5)))]},
                  "properties": {"cell": str(c), "s": round(r.score, 1),
                                 "c": sum(r.score > b for b in breaks)}} for c, r in surface.items()]
        cells = collection_to_display({"type": "FeatureCollection", "features": feats}, 5)
    label = t["risk_now"] if live else t["risk_as_of"].format(time=local_time(at))
    legend = plain(risk_legend(breaks, t, want_heat, want_cells))
    return {"heat": heat, "cells": cells, "legend": legend, "time": label}


def _heat(scores: dict[int, float], scale: float, res: int, view: View, key: str) -> dict:
    """The heat layer's one feature: ``[lat, lng, score / scale]`` per cell (display datum, Leaflet
    order) and the blob radius in metres."""
    pts = []
    for c, score in scores.items():
        lat, lng = h3.api.basic_int.cell_to_latlng(c)
        x, y = lonlat_to_display(lng, lat)
        pts.append([round(y, 5), round(x, 5), round(min(1.0, score / scale), 3)])
    cx, cy = lonlat_to_display((view.bbox.minlon + view.bbox.maxlon) / 2, (view.bbox.minlat + view.bbox.maxlat) / 2)
    return {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [cx, cy]},
        "properties": {"heat": pts, "radius": HEAT_RADIUS_M[res], "res": res, "key": f"{key}-{res}-{len(pts)}"}}]}


def risk_legend(breaks: list[float], t: dict, heat: bool, cells: bool) -> list:
    """Heat ramp and/or the five choropleth classes with their score ranges."""
    blocks = []
    if heat:
        blocks.append(html.Div([html.Div(t["legend_risk_heat"], className="og-legend-title"),
                                html.Div(className="og-heat-ramp")], className="og-legend-block og-risk-legend-heat"))
    if cells:
        lows = [0.0, *breaks]
        items = [html.Div([html.Span(className=f"og-swatch og-risk-c{i}"),
                           f"{lo:g} – {hi:g}" if hi is not None else f"> {lo:g}"], className="og-legend-item")
                 for i, (lo, hi) in enumerate(zip(lows, [*breaks, None], strict=True))]
        blocks.append(html.Div([html.Div(t["legend_risk"], className="og-legend-title"), *items],
                               className="og-legend-block og-risk-legend-cells"))
    return blocks


def cell_at(lon: float, lat: float, zoom) -> int:
    """The risk cell under a map click (lon/lat, EPSG:4326) at the resolution shown at ``zoom``."""
    res = 7 if (zoom or 12) <= DISTRICT_ZOOM else gr.RES
    return h3.api.basic_int.latlng_to_cell(lat, lon, res)


def build_risk_detail(conn, cell, window: str, frame: int | None, t: dict, lang: str) -> list:
    """A cell's score, its factors (largest first, with points) and links: cases open the case
    drawer, warnings open in the warning panel."""
    at, _ = frame_time(conn, window, frame)
    d = gr.fetch_cell_detail(conn, int(cell), window, at=at)
    risk = d["risk"]
    out = [html.Div([html.Span(t["risk_score"], className="og-k"), html.B(f" {risk.score:.1f}", className="og-risk-score")]),
           html.Div(f"{t['risk_cell']} {h3.int_to_str(d['cell'])} · r{d['res']}", className="og-k")]
    factors = risk.factors()
    if not factors:
        return [*out, html.P(t["risk_none"], className="og-hint")]
    top = factors[0][1]
    out.append(html.Div(t["risk_factors"], className="og-panel-title og-block"))
    for name, points in factors:
        extra = f" ({risk.people} {t['risk_people']})" if name == "vulnerability" else ""
        out.append(html.Div([html.Span(t[f"risk_factor_{name}"] + extra, className="og-risk-factor-name"),
                             html.Span(className="og-risk-bar", style={"width": f"{max(4, math.ceil(100 * points / top))}%"}),
                             html.Span(f"{points:.1f}", className="og-k")], className="og-risk-factor"))
    if d["warnings"]:
        out.append(html.Div(t["risk_warnings"], className="og-panel-title og-block"))
        out += [html.Button([html.Span(t[f"warn_level_{w['level']}"], className=f"og-lv-chip og-lv-{w['level']}"),
                             f" {w['name_en'] if lang == 'en' else w['name_zh']} · {w['sensor_code']} · {w['value']:.4g} {w['unit']}"],
                            id={"type": ITEM_TYPE, "id": w["id"], "src": "risk"}, n_clicks=0, className="og-link og-risk-link")
                for w in d["warnings"]]
    if d["cases"]:
        out.append(html.Div(t["risk_cases"], className="og-panel-title og-block"))
        out += [html.Button(f"{c['code']} · {c['name_en'] if lang == 'en' else c['name_zh']} · {local_time(c['reported_at'])}",
                            id=case_link_id(c["id"], "risk"), n_clicks=0, className="og-link og-risk-link")
                for c in d["cases"]]
    return out
