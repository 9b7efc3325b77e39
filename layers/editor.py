"""Grid editor layers: the draft's grids with household labels, the problems on the map and
in a list, the impact preview (before/after), all from :mod:`geodata.grids`.

GeoJSON out is lon/lat (EPSG:4326). Households and residents appear only as counts per grid.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import html
from shapely.geometry import mapping

from geodata.grids import editor as E
from geodata.grids.impact import preview_impact
from geodata.grids.store import fetch_communities, fetch_community_outlines
from geodata.settings import get_settings

EMPTY = {"type": "FeatureCollection", "features": []}
#: Most undo steps kept in the browser.
UNDO_DEPTH = 20


def edit_control(control_id: str, reshape: dict | None = None) -> list:
    """Children of the leaflet-draw FeatureGroup (EditControl ``control_id``): draw a line (split)
    or a polygon (new grid); with ``reshape`` ({code, positions [lat, lng]}) the selected grid is
    in the group and its vertices can be dragged (leaflet-draw ships inside dash-leaflet: offline)."""
    shapes = [dl.Polygon(positions=reshape["positions"])] if reshape else []
    draw = {"polyline": not reshape, "polygon": not reshape, "rectangle": False, "circle": False,
            "marker": False, "circlemarker": False}
    return [*shapes, dl.EditControl(id=control_id, position="topright", draw=draw,
                                    edit={"edit": bool(reshape), "remove": not reshape})]


def build_community_options(conn) -> list[dict]:
    """Dropdown options: "street · community (code)"."""
    return [{"label": f"{c['street'] or ''} · {c['name']} ({c['code']})", "value": c["code"]}
            for c in fetch_communities(conn)]


def build_community_outlines(conn) -> dict:
    """The district's communities as GeoJSON (lon/lat) for the overview map: code, name, street."""
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c["code"], "name": c["name"], "street": c["street"] or ""},
         "geometry": c["geometry"]} for c in fetch_community_outlines(conn)]}


def outline_bounds(outlines: dict) -> list | None:
    """Leaflet bounds [[south, west], [north, east]] of a FeatureCollection (lon/lat)."""
    xs, ys = [], []
    for f in outlines["features"]:
        _collect(f["geometry"]["coordinates"], xs, ys)
    return [[min(ys), min(xs)], [max(ys), max(xs)]] if xs else None


def load_draft_json(conn, community: str) -> dict:
    """The community's current grids as a draft for the browser."""
    return E.draft_to_json(E.load_draft(conn, community))


def edit_draft_json(conn, draft_json: dict, op: dict) -> tuple[dict, list[str]]:
    """Apply one edit to the browser's draft; returns the new draft and the codes touched."""
    draft, touched = E.apply_edit(E.draft_from_json(conn, draft_json), op)
    out = E.draft_to_json(draft)
    if draft_json.get("suggested"):  # an accepted suggestion stays one while it is edited
        out["suggested"] = True
    return out, touched


def push_undo(stack: list | None, draft_json: dict) -> list:
    """The undo stack with ``draft_json`` on top (oldest dropped past :data:`UNDO_DEPTH`)."""
    return ([*(stack or []), draft_json])[-UNDO_DEPTH:]


def bounds_of(draft_json: dict) -> list | None:
    """Leaflet bounds [[south, west], [north, east]] of the draft's grids."""
    return outline_bounds(draft_json["grids"])


def _collect(coords, xs: list, ys: list) -> None:
    if coords and isinstance(coords[0], int | float):
        xs.append(coords[0])
        ys.append(coords[1])
        return
    for c in coords:
        _collect(c, xs, ys)


def issue_text(issue: dict, t: dict) -> str:
    """One validation finding in the page's language."""
    area = f"{issue['area_m2']:,.0f}" if issue.get("area_m2") is not None else ""
    return t[f"ed_rule_{issue['rule']}"].format(codes=" / ".join(issue["codes"]), area=area,
                                                detail=issue.get("detail", ""), value=issue.get("value"))


def build_check(conn, draft_json: dict, t: dict) -> dict:
    """Validate the draft: grid features (code, households, status), problem features, the list.

    Returns ``{"grids": fc, "problems": fc, "items": [html.Li], "summary": str,
    "outside": bool, "info": str}``.
    """
    s = get_settings()
    draft = E.draft_from_json(conn, draft_json)
    report = E.check_draft(conn, draft)
    status = {}
    for issue in report.issues:
        for code in issue.codes:
            status[code] = "error" if issue.severity == "error" else status.get(code, "warning")
    features = [{"type": "Feature", "properties": {
        "code": c, "name": draft.meta.get(c, {}).get("name") or c, **report.per_grid.get(c, {}),
        "status": status.get(c, "ok"), "unit": t["ed_unit_households"]},
        "geometry": mapping(draft.geom_lonlat(c))} for c in sorted(draft.grids)]
    problems = [{"type": "Feature", "properties": {**i.to_dict(), "text": issue_text(i.to_dict(), t)},
                 "geometry": mapping(i.geom)} for i in report.issues if i.geom is not None]
    items = [html.Li(issue_text(i.to_dict(), t), className=f"ed-issue ed-{i.severity}") for i in report.issues]
    n_err = len(report.errors)
    summary = t["ed_ok"] if not report.issues else t["ed_errors"].format(n=n_err, w=len(report.issues) - n_err)
    info = t["ed_info"].format(version=draft.base or t["ed_never"], grids=len(draft.grids),
                               lo=s.grid_households_min, hi=s.grid_households_max)
    return {"grids": {"type": "FeatureCollection", "features": features},
            "problems": {"type": "FeatureCollection", "features": problems}, "items": items,
            "summary": summary, "outside": any(i.rule == "outside" for i in report.issues), "info": info,
            "ok": report.ok}


def _count_cells(side: dict) -> list:
    return [html.Td(f"{side[k]:,}") for k in ("addresses", "households", "residents", "open_cases", "facilities")]


def build_impact(conn, draft_json: dict, t: dict) -> tuple[list, dict, dict]:
    """Impact preview: (panel children, moved address points, current grids as the "before" overlay)."""
    draft = E.draft_from_json(conn, draft_json)
    result = preview_impact(conn, draft)
    head = html.Tr([html.Th(t["ed_col_grid"]), html.Th(""),
                    *(html.Th(t[f"ed_col_{k}"]) for k in ("addresses", "households", "residents", "cases",
                                                           "facilities"))])
    rows = []
    for row in result["per_grid"]:
        if row["before"] == row["after"]:
            continue
        code = row["code"] or t["ed_unassigned"]
        rows.append(html.Tr([html.Td(code, rowSpan=2), html.Td(t["ed_col_before"]), *_count_cells(row["before"])]))
        rows.append(html.Tr([html.Td(t["ed_col_after"]), *_count_cells(row["after"])], className="ed-after"))
    children = [html.P(t["ed_moved"].format(**result["moved"]), className="ed-moved"),
                html.Table([html.Thead(head), html.Tbody(rows)], className="ed-table")]
    points = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"from": p["from"], "to": p["to"]},
         "geometry": {"type": "Point", "coordinates": [p["lon"], p["lat"]]}} for p in result["points"]]}
    before = E.load_draft(conn, draft.community)
    overlay = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c, "change": "before"}, "geometry": mapping(before.geom_lonlat(c))}
        for c in sorted(before.grids)]}
    return children, points, overlay
