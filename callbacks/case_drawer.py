"""Case drawer: open a case (map click, table row, duplicate link), run workflow actions on it.

A stale drawer (someone else moved the case) gets the Conflict message and reloads; every
error is a toast, never a traceback.
"""

from __future__ import annotations

import dash
from dash import ALL, ClientsideFunction, Input, Output, State, ctx, no_update

from callbacks.errors import error_toast, toast
from geodata.db import pooled
from geodata.errors import Conflict
from layers.case_drawer import (
    ACTION_TYPE,
    DEPARTMENT,
    DUPLICATE,
    NOTE,
    SATISFACTION,
    apply_action,
    build_drawer,
)
from layers.cases import CASE_LINK_TYPE
from layers.detail import fly_viewport

OPEN, CLOSED = "og-panel og-right og-drawer", "og-panel og-right og-drawer og-hidden"
DETAIL_CLOSED = "og-panel og-right og-hidden"


def case_id_from(source: str, value) -> int | None:
    """The case id a map click (a GeoJSON feature, not a cluster), a table ``active_cell`` or
    a duplicate-link id names; None otherwise."""
    try:
        if source == "map":
            props = (value or {}).get("properties") or {}
            return None if props.get("cluster") else int(props["id"])
        if source == "table":
            return int(value["row_id"])
        if source == "link":
            return int(value["case"])
    except (KeyError, TypeError, ValueError):
        return None
    return None


def open_case(source: str, value, t, lang) -> tuple:
    """Plain function: (drawer body, drawer class, drawer case, selected id, viewport, detail class, toast).
    Table rows and links also fly the map to the case."""
    case_id = case_id_from(source, value)
    if case_id is None:
        return (no_update,) * 7
    try:
        with pooled() as conn:
            body, drawer_case, case = build_drawer(conn, case_id, t, lang)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return (*(no_update,) * 6, error_toast(exc, t))
    viewport = no_update if source == "map" else fly_viewport((case.lon, case.lat, case.lon, case.lat))
    return body, OPEN, drawer_case, case.id, viewport, DETAIL_CLOSED, no_update


def run_action(action: str, drawer_case: dict | None, actor, note, department, satisfaction, duplicate_ref,
               t, lang) -> tuple:
    """Plain function behind the action buttons: (drawer body, drawer case, toast).

    Success commits and reloads the drawer; Conflict reloads it (fresh version) and says who
    changed it; any other error leaves the drawer as it is and shows the message."""
    if not drawer_case or not action:
        return no_update, no_update, no_update
    try:
        with pooled() as conn:
            try:
                case = apply_action(conn, drawer_case, action, actor=actor, note=note, department=department,
                                    satisfaction=satisfaction, duplicate_ref=duplicate_ref)
                conn.commit()
            except Conflict as exc:
                conn.rollback()
                body, fresh, _ = build_drawer(conn, drawer_case["id"], t, lang)
                return body, fresh, toast(f"{t['error_prefix']}{exc.message} — {t['conflict_reloaded']}")
            body, fresh, _ = build_drawer(conn, case.id, t, lang)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, no_update, error_toast(exc, t)
    done = t["action_done"].format(code=case.code, action=t[f"action_{action}"])
    return body, fresh, toast(done, "info")


def register(ids) -> None:
    def _open(map_click, active_cell, link_clicks, t, lang):
        trigger = ctx.triggered_id
        if trigger == ids.CASES:
            return open_case("map", map_click, t, lang)
        if trigger == ids.CASE_TABLE:
            return open_case("table", active_cell, t, lang)
        if isinstance(trigger, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            return open_case("link", trigger, t, lang)
        return (no_update,) * 7

    dash.callback(
        Output(ids.DRAWER_BODY, "children"), Output(ids.DRAWER, "className"), Output(ids.DRAWER_CASE, "data"),
        Output(ids.SELECTED_CASE, "data"), Output(ids.MAP, "viewport", allow_duplicate=True),
        Output(ids.DETAIL_PANEL, "className", allow_duplicate=True),
        Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.CASES, "clickData"), Input(ids.CASE_TABLE, "active_cell"),
        Input({"type": CASE_LINK_TYPE, "case": ALL, "panel": ALL}, "n_clicks"),
        State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(_open)

    def _act(clicks, drawer_case, actor, note, department, satisfaction, duplicate_ref, t, lang):
        # New buttons arrive with n_clicks=0 and fire this callback too: only real clicks act.
        if not isinstance(ctx.triggered_id, dict) or not any(c for c in clicks or []):
            return no_update, no_update, no_update
        if not (ctx.triggered and ctx.triggered[0]["value"]):
            return no_update, no_update, no_update
        return run_action(ctx.triggered_id["action"], drawer_case, actor, note, department, satisfaction,
                          duplicate_ref, t, lang)

    dash.callback(
        Output(ids.DRAWER_BODY, "children", allow_duplicate=True), Output(ids.DRAWER_CASE, "data", allow_duplicate=True),
        Output(ids.TOAST, "children", allow_duplicate=True),
        Input({"type": ACTION_TYPE, "action": ALL}, "n_clicks"),
        State(ids.DRAWER_CASE, "data"), State(ids.ACTOR, "value"), State(NOTE, "value"), State(DEPARTMENT, "value"),
        State(SATISFACTION, "value"), State(DUPLICATE, "value"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(_act)

    dash.clientside_callback(
        "function(n) { var nu = window.dash_clientside.no_update; return n ? ['" + CLOSED + "', null] : [nu, nu]; }",
        Output(ids.DRAWER, "className", allow_duplicate=True), Output(ids.SELECTED_CASE, "data", allow_duplicate=True),
        Input(ids.DRAWER_CLOSE, "n_clicks"),
        prevent_initial_call=True,
    )
    # The place panel and the drawer share the right side: opening the place panel hides the drawer.
    dash.clientside_callback(
        "function(cls) { return (cls || '').indexOf('og-hidden') < 0 ? '" + CLOSED + "'"
        " : window.dash_clientside.no_update; }",
        Output(ids.DRAWER, "className", allow_duplicate=True),
        Input(ids.DETAIL_PANEL, "className"),
        prevent_initial_call=True,
    )
    # Selection → highlight on the map and the table (page turned to the row).
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="selectCase"),
        Output(ids.CASES, "hideout"), Output(ids.CASE_TABLE, "page_current"),
        Output(ids.CASE_TABLE, "style_data_conditional"),
        Input(ids.SELECTED_CASE, "data"),
        State(ids.CASE_TABLE, "derived_virtual_row_ids"), State(ids.CASE_TABLE, "page_size"),
        State(ids.CASE_TABLE, "style_data_conditional"),
        prevent_initial_call=True,
    )
