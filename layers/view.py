"""The map viewport as the layers see it: a validated lon/lat box and a zoom level."""

from __future__ import annotations

import math
from dataclasses import dataclass

from geodata.geometry import BBox
from geodata.maps import clamp_zoom, view_bbox

#: Assumed map width in pixels when Leaflet has not reported a zoom yet (wall screen).
_ASSUMED_MAP_PX = 1600


@dataclass(frozen=True)
class View:
    """What the browser shows: ``bbox`` in EPSG:4326 (lon, lat degrees) and Leaflet ``zoom``."""

    bbox: BBox
    zoom: float


def parse_view(bounds, zoom, extent: BBox | None = None) -> View:
    """Build a :class:`View` from dash-leaflet's ``bounds`` ([[south, west], [north, east]],
    lat/lng order) and ``zoom``; a missing zoom is estimated from the box width.

    Raises InvalidBBox / InvalidInput on nonsense; huge boxes are clamped (see
    :func:`geodata.maps.view_bbox`).
    """
    bbox = view_bbox(bounds, extent)
    if zoom is None:
        span = max(bbox.maxlon - bbox.minlon, 1e-9)
        zoom = math.log2(360 * _ASSUMED_MAP_PX / 256 / span)
    return View(bbox, clamp_zoom(zoom))
