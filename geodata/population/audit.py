"""Exact audit of the published population figures: can a suppressed figure be recovered?

An attacker with a linear-programming solver, written independently of the publisher (no code
shared with :mod:`~geodata.population.publish`, :mod:`~geodata.population.bounds` or
:mod:`~geodata.population.flows`): per tag, the unknowns are the people in each distinct
(res-10, res-9, res-8, res-7 cell, grid) piece of the ``address`` table, each ≥ 0; every
published figure (``population_cell`` at res 7–10 and ``population_grid``) is an equation over
its pieces. For each suppressed figure the LP minimum and maximum of its pieces' sum are solved
(HiGHS), knowing too that a suppressed figure is at least 1 (an empty one is absent); a range
narrower than one person means the figure is determined. The true count of a
determined figure is read to tell whether it is below ``ONEGRID_MIN_CELL``; it is returned as
a flag only, never as a number.

Used by ``bench/privacy_audit.py`` and the test suite; seconds per tag on the small demo.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import psycopg
from scipy import sparse
from scipy.optimize import linprog

from geodata.population import sql as Q


@dataclass(frozen=True)
class AuditResult:
    """Of ``audited`` suppressed figures of ``tag``, those determined: ``(level, key)`` with
    level 7..10 or ``"grid"``, and how many of those are below k."""

    tag: str
    pieces: int
    published: int
    suppressed: int
    audited: int
    determined: list[tuple]
    below_k: int


def fetch_tags(conn: psycopg.Connection) -> list[str]:
    """Every tag with published figures, ``"*"`` first."""
    return [r[0] for r in conn.execute(Q.AUDIT_TAGS)]


def audit_tag(conn: psycopg.Connection, tag: str, k: int, limit: int = 0,
              progress: Callable[[Iterable], Iterable] = iter, only: list[tuple] | None = None) -> AuditResult:
    """Solve the attacker's LPs for (up to ``limit``, 0 = all) suppressed figures of ``tag``
    (or just those of them in ``only``)."""
    pieces = conn.execute(Q.AUDIT_PIECES).fetchall()
    members: dict[tuple, list[int]] = {}
    for i, (c10, c9, c8, c7, grid) in enumerate(pieces):
        for key in ((10, c10), (9, c9), (8, c8), (7, c7)) + ((("grid", grid),) if grid else ()):
            members.setdefault(key, []).append(i)
    figures = {(int(r), c): n for r, c, n in conn.execute(Q.AUDIT_CELLS, {"tag": tag})}
    figures |= {("grid", g): n for g, n in conn.execute(Q.AUDIT_GRIDS, {"tag": tag})}
    hidden = [key for key, n in figures.items() if n is None]
    todo = [key for key in hidden if only is None or key in only]
    todo = todo[:limit] if limit else todo
    found = determined(members, len(pieces), figures, progress(todo))
    below = sum(_true_count(conn, tag, key) < k for key in found)
    return AuditResult(tag, len(pieces), len(figures) - len(hidden), len(hidden), len(todo), found, below)


def determined(members: dict[tuple, list[int]], n_pieces: int, figures: dict[tuple, int | None],
               targets: Iterable[tuple]) -> list[tuple]:
    """The ``targets`` (suppressed figures) an LP pins, for one tag.

    ``members``: figure → indices of its pieces (0..n_pieces-1, each ≥ 0); ``figures``: figure
    → published count, or None if suppressed (then known to be ≥ 1: an empty figure is absent).
    """
    rows, cols, values, h_rows, h_cols = [], [], [], [], []
    for key, value in figures.items():
        at = members.get(key, [])
        if value is None:
            continue
        rows += [len(values)] * len(at)
        cols += at
        values.append(value)
    hidden = [key for key, value in figures.items() if value is None]
    for i, key in enumerate(hidden):
        at = members.get(key, [])
        h_rows += [i] * len(at)
        h_cols += at
    a_eq = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(values), n_pieces))
    a_ub = sparse.csr_matrix((-np.ones(len(h_rows)), (h_rows, h_cols)), shape=(len(hidden), n_pieces))
    bounds = {"bounds": (0, None), "method": "highs"}
    if len(values):
        bounds |= {"A_eq": a_eq, "b_eq": values}
    if len(hidden):
        bounds |= {"A_ub": a_ub, "b_ub": -np.ones(len(hidden))}
    out = []
    for key in targets:
        objective = np.zeros(n_pieces)
        objective[members.get(key, [])] = 1
        low = linprog(objective, **bounds)
        high = linprog(-objective, **bounds)
        if low.status == 0 and high.status == 0 and -high.fun - low.fun < 1 - 1e-6:
            out.append(key)
    return out


def _true_count(conn: psycopg.Connection, tag: str, key: tuple) -> int:
    level, value = key
    query = Q.AUDIT_TRUTH_GRID if level == "grid" else Q.AUDIT_TRUTH_CELL
    return conn.execute(query, {"tag": tag, "key": value, "res": level}).fetchone()[0]
