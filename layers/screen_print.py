"""The print sheet of a map snapshot: the same layers as the command map, for a fixed extent.

:func:`build_sheet` answers everything the print page draws — per-layer GeoJSON (the very
builders the live map uses, so colours and features match the screen), the legend of every
visible layer, title, subtitle (time and filters), data source and CRS — and the sheet layout
in CSS pixels with the Leaflet centre/zoom that fits the extent exactly.

Coordinates: extents in EPSG:4326 lon/lat degrees; GeoJSON as the map draws it (WGS-84, or
GCJ-02 when the base map is, see :mod:`layers.display`); Leaflet centres are (lat, lon).
"""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

from dash import html

from geodata import cases as gc
from geodata import maps
from geodata.cases.map_queries import fetch_place_names
from geodata.db import pooled
from geodata.errors import NotFound
from geodata.geometry import BBox
from geodata.settings import get_settings
from layers import display
from layers.cases import parse_filter
from layers.facilities import build_kinds, default_kinds, kind_styles
from layers.grids import CASE_METRICS
from layers.screen_overlays import add_overlays
from layers.screen_spec import SnapshotSpec, fit_zoom, sheet_of
from layers.viewport import LAYERS, LayerRequest, build_viewport

#: Extra margin around a street's or the district's extent (fraction of its size).
_PAD = 0.04


def sheet_layout(spec: SnapshotSpec) -> dict:
    """Boxes of the sheet in CSS pixels: ``width, height, margin, header, footer, font`` and
    ``map`` (w, h), ``legend`` ("right" column or "bottom" strip) and ``legend_size`` (px)."""
    sheet = sheet_of(spec)
    w, h = sheet.css
    short = min(w, h)
    margin, header, footer = round(0.025 * short), round(0.085 * short), round(0.032 * short)
    font = max(11.0, round(short / 62, 1))
    if w >= h:
        side = round(0.28 * w)
        map_box = (w - 2 * margin - side - margin, h - 2 * margin - header - footer)
        where = "right"
    else:
        side = round(0.2 * h)
        map_box = (w - 2 * margin, h - 2 * margin - header - footer - side - margin)
        where = "bottom"
    return {"width": w, "height": h, "margin": margin, "header": header, "footer": footer, "font": font,
            "map": map_box, "legend": where, "legend_size": side}


def _padded(box: BBox, pad: float = _PAD) -> BBox:
    dx, dy = (box.maxlon - box.minlon) * pad, (box.maxlat - box.minlat) * pad
    return BBox(box.minlon - dx, box.minlat - dy, box.maxlon + dx, box.maxlat + dy)


def resolve_extent(conn, spec: SnapshotSpec) -> tuple[BBox, str | None]:
    """The extent to draw (lon/lat) and the place it names: ``bbox`` as given, a street's
    outline (padded), else the district's extent. NotFound for an unknown street; a database
    without any area is NotFound too (nothing to draw)."""
    if spec.bbox is not None:
        return spec.bbox, None
    if spec.street:
        place = maps.fetch_place(conn, "area", spec.street)
        return _padded(BBox(*place["bbox"])), place["name"]
    extent = maps.fetch_extent(conn)
    if extent.bbox is None:
        raise NotFound("no district is loaded; load data first (onegrid demo load or onegrid import)")
    return _padded(extent.bbox), None


def visible_bounds(zoom: float, lat: float, lon: float, size: tuple[int, int]) -> list[list[float]]:
    """Leaflet bounds [[south, west], [north, east]] of a map of ``size`` CSS px at centre/zoom."""
    scale = 256 * 2 ** zoom
    half_lon = size[0] * 360 / scale / 2
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    half_y = size[1] * 2 * math.pi / scale / 2

    def lat_of(v: float) -> float:
        return math.degrees(2 * math.atan(math.exp(v)) - math.pi / 2)

    return [[lat_of(y - half_y), lon - half_lon], [lat_of(y + half_y), lon + half_lon]]


def _line_legend(title: str, items: list[tuple[str, str]]) -> html.Div:
    """Legend block of line symbols: ``(CSS class of the swatch, label)``."""
    rows = [html.Div([html.Span(className=f"og-swatch og-swatch-line {cls}"), label], className="og-legend-item")
            for cls, label in items]
    return html.Div([html.Div(title, className="og-legend-title"), *rows], className="og-legend-block")


def _facility_legend(kinds: list[dict], chosen: tuple[str, ...] | None, t: dict) -> html.Div:
    shown = [k for k in kinds if k["n"] and (chosen is None or k["code"] in chosen)]
    rows = [html.Div([html.I(k["glyph"], className="og-glyph", style={"background": k["color"]}), k["name"]],
                     className="og-legend-item") for k in shown]
    return html.Div([html.Div(t["legend_facilities"], className="og-legend-title"),
                     html.Div(rows, className="og-legend-grid")], className="og-legend-block")


def build_legend(spec: SnapshotSpec, blocks: list, kinds: list[dict], chosen, t: dict) -> list:
    """Legend of every visible layer, in the map's layer order (``blocks`` are the viewport's
    own legends for grids, addresses and cases; ``chosen`` the facility kinds drawn)."""
    on = set(spec.layers)
    out = []
    if "outlines" in on:
        out.append(_line_legend(t["layer_outlines"], [("og-line-district", t["level_district"]),
                                                      ("og-line-street", t["level_street"]),
                                                      ("og-line-community", t["level_community"])]))
    out.extend(blocks)
    if "facilities" in on:
        out.append(_facility_legend(kinds, chosen, t))
    if "roads" in on:
        out.append(_line_legend(t["layer_roads"], [("og-line-road-main", t["print_road_main"]),
                                                   ("og-line-road-secondary", t["print_road_secondary"])]))
    return out


def describe_filters(conn, spec: SnapshotSpec, t: dict) -> str:
    """The case filter in words (window, states, categories, channels, streets) for the subtitle."""
    parts = [f"{t['print_window']} {t['window_' + spec.window]}"]
    if spec.states:
        parts.append(t["filter_states"] + " " + "、".join(t[f"state_{s}"] for s in spec.states))
    if spec.categories:
        names = {c["code"]: c["name_en" if spec.lang == "en" else "name_zh"] for c in gc.fetch_categories(conn)}
        parts.append(t["filter_categories"] + " " + "、".join(names.get(c, c) for c in spec.categories))
    if spec.channels:
        parts.append(t["filter_channels"] + " " + "、".join(t[f"channel_{c}"] for c in spec.channels))
    if spec.streets:
        names = fetch_place_names(conn, areas=spec.streets)
        parts.append(t["filter_streets"] + " " + "、".join(names.get(s, s) for s in spec.streets))
    return " · ".join(parts)


def source_line(t: dict) -> str:
    """Data source and coordinate reference systems (storage, display, base map datum)."""
    settings = get_settings()
    line = f"{t['print_source']} · {t['print_crs']}"
    if settings.basemap_url:
        datum = "GCJ-02" if settings.basemap_crs == "gcj02" else "WGS 84"
        line += f" · {t['print_basemap']} {settings.basemap_attribution or ''} ({datum})"
    return line


def build_sheet(spec: SnapshotSpec, t: dict, now: datetime | None = None,
                map_size: tuple[int, int] | None = None) -> dict:
    """Everything the print page draws for ``spec`` (strings ``t`` in ``spec.lang``).

    Returns ``layout`` (see :func:`sheet_layout`), ``zoom``/``center`` (Leaflet, lat/lon),
    ``data`` (GeoJSON per map layer id key as in :func:`layers.viewport.build_viewport`, plus
    ``cases`` and ``sensors``), ``kind_styles``, ``sensor_kinds``, ``legend`` (components), ``title``, ``subtitle``, ``source``,
    ``truncated`` (layer names capped) and ``bbox`` (the lon/lat extent asked for).
    ``map_size`` (CSS px) overrides the sheet's map box (the briefing embeds a smaller map).
    Raises InvalidInput/InvalidBBox/NotFound on a bad spec, DatabaseUnavailable when down.
    """
    tz = ZoneInfo(get_settings().timezone)
    now = (now or datetime.now(tz)).astimezone(tz)
    layout = sheet_layout(spec)
    if map_size is not None:
        layout["map"] = map_size
    with pooled() as conn:
        bbox, place = resolve_extent(conn, spec)
        extent = maps.fetch_extent(conn)
        kinds = build_kinds(conn, spec.lang)
        subtitle = f"{now:%Y-%m-%d %H:%M} ({tz.key})"
        # The case filter only where cases are drawn (the layer, or grids coloured by cases).
        if "cases" in spec.layers or ("grids" in spec.layers and spec.metric in CASE_METRICS):
            subtitle += f" · {describe_filters(conn, spec, t)}"
        zoom, lat, lon = fit_zoom(bbox, *layout["map"])
        zoom = maps.clamp_zoom(zoom)
        (west, south) = display.lonlat_to_display(bbox.minlon, bbox.minlat)
        (east, north) = display.lonlat_to_display(bbox.maxlon, bbox.maxlat)
        _, lat, lon = fit_zoom(BBox(west, south, east, north), *layout["map"])
        bounds = visible_bounds(zoom, lat, lon, layout["map"])
        flt = parse_filter(spec.case_filter(), now)
        # No kinds given: the map page's first choice (dense kinds such as video points off).
        chosen = spec.kinds if spec.kinds is not None else tuple(default_kinds(kinds, get_settings().max_features))
        request = LayerRequest(layers=tuple(x for x in spec.layers if x in LAYERS), metric=spec.metric, kinds=chosen,
                               lang=spec.lang, case_filter=flt if spec.metric in CASE_METRICS else None)
        data = build_viewport(bounds, zoom, request, t)
        overlays = add_overlays(conn, spec, data, zoom, flt, t)
        if overlays["risk_time"]:
            subtitle += f" · {t['legend_risk']} {t['risk_window_' + spec.risk_window]} {overlays['risk_time']}"
    title = spec.title or f"{place or extent.district_name or t['product']} · {t['print_title_suffix']}"
    return {"layout": layout, "zoom": zoom, "center": [lat, lon], "data": data, "kind_styles": kind_styles(kinds),
            "sensor_kinds": overlays["sensor_kinds"],
            "legend": build_legend(spec, data["legend"], kinds, chosen, t), "title": title, "subtitle": subtitle,
            "source": source_line(t), "truncated": data["truncated"], "bbox": bbox.as_tuple()}
