"""Small reads the command map needs around cases: filter choices and place names.

Everything else the map shows comes from the public case API (``fetch_cases``,
``fetch_changes_since``, ``fetch_kpis`` …). Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

_STREETS = "SELECT code, name FROM admin_area WHERE level = 'street' ORDER BY code"
_AREA_NAMES = "SELECT code, name FROM admin_area WHERE code = ANY(%s)"
_GRID_NAMES = "SELECT code, name FROM grid WHERE code = ANY(%s)"


def fetch_streets(conn: psycopg.Connection) -> list[dict]:
    """Streets/towns of the district for the street filter: ``code, name`` by code."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_STREETS).fetchall()


def fetch_place_names(conn: psycopg.Connection, *, grids=(), areas=()) -> dict[str, str]:
    """``{code: name}`` for the given grid codes and admin-area (street/community) codes.

    Unknown codes are simply absent; ``None`` entries are ignored.
    """
    names: dict[str, str] = {}
    for query, codes in ((_GRID_NAMES, grids), (_AREA_NAMES, areas)):
        wanted = [str(c) for c in codes if c]
        if wanted:
            names.update(dict(conn.execute(query, (wanted,)).fetchall()))
    return names


def fetch_case_id(conn: psycopg.Connection, ref) -> int | None:
    """The id of the case a user named by its code (e.g. ``C202405010001``) or id; None if none."""
    text = str(ref or "").strip()
    if not text:
        return None
    row = conn.execute("SELECT id FROM cases WHERE code = %s", (text,)).fetchone()
    if row is None and text.lstrip("#").isdigit():
        row = conn.execute("SELECT id FROM cases WHERE id = %s", (int(text.lstrip("#")),)).fetchone()
    return int(row[0]) if row else None


def fetch_case_codes(conn: psycopg.Connection, case_ids) -> dict[int, str]:
    """``{id: code}`` for the given case ids (links such as "likely duplicate of …")."""
    wanted = [int(i) for i in case_ids if i is not None]
    if not wanted:
        return {}
    return dict(conn.execute("SELECT id, code FROM cases WHERE id = ANY(%s)", (wanted,)).fetchall())
