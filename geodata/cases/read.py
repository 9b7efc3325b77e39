"""Reading cases: one case, lists by filter and viewport, the event log and live deltas.

Coordinates are EPSG:4326 (lon, lat), degrees. Nothing here returns reporter personal data.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geodata.cases.filters import CASE_COLUMNS, CASE_FROM, base_params, case_from_row, where_clause
from geodata.cases.model import Case, CaseFilter
from geodata.errors import InvalidInput, NotFound
from geodata.geometry import BBox

MAX_LIMIT = 50_000
#: order name → ORDER BY (fixed text, chosen from this whitelist only).
ORDERS = {
    "newest": "c.reported_at DESC, c.id DESC",
    "oldest": "c.reported_at, c.id",
    "updated": "c.updated_at DESC, c.id DESC",
    "deadline": "c.deadline_at NULLS LAST, c.id",
    "id": "c.id",
}

_EVENTS = """
SELECT id, at, action, from_state, to_state, actor, department_code, note
  FROM case_event WHERE case_id = %s ORDER BY id"""
_CURSOR = "SELECT coalesce(max(id), 0) FROM case_event"
_NOW = "SELECT now()"
_TOUCHED = """
SELECT case_id, max(id) AS last FROM case_event WHERE id > %s
 GROUP BY case_id ORDER BY last LIMIT %s"""


def _select(conn: psycopg.Connection, condition: sql.Composable, params: dict, *, order: str = "id",
            limit: int | None = None) -> list[Case]:
    query = sql.SQL("SELECT {cols} {src} WHERE {cond} ORDER BY {order}").format(
        cols=sql.SQL(CASE_COLUMNS), src=sql.SQL(CASE_FROM), cond=condition, order=sql.SQL(ORDERS[order]))
    if limit is not None:
        params["limit"] = limit
        query += sql.SQL(" LIMIT %(limit)s")
    with conn.cursor(row_factory=dict_row) as cur:
        return [case_from_row(r) for r in cur.execute(query, params)]


def fetch_case(conn: psycopg.Connection, case_id: int) -> Case:
    """One case by id (:class:`NotFound` when there is none)."""
    try:
        case_id = int(case_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(f"case {case_id!r} not found") from exc
    params = base_params() | {"id": case_id}
    found = _select(conn, sql.SQL("c.id = %(id)s"), params)
    if not found:
        raise NotFound(f"case {case_id} not found")
    return found[0]


def fetch_case_by_token(conn: psycopg.Connection, token: str) -> Case:
    """One case by its Open311 token (a UUID); :class:`NotFound` for unknown or malformed tokens."""
    text = str(token or "").strip().lower()
    try:
        uuid.UUID(text)
    except ValueError as exc:
        raise NotFound(f"no case with token {token!r}") from exc
    params = base_params() | {"token": text}
    found = _select(conn, sql.SQL("c.token = %(token)s::uuid"), params)
    if not found:
        raise NotFound(f"no case with token {token!r}")
    return found[0]


def fetch_case_events(conn: psycopg.Connection, case_id: int) -> list[dict]:
    """The case's event log, oldest first: ``id, at, action, from_state, to_state, actor,
    department_code, note`` (:class:`NotFound` for an unknown case)."""
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_EVENTS, (int(case_id),)).fetchall()
    if not rows and conn.execute("SELECT 1 FROM cases WHERE id = %s", (int(case_id),)).fetchone() is None:
        raise NotFound(f"case {case_id} not found")
    return rows


def fetch_cases(conn: psycopg.Connection, flt: CaseFilter | None = None, *, bbox: BBox | None = None,
                ids=None, limit: int = 1000, order: str = "newest") -> list[Case]:
    """Cases matching ``flt``, within ``bbox`` (lon/lat, EPSG:4326) and among ``ids`` when given.

    ``order``: newest (reported_at, default), oldest, updated, deadline or id. ``limit`` caps
    the answer (1..50,000).
    """
    if order not in ORDERS:
        raise InvalidInput(f"unknown order {order!r}; use one of {', '.join(ORDERS)}")
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number within 1..{MAX_LIMIT}, got {limit!r}")
    params = base_params()
    condition = where_clause(flt, params, bbox=bbox)
    if ids is not None:
        try:
            params["ids"] = [int(i) for i in ids]
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"ids must be whole numbers, got {ids!r}") from exc
        condition = sql.SQL("{} AND c.id = ANY(%(ids)s)").format(condition)
    return _select(conn, condition, params, order=order, limit=limit)


def fetch_event_cursor(conn: psycopg.Connection) -> int:
    """The id of the newest case event (0 when there is none): the starting cursor for deltas."""
    return int(conn.execute(_CURSOR).fetchone()[0])


def fetch_changes_since(conn: psycopg.Connection, cursor: int, flt: CaseFilter | None = None, *,
                        limit: int = 500) -> tuple[list[Case], int]:
    """Cases touched by events after ``cursor``, in their current state, and the new cursor.

    The new cursor is the largest event id seen (``cursor`` itself when nothing happened);
    with more than ``limit`` touched cases the oldest-touched come first and the rest arrive
    on the next call. With ``flt`` only cases that match it *now* are returned (a case that
    left the filter, e.g. closed under an open-states filter, is not): callers that must
    remove such cases ask without a state filter and filter themselves.
    """
    try:
        cursor = int(cursor)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"cursor must be a whole number, got {cursor!r}") from exc
    touched = conn.execute(_TOUCHED, (cursor, int(limit))).fetchall()
    if not touched:
        return [], cursor
    new_cursor = max(last for _, last in touched)
    params = base_params() | {"ids": [cid for cid, _ in touched]}
    condition = sql.SQL("{} AND c.id = ANY(%(ids)s)").format(where_clause(flt, params))
    return _select(conn, condition, params, order="updated"), new_cursor


def fetch_db_now(conn: psycopg.Connection) -> datetime:
    """The database's clock (the transaction's start): what deadlines are judged against."""
    return conn.execute(_NOW).fetchone()[0]


def fetch_turned_overdue(conn: psycopg.Connection, after: datetime, flt: CaseFilter | None = None, *,
                         bbox: BBox | None = None, limit: int = 500) -> tuple[list[Case], datetime]:
    """Open cases whose deadline passed after ``after`` and by now, and that now.

    No event marks the moment a case becomes overdue: time alone does it. A live view asks
    with the ``now`` of its previous call to learn which of its cases turned overdue since.
    """
    now = fetch_db_now(conn)
    params = base_params(now) | {"after": after, "until": now}
    condition = sql.SQL("{} AND c.state = ANY(%(open_states)s) AND c.deadline_at > %(after)s "
                        "AND c.deadline_at <= %(until)s").format(where_clause(flt, params, bbox=bbox))
    return _select(conn, condition, params, order="deadline", limit=int(limit)), now
