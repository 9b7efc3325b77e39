"""Wall screen callbacks: the command map's own layer, live-case and merge callbacks registered
again under the wall's ids, the figures and ticker on their tick (and at once when a warning changes), and the view rotation.

Thin like the rest: the layer functions are :func:`callbacks.viewport.update_layers`,
:func:`callbacks.cases.load_cases` and :func:`callbacks.cases.poll_cases`; the figures are one
call to :func:`layers.screen_wall.build_wall`; the sensor layer is the command map's
(:func:`layers.screen_wall.build_wall_sensors`).
"""

from __future__ import annotations

import logging

import dash
from dash import ClientsideFunction, Input, Output, State, no_update

from callbacks.cases import load_cases, poll_cases
from callbacks.errors import error_toast
from callbacks.viewport import update_layers
from geodata.errors import OneGridError
from layers.screen_wall import build_wall, build_wall_sensors, fetch_wall_warning_cursor

log = logging.getLogger("onegrid.callbacks")


def update_wall(n_intervals, view_index, views, t, lang, warn_cursor=None) -> tuple:
    """Plain function behind the figures callback: (KPI tiles, warning tiles, trend, ranking,
    ticker, toast) for the current view (district or a street)."""
    views = views or []
    code = views[view_index]["code"] if views and view_index is not None and view_index < len(views) else None
    try:
        out = build_wall(code, t, lang or "zh")
    except Exception as exc:  # noqa: BLE001 - shown as a message; the screen keeps what it shows
        return (*(no_update,) * 5, error_toast(exc, t))
    return out["kpis"], out["warnings"], out["trend"], out["ranking"], out["ticker"], no_update


def poll_warning_cursor(n_intervals, seen) -> int:
    """Plain function behind the 1 s tick: the newest warning event id, or ``no_update`` when it
    has not moved (then nothing downstream runs). A failed read waits for the next tick."""
    try:
        cursor = fetch_wall_warning_cursor()
    except Exception as exc:  # noqa: BLE001 - the next tick retries; the figures tick shows errors
        if not isinstance(exc, OneGridError):
            log.exception("wall warning tick failed", exc_info=exc)
        return no_update
    return no_update if cursor == seen else cursor


def load_sensors(bounds, warn_cursor, zoom, t) -> tuple:
    """Plain function: (the command map's sensor layer for the wall map's bounds, toast);
    redrawn when the view moves or a warning changes (within a second of its event)."""
    if not bounds:
        return no_update, no_update
    try:
        return build_wall_sensors(bounds, zoom), no_update
    except Exception as exc:  # noqa: BLE001 - shown as a message; the map keeps what it shows
        return no_update, error_toast(exc, t)


def register(ids) -> None:
    data_ids = (ids.SCREEN_DISTRICT, ids.SCREEN_ROADS, ids.SCREEN_OUTLINE_DISTRICT, ids.SCREEN_OUTLINE_STREET,
                ids.SCREEN_OUTLINE_COMMUNITY, ids.SCREEN_GRIDS, ids.SCREEN_ADDRESS_CELLS, ids.SCREEN_ADDRESS_POINTS,
                ids.SCREEN_FACILITIES)
    dash.callback(
        [Output(i, "data") for i in data_ids]
        + [Output(ids.SCREEN_OUTLINE_STREET, "hideout"), Output(ids.SCREEN_OUTLINE_COMMUNITY, "hideout"),
           Output(ids.SCREEN_LEGEND, "children"), Output(ids.SCREEN_ZOOM, "children"),
           Output(ids.SCREEN_TOAST, "children", allow_duplicate=True)],
        Input(ids.SCREEN_MAP, "bounds"), Input(ids.SCREEN_LAYERS, "data"), Input(ids.SCREEN_METRIC, "data"),
        Input(ids.SCREEN_KINDS, "data"), State(ids.SCREEN_MAP, "zoom"), State(ids.STRINGS, "data"),
        State(ids.LANG, "data"), Input(ids.SCREEN_FILTER, "data"),
        prevent_initial_call="initial_duplicate",
    )(update_layers)
    dash.callback(
        Output(ids.SCREEN_CASES, "data"), Output(ids.SCREEN_LIVE, "data"),
        Output(ids.SCREEN_TOAST, "children", allow_duplicate=True),
        Input(ids.SCREEN_MAP, "bounds"), Input(ids.SCREEN_LAYERS, "data"), Input(ids.SCREEN_FILTER, "data"),
        State(ids.SCREEN_MAP, "zoom"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call="initial_duplicate",
    )(load_cases)
    dash.callback(
        Output(ids.SCREEN_DELTA, "data"), Output(ids.SCREEN_LIVE, "data", allow_duplicate=True),
        Input(ids.SCREEN_LIVE_TICK, "n_intervals"), State(ids.SCREEN_LIVE, "data"), State(ids.STRINGS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(poll_cases)
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="mergeCases"),
        Output(ids.SCREEN_CASES, "data", allow_duplicate=True),
        Input(ids.SCREEN_DELTA, "data"), State(ids.SCREEN_CASES, "data"),
        prevent_initial_call=True,
    )
    dash.callback(
        Output(ids.SCREEN_KPIS, "children"), Output(ids.SCREEN_WARN_TILES, "children"),
        Output(ids.SCREEN_TREND, "figure"), Output(ids.SCREEN_RANKING, "children"),
        Output(ids.SCREEN_TICKER, "children"), Output(ids.SCREEN_TOAST, "children", allow_duplicate=True),
        Input(ids.SCREEN_STATS_TICK, "n_intervals"), Input(ids.SCREEN_VIEW, "data"),
        State(ids.SCREEN_VIEWS, "data"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        Input(ids.SCREEN_WARN_CURSOR, "data"),
        prevent_initial_call="initial_duplicate",
    )(update_wall)
    dash.callback(
        Output(ids.SCREEN_WARN_CURSOR, "data"),
        Input(ids.SCREEN_LIVE_TICK, "n_intervals"), State(ids.SCREEN_WARN_CURSOR, "data"),
        prevent_initial_call=True,
    )(poll_warning_cursor)
    dash.callback(
        Output(ids.SCREEN_SENSORS, "data"), Output(ids.SCREEN_TOAST, "children", allow_duplicate=True),
        Input(ids.SCREEN_MAP, "bounds"), Input(ids.SCREEN_WARN_CURSOR, "data"), State(ids.SCREEN_MAP, "zoom"),
        State(ids.STRINGS, "data"),
        prevent_initial_call="initial_duplicate",
    )(load_sensors)
    # Rotation in the browser: next view → map bounds, title and the case filter's street.
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="rotateWall"),
        Output(ids.SCREEN_VIEW, "data"), Output(ids.SCREEN_MAP, "viewport"), Output(ids.SCREEN_VIEW_NAME, "children"),
        Output(ids.SCREEN_FILTER, "data"),
        Input(ids.SCREEN_ROTATE_TICK, "n_intervals"), State(ids.SCREEN_VIEW, "data"), State(ids.SCREEN_VIEWS, "data"),
        State(ids.SCREEN_FILTER, "data"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="wallClock"),
        Output(ids.SCREEN_CLOCK, "children"),
        Input(ids.SCREEN_LIVE_TICK, "n_intervals"), State(ids.SCREEN_TZ, "data"),
    )
