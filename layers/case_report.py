"""Report from the map: the category's extra questions as inputs, and the submission.

The point comes from a map click (display datum → stored WGS-84 lon/lat); the case goes in
through :func:`geodata.cases.create_case` with channel ``supervisor`` (监督员上报).
"""

from __future__ import annotations

from dash import dcc, html

from geodata import cases as gc
from geodata.errors import InvalidInput
from layers.display import bounds_from_display
from layers.widgets import dropdown

#: Pattern-matching id type of the attribute inputs (``{"type": ATTR_TYPE, "code": code}``).
ATTR_TYPE = "og-report-attr"


def category_options(categories: list[dict], lang: str) -> list[dict]:
    """Dropdown options for case categories, grouped label ``group · name`` in ``lang``."""
    out = []
    for c in categories:
        group, name = (c["group_en"], c["name_en"]) if lang == "en" else (c["group_zh"], c["name_zh"])
        out.append({"label": f"{group} · {name}" if group else name, "value": c["code"]})
    return out


def _attribute_input(attr: dict, t: dict) -> html.Div:
    aid = {"type": ATTR_TYPE, "code": attr["code"]}
    kind = attr["datatype"]
    if kind in ("singlevaluelist", "multivaluelist"):
        control = dropdown(t, id=aid, options=[{"label": v["name"], "value": v["key"]} for v in attr["values"] or []],
                           multi=kind == "multivaluelist", className="og-input")
    elif kind == "number":
        control = dcc.Input(id=aid, type="number", className="og-input")
    else:
        control = dcc.Input(id=aid, type="text", className="og-input")
    label = (attr["description"] or attr["code"]) + (" *" if attr["required"] else "")
    return html.Div([html.Label(label, className="og-k"), control], className="og-field")


def build_attribute_fields(conn, category_code: str | None, t: dict) -> list:
    """Inputs for the extra questions of ``category_code`` (required ones starred); [] when none."""
    if not category_code:
        return []
    attrs = gc.fetch_category_attributes(conn, category_code)
    return [_attribute_input(a, t) for a in attrs]


def point_from_click(click: dict | None) -> dict | None:
    """``{lon, lat}`` (stored WGS-84) of a dash-leaflet map ``clickData`` (display datum), or None."""
    latlng = (click or {}).get("latlng") or {}
    try:
        lat, lng = float(latlng["lat"]), float(latlng["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    (lat, lng), _ = bounds_from_display([[lat, lng], [lat, lng]])
    return {"lon": round(lng, 7), "lat": round(lat, 7)}


def submit_report(conn, point: dict | None, category_code: str | None, description: str | None, actor: str | None,
                  attr_ids: list[dict], attr_values: list) -> gc.Case:
    """Create the case reported from the map (does not commit). InvalidInput when the point,
    category or operator name is missing; create_case's own checks otherwise."""
    if not point:
        raise InvalidInput("click the map to place the report first (先在地图上点选位置)")
    if not category_code:
        raise InvalidInput("choose a category (请选择类别)")
    if not (actor or "").strip():
        raise InvalidInput("operator name is required (操作人)")
    attributes = {i["code"]: v for i, v in zip(attr_ids, attr_values, strict=False) if v not in (None, "", [])}
    return gc.create_case(conn, category_code=category_code, channel="supervisor", lon=point["lon"],
                          lat=point["lat"], actor=actor.strip(), description=(description or "").strip(),
                          attributes=attributes or None)
