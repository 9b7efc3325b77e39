"""The case parts of the command map page: live layer, filter bar, KPI strip, case table,
ranking and trend column, case drawer and report-from-map panel.

Only empty containers and small option lists are in the layout; cases, indicators and the
chart load through callbacks once the map reports its viewport.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dash_table, dcc, html
from dash_extensions.javascript import Namespace

from app import ids
from geodata.cases import CHANNELS, FINAL_STATES, OPEN_STATES
from layers.cases import DEFAULT_WINDOW, WINDOWS
from layers.widgets import dropdown

ns = Namespace("onegrid", "cases")
TABLE_PAGE_SIZE = 10


def case_layer() -> dl.GeoJSON:
    """The live case points, clustered below street zoom (clusters show count and overdue share)."""
    return dl.GeoJSON(id=ids.CASES, data={"type": "FeatureCollection", "features": []}, cluster=True,
                      zoomToBoundsOnClick=True, pointToLayer=ns("casePoint"), clusterToLayer=ns("caseCluster"),
                      onEachFeature=ns("caseTooltip"), hideout={"selected": None},
                      superClusterOptions={"radius": 60, "maxZoom": 15})


def stores() -> list:
    return [dcc.Store(id=ids.CASE_FILTER, data={"window": DEFAULT_WINDOW}), dcc.Store(id=ids.LIVE),
            dcc.Store(id=ids.DELTA), dcc.Store(id=ids.DRAWER_CASE), dcc.Store(id=ids.SELECTED_CASE),
            dcc.Store(id=ids.REPORT_MODE, data=False), dcc.Store(id=ids.REPORT_POINT),
            dcc.Interval(id=ids.LIVE_TICK, interval=1000), dcc.Interval(id=ids.STATS_TICK, interval=15000)]


def _dropdown(t, id_, options, placeholder) -> dcc.Dropdown:
    return dropdown(t, id=id_, options=options, multi=True, placeholder=placeholder, className="og-filter",
                    maxHeight=360)


def _filters(t: dict, choices: dict) -> html.Div:
    return html.Div([
        _dropdown(t, ids.F_STATES, [{"label": t[f"state_{s}"], "value": s} for s in OPEN_STATES + FINAL_STATES], t["filter_states"]),
        _dropdown(t, ids.F_CATEGORIES, choices["categories"], t["filter_categories"]),
        _dropdown(t, ids.F_CHANNELS, [{"label": t[f"channel_{c}"], "value": c} for c in CHANNELS], t["filter_channels"]),
        _dropdown(t, ids.F_STREETS, choices["streets"], t["filter_streets"]),
        dcc.RadioItems(id=ids.F_WINDOW, value=DEFAULT_WINDOW, inline=True, className="og-radio og-window",
                       options=[{"label": t[f"window_{w}"], "value": w} for w in WINDOWS]),
    ], className="og-filters")


def _table(t: dict) -> dash_table.DataTable:
    cols = [("code", "col_code"), ("category", "col_category"), ("state", "col_state"), ("street", "col_street"),
            ("channel", "col_channel"), ("reported", "col_reported"), ("overdue", "col_overdue")]
    return dash_table.DataTable(
        id=ids.CASE_TABLE, data=[], columns=[{"name": t[k], "id": c} for c, k in cols],
        sort_action="native", filter_action="native", page_action="native", page_size=TABLE_PAGE_SIZE,
        row_selectable=False, cell_selectable=True, style_as_list_view=True,
        style_table={"overflowX": "hidden"}, css=[{"selector": ".dash-spreadsheet-menu", "rule": "display:none"},
             # Filtering is always case-insensitive; the toggle's tooltip is DataTable's own English.
             {"selector": ".dash-filter--case", "rule": "display:none"}],
        style_cell={"textAlign": "left", "padding": "3px 6px", "fontSize": "12px", "maxWidth": "130px",
                    "overflow": "hidden", "textOverflow": "ellipsis", "whiteSpace": "nowrap"},
        style_data_conditional=[{"if": {"filter_query": "{o} = 1"}, "className": "og-row-overdue",
                                 "color": "#ff6b6b"}],
        filter_options={"case": "insensitive", "placeholder_text": "…"},
    )


def _ranking(t: dict) -> dash_table.DataTable:
    cols = [("rank", "col_rank"), ("name", "col_name"), ("new", "col_new"), ("open", "col_open"),
            ("overdue", "col_overdue_n"), ("closure_rate", "kpi_closure_rate"), ("on_time_rate", "kpi_on_time_rate")]
    return dash_table.DataTable(id=ids.RANKING, data=[], columns=[{"name": t[k], "id": c} for c, k in cols],
                                sort_action="native", page_action="none", fixed_rows={"headers": True},
                                style_as_list_view=True, style_table={"height": "150px", "overflowY": "auto"},
                                style_cell={"textAlign": "left", "padding": "2px 6px", "fontSize": "12px",
                                            "maxWidth": "120px", "overflow": "hidden", "textOverflow": "ellipsis"})


def case_column(t: dict, choices: dict) -> html.Aside:
    """The right-hand column: operator, filters, KPI strip, case table, trend and ranking."""
    return html.Aside([
        html.Div([html.Span(t["cases_title"], className="og-panel-title"),
                  html.Span(id=ids.CASE_COUNT, className="og-k og-case-count"),
                  dcc.Input(id=ids.ACTOR, type="text", placeholder=f"{t['actor']} · {t['actor_hint']}",
                            className="og-input og-actor", persistence=True, debounce=False)],
                 className="og-cases-head"),
        _filters(t, choices),
        html.Div(id=ids.KPIS, className="og-kpis"),
        html.Div(_table(t), className="og-case-table"),
        dcc.Graph(id=ids.TREND, config={"displayModeBar": False, "responsive": True}, className="og-trend",
                  figure={"data": [], "layout": {"height": 170, "paper_bgcolor": "rgba(0,0,0,0)",
                                                 "plot_bgcolor": "rgba(0,0,0,0)"}}),
        html.Div([html.Span(t["rank_by"], className="og-panel-title"),
                  dcc.RadioItems(id=ids.RANKING_BY, value="street", inline=True, className="og-radio",
                                 options=[{"label": t[f"rank_{b}"], "value": b}
                                          for b in ("street", "community", "department")])],
                 className="og-rank-head"),
        _ranking(t),
    ], className="og-cases")


def drawer(t: dict) -> html.Aside:
    return html.Aside([
        html.Div([html.Span(t["case_drawer"], className="og-panel-title"),
                  html.Button("×", id=ids.DRAWER_CLOSE, n_clicks=0, className="og-close", title=t["close"])],
                 className="og-detail-head"),
        html.Div(id=ids.DRAWER_BODY),
    ], id=ids.DRAWER, className="og-panel og-right og-drawer og-hidden")


def report_panel(t: dict, choices: dict) -> html.Aside:
    return html.Aside([
        html.Div([html.Span(t["report_title"], className="og-panel-title"),
                  html.Button("×", id=ids.REPORT_CLOSE, n_clicks=0, className="og-close", title=t["close"])],
                 className="og-detail-head"),
        html.Div([html.Label(t["report_where"], className="og-k"),
                  html.Div(t["report_pick"], id=ids.REPORT_WHERE, className="og-v og-where")], className="og-field"),
        html.Div([html.Label(t["report_category"], className="og-k"),
                  dropdown(t, id=ids.REPORT_CATEGORY, options=choices["categories"], className="og-input",
                           maxHeight=300)], className="og-field"),
        html.Div(id=ids.REPORT_ATTRS),
        html.Div([html.Label(t["report_desc"], className="og-k"),
                  dcc.Textarea(id=ids.REPORT_DESC, placeholder=t["report_desc_hint"], className="og-input og-textarea",
                               maxLength=4000)], className="og-field"),
        html.Button(t["report_submit"], id=ids.REPORT_SUBMIT, n_clicks=0, className="og-act og-act-register"),
    ], id=ids.REPORT_PANEL, className="og-panel og-right og-report og-hidden")


def report_toggle(t: dict) -> html.Button:
    return html.Button(t["report_mode"], id=ids.REPORT_TOGGLE, n_clicks=0, className="og-report-toggle")
