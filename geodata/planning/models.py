"""Location-allocation models solved with HiGHS (MIP) under a time limit: the shared parts.

- :func:`geodata.planning.mclp.solve_mclp` — maximal covering: add ``k`` sites to cover the
  most demand within the radius (optionally with site capacities);
- :func:`geodata.planning.pmedian.solve_pmedian` — add ``p`` sites to minimise demand-weighted
  walking distance, each demand going to its nearest open site (existing facilities stay open;
  optional capacities);
- :func:`solve_lscp` (here) — set cover: the fewest sites so that every coverable demand is
  within the radius of a site.

Inputs are plain arrays: demand weights ``w`` (people per demand point), and candidate ×
demand relations as sparse pairs. Existing facilities are fixed: the caller removes demand they
already cover (MCLP, LSCP) or passes each demand's distance to its nearest one (p-median).
Results carry the gap against the best bound proven (:class:`Solution`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import highspy
import numpy as np
from scipy import sparse

from geodata.errors import InvalidInput

#: progress(elapsed seconds, gap or None) → True to stop the solve early.
Progress = Callable[[float, float | None], bool | None]


@dataclass
class Solution:
    """Chosen candidate indices and how good the answer is proven to be."""

    chosen: list[int]
    objective: float
    bound: float | None
    gap: float | None  # relative, 0 = proven optimal
    status: str  # optimal | time_limit | interrupted | bounded (p-median: the bound stopped rising)
    seconds: float
    served: np.ndarray = field(default_factory=lambda: np.zeros(0))  # people per chosen site
    details: dict = field(default_factory=dict)  # what the reductions and heuristics did


def _check(w: np.ndarray, n_cand: int, k: int | None) -> None:
    if len(w) == 0 or float(np.sum(w)) <= 0:
        raise InvalidInput("no demand to serve (empty demand)")
    if n_cand == 0:
        raise InvalidInput("no candidate sites")
    if k is not None:
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise InvalidInput(f"number of new sites must be a whole number ≥ 1, got {k!r}")
        if k > n_cand:
            raise InvalidInput(f"cannot choose {k} sites from {n_cand} candidates (k larger than candidates)")


def coverage_matrix(cand: np.ndarray, dem: np.ndarray, n_cand: int, n_dem: int) -> sparse.csc_matrix:
    """Binary demand × candidate matrix from (candidate, demand) pairs within the radius."""
    data = np.ones(len(cand))
    a = sparse.csc_matrix((data, (dem, cand)), shape=(n_dem, n_cand))
    a.data[:] = 1.0  # duplicates summed above: back to 0/1
    return a


class _Model:
    """Columns and rows of one MIP, handed to HiGHS at once (CSC)."""

    def __init__(self):
        self.cost, self.lo, self.hi, self.integer = [], [], [], []
        self.rows_lo, self.rows_hi = [], []
        self.entries: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def cols(self, cost, lo, hi, integer: bool) -> int:
        start = len(self.cost)
        cost = np.asarray(cost, float)
        self.cost.extend(cost.tolist())
        self.lo.extend(np.broadcast_to(lo, cost.shape).tolist())
        self.hi.extend(np.broadcast_to(hi, cost.shape).tolist())
        self.integer.extend([integer] * len(cost))
        return start

    def rows(self, row_cols: list[tuple[np.ndarray, np.ndarray, np.ndarray]], lo, hi, count: int) -> int:
        """Add ``count`` rows; ``row_cols`` are (row offset, column, value) arrays."""
        start = len(self.rows_lo)
        self.rows_lo.extend(np.broadcast_to(np.asarray(lo, float), (count,)).tolist())
        self.rows_hi.extend(np.broadcast_to(np.asarray(hi, float), (count,)).tolist())
        for r, c, v in row_cols:
            self.entries.append((np.asarray(r) + start, np.asarray(c), np.asarray(v, float)))
        return start

    def solve(self, maximize: bool, time_limit: float, progress: Progress | None, start: np.ndarray | None,
              gap: float, options: dict | None = None) -> tuple[np.ndarray, float, float | None, float | None, str, float]:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        for key, value in (options or {}).items():
            h.setOptionValue(key, value)
        h.setOptionValue("time_limit", float(time_limit))
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("threads", 1)
        lp = highspy.HighsLp()
        n, m = len(self.cost), len(self.rows_lo)
        lp.num_col_, lp.num_row_ = n, m
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.asarray(self.cost), np.asarray(self.lo), np.asarray(self.hi)
        lp.row_lower_, lp.row_upper_ = np.asarray(self.rows_lo), np.asarray(self.rows_hi)
        r = np.concatenate([e[0] for e in self.entries]) if self.entries else np.zeros(0, int)
        c = np.concatenate([e[1] for e in self.entries]) if self.entries else np.zeros(0, int)
        v = np.concatenate([e[2] for e in self.entries]) if self.entries else np.zeros(0)
        mat = sparse.csc_matrix((v, (r, c)), shape=(m, n))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = mat.indptr, mat.indices, mat.data
        lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = n, m
        lp.integrality_ = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous
                           for i in self.integer]
        lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        h.passModel(lp)
        if start is not None:
            h.setSolution(_solution(start))
        began = time.monotonic()
        stopped = {"flag": False}
        if progress is not None:
            last = {"t": 0.0}

            def on_interrupt(event):
                now = time.monotonic() - began
                if now - last["t"] >= 0.5:
                    last["t"] = now
                    g = event.data_out.mip_gap
                    if progress(now, float(g) if np.isfinite(g) else None):
                        stopped["flag"] = True
                if stopped["flag"]:
                    event.data_in.user_interrupt = True

            h.cbMipInterrupt.subscribe(on_interrupt)
        h.run()
        seconds = time.monotonic() - began
        status = h.getModelStatus()
        info = h.getInfo()
        values = np.asarray(h.getSolution().col_value)
        if values.size != n:
            raise InvalidInput(f"the solver found no solution ({h.modelStatusToString(status)})")
        label = {highspy.HighsModelStatus.kOptimal: "optimal",
                 highspy.HighsModelStatus.kTimeLimit: "time_limit"}.get(status, "interrupted")
        if stopped["flag"]:
            label = "interrupted"
        bound = float(info.mip_dual_bound) if np.isfinite(info.mip_dual_bound) else None
        rel_gap = float(info.mip_gap) if np.isfinite(info.mip_gap) else None
        if label == "optimal" and (rel_gap is None or rel_gap < 1e-9):
            rel_gap = 0.0
        return values, float(info.objective_function_value), bound, rel_gap, label, seconds


def _solution(values: np.ndarray):
    sol = highspy.HighsSolution()
    sol.col_value = np.asarray(values, float)
    sol.value_valid = True
    return sol


def _chosen(values: np.ndarray, n_cand: int) -> list[int]:
    return [int(j) for j in np.nonzero(values[:n_cand] > 0.5)[0]]


def _first_claim(a: sparse.csc_matrix, w: np.ndarray, chosen: list[int]) -> np.ndarray:
    """People served per chosen site, each demand counted once (at the first site covering it)."""
    taken = np.zeros(a.shape[0], dtype=bool)
    out = []
    for j in chosen:
        col = a[:, j].toarray().ravel() > 0
        out.append(float(w[col & ~taken].sum()))
        taken |= col
    return np.asarray(out)


def solve_lscp(a: sparse.csc_matrix, w: np.ndarray, *, time_limit: float = 60.0, gap: float = 1e-4,
               progress: Progress | None = None) -> tuple[Solution, int]:
    """Set cover: fewest candidates so that every demand with w > 0 that any candidate can
    cover is covered. Returns the solution and the number of demand points no candidate reaches."""
    m, n = a.shape
    w = np.asarray(w, float)
    _check(w, n, None)
    need = (w > 0) & (np.asarray(a.sum(axis=1)).ravel() > 0)
    unreachable = int(((w > 0) & ~need).sum())
    if not need.any():
        raise InvalidInput("no candidate site is within the radius of any uncovered demand: nothing to cover")
    sub = a[need]
    model = _Model()
    x0 = model.cols(np.ones(n), 0, 1, True)
    coo = sub.tocoo()
    model.rows([(coo.row, x0 + coo.col, np.ones(coo.nnz))], 1, np.inf, sub.shape[0])
    values, obj, bound, rel_gap, label, secs = model.solve(False, time_limit, progress, None, gap)
    chosen = _chosen(values, n)
    return Solution(chosen, obj, bound, rel_gap, label, secs, _first_claim(a, w, chosen)), unreachable
