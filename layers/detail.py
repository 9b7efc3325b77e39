"""Side panel for a clicked or searched place: code, names, parent chain and counts."""

from __future__ import annotations

from dash import html

from geodata import maps
from layers.display import collection_to_display, lonlat_to_display
from layers.facilities import build_kinds


def _row(label: str, value) -> html.Div:
    return html.Div([html.Span(label, className="og-k"), html.Span(str(value), className="og-v")],
                    className="og-row")


def _chain(place: dict, t: dict) -> html.Div:
    items = []
    for i, c in enumerate(place["chain"]):
        if i:
            items.append(html.Span("›", className="og-chain-sep"))
        items.append(html.Span([html.Small(t.get(f"level_{c['level']}", c["level"])), " ", c["name"]],
                               className="og-chain-item", title=c["code"]))
    return html.Div(items or t["none"], className="og-chain")


def _counts(place: dict, kinds: dict[str, dict], t: dict) -> list:
    counts = place["counts"]
    if counts is None:
        return []
    rows = [_row(t["addresses"], counts["addresses"]), _row(t["households"], counts["households"])]
    if place["level"] != "grid":
        rows.append(_row(t["grids"], counts["grids"]))
    if place["level"] in ("street", "district"):
        rows.append(_row(t["communities"], counts["communities"]))
    by_kind = counts["facilities"] or {}
    chips = [html.Span([html.I(kinds[k]["glyph"], style={"background": kinds[k]["color"]}, className="og-glyph"),
                        f"{kinds[k]['name']} {n}"], className="og-chip")
             for k, n in sorted(by_kind.items(), key=lambda kv: -kv[1]) if k in kinds]
    return rows + [html.Div(t["facilities"], className="og-k og-block"),
                   html.Div(chips or t["none"], className="og-chips")]


def build_detail(conn, kind: str, key: str, t: dict, lang: str) -> tuple[list, tuple, dict]:
    """Panel children for one place, its lon/lat extent ``(minlon, minlat, maxlon, maxlat)`` and
    its outline/point as a GeoJSON FeatureCollection (the map's highlight).

    ``kind`` is grid/area/facility/address and ``key`` its code (grid, area) or id; NotFound
    if it does not exist. ``t`` is the string catalogue of ``lang``.
    """
    place = maps.fetch_place(conn, kind, key)
    kinds = {k["code"]: k for k in build_kinds(conn, lang)}
    label = t.get(f"level_{place['level']}") if place["level"] else t[f"kind_{kind}"]
    body = [
        html.Div(label, className="og-badge"),
        html.H3(place["name"], className="og-detail-title"),
        _row(t["code"], place["code"] or place["key"]),
    ]
    if place.get("supervisor"):
        body.append(_row(t["supervisor"], place["supervisor"]))
    if place.get("facility_kind") in kinds:
        body.append(_row(t["facility_kind"], kinds[place["facility_kind"]]["name"]))
    if place.get("capacity") is not None:
        body.append(_row(t["capacity"], place["capacity"]))
    body += [html.Div(t["chain"], className="og-k og-block"), _chain(place, t)]
    body += _counts(place, kinds, t)
    selection = collection_to_display({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": place["geometry"], "properties": {"kind": kind}}]})
    return body, place["bbox"], selection


def fly_viewport(bbox: tuple, point_zoom: int = 17) -> dict:
    """dash-leaflet ``viewport`` that flies to a stored lon/lat extent (a point gets ``point_zoom``)."""
    minlon, minlat = lonlat_to_display(bbox[0], bbox[1])
    maxlon, maxlat = lonlat_to_display(bbox[2], bbox[3])
    if maxlon - minlon < 1e-9 and maxlat - minlat < 1e-9:
        return {"center": [minlat, minlon], "zoom": point_zoom, "transition": "flyTo"}
    return {"bounds": [[minlat, minlon], [maxlat, maxlon]], "transition": "flyToBounds"}
