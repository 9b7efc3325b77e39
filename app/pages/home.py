"""Home page: the command map (一网统管 one map).

The layout is small on purpose: no GeoJSON is inlined; every layer loads for the viewport
through the viewport callback once the map reports its bounds.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from app import case_layout, density_layout, ids, warn_layout
from app.export_panel import export_button, export_panel
from app.i18n import normalize_lang, strings
from geodata.errors import OneGridError
from geodata.settings import get_settings
from layers.basemap import build_tile_layer
from layers.cases import build_case_choices
from layers.overview import build_overview
from layers.viewport import DEFAULT_LAYERS
from layers.widgets import dropdown

dash.register_page(__name__, path="/", name="Command map")

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "map")
#: Roughly the Shanghai area, only used when no data is loaded yet.
_FALLBACK_BOUNDS = [[31.1, 121.3], [31.5, 121.6]]


def _geojson(id_: str, **kwargs) -> dl.GeoJSON:
    return dl.GeoJSON(id=id_, data={"type": "FeatureCollection", "features": []}, **kwargs)


def _map(bounds, kind_styles: dict, lang: str) -> dl.Map:
    base = dl.Pane(_geojson(ids.DISTRICT, style=ns("districtStyle"), interactive=False),
                   name="og-base", style={"zIndex": 250})
    # Roads sit above the grid choropleth (thin, click-through) so streets stay readable.
    roads = dl.Pane(_geojson(ids.ROADS, style=ns("roadStyle"), interactive=False),
                    name="og-roads", style={"zIndex": 410, "pointerEvents": "none"})
    children = [
        *build_tile_layer(),
        base,
        dl.Pane(_geojson(ids.GRIDS, style=ns("gridStyle"), hideout={}, onEachFeature=ns("gridLabel")),
                name="og-grids", style={"zIndex": 400}),
        roads,
        density_layout.map_layer(),
        dl.Pane(_geojson(ids.ADDRESS_CELLS, style=ns("cellStyle"), onEachFeature=ns("cellTooltip")),
                name="og-cells", style={"zIndex": 420}),
        dl.Pane([
            _geojson(ids.OUTLINE_COMMUNITY, style=ns("outlineStyle"), hideout={"fill": False},
                     onEachFeature=ns("areaLabel")),
            _geojson(ids.OUTLINE_STREET, style=ns("outlineStyle"), hideout={"fill": False},
                     onEachFeature=ns("areaLabel")),
            _geojson(ids.OUTLINE_DISTRICT, style=ns("outlineStyle"), hideout={"fill": False}, interactive=False),
        ], name="og-outlines", style={"zIndex": 450}),
        dl.Pane(_geojson(ids.SELECTION, style=ns("selectionStyle"), pointToLayer=ns("selectionPoint"),
                         interactive=False), name="og-selection", style={"zIndex": 460, "pointerEvents": "none"}),
        _geojson(ids.ADDRESS_POINTS, cluster=True, zoomToBoundsOnClick=True, pointToLayer=ns("addressPoint"),
                 clusterToLayer=ns("addressCluster"), superClusterOptions={"radius": 90, "maxZoom": 18}),
        _geojson(ids.FACILITIES, pointToLayer=ns("facilityMarker"), onEachFeature=ns("facilityTooltip"),
                 hideout={"kinds": kind_styles}),
        case_layout.case_layer(),
        *warn_layout.map_layers(lang),
        dl.ScaleControl(position="bottomleft", metric=True, imperial=False, maxWidth=160),
        dl.ZoomControl(position="bottomright"),
    ]
    bounds = bounds or _FALLBACK_BOUNDS
    # dash-leaflet compares the viewport with the initial center/zoom, so both must be set
    # even though the initial bounds decide what is shown.
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return dl.Map(children, id=ids.MAP, bounds=bounds, center=center, zoom=12,
                  viewport={"bounds": bounds, "transition": "fitBounds"}, minZoom=8, maxZoom=19,
                  trackViewport=True, zoomControl=False, attributionControl=bool(get_settings().basemap_url),
                  className="og-map", boundsOptions={"padding": [24, 24]})


def _header(t: dict, lang: str, theme: str, district: str | None) -> html.Header:
    other = "en" if lang == "zh" else "zh"
    return html.Header([
        html.Div([
            html.Div("网", className="og-logo"),
            html.Div([html.Div(t["product"], className="og-product"),
                      html.Div(f"{district or t['no_district']} · {t['subtitle']}", className="og-district")]),
        ], className="og-brand"),
        dropdown(t, id=ids.SEARCH, options=[], placeholder=t["search_placeholder"], searchable=True,
                 clearable=True, className="og-search", maxHeight=420, labels={"search": t["search_hint"]}),
        html.Div([
            html.Span(id=ids.ZOOM_INFO, className="og-zoom"),
            export_button(t),
            html.Button(t["theme_light"] + " / " + t["theme_dark"], id=ids.THEME_TOGGLE, n_clicks=0,
                        className="og-btn"),
            html.A(t["pl_nav"], href=f"/planner?lang={lang}&theme={theme}", className="og-btn og-planner-link"),
            html.A(t["lang_switch"], id=ids.LANG_LINK, href=f"/?lang={other}&theme={theme}", className="og-btn og-lang"),
        ], className="og-header-tools"),
    ], className="og-header")


def _layer_panel(t: dict, kinds: list[dict], checked: list[str], lang: str = "zh") -> html.Aside:
    layer_options = [{"label": t[f"layer_{k}"], "value": k}
                     for k in ("cases", "sensors", "risk_heat", "risk_cells", "density", "outlines", "grids", "addresses",
                               "facilities", "roads")]
    kind_options = [{"label": html.Span([html.I(k["glyph"], className="og-glyph", style={"background": k["color"]}),
                                         k["name"], html.Small(f" {k['n']}", className="og-count")]),
                     "value": k["code"]} for k in kinds if k["n"]]
    return html.Aside([
        html.Div(t["layers"], className="og-panel-title"),
        dcc.Checklist(id=ids.LAYERS, options=layer_options, value=DEFAULT_LAYERS, className="og-checklist"),
        html.Div(t["grid_metric"], className="og-panel-title"),
        dcc.RadioItems(id=ids.GRID_METRIC, value="households", className="og-radio", inline=True,
                       options=[{"label": t[f"metric_{m}"], "value": m}
                                for m in ("households", "addresses", "cases", "overdue_rate")]),
        html.Div(t["facility_kinds"], className="og-panel-title"),
        dcc.Checklist(id=ids.FACILITY_KINDS, options=kind_options, value=checked,
                      className="og-checklist og-kinds"),
        html.Div(t["legend"], className="og-panel-title"),
        # The risk overlay's legend first: when it is on, it is what the map mostly shows.
        html.Div(id=ids.RISK_LEGEND, className="og-legend og-risk-legend"),
        html.Div(id=ids.LEGEND, className="og-legend"),
        density_layout.controls(t, lang),
    ], className="og-panel og-left")


def _stats(t: dict, summary: dict | None) -> html.Div:
    """District totals strip at the bottom of the map (command-centre overview)."""
    keys = ("streets", "communities", "grids", "households", "addresses", "facilities")
    items = [html.Div([html.Div(f"{summary[k]:,}", className="og-stat-value"),
                       html.Div(t[f"stat_{k}"], className="og-stat-label")], className="og-stat")
             for k in keys] if summary else []
    return html.Div(items, className="og-stats")


def _detail_panel(t: dict) -> html.Aside:
    return html.Aside([
        html.Div([html.Span(t["details"], className="og-panel-title"),
                  html.Button("×", id=ids.DETAIL_CLOSE, n_clicks=0, className="og-close", title=t["close"])],
                 className="og-detail-head"),
        html.Div(html.P(t["click_hint"], className="og-hint"), id=ids.DETAIL_BODY),
    ], id=ids.DETAIL_PANEL, className="og-panel og-right og-hidden")


def _case_choices(lang: str) -> dict:
    """Filter/report choices (categories, streets); empty lists when the database is down."""
    try:
        return build_case_choices(lang)
    except OneGridError as exc:
        log.warning("case choices unavailable: %s", exc.message)
        return {"categories": [], "streets": []}


def layout(lang: str | None = None, theme: str | None = None, **_query) -> html.Div:
    """The command map page; ``?lang=en`` switches language, ``?theme=light`` the theme."""
    settings = get_settings()
    lang = normalize_lang(lang, settings.lang)
    theme = theme if theme in ("dark", "light") else settings.theme
    t = strings(lang)
    toast = []
    try:
        overview = build_overview(lang)
    except OneGridError as exc:
        log.warning("overview unavailable: %s", exc.message)
        overview = {"bounds": None, "district_name": None, "kinds": [], "default_kinds": [], "kind_styles": {},
                    "summary": None}
        toast = [html.Div(f"{t['error_prefix']}{exc.message}", className="og-toast-item og-error")]
    choices = _case_choices(lang)
    return html.Div([
        dcc.Store(id=ids.STRINGS, data=t),
        dcc.Store(id=ids.LANG, data=lang),
        _header(t, lang, theme, overview["district_name"]),
        *case_layout.stores(),
        *warn_layout.stores(),
        html.Main([
            html.Div([
                _layer_panel(t, overview["kinds"], overview["default_kinds"], lang),
                _map(overview["bounds"], overview["kind_styles"], lang),
                case_layout.report_toggle(t),
                _detail_panel(t),
                case_layout.drawer(t),
                case_layout.report_panel(t, choices),
                warn_layout.panel(t),
                warn_layout.alarm(t),
                export_panel(t),
                _stats(t, overview["summary"]),
            ], className="og-stage"),
            case_layout.case_column(t, choices),
        ], className="og-main"),
        html.Div(toast, id=ids.TOAST, className="og-toast", role="status"),
    ], id=ids.ROOT, className=f"og-root og-theme-{theme} og-lang-{lang}", lang="zh-CN" if lang == "zh" else "en")
