"""The planner page's data: choices, coverage map and figures, solve jobs, scenarios, exports.

Everything here is aggregated (see :mod:`geodata.planning.service`); coordinates go to the
map through :func:`layers.display.collection_to_display` like every other layer.
"""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path

from geodata import maps
from geodata.db import connect, pooled
from geodata.errors import InvalidInput
from geodata.planning.candidates import fetch_candidate_sets, write_candidate_set
from geodata.planning.coverage import public_scenario
from geodata.planning.demand import Analysis, DemandGroup, fetch_facilities, fetch_planning_kinds, fetch_tags
from geodata.planning.optimise import Optimisation
from geodata.planning.report import export_scenario
from geodata.planning.scenarios import fetch_job, fetch_scenario, fetch_scenarios, start_job
from geodata.planning.service import run_coverage, save_coverage, solve_scenario
from geodata.settings import get_settings
from layers.display import collection_to_display, lonlat_to_display

FIGURE_KEYS = ("coverage_pct", "people", "unserved", "mean_m", "p90_m")


def _fc(features: list[dict]) -> dict:
    return collection_to_display({"type": "FeatureCollection", "features": features})


#: Zoom the outlines are simplified for (the planner opens on the whole district), and a cap.
OUTLINE_ZOOM, OUTLINE_CAP = 12, 500


def _outlines(conn, bbox) -> dict:
    """District and street outlines (street names as labels) for the first view of the map."""
    features = []
    if bbox is not None:
        for level in ("district", "street"):
            fc = maps.fetch_admin_areas(conn, bbox, OUTLINE_ZOOM, level, OUTLINE_CAP)
            for f in fc["features"]:
                f["properties"]["label"] = f["properties"]["name"] if level == "street" else None
            features += fc["features"]
    return _fc(features)


def _facility_features(fac) -> dict:
    return _fc([{"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                 "properties": {"label": label}}
                for x, y, label in zip(fac.points.lon.tolist(), fac.points.lat.tolist(), fac.labels, strict=True)])


def build_facilities(kind: str | None) -> dict:
    """Existing facilities of ``kind`` as display GeoJSON points (empty without a kind)."""
    if not kind:
        return _fc([])
    with pooled() as conn:
        return _facility_features(fetch_facilities(conn, kind))


def build_choices(lang: str) -> dict:
    """Kinds (with defaults), population tags, candidate sets, the map bounds, and what the
    map shows before any analysis: district and street outlines, the first kind's facilities."""
    with pooled() as conn:
        kinds = fetch_planning_kinds(conn)
        tags = fetch_tags(conn)
        sets = fetch_candidate_sets(conn)
        extent = maps.fetch_extent(conn)
        outlines = _outlines(conn, extent.bbox)
        facilities = _facility_features(fetch_facilities(conn, kinds[0]["code"])) if kinds else _fc([])
    name = "name_zh" if lang == "zh" else "name_en"
    bounds = None
    if extent.bbox is not None:
        (w, s), (e, n) = (lonlat_to_display(extent.bbox.minlon, extent.bbox.minlat),
                          lonlat_to_display(extent.bbox.maxlon, extent.bbox.maxlat))
        bounds = [[s, w], [n, e]]
    return {"kinds": [{"label": f"{k[name]} ({k['facilities']})", "value": k["code"]} for k in kinds],
            "defaults": {k["code"]: {"radius": k["radius_m"], "level": k["life_circle"], "min_age": k["min_age"],
                                     "max_age": k["max_age"], "tag": k["tag"]} for k in kinds},
            "tags": [{"label": t[name], "value": t["code"]} for t in tags],
            "sets": [{"label": f"{s['name']} ({s['n']})", "value": s["id"]} for s in sets],
            "bounds": bounds, "outlines": outlines, "facilities": facilities}


def _int_or_none(value, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{what} must be a number, got {value!r}") from exc
    if number != int(number):
        raise InvalidInput(f"{what} must be a whole number, got {value!r}")
    return int(number)


def parse_analysis(v: dict) -> Analysis:
    """The page's form values → :class:`Analysis` (clear errors for bad values)."""
    if not v.get("kind"):
        raise InvalidInput("choose a facility kind")
    try:
        radius, detour = float(v.get("radius")), float(v.get("detour") or 1.3)
    except (TypeError, ValueError) as exc:
        raise InvalidInput("radius and detour factor must be numbers") from exc
    group = DemandGroup(_int_or_none(v.get("min_age"), "minimum age"), _int_or_none(v.get("max_age"), "maximum age"),
                        v.get("tag") or None)
    return Analysis(v["kind"], radius, group, detour, bool(v.get("network", True)))


def build_coverage(v: dict) -> dict:
    """Coverage of the form's analysis: GeoJSON for cells, catchments, facilities; figures; table."""
    analysis = parse_analysis(v)
    res = int(v.get("res") or 9)
    with pooled() as conn:
        result = run_coverage(conn, analysis, res=res, level=v.get("level") or "street")
        facilities = _facility_features(fetch_facilities(conn, analysis.kind))
    return {"cells": _fc(result["cells"]), "catchments": _fc(result["catchments"]), "facilities": facilities,
            "figures": result["figures"], "areas": result["areas"], "mode": result["distance_mode"]}


def save_current(v: dict, name: str) -> int:
    analysis = parse_analysis(v)
    with pooled() as conn:
        return save_coverage(conn, analysis, name)


def parse_optimisation(v: dict) -> Optimisation:
    source = v.get("source") or "h3"
    capacity = v.get("capacity")
    return Optimisation(parse_analysis(v), v.get("model") or "mclp", k=_int_or_none(v.get("k"), "k"),
                        source=source, candidate_res=int(v.get("candidate_res") or 9),
                        candidate_set=_int_or_none(v.get("candidate_set"), "candidate set"),
                        address_text=v.get("address_text"),
                        capacity=None if capacity in (None, "") else float(capacity),
                        time_limit=float(v.get("time_limit") or 60),
                        existing_capacity=bool(v.get("existing_capacity")))


def start_solve(v: dict, name: str) -> int:
    """Check the form, then solve in the background; returns the job id to poll."""
    from geodata.planning.scenarios import check_name

    opt = parse_optimisation(v)
    name = check_name(name)
    return start_job(connect, {**opt.as_dict(), "name": name},
                     lambda conn, report: solve_scenario(conn, opt, name, report))


def job_status(job_id: int) -> dict:
    with pooled() as conn:
        return fetch_job(conn, job_id)


def build_scenarios() -> list[dict]:
    with pooled() as conn:
        return fetch_scenarios(conn)


def build_compare(ids: list[int]) -> tuple[list[dict], dict]:
    """Scenarios side by side and their proposed sites as GeoJSON (each site tagged with its scenario)."""
    rows, feats = [], []
    with pooled() as conn:
        for sid in ids or []:
            row = public_scenario(fetch_scenario(conn, int(sid)), get_settings().min_cell)
            rows.append(row)
            feats += [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s["lon"], s["lat"]]},
                       "properties": {"scenario": row["name"], "label": s["label"], "seq": s["seq"]}}
                      for s in row["sites"]]
    return rows, _fc(feats)


def build_export(scenario_id, fmt: str) -> dict:
    """A ``dcc.Download`` payload for one scenario export."""
    if scenario_id in (None, ""):
        raise InvalidInput("choose one scenario to export")
    with pooled() as conn:
        data = export_scenario(conn, int(scenario_id), fmt)
    return {"content": base64.b64encode(data).decode(), "base64": True, "filename": f"scenario-{scenario_id}.{fmt}"}


def upload_candidates(contents: str, filename: str) -> int:
    """Store an uploaded candidate file (dcc.Upload data URL) as a candidate set."""
    if not contents or "," not in contents:
        raise InvalidInput("the upload is empty")
    data = base64.b64decode(contents.split(",", 1)[1])
    suffix = Path(filename or "upload.geojson").suffix.lower()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"candidates{suffix}"
        path.write_bytes(data)
        with pooled() as conn:
            return write_candidate_set(conn, Path(filename or "upload").stem, path)
