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


def build_facilities(conn, view: View, kinds: list[str] | None, lang: str, cap: int) -> dict:
    """Facilities in the viewport (only ``kinds`` when given) as GeoJSON points (lon/lat).

    Properties: ``id``, ``name``, ``kind``, ``kind_name``, ``color``, ``glyph``, ``tooltip`` and
    ``small`` (true when zoomed out: dots instead of glyph badges).
    """
    rows, truncated = maps.fetch_facilities(conn, view.bbox, cap, kinds)
    small = view.zoom < 13
    features = []
    for r in rows:
        kname = kind_name(r, lang)
        features.append({
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r["lon"], r["lat"]]},
            "properties": {"id": r["id"], "name": r["name"], "kind": r["kind"], "kind_name": kname,
                           "color": r["color"], "glyph": r["glyph"], "small": small,
                           "tooltip": f"{r['name']} · {kname}"},
        })
    return {"type": "FeatureCollection", "features": features, "truncated": truncated}
