"""The sensor / warning / risk parts of the command map page: the sensor layer, the risk heat
and choropleth layers, the warning panel (counts, list, detail, risk window and playback, cell
detail), the red-warning banner (``aria-live``) and their stores.

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
from layers.risk import FRAMES
from layers.sensors import kind_styles

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "warn")
heat = Namespace("onegrid", "heat")
EMPTY = {"type": "FeatureCollection", "features": []}
#: Playback step, milliseconds.
PLAY_MS = 1500


def _kinds(lang: str) -> dict:
    try:
        with pooled() as conn:
            return kind_styles(conn, lang)
    except OneGridError as exc:
        log.warning("sensor kinds unavailable: %s", exc.message)
        return {}


def sensor_layer(id_: str, lang: str) -> dl.GeoJSON:
    """The sensor layer (clustered, a glyph per kind coloured by its open warning's level),
    empty until its callback fills it: the command map's and the wall screen's."""
    return dl.GeoJSON(id=id_, data=EMPTY, cluster=True, zoomToBoundsOnClick=True,
                      pointToLayer=ns("sensorPoint"), clusterToLayer=ns("sensorCluster"), onEachFeature=ns("sensorTooltip"),
                      hideout={"kinds": _kinds(lang)}, superClusterOptions={"radius": 50, "maxZoom": 14})


def map_layers(lang: str) -> list:
    """Heat (canvas, below the vectors), risk cells (clickable hexagons) and sensors (clustered)."""
    return [
        dl.Pane(dl.GeoJSON(id=ids.RISK_HEAT, data=EMPTY, pointToLayer=heat("pointToLayer"), interactive=False),
                name="og-risk-heat", style={"zIndex": 405, "pointerEvents": "none"}),
        dl.Pane(dl.GeoJSON(id=ids.RISK_CELLS, data=EMPTY, style=ns("riskStyle"), onEachFeature=ns("riskTooltip")),
                name="og-risk-cells", style={"zIndex": 415}),
        sensor_layer(ids.SENSORS, lang),
    ]


def stores() -> list:
    return [dcc.Store(id=ids.SENSOR_DELTA), dcc.Store(id=ids.WARN_LIVE), dcc.Store(id=ids.WARN_SELECTED),
            dcc.Store(id=ids.RISK_PLAY, data=False), dcc.Interval(id=ids.RISK_PLAY_TICK, interval=PLAY_MS, disabled=True),
            dcc.Store(id=ids.ALARM_SEEN)]


def alarm(t: dict) -> html.Div:
    """The red-warning banner: hidden until a red warning opens; read out by screen readers."""
    return html.Div([html.Span("⚠", **{"aria-hidden": "true"}), html.Span(id=ids.ALARM_TEXT),
                     html.Button("×", id=ids.ALARM_CLOSE, n_clicks=0, title=t["close"])],
                    id=ids.ALARM, className="og-alarm og-hidden", role="alert", **{"aria-live": "assertive"})


def panel(t: dict) -> html.Aside:
    """Warning counts and list, the selected warning, risk window/playback and cell detail."""
    return html.Aside([
        html.Div([html.Span(t["warn_title"], className="og-panel-title"),
                  dcc.Checklist(id=ids.ALARM_SOUND, options=[{"label": t["alarm_sound"], "value": "on"}], value=[],
                                className="og-checklist og-inline")], className="og-warn-head"),
        html.Div(id=ids.WARN_COUNTS, className="og-warn-counts"),
        html.Div(id=ids.WARN_LIST, className="og-warn-list", role="list"),
        html.Div(id=ids.WARN_DETAIL, className="og-warn-detail og-hidden"),
        html.Div(t["risk_title"], className="og-panel-title og-block"),
        html.Div([
            dcc.RadioItems(id=ids.RISK_WINDOW, value="7d", inline=True, className="og-radio",
                           options=[{"label": t[f"risk_window_{w}"], "value": w} for w in ("24h", "7d", "30d")]),
            html.Button(t["risk_play"], id=ids.RISK_PLAY_BTN, n_clicks=0, className="og-btn og-risk-play"),
        ], className="og-risk-controls"),
        html.Div([
            html.Div(dcc.Slider(id=ids.RISK_FRAME, min=0, max=FRAMES - 1, step=1, value=FRAMES - 1, marks=None,
                                updatemode="mouseup"), className="og-risk-slider"),
            html.Span(t["risk_now"], id=ids.RISK_TIME, className="og-risk-time"),
        ], className="og-risk-controls"),
        html.Div(id=ids.RISK_DETAIL, className="og-risk-detail"),
    ], id=ids.WARN_PANEL, className="og-panel og-warn")
