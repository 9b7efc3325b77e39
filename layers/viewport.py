"""Everything the map shows for one viewport, in one database round trip per layer.

The viewport callback makes this one call; it opens one pooled connection, asks each visible
layer for its viewport-bounded, capped data and returns plain props (GeoJSON dicts, legend
components, a notice when something was capped).
"""

from __future__ import annotations

from dataclasses import dataclass

from geodata import maps
from geodata.db import pooled
from geodata.settings import get_settings
from layers import addresses, admin, basemap, display, facilities, grids, legend, sensors
from layers.view import View, parse_view

LAYERS = ("outlines", "grids", "addresses", "facilities", "roads", "cases", "sensors", "risk_heat", "risk_cells")
DEFAULT_LAYERS = ["outlines", "grids", "facilities", "roads", "cases", "sensors"]


def empty_collection() -> dict:
    return {"type": "FeatureCollection", "features": []}


@dataclass(frozen=True)
class LayerRequest:
    """What the user asked for: visible layers, grid metric, facility kinds (None = all), language
    and the case filter (a :class:`geodata.cases.CaseFilter`, for the case grid metrics).

    The ``cases`` layer itself loads through :mod:`callbacks.cases` (live deltas), ``sensors``
    through :mod:`callbacks.warnings` and ``risk_heat``/``risk_cells`` through
    :mod:`callbacks.risk`; here the first two only add their legends."""

    layers: tuple[str, ...]
    metric: str = "households"
    kinds: tuple[str, ...] | None = None
    lang: str = "zh"
    case_filter: object = None


def build_viewport(bounds, zoom, request: LayerRequest, t: dict) -> dict:
    """Data for every map layer in the viewport given by Leaflet ``bounds``/``zoom``.

    Returns a dict with keys ``district``, ``roads``, ``outline_district``, ``outline_street``,
    ``outline_community``, ``outline_hideout``, ``grids``, ``address_cells``, ``address_points``,
    ``facilities`` (GeoJSON, empty when the layer is hidden), ``legend`` (blocks as plain JSON),
    ``truncated`` (names of capped layers) and ``view`` ({zoom, bbox}).
    Raises InvalidBBox/InvalidInput on bad bounds, DatabaseUnavailable when the DB is down.
    """
    cap = get_settings().max_features
    on = set(request.layers)
    out = {k: empty_collection() for k in ("roads", "outline_district", "outline_street", "outline_community",
                                           "grids", "address_cells", "address_points", "facilities")}
    blocks, truncated = [], []
    with pooled() as conn:
        view: View = parse_view(display.bounds_from_display(bounds), zoom, maps.fetch_extent(conn).bbox)
        out["district"] = basemap.build_district(conn, view)
        if "roads" in on:
            out["roads"] = basemap.build_roads(conn, view, cap)
        if "outlines" in on:
            for level, fc in admin.build_outlines(conn, view, cap).items():
                out[f"outline_{level}"] = fc
        if "grids" in on:
            out["grids"], grid_legend = grids.build_grids(conn, view, request.metric, cap, request.case_filter)
            blocks.append(legend.grid_legend(grid_legend, t))
        if "addresses" in on:
            data = addresses.build_addresses(conn, view, cap)
            out["address_points" if data["mode"] == "points" else "address_cells"] = data
            blocks.append(legend.address_legend(data["mode"], data["resolution"], t))
        if "facilities" in on:
            kinds = None if request.kinds is None else list(request.kinds)
            # The kind checklist (glyph, colour, count) is the facilities' legend and filter.
            out["facilities"] = facilities.build_facilities(conn, view, kinds, request.lang, cap)
        if "sensors" in on:  # the layer itself loads through callbacks.warnings (live deltas)
            blocks.append(sensors.sensor_legend(sensors.kind_styles(conn, request.lang), t))
    if "cases" in on:
        blocks.append(legend.case_legend(t))
    for name, fc in out.items():
        display.collection_to_display(fc, maps.coordinate_digits(view.zoom))
        if fc.get("truncated"):
            truncated.append(name)
    out["outline_hideout"] = {"fill": "grids" not in on}
    # Plain JSON (layers.legend.plain): one component in the response made Dash encode all the
    # GeoJSON beside it in Python — ~300 ms of a district-zoom response, ~19 ms with orjson.
    out["legend"] = legend.plain(blocks)
    out["truncated"] = truncated
    out["view"] = {"zoom": view.zoom, "bbox": view.bbox.as_tuple()}
    return out
