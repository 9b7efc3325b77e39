"""Planner page callbacks: thin — gather the form, one call into ``layers.planner``, return props."""

from __future__ import annotations

import dash
from dash import Input, Output, State, ctx, no_update

from geodata.errors import OneGridError
from layers import planner as pl
from layers import planner_view as view


def _form_states(ids) -> list[State]:
    names = ["kind", "radius", "min_age", "max_age", "tag", "detour", "network", "res", "level", "model", "k",
             "source", "candidate_res", "candidate_set", "address_text", "capacity", "time_limit", "existing_capacity"]
    comps = [ids.PL_KIND, ids.PL_RADIUS, ids.PL_MIN_AGE, ids.PL_MAX_AGE, ids.PL_TAG, ids.PL_DETOUR, ids.PL_NETWORK,
             ids.PL_RES, ids.PL_TABLE_LEVEL, ids.PL_MODEL, ids.PL_K, ids.PL_SOURCE, ids.PL_CAND_RES, ids.PL_CAND_SET,
             ids.PL_CAND_TEXT, ids.PL_CAPACITY, ids.PL_TIME_LIMIT, ids.PL_EXISTING_CAP]
    return names, [State(c, "value") for c in comps]


def _form(names, values) -> dict:
    v = dict(zip(names, values, strict=True))
    v["network"] = "network" in (v.get("network") or [])
    v["existing_capacity"] = "on" in (v.get("existing_capacity") or [])
    return v


def _error(t: dict, exc: OneGridError) -> str:
    return f"{t['error_prefix']}{exc.message}"


def register(ids) -> None:
    names, states = _form_states(ids)

    @dash.callback(Output(ids.PL_RADIUS, "value"), Output(ids.PL_MIN_AGE, "value"), Output(ids.PL_MAX_AGE, "value"),
                   Output(ids.PL_TAG, "value"), Output(ids.PL_LEVEL, "children"),
                   Input(ids.PL_KIND, "value"), State(ids.PL_DEFAULTS, "data"), State(ids.PL_STRINGS, "data"))
    def kind_defaults(kind, defaults, t):
        d = (defaults or {}).get(kind) or {}
        return d.get("radius"), d.get("min_age"), d.get("max_age"), d.get("tag"), view.level_view(d, t)

    @dash.callback(Output(ids.PL_FACILITIES, "data", allow_duplicate=True),
                   Output(ids.PL_MESSAGE, "children", allow_duplicate=True),
                   Input(ids.PL_KIND, "value"), State(ids.PL_STRINGS, "data"), prevent_initial_call=True)
    def kind_facilities(kind, t):
        # Where today's facilities of the chosen kind are, before (and without) any analysis.
        try:
            return pl.build_facilities(kind), ""
        except OneGridError as exc:
            return no_update, _error(t, exc)

    @dash.callback(Output(ids.PL_CELLS, "data"), Output(ids.PL_CATCHMENTS, "data"), Output(ids.PL_FACILITIES, "data"),
                   Output(ids.PL_MODE, "children"), Output(ids.PL_FIGURES, "children"), Output(ids.PL_TABLE, "children"),
                   Output(ids.PL_MESSAGE, "children"),
                   Input(ids.PL_COMPUTE, "n_clicks"), *states, State(ids.PL_STRINGS, "data"))
    def compute(_n, *args):
        *values, t = args
        v = _form(names, values)
        try:
            r = pl.build_coverage(v)
        except OneGridError as exc:
            return no_update, no_update, no_update, no_update, no_update, no_update, _error(t, exc)
        return (r["cells"], r["catchments"], r["facilities"], view.mode_view(r["mode"], v.get("detour"), t),
                view.figures_view(r["figures"], t), view.areas_view(r["areas"], t), "")

    @dash.callback(Output(ids.PL_JOB, "data"), Output(ids.PL_POLL, "disabled"),
                   Output(ids.PL_MESSAGE, "children", allow_duplicate=True),
                   Output(ids.PL_JOB_TEXT, "children", allow_duplicate=True),
                   Output(ids.PL_PROGRESS, "value", allow_duplicate=True),
                   Input(ids.PL_SOLVE, "n_clicks"), *states, State(ids.PL_NAME, "value"), State(ids.PL_STRINGS, "data"),
                   prevent_initial_call=True)
    def solve(_n, *args):
        *values, name, t = args
        try:
            job = pl.start_solve(_form(names, values), name)
        except OneGridError as exc:
            return no_update, True, _error(t, exc), "", 0
        return {"id": job, "state": "running"}, False, "", t["pl_job_running"].format(stage="…", pct=0), 0

    @dash.callback(Output(ids.PL_PROGRESS, "value"), Output(ids.PL_JOB_TEXT, "children"),
                   Output(ids.PL_POLL, "disabled", allow_duplicate=True),
                   Output(ids.PL_JOB, "data", allow_duplicate=True),
                   Input(ids.PL_POLL, "n_intervals"), State(ids.PL_JOB, "data"), State(ids.PL_STRINGS, "data"),
                   prevent_initial_call=True)
    def poll(_n, job, t):
        if not job or "id" not in job:
            return no_update, no_update, True, no_update
        try:
            row = pl.job_status(job["id"])
        except OneGridError as exc:
            return 0, _error(t, exc), True, no_update
        value, text, finished = view.job_view(row, t)
        return value, text, finished, ({"id": job["id"], "state": row["state"]} if finished else no_update)

    @dash.callback(Output(ids.PL_JOB, "data", allow_duplicate=True),
                   Output(ids.PL_MESSAGE, "children", allow_duplicate=True),
                   Input(ids.PL_SAVE_CURRENT, "n_clicks"), *states, State(ids.PL_NAME, "value"),
                   State(ids.PL_STRINGS, "data"), prevent_initial_call=True)
    def save_current(_n, *args):
        *values, name, t = args
        try:
            sid = pl.save_current(_form(names, values), name)
        except OneGridError as exc:
            return no_update, _error(t, exc)
        return {"saved": sid}, t["pl_saved"].format(id=sid)

    @dash.callback(Output(ids.PL_SCENARIOS, "options"), Input(ids.PL_JOB, "data"), State(ids.PL_STRINGS, "data"))
    def scenarios(_job, t):
        try:
            return view.scenario_options(pl.build_scenarios(), t)
        except OneGridError:
            return []

    @dash.callback(Output(ids.PL_COMPARE, "children"), Output(ids.PL_SITES, "data"),
                   Input(ids.PL_SCENARIOS, "value"), State(ids.PL_STRINGS, "data"))
    def compare(chosen, t):
        try:
            rows, sites = pl.build_compare(chosen)
        except OneGridError as exc:
            return _error(t, exc), no_update
        return view.compare_view(rows, t), sites

    @dash.callback(Output(ids.PL_DOWNLOAD, "data"), Output(ids.PL_MESSAGE, "children", allow_duplicate=True),
                   Input(ids.PL_EXPORT_GEOJSON, "n_clicks"), Input(ids.PL_EXPORT_CSV, "n_clicks"),
                   Input(ids.PL_EXPORT_PDF, "n_clicks"), State(ids.PL_SCENARIOS, "value"),
                   State(ids.PL_STRINGS, "data"), prevent_initial_call=True)
    def export(_g, _c, _p, chosen, t):
        fmt = {ids.PL_EXPORT_GEOJSON: "geojson", ids.PL_EXPORT_CSV: "csv", ids.PL_EXPORT_PDF: "pdf"}[ctx.triggered_id]
        try:
            return pl.build_export((chosen or [None])[0], fmt), ""
        except OneGridError as exc:
            return no_update, _error(t, exc)

    @dash.callback(Output(ids.PL_CAND_SET, "options"), Output(ids.PL_CAND_SET, "value"),
                   Output(ids.PL_MESSAGE, "children", allow_duplicate=True),
                   Input(ids.PL_UPLOAD, "contents"), State(ids.PL_UPLOAD, "filename"),
                   State(ids.PL_STRINGS, "data"), prevent_initial_call=True)
    def upload(contents, filename, t):
        try:
            set_id = pl.upload_candidates(contents, filename)
            return pl.build_choices("zh")["sets"], set_id, t["pl_uploaded"].format(id=set_id)
        except OneGridError as exc:
            return no_update, no_update, _error(t, exc)
