"""Exact audit of the published population figures: can a suppressed figure be recovered?

The publisher (geodata/population/publish.py) hides figures until bound propagation
(geodata/population/bounds.py) can no longer pin any of them. Interval propagation is weaker
than an attacker with a linear-programming solver: it loses what a *group* of atoms sums to,
so differences of two large sums (e.g. a secondary-suppressed grid total recovered from other
figures, minus its published cells) slip through. This script is the stronger attacker.

Model, per tag: atoms = distinct (res-10, res-9, res-8, res-7 cell, grid) pieces of the address
table, each an unknown count ≥ 0; every published figure (H3 cells res 7–10 and grids) is an
equality over its atoms. For each suppressed figure the LP minimum and maximum of its atoms'
sum is solved (HiGHS); a range narrower than 1 means the figure is determined. Prints how many
suppressed figures are determined and how many of those are below ONEGRID_MIN_CELL (checked
against the true count, which this script reads but does not print).

Usage: ``.venv/bin/python bench/privacy_audit.py [--tag TAG] [--limit N] [--dsn DSN]``
(default: all residents, every suppressed figure, the configured database). Small demo: ~20 s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from geodata.db import connect
from geodata.settings import get_settings

ATOMS = "SELECT DISTINCT h3_r10, h3_r9, h3_r8, h3_r7, coalesce(grid_code, '') FROM address"
CELLS = "SELECT res, cell, n FROM population_cell WHERE tag = %s"
GRIDS = "SELECT grid_code, n FROM population_grid WHERE tag = %s"
TRUTH_JOIN = {"*": "", "tag": " JOIN resident_tag t ON t.resident_id = r.id AND t.tag_code = %(tag)s"}


def truth(conn, tag: str, key: tuple) -> int:
    join = TRUTH_JOIN["*"] if tag == "*" else TRUTH_JOIN["tag"]
    where = "a.grid_code = %(k)s" if key[0] == "g" else f"a.h3_r{int(key[0])} = %(k)s"
    q = f"SELECT count(*) FROM resident r JOIN address a ON a.id = r.address_id{join} WHERE {where}"  # noqa: S608
    return conn.execute(q, {"k": key[1], "tag": tag}).fetchone()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tag", default="*", help="population tag ('*' = all residents)")
    ap.add_argument("--limit", type=int, default=0, help="audit at most N suppressed figures (0 = all)")
    ap.add_argument("--dsn", default=None, help="database (default: the configured one)")
    args = ap.parse_args()
    k = get_settings().min_cell
    conn = connect(args.dsn) if args.dsn else connect()
    atoms = conn.execute(ATOMS).fetchall()
    members: dict[tuple, list[int]] = {}
    for i, (c10, c9, c8, c7, grid) in enumerate(atoms):
        for key in ((10, c10), (9, c9), (8, c8), (7, c7)) + ((("g", grid),) if grid else ()):
            members.setdefault(key, []).append(i)
    published = {(r, c): n for r, c, n in conn.execute(CELLS, (args.tag,))}
    published |= {("g", g): n for g, n in conn.execute(GRIDS, (args.tag,))}
    rows, cols, b_eq, hidden = [], [], [], []
    for key, value in published.items():
        if value is None:
            hidden.append(key)
            continue
        rows += [len(b_eq)] * len(members.get(key, ()))
        cols += members.get(key, [])
        b_eq.append(value)
    a_eq = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(b_eq), len(atoms)))
    todo = hidden[: args.limit] if args.limit else hidden
    print(f"tag {args.tag}: {len(atoms):,} atoms, {len(b_eq):,} published figures, {len(hidden):,} suppressed; "
          f"auditing {len(todo):,}", flush=True)
    t0, determined, below_k = time.perf_counter(), 0, 0
    for key in todo:
        obj = np.zeros(len(atoms))
        obj[members.get(key, [])] = 1
        lo = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        if lo.status == 0 and hi.status == 0 and -hi.fun - lo.fun < 1 - 1e-6:
            determined += 1
            real = truth(conn, args.tag, key)
            below_k += real < k
            if real != round(lo.fun):
                print(f"  model mismatch at {key}: LP {lo.fun:.1f}")
    print(f"{determined:,} of {len(todo):,} suppressed figures are determined by the published ones "
          f"({below_k:,} of them below k = {k}); {time.perf_counter() - t0:.1f} s")
    return 1 if below_k else 0


if __name__ == "__main__":
    raise SystemExit(main())
