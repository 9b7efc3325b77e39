"""Planner page components: figure cards, the area table, scenario comparison, job progress."""

from __future__ import annotations

from dash import html

from geodata.settings import get_settings


def _n(value, unit: str = "") -> str:
    if value is None:
        return f"<{get_settings().min_cell}"
    if isinstance(value, float):
        return f"{value:,.1f}{unit}" if value % 1 else f"{value:,.0f}{unit}"
    return f"{value:,}{unit}"


def _pct(value) -> str:
    return "—" if value is None else f"{value:.1f}%"


def mode_view(mode: str, detour, t: dict) -> str:
    return t["pl_mode_network"] if mode == "network" else t["pl_mode_straight"].format(detour=detour)


def level_view(defaults: dict | None, t: dict) -> str:
    if not defaults or not defaults.get("level"):
        return ""
    return f"{t['pl_level'].format(level=defaults['level'])} · {defaults['radius']} m"


def figures_view(fig: dict, t: dict) -> list:
    cards = [("pl_coverage", "—" if fig["coverage_pct"] is None else f"{fig['coverage_pct']:.1f}%"), ("pl_unserved", _n(fig["unserved"])),
             ("pl_people", _n(fig["people"])), ("pl_mean", _n(fig["mean_m"], " m")), ("pl_p90", _n(fig["p90_m"], " m")),
             ("pl_facilities", _n(fig.get("facilities")))]
    out = [html.Div([html.Div(value, className="og-stat-value"), html.Div(t[key], className="og-stat-label")],
                    className="og-stat pl-stat", **{"data-key": key}) for key, value in cards]
    if fig.get("unreachable"):
        out.append(html.Div(t["pl_unreachable"].format(n=_n(fig["unreachable"])), className="pl-hint"))
    return out


def _part(row: dict, key: str) -> str:
    """A served/unserved part: hidden ("—") when the split is suppressed, not "<k"."""
    return _n(row[key]) if row[key] is not None or row["people"] is None else "—"


def areas_view(rows: list[dict], t: dict) -> html.Table:
    head = html.Tr([html.Th(t["pl_table_area"]), html.Th(t["pl_people"]), html.Th(t["pl_unserved"]),
                    html.Th(t["pl_coverage"]), html.Th(t["pl_mean"])])
    body = [html.Tr([html.Td(r["name"]), html.Td(_n(r["people"])), html.Td(_part(r, "unserved")),
                     html.Td("—" if r["coverage_pct"] is None else f"{r['coverage_pct']:.1f}%"),
                     html.Td("—" if r["mean_m"] is None else f"{r['mean_m']:,} m")]) for r in rows]
    return html.Table([html.Thead(head), html.Tbody(body)], className="pl-table")


def _capacity_served(row: dict) -> str:
    """People served within radius and capacity, before → after (scenarios with existing capacities)."""
    fig = row["figures"]
    if "capacity_served_after" not in fig:
        return "—"
    return f"{_n(fig['capacity_served_before'])} → {_n(fig['capacity_served_after'])}"


def compare_view(rows: list[dict], t: dict) -> html.Table | str:
    if not rows:
        return ""
    def cell(row, side, key, unit=""):
        return _n(row["figures"][side].get(key), unit)
    lines = [
        (t["pl_model"], [t["pl_model_coverage"] if r["model"] == "coverage" else t[f"pl_{r['model']}"] for r in rows]),
        (t["pl_sites"], [str(r["figures"].get("sites", 0)) for r in rows]),
        (f"{t['pl_coverage']} {t['pl_before']}", [_pct(r["figures"]["before"]["coverage_pct"]) for r in rows]),
        (f"{t['pl_coverage']} {t['pl_after']}", [_pct(r["figures"]["after"]["coverage_pct"]) for r in rows]),
        (t["pl_unserved"], [cell(r, "after", "unserved") for r in rows]),
        (t["pl_mean"], [cell(r, "after", "mean_m", " m") for r in rows]),
        (t["pl_p90"], [cell(r, "after", "p90_m", " m") for r in rows]),
        (t["pl_capacity_served"], [_capacity_served(r) for r in rows]),
        (t["pl_solver"], [(r["solver"] or {}).get("status", "—") for r in rows]),
        (t["pl_gap"], ["—" if (r["solver"] or {}).get("gap") is None else f"{100 * r['solver']['gap']:.2f}%"
                       for r in rows]),
    ]
    head = html.Tr([html.Th(""), *[html.Th(r["name"]) for r in rows]])
    body = [html.Tr([html.Th(label), *[html.Td(v) for v in values]]) for label, values in lines]
    return html.Table([html.Thead(head), html.Tbody(body)], className="pl-table pl-compare")


def job_view(job: dict, t: dict) -> tuple[int, str, bool]:
    """(progress 0..100, text, finished) of a solve job row."""
    if job["state"] == "done":
        return 100, t["pl_job_done"].format(id=job["scenario_id"]), True
    if job["state"] == "failed":
        return 0, t["pl_job_failed"].format(message=job["message"]), True
    stage = t.get(f"pl_stage_{job['stage']}", job["stage"] or "…")
    text = t["pl_job_running"].format(stage=stage, pct=round(100 * job["progress"]))
    if job["gap"] is not None:
        text += t["pl_job_gap"].format(gap=f"{100 * job['gap']:.2f}%")
    return round(100 * job["progress"]), text, False


def scenario_options(rows: list[dict], t: dict) -> list[dict]:
    return [{"label": f"{r['name']} · {r['kind']} · {t['pl_model_coverage'] if r['model'] == 'coverage' else r['model']}",
             "value": r["id"]} for r in rows]
