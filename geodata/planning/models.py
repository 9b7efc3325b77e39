"""Location-allocation models solved exactly with HiGHS (MIP) under a time limit.

- :func:`solve_mclp` — maximal covering: add ``k`` sites to cover the most demand within the
  radius (optionally with site capacities);
- :func:`solve_pmedian` — add ``p`` sites to minimise demand-weighted walking distance, each
  demand going to its nearest open site (existing facilities stay open; optional capacities);
- :func:`solve_lscp` — set cover: the fewest sites so that every coverable demand is within
  the radius of a site.

Inputs are plain arrays: demand weights ``w`` (people per demand point), and candidate ×
demand relations as sparse pairs. Existing facilities are fixed: the caller removes demand they
already cover (MCLP, LSCP) or passes each demand's distance to its nearest one (p-median).
A greedy solution is computed first and handed to HiGHS as its starting point, so the MIP is
never worse than greedy. Results carry the optimality gap HiGHS proves.
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
    status: str  # optimal | time_limit | interrupted | greedy
    seconds: float
    served: np.ndarray = field(default_factory=lambda: np.zeros(0))  # people per chosen site


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


def greedy_mclp(a: sparse.csc_matrix, w: np.ndarray, k: int) -> list[int]:
    """Pick ``k`` candidates one at a time, each covering the most still-uncovered demand."""
    covered = np.zeros(a.shape[0], dtype=bool)
    at = a.T.tocsr()
    chosen: list[int] = []
    for _ in range(k):
        gain = at @ (w * ~covered)
        if chosen:
            gain[chosen] = -1
        j = int(np.argmax(gain))
        chosen.append(j)
        covered |= a[:, j].toarray().ravel() > 0
    return chosen


def improve_by_swaps(a: sparse.csc_matrix, w: np.ndarray, chosen: list[int], max_passes: int = 10) -> list[int]:
    """Swap local search on an MCLP solution: drop a site and add the best other one while
    that covers more demand (a starting point for the MIP, never worse than its input)."""
    at = a.T.tocsr()
    chosen = list(chosen)
    count = np.asarray(a[:, chosen].sum(axis=1)).ravel()
    for _ in range(max_passes):
        improved = False
        for pos in range(len(chosen)):
            j = chosen[pos]
            col = a[:, j].toarray().ravel() > 0
            without = count - col
            loss = float(w[col & (without == 0)].sum())
            gain = at @ (w * (without == 0))
            gain[chosen] = -1
            best = int(np.argmax(gain))
            if gain[best] > loss + 1e-9:
                chosen[pos] = best
                count = without + (a[:, best].toarray().ravel() > 0)
                improved = True
        if not improved:
            break
    return chosen


def greedy_pmedian(cand: np.ndarray, dem: np.ndarray, d: np.ndarray, w: np.ndarray, fallback: np.ndarray,
                   n_cand: int, p: int) -> list[int]:
    """Open ``p`` candidates one at a time, each saving the most people × metres."""
    current = np.asarray(fallback, float).copy()
    chosen: list[int] = []
    for _ in range(p):
        saving = np.bincount(cand, weights=w[dem] * np.maximum(0.0, current[dem] - d), minlength=n_cand)
        saving[chosen] = -1
        j = int(np.argmax(saving))
        chosen.append(j)
        mine = cand == j
        np.minimum.at(current, dem[mine], d[mine])
    return chosen


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
              gap: float) -> tuple[np.ndarray, float, float | None, float | None, str, float]:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
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


def merge_rows(a: sparse.csc_matrix, w: np.ndarray) -> tuple[sparse.csc_matrix, np.ndarray]:
    """Demand points reached by exactly the same candidates become one (weights summed);
    points no candidate reaches are dropped. Same optimum, far fewer rows."""
    csr = a.tocsr()
    csr.sort_indices()
    groups: dict[bytes, int] = {}
    row_of = np.empty(csr.shape[0], dtype=np.int64)
    for i in range(csr.shape[0]):
        key = csr.indices[csr.indptr[i]:csr.indptr[i + 1]].tobytes()
        row_of[i] = groups.setdefault(key, len(groups))
    merged_w = np.bincount(row_of, weights=w, minlength=len(groups))
    first = np.unique(row_of, return_index=True)[1]
    merged = csr[first]
    keep = np.diff(merged.indptr) > 0
    return merged[keep].tocsc(), merged_w[keep]


def solve_mclp(a: sparse.csc_matrix, w: np.ndarray, k: int, *, capacity: np.ndarray | None = None,
               time_limit: float = 60.0, gap: float = 1e-4, progress: Progress | None = None) -> Solution:
    """Maximal covering location: choose exactly ``k`` candidates maximising covered demand.

    Parameters
    ----------
    a : (demand × candidate) sparse 0/1 matrix: candidate j covers demand i (within the radius)
    w : demand weights (people), demand not already covered by existing facilities
    capacity : people each candidate can serve (``inf`` = unlimited); None = uncapacitated
    """
    w = np.asarray(w, float)
    _check(w, a.shape[1], k)
    began = time.monotonic()
    original = a, w
    if capacity is None:
        a, w = merge_rows(a, w)
    m, n = a.shape
    greedy = improve_by_swaps(a, w, greedy_mclp(a, w, k))
    model = _Model()
    x0 = model.cols(np.zeros(n), 0, 1, True)
    coo = a.tocoo()
    if capacity is None:
        y0 = model.cols(w, 0, 1, False)
        # y_i − Σ_j a_ij x_j ≤ 0
        model.rows([(np.arange(m), y0 + np.arange(m), np.ones(m)),
                    (coo.row, x0 + coo.col, -np.ones(coo.nnz))], -np.inf, 0, m)
        start = np.zeros(n + m)
        start[greedy] = 1
        start[n:] = np.minimum(1, a[:, greedy].sum(axis=1).A1)
    else:
        cap = np.asarray(capacity, float)
        z0 = model.cols(w[coo.row], 0, 1, False)  # z_p: share of demand row[p] served by col[p]
        p = np.arange(coo.nnz)
        model.rows([(coo.row, z0 + p, np.ones(coo.nnz))], -np.inf, 1, m)  # Σ_j z_ij ≤ 1
        model.rows([(p, z0 + p, np.ones(coo.nnz)), (p, x0 + coo.col, -np.ones(coo.nnz))], -np.inf, 0, coo.nnz)
        finite = np.isfinite(cap)
        model.rows([(coo.col, z0 + p, w[coo.row]), (np.arange(n)[finite], x0 + np.arange(n)[finite], -cap[finite])],
                   -np.inf, np.where(finite, 0, np.inf), n)
        start = None
    model.rows([(np.zeros(n, int), x0 + np.arange(n), np.ones(n))], k, k, 1)
    # The time limit covers the whole solve, the starting heuristics included.
    remaining = max(1.0, time_limit - (time.monotonic() - began))
    values, obj, bound, rel_gap, label, _ = model.solve(True, remaining, progress, start, gap)
    secs = time.monotonic() - began
    chosen = _chosen(values, n)
    if capacity is None:
        served = _first_claim(*original, chosen)
    else:
        served = np.bincount(coo.col, weights=w[coo.row] * values[n:n + coo.nnz], minlength=n)[chosen]
    return Solution(chosen, obj, bound, rel_gap, label, secs, served)


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


def solve_pmedian(cand: np.ndarray, dem: np.ndarray, d: np.ndarray, w: np.ndarray, fallback: np.ndarray,
                  n_cand: int, p: int, *, capacity: np.ndarray | None = None, time_limit: float = 60.0,
                  gap: float = 1e-4, progress: Progress | None = None) -> Solution:
    """p-median: open ``p`` candidates minimising Σ people × distance to their site.

    Parameters
    ----------
    cand, dem, d : pairs (candidate, demand, metres) worth considering (closer than ``fallback``)
    w : people per demand point
    fallback : metres from each demand point to its nearest existing facility (or the
        distance cap when there is none within it): the cost when no new site is closer
    """
    w = np.asarray(w, float)
    _check(w, n_cand, p)
    m = len(w)
    keep = d < fallback[dem]
    cand, dem, d = cand[keep], dem[keep], d[keep]
    model = _Model()
    x0 = model.cols(np.zeros(n_cand), 0, 1, True)
    z0 = model.cols(w[dem] * d, 0, 1, False)
    f0 = model.cols(w * fallback, 0, 1, False)
    q = np.arange(len(cand))
    model.rows([(dem, z0 + q, np.ones(len(q))), (np.arange(m), f0 + np.arange(m), np.ones(m))], 1, 1, m)
    model.rows([(q, z0 + q, np.ones(len(q))), (q, x0 + cand, -np.ones(len(q)))], -np.inf, 0, len(q))
    if capacity is not None:
        cap = np.asarray(capacity, float)
        finite = np.isfinite(cap)
        model.rows([(cand, z0 + q, w[dem]), (np.arange(n_cand)[finite], x0 + np.arange(n_cand)[finite],
                                              -cap[finite])], -np.inf, np.where(finite, 0, np.inf), n_cand)
    model.rows([(np.zeros(n_cand, int), x0 + np.arange(n_cand), np.ones(n_cand))], p, p, 1)
    start = None
    if capacity is None:  # greedy start: each demand to its nearest open site or its fallback
        greedy = greedy_pmedian(cand, dem, d, w, fallback, n_cand, p)
        start = np.zeros(n_cand + len(q) + m)
        start[greedy] = 1
        best = fallback.astype(float).copy()
        pick = np.full(m, -1)
        for idx in np.nonzero(np.isin(cand, greedy))[0]:
            if d[idx] < best[dem[idx]]:
                best[dem[idx]], pick[dem[idx]] = d[idx], idx
        start[z0 + pick[pick >= 0]] = 1
        start[f0 + np.nonzero(pick < 0)[0]] = 1
    values, obj, bound, rel_gap, label, secs = model.solve(False, time_limit, progress, start, gap)
    chosen = _chosen(values, n_cand)
    served = np.bincount(cand, weights=w[dem] * values[z0:z0 + len(q)], minlength=n_cand)[chosen]
    return Solution(chosen, obj, bound, rel_gap, label, secs, served)
