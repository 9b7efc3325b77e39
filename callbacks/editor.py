"""Grid editor callbacks: one dispatcher changes the draft (load, draw, split, merge, delete,
reshape, clip, undo, accept a suggestion, select); one validates it after every change.

Plain functions (:func:`change_draft`, :func:`check`) do the work so tests call them directly.
"""

from __future__ import annotations

import time

import dash
from dash import Input, Output, State, no_update

from callbacks.errors import log
from geodata.db import pooled
from geodata.errors import DatabaseUnavailable, OneGridError
from layers import editor as L

DRAW = {"mode": "draw"}


def message_of(exc: BaseException, t: dict) -> str:
    """The user-facing text for a failure (OneGrid errors say what to do; bugs only go to the log)."""
    if isinstance(exc, DatabaseUnavailable):
        return f"{t['error_db']} ({exc.message})"
    if isinstance(exc, OneGridError):
        return f"{t['ed_error']}{exc.message}"
    log.exception("editor callback failed", exc_info=exc)
    return t["error_internal"]


def _drawn(geojson: dict | None) -> dict | None:
    """The newest shape from leaflet-draw (GeoJSON Feature, lon/lat), if any."""
    features = (geojson or {}).get("features") or []
    return features[-1] if features else None


def _positions(draft: dict, code: str) -> list | None:
    """Leaflet [lat, lng] outer ring of grid ``code`` (its largest part)."""
    for f in draft["grids"]["features"]:
        if f["properties"]["code"] == code:
            g = f["geometry"]
            rings = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
            outer = max((r[0] for r in rings), key=len)
            return [[lat, lon] for lon, lat in outer[:-1]]
    return None


def _op_from_drawing(feature: dict, mode: dict) -> dict | None:
    geom = feature.get("geometry") or {}
    if mode.get("mode") == "reshape" and geom.get("type") == "Polygon":
        return {"op": "reshape", "code": mode["code"], "polygon": geom}
    if geom.get("type") == "LineString":
        return {"op": "split", "line": geom}
    if geom.get("type") == "Polygon" and (feature.get("properties") or {}).get("type") == "polygon":
        return {"op": "add", "polygon": geom}
    return None


def _select(selected: list, click: dict | None) -> list:
    code = ((click or {}).get("properties") or {}).get("code")
    if not code:
        return selected
    if code in selected:
        return [c for c in selected if c != code]
    return [*selected, code][-2:]


def change_draft(trigger: str, *, community, drawing, click, draft, undo, selected, mode, suggestion, t) -> tuple:
    """Plain function: (draft, undo, selected, message, mode, layer action) after ``trigger``.

    The layer action tells what happens to leaflet-draw's layer: ``False`` nothing, ``"clear"``
    drop the drawn shapes, ``"draw"`` / ``"reshape"`` rebuild it for drawing / vertex editing.
    """
    selected = list(selected or [])
    mode = mode or DRAW
    keep = no_update
    nothing = (keep,) * 5 + (False,)
    reset = "draw" if mode.get("mode") == "reshape" else "clear"
    if community and (draft is None or draft.get("community") != community):
        trigger = "community"  # first call (leaflet-draw's mount may be what fired) or a new choice
    try:
        with pooled() as conn:
            if trigger in ("community", "reload"):
                if not community:
                    return nothing
                return L.load_draft_json(conn, community), [], [], t["ed_none_selected"], DRAW, reset
            if trigger == "select":
                selected = _select(selected, click)
                text = t["ed_selected"].format(codes=", ".join(selected)) if selected else t["ed_none_selected"]
                return keep, keep, selected, text, keep, False
            if draft is None:
                return nothing
            if trigger == "undo":
                if not undo:
                    return nothing
                return undo[-1], undo[:-1], [], t["ed_undo"], DRAW, reset
            if trigger == "accept":
                if not suggestion:
                    return nothing
                return suggestion, L.push_undo(undo, draft), [], t["ed_accepted"], DRAW, reset
            if trigger == "reshape":
                if len(selected) != 1:
                    return keep, keep, keep, t["ed_none_selected"], keep, False
                return keep, keep, keep, t["ed_reshape_hint"], {"mode": "reshape", "code": selected[0]}, "reshape"
            op = _button_op(trigger, selected)
            if trigger == "draw":
                feature = _drawn(drawing)
                if feature is None or (feature.get("properties") or {}).get("_leaflet_id") == mode.get("last"):
                    return nothing  # nothing drawn, or a shape already applied being reported again
                op = _op_from_drawing(feature, mode)
                if op and op["op"] == "reshape" and _unchanged(draft, op):
                    return nothing  # leaflet-draw reports the grid as mounted: nothing moved yet
            if op is None:
                return nothing
            new, touched = L.edit_draft_json(conn, draft, op)
            done = {**DRAW, "last": (feature.get("properties") or {}).get("_leaflet_id")} if trigger == "draw" else DRAW
            return new, L.push_undo(undo, draft), [], f"{op['op']}: {', '.join(touched)}", done, reset
    except Exception as exc:  # noqa: BLE001 - shown as a message; the draft is unchanged
        return keep, keep, keep, message_of(exc, t), DRAW, reset if trigger == "draw" else False


def _button_op(trigger: str, selected: list) -> dict | None:
    if trigger == "merge" and len(selected) == 2:
        return {"op": "merge", "keep": selected[0], "other": selected[1]}
    if trigger == "delete" and len(selected) >= 1:
        return {"op": "delete", "code": selected[-1],
                "into": selected[0] if len(selected) == 2 else None}
    if trigger == "clip":
        return {"op": "clip"}
    return None


def _unchanged(draft: dict, op: dict) -> bool:
    ring = op["polygon"]["coordinates"][0]
    now = _positions(draft, op["code"]) or []
    return len(ring) - 1 == len(now) and all(
        abs(lon - p[1]) < 1e-9 and abs(lat - p[0]) < 1e-9 for (lon, lat), p in zip(ring[:-1], now, strict=True))


def check(draft, t) -> tuple:
    """Plain function: (grid features, problem features, issue list, info, clip button style, summary)."""
    if not draft:
        return L.EMPTY, L.EMPTY, [], "", {"display": "none"}
    try:
        with pooled() as conn:
            out = L.build_check(conn, draft, t)
    except Exception as exc:  # noqa: BLE001 - shown as a message
        return no_update, no_update, [dash.html.Li(message_of(exc, t), className="ed-issue ed-error")], \
            no_update, no_update
    items = [dash.html.Li(out["summary"], className="ed-summary " + ("ed-ok" if out["ok"] else "ed-bad"))]
    return (out["grids"], out["problems"], items + out["items"], out["info"],
            {"display": "block" if out["outside"] else "none"})


def community_from_click(click: dict | None):
    """Plain function: the community code of a clicked outline (no_update for anything else)."""
    code = ((click or {}).get("properties") or {}).get("code")
    return code if isinstance(code, str) and code else no_update


TRIGGERS = {"ed-community": "community", "ed-reload": "reload", "ed-edit-control": "draw", "ed-grids": "select",
            "ed-merge": "merge", "ed-delete": "delete", "ed-clip": "clip", "ed-undo-btn": "undo",
            "ed-reshape": "reshape", "ed-accept": "accept"}


def register(ids) -> None:
    @dash.callback(
        Output(ids.ED_DRAFT, "data"), Output(ids.ED_UNDO, "data"), Output(ids.ED_SELECTED, "data"),
        Output(ids.ED_MESSAGE, "children"), Output(ids.ED_MODE, "data"), Output(ids.ED_DRAW, "children"),
        Output(ids.ED_EDIT, "editToolbar"), Output(ids.ED_MAP, "viewport"),
        Input(ids.ED_COMMUNITY, "value"), Input(ids.ED_RELOAD, "n_clicks"), Input(ids.ED_EDIT, "geojson"),
        Input(ids.ED_GRIDS, "clickData"), Input(ids.ED_MERGE, "n_clicks"), Input(ids.ED_DELETE, "n_clicks"),
        Input(ids.ED_CLIP, "n_clicks"), Input(ids.ED_UNDO_BTN, "n_clicks"), Input(ids.ED_RESHAPE, "n_clicks"),
        Input(ids.ED_ACCEPT, "n_clicks"),
        State(ids.ED_DRAFT, "data"), State(ids.ED_UNDO, "data"), State(ids.ED_SELECTED, "data"),
        State(ids.ED_MODE, "data"), State(ids.ED_SUGGESTION, "data"), State(ids.ED_STRINGS, "data"),
    )
    def _change(community, _r, drawing, click, _m, _d, _c, _u, _s, _a, draft, undo, selected, mode, suggestion, t):
        trigger = TRIGGERS.get(dash.ctx.triggered_id, "community")
        new, undo, selected, message, mode_out, layer = change_draft(
            trigger, community=community, drawing=drawing, click=click, draft=draft, undo=undo,
            selected=selected, mode=mode, suggestion=suggestion, t=t)
        draw = toolbar = no_update
        if layer == "clear":  # leaflet-draw's own "clear all": the drawn line/polygon goes
            # n_clicks must change for every request; a clock in ms does that.
            toolbar = {"mode": "remove", "action": "clear all", "n_clicks": time.time_ns() // 1_000_000}
        elif layer:
            reshape = None
            if layer == "reshape":
                reshape = {"code": mode_out["code"], "positions": _positions(draft, mode_out["code"])}
            draw = L.edit_control(ids.ED_EDIT, reshape)
        viewport = no_update
        if isinstance(new, dict) and (draft or {}).get("community") != new.get("community"):
            bounds = L.bounds_of(new)
            viewport = {"bounds": bounds, "transition": "fitBounds"} if bounds else no_update
        return new, undo, selected, message, mode_out, draw, toolbar, viewport

    @dash.callback(
        Output(ids.ED_GRIDS, "data"), Output(ids.ED_PROBLEMS, "data"), Output(ids.ED_ISSUES, "children"),
        Output(ids.ED_INFO, "children"), Output(ids.ED_CLIP, "style"),
        Input(ids.ED_DRAFT, "data"), State(ids.ED_STRINGS, "data"),
    )
    def _check(draft, t):
        return check(draft, t)

    @dash.callback(Output(ids.ED_COMMUNITY, "value"), Input(ids.ED_COMMUNITIES, "clickData"),
                   prevent_initial_call=True)
    def _choose_on_map(click):
        return community_from_click(click)

    @dash.callback(Output(ids.ED_COMMUNITIES, "data"), Input(ids.ED_COMMUNITY, "value"), prevent_initial_call=True)
    def _hide_outlines(community):
        return L.EMPTY if community else no_update

    @dash.callback(Output(ids.ED_GRIDS, "hideout"), Input(ids.ED_SELECTED, "data"))
    def _highlight(selected):
        return {"selected": selected or []}
