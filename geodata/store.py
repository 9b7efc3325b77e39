"""Writers: the one way features get into PostGIS (imports and the demo both use them).

Each ``write_*`` takes a GeoDataFrame in EPSG:4326 (lon/lat) whose columns are named like
the table's, checks it whole, and inserts it inside the caller's transaction. Problems are
collected and raised together as :class:`~geodata.errors.ImportRejected`; the caller's
transaction then rolls back, so an import is all-or-nothing. Nothing here commits.

An optional ``_where`` column labels rows in messages ("line 7", "feature 3"); without it
rows are "row N" (1-based).
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from geodata import store_sql as Q
from geodata.errors import CRSMismatch, ImportRejected, MissingCRS, Problem
from geodata.geometry import H3_RESOLUTIONS, h3_cells, invalid_reasons, to_multipolygon

LEVELS = ("district", "street", "community")
ROAD_KINDS = ("expressway", "trunk", "primary", "secondary", "local", "path")
MAX_PROBLEMS = 1000
CODE = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def _labels(gdf: gpd.GeoDataFrame) -> list[str]:
    if "_where" in gdf.columns:
        return [str(w) for w in gdf["_where"]]
    return [f"row {i + 1}" for i in range(len(gdf))]


def _text(value) -> str | None:
    """Normalise a cell to stripped text or None (NaN/empty → None)."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _int(value, where: str, column: str, problems: list[Problem]) -> int | None:
    text = _text(value)
    if text is None:
        return None
    try:
        number = float(text)
    except ValueError:
        problems.append(Problem(where, f"{column} must be a whole number, got {text!r}"))
        return None
    if not number.is_integer() or number < 0:
        problems.append(Problem(where, f"{column} must be a whole number ≥ 0, got {text!r}"))
        return None
    return int(number)


def _check_frame(gdf: gpd.GeoDataFrame, kinds: tuple[str, ...], label: str) -> tuple[list[str], list[Problem]]:
    """CRS, geometry type, emptiness, coordinate range and validity of every row (vectorised)."""
    if gdf.crs is None:
        raise MissingCRS(f"{label}: the data has no CRS; expected EPSG:4326")
    if gdf.crs.to_epsg() != 4326:
        raise CRSMismatch(f"{label}: writers take EPSG:4326 (lon/lat), got {gdf.crs.to_string()}; reproject first")
    where = _labels(gdf)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    found: dict[int, str] = {}
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    for i in np.flatnonzero(missing):
        found[int(i)] = "missing or empty geometry"
    types = np.array([g.geom_type if g is not None else "" for g in geoms], dtype=object)
    for i in np.flatnonzero(~missing & ~np.isin(types, kinds)):
        found.setdefault(int(i), f"expected {' or '.join(kinds)}, got {types[i]}")
    coords, index = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    for k in np.flatnonzero(bad):
        lon, lat = coords[k]
        reason = ("coordinate is not a finite number" if not np.isfinite(coords[k]).all()
                  else f"coordinate out of range (lon {lon:g}, lat {lat:g})")
        found.setdefault(int(index[k]), reason)
    check = np.array([i not in found for i in range(len(geoms))], dtype=bool)
    if check.any():
        reasons = invalid_reasons(geoms[check])
        for i, reason in zip(np.flatnonzero(check), reasons, strict=True):
            if reason is not None:
                found[int(i)] = f"invalid geometry: {reason}"
    problems = [Problem(where[i], found[i]) for i in sorted(found)]
    return where, problems


def _required(rows: list[dict], where: list[str], columns: tuple[str, ...], problems: list[Problem]) -> None:
    for row, w in zip(rows, where, strict=True):
        for column in columns:
            if row.get(column) is None:
                problems.append(Problem(w, f"{column} is required but empty"))


def _code_format(values: list[str | None], where: list[str], problems: list[Problem]) -> None:
    """Area and grid codes: letters, digits, ``_ . -``, at most 32 (the schema's CHECK, per row)."""
    for value, w in zip(values, where, strict=True):
        if value is not None and not CODE.fullmatch(value):
            problems.append(Problem(w, f"code {value!r} may only hold letters, digits, _ . - (at most 32)"))


def _duplicates(values: list[str | None], where: list[str], column: str, problems: list[Problem]) -> None:
    first: dict[str, str] = {}
    for value, w in zip(values, where, strict=True):
        if value is None:
            continue
        if value in first:
            problems.append(Problem(w, f"duplicate {column} {value!r} (also at {first[value]})"))
        else:
            first[value] = w


def _existing(conn: psycopg.Connection, query, values: list[str], where: list[str], what: str,
              problems: list[Problem]) -> None:
    present = {r[0] for r in conn.execute(query, ([v for v in values if v is not None],))}
    for value, w in zip(values, where, strict=True):
        if value in present:
            problems.append(Problem(w, f"{what} {value!r} already exists in the database"))


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ImportRejected(problems[:MAX_PROBLEMS])


def _rows(gdf: gpd.GeoDataFrame, columns: tuple[str, ...]) -> list[dict]:
    present = [c for c in columns if c in gdf.columns]
    records = gdf[present].to_dict("records") if present else [{} for _ in range(len(gdf))]
    return [{c: _text(r.get(c)) for c in columns} for r in records]


def _wkb(geoms) -> list[bytes]:
    return list(shapely.to_wkb(np.asarray(geoms, dtype=object), include_srid=False))


def _stage(conn: psycopg.Connection, create, copy, rows: list[tuple]) -> None:
    conn.execute(create)
    with conn.cursor().copy(copy) as cp:
        for row in rows:
            cp.write_row(row)


def _db_problems(conn: psycopg.Connection, query) -> list[Problem]:
    return [Problem(w, reason) for w, reason in conn.execute(query)]


def write_admin_areas(conn: psycopg.Connection, gdf: gpd.GeoDataFrame) -> int:
    """Insert districts, streets/towns and communities (polygons, EPSG:4326).

    Parents may be in the database or in the same frame; rows are inserted top level first.
    """
    where, problems = _check_frame(gdf, ("Polygon", "MultiPolygon"), "admin areas")
    rows = _rows(gdf, ("code", "name", "level", "parent_code", "population"))
    _required(rows, where, ("code", "name", "level"), problems)
    for row, w in zip(rows, where, strict=True):
        if row["level"] is not None and row["level"] not in LEVELS:
            problems.append(Problem(w, f"level must be one of {', '.join(LEVELS)}, got {row['level']!r}"))
        row["population"] = _int(row["population"], w, "population", problems)
    codes = [r["code"] for r in rows]
    _code_format(codes + [r["parent_code"] for r in rows], where + where, problems)
    _duplicates(codes, where, "code", problems)
    _existing(conn, Q.ADMIN_CODES, codes, where, "admin area code", problems)
    _raise(problems)
    rank = {lvl: i for i, lvl in enumerate(LEVELS)}
    order = sorted(range(len(rows)), key=lambda i: (rank[rows[i]["level"]], i))
    geoms = [to_multipolygon(g) for g in gdf.geometry.values]
    wkb = _wkb(geoms)
    _stage(conn, Q.STAGE_ADMIN, Q.COPY_ADMIN, [
        (n, where[i], rows[i]["code"], rows[i]["name"], rows[i]["level"], rows[i]["parent_code"],
         rows[i]["population"], wkb[i]) for n, i in enumerate(order)
    ])
    _raise(_db_problems(conn, Q.ADMIN_PARENT_PROBLEMS))
    return _insert(conn, Q.INSERT_ADMIN)


def write_grids(conn: psycopg.Connection, gdf: gpd.GeoDataFrame) -> int:
    """Insert grids (polygons, EPSG:4326). A missing community_code is derived from the geometry.

    Grids of one community may not overlap each other or existing grids by more than the
    tolerance (``og_setting.grid_overlap_tolerance_m2``).
    """
    where, problems = _check_frame(gdf, ("Polygon", "MultiPolygon"), "grids")
    rows = _rows(gdf, ("code", "name", "community_code", "supervisor", "households"))
    _required(rows, where, ("code",), problems)
    for row, w in zip(rows, where, strict=True):
        row["households"] = _int(row["households"], w, "households", problems) or 0
        row["name"] = row["name"] or row["code"]
    codes = [r["code"] for r in rows]
    _code_format(codes, where, problems)
    _duplicates(codes, where, "code", problems)
    _existing(conn, Q.GRID_CODES, codes, where, "grid code", problems)
    _raise(problems)
    wkb = _wkb([to_multipolygon(g) for g in gdf.geometry.values])
    _stage(conn, Q.STAGE_GRID, Q.COPY_GRID, [
        (i, where[i], r["code"], r["name"], r["community_code"], r["supervisor"], r["households"], wkb[i])
        for i, r in enumerate(rows)
    ])
    conn.execute(Q.GRID_DERIVE_COMMUNITY)
    _raise(_db_problems(conn, Q.GRID_COMMUNITY_PROBLEMS) + _db_problems(conn, Q.GRID_OVERLAP_PROBLEMS))
    return _insert(conn, Q.INSERT_GRID)


def write_addresses(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, *, allow_outside: bool = False) -> int:
    """Insert standard addresses (points, EPSG:4326), deriving community, grid, street and H3 cells.

    A point outside every community is a problem unless ``allow_outside`` (then it is stored
    with no community/grid).
    """
    where, problems = _check_frame(gdf, ("Point",), "addresses")
    rows = _rows(gdf, ("code", "full_text", "road", "number", "building", "unit"))
    _required(rows, where, ("full_text",), problems)
    codes = [r["code"] for r in rows]
    _duplicates(codes, where, "code", problems)
    _existing(conn, Q.ADDRESS_CODES, codes, where, "address code", problems)
    _raise(problems)
    xy = shapely.get_coordinates(gdf.geometry.values)
    cells = h3_cells(xy[:, 0], xy[:, 1]) if len(xy) else {r: np.empty(0, np.int64) for r in H3_RESOLUTIONS}
    wkb = _wkb(gdf.geometry.values)
    _stage(conn, Q.STAGE_POINTS.format(table="og_stage_address"), Q.COPY_ADDRESS, [
        (i, where[i], r["code"], r["full_text"], r["road"], r["number"], r["building"], r["unit"],
         *(int(cells[res][i]) for res in H3_RESOLUTIONS), wkb[i])
        for i, r in enumerate(rows)
    ])
    _locate(conn, "og_stage_address", allow_outside)
    return _insert(conn, Q.INSERT_ADDRESS)


def write_facilities(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, *, allow_outside: bool = False) -> int:
    """Insert facilities (points, EPSG:4326) of known kinds, deriving community, grid and street."""
    where, problems = _check_frame(gdf, ("Point",), "facilities")
    rows = _rows(gdf, ("code", "kind", "name", "capacity", "address_id"))
    _required(rows, where, ("kind", "name"), problems)
    for row, w in zip(rows, where, strict=True):
        row["capacity"] = _int(row["capacity"], w, "capacity", problems)
        row["address_id"] = _int(row["address_id"], w, "address_id", problems)
    codes = [r["code"] for r in rows]
    _duplicates(codes, where, "code", problems)
    _existing(conn, Q.FACILITY_CODES, codes, where, "facility code", problems)
    kinds = {r[0] for r in conn.execute(Q.FACILITY_KINDS)}
    for row, w in zip(rows, where, strict=True):
        if row["kind"] is not None and row["kind"] not in kinds:
            problems.append(Problem(w, f"unknown facility kind {row['kind']!r} (known: {', '.join(sorted(kinds))})"))
    _raise(problems)
    wkb = _wkb(gdf.geometry.values)
    _stage(conn, Q.STAGE_POINTS.format(table="og_stage_facility"), Q.COPY_FACILITY, [
        (i, where[i], r["code"], r["kind"], r["name"], r["capacity"], r["address_id"], wkb[i])
        for i, r in enumerate(rows)
    ])
    _raise(_db_problems(conn, Q.FACILITY_ADDRESS_PROBLEMS))
    _locate(conn, "og_stage_facility", allow_outside)
    return _insert(conn, Q.INSERT_FACILITY)


def write_roads(conn: psycopg.Connection, gdf: gpd.GeoDataFrame) -> int:
    """Insert road centre lines (EPSG:4326); MultiLineStrings are split into their parts."""
    where, problems = _check_frame(gdf, ("LineString", "MultiLineString"), "roads")
    rows = _rows(gdf, ("name", "kind"))
    for row, w in zip(rows, where, strict=True):
        row["kind"] = row["kind"] or "local"
        if row["kind"] not in ROAD_KINDS:
            problems.append(Problem(w, f"road kind must be one of {', '.join(ROAD_KINDS)}, got {row['kind']!r}"))
    _raise(problems)
    staged = []
    for i, (row, geom) in enumerate(zip(rows, gdf.geometry.values, strict=True)):
        for part in getattr(geom, "geoms", [geom]):
            staged.append((i, where[i], row["name"], row["kind"], shapely.to_wkb(part)))
    _stage(conn, Q.STAGE_ROAD, Q.COPY_ROAD, staged)
    return _insert(conn, Q.INSERT_ROAD)


def _locate(conn: psycopg.Connection, table: str, allow_outside: bool) -> None:
    """Derive grid/community/street for staged points; refuse points outside every community."""
    from psycopg import sql

    ident = sql.Identifier(table)
    conn.execute(sql.SQL(Q.LOCATE_POINTS).format(stage=ident))
    if not allow_outside:
        problems = [Problem(w, f"point ({x:.6f}, {y:.6f}) is outside every community "
                               "(use --allow-outside to keep it unassigned)")
                    for w, x, y in conn.execute(sql.SQL(Q.OUTSIDE_POINTS).format(stage=ident))]
        _raise(problems)


def _insert(conn: psycopg.Connection, query) -> int:
    try:
        return conn.execute(query).rowcount
    except (psycopg.errors.IntegrityError, psycopg.errors.RaiseException) as exc:
        raise ImportRejected([Problem("database", exc.diag.message_primary or str(exc))]) from exc
