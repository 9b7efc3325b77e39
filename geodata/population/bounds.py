"""What an attacker can deduce from published counts: interval (bound) propagation.

The published figures are sums of *atoms* — the people of one tag living in one (H3 res-10
cell ∩ grid) piece. Every H3 cell (res 7..10) and every grid is an *aggregate*: the sum of
its atoms. A published aggregate is known exactly; a suppressed one only to be ≥ 1; an
absent one is 0 (its atoms are then left out). A tag's atom is at most the all-residents atom
of the same piece, and a tag's aggregate at most the all-residents aggregate.

:func:`propagate` tightens integer bounds on atoms and aggregates until nothing changes:
for an aggregate ``A = Σ x_i``, ``x_i ≥ L_A − Σ_{j≠i} hi_j`` and ``x_i ≤ U_A − Σ_{j≠i} lo_j``,
and ``L_A ≥ Σ lo_i``, ``U_A ≤ Σ hi_i``. A suppressed aggregate whose bounds meet
(``lo == hi``) is *determined*: the publisher suppresses more until none is. All arithmetic
is int64 (exact); "unbounded" is :data:`BIG`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BIG = 10**12
MAX_ROUNDS = 2_000


@dataclass
class System:
    """The linear structure of everything published (fixed while suppression changes).

    ``pair_agg``/``pair_atom``: membership (aggregate ``pair_agg[k]`` contains atom ``pair_atom[k]``).
    ``atom_all``: for a tag atom, the index of the all-residents atom of the same piece (-1 for
    all-residents atoms). ``agg_all``: the same for aggregates.
    """

    n_atoms: int
    n_aggs: int
    pair_agg: np.ndarray
    pair_atom: np.ndarray
    atom_all: np.ndarray
    agg_all: np.ndarray

    def __post_init__(self) -> None:
        self._by_agg = np.argsort(self.pair_agg, kind="stable")
        self._by_atom = np.argsort(self.pair_atom, kind="stable")
        self._agg_starts = _starts(self.pair_agg[self._by_agg], self.n_aggs)
        self._atom_starts = _starts(self.pair_atom[self._by_atom], self.n_atoms)
        self._tag_atoms = np.flatnonzero(self.atom_all >= 0)
        self._tag_aggs = np.flatnonzero(self.agg_all >= 0)
        self.atom_up = _Upward(self.atom_all, self._tag_atoms, self.n_atoms)
        self.agg_up = _Upward(self.agg_all, self._tag_aggs, self.n_aggs)


class _Upward:
    """``target[all[i]] = max(target[all[i]], source[i])`` for tag rows i, as one sorted reduceat
    (``np.maximum.at`` is unbuffered and ~10x slower)."""

    def __init__(self, to_all: np.ndarray, rows: np.ndarray, n: int):
        order = rows[np.argsort(to_all[rows], kind="stable")]
        self.order = order
        keys = to_all[order]
        first = np.r_[True, keys[1:] != keys[:-1]] if len(keys) else np.zeros(0, bool)
        self.starts = np.flatnonzero(first)
        self.targets = keys[self.starts]

    def raise_to(self, target: np.ndarray, source: np.ndarray) -> None:
        if len(self.order):
            best = np.maximum.reduceat(source[self.order], self.starts)
            target[self.targets] = np.maximum(target[self.targets], best)


def _starts(sorted_keys: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(sorted_keys, np.arange(n))


def _group(values_sorted: np.ndarray, starts: np.ndarray, n: int, ufunc, empty: int) -> np.ndarray:
    """``ufunc``-reduce consecutive runs (one per key 0..n-1); keys without members get ``empty``."""
    out = np.full(n, empty, dtype=np.int64)
    if len(values_sorted) == 0:
        return out
    has = np.diff(np.r_[starts, len(values_sorted)]) > 0
    reduced = ufunc.reduceat(values_sorted, np.minimum(starts, len(values_sorted) - 1))
    out[has] = reduced[has]
    return out


def propagate(system: System, lower: np.ndarray, upper: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tighten aggregate bounds ``[lower, upper]`` (int64) to a fixed point.

    Returns ``(lo, hi, unsettled)`` for the aggregates; ``unsettled`` marks aggregates whose
    bounds still moved when :data:`MAX_ROUNDS` ran out (all False at a fixed point) — the
    caller treats those as not safe.
    """
    s = system
    agg_lo, agg_hi = lower.astype(np.int64).copy(), upper.astype(np.int64).copy()
    lo = np.zeros(s.n_atoms, dtype=np.int64)
    hi = np.full(s.n_atoms, BIG, dtype=np.int64)
    pa, pt = s.pair_agg[s._by_agg], s.pair_atom[s._by_agg]  # pairs sorted by aggregate
    inv = np.empty_like(s._by_agg)
    inv[s._by_agg] = np.arange(len(s._by_agg))
    to_atom_order = inv[s._by_atom]  # position in aggregate order of each pair in atom order
    for _ in range(MAX_ROUNDS):
        before = (agg_lo.copy(), agg_hi.copy(), lo.copy(), hi.copy())
        sum_lo = _group(lo[pt], s._agg_starts, s.n_aggs, np.add, 0)
        sum_hi = _group(hi[pt], s._agg_starts, s.n_aggs, np.add, 0)  # unclipped: exact "all but one" sums
        agg_lo = np.maximum(agg_lo, sum_lo)
        agg_hi = np.minimum(agg_hi, sum_hi)
        t = s._tag_aggs
        agg_hi[t] = np.minimum(agg_hi[t], agg_hi[s.agg_all[t]])
        s.agg_up.raise_to(agg_lo, agg_lo)
        cand_lo = agg_lo[pa] - (sum_hi[pa] - hi[pt])
        cand_hi = agg_hi[pa] - (sum_lo[pa] - lo[pt])
        lo = np.maximum(lo, _group(cand_lo[to_atom_order], s._atom_starts, s.n_atoms, np.maximum, 0))
        hi = np.minimum(hi, _group(cand_hi[to_atom_order], s._atom_starts, s.n_atoms, np.minimum, BIG))
        a = s._tag_atoms
        hi[a] = np.minimum(hi[a], hi[s.atom_all[a]])
        s.atom_up.raise_to(lo, lo)
        if all(np.array_equal(x, y) for x, y in zip(before, (agg_lo, agg_hi, lo, hi), strict=True)):
            return agg_lo, agg_hi, np.zeros(s.n_aggs, dtype=bool)
    return agg_lo, agg_hi, (agg_lo != before[0]) | (agg_hi != before[1])
