"""Sensor kinds, their warning rules (editable data) and the sensors themselves.

Sensors are points (EPSG:4326, lon/lat); writing them derives grid, community and street from
the geometry (``ST_Covers``) and the H3 res-8 cell (for the risk surface). A sensor outside
every community is refused, naming it; a write is all-or-nothing.
"""

from __future__ import annotations

import h3
import psycopg
from psycopg.rows import dict_row

from geodata.errors import InvalidInput, NotFound, OutsideArea
from geodata.geometry import BBox
from geodata.warnings.model import LEVELS, check_thresholds

_KINDS = """
SELECT k.code, k.name_zh, k.name_en, k.unit, k.direction, k.glyph, k.case_category, k.sort,
       coalesce(json_object_agg(r.level, r.threshold) FILTER (WHERE r.level IS NOT NULL), '{}') AS thresholds
  FROM sensor_kind k LEFT JOIN warning_rule r ON r.kind_code = k.code
 GROUP BY k.code ORDER BY k.sort, k.code"""
_KIND = "SELECT code, direction FROM sensor_kind WHERE code = %s"
_RULES = "SELECT level, threshold FROM warning_rule WHERE kind_code = %s"
_UPSERT_RULE = """
INSERT INTO warning_rule (kind_code, level, threshold) VALUES (%s, %s, %s)
ON CONFLICT (kind_code, level) DO UPDATE SET threshold = EXCLUDED.threshold"""
# Place every new sensor in one statement: grid (if any), community, street.
_INSERT = """
WITH s AS (SELECT * FROM unnest(%(codes)s::text[], %(kinds)s::text[], %(names)s::text[],
                                %(lons)s::float8[], %(lats)s::float8[], %(cells)s::bigint[])
                    AS s(code, kind, name, lon, lat, cell)),
p AS (
    SELECT s.*, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom, g.code AS grid,
           coalesce(g.community_code, a.code) AS community, coalesce(g.street_code, a.parent_code) AS street
      FROM s
      LEFT JOIN LATERAL (SELECT code, community_code, street_code FROM grid
                          WHERE ST_Covers(grid.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                          ORDER BY code LIMIT 1) g ON true
      LEFT JOIN LATERAL (SELECT code, parent_code FROM admin_area
                          WHERE level = 'community' AND ST_Covers(admin_area.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                          ORDER BY code LIMIT 1) a ON true),
bad AS (SELECT code FROM p WHERE street IS NULL),
ins AS (
    INSERT INTO sensor (code, kind_code, name, grid_code, community_code, street_code, h3_r8, geom)
    SELECT code, kind, name, grid, community, street, cell, geom FROM p
     WHERE NOT EXISTS (SELECT 1 FROM bad)
    RETURNING id)
SELECT (SELECT array_agg(code) FROM bad) AS outside, (SELECT count(*) FROM ins) AS written"""
_SENSORS = """
SELECT s.id, s.code, s.kind_code, s.name, s.street_code, s.community_code, s.grid_code,
       s.last_value, s.last_at, s.level, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat,
       w.id AS warning_id, w.level AS warning_level, w.state AS warning_state
  FROM sensor s
  LEFT JOIN warning w ON w.sensor_id = s.id AND w.state IN ('active', 'acknowledged')
 WHERE s.active AND s.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)
   AND (%(kinds)s::text[] IS NULL OR s.kind_code = ANY(%(kinds)s))
   AND (%(ids)s::bigint[] IS NULL OR s.id = ANY(%(ids)s))
 ORDER BY w.level IS NULL, s.id
 LIMIT %(limit)s"""
_SENSOR = """
SELECT s.id, s.code, s.kind_code, s.name, s.street_code, s.community_code, s.grid_code, s.h3_r8,
       s.last_value, s.last_at, s.level, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat
  FROM sensor s WHERE s.id = %s"""


def fetch_sensor_kinds(conn: psycopg.Connection) -> list[dict]:
    """Sensor kinds in display order: ``code, name_zh, name_en, unit, direction, glyph,
    case_category, sort, thresholds`` (``{level: threshold}`` in the kind's unit)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_KINDS).fetchall()


def upsert_warning_rule(conn: psycopg.Connection, kind_code: str, level: str, threshold: float) -> dict:
    """Set one kind's threshold for ``level`` (in the kind's unit); returns the kind's thresholds.

    Refuses (InvalidInput) an unknown level, a non-finite threshold, or a threshold that breaks
    the order of levels (each level must be more extreme than the one below it). NotFound for
    an unknown kind. Never commits.
    """
    if level not in LEVELS:
        raise InvalidInput(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    try:
        threshold = float(threshold)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"threshold must be a number, got {threshold!r}") from exc
    if threshold != threshold or threshold in (float("inf"), float("-inf")):
        raise InvalidInput(f"threshold must be a finite number, got {threshold!r}")
    kind = conn.execute(_KIND, (kind_code,)).fetchone()
    if kind is None:
        raise NotFound(f"unknown sensor kind {kind_code!r}")
    rules = dict(conn.execute(_RULES, (kind_code,)).fetchall()) | {level: threshold}
    problems = check_thresholds(rules, kind[1])
    if problems:
        raise InvalidInput(f"warning rule for {kind_code} refused: " + "; ".join(problems))
    conn.execute(_UPSERT_RULE, (kind_code, level, threshold))
    return rules


def write_sensors(conn: psycopg.Connection, sensors: list[dict]) -> int:
    """Insert sensors ``{code, kind, name, lon, lat}`` (EPSG:4326 degrees) in one statement.

    Grid, community and street are derived from the point; the H3 res-8 cell is stored for the
    risk surface. All-or-nothing: an unknown kind, a bad coordinate, a duplicate code or a
    point outside every community refuses the whole batch (InvalidInput / OutsideArea naming
    the sensors). Returns the number written. Never commits.
    """
    if not sensors:
        return 0
    kinds = {k["code"] for k in fetch_sensor_kinds(conn)}
    rows = []
    for i, s in enumerate(sensors, 1):
        code = str(s.get("code") or "").strip()
        if not code:
            raise InvalidInput(f"sensor {i}: code is required")
        if s.get("kind") not in kinds:
            raise InvalidInput(f"sensor {code}: unknown kind {s.get('kind')!r}; use one of {', '.join(sorted(kinds))}")
        try:
            lon, lat = float(s["lon"]), float(s["lat"])
            cell = h3.api.basic_int.latlng_to_cell(lat, lon, 8)
        except (KeyError, TypeError, ValueError, h3.H3BaseException) as exc:
            raise InvalidInput(f"sensor {code}: bad lon/lat {s.get('lon')!r}, {s.get('lat')!r}") from exc
        rows.append((code, s["kind"], str(s.get("name") or ""), lon, lat, cell))
    codes = [r[0] for r in rows]
    dup = sorted({c for c in codes if codes.count(c) > 1})
    if dup:
        raise InvalidInput(f"duplicate sensor code(s) {', '.join(dup)}")
    params = {k: [r[i] for r in rows] for i, k in enumerate(("codes", "kinds", "names", "lons", "lats", "cells"))}
    try:
        outside, written = conn.execute(_INSERT, params).fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise InvalidInput(f"a sensor code already exists: {exc.diag.message_detail or exc}") from exc
    if outside:
        raise OutsideArea(f"sensor(s) outside the district (in no community): {', '.join(outside[:20])}; nothing written")
    return int(written)


def fetch_sensors(conn: psycopg.Connection, bbox: BBox, kinds=None, limit: int = 5000, ids=None) -> list[dict]:
    """Active sensors in ``bbox`` (lon/lat, EPSG:4326; and among ``ids`` when given), those
    with an open warning first:
    ``id, code, kind_code, name, street_code, community_code, grid_code, last_value, last_at,
    level, lon, lat, warning_id, warning_level, warning_state``."""
    params = {"minx": bbox.minlon, "miny": bbox.minlat, "maxx": bbox.maxlon, "maxy": bbox.maxlat,
              "kinds": list(kinds) if kinds else None, "limit": int(limit),
              "ids": [int(i) for i in ids] if ids is not None else None}
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_SENSORS, params).fetchall()


def fetch_sensor(conn: psycopg.Connection, sensor_id: int) -> dict:
    """One sensor by id (NotFound otherwise)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_SENSOR, (int(sensor_id),)).fetchone()
    if row is None:
        raise NotFound(f"sensor {sensor_id} not found")
    return row
