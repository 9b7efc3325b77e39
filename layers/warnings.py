"""Warning panel: counts per level, the list of open warnings (most severe, then newest first),
one warning's details with the actions it allows now, and the red-warning announcement.

Actions go through :func:`geodata.warnings.act_on_warning` with the version the operator saw
(no lost updates); "turn into a case" links to the new case, which opens in the case drawer
(the drawer listens to :func:`layers.cases.case_link_id` buttons).
"""

from __future__ import annotations

from dash import dcc, html

from geodata import warnings as gw
from geodata.errors import InvalidInput
from layers.cases import case_link_id, local_time
from layers.legend import plain

#: Pattern-matching id types: list items and action buttons.
ITEM_TYPE = "og-warn-item"
ACTION_TYPE = "og-warn-action"
LIST_LIMIT = 30
#: Fixed id of the reason input inside the warning detail.
REASON = "og-warn-reason"


def _name(w: gw.Warning, lang: str) -> str:
    return w.kind_name_en if lang == "en" else w.kind_name_zh


def _level_chip(level: str, t: dict) -> html.Span:
    return html.Span(t[f"warn_level_{level}"], className=f"og-lv-chip og-lv-{level}")


def build_counts(counts: dict, t: dict) -> list:
    """Four level badges (red first) with the open count of each."""
    return [html.Span([html.B(str(counts.get(lv, 0))), " ", t[f"warn_level_{lv}"]],
                      className=f"og-warn-count og-lv-{lv}" + ("" if counts.get(lv) else " og-zero"),
                      **{"data-level": lv})
            for lv in reversed(gw.LEVELS)]


def warning_item(w: gw.Warning, t: dict, lang: str, selected: int | None = None) -> html.Button:
    """One list row: level chip, kind, sensor code, reading, time, state."""
    cls = f"og-warn-item og-lv-border-{w.level}" + (" og-warn-selected" if w.id == selected else "")
    return html.Button([
        _level_chip(w.level, t),
        html.Span(_name(w, lang), className="og-warn-kind"),
        html.Span(f"{w.value:.4g} {w.unit}", className="og-warn-value"),
        html.Span(w.sensor_code, className="og-k"),
        html.Span(local_time(w.opened_at), className="og-k"),
        html.Span(t[f"warn_state_{w.state}"], className=f"og-warn-state og-warn-{w.state}"),
    ], id={"type": ITEM_TYPE, "id": w.id, "src": "list"}, n_clicks=0, className=cls, **{"data-warning": w.id})


def build_warning_list(conn, t: dict, lang: str, selected: int | None = None, limit: int = LIST_LIMIT) -> tuple:
    """(count badges, list rows) of the open warnings, most severe then newest first, as plain
    JSON (:func:`layers.legend.plain`): they travel beside the sensor layer's GeoJSON, which a
    component in the response would send through Dash's Python JSON path (~80–135 ms for the
    district's 1,850 sensors, ~8 ms with orjson)."""
    counts = gw.fetch_warning_counts(conn)
    found = gw.fetch_warnings(conn, order="severity", limit=limit)
    rows = [warning_item(w, t, lang, selected) for w in found] or [html.P(t["warn_empty"], className="og-hint")]
    return plain(build_counts(counts, t)), plain(rows)


def _row(label: str, value) -> html.Div:
    return html.Div([html.Span(label, className="og-k"), html.Span(value if value not in (None, "") else "—",
                                                                    className="og-v")], className="og-row")


def build_warning_detail(conn, warning_id: int, t: dict, lang: str) -> tuple[list, dict, gw.Warning]:
    """Detail children, ``{id, version}`` (optimistic lock) and the warning (NotFound if none)."""
    w = gw.fetch_warning(conn, warning_id)
    allowed = gw.allowed_warning_actions(w.state)
    rows = [
        html.Div([_level_chip(w.level, t), html.Span(t[f"warn_state_{w.state}"],
                                                     className=f"og-warn-state og-warn-{w.state}")],
                 className="og-case-badges"),
        html.H3(f"{_name(w, lang)} · {w.sensor_code}", className="og-detail-title"),
        _row(t["warn_sensor"], w.sensor_name or w.sensor_code),
        _row(t["warn_value"], f"{w.value:.4g} {w.unit}"),
        _row(t["warn_opened"], local_time(w.opened_at)),
        _row(t["warn_first_level"], t[f"warn_level_{w.first_level}"]),
    ]
    if w.dismiss_reason:
        rows.append(_row(t["warn_reason"], w.dismiss_reason))
    if w.case_id:
        rows.append(html.Div([html.Span(t["warn_case"], className="og-k"), " ",
                              html.Button(w.case_code or f"#{w.case_id}", id=case_link_id(w.case_id, "warning"),
                                          n_clicks=0, className="og-link")], className="og-row"))
    if allowed:
        rows += [html.Div([html.Button(t[f"warn_action_{a}"], id={"type": ACTION_TYPE, "action": a}, n_clicks=0,
                                       className=f"og-act og-warn-act-{a}") for a in allowed], className="og-actions"),
                 dcc.Input(id=REASON, type="text", value="", placeholder=t["warn_reason_hint"],
                           className="og-input og-warn-reason", debounce=False)]
    else:
        rows.append(html.P(t["warn_no_actions"], className="og-hint"))
    events = gw.fetch_warning_events(conn, w.id)
    rows.append(html.Ol([html.Li([html.B(t.get(f"warn_event_{e['action']}", e["action"])), " ",
                                  html.Span(f"{local_time(e['at'])} · {e['actor']} · {t['warn_level_' + e['level']]}",
                                            className="og-k"),
                                  html.Div(e["note"], className="og-note") if e["note"] else None])
                         for e in reversed(events)], className="og-timeline"))
    return rows, {"id": w.id, "version": w.version}, w


def apply_warning_action(conn, selected: dict, action: str, *, actor: str, reason: str = "") -> gw.Warning:
    """Run ``action`` on the selected warning with its version (Conflict when someone else
    changed it since it was shown). Does not commit."""
    if not (actor or "").strip():
        raise InvalidInput("operator name is required (操作人)")
    return gw.act_on_warning(conn, int(selected["id"]), action, actor=actor.strip(), reason=(reason or "").strip(),
                             expected_version=int(selected["version"]))


def alarm_text(w: gw.Warning, t: dict, lang: str) -> str:
    """The announcement line of a red warning (level, kind, reading, sensor, time)."""
    return (f"{t['alarm_new_red']} · {_name(w, lang)} · {w.value:.4g} {w.unit} · {w.sensor_code}"
            f"{(' · ' + w.sensor_name) if w.sensor_name else ''} · {local_time(w.opened_at)}")
