"""SQL for import reports and exports (values always as parameters).

Table and column identifiers are composed with :mod:`psycopg.sql` from the fixed whitelist
below, never from user text.
"""

from __future__ import annotations

from psycopg import sql

FACILITY_KIND_WORDS = "SELECT code, name_zh, name_en FROM facility_kind ORDER BY sort, code"
AREA_NAMES = "SELECT code, name FROM admin_area WHERE code = ANY(%s)"
COMMUNITY_EXISTS = "SELECT 1 FROM admin_area WHERE code = %s AND level = 'community'"
STREET_EXISTS = "SELECT 1 FROM admin_area WHERE code = %s AND level = 'street'"
UNKNOWN_KINDS = "SELECT k FROM unnest(%s::text[]) k WHERE NOT EXISTS (SELECT 1 FROM facility_kind f WHERE f.code = k)"

#: Per table: the column an import report groups new rows by.
GROUP_COLUMN = {
    "admin_area": "level",
    "grid": "community_code",
    "address": "community_code",
    "facility": "community_code",
    "road": "street_code",
    "cases": "street_code",
    "resident": "street_code",
}

#: Per table: exported columns (besides the geometry), in file order.
EXPORT_COLUMNS = {
    "admin_area": ("code", "name", "level", "parent_code", "population"),
    "grid": ("code", "name", "community_code", "street_code", "supervisor", "households", "version"),
    "address": ("code", "full_text", "road", "number", "building", "unit",
                "community_code", "grid_code", "street_code"),
    "facility": ("code", "kind", "name", "capacity", "address_id", "community_code", "grid_code", "street_code"),
    "road": ("name", "kind", "street_code"),
}

#: Geometry type per table (what files declare on export).
GEOMETRY_TYPE = {"admin_area": "MultiPolygon", "grid": "MultiPolygon", "address": "Point",
                 "facility": "Point", "road": "LineString", "cases": "Point",
                 "density": "Polygon"}


def _check(table: str) -> None:
    if table not in GROUP_COLUMN:
        raise ValueError(f"not an importable table: {table!r}")


def count_by_group(table: str) -> sql.Composed:
    """``(group value, count)`` of every row of ``table`` (grouped as in :data:`GROUP_COLUMN`)."""
    _check(table)
    column = sql.Identifier(GROUP_COLUMN[table])
    return sql.SQL("SELECT {col}, count(*) FROM {table} GROUP BY 1").format(
        col=column, table=sql.Identifier(table))


def select_layer(table: str, *, bbox: bool, community: bool, street: bool = False,
                 kinds: bool = False) -> sql.Composed:
    """SELECT of a layer's export columns and WKB geometry, optionally bounded.

    Placeholders, in order: bbox ``minlon, minlat, maxlon, maxlat`` (EPSG:4326 degrees) when
    ``bbox``; the community code when ``community``; the street code when ``street`` (admin
    areas: the street and its communities; roads: those crossing it; else its rows); a list of
    facility kinds when ``kinds``.
    """
    _check(table)
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in EXPORT_COLUMNS[table])
    where = [sql.SQL("TRUE")]
    if bbox:
        where.append(sql.SQL("t.geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)"))
    if community:
        if table == "admin_area":
            where.append(sql.SQL("t.code = %s"))
        elif table == "road":
            where.append(sql.SQL("ST_Intersects(t.geom, (SELECT a.geom FROM admin_area a WHERE a.code = %s))"))
        else:
            where.append(sql.SQL("t.community_code = %s"))
    if street:
        if table == "admin_area":
            where.append(sql.SQL("%s IN (t.code, t.parent_code)"))
        elif table == "road":
            where.append(sql.SQL("ST_Intersects(t.geom, (SELECT a.geom FROM admin_area a WHERE a.code = %s))"))
        else:
            where.append(sql.SQL("t.street_code = %s"))
    if kinds and table == "facility":
        where.append(sql.SQL("t.kind = ANY(%s)"))
    order = sql.SQL("t.id") if table in ("address", "facility", "road") else sql.SQL("t.code")
    return sql.SQL("SELECT {cols}, ST_AsBinary(t.geom) FROM {table} t WHERE {where} ORDER BY {order}").format(
        cols=cols, table=sql.Identifier(table), where=sql.SQL(" AND ").join(where), order=order)
