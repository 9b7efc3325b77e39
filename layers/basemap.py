"""Base map drawn from the data itself (offline): district fill and roads by kind.

An optional XYZ tile layer is added when ``ONEGRID_BASEMAP_URL`` is set; nothing else is
ever loaded from the network.
"""

from __future__ import annotations

import dash_leaflet as dl

from geodata import maps
from geodata.settings import get_settings
from layers.view import View


def build_roads(conn, view: View, cap: int) -> dict:
    """Road centre lines in the viewport as GeoJSON (lon/lat), kinds and detail by zoom.

    Each feature carries ``kind`` (styled by CSS class ``og-road-<kind>`` per theme).
    """
    return maps.fetch_roads(conn, view.bbox, view.zoom, cap)


def build_district(conn, view: View) -> dict:
    """District polygon(s) in the viewport (base-map land fill), simplified by zoom."""
    return maps.fetch_admin_areas(conn, view.bbox, view.zoom, "district", 50)


def build_tile_layer() -> list:
    """The configured XYZ tile layer (``ONEGRID_BASEMAP_URL``), or nothing when unset."""
    settings = get_settings()
    if not settings.basemap_url:
        return []
    return [dl.TileLayer(url=settings.basemap_url, attribution=settings.basemap_attribution or None,
                         maxZoom=20, className="og-tiles")]
