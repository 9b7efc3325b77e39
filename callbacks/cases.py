"""Live case layer: filter controls → filter store; viewport/filter → bounded layer; a 1 s tick
→ only the cases changed since the browser's event cursor (merged in the browser).

The full layer travels only on first load, pan/zoom, filter or layer changes; ticks carry
deltas (``{cursor, upsert, remove}``) or nothing at all.
"""

from __future__ import annotations

import logging

import dash
from dash import ClientsideFunction, Input, Output, State, no_update

from callbacks.errors import error_toast, toast
from geodata.db import pooled
from geodata.errors import OneGridError
from geodata.maps import fetch_extent
from layers.cases import build_case_layer, build_delta, parse_filter
from layers.display import bounds_from_display
from layers.view import parse_view

log = logging.getLogger("onegrid.callbacks")

EMPTY = {"type": "FeatureCollection", "features": []}


def combine_filter(states, categories, channels, streets, window) -> dict:
    """The filter controls as one store value (empty lists mean "all")."""
    return {"states": states or [], "categories": categories or [], "channels": channels or [],
            "streets": streets or [], "window": window}


def load_cases(bounds, layers, filter_values, zoom, t, lang) -> tuple:
    """Plain function behind the layer callback: (case GeoJSON, live store, toast).

    The live store ``{cursor, checked, bbox, filter}`` is what the ticks compare against; None when
    the case layer is off (no ticks then)."""
    if "cases" not in (layers or []):
        return EMPTY, None, no_update
    try:
        flt = parse_filter(filter_values)
        with pooled() as conn:
            view = parse_view(bounds_from_display(bounds), zoom, fetch_extent(conn).bbox)
            fc = build_case_layer(conn, view, flt, t, lang)
    except Exception as exc:  # noqa: BLE001 - shown as a message, never a traceback
        return no_update, no_update, error_toast(exc, t)
    live = {"cursor": fc.pop("cursor"), "checked": fc.pop("checked"), "bbox": list(view.bbox.as_tuple()),
            "filter": filter_values}
    return fc, live, toast(t["case_count_capped"].format(n=len(fc["features"])), "info") if fc["truncated"] else no_update


def poll_cases(n_intervals, live, t, lang) -> tuple:
    """Plain function behind the 1 s tick: (delta, live store) — both ``no_update`` when
    nothing changed, so an idle tick sends no case data at all."""
    if not live:
        return no_update, no_update
    try:
        flt = parse_filter(live.get("filter"))
        with pooled() as conn:
            delta = build_delta(conn, int(live["cursor"]), flt, tuple(live["bbox"]), t, lang,
                                checked=live.get("checked"))
    except Exception as exc:  # noqa: BLE001 - a failed tick retries on the next one (a toast would repeat every second)
        # Outages already show through the other callbacks; anything else is a bug that would
        # silently freeze the live layer, so it goes to the log.
        if not isinstance(exc, OneGridError):
            log.exception("live case tick failed", exc_info=exc)
        return no_update, no_update
    if delta is None:
        return no_update, no_update
    return delta, {**live, "cursor": delta["cursor"], "checked": delta["checked"]}


def register(ids) -> None:
    dash.callback(
        Output(ids.CASE_FILTER, "data"),
        Input(ids.F_STATES, "value"), Input(ids.F_CATEGORIES, "value"), Input(ids.F_CHANNELS, "value"),
        Input(ids.F_STREETS, "value"), Input(ids.F_WINDOW, "value"),
        prevent_initial_call=True,
    )(combine_filter)
    dash.callback(
        Output(ids.CASES, "data"), Output(ids.LIVE, "data"), Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.MAP, "bounds"), Input(ids.LAYERS, "value"), Input(ids.CASE_FILTER, "data"),
        State(ids.MAP, "zoom"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call="initial_duplicate",
    )(load_cases)
    dash.callback(
        Output(ids.DELTA, "data"), Output(ids.LIVE, "data", allow_duplicate=True),
        Input(ids.LIVE_TICK, "n_intervals"), State(ids.LIVE, "data"), State(ids.STRINGS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(poll_cases)
    # Merge a delta into the layer in the browser (replace by id, append, drop).
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="mergeCases"),
        Output(ids.CASES, "data", allow_duplicate=True),
        Input(ids.DELTA, "data"), State(ids.CASES, "data"),
        prevent_initial_call=True,
    )
    # The table shows the layer's cases (one list in the browser, so they always agree).
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="casesToTable"),
        Output(ids.CASE_TABLE, "data"), Output(ids.CASE_COUNT, "children"),
        Input(ids.CASES, "data"), State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )
