"""Geometry helpers for the demo: a population-density field, weighted sampling, and tiling a
polygon into contiguous parts with no gaps and no overlaps.

All coordinates here are local metres (see :class:`geodata.demo.district.LocalFrame`), x east, y north.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class DensityField:
    """A synthetic population density: a floor plus a sum of Gaussian centres (urban cores, estates).

    Units are relative (only ratios matter); ``centres`` is an (n, 2) array of x, y in metres,
    ``sigmas`` their spreads in metres, ``weights`` their peak heights.
    """

    centres: np.ndarray
    sigmas: np.ndarray
    weights: np.ndarray
    floor: float = 0.03

    def __call__(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)[..., None]
        y = np.asarray(y, dtype=float)[..., None]
        d2 = (x - self.centres[:, 0]) ** 2 + (y - self.centres[:, 1]) ** 2
        return self.floor + (self.weights * np.exp(-d2 / (2 * self.sigmas**2))).sum(axis=-1)


def sample_in(
    poly: BaseGeometry, n: int, rng: np.random.Generator, density: DensityField | None = None
) -> np.ndarray:
    """``n`` random points inside ``poly``, denser where ``density`` is higher.

    Rejection sampling in the bounding box, vectorised in batches. Returns an (n, 2) array
    of x, y (metres). Falls back to uniform sampling if the field is nearly flat-zero here.
    """
    if n <= 0:
        return np.empty((0, 2))
    shapely.prepare(poly)
    minx, miny, maxx, maxy = poly.bounds
    fill = max(shapely.area(poly) / max((maxx - minx) * (maxy - miny), 1e-9), 0.02)
    out: list[np.ndarray] = []
    have = 0
    for _ in range(200):
        batch = int(min(max(4 * (n - have) / fill, 64), 400_000))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        keep = shapely.contains_xy(poly, x, y)
        x, y = x[keep], y[keep]
        if density is not None and len(x):
            d = density(x, y)
            ok = rng.random(len(x)) * d.max() <= d
            x, y = x[ok], y[ok]
        out.append(np.column_stack([x, y]))
        have += len(x)
        if have >= n:
            break
    pts = np.concatenate(out)[:n]
    if len(pts) < n:  # only for slivers far below sampling resolution: use interior points
        rp = shapely.get_coordinates(shapely.point_on_surface(poly))
        pts = np.concatenate([pts, np.repeat(rp, n - len(pts), axis=0)])
    return pts


def kmeans_seeds(points: np.ndarray, k: int, rng: np.random.Generator, iters: int = 15) -> np.ndarray:
    """``k`` seeds that split ``points`` into clusters of similar mass (k-means, k-means++ start).

    Each centre is snapped to the nearest sample of its own cluster, so seeds lie where the
    samples are (inside the parent polygon, even a concave one) and are distinct.
    """
    n = len(points)
    if k >= n:
        return points[:k].copy()
    first = int(rng.integers(n))
    centres = [points[first]]
    d2 = ((points - points[first]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        i = int(rng.choice(n, p=d2 / total)) if total > 0 else int(rng.integers(n))
        centres.append(points[i])
        d2 = np.minimum(d2, ((points - points[i]) ** 2).sum(axis=1))
    c = np.array(centres, dtype=float)
    for _ in range(iters):
        labels = _nearest(points, c)
        counts = np.bincount(labels, minlength=k)
        sx = np.bincount(labels, weights=points[:, 0], minlength=k)
        sy = np.bincount(labels, weights=points[:, 1], minlength=k)
        filled = counts > 0
        c[filled] = np.column_stack([sx[filled] / counts[filled], sy[filled] / counts[filled]])
    labels = _nearest(points, c)
    seeds = np.empty_like(c)
    for j in range(k):
        members = np.flatnonzero(labels == j)
        if len(members) == 0:
            members = np.arange(n)
        d = ((points[members] - c[j]) ** 2).sum(axis=1)
        seeds[j] = points[members[int(np.argmin(d))]]
    return _distinct(seeds, rng)


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    return np.argmin(d, axis=1)


def _distinct(seeds: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Nudge repeated seeds apart by a few centimetres (Voronoi needs distinct sites)."""
    _, first = np.unique(seeds, axis=0, return_index=True)
    dup = np.setdiff1d(np.arange(len(seeds)), first)
    if len(dup):
        seeds = seeds.copy()
        seeds[dup] += rng.uniform(-0.05, 0.05, (len(dup), 2))
    return seeds


def partition(parent: BaseGeometry, seeds: np.ndarray) -> list[BaseGeometry]:
    """Tile ``parent`` into one piece per seed: Voronoi cells clipped to the parent.

    The pieces cover the parent with no gaps and no overlaps. Where a clipped cell falls
    apart (a concave parent), every stray part joins the neighbouring piece with which it
    shares the longest border, so each piece is one contiguous polygon unless the parent
    itself has separate parts (islands).
    """
    k = len(seeds)
    if k <= 1:
        return [parent]
    vor = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=parent, ordered=True)
    cells = shapely.intersection(np.asarray(vor.geoms, dtype=object), parent)
    cells = shapely.make_valid(cells)
    cells = np.array([_polygonal(c) for c in cells], dtype=object)
    seed_pts = shapely.points(seeds)
    for _ in range(3):
        if not any(isinstance(c, MultiPolygon) for c in cells):
            break
        cells = _merge_strays(cells, seed_pts)
    return list(cells)


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygon parts of an overlay result (drops stray lines/points)."""
    if isinstance(geom, Polygon | MultiPolygon):
        return geom
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon)]
    return MultiPolygon(parts) if len(parts) > 1 else (parts[0] if parts else Polygon())


def _merge_strays(cells: np.ndarray, seed_pts: np.ndarray) -> np.ndarray:
    parts, owner = shapely.get_parts(cells, return_index=True)
    area = shapely.area(parts)
    keep = np.zeros(len(parts), dtype=bool)
    for i in range(len(cells)):
        mine = np.flatnonzero(owner == i)
        if len(mine) == 0:
            continue
        has_seed = shapely.intersects(parts[mine], seed_pts[i])
        keep[mine[int(np.argmax(has_seed))] if has_seed.any() else mine[int(np.argmax(area[mine]))]] = True
    mains = parts[keep]
    main_owner = owner[keep]
    groups: dict[int, list] = {int(i): [m] for i, m in zip(main_owner, mains, strict=True)}
    tree = shapely.STRtree(mains)
    for s in np.flatnonzero(~keep):
        stray = parts[s]
        near = tree.query(stray, predicate="dwithin", distance=1e-3)
        if len(near):
            shared = shapely.length(shapely.intersection(stray.boundary, shapely.buffer(mains[near], 1e-3)))
            target = int(main_owner[near[int(np.argmax(shared))]]) if shared.max() > 0 else int(owner[s])
        else:
            target = int(owner[s])
        groups.setdefault(target, []).append(stray)
    out = cells.copy()
    for i, members in groups.items():
        merged = shapely.union_all(members) if len(members) > 1 else members[0]
        out[i] = _polygonal(merged)
    return out
