"""The daily briefing (每日简报) of the district or one street: today's figures, the map of the
day's cases, hotspots (grids with most cases today) and the overdue list.

Definitions are those of :mod:`geodata.cases.kpi`: 今日新增 since local midnight, 在办/超期
now, 结案率 and 按期结案率 over deadlines in the last 30 days.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from geodata import cases as gc
from geodata import maps
from geodata.cases.map_queries import fetch_place_names
from geodata.db import pooled
from geodata.settings import get_settings
from layers.case_stats import build_kpis, build_ranking
from layers.cases import local_time, window_since
from layers.screen_print import build_sheet
from layers.screen_spec import SnapshotSpec

HOTSPOTS = 8
OVERDUE_ROWS = 12
#: The briefing's map box in CSS pixels (A4 portrait, full width).
MAP_SIZE = (737, 400)


def _hotspots(conn, flt: gc.CaseFilter) -> list[dict]:
    stats = gc.fetch_grid_case_stats(conn, flt)
    top = sorted(stats.items(), key=lambda kv: (-kv[1]["count"], -kv[1]["overdue"], kv[0]))[:HOTSPOTS]
    names = fetch_place_names(conn, grids=[g for g, _ in top])
    return [{"rank": i + 1, "grid": names.get(g, g), "code": g, "count": s["count"], "open": s["open"],
             "overdue": s["overdue"]} for i, (g, s) in enumerate(top)]


def _overdue(conn, street: str | None, now: datetime, lang: str) -> tuple[list[dict], int]:
    flt = gc.CaseFilter(streets=(street,) if street else None, overdue_only=True)
    found = gc.fetch_cases(conn, flt, order="deadline", limit=5000)
    names = fetch_place_names(conn, areas={c.street_code for c in found[:OVERDUE_ROWS]},
                              grids={c.grid_code for c in found[:OVERDUE_ROWS]})
    rows = [{"code": c.code, "category": c.category_name_en if lang == "en" else c.category_name_zh,
             "where": names.get(c.grid_code) or names.get(c.street_code, c.street_code),
             "deadline": local_time(c.deadline_at),
             "hours": round((now - c.deadline_at).total_seconds() / 3600)} for c in found[:OVERDUE_ROWS]]
    return rows, len(found)


def build_briefing(street: str | None, t: dict, lang: str = "zh", theme: str = "light",
                   now: datetime | None = None) -> dict:
    """Everything the briefing page shows for ``street`` (None = the whole district).

    Returns ``title``, ``date``, ``kpis`` (components), ``sheet`` (the map, see
    :func:`layers.screen_print.build_sheet`, today's cases), ``hotspots`` (rows), ``overdue``
    (rows, most overdue first) and ``overdue_total``, ``ranking`` (street rows; district only).
    NotFound for an unknown street.
    """
    tz = ZoneInfo(get_settings().timezone)
    now = (now or datetime.now(tz)).astimezone(tz)
    spec = SnapshotSpec(street=street, layers=("outlines", "grids", "roads", "cases"), window="today",
                        streets=(street,) if street else (), lang=lang, theme=theme, size="A4",
                        orientation="portrait", title=" ")
    sheet = build_sheet(spec, t, now, map_size=MAP_SIZE)
    streets = (street,) if street else None
    with pooled() as conn:
        place = maps.fetch_place(conn, "area", street)["name"] if street else maps.fetch_extent(conn).district_name
        kpis = build_kpis(conn, gc.CaseFilter(streets=streets), t)
        hotspots = _hotspots(conn, gc.CaseFilter(streets=streets, since=window_since("today", now)))
        overdue, overdue_total = _overdue(conn, street, now, lang)
        ranking = [] if street else build_ranking(conn, "street", gc.CaseFilter(), t)
    return {"title": f"{place or t['product']} · {t['brief_title']}", "date": f"{now:%Y-%m-%d %H:%M} ({tz.key})",
            "kpis": kpis, "sheet": sheet, "hotspots": hotspots, "overdue": overdue, "overdue_total": overdue_total,
            "ranking": ranking}
