"""The key-population density parts of the command map: the hexagon layer, its controls
(tag: all residents or one key population; counts or per km²), its legend and the grid
drill-down table (click the map: the grid under the click). Only empty containers; everything loads through callbacks.density.
"""

from __future__ import annotations

import logging

import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from app import ids
from geodata.db import pooled
from geodata.errors import OneGridError
from geodata.population import ALL
from layers.density import tag_options
from layers.widgets import dropdown

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "density")


def map_layer() -> dl.Pane:
    """Hexagons under the outlines and points (z 415), clickable for their published value."""
    return dl.Pane(dl.GeoJSON(id=ids.DENSITY_CELLS, data={"type": "FeatureCollection", "features": []},
                              style=ns("cellStyle"), onEachFeature=ns("cellTooltip")),
                   name="og-density", style={"zIndex": 415})


def _options(t: dict, lang: str) -> list[dict]:
    try:
        with pooled() as conn:
            return tag_options(conn, t, lang)
    except OneGridError as exc:
        log.warning("population tags unavailable: %s", exc.message)
        return [{"label": t["density_all"], "value": ALL}]


def controls(t: dict, lang: str) -> html.Div:
    """Tag and metric pickers, the legend and the grid drill-down table (shown with the layer)."""
    return html.Div([
        html.Div(t["density_title"], className="og-panel-title"),
        dropdown(t, id=ids.DENSITY_TAG, options=_options(t, lang), value=ALL, clearable=False,
                 searchable=False, className="og-dens-tag"),
        dcc.RadioItems(id=ids.DENSITY_METRIC, value="count", inline=True, className="og-radio",
                       options=[{"label": t["density_metric_count"], "value": "count"},
                                {"label": t["density_metric_per_km2"], "value": "per_km2"}]),
        html.Div(id=ids.DENSITY_LEGEND, className="og-legend og-dens-legend-box"),
        html.Div(html.P(t["density_click_hint"], className="og-hint"), id=ids.DENSITY_GRID,
                 className="og-dens-grid-box"),
    ], id=ids.DENSITY_CONTROLS, className="og-dens-controls og-hidden")
