"""``/planner``: life-circle coverage of a facility kind and location-allocation scenarios.

Left: the analysis (kind → radius and demand group from the norms, all editable) and the
optimisation form; centre: served/unserved H3 cells, catchments, facilities, proposed sites;
right: figures, the street/community table, the background solve's progress and the
scenario comparison with exports.
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from app import ids
from app.i18n import normalize_lang, strings
from geodata.errors import OneGridError
from geodata.settings import get_settings
from layers.basemap import build_tile_layer
from layers.planner import build_choices
from layers.widgets import dropdown

dash.register_page(__name__, path="/planner", name="Planner", title="OneGrid 设施规划")

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "planner")
map_ns = Namespace("onegrid", "map")
_FALLBACK_BOUNDS = [[31.1, 121.3], [31.5, 121.6]]
_EMPTY = {"type": "FeatureCollection", "features": []}


def _field(label: str, control) -> html.Div:
    return html.Div([html.Label(label, className="pl-label"), control], className="pl-field")


def _num(id_: str, value=None, **kw) -> dcc.Input:
    return dcc.Input(id=id_, type="number", value=value, debounce=True, className="pl-input", **kw)


def _analysis_form(t: dict, choices: dict) -> list:
    first = choices["kinds"][0]["value"] if choices["kinds"] else None
    d = choices["defaults"].get(first, {})
    return [
        html.Div(t["pl_analysis"], className="og-panel-title"),
        _field(t["pl_kind"], dropdown(t, id=ids.PL_KIND, options=choices["kinds"], value=first, clearable=False)),
        html.Div(id=ids.PL_LEVEL, className="pl-hint"),
        _field(t["pl_radius"], _num(ids.PL_RADIUS, d.get("radius"), min=50, max=5000, step=50)),
        _field(t["pl_ages"], html.Div([_num(ids.PL_MIN_AGE, d.get("min_age"), min=0, max=150, placeholder=t["pl_min_age"]),
                                       html.Span("–"),
                                       _num(ids.PL_MAX_AGE, d.get("max_age"), min=0, max=150, placeholder=t["pl_max_age"])],
                                      className="pl-row")),
        _field(t["pl_tag"], dropdown(t, id=ids.PL_TAG, options=choices["tags"], value=d.get("tag"),
                                     placeholder=t["pl_everyone"])),
        _field(t["pl_detour"], _num(ids.PL_DETOUR, 1.3, min=1, max=3, step=0.05)),
        dcc.Checklist(id=ids.PL_NETWORK, options=[{"label": t["pl_network"], "value": "network"}], value=["network"],
                      className="og-checklist"),
        _field(t["pl_res"], dcc.RadioItems(id=ids.PL_RES, options=[8, 9, 10], value=9, inline=True, className="og-radio pl-inline")),
        _field(t["pl_level_table"], dcc.RadioItems(id=ids.PL_TABLE_LEVEL, inline=True, value="street", className="og-radio pl-inline",
                                                   options=[{"label": t["pl_street"], "value": "street"},
                                                            {"label": t["pl_community"], "value": "community"}])),
        html.Button(t["pl_compute"], id=ids.PL_COMPUTE, n_clicks=0, className="og-btn pl-primary"),
    ]


def _optimise_form(t: dict, choices: dict) -> list:
    return [
        html.Div(t["pl_optimise"], className="og-panel-title"),
        _field(t["pl_model"], dcc.RadioItems(id=ids.PL_MODEL, value="mclp", className="og-radio",
                                             options=[{"label": t[f"pl_{m}"], "value": m} for m in ("mclp", "pmedian", "lscp")])),
        _field(t["pl_k"], _num(ids.PL_K, 5, min=1, step=1)),
        _field(t["pl_candidates"], dcc.RadioItems(id=ids.PL_SOURCE, value="h3", className="og-radio",
                                                  options=[{"label": t[f"pl_cand_{s}"], "value": s}
                                                           for s in ("h3", "upload", "address")])),
        _field(t["pl_cand_res"], dcc.RadioItems(id=ids.PL_CAND_RES, options=[8, 9], value=9, inline=True,
                                                className="og-radio pl-inline")),
        _field(t["pl_cand_set"], dropdown(t, id=ids.PL_CAND_SET, options=choices["sets"], placeholder="—")),
        dcc.Upload(html.Div(t["pl_upload"]), id=ids.PL_UPLOAD, className="pl-upload"),
        dcc.Input(id=ids.PL_CAND_TEXT, type="text", placeholder=t["pl_cand_text"], className="pl-input pl-wide"),
        _field(t["pl_capacity"], _num(ids.PL_CAPACITY, None, min=1)),
        dcc.Checklist(id=ids.PL_EXISTING_CAP, options=[{"label": t["pl_existing_cap"], "value": "on"}], value=[],
                      className="og-checklist"),
        html.Div(t["pl_existing_cap_hint"], className="pl-hint"),
        _field(t["pl_time_limit"], _num(ids.PL_TIME_LIMIT, 60, min=1, max=3600)),
        _field(t["pl_name"], dcc.Input(id=ids.PL_NAME, type="text", className="pl-input pl-wide")),
        html.Div([html.Button(t["pl_solve"], id=ids.PL_SOLVE, n_clicks=0, className="og-btn pl-primary"),
                  html.Button(t["pl_save_current"], id=ids.PL_SAVE_CURRENT, n_clicks=0, className="og-btn")],
                 className="pl-row"),
        html.Progress(id=ids.PL_PROGRESS, max=100, value=0, className="pl-progress"),
        html.Div(id=ids.PL_JOB_TEXT, className="pl-hint", role="status"),
    ]


def _map(choices: dict) -> dl.Map:
    """The planner map: it opens on the district outline, its streets and the first kind's
    facilities, so a new user sees where they are before computing anything."""
    bounds = choices["bounds"] or _FALLBACK_BOUNDS
    center = [(bounds[0][0] + bounds[1][0]) / 2, (bounds[0][1] + bounds[1][1]) / 2]
    return dl.Map([
        *build_tile_layer(),
        dl.Pane(dl.GeoJSON(id=ids.PL_OUTLINES, data=choices["outlines"], style=map_ns("outlineStyle"),
                           hideout={"fill": False}, onEachFeature=map_ns("areaLabel"), interactive=False),
                name="pl-outlines", style={"zIndex": 400}),
        dl.Pane(dl.GeoJSON(id=ids.PL_CELLS, data=_EMPTY, style=ns("cellStyle"), onEachFeature=ns("cellTip")),
                name="pl-cells", style={"zIndex": 410}),
        dl.Pane(dl.GeoJSON(id=ids.PL_CATCHMENTS, data=_EMPTY, style=ns("catchStyle"), onEachFeature=ns("catchTip")),
                name="pl-catch", style={"zIndex": 420}),
        dl.GeoJSON(id=ids.PL_FACILITIES, data=choices["facilities"], pointToLayer=ns("facility")),
        dl.GeoJSON(id=ids.PL_SITES, data=_EMPTY, pointToLayer=ns("site")),
        dl.ScaleControl(position="bottomleft", metric=True, imperial=False, maxWidth=160),
    ], id=ids.PL_MAP, bounds=bounds, center=center, zoom=12, minZoom=8, maxZoom=19, className="pl-map",
        attributionControl=bool(get_settings().basemap_url))


def _legend(t: dict) -> html.Div:
    stops = [("pl-c0", "0%"), ("pl-c1", "25%"), ("pl-c2", "50%"), ("pl-c3", "75%"), ("pl-c4", "100%")]
    return html.Div([
        html.Div(t["pl_legend_served"], className="pl-label"),
        html.Div([html.Span(label, className=f"pl-swatch {cls}") for cls, label in stops], className="pl-row"),
        html.Div([html.Span(className="pl-dot pl-dot-catch"), t["pl_legend_catch"]]),
        html.Div([html.Span(className="pl-dot pl-dot-fac"), t["pl_legend_facility"]]),
        html.Div([html.Span(className="pl-line pl-line-street"), t["pl_legend_street"]]),
        html.Div([html.Span(className="pl-dot pl-dot-site"), t["pl_legend_site"]]),
        html.Div(t["pl_suppressed"].format(k=get_settings().min_cell), className="pl-hint"),
    ], className="pl-legend")


def layout(lang: str | None = None, theme: str | None = None, **_query) -> html.Div:
    """The planner page; ``?lang=en`` for English, ``?theme=light`` for the light theme."""
    settings = get_settings()
    lang = normalize_lang(lang, settings.lang)
    theme = theme if theme in ("dark", "light") else settings.theme
    t = strings(lang)
    message = ""
    try:
        choices = build_choices(lang)
    except OneGridError as exc:
        log.warning("planner choices unavailable: %s", exc.message)
        choices = {"kinds": [], "defaults": {}, "tags": [], "sets": [], "bounds": None, "outlines": _EMPTY,
                   "facilities": _EMPTY}
        message = f"{t['error_prefix']}{exc.message}"
    other = "en" if lang == "zh" else "zh"
    return html.Div([
        dcc.Store(id=ids.PL_STRINGS, data=t),
        dcc.Store(id=ids.PL_DEFAULTS, data=choices["defaults"]),
        dcc.Store(id=ids.PL_JOB),
        dcc.Interval(id=ids.PL_POLL, interval=700, disabled=True),
        dcc.Download(id=ids.PL_DOWNLOAD),
        html.Header([
            html.Div([html.Div("规", className="og-logo"), html.Div(t["pl_title"], className="og-product")],
                     className="og-brand"),
            html.Div([html.A(t["pl_back"], href=f"/?lang={lang}&theme={theme}", className="og-btn"),
                      html.A(t["lang_switch"], href=f"/planner?lang={other}&theme={theme}", className="og-btn")],
                     className="og-header-tools"),
        ], className="og-header"),
        html.Main([
            html.Aside([*_analysis_form(t, choices), *_optimise_form(t, choices)], className="pl-side"),
            html.Div([_map(choices), _legend(t)], className="pl-stage"),
            html.Aside([
                html.Div(id=ids.PL_MODE, className="pl-mode"),
                html.Div(id=ids.PL_FIGURES, className="pl-figures"),
                html.Div(id=ids.PL_TABLE, className="pl-table-wrap"),
                html.Div(t["pl_scenarios"], className="og-panel-title"),
                html.Div(t["pl_scenarios_hint"], className="pl-hint"),
                dcc.Checklist(id=ids.PL_SCENARIOS, options=[], value=[], className="og-checklist pl-scenarios"),
                html.Div(id=ids.PL_COMPARE, className="pl-table-wrap"),
                html.Div([html.Span(t["pl_export"], className="pl-label"),
                          html.Button("GeoJSON", id=ids.PL_EXPORT_GEOJSON, n_clicks=0, className="og-btn"),
                          html.Button("CSV", id=ids.PL_EXPORT_CSV, n_clicks=0, className="og-btn"),
                          html.Button("PDF", id=ids.PL_EXPORT_PDF, n_clicks=0, className="og-btn")], className="pl-row"),
            ], className="pl-side pl-right"),
        ], className="pl-main"),
        html.Div(message, id=ids.PL_MESSAGE, className="pl-message", role="alert"),
    ], id=ids.PL_ROOT, className=f"og-root og-theme-{theme} og-lang-{lang} pl-root",
        lang="zh-CN" if lang == "zh" else "en")
