"""``/briefing``: the daily briefing sheet (A4 portrait) that ``onegrid briefing`` and the
briefing button capture as PDF — today's figures, the map of today's cases, hotspots, the
overdue list and (district) the street ranking. Everything is inlined; no callbacks."""

from __future__ import annotations

import logging

import dash
from dash import html

from app.i18n import strings
from app.pages.print import map_box
from geodata.errors import OneGridError
from geodata.settings import get_settings
from layers.screen_briefing import build_briefing

dash.register_page(__name__, path="/briefing", name="Daily briefing",
                   title=lambda: f"OneGrid {strings(get_settings().lang)['brief_title']}")

log = logging.getLogger(__name__)


def _table(columns: list[tuple[str, str]], rows: list[dict], empty: str) -> html.Table | html.P:
    if not rows:
        return html.P(empty, className="og-brief-empty")
    head = html.Thead(html.Tr([html.Th(label) for _, label in columns]))
    body = html.Tbody([html.Tr([html.Td(row[key]) for key, _ in columns]) for row in rows])
    return html.Table([head, body], className="og-brief-table")


def _section(title: str, *children) -> html.Section:
    return html.Section([html.H2(title, className="og-brief-h2"), *children], className="og-brief-section")


def _body(b: dict, t: dict) -> list:
    lists = [
        _section(t["brief_hotspots"], _table([("rank", t["col_rank"]), ("grid", t["level_grid"]), ("count", t["brief_today_n"]),
                                              ("open", t["col_open"]), ("overdue", t["col_overdue_n"])],
                                             b["hotspots"], t["brief_none"])),
        _section(f"{t['brief_overdue']} ({b['overdue_total']})",
                 _table([("code", t["col_code"]), ("category", t["col_category"]), ("where", t["brief_where"]),
                         ("deadline", t["case_deadline"]), ("hours", t["brief_hours_over"])],
                        b["overdue"], t["brief_none"])),
    ]
    if b["ranking"]:
        lists.append(_section(t["brief_ranking"], _table(
            [("rank", t["col_rank"]), ("name", t["col_name"]), ("new", t["col_new"]), ("open", t["col_open"]),
             ("overdue", t["col_overdue_n"]), ("closure_rate", t["kpi_closure_rate"]),
             ("on_time_rate", t["kpi_on_time_rate"])], b["ranking"][:12], t["brief_none"])))
    sheet = b["sheet"]
    return [
        html.Header([html.H1(b["title"], className="og-sheet-title"),
                     html.Div(f"{b['date']} · {t['brief_rates_note']}", className="og-sheet-subtitle")],
                    className="og-sheet-head"),
        html.Div(b["kpis"], className="og-kpis og-brief-kpis"),
        _section(t["brief_map"], map_box(sheet, "og-brief-map"),
                 html.Div(sheet["legend"], className="og-sheet-legend og-brief-legend")),
        html.Div(lists, className="og-brief-lists"),
        html.Footer(sheet["source"], className="og-sheet-foot"),
    ]


def layout(street: str | None = None, lang: str | None = None, theme: str | None = None, **_query) -> html.Div:
    """The briefing of ``street`` (None: the district); a readable error sheet when refused."""
    lang = lang if lang in ("zh", "en") else "zh"
    theme = theme if theme in ("dark", "light") else "light"
    t = strings(lang)
    try:
        b = build_briefing(street or None, t, lang, theme)
    except OneGridError as exc:
        log.warning("briefing refused: %s", exc.message)
        return html.Div(html.Div(exc.message, id="og-print-error", className="og-sheet-error"),
                        className=f"og-root og-theme-{theme}")
    return html.Div(html.Div(_body(b, t), className="og-sheet og-brief", style={"--sf": "12px"}),
                    id="og-briefing-root", className=f"og-root og-print og-theme-{theme} og-lang-{lang}",
                    lang="zh-CN" if lang == "zh" else "en")
