"""``onegrid grids check|history|diff|rollback|suggest``: a community's grid set from the shell.

Boundary files go through ``onegrid import grids FILE [--replace]`` (app.cli.data), which
validates and versions them the same way.
"""

from __future__ import annotations

import argparse
import sys

from tqdm import tqdm

from geodata.db import connect
from geodata.grids import editor as E
from geodata.grids import store
from geodata.grids.suggestions import suggest_draft


def register(sub: argparse._SubParsersAction) -> None:
    g = sub.add_parser("grids", help="check, version, roll back and suggest a community's grids")
    gsub = g.add_subparsers(dest="grids_command", required=True, metavar="ACTION")
    p = gsub.add_parser("check", help="validate a community's current grids (every rule)")
    p.add_argument("community", help="community code")
    p.set_defaults(func=cmd_check)
    p = gsub.add_parser("history", help="list the versions of a community's grid set")
    p.add_argument("community")
    p.set_defaults(func=cmd_history)
    p = gsub.add_parser("diff", help="what changed per grid between two versions")
    p.add_argument("community")
    p.add_argument("a", type=int)
    p.add_argument("b", type=int)
    p.set_defaults(func=cmd_diff)
    p = gsub.add_parser("rollback", help="restore an earlier version (saved as a new version)")
    p.add_argument("community")
    p.add_argument("version", type=int)
    p.add_argument("--author", required=True)
    p.add_argument("--reason", required=True)
    p.set_defaults(func=cmd_rollback)
    p = gsub.add_parser("suggest", help="balanced contiguous grids within the household range",
                        description="Cuts the community into grids of ONEGRID_GRID_HOUSEHOLDS_MIN..MAX households "
                                    "(following roads where they allow); prints them, saves with --save.")
    p.add_argument("community")
    p.add_argument("--save", action="store_true", help="save the suggestion as a new version")
    p.add_argument("--author", default="onegrid suggest")
    p.add_argument("--reason", default="balanced grids suggested by households")
    p.set_defaults(func=cmd_suggest)


def _print_report(report) -> None:
    for issue in report.issues:
        d = issue.to_dict()
        area = f" {d['area_m2']:,.0f} m²" if d["area_m2"] else ""
        value = f" ({d['value']})" if d["value"] is not None else ""
        print(f"{d['severity']:<8}{d['rule']:<17}{' / '.join(d['codes'])}{area}{value} {d['detail']}".rstrip())
    print(f"{len(report.errors)} error(s), {len(report.issues) - len(report.errors)} warning(s)")


def cmd_check(args) -> int:
    with connect() as conn:
        report = E.check_draft(conn, E.load_draft(conn, args.community))
    _print_report(report)
    return 0 if report.ok else 1


def cmd_history(args) -> int:
    with connect() as conn:
        store.fetch_community(conn, args.community)
        versions = store.fetch_versions(conn, args.community)
    for v in versions:
        print(f"v{v['version']:<4}{v['kind']:<11}{v['created_at']:%Y-%m-%d %H:%M}  {v['grids']:>3} grids  "
              f"{v['author']}: {v['reason']}")
    if not versions:
        print("never edited (the current grids become version 1 on the first save)")
    return 0


def cmd_diff(args) -> int:
    with connect() as conn:
        diff = store.fetch_diff(conn, args.community, args.a, args.b)
    for d in diff:
        if d["change"] != "same":
            print(f"{d['code']}  {d['change']:<8} area {d['area_a'] or 0:>12,.0f} → {d['area_b'] or 0:>12,.0f} m²  "
                  f"households {d['households_a'] or 0} → {d['households_b'] or 0}")
    print(f"{sum(d['change'] != 'same' for d in diff)} of {len(diff)} grids differ")
    return 0


def cmd_rollback(args) -> int:
    with connect() as conn:
        version = E.rollback(conn, args.community, args.version, base_version=store.fetch_head(conn, args.community),
                             author=args.author, reason=args.reason)
        conn.commit()
    print(f"rolled back to version {args.version}: now version {version}")
    return 0


def cmd_suggest(args) -> int:
    with connect() as conn, tqdm(total=100, desc="suggest", unit="%", file=sys.stderr, leave=False) as bar:
        draft = E.load_draft(conn, args.community)

        def progress(fraction: float) -> None:
            bar.update(round(fraction * 100) - bar.n)

        suggested, households = suggest_draft(conn, draft, progress)
        report = E.check_draft(conn, suggested)
        bar.close()
        for code, stats in sorted(report.per_grid.items()):
            print(f"{code}  {stats['households']:>6} households  {stats['addresses']:>6} addresses")
        _print_report(report)
        if args.save:
            version = E.save_draft(conn, suggested, author=args.author, reason=args.reason, kind="suggestion")
            conn.commit()
            print(f"saved as version {version}")
    return 0
