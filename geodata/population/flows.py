"""The exact check: which suppressed figures an attacker with a linear-programming solver can pin.

Bound propagation (:mod:`geodata.population.bounds`) works atom by atom and misses what a
*group* of atoms sums to (a hidden grid total recovered from other figures, minus its published
cells, leaves its one hidden cell). For one tag, though, everything published has the shape of
a **flow network**, which makes the exact answer a graph question:

* nodes: one per H3 cell (res 7..10) and per grid, plus per tag a source ``S``, a sink ``T``
  and a node ``Z`` for people outside every grid;
* arcs: each figure is the flow on one arc — a cell on ``parent → cell`` (``S → cell`` at
  res 7), a grid on ``grid → T`` —, each atom (people of the tag in one res-10 cell ∩ grid) on
  ``res-10 cell → grid`` (or ``→ Z``), and ``Z → T``, ``T → S`` close the circulation. Every
  figure is the sum of its atoms exactly when flow is conserved at every node.

Published arcs are known. The attacker's feasible set is every circulation that agrees with
them, with atoms ≥ 0 and suppressed figures ≥ 1 (an absent figure would be 0). A suppressed
arc is **determined** exactly when no such circulation can change it: no cycle of unknown arcs
through it along which flow can be pushed, where an unknown arc can always carry more flow and
can carry less only when its true flow is above its lower bound. So, in the residual graph of
the unknown arcs (forward always, backward when flow > lower bound), with ``SCC`` its strongly
connected components:

* an arc that can only grow (a suppressed 1) is determined iff its ends lie in different SCCs;
* an arc that can move both ways is determined iff it is a **bridge** of its SCC's underlying
  undirected graph (within a strongly connected graph, removing both directions of an arc
  leaves a directed path between its ends iff it leaves an undirected one).

This is exact for the per-tag LP (the audit ``bench/privacy_audit.py`` solves it figure by
figure), and runs in near-linear time for every tag at once: the tags' networks are disjoint
parts of one graph. Coupling *between* tags (a tag's atom ≤ the all-residents atom) is left to
bound propagation, which the publisher runs as well.

:meth:`Network.cover` picks what to hide next to a determined figure: the cheapest set of
published figures (cost = people hidden) that closes a cycle of unknown arcs through it — a
shortest path from its head back to its tail, unknown arcs free.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse import csgraph

FREE = 1e-9  #: path cost of an arc that is already unknown (csgraph drops no explicit values, but keep > 0)


class Network:
    """The per-tag flow networks of a publication (fixed while suppression changes).

    ``aggs``: the figures (``tag``, ``level`` 7..10 or 0 for grids, ``key``, ``n``);
    ``parent``: index of each cell's H3 parent figure (-1 at res 7 and for grids);
    ``atom_cell``/``atom_grid``: per atom, the index of its res-10 figure and of its grid
    figure (-1: outside every grid); ``atom_n``/``atom_tag``: its people and tag.
    """

    def __init__(self, aggs: pd.DataFrame, parent: np.ndarray, atom_cell: np.ndarray, atom_grid: np.ndarray,
                 atom_n: np.ndarray, atom_tag: np.ndarray):
        n_aggs = len(aggs)
        tags, agg_t = np.unique(aggs["tag"].to_numpy(), return_inverse=True)
        atom_t = np.searchsorted(tags, atom_tag)
        src, sink, zero = (n_aggs + 3 * np.arange(len(tags)) + i for i in range(3))
        self.n_nodes = n_aggs + 3 * len(tags)
        level = aggs["level"].to_numpy()
        grid = level == 0
        # figure arcs first (arc i = figure i), then atoms, then Z → T and T → S per tag
        fig_tail = np.where(grid, np.arange(n_aggs), np.where(parent >= 0, parent, src[agg_t]))
        fig_head = np.where(grid, sink[agg_t], np.arange(n_aggs))
        atom_head = np.where(atom_grid >= 0, atom_grid, zero[atom_t])
        outside = np.bincount(atom_t[atom_grid < 0], weights=atom_n[atom_grid < 0], minlength=len(tags))
        total = np.bincount(atom_t, weights=atom_n, minlength=len(tags))
        self.n_figures = n_aggs
        self.tag_of = agg_t
        self.tail = np.concatenate([fig_tail, atom_cell, zero, sink]).astype(np.int64)
        self.head = np.concatenate([fig_head, atom_head, sink, src]).astype(np.int64)
        self.flow = np.concatenate([aggs["n"].to_numpy(), atom_n, outside, total]).astype(np.int64)
        # arcs that carry nothing are no arcs (no Z → T when everybody is in a grid)
        self.real = np.r_[np.ones(n_aggs + len(atom_n), bool), outside > 0, total > 0]
        self.cost = np.maximum(aggs["n"].to_numpy().astype(float), 1.0)

    def _unknown(self, hidden: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(unknown, two_way) per arc: unknown arcs, and those whose flow can also fall."""
        unknown = self.real.copy()
        unknown[:self.n_figures] = hidden
        lower = np.zeros(len(self.flow), np.int64)
        lower[:self.n_figures] = hidden  # a suppressed figure is at least 1, or it would be absent
        return unknown, unknown & (self.flow > lower)

    def determined(self, hidden: np.ndarray) -> np.ndarray:
        """Mask over the figures: suppressed figures the published ones pin exactly (per tag)."""
        unknown, two_way = self._unknown(hidden)
        t, h = self.tail[unknown], self.head[unknown]
        back = two_way[unknown]
        graph = sparse.csr_matrix((np.ones(len(t) + back.sum(), np.int8), (np.r_[t, h[back]], np.r_[h, t[back]])),
                                  shape=(self.n_nodes, self.n_nodes))
        _, scc = csgraph.connected_components(graph, directed=True, connection="strong")
        inside = unknown & (scc[self.tail] == scc[self.head])
        pinned = hidden & ~inside[:self.n_figures]  # an arc that can only grow, its ends in different SCCs
        # within an SCC every unknown arc (one-way or not) counts as an undirected edge
        arcs = np.flatnonzero(inside)
        bridge = arcs[_bridges(self.tail[arcs], self.head[arcs], self.n_nodes)]
        bridge = bridge[bridge < self.n_figures]
        pinned[bridge[two_way[bridge]]] = True
        return pinned

    def cover(self, exposed: np.ndarray, hidden: np.ndarray, hideable: np.ndarray | None = None) -> np.ndarray:
        """Published figures to hide so that each exposed figure lies on a cycle of unknown arcs.

        For each exposed figure, the cheapest path from its head back to its tail (cost: people
        of the published figures on it; unknown arcs free), crossing an arc against its direction
        only where its flow can fall, and exposed arcs only forward. To keep this near-linear, the
        unknown two-way arcs that are not exposed are contracted first (free anyway), and the
        searches run in batches from many sources at once, each bounded by its figure's size
        and widened only for the few that found nothing. Only figures in ``hideable`` (default:
        all) are hidden. Returns the indices to hide.
        """
        exposed = np.asarray(exposed, np.int64)
        unknown, two_way = self._unknown(hidden)
        free = two_way.copy()
        free[exposed] = False
        n_comp, comp = csgraph.connected_components(
            sparse.csr_matrix((np.ones(int(free.sum()), np.int8), (self.tail[free], self.head[free])),
                              shape=(self.n_nodes, self.n_nodes)), directed=False)
        # the path runs head → tail: along an arc's direction it adds flow (any unknown arc can),
        # against it it takes flow away (only an arc above its lower bound can)
        ahead = np.where(unknown, FREE, np.inf)
        cost = self.cost if hideable is None else np.where(hideable, self.cost, np.inf)
        ahead[:self.n_figures] = np.where(hidden, FREE, cost)
        back = np.where(two_way, FREE, np.inf)
        back[:self.n_figures] = np.where(hidden, back[:self.n_figures], cost)
        back[exposed] = np.inf  # so no path returns along the arc itself; forward is harmless (a
        # shortest path from head to tail never takes tail → head), and other exposed arcs may help
        arc = np.flatnonzero(self.real & ~free)
        graph, via = _contracted(comp[self.tail[arc]], comp[self.head[arc]], ahead[arc], back[arc], arc, n_comp)
        start, goal = comp[self.head[exposed]], comp[self.tail[exposed]]
        chosen: set[int] = set()
        for rows in np.array_split(np.arange(len(exposed)), max(1, len(exposed) // 32)):
            found = set()
            for path in _cheapest_paths(graph, start[rows], goal[rows], self.cost[exposed[rows]]):
                steps = (via.get((u, v), -1) for u, v in zip(path[:-1], path[1:], strict=True))
                found.update(a for a in steps if 0 <= a < self.n_figures and not unknown[a])
            # later batches see these as hidden (free) already
            new = np.asarray(sorted(found - chosen), np.int64)
            cu, cv = comp[self.tail[new]], comp[self.head[new]]
            _set_weights(graph, cu, cv, FREE)
            _set_weights(graph, cv, cu, np.where(self.flow[new] > 1, FREE, np.inf))  # hidden: at least 1
            chosen |= found
        return np.asarray(sorted(chosen), np.int64)


def _contracted(u: np.ndarray, v: np.ndarray, ahead: np.ndarray, back: np.ndarray, arc: np.ndarray, n: int):
    """Directed graph over components (cheapest of parallel arcs kept) and {(u, v): arc} for paths."""
    rows, cols = np.r_[u, v], np.r_[v, u]
    weight, arcs = np.r_[ahead, back], np.r_[arc, arc]
    keep = (rows != cols) & np.isfinite(weight)
    rows, cols, weight, arcs = rows[keep], cols[keep], weight[keep], arcs[keep]
    order = np.lexsort((weight, cols, rows))
    rows, cols, weight, arcs = rows[order], cols[order], weight[order], arcs[order]
    first = np.r_[True, (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])] if len(rows) else np.zeros(0, bool)
    rows, cols, weight, arcs = rows[first], cols[first], weight[first], arcs[first]
    graph = sparse.csr_matrix((weight, (rows, cols)), shape=(n, n))
    return graph, dict(zip(zip(rows.tolist(), cols.tolist(), strict=True), arcs.tolist(), strict=True))


def _set_weights(graph: sparse.csr_matrix, rows: np.ndarray, cols: np.ndarray, weight) -> None:
    """Lower the stored weights of existing entries (row, col) to ``weight`` (canonical csr)."""
    keep = rows != cols
    rows, cols, weight = rows[keep], cols[keep], np.broadcast_to(weight, keep.shape)[keep]
    for r, c, w in zip(rows.tolist(), cols.tolist(), weight.tolist(), strict=True):
        lo, hi = graph.indptr[r], graph.indptr[r + 1]
        j = lo + int(np.searchsorted(graph.indices[lo:hi], c))
        if j < hi and graph.indices[j] == c:
            graph.data[j] = min(graph.data[j], w)


def _cheapest_paths(graph: sparse.csr_matrix, starts: np.ndarray, goals: np.ndarray, scale: np.ndarray):
    """Node paths start → goal for each pair (skipping pairs with none), searching ever wider."""
    todo = np.arange(len(starts))
    for factor in (4, 64, np.inf):
        if not len(todo):
            return
        limit = float(np.max(factor * scale[todo] + 10 * factor))
        dist, pred = csgraph.dijkstra(graph, directed=True, indices=starts[todo], return_predecessors=True,
                                      limit=limit)
        found = np.isfinite(dist[np.arange(len(todo)), goals[todo]])
        for i in np.flatnonzero(found).tolist():
            path = [int(goals[todo[i]])]
            while path[-1] != starts[todo[i]]:
                path.append(int(pred[i, path[-1]]))
            yield path[::-1]
        todo = todo[~found]


def _bridges(tail: np.ndarray, head: np.ndarray, n_nodes: int) -> np.ndarray:
    """Mask over the edges (tail[i], head[i]) of an undirected simple graph: which are bridges.

    A BFS spanning forest, then every non-tree edge marks the tree path between its ends as
    on a cycle (both ends climb towards their common ancestor, all edges at once, vectorised);
    tree edges left unmarked are bridges.
    """
    m = len(tail)
    if m == 0:
        return np.zeros(0, bool)
    parent, depth = _bfs_forest(tail, head, n_nodes)
    # tree edge of node x: (parent[x], x); an edge is a tree edge when it joins a node to its parent
    child = np.where(parent[head] == tail, head, np.where(parent[tail] == head, tail, -1))
    # with parallel paths of equal BFS parent both ends could claim the same child: keep one edge per child
    first = np.full(n_nodes, -1, np.int64)
    is_tree = child >= 0
    first[child[is_tree][::-1]] = np.flatnonzero(is_tree)[::-1]
    is_tree &= first[np.maximum(child, 0)] == np.arange(m)
    on_cycle = np.zeros(n_nodes, bool)  # by child node
    a, b = tail[~is_tree].copy(), head[~is_tree].copy()
    active = a != b
    while active.any():
        a, b = a[active], b[active]
        up_a, up_b = depth[a] >= depth[b], depth[b] >= depth[a]
        on_cycle[a[up_a]] = True
        on_cycle[b[up_b]] = True
        a = np.where(up_a, parent[a], a)
        b = np.where(up_b, parent[b], b)
        active = a != b
    return is_tree & ~on_cycle[np.maximum(child, 0)]


def _bfs_forest(tail: np.ndarray, head: np.ndarray, n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """BFS parent (-1 at roots) and depth of every node of an undirected graph, all components."""
    graph = sparse.csr_matrix((np.ones(2 * len(tail), np.int8), (np.r_[tail, head], np.r_[head, tail])),
                              shape=(n_nodes, n_nodes))
    n_comp, comp = csgraph.connected_components(graph, directed=False)
    roots = np.unique(comp, return_index=True)[1]
    # one BFS from a virtual node joined to every component's root
    virtual = n_nodes
    g = sparse.csr_matrix((np.ones(2 * len(tail) + len(roots), np.int8),
                           (np.r_[tail, head, np.full(len(roots), virtual)], np.r_[head, tail, roots])),
                          shape=(n_nodes + 1, n_nodes + 1))
    _, pred = csgraph.breadth_first_order(g, virtual, directed=True, return_predecessors=True)
    parent = pred[:n_nodes].astype(np.int64)
    parent[parent == virtual] = -1
    return parent, _depths(parent)


def _depths(parent: np.ndarray) -> np.ndarray:
    """Distance of every node from its root (-1 parent), by pointer jumping (log depth numpy steps)."""
    depth = (parent >= 0).astype(np.int64)
    up = parent.copy()
    while (up >= 0).any():
        has = up >= 0
        depth = depth + np.where(has, depth[np.maximum(up, 0)], 0)
        up = np.where(has, up[np.maximum(up, 0)], -1)
    return depth
