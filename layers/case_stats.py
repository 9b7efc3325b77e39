"""Case indicators for the command map: KPI strip, ranking table and the 30-day trend chart.

Definitions are those of :mod:`geodata.cases.kpi` (norms.md): 结案率 = closed / due and
按期结案率 = closed on time / due, over deadlines falling in the filter's window.
"""

from __future__ import annotations

import plotly.graph_objects as go
from dash import html

from geodata import cases as gc

RANK_BY = ("street", "community", "department")
#: Trend colours per theme (plotly draws into SVG with fixed colours, so the page picks one).
_THEME = {
    "dark": {"text": "#dbe7f7", "grid": "rgba(120,160,210,0.18)", "new": "#39c5ff", "closed": "#7cf3d1",
             "overdue": "#ff5c5c"},
    "light": {"text": "#1b2a3d", "grid": "rgba(30,50,80,0.12)", "new": "#0b6bcb", "closed": "#0a8f6b",
              "overdue": "#d32f2f"},
}


def _pct(rate) -> str:
    return "—" if rate is None else f"{100 * rate:.1f}%"


def build_kpis(conn, flt: gc.CaseFilter, t: dict) -> list:
    """The KPI strip: 今日新增, 在办, 超期, 结案率, 按期结案率 for ``flt`` (its window = the
    indicators' window, see :func:`geodata.cases.fetch_kpis`)."""
    k = gc.fetch_kpis(conn, flt)
    items = [("kpi_new_today", f"{k['new_today']:,}", ""), ("kpi_open", f"{k['open']:,}", ""),
             ("kpi_overdue", f"{k['overdue']:,}", " og-kpi-bad" if k["overdue"] else ""),
             ("kpi_closure_rate", _pct(k["closure_rate"]), ""), ("kpi_on_time_rate", _pct(k["on_time_rate"]), "")]
    return [html.Div([html.Div(value, className="og-kpi-value" + extra), html.Div(t[key], className="og-kpi-label")],
                     className="og-kpi", title=f"{t['kpi_due']} {k['due']} · {t['kpi_closed']} {k['closed']}")
            for key, value, extra in items]


def build_ranking(conn, by: str, flt: gc.CaseFilter, t: dict) -> list[dict]:
    """Ranking rows (best 按期结案率 first) for the ranking table: name, counts and rates as text."""
    rows = gc.fetch_ranking(conn, by, flt, limit=50)
    return [{"rank": i + 1, "name": r["name"] or r["code"], "new": r["new"], "open": r["open"],
             "overdue": r["overdue"], "closure_rate": _pct(r["closure_rate"]), "on_time_rate": _pct(r["on_time_rate"])}
            for i, r in enumerate(rows)]


def build_trend(conn, flt: gc.CaseFilter, t: dict, theme: str = "dark", days: int = 30) -> go.Figure:
    """30-day line chart: new, closed and open-overdue cases per local day (labels in ``t``)."""
    rows = gc.fetch_trend(conn, flt, days=days)
    c = _THEME.get(theme, _THEME["dark"])
    x = [r["day"].strftime("%m-%d") for r in rows]
    fig = go.Figure()
    for key, colour, dash in (("new", c["new"], None), ("closed", c["closed"], None),
                              ("overdue_open", c["overdue"], "dot")):
        fig.add_trace(go.Scatter(x=x, y=[r[key] for r in rows], name=t[f"trend_{key}"], mode="lines",
                                 line={"color": colour, "width": 2, "dash": dash}))
    fig.update_layout(
        margin={"l": 36, "r": 8, "t": 26, "b": 24}, height=170, paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)", font={"color": c["text"], "size": 11, "family": "Noto Sans CJK SC, sans-serif"},
        title={"text": t["trend_title"], "font": {"size": 12}, "x": 0.01, "y": 0.97},
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.18, "font": {"size": 11}},
        xaxis={"gridcolor": c["grid"], "tickfont": {"size": 10}, "type": "category", "nticks": 8},
        yaxis={"gridcolor": c["grid"], "rangemode": "tozero", "tickfont": {"size": 10}},
        hovermode="x unified",
    )
    return fig
