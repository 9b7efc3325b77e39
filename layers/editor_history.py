"""Grid editor: saving, the version history (list, view, diff, rollback) and suggestions.

GeoJSON out is lon/lat (EPSG:4326).
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dash import html
from shapely.geometry import mapping

from geodata.errors import InvalidInput
from geodata.grids import editor as E
from geodata.grids import store
from geodata.grids.suggestions import fetch_suggestion, start_suggestion
from geodata.settings import get_settings


def parse_effective(text: str | None) -> datetime | None:
    """``YYYY-MM-DD HH:MM`` (the district's time zone unless given) → aware datetime; empty → None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput(f"effective time {text!r} is not a date and time (YYYY-MM-DD HH:MM)") from exc
    return value if value.tzinfo else value.replace(tzinfo=ZoneInfo(get_settings().timezone))


def save_draft_json(conn, draft_json: dict, author: str, reason: str, effective: str | None) -> int:
    """Validate and save the browser's draft as a new version (caller commits)."""
    draft = E.draft_from_json(conn, draft_json)
    kind = "suggestion" if draft_json.get("suggested") else "edit"
    return E.save_draft(conn, draft, author=author, reason=reason, effective_at=parse_effective(effective),
                        kind=kind)


def _local(ts: datetime) -> str:
    return ts.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M")


def build_history(conn, community: str, t: dict) -> tuple[list, list[dict]]:
    """(the versions table, dropdown options) of the community, newest first."""
    versions = store.fetch_versions(conn, community)
    rows = [html.Tr([html.Td(v["version"]), html.Td(t[f"ed_kind_{v['kind']}"]), html.Td(v["author"]),
                     html.Td(_local(v["created_at"])), html.Td(v["grids"]), html.Td(v["reason"])])
            for v in versions]
    options = [{"label": f"v{v['version']} · {_local(v['created_at'])} · {v['author']}", "value": v["version"]}
               for v in versions]
    return [html.Table(html.Tbody(rows), className="ed-table ed-versions")] if rows else [], options


def build_version_overlay(conn, community: str, version: int) -> dict:
    """Version ``version``'s grids as an overlay (change = "version")."""
    grids = store.fetch_version(conn, community, int(version))
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": c, "change": "version", "households": g["households"]},
         "geometry": mapping(g["geom"])} for c, g in grids.items()]}


def build_diff(conn, community: str, a: int, b: int, t: dict) -> tuple[list, dict]:
    """(the change table, overlay of B's grids and A's retired ones coloured by change)."""
    diff = store.fetch_diff(conn, community, int(a), int(b))
    va, vb = store.fetch_version(conn, community, int(a)), store.fetch_version(conn, community, int(b))
    features = []
    for d in diff:
        geom = (vb.get(d["code"]) or va.get(d["code"]))["geom"]
        features.append({"type": "Feature", "properties": {"code": d["code"], "change": d["change"]},
                         "geometry": mapping(geom)})
    rows = [html.Tr([html.Td(d["code"]), html.Td(t[f"ed_change_{d['change']}"], className=f"ed-{d['change']}"),
                     html.Td(_area(d["area_a"])), html.Td(_area(d["area_b"])),
                     html.Td(_num(d["households_a"])), html.Td(_num(d["households_b"]))])
            for d in diff if d["change"] != "same"]
    head = html.Tr([html.Th(t["ed_col_grid"]), html.Th(""), html.Th("A km²"), html.Th("B km²"),
                    html.Th(f"A {t['ed_col_households']}"), html.Th(f"B {t['ed_col_households']}")])
    return [html.Table([html.Thead(head), html.Tbody(rows)], className="ed-table")], {
        "type": "FeatureCollection", "features": features}


def _area(m2) -> str:
    return "" if m2 is None else f"{m2 / 1e6:.3f}"


def _num(v) -> str:
    return "" if v is None else f"{v:,}"


def rollback_json(conn, draft_json: dict, version: int, author: str, reason: str) -> int:
    """Roll the draft's community back to ``version`` as a new version (caller commits)."""
    return E.rollback(conn, str(draft_json["community"]), int(version), base_version=int(draft_json["base"]),
                      author=author, reason=reason)


def start_suggestion_job(community: str) -> int:
    """Start computing suggested grids in the background; returns the job id to poll."""
    return start_suggestion(community)


def poll_suggestion(conn, job: int) -> dict:
    """{status, pct, result (draft for the browser, marked as a suggestion), message}."""
    state = fetch_suggestion(conn, int(job))
    result = state["result"]
    if result is not None:
        result = {**result, "suggested": True}
    return {"status": state["status"], "pct": round(100 * float(state["progress"])), "result": result,
            "message": state["message"]}
