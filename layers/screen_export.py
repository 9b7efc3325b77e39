"""Download URLs for the command map's export panel, from what the map shows right now.

The snapshot URL carries the extent (the map's bounds, back in WGS-84 lon/lat when the base map
is GCJ-02), the visible layers, grid metric, facility kinds, case filter, language and theme,
as a :class:`layers.screen_spec.SnapshotSpec`; the data URL the same extent and case filter.
"""

from __future__ import annotations

from urllib.parse import urlencode

from geodata.errors import InvalidInput
from geodata.geometry import bbox_from_leaflet
from layers.display import bounds_from_display
from layers.screen_spec import LAYERS_ALL, SnapshotSpec, parse_spec


def _bbox_text(bounds) -> str | None:
    if not bounds:
        return None
    box = bbox_from_leaflet(bounds_from_display(bounds))
    return ",".join(f"{v:.6f}" for v in box.as_tuple())


def _data_extent(extent: str, bbox: str | None, street: str | None) -> dict:
    if extent == "street":
        if not street:
            raise InvalidInput("pick the street/town to export")
        return {"street": street}
    if extent == "district":
        return {}
    if extent != "view":
        raise InvalidInput(f"export extent must be view, street or district, got {extent!r}")
    return {"bbox": bbox} if bbox else {}


def build_export_urls(bounds, layers, metric, kinds, case_filter, lang, theme, size, orientation, dpi, fmt,
                      data_layer, data_format, risk_window=None, overlays: dict | None = None,
                      extent: str = "view", street: str | None = None) -> dict:
    """``{snapshot, briefing, data}`` URLs (paths with query strings) for the current map.

    ``overlays`` is the rest of what the map shows: ``zoom`` (the map's), ``risk_frame``
    (playback), ``density_tag`` and ``density_metric`` (the density controls). The data
    export covers ``extent``: ``view`` (the map's box), ``street`` (``street``'s features) or
    ``district`` (everything), with the map's filters (cases: the case filter; density: the
    tag; facilities: the kinds shown).

    Raises InvalidInput/InvalidBBox when a control holds something the routes would refuse.
    """
    flt = case_filter or {}
    bbox = _bbox_text(bounds)
    spec: SnapshotSpec = parse_spec({
        "bbox": bbox, "layers": ",".join(x for x in (layers or []) if x in LAYERS_ALL), "metric": metric,
        "kinds": ",".join(kinds) if kinds is not None else None, "window": flt.get("window"),
        "states": ",".join(flt.get("states") or []), "categories": ",".join(flt.get("categories") or []),
        "channels": ",".join(flt.get("channels") or []), "streets": ",".join(flt.get("streets") or []),
        "risk_window": risk_window, **{k: v for k, v in (overlays or {}).items() if v is not None},
        "lang": lang, "theme": theme, "size": size, "orientation": orientation, "dpi": dpi, "format": fmt})
    streets = flt.get("streets") or []
    briefing = {"lang": spec.lang} | ({"street": streets[0]} if len(streets) == 1 else {})
    data = {"lang": spec.lang} | _data_extent(extent, bbox, street)
    if data_layer == "cases":
        data |= {k: ",".join(flt.get(k) or []) for k in ("states", "categories", "channels", "streets") if flt.get(k)}
        data["window"] = spec.window
    if data_layer == "density" and spec.density_tag != "*":
        data["tag"] = spec.density_tag
    if data_layer == "facilities" and kinds is not None:
        data["kinds"] = ",".join(kinds)
    return {"snapshot": f"/export/snapshot?{spec.query_string()}", "briefing": f"/export/briefing?{urlencode(briefing)}",
            "data": f"/export/data/{data_layer}.{data_format}?{urlencode(data)}"}
