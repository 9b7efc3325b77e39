"""The base map's datum at the browser edge: WGS-84 (stored) ↔ GCJ-02 (Chinese web tiles).

With ``ONEGRID_BASEMAP_CRS=gcj02`` everything sent to the map is shifted to GCJ-02 and map
bounds coming back are shifted to WGS-84, so features sit on the tiles' streets; with
``wgs84`` (default) these functions return their input unchanged. Coordinates are (lon, lat)
degrees except where Leaflet's (lat, lng) order is named.
"""

from __future__ import annotations

import numpy as np

from geodata.datum import gcj02_to_wgs84, wgs84_to_gcj02
from geodata.settings import get_settings


def shifted() -> bool:
    """True when the base map is GCJ-02, so map coordinates differ from stored ones."""
    return get_settings().basemap_crs == "gcj02"


def _is_position(value) -> bool:
    return isinstance(value, list | tuple) and len(value) >= 2 and isinstance(value[0], int | float)


def _shift(coords, digits: int):
    """Nested GeoJSON coordinate lists → the same nesting in GCJ-02, rounded to ``digits``."""
    if _is_position(coords):
        lon, lat = wgs84_to_gcj02(coords[0], coords[1])
        return [round(float(lon), digits), round(float(lat), digits)]
    if coords and _is_position(coords[0]):  # a ring or line: shift all its positions at once
        arr = np.asarray([c[:2] for c in coords], dtype=float)
        lon, lat = wgs84_to_gcj02(arr[:, 0], arr[:, 1])
        return np.column_stack([lon, lat]).round(digits).tolist()
    return [_shift(part, digits) for part in coords]


def collection_to_display(fc: dict, digits: int = 6) -> dict:
    """A GeoJSON FeatureCollection (WGS-84) as the map draws it (GCJ-02 when configured)."""
    if not shifted():
        return fc
    for feature in fc.get("features", []):
        geom = feature.get("geometry")
        if geom and geom.get("coordinates") is not None:
            geom["coordinates"] = _shift(geom["coordinates"], digits)
    return fc


def lonlat_to_display(lon: float, lat: float) -> tuple[float, float]:
    """One stored (lon, lat) as the map shows it."""
    if not shifted():
        return lon, lat
    x, y = wgs84_to_gcj02(lon, lat)
    return float(x), float(y)


def bounds_from_display(bounds):
    """Leaflet bounds ``[[south, west], [north, east]]`` from the map → the same in WGS-84.

    Malformed bounds pass through untouched (the bbox parser reports them).
    """
    if not shifted():
        return bounds
    try:
        (south, west), (north, east) = bounds
        lons, lats = gcj02_to_wgs84([float(west), float(east)], [float(south), float(north)])
    except (TypeError, ValueError):
        return bounds
    return [[float(lats[0]), float(lons[0])], [float(lats[1]), float(lons[1])]]
