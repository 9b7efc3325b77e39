"""The exact privacy check (geodata.population.flows) against an LP attacker (geodata.population.audit).

The flow-network check decides in one graph pass what the LP attacker decides figure by
figure; these tests hold the two together on random tables with several grids per res-10
cell, people outside every grid and a rare tag, and check that a publication leaves nothing
an LP can pin — the case interval propagation missed (a hidden grid total recovered from the
other figures, minus its published cells, gives its one hidden cell).
"""

from __future__ import annotations

import h3
import numpy as np
import pandas as pd
import pytest

from geodata.population import audit
from geodata.population.flows import _bridges
from geodata.population.publish import _aggregates, _network, expand_atoms, publish_atoms

K = 10


def _table(rng, grids_per_cell=(1, 3), people=(1, 6), star=False):
    """Atoms of a random family: one res-8 cell, 2..4 res-9 children, 1..3 res-10 each."""
    c8 = h3.api.basic_int.latlng_to_cell(31.40, 121.48, 8)
    c7 = h3.api.basic_int.cell_to_parent(c8, 7)
    grids = [f"G{i}" for i in range(rng.integers(1, 4))] + [""]
    rows = []
    for i, c9 in enumerate(sorted(h3.api.basic_int.cell_to_children(c8, 9))[: rng.integers(2, 5)]):
        for c10 in sorted(h3.api.basic_int.cell_to_children(c9, 10))[: rng.integers(1, 4)]:
            if star:  # grids made of whole res-9 cells (as a demo district's may be)
                chosen = [grids[i % (len(grids) - 1)]]
            else:
                chosen = rng.choice(grids, size=rng.integers(*grids_per_cell), replace=False)
            rows += [(c10, c9, c8, c7, g, int(rng.integers(*people))) for g in chosen]
    base = pd.DataFrame(rows, columns=["c10", "c9", "c8", "c7", "grid", "n"])
    tagged = pd.DataFrame([("rare", r[0], r[4], int(rng.integers(0, r[5] + 1))) for r in rows],
                          columns=["tag", "c10", "grid", "n"])
    return expand_atoms(base, tagged)


def _lp_pinned(atoms, aggs, pair_agg, pair_atom, hidden) -> np.ndarray:
    """The LP attacker's verdict per figure (pieces = the atoms, per tag)."""
    out = np.zeros(len(aggs), bool)
    names = list(zip(aggs["tag"], aggs["level"], aggs["key"], strict=True))
    for tag in aggs["tag"].unique():
        mine = np.flatnonzero(atoms["tag"].to_numpy() == tag)
        local = {a: i for i, a in enumerate(mine.tolist())}
        members: dict[tuple, list[int]] = {}
        for f, a in zip(pair_agg.tolist(), pair_atom.tolist(), strict=True):
            if a in local:
                members.setdefault(names[f], []).append(local[a])
        rows = np.flatnonzero(aggs["tag"].to_numpy() == tag)
        figures = {names[f]: (None if hidden[f] else int(aggs["n"].iat[f])) for f in rows}
        pinned = set(audit.determined(members, len(mine), figures, [names[f] for f in rows if hidden[f]]))
        out[rows] = [names[f] in pinned for f in rows]
    return out


@pytest.mark.parametrize("seed", range(6))
def test_the_network_check_is_the_lp_attacker(seed):
    rng = np.random.default_rng(seed)
    pinned_any = 0
    for _ in range(15):
        atoms = _table(rng)
        aggs, pair_agg, pair_atom = _aggregates(atoms, {"G0": "C", "G1": "C", "G2": "C"})
        hidden = rng.random(len(aggs)) < rng.uniform(0.1, 0.7)
        got = _network(atoms, aggs, pair_agg, pair_atom).determined(hidden)
        want = _lp_pinned(atoms, aggs, pair_agg, pair_atom, hidden)
        assert np.array_equal(got, want), aggs.assign(got=got, want=want, hidden=hidden)[got != want]
        pinned_any += int(want.sum())
    assert pinned_any > 10  # the random tables do pin figures: the comparison means something


@pytest.mark.parametrize("star", [False, True])
def test_a_publication_leaves_nothing_an_lp_can_pin(star):
    rng = np.random.default_rng(11 if star else 12)
    hidden_total = 0
    for _ in range(12):
        atoms = _table(rng, people=(1, 40), star=star)
        aggs, hidden, _ = publish_atoms(atoms, {"G0": "C", "G1": "C", "G2": "C"}, K)
        _, pair_agg, pair_atom = _aggregates(atoms, {"G0": "C", "G1": "C", "G2": "C"})
        assert not (~hidden & (aggs["n"].to_numpy() < K)).any()
        pinned = _lp_pinned(atoms, aggs, pair_agg, pair_atom, hidden)
        assert not pinned.any(), aggs[pinned]
        hidden_total += int(hidden.sum())
    assert hidden_total > 20


def test_bridges_match_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(60):
        n = int(rng.integers(2, 12))
        m = int(rng.integers(1, 2 * n))
        tail, head = rng.integers(0, n, m), rng.integers(0, n, m)
        keep = tail != head
        tail, head = tail[keep], head[keep]  # parallel edges stay: they make a cycle
        got = _bridges(tail, head, n)
        for i in range(len(tail)):
            rest = np.arange(len(tail)) != i
            assert got[i] == (not _connected(tail[rest], head[rest], n, tail[i], head[i]))


def _connected(tail, head, n, a, b) -> bool:
    seen, todo = {a}, [a]
    while todo:
        x = todo.pop()
        for y in np.r_[head[tail == x], tail[head == x]].tolist():
            if y not in seen:
                seen.add(y)
                todo.append(y)
    return b in seen
