"""The export panel of the command map: the current view as PNG/PDF, the daily briefing, and
any layer as GeoJSON/GPKG/CSV/zipped Shapefile — downloaded with progress in the page.

The download URLs follow the map (extent, layers, filters, theme) through
:mod:`callbacks.screen_export`; the browser fetches them and shows progress in the status line.
"""

from __future__ import annotations

import logging

from dash import dcc, html

from app import ids
from geodata.cases.map_queries import fetch_streets
from geodata.db import pooled
from geodata.errors import OneGridError
from geodata.io.export_cases import EXPORT_LAYERS
from layers.widgets import dropdown

log = logging.getLogger(__name__)
EXTENTS = ("view", "street", "district")


def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label, className="og-k"), control], className="og-field")


def _streets() -> list[dict]:
    try:
        with pooled() as conn:
            return [{"label": s["name"], "value": s["code"]} for s in fetch_streets(conn)]
    except OneGridError as exc:
        log.warning("streets unavailable for the export panel: %s", exc.message)
        return []


def _extent(t: dict) -> list:
    """Extent of a data export: the current view, one street/town, or the whole district."""
    streets = _streets()
    return [
        _field(t["export_extent"], dcc.RadioItems(
            id=ids.EXPORT_DATA_EXTENT, value="view", inline=True, className="og-radio",
            options=[{"label": t[f"export_extent_{e}"], "value": e} for e in EXTENTS])),
        dropdown(t, id=ids.EXPORT_DATA_STREET, options=streets, value=streets[0]["value"] if streets else None,
                 clearable=False, searchable=False, className="og-input og-export-street"),
    ]


def export_panel(t: dict) -> html.Aside:
    """The panel (hidden until the header's export button opens it)."""
    sizes = [{"label": t[f"export_size_{s.lower()}"], "value": s} for s in ("A4", "A3", "screen")]
    return html.Aside([
        html.Div([html.Span(t["export_title"], className="og-panel-title"),
                  html.Button("×", id=ids.EXPORT_TOGGLE + "-close", n_clicks=0, className="og-close", title=t["close"])],
                 className="og-detail-head"),
        html.Div(t["export_map"], className="og-panel-title"),
        _field(t["export_size"], dropdown(t, id=ids.EXPORT_SIZE, options=sizes, value="A4", clearable=False,
                                          className="og-input")),
        dcc.RadioItems(id=ids.EXPORT_ORIENTATION, value="landscape", inline=True, className="og-radio",
                       options=[{"label": t[f"export_{o}"], "value": o} for o in ("landscape", "portrait")]),
        dcc.RadioItems(id=ids.EXPORT_DPI, value=150, inline=True, className="og-radio",
                       options=[{"label": f"{d} dpi", "value": d} for d in (96, 150, 300)]),
        dcc.RadioItems(id=ids.EXPORT_FORMAT, value="pdf", inline=True, className="og-radio",
                       options=[{"label": "PDF", "value": "pdf"}, {"label": "PNG", "value": "png"}]),
        html.Div([html.Button(t["export_snapshot"], id=ids.EXPORT_SNAPSHOT, n_clicks=0, className="og-act"),
                  html.Button(t["export_briefing"], id=ids.EXPORT_BRIEFING, n_clicks=0, className="og-act")],
                 className="og-export-buttons"),
        html.Div(t["export_data"], className="og-panel-title"),
        _field(t["export_layer"], dropdown(
            t, id=ids.EXPORT_DATA_LAYER, value="cases", clearable=False, className="og-input",
            options=[{"label": t[f"export_layer_{name.replace('-', '_')}"], "value": name} for name in EXPORT_LAYERS])),
        dcc.RadioItems(id=ids.EXPORT_DATA_FORMAT, value="geojson", inline=True, className="og-radio",
                       options=[{"label": label, "value": v} for v, label in
                                (("geojson", "GeoJSON"), ("gpkg", "GPKG"), ("csv", "CSV"), ("zip", "SHP"))]),
        *_extent(t),
        html.Div(t["export_data_hint"], className="og-hint"),
        html.Button(t["export_data_button"], id=ids.EXPORT_DATA, n_clicks=0, className="og-act"),
        html.Div(id=ids.EXPORT_STATUS, className="og-export-status", role="status"),
        dcc.Store(id=ids.EXPORT_URLS), dcc.Store(id=ids.EXPORT_LOG),
    ], id=ids.EXPORT_PANEL, className="og-panel og-right og-export og-hidden")


def export_button(t: dict) -> html.Button:
    return html.Button(t["export_title"], id=ids.EXPORT_TOGGLE, n_clicks=0, className="og-btn og-export-open")
