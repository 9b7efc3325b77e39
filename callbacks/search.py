"""Search box: typed text → suggestions (fuzzy place-name lookup in PostGIS)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from callbacks.errors import error_toast
from geodata.db import pooled
from layers.search import build_suggestions


def suggest(search_value: str | None, t) -> tuple:
    """Plain function behind the callback: (options, toast). Empty text keeps the options
    (the dropdown clears its text after a pick and must still know the picked option)."""
    text = (search_value or "").strip()
    if not text:
        return no_update, no_update
    try:
        with pooled() as conn:
            options = build_suggestions(conn, text, t)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, error_toast(exc, t)
    if not options:
        options = [{"label": t["no_results"], "value": "", "disabled": True}]
    return options, no_update


def register(ids) -> None:
    dash.callback(
        Output(ids.SEARCH, "options"),
        Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.SEARCH, "search_value"),
        State(ids.STRINGS, "data"),
        prevent_initial_call=True,
    )(suggest)
