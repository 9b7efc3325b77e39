"""Suggested balanced grids: a community cut into contiguous grids within the household range.

Own approach (no spopt): recursive weighted bisection. A region meant to hold ``k`` grids is
cut in two, ``k1 = k // 2`` and ``k - k1`` grids, across its longer side where the households
of its addresses reach the share ``k1 / k``. Where roads exist, a road crossing the region
is used as the cut instead whenever both sides stay within their household range, so grid
edges follow real boundaries. Pieces a cut leaves detached are handed to the neighbour they
share most edge with, then every grid is checked against the upper bound (spopt's
regionalisers lack that post-check): a grid above it is reported, never silently kept.
All geometry in local metres (:class:`geodata.grids.local.Frame`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import ops

from geodata.errors import InvalidInput
from geodata.grids.local import as_multi, polygons
from geodata.grids.partition import assign_points, shared_length

#: Half-length of the straight cut lines (m): longer than any community.
_REACH = 1e6


@dataclass(frozen=True)
class Suggestion:
    """Suggested grids (local metres, in cutting order) and their households."""

    grids: list
    households: list[int]
    over: list[int]       # indexes of grids still above the upper bound (one address too big)


def grid_count(total: int, lo: int, hi: int) -> int:
    """How many grids ``total`` households need: close to the range's middle, never above ``hi`` each."""
    if total <= 0:
        return 1
    k = max(1, round(total / ((lo + hi) / 2)))
    k = max(k, math.ceil(total / hi))
    if lo > 0 and total / k < lo and k > 1:
        k = max(1, min(k, total // lo), math.ceil(total / hi))
    return k


def _axis(region) -> np.ndarray:
    """Unit vector along the longer side of the region's minimum rotated rectangle."""
    ring = np.asarray(shapely.minimum_rotated_rectangle(region).exterior.coords)[:3]
    sides = [ring[1] - ring[0], ring[2] - ring[1]]
    v = max(sides, key=lambda s: float(np.hypot(*s)))
    n = float(np.hypot(*v))
    return v / n if n > 0 else np.array([1.0, 0.0])


def _halves(region, line) -> tuple | None:
    pieces = polygons(ops.split(region, line))
    if len(pieces) < 2:
        return None
    centre = np.asarray(line.interpolate(0.5, normalized=True).coords[0])
    direction = np.asarray(line.coords[-1]) - np.asarray(line.coords[0])
    normal = np.array([-direction[1], direction[0]])
    side = [float(np.dot(np.asarray(p.representative_point().coords[0]) - centre, normal)) for p in pieces]
    a = [p for p, s in zip(pieces, side, strict=True) if s < 0]
    b = [p for p, s in zip(pieces, side, strict=True) if s >= 0]
    if not a or not b:
        return None
    return shapely.union_all(a), shapely.union_all(b)


def _straight_cut(region, x, y, w, share: float):
    axis = _axis(region)
    proj = x * axis[0] + y * axis[1]
    if w.sum() > 0:
        order = np.argsort(proj)
        cum = np.cumsum(w[order]) / w.sum()
        pos = float(proj[order][min(np.searchsorted(cum, share), len(order) - 1)])
    else:  # no households: cut the area
        lo, hi = float(proj.min()) if len(proj) else 0.0, float(proj.max()) if len(proj) else 0.0
        pos = lo + share * (hi - lo)
    c = np.asarray(region.centroid.coords[0])
    origin = c + axis * (pos - float(np.dot(c, axis)))
    normal = np.array([-axis[1], axis[0]])
    return shapely.LineString([origin - normal * _REACH, origin + normal * _REACH]), axis


def _weights(part, x, y, w) -> float:
    shapely.prepare(part)
    return float(w[shapely.intersects_xy(part, x, y)].sum())


def _road_cut(region, roads, x, y, w, k1: int, k2: int, lo: int, hi: int, target: float):
    """Best road crossing ``region`` that leaves both sides within range (or None)."""
    best, best_err = None, None
    for road in roads:
        if not road.intersects(region):
            continue
        halves = _halves(region, road)
        if halves is None:
            continue
        a, b = halves
        wa, wb = _weights(a, x, y, w), _weights(b, x, y, w)
        for (p, wp), (q, wq) in (((a, wa), (b, wb)), ((b, wb), (a, wa))):
            if k1 * lo <= wp <= k1 * hi and k2 * lo <= wq <= k2 * hi:
                err = abs(wp / k1 - target) + abs(wq / k2 - target)
                if best_err is None or err < best_err:
                    best, best_err = (p, q), err
    return best


def _bisect(region, k: int, x, y, w, roads, lo: int, hi: int, done: Callable[[int], None]) -> list:
    if k <= 1 or region.is_empty:
        done(1)
        return [region]
    k1 = k // 2
    inside = shapely.intersects_xy(region, x, y)
    xs, ys, ws = x[inside], y[inside], w[inside]
    target = float(ws.sum()) / k if ws.sum() else (lo + hi) / 2
    halves = _road_cut(region, roads, xs, ys, ws, k1, k - k1, lo, hi, target) if roads else None
    if halves is None:
        line, axis = _straight_cut(region, xs, ys, ws, k1 / k)
        halves = _halves(region, line)
        if halves is not None:  # the lower side along the axis holds the k1 share
            halves = tuple(sorted(halves, key=lambda h: float(np.dot(h.representative_point().coords[0], axis))))
    if halves is None:
        done(k)
        return [region]
    return (_bisect(halves[0], k1, xs, ys, ws, roads, lo, hi, done)
            + _bisect(halves[1], k - k1, xs, ys, ws, roads, lo, hi, done))


def _join_detached(grids: list, snap_m: float) -> list:
    """Every grid one piece: detached smaller pieces go to the neighbour sharing most edge."""
    grids = [as_multi(g) for g in grids]
    for i, g in enumerate(list(grids)):
        parts = sorted(polygons(g), key=lambda p: -p.area)
        if len(parts) < 2:
            continue
        grids[i] = shapely.MultiPolygon(parts[:1])
        for piece in parts[1:]:
            lengths = [shared_length(piece, o, snap_m) if j != i else 0.0 for j, o in enumerate(grids)]
            j = int(np.argmax(lengths))
            if lengths[j] > 0:
                grids[j] = as_multi(shapely.union(grids[j], piece))
            else:
                grids[i] = as_multi(shapely.union(grids[i], piece))
    return grids


def suggest_grids(community, x: np.ndarray, y: np.ndarray, households: np.ndarray, *, lo: int, hi: int,
                  roads: list | None = None, snap_m: float = 1.0,
                  progress: Callable[[float], None] | None = None) -> Suggestion:
    """Partition ``community`` (local metres) into contiguous grids of ``lo``–``hi`` households.

    Parameters
    ----------
    community : shapely Polygon/MultiPolygon, local metres
    x, y, households : arrays
        Address points (local metres) and households at each.
    lo, hi : int
        Household range per grid.
    roads : list of LineString, local metres, optional
        Road centre lines; cuts follow them where the balance allows.
    progress : callable, optional
        Called with the fraction done (0..1) as grids are finished.
    """
    if community.is_empty or not community.is_valid:
        raise InvalidInput("the community polygon is empty or invalid; it cannot be divided")
    w = np.asarray(households, dtype=float)
    k = grid_count(int(w.sum()), lo, hi)
    finished = [0]

    def done(n: int) -> None:
        finished[0] += n
        if progress:
            progress(min(finished[0] / k, 1.0))

    grids = _join_detached(_bisect(community, k, np.asarray(x, float), np.asarray(y, float), w,
                                   roads or [], lo, hi, done), snap_m)
    grids = [g for g in grids if not g.is_empty]
    idx = assign_points(dict(enumerate(grids)), np.asarray(x, float), np.asarray(y, float))
    # assign_points orders by key; integer keys sort numerically, so idx indexes ``grids``.
    hh = np.bincount(idx[idx >= 0], weights=w[idx >= 0], minlength=len(grids)).astype(int).tolist()
    return Suggestion(grids, hh, [i for i, h in enumerate(hh) if h > hi])
