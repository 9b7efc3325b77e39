"""Planning at district scale: coverage per facility kind, and MCLP against a greedy heuristic.

Uses the district-scale demo (``onegrid_bench``, with its residents). Prints:

1. Coverage of each life-circle kind over the whole district — network distances
   (pgRouting) vs the straight-line fallback measured in the same run (time ratio).
   Target (issue #6): < 5 s per kind.
2. MCLP with 2,000 candidate sites (H3 res-9 centres) × 10,000 demand cells (H3 res-10,
   all residents, people-weighted centres), 500 m walking radius, for several k: solve
   time, optimality gap, and covered people vs the greedy heuristic (ratio ≥ 1 expected).
   Target: optimal or gap < 1 % within 60 s, never worse than greedy.

    .venv/bin/python bench/planning.py [--time-limit 60] [--k 10 50 200] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from viewport_addresses import bench_dsn, ensure_loaded

from geodata.db import connect
from geodata.planning import coverage as cov
from geodata.planning.demand import (
    DemandGroup,
    fetch_addresses,
    fetch_demand,
    fetch_facilities,
    fetch_planning_kinds,
)
from geodata.planning.distance import Distances, Points
from geodata.planning.models import coverage_matrix, greedy_mclp, solve_mclp
from geodata.planning.network import ensure_network
from geodata.planning.optimise import demand_cells

N_CANDIDATES = 2000
N_DEMAND = 10_000


def _coverage(conn, kind: dict, use_network: bool) -> tuple[float, dict, float]:
    began = time.perf_counter()
    dist = Distances(conn, use_network=use_network)
    t0 = time.perf_counter()
    demand = fetch_demand(conn, DemandGroup(kind["min_age"], kind["max_age"], kind["tag"]))
    t_demand = time.perf_counter() - t0
    addresses = fetch_addresses(conn, demand)
    result = cov.compute_coverage(dist, fetch_facilities(conn, kind["code"]), addresses, float(kind["radius_m"]))
    figures = cov.summarize(result)
    cov.cell_counts(result, 9, 10)
    return time.perf_counter() - began, figures, t_demand


def bench_coverage(conn, repeat: int) -> None:
    print(f"\n1. coverage of each kind over the district (p50 of {repeat}; target < 5 s)")
    print(f"{'kind':<18} {'people':>9} {'cover %':>8} {'mean m':>7} {'P90 m':>7} {'network s':>10} "
          f"{'of which demand s':>18} {'straight s':>11} {'ratio':>6}")
    for kind in fetch_planning_kinds(conn):
        if not kind["facilities"]:
            continue
        net = [_coverage(conn, kind, True) for _ in range(repeat)]
        straight = [_coverage(conn, kind, False)[0] for _ in range(repeat)]
        t_net, fig = statistics.median(r[0] for r in net), net[0][1]
        t_demand = statistics.median(r[2] for r in net)
        t_str = statistics.median(straight)
        print(f"{kind['code']:<18} {fig['people']:>9,} {fig['coverage_pct']:>8.1f} {fig['mean_m']:>7.0f} "
              f"{fig['p90_m']:>7.0f} {t_net:>10.2f} {t_demand:>18.2f} {t_str:>11.2f} {t_net / t_str:>6.1f}")


def bench_mclp(conn, ks: list[int], time_limit: float, radius: float) -> None:
    rng = np.random.default_rng(42)
    dist = Distances(conn)
    addresses = fetch_addresses(conn, fetch_demand(conn, DemandGroup()))
    points, w = demand_cells(addresses, np.ones(len(addresses.ids), bool), 10)
    pick = np.sort(rng.choice(len(w), size=min(N_DEMAND, len(w)), replace=False))
    points, w = Points.of(points.lon[pick], points.lat[pick]), w[pick]
    import h3

    cells = np.unique([h3.api.basic_int.cell_to_parent(int(c), 9) for c in np.unique(addresses.h3[10])])
    cells = np.sort(rng.choice(cells, size=min(N_CANDIDATES, len(cells)), replace=False))
    centres = [h3.api.basic_int.cell_to_latlng(int(c)) for c in cells]
    cands = Points.of([c[1] for c in centres], [c[0] for c in centres])
    began = time.perf_counter()
    ci, dj, _ = dist.pairs(cands, points, radius)
    t_pairs = time.perf_counter() - began
    a = coverage_matrix(ci, dj, len(cands), len(w))
    print(f"\n2. MCLP: {len(cands):,} candidates × {len(w):,} demand cells ({int(w.sum()):,} people), "
          f"radius {radius:.0f} m ({dist.mode}); {a.nnz:,} candidate–cell pairs in {t_pairs:.1f} s")
    print(f"{'k':>5} {'greedy s':>9} {'greedy people':>14} {'MIP s':>7} {'status':>11} {'gap %':>7} "
          f"{'MIP people':>11} {'MIP/greedy':>11}")
    for k in ks:
        t0 = time.perf_counter()
        greedy = greedy_mclp(a, w, k)
        t_greedy = time.perf_counter() - t0
        covered = np.asarray(a[:, greedy].sum(axis=1)).ravel() > 0
        greedy_people = float(w[covered].sum())
        sol = solve_mclp(a, w, k, time_limit=time_limit)
        gap = "—" if sol.gap is None else f"{100 * sol.gap:.3f}"
        print(f"{k:>5} {t_greedy:>9.2f} {greedy_people:>14,.0f} {sol.seconds:>7.1f} {sol.status:>11} {gap:>7} "
              f"{sol.objective:>11,.0f} {sol.objective / greedy_people:>11.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--radius", type=float, nargs="+", default=[500.0, 1000.0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    dsn = bench_dsn()
    counts = ensure_loaded(dsn)
    print(f"district demo: {counts['address']:,} addresses")
    with connect(dsn) as conn:
        began = time.perf_counter()
        status = ensure_network(conn, log=lambda m: print(f"network: {m}"))
        conn.commit()
        print(f"walking network: {status.nodes:,} vertices, {status.edges:,} edges, {status.length_km:,.0f} km "
              f"(ready in {time.perf_counter() - began:.1f} s)")
        bench_coverage(conn, args.repeat)
        for radius in args.radius:
            bench_mclp(conn, args.k, args.time_limit, radius)


if __name__ == "__main__":
    main()
