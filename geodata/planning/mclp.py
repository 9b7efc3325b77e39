"""Maximal covering location (MCLP): add ``k`` sites covering the most people within the radius.

The uncapacitated model is first reduced exactly (:func:`heuristics.reduce_cover`), then
solved in three steps inside one time limit:

1. greedy + swap local search: a first answer;
2. the LP relaxation: an upper bound (often enough to prove the first answer within the gap)
   and the value it gives each site: greedy runs steered by those values (below a second),
   then a small MIP on the LP's support plus the best answer ("kernel search") find better ones;
3. the full MIP in HiGHS, started from the best answer so far, for the time that is left.

The answer is never worse than greedy on the unreduced data (checked at the end), and the gap
reported is against the best bound proven (LP or MIP): (bound − covered) ÷ covered.

With capacities the demand may be split between sites, so dominated candidates still add
capacity: only identical demand rows are merged. Existing facilities with a capacity enter as
``fixed`` columns (always open, not counted in ``k``).
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from geodata.planning.heuristics import (
    capacity_fill,
    covered_weight,
    greedy_mclp,
    improve_by_swaps,
    lp_guided,
    merge_rows,
    reduce_cover,
)
from geodata.planning.models import Progress, Solution, _check, _chosen, _first_claim, _Model

#: Share of the remaining time for the LP relaxation and for the kernel MIP.
LP_SHARE, KERNEL_SHARE = 0.25, 0.3
#: HiGHS spends a little more on primal heuristics than its default 0.05: MCLP bounds are
#: strong, the incumbent is what lags.
OPTIONS = {"mip_heuristic_effort": 0.2}


class _Clock:
    """The one time limit of a solve, and progress reported from its start."""

    def __init__(self, limit: float, progress: Progress | None):
        self.began, self.limit, self._progress = time.monotonic(), float(limit), progress
        self._last, self.stopped = -1.0, False

    def elapsed(self) -> float:
        return time.monotonic() - self.began

    def share(self, fraction: float) -> float:
        return max(1.0, fraction * (self.limit - self.elapsed()))

    def tick(self, gap: float | None = None) -> bool:
        """Report progress from a heuristic's loop (at most twice a second); True = stop asked."""
        now = self.elapsed()
        if self._progress is None or now - self._last < 0.5:
            return self.stopped
        self._last = now
        self.stopped = self.stopped or bool(self._progress(now, gap))
        return self.stopped

    def progress(self) -> Progress | None:
        if self._progress is None:
            return None
        return lambda _t, gap: self._progress(self.elapsed(), gap)


def _cover_model(a: sparse.csc_matrix, w: np.ndarray, k: int, integer: bool = True) -> _Model:
    """max Σ w_i y_i  s.t.  y_i ≤ Σ_j a_ij x_j,  Σ x_j = k,  x ∈ {0,1}, 0 ≤ y ≤ 1."""
    m, n = a.shape
    model = _Model()
    x0 = model.cols(np.zeros(n), 0, 1, integer)
    y0 = model.cols(w, 0, 1, False)
    coo = a.tocoo()
    model.rows([(np.arange(m), y0 + np.arange(m), np.ones(m)),
                (coo.row, x0 + coo.col, -np.ones(coo.nnz))], -np.inf, 0, m)
    model.rows([(np.zeros(n, int), x0 + np.arange(n), np.ones(n))], k, k, 1)
    return model


def _cover_start(a: sparse.csc_matrix, chosen) -> np.ndarray:
    m, n = a.shape
    start = np.zeros(n + m)
    start[list(chosen)] = 1
    start[n:] = np.minimum(1, np.asarray(a[:, list(chosen)].sum(axis=1)).ravel())
    return start


def _kernel(a: sparse.csc_matrix, w: np.ndarray, k: int, lp_x: np.ndarray, start: list[int], clock: _Clock,
            gap: float) -> tuple[list[int], str]:
    """Best answer of the MIP restricted to the LP's support plus ``start``, improved by swaps."""
    kernel = np.union1d(np.nonzero(lp_x > 1e-6)[0], start)
    sub, sub_w = merge_rows(a[:, kernel], w)
    if sub.shape[0] == 0 or len(kernel) <= k:
        return start, "optimal"
    values, *_, label, _ = _cover_model(sub, sub_w, k).solve(
        True, clock.share(KERNEL_SHARE), clock.progress(), _cover_start(sub, np.searchsorted(kernel, start)),
        gap, OPTIONS)
    return improve_by_swaps(a, w, [int(kernel[j]) for j in _chosen(values, len(kernel))]), label


def _solve_cover(a: sparse.csc_matrix, w: np.ndarray, k: int, clock: _Clock, gap: float
                 ) -> tuple[list[int], float | None, str]:
    """(chosen columns of ``a``, best upper bound, status) of the reduced uncapacitated model."""
    n = a.shape[1]
    best = improve_by_swaps(a, w, greedy_mclp(a, w, k))
    value = covered_weight(a, w, best)
    lp_x, lp_obj, *_, lp_label, _ = _cover_model(a, w, k, integer=False).solve(
        True, clock.share(LP_SHARE), None, None, gap)
    bound = lp_obj if lp_label == "optimal" else None
    if bound is not None and bound - value <= gap * max(value, 1.0):
        return best, bound, "optimal"
    if bound is not None:
        guided = lp_guided(a, w, k, lp_x[:n])
        if covered_weight(a, w, guided) > value:
            best, value = guided, covered_weight(a, w, guided)
        if bound - value <= gap * max(value, 1.0):
            return best, bound, "optimal"
        found, label = _kernel(a, w, k, lp_x[:n], best, clock, gap)
        if label == "interrupted":
            return best, bound, label
        if covered_weight(a, w, found) > value:
            best, value = found, covered_weight(a, w, found)
        if bound - value <= gap * max(value, 1.0):
            return best, bound, "optimal"
    values, obj, mip_bound, _, label, _ = _cover_model(a, w, k).solve(
        True, max(1.0, clock.limit - clock.elapsed()), clock.progress(), _cover_start(a, best), gap, OPTIONS)
    if obj >= value - 1e-9:
        best = _chosen(values, n)
    bounds = [b for b in (bound, mip_bound) if b is not None]
    return best, (min(bounds) if bounds else None), label


def _solve_capacitated(a: sparse.csc_matrix, w: np.ndarray, k: int, cap: np.ndarray, fixed: int, clock: _Clock,
                       gap: float) -> tuple[list[int], np.ndarray, float, float | None, str]:
    """Capacitated MCLP: demand may be split between the sites covering it, each site serving
    at most its capacity; the first ``fixed`` columns are open already (existing facilities)."""
    m, n = a.shape
    model = _Model()
    x0 = model.cols(np.zeros(n), np.r_[np.ones(fixed), np.zeros(n - fixed)], 1, True)
    coo = a.tocoo()
    z0 = model.cols(w[coo.row], 0, 1, False)  # z_p: share of demand row[p] served by col[p]
    p = np.arange(coo.nnz)
    model.rows([(coo.row, z0 + p, np.ones(coo.nnz))], -np.inf, 1, m)  # Σ_j z_ij ≤ 1
    model.rows([(p, z0 + p, np.ones(coo.nnz)), (p, x0 + coo.col, -np.ones(coo.nnz))], -np.inf, 0, coo.nnz)
    finite = np.isfinite(cap)
    model.rows([(coo.col, z0 + p, w[coo.row]), (np.arange(n)[finite], x0 + np.arange(n)[finite], -cap[finite])],
               -np.inf, np.where(finite, 0, np.inf), n)
    model.rows([(np.zeros(n - fixed, int), x0 + np.arange(fixed, n), np.ones(n - fixed))], k, k, 1)
    # Start: existing sites plus greedy new ones, demand filled up to capacity (always feasible).
    is_open = np.zeros(n, bool)
    is_open[:fixed] = True
    is_open[[fixed + j for j in greedy_mclp(a[:, fixed:], w, k)]] = True
    start = np.r_[is_open.astype(float), capacity_fill(coo.row, coo.col, w, cap, is_open)]
    values, obj, bound, _, label, _ = model.solve(True, max(1.0, clock.limit - clock.elapsed()), clock.progress(),
                                                  start, gap, OPTIONS)
    served = np.bincount(coo.col, weights=w[coo.row] * values[n:n + coo.nnz], minlength=n)
    return _chosen(values, n), served, obj, bound, label


def solve_mclp(a: sparse.csc_matrix, w: np.ndarray, k: int, *, capacity: np.ndarray | None = None, fixed: int = 0,
               time_limit: float = 60.0, gap: float = 1e-4, progress: Progress | None = None) -> Solution:
    """Maximal covering location: choose exactly ``k`` candidates maximising covered demand.

    Parameters
    ----------
    a : (demand × candidate) sparse 0/1 matrix: candidate j covers demand i (within the radius)
    w : demand weights (people); without capacities, demand not already covered by existing facilities
    capacity : people each column can serve (``inf`` = unlimited); None = uncapacitated
    fixed : with capacities, the first ``fixed`` columns are existing facilities, always open
        and not counted in ``k`` (their served people are not in :attr:`Solution.served`)
    time_limit : seconds for the whole solve, heuristics included
    """
    w = np.asarray(w, float)
    _check(w, a.shape[1] - fixed, k)
    clock = _Clock(time_limit, progress)
    if capacity is not None:
        r, rw = merge_rows(a, w)
        chosen, served, obj, bound, label = _solve_capacitated(r, rw, k, np.asarray(capacity, float), fixed, clock, gap)
        new = [j for j in chosen if j >= fixed]
        return Solution([j - fixed for j in new], obj, bound, _gap(obj, bound, label), label, clock.elapsed(),
                        served[new])
    plain = greedy_mclp(a, w, k)
    r, rw, cols = reduce_cover(a, w)
    if r.shape[0] == 0 or len(cols) <= k:  # every useful site fits: take them all
        picked, bound, label = list(range(len(cols))), None, "optimal"
    else:
        picked, bound, label = _solve_cover(r, rw, k, clock, gap)
    chosen = [int(cols[j]) for j in picked]
    chosen += [j for j in plain if j not in set(chosen)][:k - len(chosen)]  # pad with sites adding nothing
    obj = covered_weight(a, w, chosen)
    if covered_weight(a, w, plain) > obj:  # never worse than greedy (not expected: the MIP starts above it)
        chosen, obj = plain, covered_weight(a, w, plain)
    if bound is None and label == "optimal":
        bound = obj
    return Solution(chosen, obj, bound, _gap(obj, bound, label), label, clock.elapsed(), _first_claim(a, w, chosen))


def served_within_capacity(a: sparse.csc_matrix, w: np.ndarray, capacity: np.ndarray, time_limit: float = 60.0) -> float:
    """People the open sites (columns of ``a``) serve within the radius and their ``capacity``
    (a transport LP: demand may be split between sites)."""
    if a.shape[1] == 0:
        return 0.0
    r, rw = merge_rows(a, np.asarray(w, float))
    if r.shape[0] == 0:
        return 0.0
    _, _, obj, _, _ = _solve_capacitated(r, rw, 0, np.asarray(capacity, float), r.shape[1], _Clock(time_limit, None), 1e-6)
    return float(obj)


def _gap(obj: float, bound: float | None, label: str) -> float | None:
    """Relative gap (bound − objective) ÷ objective of a maximisation; 0 when proven optimal."""
    if bound is None:
        return 0.0 if label == "optimal" else None
    return max(0.0, (bound - obj) / max(abs(obj), 1e-9))
