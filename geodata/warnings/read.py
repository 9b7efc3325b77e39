"""Reading warnings: one warning, lists (most severe / newest first), counts per level for the
wall screen, the event log, and live changes after a cursor (the ``warning_event`` id).

Coordinates are EPSG:4326 (lon, lat), degrees; times are aware datetimes.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geodata.errors import InvalidInput, NotFound
from geodata.geometry import BBox
from geodata.warnings.model import LEVELS, OPEN_STATES, STATES, Warning

WARNING_COLUMNS = """
w.id, w.sensor_id, s.code AS sensor_code, s.name AS sensor_name, w.kind_code, k.name_zh AS kind_name_zh,
k.name_en AS kind_name_en, k.unit, w.level, w.first_level, w.state, w.value, w.opened_at, w.escalated_at,
w.acknowledged_at, w.closed_at, w.dismiss_reason, w.case_id, c.code AS case_code, w.street_code,
w.community_code, w.grid_code, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat, w.updated_at, w.version"""
WARNING_FROM = """
FROM warning w JOIN sensor s ON s.id = w.sensor_id JOIN sensor_kind k ON k.code = w.kind_code
LEFT JOIN cases c ON c.id = w.case_id"""
#: order name → ORDER BY (fixed text from this whitelist only).
ORDERS = {
    "severity": "array_position(%(levels)s::text[], w.level) DESC, w.opened_at DESC, w.id DESC",
    "newest": "w.opened_at DESC, w.id DESC",
    "updated": "w.updated_at DESC, w.id DESC",
}
_COUNTS = """
SELECT level, count(*) FROM warning
 WHERE state = ANY(%(states)s) AND (%(street)s::text IS NULL OR street_code = %(street)s)
 GROUP BY level"""
_EVENTS = """
SELECT id, at, action, from_state, to_state, level, value, actor, note
  FROM warning_event WHERE warning_id = %s ORDER BY id"""
_CURSOR = "SELECT coalesce(max(id), 0) FROM warning_event"
_TOUCHED = """
SELECT warning_id, max(id) AS last FROM warning_event WHERE id > %s
 GROUP BY warning_id ORDER BY last LIMIT %s"""
_ALARMS = """
SELECT DISTINCT warning_id FROM warning_event
 WHERE id > %s AND id <= %s AND action IN ('open', 'escalate') AND level = ANY(%s)"""
_FOR_CASE = "SELECT id FROM warning WHERE case_id = %s UNION SELECT warning_id FROM cases WHERE id = %s AND warning_id IS NOT NULL"


def _check_values(name: str, values, known) -> list[str] | None:
    if values is None:
        return None
    values = [values] if isinstance(values, str) else [str(v) for v in values]
    bad = [v for v in values if v not in known]
    if bad:
        raise InvalidInput(f"unknown {name} {', '.join(map(repr, bad))}; use {', '.join(known)}")
    return values


def _select(conn, condition: sql.Composable, params: dict, order: str = "severity",
            limit: int | None = None) -> list[Warning]:
    query = sql.SQL("SELECT {cols} {src} WHERE {cond} ORDER BY {order}").format(
        cols=sql.SQL(WARNING_COLUMNS), src=sql.SQL(WARNING_FROM), cond=condition, order=sql.SQL(ORDERS[order]))
    params = {"levels": list(LEVELS), **params}
    if limit is not None:
        params["limit"] = int(limit)
        query += sql.SQL(" LIMIT %(limit)s")
    with conn.cursor(row_factory=dict_row) as cur:
        return [Warning(**r) for r in cur.execute(query, params)]


def fetch_warning(conn: psycopg.Connection, warning_id: int) -> Warning:
    """One warning by id (NotFound otherwise)."""
    try:
        warning_id = int(warning_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(f"warning {warning_id!r} not found") from exc
    found = _select(conn, sql.SQL("w.id = %(id)s"), {"id": warning_id})
    if not found:
        raise NotFound(f"warning {warning_id} not found")
    return found[0]


def fetch_warnings(conn: psycopg.Connection, *, states=OPEN_STATES, levels=None, street_code: str | None = None,
                   bbox: BBox | None = None, since: datetime | None = None, ids=None,
                   order: str = "severity", limit: int = 200) -> list[Warning]:
    """Warnings matching the filters (None = any), by default the open ones most severe first.

    ``order``: ``severity`` (red first, newest first within a level), ``newest`` (opened) or
    ``updated``. ``bbox`` is lon/lat EPSG:4326; ``since`` bounds ``opened_at``.
    """
    if order not in ORDERS:
        raise InvalidInput(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    if not isinstance(limit, int) or not 1 <= limit <= 10_000:
        raise InvalidInput(f"limit must be a whole number within 1..10000, got {limit!r}")
    parts, params = [sql.SQL("TRUE")], {}
    for name, values, known, column in (("state", states, STATES, "state"), ("level", levels, LEVELS, "level")):
        checked = _check_values(name, values, known)
        if checked is not None:
            params[column] = checked
            parts.append(sql.SQL("w.{} = ANY({})").format(sql.Identifier(column), sql.Placeholder(column)))
    if street_code:
        params["street"] = str(street_code)
        parts.append(sql.SQL("w.street_code = %(street)s"))
    if since is not None:
        params["since"] = since
        parts.append(sql.SQL("w.opened_at >= %(since)s"))
    if ids is not None:
        params["ids"] = [int(i) for i in ids]
        parts.append(sql.SQL("w.id = ANY(%(ids)s)"))
    if bbox is not None:
        params.update(minx=bbox.minlon, miny=bbox.minlat, maxx=bbox.maxlon, maxy=bbox.maxlat)
        parts.append(sql.SQL("w.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"))
    return _select(conn, sql.SQL(" AND ").join(parts), params, order, limit)


def fetch_warning_counts(conn: psycopg.Connection, street_code: str | None = None,
                         states=OPEN_STATES) -> dict[str, int]:
    """Open warnings per level for the district or one street: ``{"blue": n, "yellow": n,
    "orange": n, "red": n}`` (every level present, 0 when none).

    "Open" means active or acknowledged (not yet dismissed or turned into a case); pass
    ``states=("active",)`` for only those nobody has acknowledged yet.
    """
    states = _check_values("state", states, STATES)
    rows = dict(conn.execute(_COUNTS, {"states": states, "street": street_code}).fetchall())
    return {level: int(rows.get(level, 0)) for level in LEVELS}


def fetch_newest_warnings(conn: psycopg.Connection, limit: int = 20, street_code: str | None = None,
                          states=OPEN_STATES) -> list[Warning]:
    """The newest open warnings first (a ticker): :class:`Warning` records, at most ``limit``."""
    return fetch_warnings(conn, states=states, street_code=street_code, order="newest", limit=limit)


def fetch_warning_events(conn: psycopg.Connection, warning_id: int) -> list[dict]:
    """A warning's event log, oldest first: ``id, at, action, from_state, to_state, level, value,
    actor, note``."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_EVENTS, (int(warning_id),)).fetchall()


def fetch_warning_cursor(conn: psycopg.Connection) -> int:
    """The newest warning event id (0 when none): the starting cursor for live deltas."""
    return int(conn.execute(_CURSOR).fetchone()[0])


def fetch_warning_changes_since(conn: psycopg.Connection, cursor: int, limit: int = 500) -> tuple[list[Warning], int]:
    """Warnings touched by events after ``cursor`` (in their current state) and the new cursor
    (``cursor`` itself when nothing happened); the oldest-touched first when over ``limit``."""
    try:
        cursor = int(cursor)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"cursor must be a whole number, got {cursor!r}") from exc
    touched = conn.execute(_TOUCHED, (cursor, int(limit))).fetchall()
    if not touched:
        return [], cursor
    found = _select(conn, sql.SQL("w.id = ANY(%(ids)s)"), {"ids": [w for w, _ in touched]}, "updated")
    return found, max(last for _, last in touched)


def fetch_warning_for_case(conn: psycopg.Connection, case_id: int) -> Warning | None:
    """The warning a case was made from (either link direction), or None."""
    row = conn.execute(_FOR_CASE, (int(case_id), int(case_id))).fetchone()
    return fetch_warning(conn, row[0]) if row else None


def fetch_alarms_between(conn: psycopg.Connection, after: int, upto: int, levels=("red",)) -> list[Warning]:
    """Warnings that opened or escalated to one of ``levels`` by events in (``after``, ``upto``]
    (event ids) and are still active: what a live screen announces."""
    levels = _check_values("level", levels, LEVELS)
    ids = [r[0] for r in conn.execute(_ALARMS, (int(after), int(upto), levels))]
    if not ids:
        return []
    return [w for w in fetch_warnings(conn, states=("active",), ids=ids, order="newest") if w.level in levels]
