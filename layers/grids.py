"""Grid choropleth: households or address count per grid, classed colours and a legend."""

from __future__ import annotations

import numpy as np

from geodata import cases as gc
from geodata import maps
from geodata.errors import InvalidInput
from layers.view import View

METRICS = maps.GRID_METRICS
#: Case metrics (need the case filter): cases reported in the window, overdue share of open cases (%).
CASE_METRICS = ("cases", "overdue_rate")
#: Number of colour classes; the colours themselves are per theme in assets/onegrid.css
#: (``og-grid-c0`` … ``og-grid-c4``), so the theme switch needs no new data.
N_CLASSES = 5


def class_breaks(values, n_classes: int = N_CLASSES) -> list[float]:
    """Upper bounds of ``n_classes`` quantile classes (distinct, ascending), whole numbers.

    Quantiles give every colour about the same number of grids; equal values collapse, so
    fewer classes come back when the data has few distinct values.
    """
    arr = np.asarray(list(values), dtype=float)
    if arr.size == 0:
        return []
    qs = np.quantile(arr, np.linspace(0, 1, n_classes + 1)[1:], method="lower")  # breaks are data values
    return sorted({float(round(q)) for q in qs})


def class_of(value: float, breaks: list[float]) -> int:
    """Index of the class whose upper bound is the first ≥ ``value``."""
    return int(np.searchsorted(np.asarray(breaks), value, side="left")) if breaks else 0


def build_grids(conn, view: View, metric: str, cap: int, case_filter=None) -> tuple[dict, dict]:
    """Grids in the viewport as GeoJSON with a ``cls`` class index by ``metric``, and the legend.

    Returns ``(feature_collection, legend)`` with legend ``{metric, breaks, min}`` (class ``i``
    holds values up to ``breaks[i]``); breaks are district-wide so colours do not shift while panning.
    """
    if metric in CASE_METRICS:
        return build_case_grids(conn, view, metric, cap, case_filter)
    if metric not in METRICS:
        raise InvalidInput(f"grid metric must be one of {METRICS + CASE_METRICS}, got {metric!r}")
    values = maps.fetch_grid_values(conn, metric)
    breaks = class_breaks(values)
    fc = maps.fetch_grids(conn, view.bbox, view.zoom, cap)
    for f in fc["features"]:
        p = f["properties"]
        # Only what the map shows travels (payload): the other counts are in the side panel.
        counts = {"households": p.pop("households"), "addresses": p.pop("addresses")}
        value = counts[metric]
        p["value"] = value
        p["cls"] = class_of(value, breaks)
    legend = {"metric": metric, "breaks": breaks, "min": min(values) if values else 0}
    return fc, legend


def case_grid_value(stats: dict | None, metric: str) -> int:
    """A grid's case metric: ``cases`` = count, ``overdue_rate`` = overdue / open in whole percent."""
    if not stats:
        return 0
    if metric == "cases":
        return int(stats["count"])
    return int(round(100 * (stats["overdue_rate"] or 0)))


def build_case_grids(conn, view: View, metric: str, cap: int, case_filter=None) -> tuple[dict, dict]:
    """Grid choropleth of cases matching ``case_filter`` (a CaseFilter): count or overdue rate.

    Breaks come from every grid with cases (district-wide, so colours hold while panning);
    grids without cases are class 0. Same return shape as :func:`build_grids`.
    """
    stats = gc.fetch_grid_case_stats(conn, case_filter)
    values = [case_grid_value(s, metric) for s in stats.values()] + [0]
    breaks = class_breaks(values)
    fc = maps.fetch_grids(conn, view.bbox, view.zoom, cap)
    for f in fc["features"]:
        p = f["properties"]
        p.pop("households", None)
        p.pop("addresses", None)
        value = case_grid_value(stats.get(p["code"]), metric)
        p["value"] = f"{value}%" if metric == "overdue_rate" else value
        p["cls"] = class_of(value, breaks)
    return fc, {"metric": metric, "breaks": breaks, "min": 0}
