"""The command-centre wall screen (``/screen``): views to rotate through, the figures around the
map (case KPIs, warnings by level, 30-day trend, street ranking), the ticker of the newest cases
and warnings, and the sensor layer of the wall map (the command map's).

Case figures are :mod:`layers.case_stats` (definitions of :mod:`geodata.cases.kpi`); warnings
come from :mod:`geodata.warnings`. Coordinates are EPSG:4326 (lon, lat) degrees, shifted for
GCJ-02 base maps by :mod:`layers.display`; Leaflet bounds are [[south, west], [north, east]].
"""

from __future__ import annotations

from datetime import datetime

from dash import html

from geodata import cases as gc
from geodata import maps
from geodata.cases.map_queries import fetch_place_names, fetch_streets
from geodata.db import pooled
from geodata.warnings import LEVELS, fetch_newest_warnings, fetch_warning_counts
from geodata.warnings.read import fetch_warning_cursor
from layers.case_stats import build_kpis, build_ranking, build_trend
from layers.cases import local_time
from layers.display import bounds_from_display, lonlat_to_display
from layers.sensors import build_sensor_layer
from layers.view import parse_view

TICKER_ITEMS = 12
RANK_ROWS = 10


def _leaflet_bounds(bbox) -> list[list[float]]:
    (west, south), (east, north) = lonlat_to_display(bbox[0], bbox[1]), lonlat_to_display(bbox[2], bbox[3])
    return [[south, west], [north, east]]


def build_views(lang: str, t: dict) -> list[dict]:
    """The views the screen rotates through: the district, then each street/town, each as
    ``{code (None = district), name, bounds}``. Empty when no data is loaded."""
    with pooled() as conn:
        extent = maps.fetch_extent(conn)
        if extent.bbox is None:
            return []
        views = [{"code": None, "name": extent.district_name or t["product"],
                  "bounds": _leaflet_bounds(extent.bbox.as_tuple())}]
        for street in fetch_streets(conn):
            place = maps.fetch_place(conn, "area", street["code"])
            views.append({"code": street["code"], "name": street["name"], "bounds": _leaflet_bounds(place["bbox"])})
    return views


def warning_tiles(counts: dict[str, int], t: dict) -> list:
    """One tile per level, red (I) first: count of open warnings."""
    return [html.Div([html.Div(f"{counts.get(level, 0):,}", className="og-wall-tile-value"),
                      html.Div(t[f"wall_level_{level}"], className="og-wall-tile-label")],
                     className=f"og-wall-tile og-warn-tile og-warn-{level}" + (" og-warn-on" if counts.get(level) else ""))
            for level in reversed(LEVELS)]


def ranking_table(rows: list[dict], t: dict) -> html.Table:
    """Street ranking (best 按期结案率 first) as a plain table for the wall."""
    cols = [("rank", "col_rank"), ("name", "col_name"), ("new", "col_new"), ("open", "col_open"),
            ("overdue", "col_overdue_n"), ("on_time_rate", "kpi_on_time_rate")]
    head = html.Thead(html.Tr([html.Th(t[k]) for _, k in cols]))
    body = html.Tbody([html.Tr([html.Td(r[c]) for c, _ in cols], className="og-wall-bad" if r["overdue"] else None)
                       for r in rows[:RANK_ROWS]])
    return html.Table([head, body], className="og-wall-table")


def ticker_items(cases: list, warnings: list, names: dict, t: dict, lang: str) -> list:
    """Newest cases and warnings merged, newest first: one line each (time, what, where)."""
    items = [(c.reported_at, "case", f"{local_time(c.reported_at)[6:]} {t['wall_case']} · "
              f"{c.category_name_en if lang == 'en' else c.category_name_zh} · {names.get(c.street_code, '')} · "
              f"{t['state_' + c.state]}", c.state) for c in cases]
    items += [(w.opened_at, "warn", f"{local_time(w.opened_at)[6:]} {t['wall_level_' + w.level]} · "
               f"{w.kind_name_en if lang == 'en' else w.kind_name_zh} {w.value:g} {w.unit} · {names.get(w.street_code, '')}",
               w.level) for w in warnings]
    items.sort(key=lambda item: item[0], reverse=True)
    return [html.Span(text, className=f"og-tick og-tick-{kind} og-tick-{tag}") for _, kind, text, tag in items[:TICKER_ITEMS]]


def fetch_wall_warning_cursor() -> int:
    """The newest warning event id: one indexed read per tick, so the wall redraws its sensors
    and warning figures only when a warning was raised, escalated or handled."""
    with pooled() as conn:
        return fetch_warning_cursor(conn)


def build_wall_sensors(bounds, zoom) -> dict:
    """The sensor layer of the wall map for Leaflet ``bounds`` (display CRS): the command map's
    own (:func:`layers.sensors.build_sensor_layer`, open warnings first), so the wall shows the
    same glyphs and level colours."""
    with pooled() as conn:
        view = parse_view(bounds_from_display(bounds), zoom, maps.fetch_extent(conn).bbox)
        fc = build_sensor_layer(conn, view)
    fc.pop("truncated")
    return fc


def build_wall(street: str | None, t: dict, lang: str, theme: str = "dark", now: datetime | None = None) -> dict:
    """Everything around the wall map for the district (``street`` None) or one street:
    ``kpis`` (tiles), ``warnings`` (tiles), ``trend`` (figure), ``ranking`` (table), ``ticker``
    (items)."""
    flt = gc.CaseFilter(streets=(street,) if street else None)
    with pooled() as conn:
        kpis = build_kpis(conn, flt, t)
        trend = build_trend(conn, flt, t, theme)
        ranking = build_ranking(conn, "street", gc.CaseFilter(), t)
        counts = fetch_warning_counts(conn, street)
        cases = gc.fetch_cases(conn, flt, limit=TICKER_ITEMS)
        warnings = fetch_newest_warnings(conn, TICKER_ITEMS, street)
        names = fetch_place_names(conn, areas={c.street_code for c in cases} | {w.street_code for w in warnings})
    # The wall names the chart in its own heading; the figure fills its box.
    trend.update_layout(height=None, autosize=True, margin={"l": 40, "r": 10, "t": 30, "b": 28},
                        font={"size": 14}, title={"text": ""}, legend={"font": {"size": 13}, "y": 1.12})
    return {"kpis": kpis, "warnings": warning_tiles(counts, t), "trend": trend, "ranking": ranking_table(ranking, t),
            "ticker": ticker_items(cases, warnings, names, t, lang)}
