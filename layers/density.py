"""Key-population density layer: published resident counts per H3 hexagon, and the grid drill-down.

Everything here comes from the *published* figures (:mod:`geodata.population.publish`):
a suppressed cell is drawn hatched with no number, and nothing about a single resident —
no point, no id, no address — is ever put in a response, at any zoom. Density per km² is the
published count over the hexagon's area (suppressed cells have none).

Resolution follows the zoom: district view (≤ 11) → res 7, 12–13 → res 8, 14–15 → res 9,
≥ 16 (grid view) → res 10 — a 1920×1080 view then holds at most ~1,500 hexagons (bench:
res 9 at zoom 13 / res 10 at zoom 15 sent ~900 KB and took 0.5–0.9 s at p95). Colours are five
classes with "nice" breaks over the published values in view (the legend lists them), so a map
is read without a lookup.

Speed (bench/density_viewport.py, 2.2 million residents): each (resolution, tag) of the
published counts is read once per process and kept until the publication stamp changes; a
viewport is a numpy box test over those arrays; rings are built once per cell; the legend goes
out as plain JSON (:func:`layers.legend.plain`) so Dash serialises the response with orjson in one pass.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from dash import html

from geodata.population import ALL, fetch_grid_table
from geodata.population.read import (
    RESOLUTIONS,
    fetch_grid_at,
    fetch_published_layer,
    fetch_tags,
    warm_published_layers,
)
from geodata.population.watch import start_watcher
from layers.addresses import _hexagon
from layers.display import collection_to_display, shifted
from layers.legend import plain
from layers.view import View

METRICS = ("count", "per_km2")
CLASSES = 5


def resolution_for_zoom(zoom: float) -> int:
    """H3 resolution of the density layer at Leaflet ``zoom`` (7 district … 10 grid view)."""
    z = math.floor(zoom)
    return 7 if z <= 11 else 8 if z <= 13 else 9 if z <= 15 else 10


def nice_breaks(values: list[float], classes: int = CLASSES) -> list[float]:
    """Upper bounds of ``classes`` classes (the last is the maximum), geometric and rounded to
    1/2/5 × 10^k so the legend reads well; equal values collapse into fewer classes."""
    if not values:
        return []
    top = max(values)
    low = max(min(values), top / 10 ** 3, 1e-9)
    if low >= top:
        return [top]
    out: list[float] = []
    for i in range(1, classes):
        raw = low * (top / low) ** (i / classes)
        mag = 10 ** math.floor(math.log10(raw))
        step = min((s * mag for s in (1, 2, 5, 10)), key=lambda s: abs(s - raw))
        if not out or step > out[-1]:
            out.append(step)
    out = [b for b in out if low <= b < top]
    return [*out, top]


def _classes(values: np.ndarray, hidden: np.ndarray, breaks: list[float]) -> list[int]:
    """Class of each value (the first break it does not exceed; -1 where suppressed)."""
    if not breaks:
        return [-1] * len(values)
    cls = np.minimum(np.searchsorted(np.asarray(breaks), values, side="left"), len(breaks) - 1)
    return np.where(hidden, -1, cls).tolist()


def _digits(res: int) -> int:
    """Decimals of a ring's coordinates: ~1 m (5) up to res 9, ~0.1 m (6) for the small res-10 cells."""
    return 5 if res < 10 else 6


@lru_cache(maxsize=60_000)
def _ring(cell: int, digits: int, display: bool) -> tuple:
    """A cell's closed ring as the map draws it (GCJ-02 when ``display``), built once per process."""
    ring = _hexagon(cell, digits)
    if not display:
        return ring
    fc = collection_to_display({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [list(ring)]}}]}, digits)
    return tuple(tuple(p) for p in fc["features"][0]["geometry"]["coordinates"][0])


def build_density(conn, view: View, tag: str | None, metric: str, t: dict, lang: str) -> dict:
    """``{cells, legend, resolution}`` for the viewport: hexagons (display CRS) with ``cell`` (H3
    string), ``v`` (the count or per-km² value; None when suppressed) and ``c`` (class 0..4, -1
    suppressed); the legend as plain JSON (see :func:`layers.legend.plain`).

    Reads the cached published layer (:func:`geodata.population.read.fetch_published_layer`)
    and picks the hexagons in view with numpy: no per-viewport query over population_cell.
    """
    metric = metric if metric in METRICS else "count"
    res = resolution_for_zoom(view.zoom)
    layer = fetch_published_layer(conn, res, tag)
    idx = layer.in_view(view.bbox)
    hidden = layer.suppressed[idx]
    values = layer.n[idx] if metric == "count" else layer.n[idx] / layer.area_km2[idx]
    breaks = nice_breaks(values[~hidden].astype(float).tolist())
    classes = _classes(values, hidden, breaks)
    shown = values.tolist() if metric == "count" else np.round(values, 1).tolist()
    digits, display = _digits(res), shifted()
    features = [{"type": "Feature", "geometry": {"type": "Polygon", "coordinates": (_ring(cell, digits, display),)},
                 "properties": {"cell": format(cell, "x"), "v": None if c < 0 else v, "c": c}}
                for cell, v, c in zip(layer.cell[idx].tolist(), shown, classes, strict=True)]
    legend = density_legend(breaks, metric, res, _tag_name(conn, tag, t, lang), t)
    return {"cells": {"type": "FeatureCollection", "features": features}, "legend": plain(legend), "resolution": res}


def warm_density(conn) -> int:
    """Read every published layer into this process's cache and build the hexagon rings of
    every inhabited cell (rings never change; a publication only adds a few new ones), so the
    first request after a worker start or a publication is served from memory. Returns the
    number of rings built or found."""
    warm_published_layers(conn)
    display, rings = shifted(), 0
    for res in RESOLUTIONS:
        for cell in fetch_published_layer(conn, res).cell.tolist():
            _ring(cell, _digits(res), display)
            rings += 1
    return rings


def start_density_warmer():
    """Keep the density layer warm from a background thread of this process (see
    :mod:`geodata.population.watch`); returns the event that stops it."""
    return start_watcher(warm_density)


def _tag_name(conn, tag: str | None, t: dict, lang: str) -> str:
    if tag in (None, "", ALL):
        return t["density_all"]
    names = {r["code"]: r["name_en" if lang == "en" else "name_zh"] for r in fetch_tags(conn)}
    return names.get(tag, tag)


def density_legend(breaks: list[float], metric: str, res: int, what: str, t: dict) -> html.Div:
    """Five classes with their value ranges, the suppressed swatch and the threshold note."""
    unit = t["density_unit_km2"] if metric == "per_km2" else t["density_unit_people"]
    items, lower = [], 0.0
    for i, upper in enumerate(breaks):
        fmt = (lambda x: f"{x:,.0f}") if metric == "count" or upper >= 100 else (lambda x: f"{x:,.1f}")
        items.append(html.Div([html.Span(className=f"og-swatch og-dens-c{i}"), f"{fmt(lower)} – {fmt(upper)}"],
                              className="og-legend-item"))
        lower = upper
    items.append(html.Div([html.Span(className="og-swatch og-dens-suppressed"), t["density_suppressed"]],
                          className="og-legend-item"))
    title = f"{t['legend_density']} · {what} · {unit} · {t['resolution']} {res}"
    return html.Div([html.Div(title, className="og-legend-title"), *items,
                     html.Div(t["density_privacy_note"], className="og-hint og-dens-note")],
                    className="og-legend-block og-dens-legend")


def tag_options(conn, t: dict, lang: str) -> list[dict]:
    """Dropdown choices: all residents, then each key-population tag (one at a time, no unions)."""
    return [{"label": t["density_all"], "value": ALL}] + [
        {"label": r["name_en" if lang == "en" else "name_zh"], "value": r["code"]} for r in fetch_tags(conn)]


def build_grid_table(conn, grid_code: str, t: dict, lang: str) -> html.Div:
    """The drill-down of one grid: published counts per tag (suppressed ones show a mark, no number)."""
    rows = fetch_grid_table(conn, grid_code)
    body = []
    for r in rows:
        name = t["density_all"] if r["code"] == ALL else r["name_en" if lang == "en" else "name_zh"]
        value = t["density_suppressed_short"] if r["suppressed"] else f"{r['n']:,}"
        body.append(html.Tr([html.Td([html.Span(className="og-dens-dot", style={"background": r["colour"]}), name]),
                             html.Td(value, className="og-num" + (" og-dens-hidden" if r["suppressed"] else ""))]))
    return html.Div([
        html.Div(f"{t['density_grid_title']} · {grid_code}", className="og-panel-title og-block"),
        html.Table([html.Thead(html.Tr([html.Th(t["density_tag"]), html.Th(t["density_people"])])),
                    html.Tbody(body)], className="og-table og-dens-table"),
        html.Div(t["density_privacy_note"], className="og-hint"),
    ], className="og-dens-grid")


def build_grid_table_at(conn, lon: float, lat: float, t: dict, lang: str):
    """The drill-down table of the grid under a map click (lon/lat, EPSG:4326)."""
    code = fetch_grid_at(conn, lon, lat)
    if code is None:
        return html.P(t["density_no_grid"], className="og-hint")
    return build_grid_table(conn, code, t, lang)
