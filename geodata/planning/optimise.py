"""From an analysis to proposed sites: candidates, demand cells, distances, the model, figures.

Demand for the models is aggregated to H3 cells (default resolution 10, about 66 m across),
each placed at the people-weighted centre of its addresses. Existing facilities stay: MCLP
and set cover work on the demand they leave uncovered; p-median lets each cell fall back to
its nearest existing facility. Figures before and after are recomputed per address.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import psycopg

from geodata.errors import InvalidInput, NotFound
from geodata.planning import coverage as cov
from geodata.planning.demand import Analysis, Sites, fetch_addresses, fetch_demand, fetch_facilities
from geodata.planning.distance import Distances, Points
from geodata.planning.mclp import served_within_capacity, solve_mclp
from geodata.planning.models import coverage_matrix, solve_lscp
from geodata.planning.pmedian import solve_pmedian

MODELS = ("mclp", "pmedian", "lscp")
SOURCES = ("h3", "upload", "address")
MAX_CANDIDATES = 5000
UPLOADED = "SELECT seq, coalesce(name, '#' || seq), capacity, ST_X(geom), ST_Y(geom) FROM plan_candidate WHERE set_id = %(id)s ORDER BY seq"
ADDRESS_CANDIDATES = """
SELECT id, full_text, NULL::int, ST_X(geom), ST_Y(geom) FROM address
 WHERE strpos(full_text, %(text)s) > 0 OR strpos(coalesce(building, ''), %(text)s) > 0 ORDER BY id LIMIT %(cap)s
"""


@dataclass(frozen=True)
class Optimisation:
    """What to solve. ``k``: sites to add (MCLP, p-median); ``source``: candidate sites —
    ``h3`` cell centres at ``candidate_res``, an ``upload`` set (``candidate_set``) or addresses
    whose text contains ``address_text``; ``capacity``: people per new site (None = unlimited);
    ``existing_capacity``: existing facilities serve at most their recorded capacity (MCLP only;
    a facility without one gets ``capacity``, else unlimited) instead of everyone in their radius."""

    analysis: Analysis
    model: str
    k: int | None = None
    source: str = "h3"
    candidate_res: int = 9
    candidate_set: int | None = None
    address_text: str | None = None
    capacity: float | None = None
    time_limit: float = 60.0
    demand_res: int = 10
    max_distance_m: float = 2000.0
    existing_capacity: bool = False

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise InvalidInput(f"model must be one of {', '.join(MODELS)}, got {self.model!r}")
        if self.source not in SOURCES:
            raise InvalidInput(f"candidate source must be one of {', '.join(SOURCES)}, got {self.source!r}")
        if self.model != "lscp" and self.k is None:
            raise InvalidInput(f"{self.model} needs the number of sites to add (k)")
        if not (1 <= float(self.time_limit) <= 3600):
            raise InvalidInput(f"time limit must be 1..3600 s, got {self.time_limit}")
        if self.capacity is not None and not float(self.capacity) > 0:
            raise InvalidInput(f"capacity must be a positive number of people, got {self.capacity}")
        if self.existing_capacity and self.model != "mclp":
            raise InvalidInput("capacities of existing facilities apply to maximal coverage (mclp) only: p-median "
                               "and set cover keep existing facilities unlimited")
        if self.candidate_res not in (7, 8, 9, 10) or self.demand_res not in (8, 9, 10):
            raise InvalidInput("candidate H3 resolution must be 7..10 and demand resolution 8..10")

    def as_dict(self) -> dict:
        return {**self.analysis.as_dict(), "model": self.model, "k": self.k, "source": self.source,
                "candidate_res": self.candidate_res, "candidate_set": self.candidate_set,
                "address_text": self.address_text, "capacity": self.capacity, "time_limit": self.time_limit,
                "demand_res": self.demand_res, "max_distance_m": self.max_distance_m,
                "existing_capacity": self.existing_capacity}


def fetch_candidates(conn: psycopg.Connection, opt: Optimisation, addresses) -> tuple[Sites, list[str]]:
    """Candidate sites and their references (``h3`` cell id, upload seq or address id)."""
    if opt.source == "h3":
        cells = np.unique(h3_parent(addresses.h3[10], opt.candidate_res))
        pts = [h3.api.basic_int.cell_to_latlng(int(c)) for c in cells]
        sites = Sites([int(c) for c in cells], [h3.int_to_str(int(c)) for c in cells], [None] * len(cells),
                      Points.of([p[1] for p in pts], [p[0] for p in pts]))
    else:
        if opt.source == "upload":
            if opt.candidate_set is None:
                raise InvalidInput("choose an uploaded candidate set")
            rows = conn.execute(UPLOADED, {"id": opt.candidate_set}).fetchall()
            if not rows:
                raise NotFound(f"candidate set {opt.candidate_set} does not exist or is empty")
        else:
            text = (opt.address_text or "").strip()
            if not text:
                raise InvalidInput("type the text that candidate addresses contain (e.g. 社区用房)")
            rows = conn.execute(ADDRESS_CANDIDATES, {"text": text, "cap": MAX_CANDIDATES + 1}).fetchall()
            if not rows:
                raise InvalidInput(f"no address contains {text!r}: no candidate sites")
        sites = Sites([r[0] for r in rows], [str(r[1]) for r in rows], [r[2] for r in rows],
                      Points.of([r[3] for r in rows], [r[4] for r in rows]))
    if len(sites) > MAX_CANDIDATES:
        raise InvalidInput(f"{len(sites)} candidate sites is more than {MAX_CANDIDATES}: use a coarser H3 "
                           "resolution or a narrower address filter")
    return sites, [str(i) for i in sites.ids]


def h3_parent(cells: np.ndarray, res: int) -> np.ndarray:
    if res == 10:
        return cells
    return np.asarray([h3.api.basic_int.cell_to_parent(int(c), res) for c in np.unique(cells)], dtype=np.int64)


def demand_cells(addresses, mask: np.ndarray, res: int) -> tuple[Points, np.ndarray]:
    """People of ``mask`` addresses per H3 cell, at the people-weighted centre of each cell."""
    sel = mask & (addresses.n > 0)
    keys, inverse = np.unique(addresses.h3[res][sel], return_inverse=True)
    w = np.bincount(inverse, weights=addresses.n[sel]).astype(float)
    lon = np.bincount(inverse, weights=addresses.lon[sel] * addresses.n[sel]) / np.maximum(w, 1)
    lat = np.bincount(inverse, weights=addresses.lat[sel] * addresses.n[sel]) / np.maximum(w, 1)
    return Points.of(lon, lat), w


def _capacities(opt: Optimisation, cands: Sites) -> np.ndarray | None:
    if opt.capacity is None and all(c is None for c in cands.capacity):
        return None
    default = float(opt.capacity) if opt.capacity is not None else np.inf
    return np.asarray([default if c is None else float(c) for c in cands.capacity])


def _solve_pmedian(dist, opt, addresses, existing, cands, capacity, progress, stage):
    points, w = demand_cells(addresses, np.ones(len(addresses.ids), bool), opt.demand_res)
    fallback, _ = dist.nearest(existing.points, points)
    fallback = np.minimum(fallback, opt.max_distance_m)
    # Only a site closer than a cell's fallback can take it: search no farther than needed.
    ci, dj, d = dist.pairs(cands.points, points, float(np.max(fallback)))
    stage("solving", 0.3)
    sol = solve_pmedian(ci, dj, d, w, fallback, len(cands), int(opt.k), capacity=capacity,
                        time_limit=opt.time_limit, progress=progress)
    return sol, len(w), {}


def _solve_cover(dist, opt, addresses, before, cands, capacity, progress, stage):
    """MCLP or set cover of the demand no existing facility reaches (existing ones unlimited)."""
    points, w = demand_cells(addresses, ~before.served, opt.demand_res)
    if len(w) == 0:
        raise InvalidInput("everyone in the demand group is already within the radius of an existing facility")
    ci, dj, _d = dist.pairs(cands.points, points, opt.analysis.radius_m)
    matrix = coverage_matrix(ci, dj, len(cands), len(w))
    stage("solving", 0.3)
    if opt.model == "mclp":
        return solve_mclp(matrix, w, int(opt.k), capacity=capacity, time_limit=opt.time_limit,
                          progress=progress), len(w), {}
    sol, unreachable = solve_lscp(matrix, w, time_limit=opt.time_limit, progress=progress)
    return sol, len(w), {"uncoverable_cells": unreachable}


def _solve_mclp_capacities(dist, opt, addresses, existing, cands, capacity, progress, stage):
    """MCLP where existing facilities serve at most their capacity: all demand counts, existing
    facilities are fixed open columns. Figures: people served within radius and capacity,
    before (existing alone) and after."""
    points, w = demand_cells(addresses, np.ones(len(addresses.ids), bool), opt.demand_res)
    n_old = len(existing)
    sites = Points.of(np.r_[existing.points.lon, cands.points.lon], np.r_[existing.points.lat, cands.points.lat])
    ci, dj, _d = dist.pairs(sites, points, opt.analysis.radius_m)
    matrix = coverage_matrix(ci, dj, len(sites), len(w))
    default = np.inf if opt.capacity is None else float(opt.capacity)
    old_cap = np.asarray([default if c is None else float(c) for c in existing.capacity], float)
    new_cap = np.full(len(cands), np.inf) if capacity is None else capacity
    stage("solving", 0.3)
    served_before = served_within_capacity(matrix[:, :n_old], w, old_cap) if n_old else 0.0
    sol = solve_mclp(matrix, w, int(opt.k), capacity=np.r_[old_cap, new_cap], fixed=n_old,
                     time_limit=opt.time_limit, progress=progress)
    return sol, len(w), {"capacity_served_before": round(served_before), "capacity_served_after": round(sol.objective),
                         "existing_capacity": int(np.sum(old_cap[np.isfinite(old_cap)]))}


def run_optimisation(conn: psycopg.Connection, opt: Optimisation, *, progress=None, stage=lambda *_: None) -> dict:
    """Solve ``opt``; returns ``figures`` (before/after), ``solver`` and the proposed ``sites``.

    ``stage(name, fraction)`` reports the step; ``progress(elapsed, gap)`` the MIP search.
    """
    a = opt.analysis
    stage("demand", 0.05)
    dist = Distances(conn, detour=a.detour, use_network=a.use_network)
    addresses = fetch_addresses(conn, fetch_demand(conn, a.group))
    existing = fetch_facilities(conn, a.kind)
    before = cov.compute_coverage(dist, existing, addresses, a.radius_m)
    cands, refs = fetch_candidates(conn, opt, addresses)
    if opt.k is not None and opt.k > len(cands):
        raise InvalidInput(f"cannot choose {opt.k} sites from {len(cands)} candidates (k larger than candidates)")
    stage("distances", 0.15)
    capacity = _capacities(opt, cands)
    if opt.model == "pmedian":
        sol, n_demand, extra = _solve_pmedian(dist, opt, addresses, existing, cands, capacity, progress, stage)
    elif opt.existing_capacity:
        sol, n_demand, extra = _solve_mclp_capacities(dist, opt, addresses, existing, cands, capacity, progress, stage)
    else:
        sol, n_demand, extra = _solve_cover(dist, opt, addresses, before, cands, capacity, progress, stage)
    stage("figures", 0.95)
    chosen = sol.chosen
    combined = Sites(list(existing.ids) + [f"new{j}" for j in chosen], list(existing.labels) + [cands.labels[j] for j in chosen],
                     list(existing.capacity) + [None] * len(chosen),
                     Points.of(np.concatenate([existing.points.lon, cands.points.lon[chosen]]),
                               np.concatenate([existing.points.lat, cands.points.lat[chosen]])))
    after = cov.compute_coverage(dist, combined, addresses, a.radius_m)
    sites = [{"source": opt.source, "ref": refs[j], "label": cands.labels[j],
              "capacity": None if capacity is None or not np.isfinite(capacity[j]) else int(capacity[j]),
              "served": float(sol.served[n]) if n < len(sol.served) else 0.0,
              "lon": float(cands.points.lon[j]), "lat": float(cands.points.lat[j])} for n, j in enumerate(chosen)]
    return {"distance_mode": dist.mode, "sites": sites,
            "figures": {"before": cov.summarize(before), "after": cov.summarize(after), "sites": len(chosen),
                        "existing": len(existing), "candidates": len(cands), "demand_cells": n_demand, **extra},
            "solver": {"status": sol.status, "gap": sol.gap, "objective": sol.objective, "bound": sol.bound,
                       "seconds": round(sol.seconds, 2), **sol.details}}
