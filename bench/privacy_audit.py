"""Exact audit of the published population figures: can any suppressed figure be recovered?

The attacker (geodata/population/audit.py) solves, per tag, a linear program over every
published figure — the people of each (H3 res-10 cell ∩ grid) piece unknown and ≥ 0 — for the
minimum and maximum of each suppressed figure. Prints, per tag, how many suppressed figures
are determined and how many of those are below ONEGRID_MIN_CELL; exits 1 if any is.

Not a timing bench: it prints the audit's rate (figures per second) for scale only.

Usage: ``.venv/bin/python bench/privacy_audit.py [--tag TAG | --all-tags] [--limit N] [--dsn DSN]``
(default: all residents ('*'), every suppressed figure, the configured database). Small demo:
~20 s for '*', ~2 min for every tag.
"""

from __future__ import annotations

import argparse
import sys
import time

from tqdm import tqdm

from geodata.db import connect
from geodata.errors import InvalidInput
from geodata.population.audit import audit_tag, fetch_tags
from geodata.population.read import check_tag
from geodata.settings import get_settings


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default="*", help="population tag ('*' = all residents)")
    ap.add_argument("--all-tags", action="store_true", help="audit every published tag")
    ap.add_argument("--limit", type=int, default=0, help="audit at most N suppressed figures per tag (0 = all)")
    ap.add_argument("--dsn", default=None, help="database (default: the configured one)")
    args = ap.parse_args()
    k = get_settings().min_cell
    conn = connect(args.dsn) if args.dsn else connect()
    try:
        tags = fetch_tags(conn) if args.all_tags else [check_tag(conn, args.tag)]
    except InvalidInput as exc:
        print(f"privacy_audit: {exc}", file=sys.stderr)
        return 2
    leaks = 0
    for tag in tags:
        t0 = time.perf_counter()
        r = audit_tag(conn, tag, k, args.limit, progress=lambda xs, tag=tag: tqdm(xs, desc=f"audit {tag}", file=sys.stderr,
                                                                             leave=False))
        took = time.perf_counter() - t0
        print(f"tag {tag}: {r.pieces:,} pieces, {r.published:,} published, {r.suppressed:,} suppressed; "
              f"{len(r.determined):,} of {r.audited:,} audited are determined ({r.below_k:,} below k = {k}); "
              f"{took:.1f} s, {r.audited / max(took, 1e-9):.0f} figures/s", flush=True)
        leaks += r.below_k
    return 1 if leaks else 0


if __name__ == "__main__":
    raise SystemExit(main())
