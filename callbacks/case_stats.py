"""KPI strip, ranking and 30-day trend for the current case filter (refreshed every 15 s)."""

from __future__ import annotations

import dash
from dash import Input, Output, State, no_update

from callbacks.errors import error_toast
from geodata.db import pooled
from layers.case_stats import build_kpis, build_ranking, build_trend
from layers.cases import parse_filter


def update_stats(filter_values, by, n_intervals, root_class, t) -> tuple:
    """Plain function behind the callback: (KPI children, ranking rows, trend figure, toast)."""
    theme = "light" if "og-theme-light" in (root_class or "") else "dark"
    try:
        flt = parse_filter(filter_values)
        with pooled() as conn:
            kpis = build_kpis(conn, flt, t)
            ranking = build_ranking(conn, by or "street", flt, t)
            trend = build_trend(conn, flt, t, theme)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, no_update, no_update, error_toast(exc, t)
    return kpis, ranking, trend, no_update


def register(ids) -> None:
    dash.callback(
        Output(ids.KPIS, "children"), Output(ids.RANKING, "data"), Output(ids.TREND, "figure"),
        Output(ids.TOAST, "children", allow_duplicate=True),
        Input(ids.CASE_FILTER, "data"), Input(ids.RANKING_BY, "value"), Input(ids.STATS_TICK, "n_intervals"),
        Input(ids.ROOT, "className"), State(ids.STRINGS, "data"),
        prevent_initial_call="initial_duplicate",
    )(update_stats)
