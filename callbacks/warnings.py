"""Sensors and warnings on the command map: the sensor layer for the viewport, the warning
list, acting on a warning, and the 1 s live tick (shared with the case layer) that pushes
only what changed — touched sensors as a delta merged in the browser, the list and counts,
and the banner when a warning opens or escalates to red.
"""

from __future__ import annotations

import logging

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update

from callbacks.errors import error_toast, toast
from geodata import warnings as gw
from geodata.db import pooled
from geodata.errors import Conflict, OneGridError
from geodata.maps import fetch_extent
from layers.detail import fly_viewport
from layers.display import bounds_from_display
from layers.sensors import build_sensor_delta, build_sensor_layer
from layers.view import parse_view
from layers.warnings import (
    ACTION_TYPE,
    ITEM_TYPE,
    REASON,
    alarm_text,
    apply_warning_action,
    build_warning_detail,
    build_warning_list,
)

log = logging.getLogger("onegrid.callbacks")
EMPTY = {"type": "FeatureCollection", "features": []}
ALARM_ON, ALARM_OFF = "og-alarm", "og-alarm og-hidden"
DETAIL_ON, DETAIL_OFF = "og-warn-detail", "og-warn-detail og-hidden"


def load_sensors(bounds, layers, zoom, selected, t, lang) -> tuple:
    """Plain function: (sensor GeoJSON, live store, counts, list, toast). The live store
    ``{cursor, bbox, sensors}`` is what the ticks compare against."""
    try:
        with pooled() as conn:
            view = parse_view(bounds_from_display(bounds), zoom, fetch_extent(conn).bbox)
            cursor = gw.fetch_warning_cursor(conn)
            on = "sensors" in (layers or [])
            fc = build_sensor_layer(conn, view) if on else EMPTY
            counts, rows = build_warning_list(conn, t, lang, (selected or {}).get("id"))
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, no_update, no_update, no_update, error_toast(exc, t)
    live = {"cursor": cursor, "bbox": list(view.bbox.as_tuple()), "sensors": on}
    return fc, live, counts, rows, no_update


def poll_warnings(n_intervals, live, selected, t, lang) -> tuple:
    """Plain function behind the tick: (sensor delta, live store, counts, list, banner class,
    banner text) — all ``no_update`` when no warning changed."""
    nothing = (no_update,) * 6
    if not live:
        return nothing
    try:
        with pooled() as conn:
            changed, cursor = gw.fetch_warning_changes_since(conn, int(live["cursor"]))
            if cursor == live["cursor"]:
                return nothing
            alarms = gw.fetch_alarms_between(conn, int(live["cursor"]), cursor)
            delta = build_sensor_delta(conn, changed, live["bbox"]) if live.get("sensors") else None
            counts, rows = build_warning_list(conn, t, lang, (selected or {}).get("id"))
    except Exception as exc:  # noqa: BLE001 - the next tick retries; bugs go to the log
        if not isinstance(exc, OneGridError):
            log.exception("live warning tick failed", exc_info=exc)
        return nothing
    banner = (ALARM_ON, alarm_text(alarms[0], t, lang)) if alarms else (no_update, no_update)
    return delta or no_update, {**live, "cursor": cursor}, counts, rows, *banner


def open_warning(trigger, t, lang) -> tuple:
    """Plain function: a list/risk item was clicked → (detail, detail class, selected, viewport, toast)."""
    if not isinstance(trigger, dict) or "id" not in trigger:
        return (no_update,) * 5
    try:
        with pooled() as conn:
            body, selected, w = build_warning_detail(conn, int(trigger["id"]), t, lang)
    except Exception as exc:  # noqa: BLE001
        return (*(no_update,) * 4, error_toast(exc, t))
    return body, DETAIL_ON, selected, fly_viewport((w.lon, w.lat, w.lon, w.lat)), no_update


def run_warning_action(action, selected, actor, reason, t, lang) -> tuple:
    """Plain function behind the action buttons: (detail, selected, toast). A stale detail
    (someone else acted) reloads and says who."""
    if not selected or not action:
        return no_update, no_update, no_update
    try:
        with pooled() as conn:
            try:
                w = apply_warning_action(conn, selected, action, actor=actor, reason=reason)
                conn.commit()
            except Conflict as exc:
                conn.rollback()
                body, fresh, _ = build_warning_detail(conn, selected["id"], t, lang)
                return body, fresh, toast(f"{t['error_prefix']}{exc.message} — {t['warn_conflict_reloaded']}")
            body, fresh, _ = build_warning_detail(conn, w.id, t, lang)
    except Exception as exc:  # noqa: BLE001
        return no_update, no_update, error_toast(exc, t)
    done = t["warn_done"].format(id=w.id, action=t[f"warn_action_{action}"])
    if w.case_code:
        done += f" → {w.case_code}"
    return body, fresh, toast(done, "info")


def register(ids) -> None:
    dash.callback(
        Output(ids.SENSORS, "data"), Output(ids.WARN_LIVE, "data"), Output(ids.WARN_COUNTS, "children"),
        Output(ids.WARN_LIST, "children"), Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.MAP, "bounds"), Input(ids.LAYERS, "value"),
        State(ids.MAP, "zoom"), State(ids.WARN_SELECTED, "data"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call="initial_duplicate",
    )(load_sensors)
    dash.callback(
        Output(ids.SENSOR_DELTA, "data"), Output(ids.WARN_LIVE, "data", allow_duplicate=True),
        Output(ids.WARN_COUNTS, "children", allow_duplicate=True), Output(ids.WARN_LIST, "children", allow_duplicate=True),
        Output(ids.ALARM, "className"), Output(ids.ALARM_TEXT, "children"),
        Input(ids.LIVE_TICK, "n_intervals"), State(ids.WARN_LIVE, "data"), State(ids.WARN_SELECTED, "data"),
        State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(poll_warnings)

    def _open(clicks, t, lang):
        if not (ctx.triggered and ctx.triggered[0]["value"]):
            return (no_update,) * 5
        return open_warning(ctx.triggered_id, t, lang)

    dash.callback(
        Output(ids.WARN_DETAIL, "children"), Output(ids.WARN_DETAIL, "className"), Output(ids.WARN_SELECTED, "data"),
        Output(ids.MAP, "viewport", allow_duplicate=True), Output(ids.TOAST, "children", allow_duplicate=True),
        Input({"type": ITEM_TYPE, "id": ALL, "src": ALL}, "n_clicks"),
        State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(_open)

    def _act(clicks, selected, actor, reason, t, lang):
        if not isinstance(ctx.triggered_id, dict) or not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update, no_update, no_update
        return run_warning_action(ctx.triggered_id["action"], selected, actor, reason, t, lang)

    dash.callback(
        Output(ids.WARN_DETAIL, "children", allow_duplicate=True), Output(ids.WARN_SELECTED, "data", allow_duplicate=True),
        Output(ids.TOAST, "children", allow_duplicate=True),
        Input({"type": ACTION_TYPE, "action": ALL}, "n_clicks"),
        State(ids.WARN_SELECTED, "data"), State(ids.ACTOR, "value"), State(REASON, "value"),
        State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(_act)
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid_warn", function_name="mergeSensors"),
        Output(ids.SENSORS, "data", allow_duplicate=True),
        Input(ids.SENSOR_DELTA, "data"), State(ids.SENSORS, "data"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid_warn", function_name="announce"),
        Output(ids.ALARM_SEEN, "data"),
        Input(ids.ALARM_TEXT, "children"), State(ids.ALARM_SOUND, "value"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        "function(n) { return n ? '" + ALARM_OFF + "' : window.dash_clientside.no_update; }",
        Output(ids.ALARM, "className", allow_duplicate=True),
        Input(ids.ALARM_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
