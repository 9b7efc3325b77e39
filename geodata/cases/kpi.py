"""Indicators: new today, open, overdue, 结案率 and 按期结案率, rankings, daily trend, grid stats.

Definitions (norms.md; CJ/T 214 practice):

- **due** (应结案数): cases whose ``deadline_at`` falls in the window — the filter's
  ``[since, until)`` or, by default, the 30 days up to ``now``. A deadline exists from
  dispatch on (``dispatched_at + time limit``).
- **closed** (结案数): of the due cases, those in state closed or evaluated.
- **closed on time** (按期结案数): of the closed, those with ``closed_at <= deadline_at``.
- **closure_rate** (结案率) = closed / due; **on_time_rate** (按期结案率) = closed on time /
  due; both fractions 0..1, ``None`` when nothing is due. Worked example: 972 due, 911 closed,
  737 on time → 0.9372 and 0.7582.
- **new_today**: reported since local midnight (``get_settings().timezone``) up to ``now``.
- **open** / **overdue**: open now (overdue: and past the deadline); with ``since``/``until``
  given, only cases reported in that window count.

The filter's other fields (categories, channels, streets, …) narrow every figure.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geodata.cases.filters import where_clause
from geodata.cases.model import CLOSED_STATES, OPEN_STATES, CaseFilter, check_aware
from geodata.errors import InvalidInput
from geodata.geometry import BBox
from geodata.settings import get_settings

WINDOW_DAYS = 30

# Aggregates shared by the totals and the rankings; {open_window} limits open/overdue to the
# reporting window when the filter has one.
_METRICS = """
count(*) FILTER (WHERE c.reported_at >= %(w_start)s AND c.reported_at < %(w_end)s) AS new,
count(*) FILTER (WHERE c.reported_at >= %(today)s AND c.reported_at < %(now)s) AS new_today,
count(*) FILTER (WHERE c.state = ANY(%(open_states)s) AND {open_window}) AS open,
count(*) FILTER (WHERE c.state = ANY(%(open_states)s) AND c.deadline_at < %(now)s AND {open_window}) AS overdue,
count(*) FILTER (WHERE c.deadline_at >= %(w_start)s AND c.deadline_at < %(w_end)s) AS due,
count(*) FILTER (WHERE c.deadline_at >= %(w_start)s AND c.deadline_at < %(w_end)s
                   AND c.state = ANY(%(closed_states)s)) AS closed,
count(*) FILTER (WHERE c.deadline_at >= %(w_start)s AND c.deadline_at < %(w_end)s
                   AND c.state = ANY(%(closed_states)s) AND c.closed_at <= c.deadline_at) AS closed_on_time"""
# Only rows that can count for something are read (each arm has an index).
_RELEVANT = """(c.reported_at >= least(%(w_start)s, %(today)s) OR c.state = ANY(%(open_states)s)
               OR c.deadline_at >= %(w_start)s)"""
_GROUPS = {
    "street": ("street_code", "SELECT code, name FROM admin_area WHERE level = 'street'"),
    "community": ("community_code", "SELECT code, name FROM admin_area WHERE level = 'community'"),
    "department": ("department_code", "SELECT code, name_zh AS name FROM department"),
}


def _window(flt: CaseFilter | None, now: datetime | None) -> dict:
    check_aware(now, "now")
    tz = ZoneInfo(get_settings().timezone)
    now = (now or datetime.now(tz)).astimezone(tz)
    start = flt.since if flt is not None and flt.since is not None else now - timedelta(days=WINDOW_DAYS)
    end = flt.until if flt is not None and flt.until is not None else now
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {"now": now, "today": today, "w_start": start, "w_end": end, "tz": tz.key,
            "open_states": list(OPEN_STATES), "closed_states": list(CLOSED_STATES)}


def _open_window(flt: CaseFilter | None) -> sql.Composable:
    if flt is None or (flt.since is None and flt.until is None):
        return sql.SQL("TRUE")
    return sql.SQL("c.reported_at >= %(w_start)s AND c.reported_at < %(w_end)s")


def _rates(row: dict) -> dict:
    due = row["due"]
    row["closure_rate"] = row["closed"] / due if due else None
    row["on_time_rate"] = row["closed_on_time"] / due if due else None
    return row


def fetch_kpis(conn: psycopg.Connection, flt: CaseFilter | None = None, *, now: datetime | None = None) -> dict:
    """Indicators for the filter (see the module docstring for every definition).

    Returns ``new_today, open, overdue, due, closed, closed_on_time, closure_rate,
    on_time_rate`` (rates are fractions 0..1 or None when nothing is due).
    """
    params = _window(flt, now)
    query = sql.SQL("SELECT {metrics} FROM cases c WHERE {cond} AND {relevant}").format(
        metrics=sql.SQL(_METRICS).format(open_window=_open_window(flt)),
        cond=where_clause(flt, params, time=False), relevant=sql.SQL(_RELEVANT))
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(query, params).fetchone()
    row.pop("new")
    return _rates(row)


def fetch_ranking(conn: psycopg.Connection, by: str, flt: CaseFilter | None = None, *,
                  now: datetime | None = None, limit: int = 20) -> list[dict]:
    """Indicators per street, community or department, best on-time rate first.

    Every street/community/department appears (zeros where it has no cases) up to ``limit``.
    Returns dicts ``code, name, new, open, overdue, due, closed, closure_rate, on_time_rate``
    (``new`` counts cases reported in the window).
    """
    if by not in _GROUPS:
        raise InvalidInput(f"ranking by {by!r}: use one of {', '.join(_GROUPS)}")
    column, names = _GROUPS[by]
    params = _window(flt, now) | {"limit": int(limit)}
    query = sql.SQL("""
        WITH m AS (SELECT c.{col} AS code, {metrics} FROM cases c
                    WHERE {cond} AND {relevant} GROUP BY c.{col}),
             g AS ({names})
        SELECT g.code, g.name, coalesce(m.new, 0) AS new, coalesce(m.open, 0) AS open,
               coalesce(m.overdue, 0) AS overdue, coalesce(m.due, 0) AS due,
               coalesce(m.closed, 0) AS closed, coalesce(m.closed_on_time, 0) AS closed_on_time
          FROM g LEFT JOIN m ON m.code = g.code
         ORDER BY (coalesce(m.closed_on_time, 0)::float8 / nullif(m.due, 0)) DESC NULLS LAST,
                  coalesce(m.due, 0) DESC, g.code
         LIMIT %(limit)s""").format(
        col=sql.Identifier(column), metrics=sql.SQL(_METRICS).format(open_window=_open_window(flt)),
        cond=where_clause(flt, params, time=False), relevant=sql.SQL(_RELEVANT), names=sql.SQL(names))
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, params).fetchall()
    out = []
    for row in rows:
        row = _rates(row)
        row.pop("closed_on_time")
        out.append(row)
    return out


_TREND_NEW = """
SELECT (c.reported_at AT TIME ZONE %(tz)s)::date AS day, count(*) FROM cases c
 WHERE {cond} AND c.reported_at >= %(t_start)s AND c.reported_at < %(t_end)s GROUP BY 1"""
_TREND_CLOSED = """
SELECT (c.closed_at AT TIME ZONE %(tz)s)::date AS day, count(*) FROM cases c
 WHERE {cond} AND c.state = ANY(%(closed_states)s) AND c.closed_at >= %(t_start)s AND c.closed_at < %(t_end)s
 GROUP BY 1"""
# Open and past deadline at the end of each day (or at now for today): a case counts from the
# day of its deadline until the day it closed, so +1 on the first and -1 on the second (both
# clamped to the first day shown) and a running sum give the series in one pass. Only cases
# that were ever late in the range are read.
_TREND_OVERDUE = """
WITH late AS (
    SELECT c.deadline_at, c.closed_at FROM cases c
     WHERE {cond} AND c.deadline_at < %(now)s AND c.state NOT IN ('rejected', 'duplicate')
       AND (c.closed_at IS NULL OR (c.closed_at > c.deadline_at AND c.closed_at >= %(t_start)s)))
SELECT day, sum(delta) FROM (
    SELECT greatest((deadline_at AT TIME ZONE %(tz)s)::date, %(first)s) AS day, 1 AS delta FROM late
    UNION ALL
    SELECT greatest((closed_at AT TIME ZONE %(tz)s)::date, %(first)s), -1 FROM late WHERE closed_at IS NOT NULL
) marks GROUP BY day"""


def fetch_trend(conn: psycopg.Connection, flt: CaseFilter | None = None, *, days: int = 30,
                now: datetime | None = None) -> list[dict]:
    """Daily series for the last ``days`` local days up to today, oldest first.

    Each item: ``day`` (local date), ``new`` (reported that day), ``closed`` (closed or
    evaluated, by closing day), ``overdue_open`` (open and past deadline at the day's end —
    at ``now`` for today). ``since``/``until`` of the filter are ignored (the days are the window).
    """
    if not isinstance(days, int) or not 1 <= days <= 366:
        raise InvalidInput(f"days must be a whole number within 1..366, got {days!r}")
    params = _window(None, now)
    first: date = params["now"].date() - timedelta(days=days - 1)
    start = params["today"] - timedelta(days=days - 1)
    params |= {"first": first, "last": params["now"].date(), "t_start": start, "t_end": params["now"]}
    cond = where_clause(flt, params, time=False)
    counts: dict[str, dict] = {}
    for name, query in (("new", _TREND_NEW), ("closed", _TREND_CLOSED), ("overdue_open", _TREND_OVERDUE)):
        counts[name] = dict(conn.execute(sql.SQL(query).format(cond=cond), params).fetchall())
    series = [first + timedelta(days=i) for i in range(days)]
    out, running = [], 0
    for d in series:
        running += int(counts["overdue_open"].get(d, 0))
        out.append({"day": d, "new": int(counts["new"].get(d, 0)), "closed": int(counts["closed"].get(d, 0)),
                    "overdue_open": running})
    return out


def fetch_grid_case_stats(conn: psycopg.Connection, flt: CaseFilter | None = None, *,
                          bbox: BBox | None = None) -> dict[str, dict]:
    """Per grid: ``count`` (cases matching the filter, reported in its window), ``open``,
    ``overdue`` (open and past deadline now) and ``overdue_rate`` = overdue / open (None when
    nothing is open). ``bbox`` (lon/lat, EPSG:4326) limits cases to a viewport."""
    params = {"open_states": list(OPEN_STATES), "now": datetime.now().astimezone()}
    query = sql.SQL("""
        SELECT c.grid_code, count(*) AS count,
               count(*) FILTER (WHERE c.state = ANY(%(open_states)s)) AS open,
               count(*) FILTER (WHERE c.state = ANY(%(open_states)s) AND c.deadline_at < %(now)s) AS overdue
          FROM cases c WHERE {cond} AND c.grid_code IS NOT NULL GROUP BY c.grid_code""").format(
        cond=where_clause(flt, params, bbox=bbox))
    out = {}
    for grid, count, n_open, overdue in conn.execute(query, params):
        out[grid] = {"count": count, "open": n_open, "overdue": overdue,
                     "overdue_rate": overdue / n_open if n_open else None}
    return out
