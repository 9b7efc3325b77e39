"""Dark/light theme switch, in the browser (the map's colours are CSS variables per theme)."""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State


def register(ids) -> None:
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="toggleTheme"),
        Output(ids.ROOT, "className"),
        Output(ids.LANG_LINK, "href"),
        Input(ids.THEME_TOGGLE, "n_clicks"),
        State(ids.ROOT, "className"),
        State(ids.LANG_LINK, "href"),
        prevent_initial_call=True,
    )
