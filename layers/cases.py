"""Live case layer: the filter from the page controls, viewport-bounded case points and deltas.

Each case travels as one GeoJSON point (lon/lat, EPSG:4326 — shifted for GCJ-02 base maps by
:mod:`layers.display`) whose properties are also the case table's row, so the map and the
table share one list in the browser. After the first load only *changes* travel: the cases
touched by events after the browser's cursor, and the ids that left the filter or the view.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from geodata import cases as gc
from geodata.cases.map_queries import fetch_place_names, fetch_streets
from geodata.db import pooled
from geodata.errors import InvalidInput
from geodata.geometry import BBox
from geodata.settings import get_settings
from layers.case_report import category_options
from layers.display import lonlat_to_display
from layers.view import View

#: Pattern-matching id type of a button that opens a case in the drawer (callbacks.case_drawer).
CASE_LINK_TYPE = "og-case-link"


def case_link_id(case_id: int, panel: str) -> dict:
    """The id of a link to ``case_id`` in ``panel`` ("warning", "risk", "drawer", …): a case can be
    linked from several panels shown at once, and Dash needs every id on the page to be unique."""
    return {"type": CASE_LINK_TYPE, "case": int(case_id), "panel": panel}


#: Time windows of the filter (on reported_at): today = since local midnight.
WINDOWS = ("today", "7d", "30d", "90d")
DEFAULT_WINDOW = "7d"
#: Case points per viewport at most (the table pages through the same list).
CASE_CAP = 1500
#: Changed cases per live tick at most (the rest come on the next tick).
DELTA_LIMIT = 500


def window_since(window: str | None, now: datetime | None = None) -> datetime:
    """Start of the time ``window`` (``today``/``7d``/``30d``/``90d``) as an aware datetime in the
    configured time zone; unknown windows raise InvalidInput."""
    window = window or DEFAULT_WINDOW
    if window not in WINDOWS:
        raise InvalidInput(f"time window must be one of {', '.join(WINDOWS)}, got {window!r}")
    now = now or datetime.now(ZoneInfo(get_settings().timezone))
    now = now.astimezone(ZoneInfo(get_settings().timezone))
    if window == "today":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now - timedelta(days=int(window[:-1]))


def parse_filter(values: dict | None, now: datetime | None = None) -> gc.CaseFilter:
    """The page's filter store ``{states, categories, channels, streets, window}`` (lists; empty
    or missing = all) → :class:`geodata.cases.CaseFilter` (InvalidInput on unknown values)."""
    values = values or {}

    def _pick(name):
        chosen = values.get(name)
        return tuple(chosen) if chosen else None

    return gc.CaseFilter(states=_pick("states"), categories=_pick("categories"), channels=_pick("channels"),
                         streets=_pick("streets"), since=window_since(values.get("window"), now))


def matches(case: gc.Case, flt: gc.CaseFilter, bbox=None) -> bool:
    """True when ``case`` belongs on the map for ``flt`` and the lon/lat ``bbox`` tuple
    ``(minlon, minlat, maxlon, maxlat)`` (None = anywhere)."""
    for name, value in (("states", case.state), ("categories", case.category_code),
                        ("channels", case.channel), ("streets", case.street_code)):
        chosen = getattr(flt, name)
        if chosen is not None and value not in chosen:
            return False
    if flt.since is not None and case.reported_at < flt.since:
        return False
    if flt.until is not None and case.reported_at >= flt.until:
        return False
    if bbox is not None:
        minlon, minlat, maxlon, maxlat = bbox
        if not (minlon <= case.lon <= maxlon and minlat <= case.lat <= maxlat):
            return False
    return True


def local_time(value: datetime | None) -> str:
    """``MM-DD HH:MM`` in the configured time zone ('' for None)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(get_settings().timezone)).strftime("%m-%d %H:%M")


def case_feature(case: gc.Case, names: dict, t: dict, lang: str) -> dict:
    """One case as a GeoJSON point whose properties are also its table row."""
    lon, lat = lonlat_to_display(case.lon, case.lat)
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
            "properties": {
                "id": case.id, "code": case.code, "s": case.state, "o": int(case.overdue),
                "state": t[f"state_{case.state}"],
                "category": case.category_name_en if lang == "en" else case.category_name_zh,
                "channel": t[f"channel_{case.channel}"],
                "street": names.get(case.street_code, case.street_code),
                "reported": local_time(case.reported_at),
                "overdue": t["overdue_flag"] if case.overdue else "",
            }}


def case_features(conn, found: list[gc.Case], t: dict, lang: str) -> list[dict]:
    names = fetch_place_names(conn, areas={c.street_code for c in found})
    return [case_feature(c, names, t, lang) for c in found]


def build_case_layer(conn, view: View, flt: gc.CaseFilter, t: dict, lang: str, cap: int = CASE_CAP) -> dict:
    """Cases matching ``flt`` in the viewport, newest first, at most ``cap``: a GeoJSON
    FeatureCollection with ``truncated`` and the live ``cursor`` (the newest event id, read
    *before* the cases, so a change committed in between arrives again as a delta)."""
    cursor, checked = gc.fetch_event_cursor(conn), gc.fetch_db_now(conn)
    found = gc.fetch_cases(conn, flt, bbox=view.bbox, limit=cap + 1)
    truncated = len(found) > cap
    return {"type": "FeatureCollection", "features": case_features(conn, found[:cap], t, lang),
            "truncated": truncated, "cursor": cursor, "checked": checked.isoformat()}


def build_delta(conn, cursor: int, flt: gc.CaseFilter, bbox, t: dict, lang: str,
                checked: str | None = None) -> dict | None:
    """What changed since ``cursor`` (events) and ``checked`` (the clock at the previous
    answer): ``{cursor, checked, upsert: [features], remove: [ids]}``, or None when nothing did.

    Changed cases that no longer match ``flt``/``bbox`` (e.g. closed under an open-states
    filter) are listed in ``remove`` — the browser drops them if it shows them. Open cases in
    view whose deadline passed since ``checked`` are upserted too, so they turn overdue on the
    screen without any event."""
    changed, new_cursor = gc.fetch_changes_since(conn, cursor, None, limit=DELTA_LIMIT)
    due: list = []
    now = None
    if checked:
        due, now = gc.fetch_turned_overdue(conn, datetime.fromisoformat(checked), flt,
                                           bbox=BBox(*bbox), limit=DELTA_LIMIT)
        seen = {c.id for c in changed}
        due = [c for c in due if c.id not in seen]
    if not changed and not due and new_cursor == cursor:
        return None
    keep = [c for c in changed if matches(c, flt, bbox)] + due
    return {"cursor": new_cursor, "checked": now.isoformat() if due else checked,
            "upsert": case_features(conn, keep, t, lang),
            "remove": [c.id for c in changed if not matches(c, flt, bbox)]}


def build_case_choices(lang: str) -> dict:
    """Choices for the page's filters and report form (one pooled connection): ``categories``
    (dropdown options, grouped label) and ``streets`` (options by code)."""
    with pooled() as conn:
        categories = gc.fetch_categories(conn)
        streets = fetch_streets(conn)
    return {"categories": category_options(categories, lang),
            "streets": [{"label": s["name"], "value": s["code"]} for s in streets]}
