"""Report from the map: a mode toggle, a map click places the report, the category's extra
questions appear, submit creates the case (channel 监督员上报) — it then arrives as a delta."""

from __future__ import annotations

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, no_update

from callbacks.errors import error_toast, toast
from geodata.db import pooled
from layers.case_report import ATTR_TYPE, build_attribute_fields, point_from_click, submit_report

OPEN, CLOSED = "og-panel og-right og-report", "og-panel og-right og-report og-hidden"


def place_report(click, mode, t) -> tuple:
    """Plain function: a map click in report mode → (point store, location text, panel class)."""
    if not mode:
        return no_update, no_update, no_update
    point = point_from_click(click)
    if point is None:
        return no_update, no_update, no_update
    return point, f"{point['lon']:.6f}, {point['lat']:.6f}", OPEN


def category_fields(category, t) -> tuple:
    """Plain function: (attribute inputs, toast) for the chosen category."""
    try:
        with pooled() as conn:
            return build_attribute_fields(conn, category, t), no_update
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return [], error_toast(exc, t)


def submit(n_clicks, point, category, description, actor, attr_ids, attr_values, t) -> tuple:
    """Plain function: (panel class, report mode, point store, description, toast). Success commits."""
    if not n_clicks:
        return (no_update,) * 5
    try:
        with pooled() as conn:
            case = submit_report(conn, point, category, description, actor, attr_ids or [], attr_values or [])
            conn.commit()
    except Exception as exc:  # noqa: BLE001 - shown as a message; the form keeps its values
        return no_update, no_update, no_update, no_update, error_toast(exc, t)
    message = t["report_done"].format(code=case.code)
    if case.duplicate_of is not None:
        message += t["report_dup"].format(dup=f"#{case.duplicate_of}")
    return CLOSED, False, None, "", toast(message, "info")


def register(ids) -> None:
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="toggleReport"),
        Output(ids.REPORT_MODE, "data"), Input(ids.REPORT_TOGGLE, "n_clicks"), State(ids.REPORT_MODE, "data"),
        prevent_initial_call=True,
    )
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="reportModeClass"),
        Output(ids.REPORT_TOGGLE, "className"), Output(ids.REPORT_TOGGLE, "children"),
        Input(ids.REPORT_MODE, "data"), State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )
    dash.callback(
        Output(ids.REPORT_POINT, "data"), Output(ids.REPORT_WHERE, "children"), Output(ids.REPORT_PANEL, "className"),
        Input(ids.MAP, "clickData"), State(ids.REPORT_MODE, "data"), State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )(place_report)
    dash.callback(
        Output(ids.REPORT_ATTRS, "children"), Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.REPORT_CATEGORY, "value"), State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )(category_fields)
    dash.callback(
        Output(ids.REPORT_PANEL, "className", allow_duplicate=True),
        Output(ids.REPORT_MODE, "data", allow_duplicate=True), Output(ids.REPORT_POINT, "data", allow_duplicate=True),
        Output(ids.REPORT_DESC, "value"), Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.REPORT_SUBMIT, "n_clicks"), State(ids.REPORT_POINT, "data"), State(ids.REPORT_CATEGORY, "value"),
        State(ids.REPORT_DESC, "value"), State(ids.ACTOR, "value"),
        State({"type": ATTR_TYPE, "code": ALL}, "id"), State({"type": ATTR_TYPE, "code": ALL}, "value"),
        State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )(submit)
    dash.clientside_callback(
        "function(n) { return n ? ['" + CLOSED + "', false] : [window.dash_clientside.no_update,"
        " window.dash_clientside.no_update]; }",
        Output(ids.REPORT_PANEL, "className", allow_duplicate=True),
        Output(ids.REPORT_MODE, "data", allow_duplicate=True),
        Input(ids.REPORT_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
