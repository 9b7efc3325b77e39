"""p-median: open ``p`` new sites minimising people × walking metres to the nearest open site.

Data are sparse pairs (candidate ``cand``, demand ``dem``, metres ``d``) closer than each demand
point's ``fallback`` (metres to its nearest existing facility, capped): existing facilities stay
open, so a demand point only moves to a new site nearer than that.

At district scale (4,000 candidates × 20,000 demand cells, 10⁵–10⁶ pairs) the plain MIP does
not even finish its root LP in a minute. So, inside one time limit:

1. greedy, then Teitz–Bart vertex substitution (best swap of an open site for a closed one,
   with the fast interchange bookkeeping of Whitaker) — a good answer within seconds;
2. a Lagrangian lower bound (assignment rows relaxed, subgradient steps): its best value
   is the LP bound, computed in O(pairs) per step. At each step, a site whose forced opening
   lifts the bound above the best answer cannot be in a better one and is dropped; a site whose
   forced closing does so must stay open;
3. the MIP on the sites left, started from the heuristic's answer, for the time that is left.

The gap reported is (answer − best lower bound) ÷ answer, the lower bound being the Lagrangian
(= LP) bound or the restricted MIP's, whichever is higher. With capacities the plain MIP is
solved (assignment may be split); see :func:`solve_pmedian`.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from geodata.errors import InvalidInput
from geodata.planning.heuristics import capacity_fill, greedy_pmedian
from geodata.planning.mclp import _Clock
from geodata.planning.models import Progress, Solution, _check, _chosen, _Model

#: Share of the time limit the interchange may use, and interchange plus Lagrangian together
#: (all of it but a margin when no MIP follows).
HEURISTIC_SHARE, LAGRANGE_SHARE, SOLE_SHARE = 0.3, 0.6, 0.92
#: Subgradient steps at most.
LAGRANGE_STEPS = 2000
#: The MIP runs only when the sites left after fixing have at most this many pairs: above it,
#: HiGHS does not finish the root LP in a minute and the time is better spent on the bound.
MIP_MAX_PAIRS = 120_000


class Pairs:
    """The sparse instance: candidate, demand, metres, people ``w``, ``fallback`` metres."""

    def __init__(self, cand, dem, d, w, fallback, n_cand: int):
        self.w, self.fallback, self.n_cand = np.asarray(w, float), np.asarray(fallback, float), int(n_cand)
        keep = np.asarray(d) < self.fallback[np.asarray(dem)]
        self.cand, self.dem, self.d = np.asarray(cand)[keep], np.asarray(dem)[keep], np.asarray(d, float)[keep]
        self.cost = self.w[self.dem] * self.d  # people × metres per pair
        self.base = self.w * self.fallback  # cost of each demand point with no new site

    def nearest_two(self, open_sites) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per demand point: nearest metres ``d1``, its site ``s1`` (-1 = existing) and the
        next option's metres ``d2`` (fallback included) among ``open_sites``."""
        m = len(self.w)
        d1, d2, s1 = self.fallback.copy(), self.fallback.copy(), np.full(m, -1)
        on = np.isin(self.cand, open_sites)
        dem, d, cand = self.dem[on], self.d[on], self.cand[on]
        order = np.lexsort((d, dem))
        dem, d, cand = dem[order], d[order], cand[order]
        first = np.r_[True, dem[1:] != dem[:-1]]
        d1[dem[first]], s1[dem[first]] = d[first], cand[first]
        second = np.nonzero(~first)[0]
        second = second[first[second - 1]]  # the entry right after each demand point's first
        d2[dem[second]] = d[second]
        return d1, s1, d2

    def total(self, open_sites) -> float:
        d1, _, _ = self.nearest_two(open_sites)
        return float(self.w @ d1)


def interchange(pr: Pairs, sites: list[int], clock: _Clock, max_swaps: int = 10_000) -> list[int]:
    """Teitz–Bart vertex substitution: apply the best (add j, drop r) swap while it saves."""
    sites = list(sites)
    for _ in range(max_swaps):
        if clock.elapsed() > HEURISTIC_SHARE * clock.limit or clock.tick():
            break
        d1, s1, d2 = pr.nearest_two(sites)
        gain = np.bincount(pr.cand, weights=pr.w[pr.dem] * np.maximum(0.0, d1[pr.dem] - pr.d), minlength=pr.n_cand)
        pos = {s: n for n, s in enumerate(sites)}
        mine = s1 >= 0
        owner = np.full(len(pr.w), -1)
        owner[mine] = [pos[s] for s in s1[mine]]
        loss = np.bincount(owner[mine], weights=(pr.w * (d2 - d1))[mine], minlength=len(sites))
        # Demand of site r that j would take when r closes (Whitaker's "extra").
        sel = (owner[pr.dem] >= 0) & (pr.d < d2[pr.dem])
        dm = pr.dem[sel]
        extra = sparse.coo_matrix((pr.w[dm] * (d2[dm] - np.maximum(pr.d[sel], d1[dm])), (pr.cand[sel], owner[dm])),
                                  shape=(pr.n_cand, len(sites))).toarray()
        profit = gain[:, None] - loss[None, :] + extra
        profit[sites, :] = -np.inf
        j, r = np.unravel_index(int(np.argmax(profit)), profit.shape)
        if profit[j, r] <= 1e-9 * max(1.0, float(pr.w @ d1)):
            break
        sites[r] = int(j)
    return sites


def lagrangian(pr: Pairs, p: int, upper: float, clock: _Clock, until: float, state: dict | None = None) -> dict:
    """Best Lagrangian lower bound, and the sites that cannot be in a better answer than
    ``upper`` (``out``) or must be in it (``in_``), found along the subgradient steps; stops at
    ``until`` seconds into the solve. Returns a state dict (``lower``, ``out``, ``in_``) that a
    further call continues from."""
    st = state or {"lam": pr.base.copy(), "lower": -np.inf, "mu": 2.0, "steps": 0,
                   "out": np.zeros(pr.n_cand, bool), "in_": np.zeros(pr.n_cand, bool)}
    lam, best, mu, out, in_ = st["lam"], st["lower"], st["mu"], st["out"], st["in_"]
    stall = 0
    while st["steps"] < LAGRANGE_STEPS:
        st["steps"] += 1
        reduced = np.minimum(0.0, pr.cost - lam[pr.dem])
        rho = np.bincount(pr.cand, weights=reduced, minlength=pr.n_cand)
        order = np.argsort(rho, kind="stable")
        chosen = order[:p]
        fall = pr.base < lam
        value = float(lam.sum() + np.minimum(0.0, pr.base - lam).sum() + rho[chosen].sum())
        last_in, first_out = rho[order[p - 1]], rho[order[p]] if p < pr.n_cand else np.inf
        slack = upper * (1 + 1e-9)
        out |= value + rho - last_in > slack
        in_[chosen] |= value + first_out - rho[chosen] > slack
        if value > best + 1e-9 * abs(best if np.isfinite(best) else 1):
            best, stall = value, 0
        else:
            stall += 1
            if stall >= 15:
                mu, stall = mu / 2, 0
        if mu < 1e-4 or upper - best <= 1e-6 * upper or clock.elapsed() > until or clock.tick((upper - best) / upper):
            break
        took = np.isin(pr.cand, chosen) & (pr.cost < lam[pr.dem])
        g = 1.0 - np.bincount(pr.dem[took], minlength=len(lam)) - fall
        norm = float(g @ g)
        if norm == 0:
            break
        lam = lam + mu * (upper - value) / norm * g
    st.update(lam=lam, lower=best, mu=mu, out=out, in_=in_)
    return st


def assignment_model(pr: Pairs, p: int, sites: np.ndarray, forced: np.ndarray,
                      capacity: np.ndarray | None) -> tuple[_Model, np.ndarray]:
    """min Σ cost z + Σ base f  s.t.  Σ_j z_ij + f_i = 1,  z_ij ≤ x_j,  Σ x = p (+ capacity rows)
    over candidate ``sites`` only (``forced`` of them open); returns the model and pair mask."""
    n, m = len(sites), len(pr.w)
    col = np.full(pr.n_cand, -1)
    col[sites] = np.arange(n)
    keep = col[pr.cand] >= 0
    c, dem, q = col[pr.cand[keep]], pr.dem[keep], np.arange(int(keep.sum()))
    model = _Model()
    x0 = model.cols(np.zeros(n), forced.astype(float), 1, True)
    z0 = model.cols(pr.cost[keep], 0, 1, False)
    f0 = model.cols(pr.base, 0, 1, False)
    model.rows([(dem, z0 + q, np.ones(len(q))), (np.arange(m), f0 + np.arange(m), np.ones(m))], 1, 1, m)
    model.rows([(q, z0 + q, np.ones(len(q))), (q, x0 + c, -np.ones(len(q)))], -np.inf, 0, len(q))
    if capacity is not None:
        cap = np.asarray(capacity, float)[sites]
        fin = np.isfinite(cap)
        model.rows([(c, z0 + q, pr.w[dem]), (np.arange(n)[fin], x0 + np.arange(n)[fin], -cap[fin])],
                   -np.inf, np.where(fin, 0, np.inf), n)
    model.rows([(np.zeros(n, int), x0 + np.arange(n), np.ones(n))], p, p, 1)
    return model, keep


def assignment_start(pr: Pairs, sites: np.ndarray, keep: np.ndarray, chosen: list[int]) -> np.ndarray:
    """MIP start vector of the answer ``chosen``: each demand at its nearest open site or fallback."""
    d1, s1, _ = pr.nearest_two(chosen)
    n, q = len(sites), int(keep.sum())
    start = np.zeros(n + q + len(pr.w))
    start[np.searchsorted(sites, chosen)] = 1
    kc, kd, kdist = pr.cand[keep], pr.dem[keep], pr.d[keep]
    hit = (kc == s1[kd]) & (kdist == d1[kd])
    first = np.unique(kd[hit], return_index=True)[1]
    start[n + np.nonzero(hit)[0][first]] = 1
    start[n + q + np.nonzero(s1 < 0)[0]] = 1
    return start


def solve_pmedian(cand: np.ndarray, dem: np.ndarray, d: np.ndarray, w: np.ndarray, fallback: np.ndarray,
                  n_cand: int, p: int, *, capacity: np.ndarray | None = None, time_limit: float = 60.0,
                  gap: float = 1e-4, progress: Progress | None = None) -> Solution:
    """p-median: open ``p`` candidates minimising Σ people × metres to their site.

    Parameters
    ----------
    cand, dem, d : pairs (candidate, demand, metres) worth considering (closer than ``fallback``)
    w : people per demand point
    fallback : metres from each demand point to its nearest existing facility (or the
        distance cap when there is none within it): the cost when no new site is closer
    capacity : people per candidate (``inf`` unlimited); with it the plain MIP is solved and
        a demand point may be split between sites
    """
    w = np.asarray(w, float)
    _check(w, n_cand, p)
    clock = _Clock(time_limit, progress)
    pr = Pairs(cand, dem, d, w, fallback, n_cand)
    if capacity is not None:
        model, keep = assignment_model(pr, p, np.arange(n_cand), np.zeros(n_cand, bool), capacity)
        # Start: greedy sites, each demand point filled nearest first up to capacity, the rest
        # at its existing facility (always feasible).
        is_open = np.zeros(n_cand, bool)
        is_open[greedy_pmedian(pr.cand, pr.dem, pr.d, w, pr.fallback, n_cand, p)] = True
        order = np.lexsort((pr.d, pr.dem))
        share = np.zeros(len(pr.cand))
        share[order] = capacity_fill(pr.dem[order], pr.cand[order], w, np.asarray(capacity, float), is_open)
        fall = 1.0 - np.bincount(pr.dem, weights=share, minlength=len(w))
        values, obj, bound, _, label, _ = model.solve(False, time_limit, clock.progress(),
                                                      np.r_[is_open.astype(float), share, fall], gap)
        served = np.bincount(pr.cand[keep], weights=pr.w[pr.dem[keep]] * values[n_cand:n_cand + keep.sum()],
                             minlength=n_cand)
        chosen = _chosen(values, n_cand)
        return Solution(chosen, obj, bound, _gap_min(obj, bound, label), label, clock.elapsed(), served[chosen])
    sites = interchange(pr, greedy_pmedian(pr.cand, pr.dem, pr.d, w, pr.fallback, n_cand, p), clock)
    upper = heuristic = pr.total(sites)
    # Fixing needs the bound first; a small enough instance left then goes to the MIP.
    st = lagrangian(pr, p, upper, clock, LAGRANGE_SHARE * clock.limit)
    left = np.nonzero(~st["out"] | np.isin(np.arange(n_cand), sites))[0]
    mip = np.isin(pr.cand, left).sum() <= MIP_MAX_PAIRS
    if not mip and upper - st["lower"] > gap * upper and not clock.stopped:
        st = lagrangian(pr, p, upper, clock, SOLE_SHARE * clock.limit, st)
        left = np.nonzero(~st["out"] | np.isin(np.arange(n_cand), sites))[0]
    lower, in_ = st["lower"], st["in_"]
    # Without a MIP the search ends when the bound stops rising ("bounded": the answer has a
    # proven gap, more time would not help) or when time is up.
    label = "optimal" if upper - lower <= gap * upper else (
        "time_limit" if clock.elapsed() > SOLE_SHARE * clock.limit else "bounded")
    if clock.stopped:
        label = "interrupted"
    if label not in ("optimal", "interrupted") and mip and clock.limit - clock.elapsed() > 1.0:
        # Forced sites are kept only when the answer has them, so that it stays a valid MIP start.
        model, keep = assignment_model(pr, p, left, in_[left] & np.isin(left, sites), None)
        try:
            values, _, mip_bound, _, label, _ = model.solve(False, SOLE_SHARE * (clock.limit - clock.elapsed()), clock.progress(),
                                                            assignment_start(pr, left, keep, sites), gap)
        except InvalidInput:  # stopped before HiGHS held any answer: keep the heuristic's
            values, mip_bound = np.zeros(len(left)), None
        found = [int(left[j]) for j in _chosen(values, len(left))]
        if len(found) == p and pr.total(found) < upper:
            sites, upper = found, pr.total(found)
        if mip_bound is not None:  # a better answer uses only the sites left: min(upper, its bound) is a bound
            lower = max(lower, min(upper, mip_bound))
        if upper - lower <= gap * upper:
            label = "optimal"
    d1, s1, _ = pr.nearest_two(sites)
    served = np.asarray([float(w[s1 == s].sum()) for s in sites])
    return Solution(sites, upper, lower, _gap_min(upper, lower, label), label, clock.elapsed(), served,
                    details={"heuristic": heuristic, "candidates_left": int(len(left)), "mip": bool(mip),
                             "lagrange_steps": st["steps"]})


def _gap_min(obj: float, bound: float | None, label: str) -> float | None:
    """Relative gap (objective − bound) ÷ objective of a minimisation; 0 when proven optimal."""
    if bound is None:
        return 0.0 if label == "optimal" else None
    return max(0.0, (obj - bound) / max(abs(obj), 1e-9))
