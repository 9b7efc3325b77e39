"""SQL pieces shared by the case readers: the case columns and ``CaseFilter`` → WHERE.

Only fixed column names appear in the SQL built here; every value goes as a parameter.
Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

from datetime import datetime

from psycopg import sql

from geodata.cases.model import OPEN_STATES, Case, CaseFilter
from geodata.geometry import BBox

#: Columns of ``Case`` read from ``cases c`` joined to ``case_category k``. ``now()`` is the
#: transaction's start, so every case of one answer is judged overdue against the same instant.
CASE_COLUMNS = """
c.id, c.code, c.token::text AS token, c.category_code, k.name_zh AS category_name_zh,
k.name_en AS category_name_en, c.channel, c.state, c.description, c.address_text,
ST_X(c.geom) AS lon, ST_Y(c.geom) AS lat, c.grid_code, c.community_code, c.street_code,
c.department_code, c.duplicate_of, c.reported_at, c.dispatched_at, c.deadline_at, c.closed_at,
c.updated_at, c.version,
(c.state = ANY(%(open_states)s) AND c.deadline_at IS NOT NULL AND c.deadline_at < %(now)s) AS overdue,
c.attributes"""

CASE_FROM = "FROM cases c JOIN case_category k ON k.code = c.category_code"

#: CaseFilter tuple field → the column it filters.
_IN_COLUMNS = {
    "states": "state",
    "categories": "category_code",
    "channels": "channel",
    "streets": "street_code",
    "communities": "community_code",
    "departments": "department_code",
}


def base_params(now: datetime | None = None) -> dict:
    """Parameters every CASE_COLUMNS query needs."""
    return {"open_states": list(OPEN_STATES), "now": now if now is not None else datetime.now().astimezone()}


def where_clause(flt: CaseFilter | None, params: dict, *, bbox: BBox | None = None, time: bool = True,
                 alias: str = "c") -> sql.Composable:
    """``flt`` (and ``bbox``) as a SQL condition on ``alias``; values are added to ``params``.

    ``time=False`` leaves out ``since``/``until`` (the indicators apply them to other columns).
    Always returns a condition (``TRUE`` when nothing filters).
    """
    parts: list[sql.Composable] = [sql.SQL("TRUE")]
    a = sql.Identifier(alias)
    if flt is not None:
        for name, column in _IN_COLUMNS.items():
            values = getattr(flt, name)
            if values is not None:
                key = f"f_{name}"
                params[key] = list(values)
                parts.append(sql.SQL("{}.{} = ANY({})").format(a, sql.Identifier(column), sql.Placeholder(key)))
        if time and flt.since is not None:
            params["f_since"] = flt.since
            parts.append(sql.SQL("{}.reported_at >= %(f_since)s").format(a))
        if time and flt.until is not None:
            params["f_until"] = flt.until
            parts.append(sql.SQL("{}.reported_at < %(f_until)s").format(a))
        if flt.overdue_only:
            params.setdefault("open_states", list(OPEN_STATES))
            params.setdefault("now", datetime.now().astimezone())
            parts.append(sql.SQL("{a}.state = ANY(%(open_states)s) AND {a}.deadline_at < %(now)s").format(a=a))
    if bbox is not None:
        params.update(bminx=bbox.minlon, bminy=bbox.minlat, bmaxx=bbox.maxlon, bmaxy=bbox.maxlat)
        parts.append(sql.SQL("{}.geom && ST_MakeEnvelope(%(bminx)s, %(bminy)s, %(bmaxx)s, %(bmaxy)s, 4326)")
                     .format(a))
    return sql.SQL(" AND ").join(parts)


def case_from_row(row: dict) -> Case:
    """A ``dict_row`` of CASE_COLUMNS → :class:`Case`."""
    return Case(**{**row, "attributes": dict(row["attributes"] or {})})
