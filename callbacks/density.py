"""Density layer callbacks: hexagons + legend for the viewport, tag and metric; the grid
drill-down table when a grid is clicked with the layer on. Thin: one call into layers.density."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from callbacks.errors import error_toast
from geodata.db import pooled
from geodata.maps import fetch_extent
from layers.case_report import point_from_click
from layers.density import build_density, build_grid_table_at
from layers.display import bounds_from_display
from layers.view import parse_view

EMPTY = {"type": "FeatureCollection", "features": []}
LAYER = "density"


def load_density(bounds, layers, tag, metric, zoom, t, lang) -> tuple:
    """Plain function: (cells GeoJSON, legend, controls class, toast)."""
    if LAYER not in (layers or []):
        return EMPTY, [], "og-dens-controls og-hidden", no_update
    try:
        with pooled() as conn:
            view = parse_view(bounds_from_display(bounds), zoom, fetch_extent(conn).bbox)
            out = build_density(conn, view, tag, metric, t, lang)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, no_update, no_update, error_toast(exc, t)
    return out["cells"], out["legend"], "og-dens-controls", no_update


def show_grid(click, layers, t, lang):
    """Plain function: the drill-down table of the grid under a map click (only with the layer on)."""
    if LAYER not in (layers or []):
        return no_update
    point = point_from_click(click)
    if point is None:
        return no_update
    try:
        with pooled() as conn:
            return build_grid_table_at(conn, point["lon"], point["lat"], t, lang)
    except Exception as exc:  # noqa: BLE001
        return error_toast(exc, t)


def register(ids) -> None:
    dash.callback(
        Output(ids.DENSITY_CELLS, "data"), Output(ids.DENSITY_LEGEND, "children"),
        Output(ids.DENSITY_CONTROLS, "className"), Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.MAP, "bounds"), Input(ids.LAYERS, "value"), Input(ids.DENSITY_TAG, "value"),
        Input(ids.DENSITY_METRIC, "value"), State(ids.MAP, "zoom"), State(ids.STRINGS, "data"),
        State(ids.LANG, "data"),
        prevent_initial_call="initial_duplicate",
    )(load_density)
    dash.callback(
        Output(ids.DENSITY_GRID, "children"),
        Input(ids.MAP, "clickData"), State(ids.LAYERS, "value"), State(ids.STRINGS, "data"), State(ids.LANG, "data"),
        prevent_initial_call=True,
    )(show_grid)
