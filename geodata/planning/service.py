"""The planner's entry points: a coverage analysis, and a solve saved as a scenario.

Everything returned here is safe to show: figures are totals, per-cell and per-area counts
are suppressed below ``ONEGRID_MIN_CELL``, catchments are drawn from addresses (not people).
"""

from __future__ import annotations

import psycopg

from geodata.planning import coverage as cov
from geodata.planning.demand import Analysis, fetch_addresses, fetch_demand, fetch_facilities
from geodata.planning.distance import Distances
from geodata.planning.optimise import Optimisation, run_optimisation
from geodata.planning.scenarios import write_scenario
from geodata.settings import get_settings

AREA_NAMES = "SELECT code, name FROM admin_area WHERE level IN ('street', 'community')"


def run_coverage(conn: psycopg.Connection, analysis: Analysis, *, res: int = 9, level: str = "street") -> dict:
    """Coverage of ``analysis``: figures, H3 cell features (res 8..10), an area table, catchments.

    Returns
    -------
    dict with ``figures`` (see :func:`coverage.summarize`), ``cells`` and ``catchments``
    (GeoJSON feature lists, EPSG:4326), ``areas`` (rows) and ``facilities`` (count).
    """
    k = get_settings().min_cell
    dist = Distances(conn, detour=analysis.detour, use_network=analysis.use_network)
    facilities = fetch_facilities(conn, analysis.kind)
    addresses = fetch_addresses(conn, fetch_demand(conn, analysis.group))
    result = cov.compute_coverage(dist, facilities, addresses, analysis.radius_m)
    names = dict(conn.execute(AREA_NAMES).fetchall())
    return {"figures": {**cov.public_figures(cov.summarize(result), k), "facilities": len(facilities)},
            "cells": cov.cell_features(cov.cell_counts(result, res, k), res),
            "areas": cov.area_table(result, level, k, names),
            "catchments": cov.catchments(result, facilities),
            "distance_mode": dist.mode}


def save_coverage(conn: psycopg.Connection, analysis: Analysis, name: str) -> int:
    """Save today's coverage (existing facilities only) as a scenario to compare against."""
    dist = Distances(conn, detour=analysis.detour, use_network=analysis.use_network)
    facilities = fetch_facilities(conn, analysis.kind)
    addresses = fetch_addresses(conn, fetch_demand(conn, analysis.group))
    summary = cov.summarize(cov.compute_coverage(dist, facilities, addresses, analysis.radius_m))
    figures = {"before": summary, "after": summary, "sites": 0, "existing": len(facilities)}
    return write_scenario(conn, name, kind=analysis.kind, model="coverage", params=analysis.as_dict(),
                          result={"distance_mode": dist.mode, "figures": figures, "sites": []})


def solve_scenario(conn: psycopg.Connection, opt: Optimisation, name: str, report=lambda *_: None) -> int:
    """Solve ``opt`` and save it as scenario ``name``; returns the scenario id.

    ``report(stage, progress 0..1, gap)`` is called as the work goes on (the MIP part maps
    elapsed ÷ time limit onto 0.3..0.95).
    """
    from geodata.planning.scenarios import check_name

    check_name(name)

    def progress(elapsed: float, gap: float | None) -> None:
        report("solving", 0.3 + 0.65 * min(1.0, elapsed / opt.time_limit), gap)

    result = run_optimisation(conn, opt, progress=progress, stage=lambda s, f: report(s, f, None))
    return write_scenario(conn, name, kind=opt.analysis.kind, model=opt.model, params=opt.as_dict(), result=result)
