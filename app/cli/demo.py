"""``onegrid demo load``: the demo district, in one transaction."""

from __future__ import annotations

import argparse
import time

from geodata.db import connect
from geodata.demo import DEFAULT_DISTRICT, build_demo
from geodata.demo.load import (
    count_admin_areas,
    delete_onegrid_data,
    lock_demo,
    write_demo,
    write_history,
    write_sensor_demo,
)
from geodata.errors import Conflict, InvalidInput


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the demo district")
    demosub = demo.add_subparsers(dest="demo_command", required=True, metavar="ACTION")
    p = demosub.add_parser("load", help="generate the demo district and load it (one transaction)")
    p.add_argument("--district", default=DEFAULT_DISTRICT,
                   help="区, 市/区 or 省/市/区 (default %(default)s); the boundary is the real one")
    p.add_argument("--scale", choices=("small", "district"), default="district",
                   help="small: ~3,000 addresses (tests); district: ~150,000 (default)")
    p.add_argument("--seed", type=int, default=42, help="same seed, same data (default %(default)s)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--if-empty", action="store_true",
                      help="do nothing (exit 0) when the database already has admin areas")
    mode.add_argument("--replace", action="store_true",
                      help="delete all OneGrid data first (same transaction)")
    p.add_argument("--history-days", type=int, default=90, metavar="N",
                   help="seed the last N days of cases, plus demo sensors with their last 48 h of "
                        "readings (default %(default)s; 0 = none of these)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=cmd_load)


def cmd_load(args) -> int:
    if not 0 <= args.history_days <= 366:
        raise InvalidInput(f"--history-days must be within 0..366, got {args.history_days}")
    started = time.monotonic()
    with connect() as conn:
        existing = count_admin_areas(conn)
        conn.rollback()
        if existing and args.if_empty:
            print(f"demo: skipped, the database already has {existing} admin areas")
            return 0
        if existing and not args.replace:
            raise Conflict(f"the database already has {existing} admin areas; nothing was changed. "
                           "Use --replace to delete all OneGrid data and load the demo, "
                           "or --if-empty to skip when there is data")
        data = build_demo(args.district, args.scale, args.seed, progress=not args.no_progress)
        built = time.monotonic()
        with conn.transaction():
            lock_demo(conn)
            existing = count_admin_areas(conn)  # again: another loader may have won the race
            if existing and args.if_empty:
                print(f"demo: skipped, the database already has {existing} admin areas")
                return 0
            if existing and not args.replace:
                raise Conflict(f"the database already has {existing} admin areas; nothing was changed")
            deleted = delete_onegrid_data(conn) if args.replace else {}
            counts = write_demo(conn, data, progress=not args.no_progress)
            counts["cases"] = write_history(conn, days=args.history_days, scale=args.scale, seed=args.seed)
            if args.history_days:
                counts |= write_sensor_demo(conn, scale=args.scale, seed=args.seed, history_days=args.history_days)
    d = data.district
    if any(deleted.values()):
        print("demo: replaced " + ", ".join(f"{n} {t}" for t, n in deleted.items() if n))
    print(f"demo: {d.label} (code {d.code}{'' if d.code_is_real else ', synthetic'}), "
          f"scale {args.scale}, seed {args.seed}")
    print("demo: loaded " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
    print(f"demo: built in {built - started:.1f} s, written in {time.monotonic() - built:.1f} s")
    return 0
