"""``onegrid simulate cases``: live case traffic through the normal intake and workflow.

Historical cases are imported with ``onegrid import cases PATH`` (app.cli.data).
"""

from __future__ import annotations

import argparse
import time

from geodata.cases.simulate import CaseSimulator
from geodata.db import connect


def register(sub: argparse._SubParsersAction) -> None:
    sim = sub.add_parser("simulate", help="simulated live traffic")
    simsub = sim.add_subparsers(dest="simulate_command", required=True, metavar="WHAT")
    p = simsub.add_parser("cases", help="report and move cases like a live district does",
                          description="Reports about RATE cases per second (shaped by the local time of day) "
                                      "near real addresses through the normal intake, and moves open cases "
                                      "through the workflow; every case and step is committed on its own.")
    p.add_argument("--rate", type=float, default=1.0, help="average new cases per second (default %(default)s)")
    p.add_argument("--duration", type=float, default=0,
                   help="seconds to run; 0 runs until Ctrl-C (default %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="random seed (same seed, same choices)")
    p.add_argument("--quiet", action="store_true", help="only the summary line")
    p.set_defaults(func=cmd_simulate)



def cmd_simulate(args) -> int:
    totals = {"created": 0, "duplicates": 0, "moved": 0, "refused": 0}
    started = time.monotonic()
    with connect() as conn:
        sim = CaseSimulator(conn, rate=args.rate, seed=args.seed)
        try:
            while args.duration <= 0 or time.monotonic() - started < args.duration:
                tick_start = time.monotonic()
                report = sim.tick()
                for key in totals:
                    totals[key] += getattr(report, key)
                if not args.quiet:
                    print(report.line(), flush=True)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - tick_start)))
        except KeyboardInterrupt:
            pass
    print(f"simulate: {sim.ticks} ticks in {time.monotonic() - started:.1f} s: {totals['created']} cases "
          f"({totals['duplicates']} likely duplicates), {totals['moved']} workflow steps, "
          f"{totals['refused']} refused")
    return 0

