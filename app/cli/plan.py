"""``onegrid plan …``: walking network, coverage, location-allocation scenarios, exports."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from geodata.db import connect
from geodata.errors import InvalidInput
from geodata.planning.candidates import write_candidate_set
from geodata.planning.coverage import public_scenario
from geodata.planning.demand import Analysis, DemandGroup, default_analysis
from geodata.planning.network import build_walk_network
from geodata.planning.optimise import MODELS, Optimisation
from geodata.planning.report import FORMATS, export_scenario
from geodata.planning.scenarios import delete_scenario, fetch_scenarios
from geodata.planning.service import run_coverage, save_coverage, solve_scenario
from geodata.settings import get_settings


def _analysis_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("kind", help="facility kind code, e.g. elderly_day_care, kindergarten, clinic")
    p.add_argument("--radius", type=float, help="walking radius in metres (default: the kind's life circle)")
    p.add_argument("--min-age", type=int, help="youngest age served (default: the kind's demand group)")
    p.add_argument("--max-age", type=int, help="oldest age served (inclusive)")
    p.add_argument("--everyone", action="store_true", help="serve all residents (no age bounds, no tag)")
    p.add_argument("--tag", help="only residents with this population tag (e.g. elderly_alone)")
    p.add_argument("--detour", type=float, default=1.3, help="straight-line detour factor without a network")
    p.add_argument("--straight", action="store_true", help="straight line × detour even when a network exists")


def register(sub: argparse._SubParsersAction) -> None:
    plan = sub.add_parser("plan", help="facility planning: life-circle coverage and location-allocation")
    ps = plan.add_subparsers(dest="plan_command", required=True, metavar="WHAT")
    p = ps.add_parser("network", help="(re)build the walking network from the road layer")
    p.set_defaults(func=cmd_network)
    p = ps.add_parser("coverage", help="coverage figures of a facility kind (optionally saved as a scenario)")
    _analysis_args(p)
    p.add_argument("--save", metavar="NAME", help="save as a scenario named NAME")
    p.set_defaults(func=cmd_coverage)
    p = ps.add_parser("solve", help="add sites with MCLP, p-median or set cover; saved as a scenario")
    _analysis_args(p)
    p.add_argument("--model", choices=MODELS, required=True)
    p.add_argument("--k", type=int, help="sites to add (mclp, pmedian)")
    p.add_argument("--candidates", default="h3:9", metavar="h3:RES|upload:SET_ID|address:TEXT",
                   help="candidate sites (default %(default)s)")
    p.add_argument("--capacity", type=float, help="people each new site can serve (default unlimited)")
    p.add_argument("--existing-capacity", action="store_true",
                   help="mclp: existing facilities serve at most their recorded capacity (else --capacity, "
                        "else unlimited) instead of everyone within the radius")
    p.add_argument("--demand-res", type=int, default=10, choices=(8, 9, 10),
                   help="H3 resolution of the demand cells the models use (default %(default)s)")
    p.add_argument("--time-limit", type=float, default=60.0, help="solver time limit, seconds")
    p.add_argument("--name", required=True, help="scenario name")
    p.set_defaults(func=cmd_solve)
    p = ps.add_parser("candidates", help="upload candidate sites (points file) as a named set")
    p.add_argument("path")
    p.add_argument("--name", help="set name (default: the file name)")
    p.add_argument("--crs", help="CRS when the file does not declare one")
    p.set_defaults(func=cmd_candidates)
    p = ps.add_parser("scenarios", help="list saved scenarios")
    p.set_defaults(func=cmd_scenarios)
    p = ps.add_parser("export", help="export a scenario as .geojson, .csv or one-page .pdf")
    p.add_argument("scenario", type=int)
    p.add_argument("path")
    p.set_defaults(func=cmd_export)
    p = ps.add_parser("delete", help="delete a scenario")
    p.add_argument("scenario", type=int)
    p.set_defaults(func=cmd_delete)


def _analysis(conn, args) -> Analysis:
    base = default_analysis(conn, args.kind)
    g = base.group
    group = DemandGroup() if args.everyone else DemandGroup(
        args.min_age if args.min_age is not None else g.min_age,
        args.max_age if args.max_age is not None else g.max_age, args.tag or g.tag)
    return Analysis(args.kind, args.radius or base.radius_m, group, args.detour, not args.straight)


def cmd_network(args) -> int:
    with connect() as conn:
        status = build_walk_network(conn, log=lambda m: print(f"network: {m}"))
    print(f"network: {status.nodes:,} vertices, {status.edges:,} edges, {status.length_km:,.1f} km"
          if status.ready else "network: no roads loaded; distances are straight lines × detour factor")
    return 0


def _n(value) -> str:
    """A count as shown: suppressed (None) counts are "<k"."""
    return f"<{get_settings().min_cell}" if value is None else f"{value:,}"


def _print_figures(fig: dict) -> None:
    mode = "walking network" if fig["distance_mode"] == "network" else "straight line × detour"
    pct = "—" if fig["coverage_pct"] is None else f"{fig['coverage_pct']} %"
    print(f"coverage: {pct} of {_n(fig['people'])} people within {fig['radius_m']:.0f} m ({mode}); "
          f"unserved {_n(fig['unserved'])}; mean {fig['mean_m']} m, P90 {fig['p90_m']} m; "
          f"unreachable {_n(fig['unreachable'])}")


def cmd_coverage(args) -> int:
    with connect() as conn:
        analysis = _analysis(conn, args)
        result = run_coverage(conn, analysis)
        _print_figures(result["figures"])
        if args.save:
            sid = save_coverage(conn, analysis, args.save)
            conn.commit()
            print(f"saved scenario {sid} {args.save!r}")
    return 0


def _candidates(text: str) -> dict:
    source, _, value = text.partition(":")
    try:
        if source == "h3":
            return {"source": "h3", "candidate_res": int(value or 9)}
        if source == "upload":
            return {"source": "upload", "candidate_set": int(value)}
    except ValueError as exc:
        raise InvalidInput(f"--candidates {text!r}: expected h3:RES, upload:SET_ID or address:TEXT") from exc
    if source == "address":
        return {"source": "address", "address_text": value}
    raise InvalidInput(f"--candidates {text!r}: expected h3:RES, upload:SET_ID or address:TEXT")


def cmd_solve(args) -> int:
    with connect() as conn:
        opt = Optimisation(_analysis(conn, args), args.model, k=args.k, capacity=args.capacity,
                           time_limit=args.time_limit, existing_capacity=args.existing_capacity,
                           demand_res=args.demand_res, **_candidates(args.candidates))
        with tqdm(total=100, desc="solve", unit="%") as bar:
            def report(stage, progress, gap):
                bar.set_description(f"solve: {stage}" + (f" gap {100 * gap:.2f} %" if gap is not None else ""))
                bar.update(max(0, int(progress * 100) - bar.n))
            sid = solve_scenario(conn, opt, args.name, report)
        conn.commit()
        row = public_scenario(next(s for s in fetch_scenarios(conn) if s["id"] == sid), get_settings().min_cell)
    _print_figures(row["figures"]["after"])
    solver = row["solver"]
    gap = "—" if solver["gap"] is None else f"{100 * solver['gap']:.2f} %"
    print(f"scenario {sid} {args.name!r}: {row['figures']['sites']} new sites; solver {solver['status']}, "
          f"gap {gap}, {solver['seconds']} s")
    if solver.get("heuristic") is not None and solver.get("bound") is not None:
        print(f"p-median people × metres: greedy + interchange {solver['heuristic']:,.0f}, final "
              f"{solver['objective']:,.0f}, lower bound {solver['bound']:,.0f}")
    if "capacity_served_after" in row["figures"]:
        fig = row["figures"]
        print(f"within radius and capacity: {_n(fig['capacity_served_before'])} people served before, "
              f"{_n(fig['capacity_served_after'])} after (existing capacity {fig['existing_capacity']:,})")
    return 0


def cmd_candidates(args) -> int:
    with connect() as conn:
        set_id = write_candidate_set(conn, args.name, args.path, crs=args.crs)
        conn.commit()
    print(f"candidate set {set_id} saved (use --candidates upload:{set_id})")
    return 0


def cmd_scenarios(args) -> int:
    with connect() as conn:
        rows = fetch_scenarios(conn)
    for r in rows:
        after = public_scenario(r, get_settings().min_cell)["figures"]["after"]
        print(f"{r['id']:>4}  {r['name']:<24} {r['kind']:<18} {r['model']:<8} sites {r['figures']['sites']:>4}  "
              f"coverage {after['coverage_pct']} %  mean {after['mean_m']} m  ({r['distance_mode']})")
    return 0


def cmd_export(args) -> int:
    fmt = Path(args.path).suffix.lower().lstrip(".")
    if fmt == "json":
        fmt = "geojson"
    if fmt not in FORMATS:
        raise InvalidInput(f"{args.path}: the extension must be .geojson, .csv or .pdf")
    with connect() as conn:
        data = export_scenario(conn, args.scenario, fmt)
    Path(args.path).write_bytes(data)
    print(f"wrote {args.path} ({len(data):,} bytes)")
    return 0


def cmd_delete(args) -> int:
    with connect() as conn:
        delete_scenario(conn, args.scenario)
        conn.commit()
    print(f"deleted scenario {args.scenario}")
    return 0
