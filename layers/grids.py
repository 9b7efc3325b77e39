"""Grid choropleth: households or address count per grid, classed colours and a legend."""

from __future__ import annotations

import numpy as np

from geodata import maps
from geodata.errors import InvalidInput
from layers.view import View

METRICS = ("households", "addresses")
#: Sequential palette (ColorBrewer YlGnBu, reversed: few = deep blue, many = pale yellow),
#: readable on the dark and the light theme.
PALETTE = ("#253494", "#2c7fb8", "#41b6c4", "#7fcdbb", "#c7e9b4", "#ffffcc")
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


def build_grids(conn, view: View, metric: str, cap: int) -> tuple[dict, dict]:
    """Grids in the viewport as GeoJSON with a ``cls`` class index by ``metric``, and the legend.

    Returns ``(feature_collection, legend)`` with legend ``{metric, breaks, colors, min}``;
    breaks are district-wide so colours do not shift while panning.
    """
    if metric not in METRICS:
        raise InvalidInput(f"grid metric must be one of {METRICS}, got {metric!r}")
    values = maps.fetch_grid_values(conn)[metric]
    breaks = class_breaks(values)
    colors = list(PALETTE[-len(breaks):]) if breaks else []
    fc = maps.fetch_grids(conn, view.bbox, view.zoom, cap)
    for f in fc["features"]:
        p = f["properties"]
        p["value"] = p[metric]
        p["cls"] = class_of(p[metric], breaks)
        p["color"] = colors[p["cls"]] if colors else PALETTE[0]
    legend = {"metric": metric, "breaks": breaks, "colors": colors, "min": min(values) if values else 0}
    return fc, legend
