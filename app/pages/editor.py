"""Grid boundary editor page (/editor): draw, split, merge, delete and reshape a community's
grids with live validation, preview the impact, save versions, browse history, suggestions.

Drawing uses dash-leaflet's EditControl (leaflet-draw, bundled with dash-leaflet: offline).
"""

from __future__ import annotations

import logging

import dash
import dash_leaflet as dl
from dash import dcc, html
from dash_extensions.javascript import Namespace

from app import ids
from app.i18n import normalize_lang, strings
from geodata.db import pooled
from geodata.errors import OneGridError
from geodata.settings import get_settings
from layers.basemap import build_tile_layer
from layers.editor import (
    EMPTY,
    build_community_options,
    build_community_outlines,
    edit_control,
    outline_bounds,
)
from layers.widgets import dropdown

dash.register_page(__name__, path="/editor", name="Grid editor")

log = logging.getLogger(__name__)
ns = Namespace("onegrid", "editor")
_FALLBACK_BOUNDS = [[31.1, 121.3], [31.5, 121.6]]


def _map(outlines: dict) -> dl.Map:
    """The editor map; ``outlines`` (the district's communities, or EMPTY once one is chosen)
    are drawn below everything and choose a community when clicked."""
    children = [
        *build_tile_layer(),
        dl.Pane(dl.GeoJSON(id=ids.ED_COMMUNITIES, data=outlines, style=ns("communityStyle"),
                           onEachFeature=ns("communityLabel")), name="ed-communities", style={"zIndex": 400}),
        dl.Pane(dl.GeoJSON(id=ids.ED_OVERLAY, data=EMPTY, style=ns("overlayStyle"), interactive=False),
                name="ed-overlay", style={"zIndex": 405, "pointerEvents": "none"}),
        dl.Pane(dl.GeoJSON(id=ids.ED_GRIDS, data=EMPTY, style=ns("gridStyle"), onEachFeature=ns("gridLabel"),
                           hideout={"selected": []}), name="ed-grids", style={"zIndex": 410}),
        dl.Pane(dl.GeoJSON(id=ids.ED_PROBLEMS, data=EMPTY, style=ns("problemStyle"),
                           pointToLayer=ns("problemPoint"), onEachFeature=ns("problemTip")),
                name="ed-problems", style={"zIndex": 430}),
        dl.Pane(dl.GeoJSON(id=ids.ED_MOVED, data=EMPTY, pointToLayer=ns("movedPoint"), interactive=False),
                name="ed-moved", style={"zIndex": 440, "pointerEvents": "none"}),
        dl.FeatureGroup(edit_control(ids.ED_EDIT), id=ids.ED_DRAW),
        dl.ScaleControl(position="bottomleft", metric=True, imperial=False, maxWidth=160),
        dl.ZoomControl(position="bottomright"),
    ]
    b = outline_bounds(outlines) or _FALLBACK_BOUNDS
    return dl.Map(children, id=ids.ED_MAP, bounds=b, center=[(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2],
                  zoom=12, minZoom=8, maxZoom=20, className="og-map", attributionControl=False, zoomControl=False)


def _btn(label: str, id_: str, **kw) -> html.Button:
    return html.Button(label, id=id_, n_clicks=0, className="og-btn ed-btn", **kw)


def _tools(t: dict, options: list, community: str | None, error: str | None) -> html.Aside:
    hint = t["ed_none_selected"] if community else t["ed_pick_on_map"]
    return html.Aside([
        html.Div(t["ed_community"], className="og-panel-title"),
        dropdown(t, id=ids.ED_COMMUNITY, options=options, value=community, placeholder=t["ed_pick"],
                 clearable=False),
        html.Div(id=ids.ED_INFO, className="ed-info"),
        html.Div(t["ed_tools"], className="og-panel-title"),
        html.P(t["ed_tools_hint"], className="og-hint"),
        html.Div(error or hint, id=ids.ED_MESSAGE, className="ed-message", role="status"),
        html.Div([_btn(t["ed_merge"], ids.ED_MERGE), _btn(t["ed_delete"], ids.ED_DELETE),
                  _btn(t["ed_reshape"], ids.ED_RESHAPE, title=t["ed_reshape_hint"]),
                  _btn(t["ed_clip"], ids.ED_CLIP, style={"display": "none"}),
                  _btn(t["ed_undo"], ids.ED_UNDO_BTN), _btn(t["ed_reload"], ids.ED_RELOAD)], className="ed-tools"),
        html.Div(t["ed_checks"], className="og-panel-title"),
        html.Ul(id=ids.ED_ISSUES, className="ed-issues"),
        _legend(t),
    ], className="og-panel og-left ed-left")


def _legend(t: dict) -> html.Div:
    keys = (("ed-key-communities", "ed_legend_communities"), ("ed-key-draft", "ed_legend_draft"), ("ed-key-problem", "ed_legend_problem"),
            ("ed-key-overlay", "ed_legend_overlay"), ("ed-key-moved", "ed_legend_moved"))
    return html.Div([html.Div([html.I(className=f"ed-key {c}"), t[k]]) for c, k in keys], className="ed-legend")


def _side(t: dict) -> html.Aside:
    return html.Aside([
        html.Div(t["ed_impact"], className="og-panel-title"),
        _btn(t["ed_impact_btn"], ids.ED_IMPACT_BTN),
        dcc.Loading(html.Div(id=ids.ED_IMPACT, className="ed-impact"), type="dot"),
        html.Div(t["ed_save_title"], className="og-panel-title"),
        dcc.Input(id=ids.ED_AUTHOR, placeholder=t["ed_author"], className="ed-input", maxLength=100),
        dcc.Input(id=ids.ED_REASON, placeholder=t["ed_reason"], className="ed-input", maxLength=1000),
        html.Label(t["ed_effective"], className="ed-label"),
        dcc.Input(id=ids.ED_EFFECTIVE, type="text", placeholder="YYYY-MM-DD HH:MM", className="ed-input"),
        _btn(t["ed_save"], ids.ED_SAVE),
        html.Div(id=ids.ED_SAVE_MSG, className="ed-message", role="status"),
        html.Div(t["ed_suggest"], className="og-panel-title"),
        _btn(t["ed_suggest_btn"], ids.ED_SUGGEST),
        html.Div([html.Div(id=ids.ED_PROGRESS, className="ed-progress-text"),
                  html.Progress(id=ids.ED_PROGRESS_BAR, max="100", value="0", className="ed-progress")]),
        _btn(t["ed_accept"], ids.ED_ACCEPT, style={"display": "none"}),
        html.Div(t["ed_history"], className="og-panel-title"),
        html.Div([dropdown(t, id=ids.ED_VERSION_A, placeholder=t["ed_version_a"], clearable=True),
                  dropdown(t, id=ids.ED_VERSION_B, placeholder=t["ed_version_b"], clearable=True)],
                 className="ed-versions-pick"),
        html.Div([_btn(t["ed_view"], ids.ED_VIEW), _btn(t["ed_diff"], ids.ED_DIFF),
                  _btn(t["ed_rollback"], ids.ED_ROLLBACK)], className="ed-tools"),
        html.Div(id=ids.ED_HISTORY, className="ed-history"),
        html.Div(id=ids.ED_VERSIONS, className="ed-history"),
    ], className="og-panel og-right ed-right")


def _header(t: dict, lang: str, theme: str) -> html.Header:
    other = "en" if lang == "zh" else "zh"
    return html.Header([
        html.Div([html.Div("网", className="og-logo"),
                  html.Div([html.Div(t["product"], className="og-product"),
                            html.Div(t["ed_title"], className="og-district")])], className="og-brand"),
        html.Div([html.A(t["ed_back"], href=f"/?lang={lang}&theme={theme}", className="og-btn"),
                  html.A(t["lang_switch"], href=f"/editor?lang={other}&theme={theme}", className="og-btn og-lang")],
                 className="og-header-tools"),
    ], className="og-header")


def layout(lang: str | None = None, theme: str | None = None, community: str | None = None, **_q) -> html.Div:
    """The editor; ``?community=CODE`` opens that community, ``?lang=en`` / ``?theme=light`` as elsewhere."""
    settings = get_settings()
    lang = normalize_lang(lang, settings.lang)
    theme = theme if theme in ("dark", "light") else settings.theme
    t = strings(lang)
    try:
        with pooled() as conn:
            options = build_community_options(conn)
            known = {o["value"] for o in options}
            # nothing chosen yet: draw the district's communities so a new user sees where they are
            outlines = EMPTY if community in known else build_community_outlines(conn)
        error = None
    except OneGridError as exc:
        log.warning("communities unavailable: %s", exc.message)
        options, error, known, outlines = [], f"{t['error_prefix']}{exc.message}", set(), EMPTY
    return html.Div([
        dcc.Store(id=ids.ED_STRINGS, data=t),
        dcc.Store(id=ids.ED_DRAFT), dcc.Store(id=ids.ED_UNDO, data=[]), dcc.Store(id=ids.ED_SELECTED, data=[]),
        dcc.Store(id=ids.ED_MODE, data={"mode": "draw"}), dcc.Store(id=ids.ED_SUGGESTION),
        dcc.Store(id=ids.ED_JOB), dcc.Interval(id=ids.ED_POLL, interval=700, disabled=True),
        _header(t, lang, theme),
        html.Main(html.Div([_tools(t, options, community if community in known else None, error), _map(outlines),
                            _side(t)], className="og-stage"), className="og-main"),
    ], id=ids.ED_ROOT, className=f"og-root og-theme-{theme} og-lang-{lang} ed-root",
        lang="zh-CN" if lang == "zh" else "en")
