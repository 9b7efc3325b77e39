"""Risk surface on the command map: heatmap and choropleth for the viewport, window and
playback frame; playback (a clientside interval stepping the frame slider); a click on a hot
cell → its score, top factors and links to its cases and warnings.
"""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, ctx, no_update

from callbacks.errors import error_toast
from geodata.db import pooled
from geodata.maps import fetch_extent
from layers.case_report import point_from_click
from layers.display import bounds_from_display
from layers.risk import FRAMES, build_risk, build_risk_detail, cell_at
from layers.view import parse_view

EMPTY = {"type": "FeatureCollection", "features": []}
RISK_LAYERS = ("risk_heat", "risk_cells")


def load_risk(bounds, layers, window, frame, zoom, t) -> tuple:
    """Plain function: (heat GeoJSON, cells GeoJSON, legend, time label, toast)."""
    layers = layers or []
    if not any(x in layers for x in RISK_LAYERS):
        return EMPTY, EMPTY, [], no_update, no_update
    try:
        with pooled() as conn:
            view = parse_view(bounds_from_display(bounds), zoom, fetch_extent(conn).bbox)
            out = build_risk(conn, view, window or "7d", frame, t, "risk_heat" in layers, "risk_cells" in layers)
            conn.commit()  # the rebuild indexed new cases
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, no_update, no_update, no_update, error_toast(exc, t)
    return out["heat"], out["cells"], out["legend"], out["time"], no_update


def refresh_risk(n, bounds, layers, window, frame, zoom, t) -> tuple:
    """The periodic refresh: only while the live frame (now) is shown."""
    if frame is not None and int(frame) < FRAMES - 1:
        return (no_update,) * 5
    return load_risk(bounds, layers, window, frame, zoom, t)


def show_cell(cell, window, frame, t, lang) -> list:
    """Plain function: the detail of one risk cell (an H3 id as int or string)."""
    try:
        cell = int(cell) if not isinstance(cell, str) or cell.isdigit() else int(cell, 16)
        with pooled() as conn:
            return build_risk_detail(conn, cell, window or "7d", frame, t, lang)
    except Exception as exc:  # noqa: BLE001
        return error_toast(exc, t)


def register(ids) -> None:
    outputs = [Output(ids.RISK_HEAT, "data"), Output(ids.RISK_CELLS, "data"), Output(ids.RISK_LEGEND, "children"),
               Output(ids.RISK_TIME, "children"), Output(ids.TOAST, "children", allow_duplicate=True)]
    dash.callback(
        *outputs,
        Input(ids.MAP, "bounds"), Input(ids.LAYERS, "value"), Input(ids.RISK_WINDOW, "value"),
        Input(ids.RISK_FRAME, "value"), State(ids.MAP, "zoom"), State(ids.STRINGS, "data"),
        prevent_initial_call="initial_duplicate",
    )(load_risk)
    dash.callback(
        *[Output(o.component_id, o.component_property, allow_duplicate=True) for o in outputs[:4]], outputs[4],
        Input(ids.STATS_TICK, "n_intervals"), State(ids.MAP, "bounds"), State(ids.LAYERS, "value"),
        State(ids.RISK_WINDOW, "value"), State(ids.RISK_FRAME, "value"), State(ids.MAP, "zoom"),
        State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )(refresh_risk)

    def _click(cell_click, map_click, layers, zoom, window, frame, t, lang):
        layers = layers or []
        if ctx.triggered_id == ids.RISK_CELLS:
            cell = ((cell_click or {}).get("properties") or {}).get("cell")
        elif "risk_heat" in layers and "risk_cells" not in layers and map_click:
            point = point_from_click(map_click)
            if point is None:
                return no_update
            cell = cell_at(point["lon"], point["lat"], zoom)
        else:
            return no_update
        return show_cell(cell, window, frame, t, lang) if cell else no_update

    dash.callback(
        Output(ids.RISK_DETAIL, "children"),
        Input(ids.RISK_CELLS, "clickData"), Input(ids.MAP, "clickData"),
        State(ids.LAYERS, "value"), State(ids.MAP, "zoom"), State(ids.RISK_WINDOW, "value"),
        State(ids.RISK_FRAME, "value"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(_click)
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid_warn", function_name="togglePlay"),
        Output(ids.RISK_PLAY, "data"), Output(ids.RISK_PLAY_TICK, "disabled"), Output(ids.RISK_PLAY_BTN, "children"),
        Input(ids.RISK_PLAY_BTN, "n_clicks"), State(ids.RISK_PLAY, "data"), State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid_warn", function_name="nextFrame"),
        Output(ids.RISK_FRAME, "value"),
        Input(ids.RISK_PLAY_TICK, "n_intervals"), State(ids.RISK_FRAME, "value"), State(ids.RISK_FRAME, "max"),
        prevent_initial_call=True,
    )
