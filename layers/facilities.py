"""Facilities by kind: coloured glyph markers (kind colour and glyph from ``facility_kind``)."""

from __future__ import annotations

from geodata import maps
from layers.view import View


def kind_name(kind: dict, lang: str) -> str:
    """A facility kind's display name in ``lang`` (``zh`` or ``en``)."""
    return kind["name_en"] if lang == "en" else kind["name_zh"]


def build_kinds(conn, lang: str) -> list[dict]:
    """Facility kinds for the filter and legend: ``code, name, color, glyph, n`` in legend order."""
    return [{"code": k["code"], "name": kind_name(k, lang), "color": k["color"], "glyph": k["glyph"], "n": k["n"]}
            for k in maps.fetch_facility_kinds(conn)]


#: Below this zoom facilities are plain dots without names (payload and legibility).
GLYPH_ZOOM = 15


def kind_styles(kinds: list[dict]) -> dict:
    """``{code: {color, glyph, name}}`` for the map's JS (sent once with the page, not per feature)."""
    return {k["code"]: {"color": k["color"], "glyph": k["glyph"], "name": k["name"]} for k in kinds}


def default_kinds(kinds: list[dict], cap: int) -> list[str]:
    """Kinds shown at first: every kind present, except very dense ones (more than a fifth of
    ``cap`` facilities, e.g. video points) that would bury the rest at district zoom."""
    return [k["code"] for k in kinds if 0 < k["n"] <= cap // 5]


def build_facilities(conn, view: View, kinds: list[str] | None, lang: str, cap: int) -> dict:
    """Facilities in the viewport (only ``kinds`` when given) as GeoJSON points (lon/lat).

    Properties: ``id``, ``k`` (kind code; colour/glyph come from :func:`kind_styles`), ``s``
    (small: a dot when zoomed out) and, from ``GLYPH_ZOOM`` on, ``n`` (the name).
    """
    rows, truncated = maps.fetch_facilities(conn, view.bbox, cap, kinds, view.zoom)
    small = view.zoom < GLYPH_ZOOM
    features = []
    for r in rows:
        props = {"id": r["id"], "k": r["kind"], "s": small}
        if not small:
            props["n"] = r["name"]
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
                         "properties": props})
    return {"type": "FeatureCollection", "features": features, "truncated": truncated}
