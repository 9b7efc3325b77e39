"""Republish one community's grid population figures after a grid save (caller's transaction).

A grid save changes only which grid each address belongs to, so the published H3 cell
counts (``population_cell``) keep their values; the community's grid figures
(``population_grid``) change. They are recomputed here, with suppression chosen in two
strengths of attacker:

**On screen, exactly.** Nothing published after the save — cells and every grid now — may
let a linear-programming attacker pin a suppressed figure (the promise of the density layer).
Per tag, cells and one grid partition form a flow network (:mod:`geodata.population.flows`),
so this is decided exactly (:class:`_Flows`); new figures are hidden to cover what it pins and,
only when no new figure can (a new grid drawn along published cells can give away a small
count), the published cells involved are suppressed as well.

**With history, as far as it can be checked cheaply.** The attacker also keeps the figures
published *before* the save: the community's old grid figures stay in the system as known
equations over the same people (atoms are refined to (H3 res-10 cell, new grid, old grid)
pieces), cells count as known at their old values, and a figure counts as exposed when it
is determined after the save but not before it:

* an exact check of old against new grid figures (:class:`_Span`): per tag, a hidden grid
  figure must not be a linear combination of the known ones over the (new grid, old grid)
  pairs that hold people (a split whose small half is the old total minus the published half
  gets its published half hidden too);
* bound propagation (:func:`geodata.population.bounds.propagate`) over cells, old and new
  grids together. Three families (cells, old grids, new grids) are no longer one network, so
  an LP combining all three can still pin what these two miss; ``residual`` counts what is
  left determined when no new figure is left to hide.

The linear system is local: every person in the H3 res-7 cells that hold the community's
addresses (complete cells at every resolution), the grids of other communities there, the
old and the new grids. A grid of another community that reaches outside that region is
modelled with a stronger attacker who knows its outside part exactly (its published figure
becomes the exact count inside the region).

Grids whose people did not change keep their old figures verbatim. Rules 1 and 2 of
:mod:`geodata.population.publish` (fewer than k people; complement below k) apply to the
new figures, then partners are hidden — the cheapest cycle-closing figures for the exact
network check; the smallest published new figure of the same tag sharing people with the
exposed one, else of the same tag, else any sharing people, for the others — until nothing
new is exposed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from scipy import sparse
from scipy.sparse import csgraph  # noqa: F401 - makes sparse.csgraph available

from geodata.grids import sql as Q
from geodata.population.bounds import BIG, System, propagate
from geodata.population.flows import Network
from geodata.population.publish import ALL
from geodata.settings import get_settings

CELL_LEVELS = (7, 8, 9, 10)
GRID, PREV = 0, -1  #: levels of the new grid figures and of the figures published before the save


def capture_before(conn: psycopg.Connection, community: str) -> dict | None:
    """Before a save changes anything: the community's grid figures and address membership.

    Returns ``{(grid_code, tag): n or None}`` (None = suppressed), or ``None`` when nothing is
    published yet (then there is nothing to keep consistent). Keeps each address's old grid
    in the temporary table ``og_prev_grid`` for :func:`republish_community`.
    """
    if conn.execute(Q.PUBLISHED).fetchone() is None:
        return None
    conn.execute(Q.PREV_DROP)
    conn.execute(Q.PREV_STAGE, {"c": community})
    return {(g, t): n for g, t, n in conn.execute(Q.PREV_FIGURES, {"c": community})}


def refresh_address_counts(conn: psycopg.Connection) -> bool:
    """Rebuild ``population_address`` (people per address and tag) if residents changed since;
    returns whether it was rebuilt (seconds at district scale, once after each population change)."""
    stamp, built_from = conn.execute(Q.ADDRESS_CACHE_STAMP).fetchone()
    if stamp == built_from:
        return False
    conn.execute(Q.ADDRESS_CACHE_LOCK)  # only to rebuild: concurrent saves then build it once
    stamp, built_from = conn.execute(Q.ADDRESS_CACHE_STAMP).fetchone()
    if stamp == built_from:
        return False
    conn.execute(Q.ADDRESS_CACHE_CLEAR)
    conn.execute(Q.ADDRESS_CACHE_FILL)
    conn.execute(Q.ADDRESS_CACHE_BUILT, {"stamp": stamp})
    return True


def _stage_region(conn: psycopg.Connection, region_res: int) -> None:
    """The temporary table ``og_region``: every address of the H3 cells (``region_res``) that hold
    the community's addresses, found through the spatial index when the counts confirm it."""
    col = sql.Identifier(f"h3_r{region_res}")
    cells = [r[0] for r in conn.execute(sql.SQL(Q.REGION_CELLS).format(col=col))]
    p = {"res": region_res, "cells": cells}
    conn.execute(Q.REGION_DROP)
    conn.execute(sql.SQL(Q.REGION_STAGE).format(col=col), p)
    if not conn.execute(Q.REGION_COMPLETE, p).fetchone()[0]:  # an envelope missed an address
        conn.execute(Q.REGION_DROP)
        conn.execute(sql.SQL(Q.REGION_STAGE_SCAN).format(col=col), p)


def _fetch_atoms(conn: psycopg.Connection, region_res: int) -> pd.DataFrame:
    if region_res not in CELL_LEVELS:
        raise ValueError(f"region resolution must be one of {CELL_LEVELS}")
    refresh_address_counts(conn)
    _stage_region(conn, region_res)
    cols = ["c10", "c9", "c8", "c7", "grid", "prev", "n"]
    rows = pd.DataFrame(conn.execute(Q.REGION_ATOMS).fetchall(), columns=["tag", *cols])
    rows = rows.astype({c: "int64" for c in ("c10", "c9", "c8", "c7", "n")})
    everyone = rows["tag"].to_numpy() == ALL
    base = rows[everyone].reset_index(drop=True)
    tagged = rows[~everyone]
    piece = ["c10", "grid", "prev"]  # a tag's piece counts only where the atom itself does
    keep = pd.MultiIndex.from_frame(tagged[piece]).isin(pd.MultiIndex.from_frame(base[piece]))
    return pd.concat([base[cols].assign(tag=ALL), tagged[keep][cols + ["tag"]]], ignore_index=True)


def _factorize_pairs(tags: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Codes of the (tag, key) pairs in order of first appearance, and each unique pair's tag and key."""
    tag_code, tag_uniques = pd.factorize(tags)
    key_code, key_uniques = pd.factorize(keys)
    codes, first = pd.factorize(tag_code.astype(np.int64) * max(len(key_uniques), 1) + key_code)
    width = max(len(key_uniques), 1)
    return codes, np.asarray(tag_uniques, object)[first // width], np.asarray(key_uniques, object)[first % width]


def _aggregates(atoms: pd.DataFrame, old_codes: set[str]) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Aggregates (tag, level, key, n) over the atoms and the (aggregate, atom) pairs."""
    parts, pair_agg, pair_atom, offset = [], [], [], 0
    tags, weights = atoms["tag"].to_numpy(object), atoms["n"].to_numpy()
    for level in (*CELL_LEVELS, GRID, PREV):
        if level in CELL_LEVELS:
            rows, keys = np.arange(len(atoms)), atoms[f"c{level}"].to_numpy().astype(str).astype(object)
        else:
            col = atoms["grid" if level == GRID else "prev"].to_numpy(object)
            rows = np.flatnonzero(col != "") if level == GRID else np.flatnonzero(np.isin(col, list(old_codes)))
            keys = col[rows]
        codes, tag_u, key_u = _factorize_pairs(tags[rows], keys)
        agg = pd.DataFrame({"tag": tag_u, "key": key_u, "level": level})
        agg["n"] = np.bincount(codes, weights=weights[rows], minlength=len(agg)).astype(np.int64)
        parts.append(agg)
        pair_agg.append(codes + offset)
        pair_atom.append(rows)
        offset += len(agg)
    return pd.concat(parts, ignore_index=True), np.concatenate(pair_agg), np.concatenate(pair_atom)


def _system(atoms: pd.DataFrame, aggs: pd.DataFrame, pair_agg: np.ndarray, pair_atom: np.ndarray) -> System:
    piece = pd.MultiIndex.from_frame(atoms[["c10", "grid", "prev"]])
    base = atoms["tag"].to_numpy() == ALL
    atom_all = np.where(base, -1, pd.Series(np.flatnonzero(base), index=piece[base]).reindex(piece).to_numpy())
    key = pd.MultiIndex.from_frame(aggs[["level", "key"]])
    agg_base = aggs["tag"].to_numpy() == ALL
    agg_all = np.where(agg_base, -1, pd.Series(np.flatnonzero(agg_base), index=key[agg_base]).reindex(key).to_numpy())
    return System(len(atoms), len(aggs), pair_agg.astype(np.int64), pair_atom.astype(np.int64),
                  atom_all.astype(np.int64), agg_all.astype(np.int64))


def _known(conn: psycopg.Connection, aggs: pd.DataFrame, before: dict, community_codes: set[str],
           region_res: int = 7):
    """What the attacker holds: bounds (lower, upper) per aggregate, and which to protect.

    New figures of the community get no bounds here (``[0, BIG]``: no information). A figure
    that also counts people outside the region (a cell or another community's grid reaching
    out of it) is modelled with a stronger attacker who knows its outside part exactly:
    published, it pins the region's part; suppressed, it tells nothing about that part (and
    is protected by the rules of the whole publication).
    """
    level, key = aggs["level"].to_numpy(), aggs["key"].to_numpy()
    others = sorted(set(key[level == GRID]) - community_codes)
    cells = np.unique(key[np.isin(level, CELL_LEVELS)].astype(np.int64)).tolist()
    cell_rows = pd.DataFrame(conn.execute(Q.CELL_STATES, {"cells": cells}).fetchall(),
                             columns=["level", "tag", "key", "v"], dtype=object)
    cell_rows = cell_rows.assign(level=cell_rows["level"].astype(np.int64), key=cell_rows["key"].astype(str))
    rows = [(GRID, t, g, v) for g, t, v in conn.execute(Q.GRID_STATES, {"codes": others})]
    rows += [(PREV, t, g, v) for (g, t), v in before.items()]
    coarse = [lv for lv in sorted(CELL_LEVELS, reverse=True) if lv < region_res]
    partial = [] if not coarse else [
        (lv, str(c)) for row in conn.execute(sql.SQL(Q.PARTIAL_CELLS).format(
            cols=sql.SQL(", ").join(sql.Identifier(f"h3_r{lv}") for lv in coarse)))
        for lv, c in zip(coarse, row, strict=True)]
    partial += [(GRID, r[0]) for r in conn.execute(Q.PARTIAL_GRIDS, {"codes": others})]
    state = pd.concat([cell_rows, pd.DataFrame(rows, columns=["level", "tag", "key", "v"], dtype=object)
                      .astype({"level": np.int64})], ignore_index=True).drop_duplicates(["level", "tag", "key"])
    state = aggs[["level", "tag", "key"]].merge(state.assign(has=True), how="left", on=["level", "tag", "key"])
    has = state["has"].fillna(False).to_numpy(bool)
    v = state["v"].to_numpy(dtype=float, na_value=np.nan)
    n = aggs["n"].to_numpy()
    part = pd.MultiIndex.from_frame(aggs[["level", "key"]]).isin(pd.MultiIndex.from_tuples(partial, names=["level", "key"])) \
        if partial else np.zeros(len(aggs), bool)
    mine = (level == GRID) & np.isin(key, list(community_codes))
    hidden = has & np.isnan(v) & ~part & ~mine
    exact = ~mine & np.where(part, has & ~np.isnan(v), has & (v == n))  # stale rows tell nothing
    lower = np.where(exact, n, np.where(hidden, 1, 0)).astype(np.int64)
    upper = np.where(exact, n, BIG).astype(np.int64)
    return lower, upper, hidden


def _neighbours(aggs_n: int, atoms_n: int, pair_agg: np.ndarray, pair_atom: np.ndarray):
    m = sparse.csr_matrix((np.ones(len(pair_agg), np.int8), (pair_agg, pair_atom)), shape=(aggs_n, atoms_n))
    return m, m.T.tocsr()


def _pick(e: int, free_open: np.ndarray, tag: np.ndarray, n: np.ndarray, m, mt) -> int:
    """A published new figure to hide next to exposed figure ``e`` (-1: none)."""
    near = np.unique(mt[m[e].indices].indices)
    for pool in (near[free_open[near] & (tag[near] == tag[e])], np.flatnonzero(free_open & (tag == tag[e])),
                 near[free_open[near]]):
        if len(pool):
            return int(pool[np.lexsort((pool, n[pool]))[0]])
    return -1


def _primary(aggs: pd.DataFrame, k: int) -> np.ndarray:
    n = aggs["n"].to_numpy()
    everyone = aggs[aggs["tag"] == ALL].set_index(["level", "key"])["n"]
    all_n = everyone.reindex(pd.MultiIndex.from_frame(aggs[["level", "key"]])).to_numpy()
    return (n < k) | ((aggs["tag"].to_numpy() != ALL) & (all_n - n < k))


def _unchanged(atoms: pd.DataFrame, codes: set[str]) -> set[str]:
    """New grids holding exactly the people their code held before the save."""
    moved = atoms[(atoms["grid"] != atoms["prev"])]
    return codes - set(moved["grid"]) - set(moved["prev"])


def _fixed(aggs: pd.DataFrame, new: np.ndarray, unchanged: set[str], before: dict) -> tuple[np.ndarray, np.ndarray]:
    """New figures of unchanged grids: (fixed mask, hidden as before)."""
    fixed, hidden = np.zeros(len(aggs), bool), np.zeros(len(aggs), bool)
    n = aggs["n"].to_numpy()
    for i in np.flatnonzero(new & aggs["key"].isin(unchanged).to_numpy()).tolist():
        key = (aggs.at[i, "key"], aggs.at[i, "tag"])
        if key in before and before[key] in (None, n[i]):
            fixed[i], hidden[i] = True, before[key] is None
    return fixed, hidden


def _twins(aggs: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """For new figures ``rows``: index of the old figure with the same code and tag (-1: none)."""
    index = pd.Series(np.arange(len(aggs)), index=pd.MultiIndex.from_frame(aggs[["level", "tag", "key"]]))
    want = pd.MultiIndex.from_arrays([np.full(len(rows), PREV), aggs["tag"].to_numpy()[rows],
                                      aggs["key"].to_numpy()[rows]])
    return index.reindex(want).fillna(-1).astype(np.int64).to_numpy()


class _Span:
    """The exact check of the community's grid figures (old and new), which bound propagation misses.

    Propagation works piece by piece, so it misses a difference of two large sums (an old
    grid minus the published part of it that kept its code leaves the split-off part). Per
    tag, old and new grids are the two sides of a bipartite graph whose edges are the (new
    grid, old grid) pairs holding people; a figure is the sum over its edges. In a connected
    component the only linear relation among these sums is Σ new = Σ old, with every member
    in it, so a hidden figure is determined exactly when every other figure of its component
    is known. People outside every new (or old) grid hang on a node that is never published.
    """

    def __init__(self, atoms: pd.DataFrame, aggs: pd.DataFrame, new: np.ndarray):
        level, key, tag = aggs["level"].to_numpy(), aggs["key"].to_numpy(), aggs["tag"].to_numpy()
        figures = new | (level == PREV)
        mine = atoms[atoms["grid"].isin(set(key[new])) | atoms["prev"].isin(set(key[level == PREV]))]
        side = np.where(level == PREV, "o:", "n:").astype(object)
        node_of = pd.Series(np.arange(len(aggs)), index=pd.MultiIndex.from_arrays([tag, side + key.astype(str)]))
        node_of = node_of[figures]
        ends = [pd.MultiIndex.from_arrays([mine["tag"].to_numpy(), "n:" + mine["grid"].astype(str).to_numpy()]),
                pd.MultiIndex.from_arrays([mine["tag"].to_numpy(), "o:" + mine["prev"].astype(str).to_numpy()])]
        # nodes: the figures (0..len(aggs)-1, only those of the community used) and one extra
        # node per unpublished end (no grid, or an old grid without a figure)
        extra = pd.Index(ends[0].append(ends[1]).unique()).difference(node_of.index)
        node_of = pd.concat([node_of, pd.Series(len(aggs) + np.arange(len(extra)), index=extra)])
        a, b = node_of.reindex(ends[0]).to_numpy(), node_of.reindex(ends[1]).to_numpy()
        n_nodes = len(aggs) + len(extra)
        graph = sparse.coo_matrix((np.ones(len(a)), (a, b)), shape=(n_nodes, n_nodes))
        _, comp = sparse.csgraph.connected_components(graph, directed=False)
        self.comp, self.n_aggs = comp, len(aggs)
        self.used = np.zeros(n_nodes, bool)
        self.used[a], self.used[b] = True, True
        self.n_comp = comp.max(initial=-1) + 1

    def exposed(self, known: np.ndarray, targets: np.ndarray) -> np.ndarray:
        unknown = self.used.copy()
        unknown[:self.n_aggs] &= ~known  # extra nodes are never known
        open_per_comp = np.bincount(self.comp[unknown], minlength=self.n_comp)
        out = targets & self.used[:self.n_aggs] & (open_per_comp[self.comp[:self.n_aggs]] == 1)
        return out & unknown[:self.n_aggs]


class _Flows:
    """The exact per-tag check of cells and grids together (:mod:`geodata.population.flows`).

    Cells and one grid partition form a flow network; the attacker holds two partitions here
    (the community's grids before and after the save), which is not one. So the check runs on
    the network *after* the save (cells, every grid now) and compares it with the network
    *before* (cells, the old grids, other grids): a figure pinned after but not before is
    exposed by the save. Old against new grids is :class:`_Span`'s part; what needs all three
    families at once is left to bound propagation.
    """

    def __init__(self, atoms: pd.DataFrame, aggs: pd.DataFrame, pair_agg: np.ndarray, pair_atom: np.ndarray,
                 new: np.ndarray, known: np.ndarray):
        level = aggs["level"].to_numpy()
        at = {lv: np.full(len(atoms), -1, np.int64) for lv in (*CELL_LEVELS, GRID, PREV)}
        for lv in at:
            sel = level[pair_agg] == lv
            at[lv][pair_atom[sel]] = pair_agg[sel]
        parent = np.full(len(aggs), -1, np.int64)
        for lv in (8, 9, 10):
            sel = level[pair_agg] == lv
            parent[pair_agg[sel]] = at[lv - 1][pair_atom[sel]]
        grid, prev = at[GRID], at[PREV]
        same = (atoms["grid"].to_numpy(object) == atoms["prev"].to_numpy(object)) & (grid >= 0)
        before_grid = np.where(prev >= 0, prev, np.where(same & ~new[np.maximum(grid, 0)], grid, -1))
        self.after = self._build(atoms, aggs, level != PREV, parent, at[10], grid)
        self.before = self._build(atoms, aggs, ~new, parent, at[10], before_grid)
        rows, net = self.before
        self.pinned_before = np.zeros(len(aggs), bool)
        self.pinned_before[rows] = net.determined(~known[rows])

    @staticmethod
    def _build(atoms, aggs, keep, parent, cell, grid):
        rows = np.flatnonzero(keep)
        local = np.full(len(aggs) + 1, -1, np.int64)  # index len(aggs) stands for -1
        local[rows] = np.arange(len(rows))
        sub = aggs.iloc[rows][["tag", "level", "n"]].reset_index(drop=True)
        sub.loc[sub["level"] == PREV, "level"] = GRID
        net = Network(sub, local[np.where(parent[rows] >= 0, parent[rows], len(aggs))],
                      local[np.where(cell >= 0, cell, len(aggs))], local[np.where(grid >= 0, grid, len(aggs))],
                      atoms["n"].to_numpy(), atoms["tag"].to_numpy())
        return rows, net

    def exposed(self, unknown: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Of ``targets``, the figures the network after the save pins and the one before did not."""
        rows, net = self.after
        out = np.zeros(len(unknown), bool)
        out[rows] = net.determined(unknown[rows])
        return out & targets & ~self.pinned_before

    def cover(self, exposed: np.ndarray, unknown: np.ndarray, hideable: np.ndarray) -> np.ndarray:
        """Hideable figures that put each exposed one on a cycle (global indices)."""
        rows, net = self.after
        local = np.full(len(unknown), -1, np.int64)
        local[rows] = np.arange(len(rows))
        picked = net.cover(local[np.flatnonzero(exposed)], unknown[rows], hideable[rows])
        return rows[picked]


def _hide_partners(exposed: np.ndarray, hidden: np.ndarray, free: np.ndarray, tag, n, m, mt) -> bool:
    """Hide a partner next to each exposed figure (in place); False when nothing is left to hide."""
    open_ = free & ~hidden
    added = {_pick(int(e), open_, tag, n, m, mt) for e in exposed}
    added.discard(-1)
    if added:
        hidden[list(added)] = True
        return True
    more = open_ & np.isin(tag, np.unique(tag[exposed]))  # nothing near: the tag's other new figures,
    more = more if more.any() else open_  # then every new figure
    hidden |= more
    return bool(more.any())


def choose_suppression(atoms, aggs, system: System, pairs, lower, upper, protect, new, fixed, hidden,
                       k: int) -> tuple[np.ndarray, int, int]:
    """Hidden mask for the new figures (and any published cell that must go) such that the
    save exposes nothing new.

    Each round first settles the exact checks (cheap): old against new grid figures
    (:class:`_Span`), then cells and grids as a flow network (:class:`_Flows`); then it runs
    bound propagation once. Returns (hidden, rounds, residual): ``residual`` counts figures
    still determined once every new figure that could be hidden is (0 unless the cells alone
    already gave them away).
    """
    n, tag = aggs["n"].to_numpy(), aggs["tag"].to_numpy()
    lo, hi, unsettled = propagate(system, lower, upper)
    excused = protect & ((lo >= hi) | unsettled)  # already determined before the save
    twins = _twins(aggs, np.flatnonzero(fixed))
    excused[np.flatnonzero(fixed)[twins >= 0]] = excused[twins[twins >= 0]]
    hidden = hidden | (_primary(aggs, k) & new & ~fixed)
    free = new & ~fixed
    cells = np.isin(aggs["level"].to_numpy(), CELL_LEVELS) & (lower == upper)  # published cells
    m, mt = _neighbours(len(aggs), system.n_atoms, *pairs)
    exact = _Span(atoms, aggs, new)
    flows = _Flows(atoms, aggs, *pairs, new, lower == upper)
    for rounds in range(1, 1_000):
        while True:  # the exact checks first (each cheap), hiding new figures before any cell
            targets = (protect | (hidden & (new | cells))) & ~excused
            span = exact.exposed(np.where(new, ~hidden, lower == upper), targets)
            if span.any() and _hide_partners(np.flatnonzero(span), hidden, free, tag, n, m, mt):
                continue
            unknown = np.where(new, hidden, (lower != upper) | hidden)
            flow = flows.exposed(unknown, targets)
            if not flow.any():
                break
            more = flows.cover(flow, unknown, free & ~hidden)
            if not len(more):
                # no new figure can keep what is on screen from giving a figure away (a new grid
                # drawn along published cells): the published cells involved go too
                more = flows.cover(flow, unknown, (free | cells) & ~hidden)
            if len(more):
                hidden[more] = True
            elif not _hide_partners(np.flatnonzero(flow), hidden, free, tag, n, m, mt):
                break
        lo, hi, unsettled = propagate(system, np.where(new, np.where(hidden, 1, n), lower),
                                      np.where(new, np.where(hidden, BIG, n), upper))
        exposed = np.flatnonzero(targets & (((lo >= hi) | unsettled) | span | flow))
        if not len(exposed):
            return hidden, rounds, 0
        if not _hide_partners(exposed, hidden, free, tag, n, m, mt):
            return hidden, rounds, len(exposed)
    raise RuntimeError("suppression did not settle")  # pragma: no cover - each round hides more


def republish_community(conn: psycopg.Connection, community: str, before: dict | None,
                        k: int | None = None, region_res: int = 7) -> dict[str, int]:
    """Replace the community's ``population_grid`` rows after its grids were re-derived.

    ``before`` is what :func:`capture_before` returned ahead of the save (``None``: nothing is
    published, nothing to do). ``k`` defaults to ``ONEGRID_MIN_CELL``. Returns figures written,
    suppressed, propagation rounds and residual (see :func:`choose_suppression`).
    """
    if before is None:
        return {"figures": 0, "suppressed": 0, "rounds": 0, "residual": 0}
    k = get_settings().min_cell if k is None else k
    codes = {r[0] for r in conn.execute(Q.GRID_CODES, {"c": community})}
    atoms = _fetch_atoms(conn, region_res)
    aggs, pair_agg, pair_atom = _aggregates(atoms, {g for g, _ in before})
    system = _system(atoms, aggs, pair_agg, pair_atom)
    lower, upper, protect = _known(conn, aggs, before, codes, region_res)
    new = (aggs["level"].to_numpy() == GRID) & aggs["key"].isin(codes).to_numpy()
    fixed, hidden = _fixed(aggs, new, _unchanged(atoms, codes), before)
    hidden, rounds, residual = choose_suppression(atoms, aggs, system, (pair_agg, pair_atom), lower, upper, protect,
                                                  new, fixed, hidden, k)
    _write(conn, aggs[new], hidden[new], sorted(codes))
    dropped = aggs[hidden & ~new & (lower == upper)]  # published cells the new grids would give away
    if len(dropped):
        conn.execute(Q.HIDE_CELLS, {"res": dropped["level"].tolist(), "tag": dropped["tag"].tolist(),
                                    "cell": [int(c) for c in dropped["key"]]})
    return {"figures": int(new.sum()), "suppressed": int((hidden & new).sum()), "cells_hidden": len(dropped),
            "rounds": rounds, "residual": residual}


def _write(conn: psycopg.Connection, figures: pd.DataFrame, hidden: np.ndarray, codes: list[str]) -> None:
    conn.execute(Q.CLEAR_FIGURES, {"codes": codes})
    with conn.cursor().copy(Q.COPY_FIGURES) as cp:
        for key, tag, n, h in zip(figures["key"], figures["tag"], figures["n"].tolist(), hidden.tolist(),
                                  strict=True):
            cp.write_row((key, tag, None if h else n))
