"""Privacy-safe published counts: the only population figures a browser ever sees.

:func:`rebuild_published` recomputes, in the caller's transaction, every figure the density
layer and the grid drill-down show — people per H3 cell at resolutions 7..10 and per grid,
for all residents (``"*"``) and for each key-population tag — and decides which are
*suppressed* (stored as NULL, drawn without a number), with ``k = ONEGRID_MIN_CELL``:

1. **Primary**: a figure of 1..k-1 people.
2. **Complement**: a tag figure whose complement (all residents − tag) is 0..k-1 (else
   "all but 3 people here are in drug rehabilitation" leaks by differencing two filters).
3. **Secondary**, until no suppressed figure can be recovered: everything published is
   modelled as sums of atoms (people of one tag in one res-10 cell ∩ grid piece), so parents
   vs their visible children across resolutions, tag vs all residents, and grid table vs
   hexagons are all in one linear system. Per tag it is a flow network, and
   :mod:`geodata.population.flows` finds *exactly* which suppressed figures an LP attacker
   pins, and covers each with the cheapest published figures that put it on a cycle
   (:func:`settle_exact`); across tags (a tag's atom ≤ the all-residents atom)
   :mod:`geodata.population.bounds` propagates integer bounds, and every suppressed figure
   whose bounds meet (``lo == hi``) gets a partner suppressed — its smallest published
   sibling (same H3 parent; same community for grids), else its parent, else any published
   figure sharing a piece with it.

Only single-tag figures are published (no unions of tags). Zero figures are absent rows
(nobody of that tag there); a suppressed figure is known to the public only to be ≥ 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg

from geodata.population import sql as Q
from geodata.population.bounds import BIG, System, propagate
from geodata.population.flows import Network
from geodata.settings import get_settings

ALL = "*"
GRID = 0  #: level of grid aggregates (cells use their H3 resolution 7..10)


def _atoms(conn: psycopg.Connection) -> pd.DataFrame:
    base = pd.DataFrame(conn.execute(Q.ATOMS_ALL).fetchall(), columns=["c10", "c9", "c8", "c7", "grid", "n"])
    tagged = pd.DataFrame(conn.execute(Q.ATOMS_TAG).fetchall(), columns=["tag", "c10", "grid", "n"])
    return expand_atoms(base, tagged)


def expand_atoms(base: pd.DataFrame, tagged: pd.DataFrame) -> pd.DataFrame:
    """Atoms: one row per (tag, piece) with people.

    ``base``: people per piece (``c10, c9, c8, c7`` H3 cells, ``grid`` code or '', ``n``);
    ``tagged``: tagged people per piece (``tag, c10, grid, n``).
    """
    base = base.astype({"c10": "int64", "c9": "int64", "c8": "int64", "c7": "int64", "n": "int64"})
    tagged = tagged.astype({"c10": "int64", "n": "int64"})
    # A tag's atoms are only the pieces where someone has the tag: the model assumes the
    # attacker even knows which pieces hold nobody of the tag (stronger than any real one).
    pieces = tagged.merge(base.drop(columns="n"), on=["c10", "grid"], how="inner")
    frames = [base.assign(tag=ALL), pieces[pieces["n"] > 0][["c10", "c9", "c8", "c7", "grid", "n", "tag"]]]
    return pd.concat(frames, ignore_index=True)


def publish_atoms(atoms: pd.DataFrame, communities: dict[str, str], k: int) -> tuple[pd.DataFrame, np.ndarray, int]:
    """Every figure (``aggs``: tag, level — 7..10 or 0 for grids —, key, n) and its suppression."""
    aggs, pair_agg, pair_atom = _aggregates(atoms, communities)
    if not len(aggs):
        return aggs, np.zeros(0, bool), 0
    hidden, rounds = choose_suppression(atoms, aggs, pair_agg, pair_atom, k)
    return aggs, hidden, rounds


def _aggregates(atoms: pd.DataFrame, communities: dict[str, str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Aggregates (tag, level, key, n, parent, group) and the (aggregate, atom) pairs."""
    parts, pair_agg, pair_atom = [], [], []
    offset = 0
    atom_ix = np.arange(len(atoms))
    for level in (7, 8, 9, 10, GRID):
        col = "grid" if level == GRID else f"c{level}"
        sel = atoms if level != GRID else atoms[atoms["grid"] != ""]
        keys = sel[["tag", col]].astype({col: str})
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys))
        agg = pd.DataFrame({"tag": uniques.get_level_values(0), "key": uniques.get_level_values(1)})
        agg["level"] = level
        agg["n"] = np.bincount(codes, weights=sel["n"].to_numpy(), minlength=len(agg)).astype(np.int64)
        if level in (8, 9, 10):
            first = pd.Series(np.arange(len(codes))).groupby(codes).first().to_numpy()
            agg["parent_key"] = sel[f"c{level - 1}"].to_numpy()[first].astype(str)
        elif level == GRID:
            agg["parent_key"] = [communities.get(k, "") for k in agg["key"]]
        else:
            agg["parent_key"] = ""
        parts.append(agg)
        pair_agg.append(codes + offset)
        pair_atom.append(atom_ix[sel.index.to_numpy()])
        offset += len(agg)
    aggs = pd.concat(parts, ignore_index=True)
    return aggs, np.concatenate(pair_agg), np.concatenate(pair_atom)


def _system(atoms: pd.DataFrame, aggs: pd.DataFrame, pair_agg, pair_atom) -> System:
    piece = pd.MultiIndex.from_frame(atoms[["c10", "grid"]])
    base = atoms["tag"].to_numpy() == ALL
    base_ix = pd.Series(np.flatnonzero(base), index=piece[base])
    atom_all = np.where(base, -1, base_ix.reindex(piece).to_numpy())
    key = pd.MultiIndex.from_frame(aggs[["level", "key"]])
    agg_base = aggs["tag"].to_numpy() == ALL
    agg_ix = pd.Series(np.flatnonzero(agg_base), index=key[agg_base])
    agg_all = np.where(agg_base, -1, agg_ix.reindex(key).to_numpy())
    return System(len(atoms), len(aggs), pair_agg.astype(np.int64), pair_atom.astype(np.int64),
                  atom_all.astype(np.int64), agg_all.astype(np.int64))


def _network(atoms: pd.DataFrame, aggs: pd.DataFrame, pair_agg: np.ndarray, pair_atom: np.ndarray) -> Network:
    level = aggs["level"].to_numpy()[pair_agg]
    cell = np.full(len(atoms), -1, np.int64)
    grid = np.full(len(atoms), -1, np.int64)
    cell[pair_atom[level == 10]] = pair_agg[level == 10]
    grid[pair_atom[level == GRID]] = pair_agg[level == GRID]
    return Network(aggs, _parents(aggs), cell, grid, atoms["n"].to_numpy(), atoms["tag"].to_numpy())


def primary(aggs: pd.DataFrame, k: int) -> np.ndarray:
    """Rules 1 and 2: small figures and tag figures with a small complement."""
    n = aggs["n"].to_numpy()
    small = n < k
    all_n = aggs.merge(aggs[aggs["tag"] == ALL][["level", "key", "n"]].rename(columns={"n": "all"}),
                       on=["level", "key"], how="left")["all"].to_numpy()
    complement = (aggs["tag"].to_numpy() != ALL) & (all_n - n < k)
    return small | complement


class _Partners:
    """Where to look for a figure to suppress next to an exposed one."""

    def __init__(self, aggs: pd.DataFrame, pair_agg: np.ndarray, pair_atom: np.ndarray):
        self.n = aggs["n"].to_numpy()
        order = np.lexsort((aggs.index.to_numpy(), self.n))  # smallest first, then stable
        self.group_of = list(zip(aggs["tag"], aggs["level"].tolist(), aggs["parent_key"], strict=True))
        groups: dict[tuple, list[int]] = {}
        for i in order.tolist():
            groups.setdefault(self.group_of[i], []).append(i)
        self.groups = groups
        self.parent = _parents(aggs)
        by_agg, by_atom = np.argsort(pair_agg, kind="stable"), np.argsort(pair_atom, kind="stable")
        self._atoms, self._aggs = pair_atom[by_agg], pair_agg[by_atom]
        self._agg_start = np.searchsorted(pair_agg[by_agg], np.arange(len(aggs) + 1))
        self._atom_start = np.searchsorted(pair_atom[by_atom], np.arange(int(pair_atom.max(initial=-1)) + 2))

    def _near(self, e: int) -> np.ndarray:
        """Aggregates sharing an atom with ``e``."""
        atoms = self._atoms[self._agg_start[e]:self._agg_start[e + 1]]
        return np.concatenate([self._aggs[self._atom_start[a]:self._atom_start[a + 1]] for a in atoms.tolist()]
                              or [np.empty(0, np.int64)])

    def pick(self, e: int, hidden: np.ndarray) -> int:
        for j in self.groups[self.group_of[e]]:
            if j != e and not hidden[j]:
                return j
        if self.parent[e] >= 0 and not hidden[self.parent[e]]:
            return int(self.parent[e])
        near = self._near(e)
        near = near[~hidden[near]]
        if len(near):
            return int(near[np.lexsort((near, self.n[near]))[0]])
        return -1


def _parents(aggs: pd.DataFrame) -> np.ndarray:
    """Index of each cell's H3 parent aggregate (same tag, one resolution coarser); -1 for res 7 and grids."""
    index = pd.Series(np.arange(len(aggs)), index=pd.MultiIndex.from_frame(aggs[["tag", "level", "key"]]))
    level = aggs["level"].to_numpy()
    want = pd.MultiIndex.from_arrays([aggs["tag"], np.where(level > 7, level - 1, -1), aggs["parent_key"]])
    parent = index.reindex(want).fillna(-1).astype(np.int64).to_numpy().copy()
    parent[level == GRID] = -1
    return parent


def hierarchy_pass(parent: np.ndarray, n: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The H3 rules that need no search, applied until stable (cheap; saves propagation rounds).

    In every parent = Σ children equation: a published parent with exactly one hidden child, or
    with hidden children adding up to no more than their number (all ones), gets its smallest
    published child hidden too (else the parent itself); a hidden parent whose children are all
    published gets its smallest child hidden.
    """
    hidden = hidden.copy()
    child = np.flatnonzero(parent >= 0)
    order = child[np.lexsort((child, n[child], parent[child]))]  # by parent, then smallest first
    key = parent[order]
    first = np.r_[True, key[1:] != key[:-1]]
    starts = np.flatnonzero(first)
    while True:
        h = hidden[order]
        cnt = np.add.reduceat(h.astype(np.int64), starts)
        total = np.add.reduceat(np.where(h, n[order], 0), starts)
        size = np.diff(np.r_[starts, len(order)])
        par = key[starts]
        need = (~hidden[par] & ((cnt == 1) | ((cnt >= 2) & (total <= cnt)))) | (hidden[par] & (cnt == 0))
        if not need.any():
            return hidden
        # the smallest published child of each group in need (its position in `order`)
        rank = np.where(h, np.iinfo(np.int64).max, np.arange(len(order)))
        pick = np.minimum.reduceat(rank, starts)
        for g in np.flatnonzero(need).tolist():
            if pick[g] < len(order) and pick[g] < starts[g] + size[g]:
                hidden[order[pick[g]]] = True
            else:
                hidden[par[g]] = True


def choose_suppression(atoms: pd.DataFrame, aggs: pd.DataFrame, pair_agg, pair_atom,
                       k: int) -> tuple[np.ndarray, int]:
    """Suppression mask over ``aggs`` such that no suppressed figure is determined; and rounds run."""
    system = _system(atoms, aggs, pair_agg, pair_atom)
    network = _network(atoms, aggs, pair_agg, pair_atom)
    n = aggs["n"].to_numpy()
    parent = _parents(aggs)
    hidden = primary(aggs, k)
    partners = None
    for rounds in range(1, 10_000):
        hidden = settle_exact(network, hierarchy_pass(parent, n, hidden))
        lo, hi, unsettled = propagate(system, np.where(hidden, 1, n), np.where(hidden, BIG, n))
        exposed = np.flatnonzero(hidden & ((lo >= hi) | unsettled))
        if len(exposed) == 0:
            return hidden, rounds
        partners = partners or _Partners(aggs, pair_agg, pair_atom)
        added = {partners.pick(int(e), hidden) for e in exposed}
        added.discard(-1)
        if not added:  # nothing left to hide near them: hide everything of their tags
            tags = set(aggs["tag"].to_numpy()[exposed])
            hidden |= aggs["tag"].isin(tags).to_numpy()
            continue
        hidden[list(added)] = True
    raise RuntimeError("suppression did not settle")  # pragma: no cover - each round hides more


def settle_exact(network: Network, hidden: np.ndarray) -> np.ndarray:
    """Hide more until the exact per-tag check (:mod:`geodata.population.flows`) pins nothing.

    Each pass covers every pinned figure with the cheapest published figures that put it on a
    cycle of unknown arcs; a tag with everything hidden pins nothing, so this ends.
    """
    hidden = hidden.copy()
    while True:
        pinned = np.flatnonzero(network.determined(hidden))
        if not len(pinned):
            return hidden
        more = network.cover(pinned, hidden)
        if not len(more):  # pragma: no cover - a path always exists while something is published
            more = np.flatnonzero(~hidden & np.isin(network.tag_of, network.tag_of[pinned]))
        hidden[more] = True


def rebuild_published(conn: psycopg.Connection, k: int | None = None) -> dict[str, int]:
    """Recompute ``population_cell`` and ``population_grid`` from the residents (caller's transaction).

    ``k`` defaults to ``ONEGRID_MIN_CELL``. Returns figures published, suppressed, residents, rounds.
    """
    k = get_settings().min_cell if k is None else k
    atoms = _atoms(conn)
    aggs, hidden, rounds = publish_atoms(atoms, dict(conn.execute(Q.GRID_COMMUNITIES).fetchall()), k)
    _write(conn, aggs, hidden)
    residents = int(atoms.loc[atoms["tag"] == ALL, "n"].sum())
    stats = {"figures": len(aggs), "suppressed": int(hidden.sum()), "residents": residents, "rounds": rounds}
    conn.execute(Q.SET_PUBLICATION, {"k": k, "residents": residents, "suppressed": stats["suppressed"],
                                     "rounds": rounds})
    # The grid editor's per-address people counts follow the residents too; building them here,
    # where the import already waits, spares the first grid save after it (~11 s at district scale).
    from geodata.grids.publication import refresh_address_counts  # grids builds on population

    refresh_address_counts(conn)
    return stats


def _write(conn: psycopg.Connection, aggs: pd.DataFrame, hidden: np.ndarray) -> None:
    conn.execute(Q.CLEAR_CELLS)
    conn.execute(Q.CLEAR_GRIDS)
    value = [None if h else v for v, h in zip(aggs["n"].tolist(), hidden.tolist(), strict=True)]
    level, tag, key = aggs["level"].tolist(), aggs["tag"].tolist(), aggs["key"].tolist()
    with conn.cursor().copy(Q.COPY_CELLS) as cp:
        cp.set_types(("int2", "text", "int8", "int4"))
        for row in zip(level, tag, key, value, strict=True):
            if row[0] != GRID:
                cp.write_row((row[0], row[1], int(row[2]), row[3]))
    with conn.cursor().copy(Q.COPY_GRIDS) as cp:
        cp.set_types(("text", "text", "int4"))
        for row in zip(level, tag, key, value, strict=True):
            if row[0] == GRID:
                cp.write_row((row[2], row[1], row[3]))
