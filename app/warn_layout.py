"""The sensor / warning parts of the command map page: the sensor layer, the warning panel
(counts, list, detail), the red-warning banner (``aria-live``) and their stores.

Only empty containers are in the layout; everything loads through callbacks.
"""

from __future__ import annotations

import logging

import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from app import ids
from geodata.db import pooled
from geodata.errors import OneGridError
from layers.sensors import kind_styles

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "warn")
EMPTY = {"type": "FeatureCollection", "features": []}


def _kinds(lang: str) -> dict:
    try:
        with pooled() as conn:
            return kind_styles(conn, lang)
    except OneGridError as exc:
        log.warning("sensor kinds unavailable: %s", exc.message)
        return {}


def map_layers(lang: str) -> list:
    """Sensors (clustered)."""
    return [
        dl.GeoJSON(id=ids.SENSORS, data=EMPTY, cluster=True, zoomToBoundsOnClick=True,
                   pointToLayer=ns("sensorPoint"), clusterToLayer=ns("sensorCluster"), onEachFeature=ns("sensorTooltip"),
                   hideout={"kinds": _kinds(lang)}, superClusterOptions={"radius": 50, "maxZoom": 14}),
    ]


def stores() -> list:
    return [dcc.Store(id=ids.SENSOR_DELTA), dcc.Store(id=ids.WARN_LIVE), dcc.Store(id=ids.WARN_SELECTED),
            dcc.Store(id=ids.ALARM_SEEN)]


def alarm(t: dict) -> html.Div:
    """The red-warning banner: hidden until a red warning opens; read out by screen readers."""
    return html.Div([html.Span("⚠", **{"aria-hidden": "true"}), html.Span(id=ids.ALARM_TEXT),
                     html.Button("×", id=ids.ALARM_CLOSE, n_clicks=0, title=t["close"])],
                    id=ids.ALARM, className="og-alarm og-hidden", role="alert", **{"aria-live": "assertive"})


def panel(t: dict) -> html.Aside:
    """Warning counts and list, the selected warning."""
    return html.Aside([
        html.Div([html.Span(t["warn_title"], className="og-panel-title"),
                  dcc.Checklist(id=ids.ALARM_SOUND, options=[{"label": t["alarm_sound"], "value": "on"}], value=[],
                                className="og-checklist og-inline")], className="og-warn-head"),
        html.Div(id=ids.WARN_COUNTS, className="og-warn-counts"),
        html.Div(id=ids.WARN_LIST, className="og-warn-list", role="list"),
        html.Div(id=ids.WARN_DETAIL, className="og-warn-detail og-hidden"),
    ], id=ids.WARN_PANEL, className="og-panel og-warn")
