"""Clicks on the map and search picks → the side panel (and a fly-to or zoom-in)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx, no_update

from callbacks.errors import error_toast
from geodata.db import pooled
from layers.addresses import zoom_into_cell
from layers.detail import build_detail, fly_viewport
from layers.search import decode_place

OPEN, CLOSED = "og-panel og-right", "og-panel og-right og-hidden"


def _place_from_click(source: str, feature: dict | None) -> tuple[str, str] | None:
    """(kind, key) of a clicked feature, by which layer it came from."""
    props = (feature or {}).get("properties") or {}
    if source == "grid" and props.get("code"):
        return "grid", str(props["code"])
    if source == "area" and props.get("code"):
        return "area", str(props["code"])
    if source in ("facility", "address") and props.get("id") is not None and not props.get("cluster"):
        return source, str(props["id"])
    return None


def show_place(source: str | None, feature: dict | None, search_value, zoom, t, lang) -> tuple:
    """Plain function behind the callback.

    ``source`` is which input fired: ``grid``/``area``/``facility``/``address`` (a click with
    ``feature``), ``cell`` (an address cell: zoom in), ``search`` (a pick: ``search_value``).
    Returns (panel children, panel class, highlight GeoJSON, map viewport, toast).
    """
    if source == "cell":
        viewport = zoom_into_cell(feature, zoom)
        return no_update, no_update, no_update, viewport if viewport else no_update, no_update
    place = decode_place(search_value) if source == "search" else _place_from_click(source, feature)
    if place is None:
        return (no_update,) * 5
    try:
        with pooled() as conn:
            body, bbox, selection = build_detail(conn, place[0], place[1], t, lang)
    except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
        return no_update, no_update, no_update, no_update, error_toast(exc, t)
    viewport = fly_viewport(bbox) if source == "search" else no_update
    return body, OPEN, selection, viewport, no_update


def register(ids) -> None:
    sources = {ids.GRIDS: "grid", ids.OUTLINE_COMMUNITY: "area", ids.OUTLINE_STREET: "area",
               ids.FACILITIES: "facility", ids.ADDRESS_POINTS: "address", ids.ADDRESS_CELLS: "cell"}
    click_ids = list(sources)

    def _callback(*args):
        clicks, (search_value, zoom, t, lang) = args[:len(click_ids)], args[len(click_ids):]
        trigger = ctx.triggered_id
        if trigger == ids.SEARCH:
            return show_place("search", None, search_value, zoom, t, lang)
        feature = clicks[click_ids.index(trigger)] if trigger in click_ids else None
        return show_place(sources.get(trigger), feature, None, zoom, t, lang)

    dash.callback(
        Output(ids.DETAIL_BODY, "children"),
        Output(ids.DETAIL_PANEL, "className"),
        Output(ids.SELECTION, "data"),
        Output(ids.MAP, "viewport"),
        Output(ids.TOAST, "children", allow_duplicate=True),
        [Input(i, "clickData") for i in click_ids],
        Input(ids.SEARCH, "value"),
        State(ids.MAP, "zoom"),
        State(ids.STRINGS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(_callback)

    # Closing the panel (and dropping the highlight) needs no server round trip.
    dash.clientside_callback(
        "function(n) { var nu = window.dash_clientside.no_update;"
        " return n ? ['" + CLOSED + "', {type: 'FeatureCollection', features: []}] : [nu, nu]; }",
        Output(ids.DETAIL_PANEL, "className", allow_duplicate=True),
        Output(ids.SELECTION, "data", allow_duplicate=True),
        Input(ids.DETAIL_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
