"""Sensor layer: viewport-bounded sensor points, a glyph per kind, coloured by the state of the
sensor's open warning (level colour; acknowledged ones ringed), clustered when zoomed out.

Points are EPSG:4326 lon/lat (shifted for GCJ-02 base maps by :mod:`layers.display`). Kind
names and glyphs travel once in the layer's ``hideout``, not with every point. Live changes
(warnings opened, escalated, handled) travel as deltas of the touched sensors only.
"""

from __future__ import annotations

from dash import html

from geodata import warnings as gw
from geodata.geometry import BBox
from layers.display import lonlat_to_display
from layers.view import View

#: Sensor points per viewport at most.
SENSOR_CAP = 3000


def kind_styles(conn, lang: str) -> dict:
    """``{kind: {name, glyph, unit}}`` for the layer's hideout and the legend."""
    return {k["code"]: {"name": k["name_en"] if lang == "en" else k["name_zh"], "glyph": k["glyph"],
                        "unit": k["unit"]} for k in gw.fetch_sensor_kinds(conn)}


def sensor_feature(row: dict) -> dict:
    """One sensor as a GeoJSON point: ``id, code, k`` (kind), ``lv`` (open warning level or
    None), ``st`` (its state), ``v`` (last value), ``n`` (name)."""
    lon, lat = lonlat_to_display(row["lon"], row["lat"])
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {"id": row["id"], "code": row["code"], "k": row["kind_code"], "lv": row["warning_level"],
                           "st": row["warning_state"], "v": row["last_value"], "n": row["name"]}}


def build_sensor_layer(conn, view: View, cap: int = SENSOR_CAP) -> dict:
    """Sensors in the viewport (those with open warnings first), at most ``cap``; GeoJSON with
    ``truncated``."""
    rows = gw.fetch_sensors(conn, view.bbox, limit=cap + 1)
    return {"type": "FeatureCollection", "features": [sensor_feature(r) for r in rows[:cap]],
            "truncated": len(rows) > cap}


def build_sensor_delta(conn, warnings: list, bbox) -> dict | None:
    """The sensors whose warnings changed, as features to upsert (None when none in ``bbox``)."""
    ids = sorted({w.sensor_id for w in warnings})
    if not ids:
        return None
    rows = gw.fetch_sensors(conn, BBox(*bbox), ids=ids, limit=len(ids))
    return {"upsert": [sensor_feature(r) for r in rows], "remove": []} if rows else None


def sensor_legend(styles: dict, t: dict) -> html.Div:
    """Kinds (glyph) and the warning colours of the sensor layer."""
    kinds = [html.Div([html.I(s["glyph"], className="og-sensor-glyph og-sensor-normal"), s["name"]],
                      className="og-legend-item") for s in styles.values()]
    levels = [html.Div([html.I("", className="og-sensor-glyph og-sensor-normal"), t["legend_sensor_normal"]],
                       className="og-legend-item")]
    levels += [html.Div([html.I("", className=f"og-sensor-glyph og-lv-{lv}"), t[f"warn_level_{lv}"]],
                        className="og-legend-item") for lv in gw.LEVELS]
    return html.Div([html.Div(t["legend_sensors"], className="og-legend-title"),
                     html.Div(kinds + levels, className="og-legend-grid")], className="og-legend-block")
