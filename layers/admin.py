"""District, street/town and community outlines with labels.

Labels follow zoom: street names when zoomed out, community names when zoomed in (a
``label`` property the JS binds as a permanent tooltip).
"""

from __future__ import annotations

from geodata import maps
from layers.view import View

#: From this zoom on, communities are labelled instead of streets.
COMMUNITY_LABEL_ZOOM = 14
#: Below this zoom communities are not drawn (hundreds of tiny outlines are noise).
COMMUNITY_MIN_ZOOM = 11


def build_outlines(conn, view: View, cap: int) -> dict[str, dict]:
    """Outlines in the viewport per level (``district``, ``street``, ``community``) as GeoJSON.

    Features carry ``code``, ``name``, ``level`` and ``label`` (the name, or None when that
    level is not labelled at this zoom).
    """
    out = {}
    for level in maps.ADMIN_LEVELS:
        if level == "community" and view.zoom < COMMUNITY_MIN_ZOOM:
            out[level] = {"type": "FeatureCollection", "features": [], "truncated": False}
            continue
        fc = maps.fetch_admin_areas(conn, view.bbox, view.zoom, level, cap)
        labelled = (level == "street" and view.zoom < COMMUNITY_LABEL_ZOOM) or (
            level == "community" and view.zoom >= COMMUNITY_LABEL_ZOOM)
        for f in fc["features"]:
            f["properties"]["label"] = f["properties"]["name"] if labelled else None
        out[level] = fc
    return out
