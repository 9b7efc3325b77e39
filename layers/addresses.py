"""Address layer: H3 cells (resolution by zoom) when zoomed out, clustered points at street zoom.

The browser never receives the whole table: every request is bounded by the viewport and
capped; raw points above the cap fall back to the finest cells, and cells above the cell cap
fall back to the next coarser resolution.
"""

from __future__ import annotations

import math
from functools import lru_cache

import h3

from geodata import maps
from layers.display import lonlat_to_display
from layers.view import View

#: Cells per response at most: ~230 bytes each keeps the layer well under 1 MB.
CELL_CAP = 3000
#: Zoom from which raw points are sent instead of cells.
POINTS_ZOOM = 16


def resolution_for_zoom(zoom: float) -> int | None:
    """H3 resolution of the address cells at ``zoom``: ≤10→7, 11→8, 12–13→9, 14–15→10, ≥16→None (points)."""
    z = math.floor(zoom)
    if z <= 10:
        return 7
    if z == 11:
        return 8
    if z <= 13:
        return 9
    if z <= 15:
        return 10
    return None


@lru_cache(maxsize=200_000)
def _hexagon(cell: int, digits: int) -> tuple[tuple[float, float], ...]:
    """Closed lon/lat ring of an H3 cell, rounded (h3 answers lat/lng; swapped here).

    Plain h3 + round instead of :func:`geodata.geometry.h3_cell_polygon`: thousands of cells
    per request, and building shapely polygons only to read their coordinates back doubles
    the layer's time. A cell's ring never changes, so each process keeps the rings it has
    built (a district has ~25,000 cells at resolutions 7–10: a few MB); tuples, so no caller
    can alter a cached ring.
    """
    ring = tuple((round(lng, digits), round(lat, digits)) for lat, lng in h3.api.basic_int.cell_to_boundary(cell))
    return ring + ring[:1]


def _cell_features(cells: list[tuple[int, int]], digits: int) -> list[dict]:
    top = max((n for _, n in cells), default=1)
    features = []
    for cell, n in cells:
        ring = _hexagon(int(cell), digits)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            # "level" 0..4 on a log scale of the densest visible cell: colour without a legend lookup.
            "properties": {"n": n, "cell": h3.int_to_str(cell), "level": min(4, int(4 * math.log1p(n) / math.log1p(top)))},
        })
    return features


def build_cells(conn, view: View, resolution: int, cap: int) -> dict:
    """Address counts per H3 cell in the viewport as hexagon polygons (lon/lat GeoJSON).

    Starts at ``resolution``; more than ``cap`` (at most ``CELL_CAP``) cells → coarser cells,
    down to resolution 7, where still too many keep the densest (``truncated``).
    """
    cells, truncated, res = maps.fetch_address_cells(conn, view.bbox, resolution, min(cap, CELL_CAP))
    features = _cell_features(cells, maps.coordinate_digits(view.zoom))
    return {"type": "FeatureCollection", "features": features, "truncated": truncated,
            "mode": "cells", "resolution": res}


def build_addresses(conn, view: View, cap: int) -> dict:
    """The address layer for a viewport: cells below ``POINTS_ZOOM``, else points (clustered in
    the browser) unless more than ``cap`` fall in view, then r10 cells.

    Returns GeoJSON with extra keys ``mode`` (``cells``/``points``), ``resolution`` and
    ``truncated``.
    """
    res = resolution_for_zoom(view.zoom)
    if res is not None:
        return build_cells(conn, view, res, cap)
    # Text stays in the database: a click opens the address in the side panel (payload < 1 MB).
    rows, truncated = maps.fetch_address_points(conn, view.bbox, cap)
    if truncated:
        return build_cells(conn, view, 10, cap)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                 "properties": {"id": r["id"]}} for r in rows]
    return {"type": "FeatureCollection", "features": features, "truncated": False,
            "mode": "points", "resolution": None}


def zoom_into_cell(feature: dict | None, zoom) -> dict | None:
    """dash-leaflet ``viewport`` zooming two levels into a clicked address cell (its centre),
    or None when ``feature`` is not a cell."""
    props = (feature or {}).get("properties") or {}
    if "cell" not in props:
        return None
    try:
        lat, lng = h3.cell_to_latlng(props["cell"])
    except (ValueError, TypeError, h3.H3BaseException):
        return None
    z = min(19, int(math.floor(float(zoom or 12))) + 2)
    lon, lat = lonlat_to_display(lng, lat)
    return {"center": [lat, lon], "zoom": z, "transition": "flyTo"}
