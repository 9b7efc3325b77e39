"""Export panel of the command map: open/close, download URLs that follow the map, and the
downloads themselves (in the browser, with progress in the panel's status line)."""

from __future__ import annotations

import dash
from dash import ClientsideFunction, Input, Output, State, no_update

from callbacks.errors import error_toast
from layers.screen_export import build_export_urls


def update_urls(bounds, layers, metric, kinds, case_filter, root_class, size, orientation, dpi, fmt, data_layer,
                data_format, lang, t, risk_window=None, risk_frame=None, density_tag=None, density_metric=None,
                zoom=None, extent="view", street=None) -> tuple:
    """Plain function behind the callback: (URL store, toast)."""
    theme = "light" if "og-theme-light" in (root_class or "") else "dark"
    overlays = {"zoom": zoom, "risk_frame": risk_frame, "density_tag": density_tag, "density_metric": density_metric}
    try:
        urls = build_export_urls(bounds, layers, metric, kinds, case_filter, lang, theme, size, orientation, dpi, fmt,
                                 data_layer, data_format, risk_window, overlays, extent or "view", street)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, error_toast(exc, t)
    return urls, no_update


def register(ids) -> None:
    dash.callback(
        Output(ids.EXPORT_URLS, "data"), Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.MAP, "bounds"), Input(ids.LAYERS, "value"), Input(ids.GRID_METRIC, "value"),
        Input(ids.FACILITY_KINDS, "value"), Input(ids.CASE_FILTER, "data"), Input(ids.ROOT, "className"),
        Input(ids.EXPORT_SIZE, "value"), Input(ids.EXPORT_ORIENTATION, "value"), Input(ids.EXPORT_DPI, "value"),
        Input(ids.EXPORT_FORMAT, "value"), Input(ids.EXPORT_DATA_LAYER, "value"), Input(ids.EXPORT_DATA_FORMAT, "value"),
        State(ids.LANG, "data"), State(ids.STRINGS, "data"), Input(ids.RISK_WINDOW, "value"),
        # The overlays' own controls and the zoom (their hexagon resolution follows it).
        Input(ids.RISK_FRAME, "value"), Input(ids.DENSITY_TAG, "value"), Input(ids.DENSITY_METRIC, "value"),
        Input(ids.MAP, "zoom"), Input(ids.EXPORT_DATA_EXTENT, "value"), Input(ids.EXPORT_DATA_STREET, "value"),
        prevent_initial_call="initial_duplicate",
    )(update_urls)
    # The street picker only with the street extent.
    dash.clientside_callback(
        "function (extent) { return extent === 'street' ? {} : {display: 'none'}; }",
        Output(ids.EXPORT_DATA_STREET, "style"), Input(ids.EXPORT_DATA_EXTENT, "value"),
    )
    dash.clientside_callback(
        ClientsideFunction(namespace="onegrid", function_name="toggleExport"),
        Output(ids.EXPORT_PANEL, "className"),
        Input(ids.EXPORT_TOGGLE, "n_clicks"), Input(ids.EXPORT_TOGGLE + "-close", "n_clicks"),
        State(ids.EXPORT_PANEL, "className"),
        prevent_initial_call=True,
    )
    for button, key in ((ids.EXPORT_SNAPSHOT, "snapshot"), (ids.EXPORT_BRIEFING, "briefing"), (ids.EXPORT_DATA, "data")):
        dash.clientside_callback(
            f"function (n, urls, t) {{ return window.onegrid.exportClick(n, urls, t, '{key}', '{ids.EXPORT_STATUS}'); }}",
            Output(ids.EXPORT_LOG, "data", allow_duplicate=True),
            Input(button, "n_clicks"), State(ids.EXPORT_URLS, "data"), State(ids.STRINGS, "data"),
            prevent_initial_call=True,
        )
