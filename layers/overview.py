"""What the page needs before any viewport: where the district is, its name, facility kinds."""

from __future__ import annotations

from geodata import maps
from geodata.db import pooled
from geodata.settings import get_settings
from layers.display import lonlat_to_display
from layers.facilities import build_kinds, default_kinds, kind_styles


def build_overview(lang: str) -> dict:
    """``bounds`` (Leaflet [[south, west], [north, east]] of the data, or None when empty),
    ``district_name``, ``kinds`` (see :func:`layers.facilities.build_kinds`), ``default_kinds``
    (checked at first), ``kind_styles`` (colour/glyph/name per kind for the map's JS) and
    ``summary`` (district totals, see :func:`geodata.maps.fetch_summary`)."""
    with pooled() as conn:
        extent = maps.fetch_extent(conn)
        kinds = build_kinds(conn, lang)
        summary = maps.fetch_summary(conn)
    bounds = None
    if extent.bbox is not None:
        (west, south), (east, north) = (lonlat_to_display(extent.bbox.minlon, extent.bbox.minlat),
                                        lonlat_to_display(extent.bbox.maxlon, extent.bbox.maxlat))
        bounds = [[south, west], [north, east]]
    return {"bounds": bounds, "district_name": extent.district_name, "kinds": kinds,
            "default_kinds": default_kinds(kinds, get_settings().max_features), "kind_styles": kind_styles(kinds), "summary": summary}
