"""Read queries behind the command map: viewport-bounded, capped, simplified by zoom.

Every function takes an open psycopg connection and a :class:`~geodata.geometry.BBox` in
EPSG:4326 (lon, lat degrees) where a viewport applies. Polygons are simplified with a
tolerance of about one screen pixel at the requested zoom and their coordinates rounded to
what that pixel can show, so payloads stay small at every zoom. The SQL lives in
``geodata/sql/map_*.sql``; values always travel as parameters, and the only identifiers
(H3 resolution columns, scope columns) are chosen from whitelists here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from importlib import resources

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geodata.errors import InvalidBBox, InvalidInput, NotFound
from geodata.geometry import BBox, bbox_from_leaflet

#: Zoom range the map allows (Leaflet zoom levels, Web Mercator tiles of 256 px).
MIN_ZOOM, MAX_ZOOM = 3, 20
#: Viewports wider than this (degrees) are clamped to the data extent: a zoomed-out world
#: view must not turn into a whole-table scan.
MAX_SPAN_DEG = 2.0
#: Road kinds shown from a zoom level on (fewer kinds when zoomed out).
ROAD_KINDS_BY_ZOOM = (
    (0, ("expressway", "trunk", "primary")),
    (12, ("expressway", "trunk", "primary", "secondary")),
    (14, ("expressway", "trunk", "primary", "secondary", "local")),
    (16, ("expressway", "trunk", "primary", "secondary", "local", "path")),
)
ADMIN_LEVELS = ("district", "street", "community")
#: Scope level → (column on address/facility, column on grid) for detail counts.
_SCOPE_COLUMNS = {
    "grid": ("grid_code", "code"),
    "community": ("community_code", "community_code"),
    "street": ("street_code", "street_code"),
}
PLACE_KINDS = ("grid", "area", "facility", "address")


@dataclass(frozen=True)
class Extent:
    """Lon/lat extent of the data (EPSG:4326 degrees) and the district shown in the header."""

    bbox: BBox | None
    district_name: str | None
    district_code: str | None


@cache
def _query(name: str) -> str:
    return resources.files("geodata").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def pixel_degrees(zoom: float) -> float:
    """Width of one 256-px-tile screen pixel at ``zoom``, in degrees of longitude."""
    return 360.0 / (256 * 2 ** clamp_zoom(zoom))


def simplify_tolerance(zoom: float) -> float:
    """Simplification tolerance (degrees) for ``zoom``: 1.5 screen pixels (invisible, and it
    keeps a district-wide grid layer well under a megabyte)."""
    return 1.5 * pixel_degrees(zoom)


def coordinate_digits(zoom: float) -> int:
    """Decimal digits of lon/lat worth sending at ``zoom`` (half a screen pixel), 3..7."""
    return int(min(7, max(3, math.ceil(-math.log10(pixel_degrees(zoom) / 2)))))


def clamp_zoom(zoom) -> float:
    """A Leaflet zoom as a number within ``MIN_ZOOM..MAX_ZOOM``; InvalidInput if not a number."""
    try:
        z = float(zoom)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"map zoom must be a number, got {zoom!r}") from exc
    if not math.isfinite(z):
        raise InvalidInput(f"map zoom must be finite, got {zoom!r}")
    return min(MAX_ZOOM, max(MIN_ZOOM, z))


def view_bbox(bounds, extent: BBox | None = None) -> BBox:
    """Leaflet bounds ``[[south, west], [north, east]]`` (lat/lng!) → lon/lat BBox for queries.

    Conversion and validation are :func:`geodata.geometry.bbox_from_leaflet` (InvalidBBox on
    nonsense). A box wider or taller than ``MAX_SPAN_DEG`` is clamped: to ``extent`` (the
    data's lon/lat extent) when given, else to a ``MAX_SPAN_DEG`` box around its centre.
    """
    box = bbox_from_leaflet(bounds)
    if box.maxlon - box.minlon <= MAX_SPAN_DEG and box.maxlat - box.minlat <= MAX_SPAN_DEG:
        return box
    if extent is not None:
        clipped = (max(box.minlon, extent.minlon), max(box.minlat, extent.minlat),
                   min(box.maxlon, extent.maxlon), min(box.maxlat, extent.maxlat))
        if clipped[0] < clipped[2] and clipped[1] < clipped[3]:
            return BBox(*clipped)
        raise InvalidBBox("the map view does not overlap the data; zoom back to the district")
    cx, cy, half = (box.minlon + box.maxlon) / 2, (box.minlat + box.maxlat) / 2, MAX_SPAN_DEG / 2
    return BBox(max(cx - half, -180), max(cy - half, -90), min(cx + half, 180), min(cy + half, 90))


def _view_params(bbox: BBox, zoom: float, limit: int) -> dict:
    return {
        "minlon": bbox.minlon, "minlat": bbox.minlat, "maxlon": bbox.maxlon, "maxlat": bbox.maxlat,
        "tol": simplify_tolerance(zoom), "digits": coordinate_digits(zoom), "limit": int(limit),
    }


def _rows(conn: psycopg.Connection, query, params: dict) -> list[dict]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)
        return cur.fetchall()


def _collection(rows: list[dict], cap: int) -> dict:
    """GeoJSON FeatureCollection from rows with a ``geometry`` column; ``truncated`` if over cap."""
    features = []
    for row in rows[:cap]:
        props = {k: v for k, v in row.items() if k != "geometry"}
        if row["geometry"] is not None:
            features.append({"type": "Feature", "geometry": row["geometry"], "properties": props})
    return {"type": "FeatureCollection", "features": features, "truncated": len(rows) > cap}


def fetch_extent(conn: psycopg.Connection) -> Extent:
    """Lon/lat extent of the loaded data (EPSG:4326) and the district's name and code."""
    row = _rows(conn, _query("map_extent"), {})[0]
    if row["minlon"] is None:
        return Extent(None, row["district_name"], row["district_code"])
    box = (row["minlon"], row["minlat"], row["maxlon"], row["maxlat"])
    if box[0] == box[2] or box[1] == box[3]:  # a single point: pad by ~100 m
        box = (box[0] - 0.001, box[1] - 0.001, box[2] + 0.001, box[3] + 0.001)
    return Extent(BBox(*box), row["district_name"], row["district_code"])


def fetch_admin_areas(conn, bbox: BBox, zoom: float, level: str, cap: int) -> dict:
    """Admin areas of ``level`` (district/street/community) in the viewport as GeoJSON (lon/lat)."""
    if level not in ADMIN_LEVELS:
        raise InvalidInput(f"admin level must be one of {ADMIN_LEVELS}, got {level!r}")
    params = _view_params(bbox, zoom, cap + 1) | {"level": level}
    return _collection(_rows(conn, _query("map_admin_areas"), params), cap)


def road_kinds(zoom: float) -> tuple[str, ...]:
    """Road kinds drawn at ``zoom``: only the main roads when zoomed out."""
    z = clamp_zoom(zoom)
    return [kinds for start, kinds in ROAD_KINDS_BY_ZOOM if z >= start][-1]


def fetch_roads(conn, bbox: BBox, zoom: float, cap: int) -> dict:
    """Road centre lines for the base map in the viewport, kinds by zoom, as GeoJSON (lon/lat)."""
    params = _view_params(bbox, zoom, cap + 1) | {"kinds": list(road_kinds(zoom))}
    return _collection(_rows(conn, _query("map_roads"), params), cap)


def fetch_grids(conn, bbox: BBox, zoom: float, cap: int) -> dict:
    """Current grids in the viewport with ``households`` and ``addresses`` counts (GeoJSON)."""
    return _collection(_rows(conn, _query("map_grids"), _view_params(bbox, zoom, cap + 1)), cap)


GRID_METRICS = ("households", "addresses")


def fetch_grid_values(conn, metric: str) -> list[int]:
    """``metric`` (households or addresses) of every current grid, for district-wide class breaks."""
    if metric not in GRID_METRICS:
        raise InvalidInput(f"grid metric must be one of {GRID_METRICS}, got {metric!r}")
    return [r["v"] for r in _rows(conn, _query(f"map_grid_{metric}"), {})]


def fetch_address_cells(conn, bbox: BBox, resolution: int, cap: int) -> tuple[list[tuple[int, int]], bool, int]:
    """Address counts per H3 cell at ``resolution`` (7..10) for the viewport, from the
    ``address_cell`` pyramid (a few hundred rows instead of every address in view).

    Cells are those whose addresses' bounding box meets the viewport, with their whole count
    (a superset of the exact view). More than ``cap`` cells → the next coarser resolution.
    Returns ``([(cell_id, count), ...], truncated, resolution_used)``, densest first, ≤ ``cap``.
    """
    if resolution not in (7, 8, 9, 10):
        raise InvalidInput(f"H3 resolution must be 7..10, got {resolution!r}")
    for res in range(resolution, 6, -1):
        query = sql.SQL(_query("map_address_cells")).format(res=sql.Literal(res))
        rows = _rows(conn, query, _view_params(bbox, MAX_ZOOM, cap + 1))
        if len(rows) <= cap or res == 7:
            break
    return [(r["cell"], r["n"]) for r in rows[:cap]], len(rows) > cap, res


def fetch_address_points(conn, bbox: BBox, cap: int) -> tuple[list[dict], bool]:
    """Raw address points in the viewport (``id``, ``full_text``, ``lon``, ``lat``), at most ``cap``."""
    rows = _rows(conn, _query("map_address_points"), _view_params(bbox, MAX_ZOOM, cap + 1))
    return rows[:cap], len(rows) > cap


def fetch_facilities(conn, bbox: BBox, cap: int, kinds: list[str] | None = None,
                     zoom: float = MAX_ZOOM) -> tuple[list[dict], bool]:
    """Facilities in the viewport (optionally only ``kinds``) with kind colour/glyph; lon/lat
    rounded to what ``zoom`` can show."""
    params = _view_params(bbox, zoom, cap + 1) | {"kinds": None if kinds is None else list(kinds)}
    rows = _rows(conn, _query("map_facilities"), params)
    return rows[:cap], len(rows) > cap


def fetch_facility_kinds(conn) -> list[dict]:
    """Facility kinds (code, names, colour, glyph, life circle, count), in legend order."""
    return _rows(conn, _query("map_facility_kinds"), {})


def fetch_area_chain(conn, code: str) -> list[dict]:
    """The admin area ``code`` and its ancestors, district first (code, name, level)."""
    return _rows(conn, _query("map_area_chain"), {"code": code})


def fetch_scope_counts(conn, level: str, code: str) -> dict:
    """Counts inside a grid/community/street/district: addresses, grids, households,
    communities and facilities by kind."""
    if level == "district":
        codes = [r["code"] for r in _rows(conn, "SELECT code FROM admin_area WHERE parent_code = %(c)s",
                                          {"c": code})]
        level = "street"
    elif level in _SCOPE_COLUMNS:
        codes = [code]
    else:
        raise InvalidInput(f"scope level must be grid, community, street or district, got {level!r}")
    col, grid_col = _SCOPE_COLUMNS[level]
    query = sql.SQL(_query("map_scope_counts")).format(col=sql.Identifier(col), grid_col=sql.Identifier(grid_col))
    return _rows(conn, query, {"codes": codes})[0]


def fetch_place(conn, kind: str, key: str) -> dict:
    """One grid, admin area, facility or address: names, parent chain, counts and lon/lat extent.

    Returns a dict with ``kind``, ``key``, ``code``, ``name``, ``bbox`` (lon/lat degrees
    ``(minlon, minlat, maxlon, maxlat)``; a point place has a zero-size box), ``geometry``
    (GeoJSON, lon/lat), ``chain`` (district → street → community → grid, each
    ``{level, code, name}``) and ``counts`` (see :func:`fetch_scope_counts`; None for points).
    NotFound when it does not exist.
    """
    if kind not in PLACE_KINDS:
        raise InvalidInput(f"place kind must be one of {PLACE_KINDS}, got {kind!r}")
    rows = _rows(conn, _query("map_place"), {"kind": kind, "key": str(key)})
    if not rows:
        raise NotFound(f"{kind} {key} not found")
    place = rows[0]
    chain = fetch_area_chain(conn, place["area_code"]) if place["area_code"] else []
    if kind == "grid":
        chain.append({"level": "grid", "code": place["code"], "name": place["name"]})
    elif kind in ("facility", "address"):
        chain += [{"level": "grid", **g} for g in _rows(conn, _query("map_place_grid"), {"kind": kind, "key": key})]
    level = "grid" if kind == "grid" else next((c["level"] for c in chain if c["code"] == place["code"]), None)
    counts = fetch_scope_counts(conn, level, place["code"]) if kind in ("grid", "area") else None
    bbox = (place.pop("minlon"), place.pop("minlat"), place.pop("maxlon"), place.pop("maxlat"))
    return place | {"chain": chain, "counts": counts, "level": level, "bbox": bbox}


def search_places(conn, text: str, limit: int = 10) -> list[dict]:
    """Fuzzy place-name search over grid codes/names, admin areas, facilities and addresses.

    Code prefix matches rank first, then substring (ILIKE) matches by trigram similarity,
    then word-similarity matches; at most ``limit`` rows of ``kind, key, label, detail, score``.
    """
    q = " ".join(str(text or "").split())
    if not q:
        return []
    if len(q) > 100:
        raise InvalidInput("search text is too long (at most 100 characters)")
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    params = {"q": q, "prefix": escaped + "%", "pattern": f"%{escaped}%", "limit": int(limit)}
    return _rows(conn, _query("map_search"), params)


def fetch_status(conn) -> dict:
    """Health summary: PostGIS version and row counts of the map tables."""
    return _rows(conn, _query("map_status"), {})[0]


def fetch_summary(conn) -> dict:
    """District totals: ``streets``, ``communities``, ``grids``, ``households``, ``addresses``, ``facilities``."""
    return _rows(conn, _query("map_summary"), {})[0]
