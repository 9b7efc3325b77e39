"""``/screen``: the command-centre wall screen (1920×1080 and 3840×2160, no scrolling).

The live map in the middle (cases as deltas every second, sensors coloured by their open
warning's level — the command map's sensor layer —, grids and boundaries) with KPI tiles, warnings by level, the 30-day trend, the street ranking and a
ticker of the newest cases and warnings around it. Every size follows the viewport height,
so a 4K wall shows the same screen as a 1080p one. ``?rotate=30`` rotates through the district
and each street every 30 s (0 stops); ``?view=CODE`` holds one street; ``?window=`` picks the
case window (default 7d, open cases only); ``?lang=en``.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from app import ids
from app.i18n import normalize_lang, strings
from app.warn_layout import sensor_layer
from geodata.cases.model import OPEN_STATES
from geodata.errors import OneGridError
from geodata.settings import get_settings
from layers.basemap import build_tile_layer
from layers.cases import DEFAULT_WINDOW, WINDOWS
from layers.screen_wall import build_views

dash.register_page(__name__, path="/screen", name="Wall screen", title="OneGrid 大屏")

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "map")
cases_ns = Namespace("onegrid", "cases")
#: Map layers of the wall (the command map's names and builders).
WALL_LAYERS = ["outlines", "grids", "roads", "cases", "sensors"]
DEFAULT_ROTATE_S = 30


def _empty(id_: str, **kwargs) -> dl.GeoJSON:
    return dl.GeoJSON(id=id_, data={"type": "FeatureCollection", "features": []}, **kwargs)


def _map(bounds, lang: str) -> dl.Map:
    children = [
        *build_tile_layer(),
        dl.Pane(_empty(ids.SCREEN_DISTRICT, style=ns("districtStyle"), interactive=False), name="og-base",
                style={"zIndex": 250}),
        dl.Pane(_empty(ids.SCREEN_GRIDS, style=ns("gridStyle"), hideout={}), name="og-grids", style={"zIndex": 400}),
        dl.Pane(_empty(ids.SCREEN_ROADS, style=ns("roadStyle"), interactive=False), name="og-roads",
                style={"zIndex": 410, "pointerEvents": "none"}),
        dl.Pane(_empty(ids.SCREEN_ADDRESS_CELLS, style=ns("cellStyle")), name="og-cells", style={"zIndex": 420}),
        dl.Pane([_empty(ids.SCREEN_OUTLINE_COMMUNITY, style=ns("outlineStyle"), hideout={"fill": False}),
                 _empty(ids.SCREEN_OUTLINE_STREET, style=ns("outlineStyle"), hideout={"fill": False},
                        onEachFeature=ns("areaLabel")),
                 _empty(ids.SCREEN_OUTLINE_DISTRICT, style=ns("outlineStyle"), hideout={"fill": False})],
                name="og-outlines", style={"zIndex": 450}),
        _empty(ids.SCREEN_ADDRESS_POINTS),
        _empty(ids.SCREEN_FACILITIES),
        # The command map's sensor layer (app.warn_layout): same glyphs, level colours, clusters.
        sensor_layer(ids.SCREEN_SENSORS, lang),
        # The command map's live case layer, clustered the same way (app.case_layout.case_layer).
        _empty(ids.SCREEN_CASES, cluster=True, pointToLayer=cases_ns("casePoint"),
               clusterToLayer=cases_ns("caseCluster"), onEachFeature=cases_ns("caseTooltip"),
               hideout={"selected": None}, superClusterOptions={"radius": 60, "maxZoom": 15}),
        dl.ScaleControl(position="bottomleft", metric=True, imperial=False, maxWidth=200),
    ]
    bounds = bounds or [[31.1, 121.3], [31.5, 121.6]]
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return dl.Map(children, id=ids.SCREEN_MAP, bounds=bounds, center=center, zoom=12, zoomSnap=0.25,
                  viewport={"bounds": bounds, "transition": "fitBounds"}, trackViewport=True, zoomControl=False,
                  attributionControl=bool(get_settings().basemap_url), className="og-map og-wall-leaflet",
                  boundsOptions={"padding": [16, 16]}, minZoom=8, maxZoom=19)


def _stores(views: list[dict], view_index: int, window: str, rotate_s: int) -> list:
    code = views[view_index]["code"] if views else None
    return [
        dcc.Store(id=ids.SCREEN_VIEWS, data=views), dcc.Store(id=ids.SCREEN_VIEW, data=view_index),
        dcc.Store(id=ids.SCREEN_LAYERS, data=WALL_LAYERS), dcc.Store(id=ids.SCREEN_METRIC, data="households"),
        dcc.Store(id=ids.SCREEN_KINDS, data=[]),
        dcc.Store(id=ids.SCREEN_FILTER, data={"states": list(OPEN_STATES), "streets": [code] if code else [],
                                              "window": window}),
        dcc.Store(id=ids.SCREEN_LIVE), dcc.Store(id=ids.SCREEN_DELTA), dcc.Store(id=ids.SCREEN_WARN_CURSOR),
        dcc.Interval(id=ids.SCREEN_LIVE_TICK, interval=1000),
        dcc.Interval(id=ids.SCREEN_STATS_TICK, interval=10_000),
        dcc.Interval(id=ids.SCREEN_ROTATE_TICK, interval=max(rotate_s, 5) * 1000, disabled=rotate_s <= 0 or len(views) < 2),
    ]


def _rotate(value) -> int:
    try:
        return max(0, min(3600, int(value)))
    except (TypeError, ValueError):
        return DEFAULT_ROTATE_S


def layout(lang: str | None = None, theme: str | None = None, rotate=None, view: str | None = None,
           window: str | None = None, **_query) -> html.Div:
    settings = get_settings()
    lang = normalize_lang(lang, settings.lang)
    theme = theme if theme in ("dark", "light") else "dark"
    window = window if window in WINDOWS else DEFAULT_WINDOW
    t = strings(lang)
    try:
        views = build_views(lang, t)
    except OneGridError as exc:
        log.warning("wall screen views unavailable: %s", exc.message)
        views = []
    index = next((i for i, v in enumerate(views) if view and v["code"] == view), 0)
    rotate_s = 0 if view else _rotate(rotate if rotate is not None else DEFAULT_ROTATE_S)
    name = views[index]["name"] if views else t["no_district"]
    panel = "og-wall-panel"
    return html.Div([
        dcc.Store(id=ids.STRINGS, data=t), dcc.Store(id=ids.LANG, data=lang),
        dcc.Store(id=ids.SCREEN_TZ, data=settings.timezone),
        *_stores(views, index, window, rotate_s),
        html.Header([
            html.Div([html.Div("网", className="og-logo"), html.Div(t["wall_title"], className="og-wall-title")],
                     className="og-wall-brand"),
            html.Div(name, id=ids.SCREEN_VIEW_NAME, className="og-wall-view"),
            html.Div(id=ids.SCREEN_CLOCK, className="og-wall-clock"),
        ], className="og-wall-head"),
        html.Section([html.H2(t["wall_cases"], className="og-wall-h2"), html.Div(id=ids.SCREEN_KPIS, className="og-wall-kpis"),
                      html.H2(t["wall_warnings"], className="og-wall-h2"),
                      html.Div(id=ids.SCREEN_WARN_TILES, className="og-wall-warns"),
                      html.H2(t["legend"], className="og-wall-h2"),
                      html.Div(id=ids.SCREEN_LEGEND, className="og-legend og-wall-legend")], className=f"{panel} og-wall-left"),
        html.Div([_map(views[index]["bounds"] if views else None, lang), html.Span(id=ids.SCREEN_ZOOM, className="og-hidden")],
                 className="og-wall-map"),
        html.Section([html.H2(t["trend_title"], className="og-wall-h2"),
                      dcc.Graph(id=ids.SCREEN_TREND, config={"displayModeBar": False, "responsive": True},
                                className="og-wall-trend", style={"height": "100%"},
                                figure={"data": [], "layout": {"paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)"}}),
                      html.H2(t["wall_ranking"], className="og-wall-h2"),
                      html.Div(id=ids.SCREEN_RANKING, className="og-wall-ranking")], className=f"{panel} og-wall-right"),
        html.Footer(html.Div(id=ids.SCREEN_TICKER, className="og-wall-ticker-track"), className="og-wall-ticker"),
        html.Div(id=ids.SCREEN_TOAST, className="og-toast og-wall-toast", role="status"),
    ], id=ids.SCREEN_ROOT, className=f"og-root og-wall og-theme-{theme} og-lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
