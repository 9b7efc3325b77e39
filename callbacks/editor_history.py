"""Grid editor callbacks: impact preview / version view / diff on the map, save and rollback,
the history list, and suggestion runs with a progress bar.

Plain functions do the work (tests call them directly); saves commit only on success.
"""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from callbacks.editor import message_of
from geodata.db import pooled
from layers import editor as L
from layers import editor_history as H


def compare(trigger: str, draft, a, b, t) -> tuple:
    """Plain function: (overlay, moved points, impact panel, history panel) for ``trigger``."""
    keep = no_update
    if not draft:
        return L.EMPTY, L.EMPTY, [], []
    try:
        with pooled() as conn:
            if trigger == "impact":
                panel, points, overlay = L.build_impact(conn, draft, t)
                return overlay, points, panel, keep
            if trigger == "view" and a:
                return H.build_version_overlay(conn, draft["community"], a), L.EMPTY, keep, keep
            if trigger == "diff" and a and b:
                table, overlay = H.build_diff(conn, draft["community"], a, b, t)
                return overlay, L.EMPTY, keep, table
    except Exception as exc:  # noqa: BLE001 - shown as a message
        text = dash.html.P(message_of(exc, t), className="ed-error")
        return keep, keep, ([text] if trigger == "impact" else keep), ([text] if trigger != "impact" else keep)
    if trigger == "draft":  # the draft changed: an old preview no longer describes it
        return L.EMPTY, L.EMPTY, [], keep
    return (keep,) * 4


def save(trigger: str, draft, author, reason, effective, a, t) -> tuple:
    """Plain function: (reloaded draft, message) after saving the draft or rolling back to ``a``."""
    if not draft:
        return no_update, ""
    try:
        with pooled() as conn:
            if trigger == "rollback":
                if not a:
                    return no_update, t["ed_version_a"]
                version = H.rollback_json(conn, draft, a, author, reason)
                text = t["ed_rolled_back"].format(a=a, version=version)
            else:
                version = H.save_draft_json(conn, draft, author, reason, effective)
                text = t["ed_saved"].format(version=version)
            conn.commit()
            return L.load_draft_json(conn, draft["community"]), text
    except Exception as exc:  # noqa: BLE001 - shown as a message; nothing was written
        return no_update, message_of(exc, t)


def history(draft, t) -> tuple:
    """Plain function: (versions table, options A, options B)."""
    if not draft:
        return [], [], []
    try:
        with pooled() as conn:
            table, options = H.build_history(conn, draft["community"], t)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return [dash.html.P(message_of(exc, t), className="ed-error")], no_update, no_update
    return table, options, options


def suggestion(trigger: str, draft, job, t) -> tuple:
    """Plain function: (job, poll disabled, progress text, bar value, accept style, finished draft)."""
    keep = no_update
    hidden, shown = {"display": "none"}, {"display": "inline-block"}
    try:
        if trigger == "start":
            if not draft:
                return (keep,) * 6
            job = H.start_suggestion_job(draft["community"])
            return job, False, t["ed_suggesting"].format(pct=0), "0", hidden, None
        if not job:
            return keep, True, keep, keep, keep, keep
        with pooled() as conn:
            state = H.poll_suggestion(conn, job)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return None, True, message_of(exc, t), "0", hidden, None
    if state["status"] == "running":
        return keep, False, t["ed_suggesting"].format(pct=state["pct"]), str(state["pct"]), hidden, keep
    if state["status"] == "failed":
        return None, True, f"{t['ed_error']}{state['message']}", "0", hidden, None
    n = len(state["result"]["grids"]["features"])
    return None, True, t["ed_suggest_done"].format(grids=n), "100", shown, state["result"]


def register(ids) -> None:
    @dash.callback(
        Output(ids.ED_OVERLAY, "data"), Output(ids.ED_MOVED, "data"), Output(ids.ED_IMPACT, "children"),
        Output(ids.ED_HISTORY, "children"),
        Input(ids.ED_IMPACT_BTN, "n_clicks"), Input(ids.ED_VIEW, "n_clicks"), Input(ids.ED_DIFF, "n_clicks"),
        Input(ids.ED_DRAFT, "data"),
        State(ids.ED_VERSION_A, "value"), State(ids.ED_VERSION_B, "value"), State(ids.ED_STRINGS, "data"),
        prevent_initial_call=True,
    )
    def _compare(_i, _v, _d, draft, a, b, t):
        trigger = {ids.ED_IMPACT_BTN: "impact", ids.ED_VIEW: "view", ids.ED_DIFF: "diff"}.get(
            dash.ctx.triggered_id, "draft")
        return compare(trigger, draft, a, b, t)

    @dash.callback(
        Output(ids.ED_DRAFT, "data", allow_duplicate=True), Output(ids.ED_SAVE_MSG, "children"),
        Input(ids.ED_SAVE, "n_clicks"), Input(ids.ED_ROLLBACK, "n_clicks"),
        State(ids.ED_DRAFT, "data"), State(ids.ED_AUTHOR, "value"), State(ids.ED_REASON, "value"),
        State(ids.ED_EFFECTIVE, "value"), State(ids.ED_VERSION_A, "value"), State(ids.ED_STRINGS, "data"),
        prevent_initial_call=True,
    )
    def _save(_s, _r, draft, author, reason, effective, a, t):
        trigger = "rollback" if dash.ctx.triggered_id == ids.ED_ROLLBACK else "save"
        return save(trigger, draft, author, reason, effective, a, t)

    @dash.callback(
        Output(ids.ED_VERSIONS, "children"), Output(ids.ED_VERSION_A, "options"),
        Output(ids.ED_VERSION_B, "options"),
        Input(ids.ED_DRAFT, "data"), State(ids.ED_STRINGS, "data"),
    )
    def _history(draft, t):
        return history(draft, t)

    @dash.callback(
        Output(ids.ED_JOB, "data"), Output(ids.ED_POLL, "disabled"), Output(ids.ED_PROGRESS, "children"),
        Output(ids.ED_PROGRESS_BAR, "value"), Output(ids.ED_ACCEPT, "style"), Output(ids.ED_SUGGESTION, "data"),
        Input(ids.ED_SUGGEST, "n_clicks"), Input(ids.ED_POLL, "n_intervals"),
        State(ids.ED_DRAFT, "data"), State(ids.ED_JOB, "data"), State(ids.ED_STRINGS, "data"),
        prevent_initial_call=True,
    )
    def _suggest(_s, _n, draft, job, t):
        trigger = "start" if dash.ctx.triggered_id == ids.ED_SUGGEST else "poll"
        return suggestion(trigger, draft, job, t)
