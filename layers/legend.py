"""Legend panel content for the visible layers."""

from __future__ import annotations

from dash import html


def _fmt(v: float) -> str:
    return f"{int(v):,}"


def grid_legend(legend: dict, t: dict) -> html.Div:
    """Class breaks of the grid choropleth: one swatch per class with its value range."""
    items, lower = [], legend["min"]
    for cls, upper in enumerate(legend["breaks"]):
        items.append(html.Div([html.Span(className=f"og-swatch og-grid-c{cls}"),
                               f"{_fmt(lower)} – {_fmt(upper)}"], className="og-legend-item"))
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
