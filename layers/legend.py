"""Legend panel content for the visible layers."""

from __future__ import annotations

from dash import html
from dash.development.base_component import Component


def _fmt(v: float) -> str:
    return f"{int(v):,}"


def grid_legend(legend: dict, t: dict) -> html.Div:
    """Class breaks of the grid choropleth: one swatch per class with its value range."""
    items, lower = [], legend["min"]
    unit = "%" if legend["metric"] == "overdue_rate" else ""
    for cls, upper in enumerate(legend["breaks"]):
        items.append(html.Div([html.Span(className=f"og-swatch og-grid-c{cls}"),
                               f"{_fmt(lower)} – {_fmt(upper)}{unit}"], className="og-legend-item"))
        lower = upper
    title = t[f"legend_grids_{legend['metric']}"]
    return html.Div([html.Div(title, className="og-legend-title"), *items], className="og-legend-block")


def address_legend(mode: str, resolution: int | None, t: dict) -> html.Div:
    """Address density ramp (cells) or the cluster symbol (points)."""
    if mode == "points":
        return html.Div([html.Div(t["legend_address_points"], className="og-legend-title"),
                         html.Div([html.Span(className="og-swatch og-swatch-point"), "1 …"], className="og-legend-item")],
                        className="og-legend-block")
    ramp = [html.Span(className=f"og-swatch og-cell-{i}") for i in range(5)]
    return html.Div([html.Div(f"{t['legend_addresses']} · {t['resolution']} {resolution}", className="og-legend-title"),
                     html.Div([t["legend_low"], *ramp, t["legend_high"]], className="og-legend-item og-ramp")],
                    className="og-legend-block")


#: Case states in legend order (colours: CSS ``og-case-<state>``).
CASE_STATES = ("reported", "registered", "dispatched", "handling", "fed_back", "returned",
               "closed", "evaluated", "rejected", "duplicate")


def case_legend(t: dict) -> html.Div:
    """Case points by state, the overdue ring and the cluster symbol."""
    items = [html.Div([html.Span(className=f"og-swatch og-swatch-point og-case-{s}"), t[f"state_{s}"]],
                      className="og-legend-item") for s in CASE_STATES]
    items.append(html.Div([html.Span(className="og-swatch og-swatch-point og-swatch-overdue"), t["overdue_flag"]],
                          className="og-legend-item"))
    items.append(html.Div([html.Span(className="og-swatch og-swatch-cluster"), t["legend_case_cluster"]],
                          className="og-legend-item"))
    return html.Div([html.Div(t["legend_cases"], className="og-legend-title"),
                     html.Div(items, className="og-legend-grid")], className="og-legend-block")


def plain(component):
    """A Dash component tree as the plain JSON dicts Dash sends for it.

    Why: Dash serialises a callback's response with orjson, but one component object anywhere in
    it makes it fall back to walking the whole response in Python — 100+ ms for the ~1,500
    hexagons sent next to the legend. The browser receives the same JSON either way.
    """
    if isinstance(component, Component):
        out = component.to_plotly_json()
        return {**out, "props": {k: plain(v) for k, v in out["props"].items()}}
    if isinstance(component, list | tuple):
        return [plain(c) for c in component]
    return component
