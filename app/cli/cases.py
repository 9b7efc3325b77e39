"""``onegrid simulate cases|readings``: live case traffic through the normal intake and
workflow, with sensor readings (and the warnings they raise) streamed alongside.

Historical cases are imported with ``onegrid import cases PATH`` (app.cli.data).
"""

from __future__ import annotations

import argparse
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from geodata.cases.simulate import CaseSimulator
from geodata.db import connect
from geodata.settings import get_settings
from geodata.warnings.simulate import ReadingSimulator


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
    p.add_argument("--no-readings", action="store_true",
                   help="cases only: do not stream sensor readings alongside")
    _reading_options(p)
    p.set_defaults(func=cmd_simulate, cases=True)
    r = simsub.add_parser("readings", help="stream sensor readings (warnings open, escalate and get handled)",
                          description="Each sensor reports about once per PERIOD seconds; incidents ramp readings "
                                      "up through the warning levels; operators acknowledge, dismiss or turn "
                                      "warnings into cases after a while. Load the demo (with history) first.")
    r.add_argument("--duration", type=float, default=0, help="seconds to run; 0 runs until Ctrl-C")
    r.add_argument("--seed", type=int, default=None, help="random seed")
    r.add_argument("--quiet", action="store_true", help="only the summary line")
    _reading_options(r)
    r.set_defaults(func=cmd_simulate, cases=False, no_readings=False, rate=0)


def _reading_options(p) -> None:
    p.add_argument("--period", type=float, default=30.0,
                   help="seconds between two reports of one sensor (default %(default)s)")
    p.add_argument("--incidents", type=float, default=30.0, metavar="N",
                   help="sensor incidents started per hour, district-wide (default %(default)s)")



def cmd_simulate(args) -> int:
    totals = {"created": 0, "duplicates": 0, "moved": 0, "refused": 0, "readings": 0, "opened": 0}
    started = time.monotonic()
    tz = ZoneInfo(get_settings().timezone)
    with connect() as conn, connect() as sensor_conn:
        sim = CaseSimulator(conn, rate=args.rate, seed=args.seed) if args.cases else None
        sensors = None if args.no_readings else ReadingSimulator(
            sensor_conn, seed=args.seed, period=args.period, incidents_per_hour=args.incidents)
        ticks = 0
        try:
            while args.duration <= 0 or time.monotonic() - started < args.duration:
                tick_start = time.monotonic()
                ticks += 1
                parts = []
                if sim is not None:
                    report = sim.tick()
                    for key in ("created", "duplicates", "moved", "refused"):
                        totals[key] += getattr(report, key)
                    parts.append(report.line())
                if sensors is not None:
                    reading = sensors.tick(datetime.now(tz))
                    totals["readings"] += reading.readings
                    totals["opened"] += reading.opened
                    parts.append(reading.line())
                if not args.quiet:
                    print(" · ".join(parts), flush=True)
                time.sleep(max(0.0, 1.0 - (time.monotonic() - tick_start)))
        except KeyboardInterrupt:
            pass
    line = f"simulate: {ticks} ticks in {time.monotonic() - started:.1f} s"
    if sim is not None:
        line += (f": {totals['created']} cases ({totals['duplicates']} likely duplicates), {totals['moved']} "
                 f"workflow steps, {totals['refused']} refused")
    if sensors is not None:
        line += f"; {totals['readings']} readings from {len(sensors.sensors)} sensors, {totals['opened']} warnings opened"
    print(line)
    return 0

