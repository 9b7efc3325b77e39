"""Planning at district scale: coverage per facility kind, and MCLP against a greedy heuristic.

Uses the district-scale demo (``onegrid_bench``, with its residents). Prints:

1. Coverage of each life-circle kind over the whole district — network distances
   (pgRouting) vs the straight-line fallback measured in the same run (time ratio).
   Target (issue #6): < 5 s per kind.
2. MCLP with 2,000 candidate sites (H3 res-9 centres) × 10,000 demand cells (H3 res-10,
   all residents, people-weighted centres), 500 m walking radius, for several k: solve
   time, optimality gap, and covered people vs the greedy heuristic (ratio ≥ 1 expected).
   Target: optimal or gap < 1 % within 60 s, never worse than greedy.
3. p-median at district scale, as the planner builds it (H3 res-9 candidates × res-10 demand
   cells of the kind's demand group, existing facilities kept open): greedy, Teitz–Bart
   interchange and the final answer with its proven gap, against the plain MIP (every pair a
   variable, greedy start) given a shorter time in the same run.

    .venv/bin/python bench/planning.py [--time-limit 60] [--k 10 50 200] [--repeat 3]
        [--p 20 100] [--pmedian-kinds elderly_day_care clinic] [--baseline-limit 20]
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
    default_analysis,
    fetch_addresses,
    fetch_demand,
    fetch_facilities,
    fetch_planning_kinds,
)
from geodata.planning.distance import Distances, Points
from geodata.planning.heuristics import covered_weight, greedy_mclp, greedy_pmedian, reduce_cover
from geodata.planning.mclp import solve_mclp
from geodata.planning.models import coverage_matrix
from geodata.planning.network import ensure_network
from geodata.planning.optimise import Optimisation, demand_cells, fetch_candidates
from geodata.planning.pmedian import Pairs, assignment_model, assignment_start, solve_pmedian

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
    r, _, cols = reduce_cover(a, w)
    print(f"exact reduction: {r.shape[0]:,} merged demand rows × {len(cols):,} undominated candidates")
    print(f"{'k':>5} {'greedy s':>9} {'greedy people':>14} {'MIP s':>7} {'MIP cpu s':>10} {'status':>11} {'gap %':>7} "
          f"{'MIP people':>11} {'bound':>11} {'MIP/greedy':>11}")
    for k in ks:
        t0 = time.perf_counter()
        greedy = greedy_mclp(a, w, k)
        t_greedy = time.perf_counter() - t0
        greedy_people = covered_weight(a, w, greedy)
        c0 = time.process_time()
        sol = solve_mclp(a, w, k, time_limit=time_limit)
        cpu = time.process_time() - c0
        gap = "—" if sol.gap is None else f"{100 * sol.gap:.3f}"
        bound = "—" if sol.bound is None else f"{sol.bound:,.0f}"
        print(f"{k:>5} {t_greedy:>9.2f} {greedy_people:>14,.0f} {sol.seconds:>7.1f} {cpu:>10.1f} {sol.status:>11} "
              f"{gap:>7} {sol.objective:>11,.0f} {bound:>11} {sol.objective / greedy_people:>11.4f}", flush=True)


def _pmedian_instance(conn, kind: str):
    analysis = default_analysis(conn, kind)
    opt = Optimisation(analysis, "pmedian", k=1)
    dist = Distances(conn)
    addresses = fetch_addresses(conn, fetch_demand(conn, analysis.group))
    cands, _ = fetch_candidates(conn, opt, addresses)
    points, w = demand_cells(addresses, np.ones(len(addresses.ids), bool), opt.demand_res)
    fallback, _ = dist.nearest(fetch_facilities(conn, kind).points, points)
    fallback = np.minimum(fallback, opt.max_distance_m)
    ci, dj, d = dist.pairs(cands.points, points, float(np.max(fallback)))
    return ci, dj, d, w, fallback, len(cands)


def bench_pmedian(conn, kinds: list[str], ps: list[int], time_limit: float, baseline_limit: float) -> None:
    print(f"\n3. p-median at district scale (time limit {time_limit:.0f} s; plain MIP baseline {baseline_limit:.0f} s);"
          " cost = people × metres, shown as mean metres per person")
    print(f"{'kind':<17} {'p':>4} {'pairs':>8} {'greedy m':>9} {'T-B m':>7} {'final m':>8} {'bound m':>8} "
          f"{'gap %':>6} {'s':>5} {'cpu s':>6} {'left':>5} {'status':>10} {'plain MIP gap %':>16}")
    for kind in kinds:
        ci, dj, d, w, fallback, n = _pmedian_instance(conn, kind)
        pr = Pairs(ci, dj, d, w, fallback, n)
        people = float(w.sum())
        for p in ps:
            first = greedy_pmedian(pr.cand, pr.dem, pr.d, w, pr.fallback, n, p)
            greedy = pr.total(first)
            c0 = time.process_time()
            sol = solve_pmedian(ci, dj, d, w, fallback, n, p, time_limit=time_limit)
            cpu = time.process_time() - c0
            everything = np.arange(n)
            model, keep = assignment_model(pr, p, everything, np.zeros(n, bool), None)
            start = assignment_start(pr, everything, keep, first)
            *_, base_gap, base_label, _ = model.solve(False, baseline_limit, None, start, 1e-4)
            base = "—" if base_gap is None else f"{100 * base_gap:.1f} ({base_label})"
            gap = "—" if sol.gap is None else f"{100 * sol.gap:.3f}"
            print(f"{kind:<17} {p:>4} {len(pr.cand):>8,} {greedy / people:>9.1f} "
                  f"{sol.details.get('heuristic', sol.objective) / people:>7.1f} {sol.objective / people:>8.1f} "
                  f"{sol.bound / people:>8.1f} {gap:>6} {sol.seconds:>5.1f} {cpu:>6.1f} "
                  f"{sol.details.get('candidates_left', n):>5} {sol.status:>10} {base:>16}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 50, 200])
    parser.add_argument("--radius", type=float, nargs="+", default=[500.0, 1000.0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--p", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--pmedian-kinds", nargs="+", default=["elderly_day_care", "clinic"])
    parser.add_argument("--baseline-limit", type=float, default=20.0)
    parser.add_argument("--skip", nargs="*", default=[], choices=["coverage", "mclp", "pmedian"])
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
        if "coverage" not in args.skip:
            bench_coverage(conn, args.repeat)
        if "mclp" not in args.skip:
            for radius in args.radius:
                bench_mclp(conn, args.k, args.time_limit, radius)
        if "pmedian" not in args.skip:
            bench_pmedian(conn, args.pmedian_kinds, args.p, args.time_limit, args.baseline_limit)


if __name__ == "__main__":
    main()
