"""Case drawer: one case's details, its event timeline and the workflow actions it allows now.

Only the legal next actions get a button (from :data:`geodata.cases.ACTIONS`); the inputs some
actions need (department, satisfaction, duplicate, note) sit below them.
"""

from __future__ import annotations

from dash import dcc, html

from geodata import cases as gc
from geodata import warnings as gw
from geodata.cases.map_queries import fetch_case_codes, fetch_case_id, fetch_place_names
from geodata.errors import InvalidInput
from layers.cases import case_link_id, local_time
from layers.warnings import ITEM_TYPE
from layers.widgets import dropdown

#: Pattern-matching id type of the action buttons (``{"type": ACTION_TYPE, "action": name}``).
ACTION_TYPE = "og-case-action"
#: Fixed ids of the action inputs inside the drawer body.
NOTE, DEPARTMENT, SATISFACTION, DUPLICATE = "og-case-note", "og-case-department", "og-case-satisfaction", "og-case-duplicate"


def _row(label: str, value) -> html.Div:
    return html.Div([html.Span(label, className="og-k"), html.Span(value if value not in (None, "") else "—",
                                                                    className="og-v")], className="og-row")


def _place(names: dict, code: str | None) -> str:
    return f"{names[code]} · {code}" if code in names else (code or "—")


def _details(case: gc.Case, names: dict, dup_code: str | None, departments: dict, t: dict, lang: str) -> list:
    dept = departments.get(case.department_code)
    rows = [
        _row(t["case_category"], case.category_name_en if lang == "en" else case.category_name_zh),
        _row(t["case_channel"], t[f"channel_{case.channel}"]),
        _row(t["case_address"], case.address_text),
        _row(t["level_grid"], _place(names, case.grid_code)),
        _row(t["level_community"], _place(names, case.community_code)),
        _row(t["level_street"], _place(names, case.street_code)),
        _row(t["case_department"], (dept["name_en"] if lang == "en" else dept["name_zh"]) if dept else case.department_code),
        _row(t["case_reported"], local_time(case.reported_at)),
        _row(t["case_dispatched"], local_time(case.dispatched_at)),
        _row(t["case_deadline"], local_time(case.deadline_at)),
        _row(t["case_closed"], local_time(case.closed_at)),
    ]
    if case.duplicate_of is not None:
        rows.append(html.Div([t["likely_duplicate"], " ",
                              html.Button(dup_code or f"#{case.duplicate_of}", id=case_link_id(case.duplicate_of, "drawer"), className="og-link", n_clicks=0)],
                             className="og-dup"))
    if case.description:
        rows.append(html.P(case.description, className="og-case-desc"))
    return rows


def _warning_link(conn, case: gc.Case, t: dict, lang: str) -> list:
    """The IoT warning a case was made from, as a button that opens it in the warning panel."""
    w = gw.fetch_warning_for_case(conn, case.id)
    if w is None:
        return []
    label = f"{t[f'warn_level_{w.level}']} · {w.kind_name_en if lang == 'en' else w.kind_name_zh} · {w.sensor_code}"
    return [html.Div([html.Span(t["warn_from"], className="og-k"), " ",
                      html.Button(label, id={"type": ITEM_TYPE, "id": w.id, "src": "case"}, n_clicks=0,
                                  className="og-link")], className="og-row")]


def _timeline(events: list[dict], departments: dict, t: dict, lang: str) -> html.Ol:
    items = []
    for e in reversed(events):  # newest first: what an operator looks for
        head = [html.B(t.get(f"action_{e['action']}", e["action"])), " ", html.Span(e["actor"] or "", className="og-k")]
        sub = [local_time(e["at"])]
        if e["to_state"]:
            sub.append(" → " + t.get(f"state_{e['to_state']}", e["to_state"]))
        if e["department_code"]:
            dept = departments.get(e["department_code"])
            sub.append(" · " + ((dept["name_en"] if lang == "en" else dept["name_zh"]) if dept else e["department_code"]))
        items.append(html.Li([html.Div(head), html.Div(sub, className="og-k"),
                              html.Div(e["note"], className="og-note") if e["note"] else None]))
    return html.Ol(items, className="og-timeline")


def _action_form(case: gc.Case, allowed: list[str], dept_options: list[dict], t: dict) -> list:
    buttons = [html.Button(t[f"action_{a}"], id={"type": ACTION_TYPE, "action": a}, n_clicks=0,
                           className=f"og-act og-act-{a}") for a in allowed]
    if not allowed:
        return [html.P(t["no_actions"], className="og-hint")]
    # Every input exists whenever buttons do (the action callback reads them); the ones the
    # allowed actions do not need are hidden.
    return [
        html.Div(buttons, className="og-actions"),
        html.Div([html.Label(t["case_department"], className="og-k"),
                  dropdown(t, id=DEPARTMENT, options=dept_options, value=case.department_code, clearable=False)],
                 className="og-field" + ("" if "dispatch" in allowed else " og-hidden")),
        html.Div([html.Label(t["satisfaction"], className="og-k"),
                  dcc.RadioItems(id=SATISFACTION, options=[{"label": str(i), "value": i} for i in range(1, 6)],
                                 value=5, inline=True, className="og-radio")],
                 className="og-field" + ("" if "evaluate" in allowed else " og-hidden")),
        html.Div([html.Label(t["duplicate_of"], className="og-k"),
                  dcc.Input(id=DUPLICATE, type="text", debounce=False, placeholder=t["duplicate_hint"],
                            value=str(case.duplicate_of) if case.duplicate_of else "", className="og-input")],
                 className="og-field" + ("" if "mark_duplicate" in allowed else " og-hidden")),
        html.Div([html.Label(t["note"], className="og-k"),
                  dcc.Textarea(id=NOTE, value="", placeholder=t["note_hint"], className="og-input og-textarea")],
                 className="og-field"),
    ]


def build_drawer(conn, case_id: int, t: dict, lang: str) -> tuple[list, dict, gc.Case]:
    """Drawer children for one case, its ``{id, version}`` (for optimistic locking) and the case.

    NotFound for an unknown case.
    """
    case = gc.fetch_case(conn, case_id)
    events = gc.fetch_case_events(conn, case.id)
    names = fetch_place_names(conn, grids=[case.grid_code], areas=[case.community_code, case.street_code])
    dup_code = fetch_case_codes(conn, [case.duplicate_of]).get(case.duplicate_of)
    departments = {d["code"]: d for d in gc.fetch_departments(conn)}
    dept_options = [{"label": d["name_en"] if lang == "en" else d["name_zh"], "value": code}
                    for code, d in departments.items()]
    state_cls = "og-state og-state-" + case.state + (" og-state-overdue" if case.overdue else "")
    body = [
        html.Div([html.Span(t[f"state_{case.state}"], className=state_cls),
                  html.Span(t["overdue_flag"], className="og-overdue-badge") if case.overdue else None],
                 className="og-case-badges"),
        html.H3(case.code, className="og-detail-title"),
        *_details(case, names, dup_code, departments, t, lang),
        *_warning_link(conn, case, t, lang),
        html.Div(t["actions"], className="og-panel-title og-block"),
        *_action_form(case, gc.allowed_actions(case.state), dept_options, t),
        html.Div(t["timeline"], className="og-panel-title og-block"),
        _timeline(events, departments, t, lang),
    ]
    return body, {"id": case.id, "version": case.version}, case


def apply_action(conn, drawer_case: dict, action: str, *, actor: str, note: str = "", department=None,
                 satisfaction=None, duplicate_ref=None) -> gc.Case:
    """Run one workflow action on the drawer's case with its version (Conflict when someone else
    changed it since the drawer loaded); InvalidInput for an illegal action or missing input.
    Does not commit."""
    if not (actor or "").strip():
        raise InvalidInput("operator name is required (操作人)")
    duplicate_of = None
    if action == "mark_duplicate":
        duplicate_of = fetch_case_id(conn, duplicate_ref)
        if duplicate_of is None:
            raise InvalidInput(f"no case {duplicate_ref!r} to mark this one a duplicate of")
    return gc.transition(conn, int(drawer_case["id"]), action, actor=actor.strip(), note=(note or "").strip(),
                         expected_version=int(drawer_case["version"]),
                         department_code=department if action == "dispatch" else None,
                         duplicate_of=duplicate_of, satisfaction=satisfaction if action == "evaluate" else None)
