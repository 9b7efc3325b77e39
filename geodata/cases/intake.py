"""Case intake: check a report at the boundary, route it, flag likely duplicates, store it.

Routing: point → grid → community → street (``ST_Covers`` on GiST-indexed polygons), then
category × street → department through ``dispatch_rule`` (street rule, else district-wide
rule, else the category's own department). Coordinates are EPSG:4326 (lon, lat), degrees.
"""

from __future__ import annotations

import math
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from geodata.cases.catalog import check_attributes, fetch_category_for_intake
from geodata.cases.filters import CASE_COLUMNS, base_params, case_from_row
from geodata.cases.model import CHANNELS, MAX_DESCRIPTION, OPEN_STATES, Case, check_aware, check_lonlat
from geodata.errors import InvalidInput, OutsideArea
from geodata.settings import get_settings

#: A report of the same category this close (metres) and this recent (hours) to an open case
#: is a likely duplicate of it.
DUPLICATE_METRES = 50.0
DUPLICATE_HOURS = 24
REPORTER_FIELDS = {"name": "reporter_name", "phone": "reporter_phone", "email": "reporter_email",
                   "account_id": "account_id", "device_id": "device_id"}

# One round trip places a report: its grid/community/street, the department (street rule >
# district rule > category), the nearest open same-category case within 50 m / 24 h, and the
# time (the given one, else the transaction's now()).
_PLACE = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326) AS geom,
                  coalesce(%(at)s::timestamptz, now()) AS at),
r AS (
    SELECT g.code AS grid, coalesce(g.community_code, a.code) AS community,
           coalesce(g.street_code, a.parent_code) AS street
      FROM p
      LEFT JOIN LATERAL (SELECT code, community_code, street_code FROM grid
                          WHERE ST_Covers(grid.geom, p.geom) ORDER BY code LIMIT 1) g ON true
      LEFT JOIN LATERAL (SELECT code, parent_code FROM admin_area
                          WHERE level = 'community' AND ST_Covers(admin_area.geom, p.geom)
                          ORDER BY code LIMIT 1) a ON true),
d AS (
    SELECT c.id, c.code FROM cases c, p
     WHERE c.category_code = %(cat)s
       AND c.state = ANY(%(open_states)s)
       AND c.geom && ST_Expand(p.geom, %(dlon)s, %(dlat)s)
       AND ST_DWithin(c.geom::geography, p.geom::geography, %(metres)s)
       AND c.reported_at BETWEEN p.at - make_interval(hours => %(hours)s)
                             AND p.at + make_interval(hours => %(hours)s)
     ORDER BY ST_Distance(c.geom::geography, p.geom::geography), c.id
     LIMIT 1)
SELECT r.grid, r.community, r.street,
       coalesce(
         (SELECT department_code FROM dispatch_rule WHERE category_code = %(cat)s AND street_code = r.street),
         (SELECT department_code FROM dispatch_rule WHERE category_code = %(cat)s AND street_code IS NULL),
         (SELECT department_code FROM case_category WHERE code = %(cat)s)) AS department,
       (SELECT id FROM d) AS duplicate_of, (SELECT code FROM d) AS duplicate_code, p.at
  FROM p, r"""
# The case and its 'report' event in one statement; the answer is the new case's Case row.
# Case number: local reporting day + the global sequence (at least 6 digits, never truncated).
_INSERT = """
WITH ins AS (
    INSERT INTO cases (code, category_code, channel, description, address_text, media_url, attributes,
                       source_ref, reporter_name, reporter_phone, reporter_email, account_id, device_id,
                       grid_code, community_code, street_code, department_code, duplicate_of,
                       reported_at, updated_at, geom)
    SELECT to_char(%(at)s AT TIME ZONE %(tz)s, 'YYYYMMDD') || '-'
           || lpad(n.seq::text, greatest(6, length(n.seq::text)), '0'),
           %(cat)s, %(channel)s, %(description)s, %(address_text)s, %(media_url)s, %(attributes)s,
           %(source_ref)s, %(reporter_name)s, %(reporter_phone)s, %(reporter_email)s, %(account_id)s,
           %(device_id)s, %(grid)s, %(community)s, %(street)s, %(department)s, %(duplicate_of)s,
           %(at)s, %(at)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)
      FROM (SELECT nextval('case_code_seq') AS seq) n
    RETURNING *),
ev AS (
    INSERT INTO case_event (case_id, street_code, at, action, from_state, to_state, actor, department_code, note)
    SELECT id, street_code, reported_at, 'report', NULL, 'reported', %(actor)s, department_code, %(note)s FROM ins)
SELECT {columns} FROM ins c JOIN case_category k ON k.code = c.category_code"""


def _text(value, name: str, limit: int) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if len(text) > limit:
        raise InvalidInput(f"{name} is longer than {limit:,} characters ({len(text):,})")
    return text or None


def _reporter(reporter: dict | None) -> dict:
    reporter = dict(reporter or {})
    unknown = [k for k in reporter if k not in REPORTER_FIELDS]
    if unknown:
        raise InvalidInput(f"unknown reporter field(s) {', '.join(unknown)}; use {', '.join(REPORTER_FIELDS)}")
    return {column: _text(reporter.get(key), f"reporter {key}", 200) for key, column in REPORTER_FIELDS.items()}


def place_report(conn: psycopg.Connection, category_code: str, lon: float, lat: float,
                 at: datetime | None = None) -> dict:
    """Where a report lands, in one round trip: ``grid, community, street, department,
    duplicate_of, duplicate_code, at``. :class:`OutsideArea` when no community covers the point.

    ``duplicate_of`` is the nearest open case of the same category within 50 m and 24 h of
    ``at`` (default: now), or None.
    """
    dlat = DUPLICATE_METRES / 111_000 * 1.2
    dlon = dlat / max(math.cos(math.radians(lat)), 0.01)
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_PLACE, {"lon": lon, "lat": lat, "cat": category_code, "at": at,
                                   "open_states": list(OPEN_STATES), "dlon": dlon, "dlat": dlat,
                                   "metres": DUPLICATE_METRES, "hours": DUPLICATE_HOURS}).fetchone()
    if row["community"] is None or row["street"] is None:
        raise OutsideArea(f"the point ({lon:.6f}, {lat:.6f}) is outside the district (in no community)")
    return row


def create_case(conn: psycopg.Connection, *, category_code: str, channel: str, lon: float, lat: float,
                actor: str, description: str = "", address_text: str | None = None,
                attributes: dict | None = None, media_url: str | None = None, reporter: dict | None = None,
                source_ref: str | None = None, reported_at: datetime | None = None) -> Case:
    """Take in one report: check it, route it, flag a likely duplicate, store it with a 'report' event.

    Parameters
    ----------
    category_code : an active case category (:class:`NotFound` otherwise).
    channel : one of ``CHANNELS``.
    lon, lat : the place, EPSG:4326 degrees; must lie in a community of the district.
    actor : who reports (user name, device or API key name); recorded on the event.
    attributes : answers to the category's extra questions (checked, normalised).
    reporter : ``name, phone, email, account_id, device_id`` — stored only in reporter columns.
    reported_at : aware datetime (default: now).

    Returns
    -------
    Case
        ``duplicate_of`` is set when an open case of the same category lies within 50 m and
        24 h; the new case still starts as 'reported'. Never commits.
    """
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    lon, lat = check_lonlat(lon, lat)
    actor = _text(actor, "actor", 200)
    if not actor:
        raise InvalidInput("actor is required (who reports the case)")
    description = _text(description, "description", MAX_DESCRIPTION) or ""
    check_aware(reported_at, "reported_at")
    category, defined = fetch_category_for_intake(conn, category_code)
    values = dict(
        cat=category["code"], channel=channel, description=description, lon=lon, lat=lat,
        address_text=_text(address_text, "address_text", 500), media_url=_text(media_url, "media_url", 2000),
        source_ref=_text(source_ref, "source_ref", 200),
        attributes=Jsonb(check_attributes(conn, category["code"], attributes, defined=defined)),
        **_reporter(reporter), tz=get_settings().timezone, actor=actor,
    )
    place = place_report(conn, values["cat"], lon, lat, reported_at)
    values.update(grid=place["grid"], community=place["community"], street=place["street"],
                  department=place["department"], duplicate_of=place["duplicate_of"], at=place["at"])
    values["note"] = f"likely duplicate of case {place['duplicate_code']}" if place["duplicate_of"] else ""
    values |= base_params()
    query = sql.SQL(_INSERT).format(columns=sql.SQL(CASE_COLUMNS))
    with conn.cursor(row_factory=dict_row) as cur:
        return case_from_row(cur.execute(query, values).fetchone())
