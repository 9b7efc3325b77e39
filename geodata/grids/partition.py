"""Topology-safe edits of a community's grid set (pure geometry, local metres).

A grid set is a ``dict`` code → polygonal geometry in the community's local frame
(:class:`geodata.grids.local.Frame`). Every edit keeps the set a partition where it was one:
area a grid gains is taken from its neighbours, area it gives up goes to the neighbour that
shares the longest edge with it, so a moved shared edge moves both grids together and leaves
neither a gap nor an overlap. New vertices within the snap tolerance (metres) of a
neighbour's vertex snap onto it, so no sliver is born from an imprecise click.

Codes: a new grid takes the next free sequence number (:func:`next_code`); a merge keeps one
code and the other is retired; a split keeps the code on the largest piece.
"""

from __future__ import annotations

import re

import numpy as np
import shapely
from shapely import ops

from geodata.errors import InvalidGeometry, InvalidInput, NotFound
from geodata.grids.local import as_multi, polygons

_SEQ = re.compile(r"^(\d+)$")


def next_code(community_code: str, used: set[str] | list[str]) -> str:
    """Next free grid code: the community code plus a 3-digit sequence past every one used.

    ``used`` holds every code the community ever had (current, retired, in the draft), so a
    retired code is never handed out again.
    """
    top = 0
    for code in used:
        if code.startswith(community_code):
            m = _SEQ.match(code[len(community_code):])
            if m:
                top = max(top, int(m.group(1)))
    code = f"{community_code}{top + 1:03d}"
    if len(code) > 32:
        raise InvalidInput(f"grid code {code} would be longer than 32 characters")
    return code


def _get(grids: dict, code: str):
    if code not in grids:
        raise NotFound(f"grid {code} is not in this community's grid set")
    return grids[code]


def shared_length(a, b, snap_m: float) -> float:
    """Length (m) of ``a``'s boundary lying within ``snap_m`` of ``b``."""
    if a.is_empty or b.is_empty or a.distance(b) > snap_m:
        return 0.0
    return a.boundary.intersection(b.buffer(snap_m)).length


def _snap(geom, others: list, community, snap_m: float):
    reference = shapely.union_all([g.boundary for g in others if not g.is_empty] + [community.boundary])
    snapped = shapely.snap(geom, reference, snap_m)
    return snapped if snapped.is_valid else geom


def _absorb(grids: dict, freed, exclude: set[str], snap_m: float) -> dict:
    """Give each piece of ``freed`` to the grid sharing its longest edge (not one in ``exclude``)."""
    for piece in polygons(freed):
        best, best_len = None, 0.0
        for code, geom in grids.items():
            if code in exclude:
                continue
            length = shared_length(piece, geom, snap_m)
            if length > best_len:
                best, best_len = code, length
        if best is not None:
            grids[best] = as_multi(shapely.union(grids[best], piece))
    return grids


def replace_grid(grids: dict, code: str, new, community, snap_m: float) -> dict:
    """Grid ``code`` gets geometry ``new``; its neighbours give and take area so the set stays tiled.

    An invalid ``new`` is kept as drawn (neighbours untouched) so validation can show its reason.
    """
    old = _get(grids, code)
    out = dict(grids)
    if not new.is_valid or new.is_empty:
        out[code] = new
        return out
    others = [g for c, g in grids.items() if c != code]
    new = _snap(new, others, community, snap_m)
    for c, g in grids.items():
        if c != code and g.is_valid and g.intersects(new):
            out[c] = as_multi(g.difference(new))
    out[code] = as_multi(new)
    covered = shapely.union_all([g for g in out.values() if g.is_valid])
    freed = old.difference(covered) if old.is_valid else None
    if freed is not None and not freed.is_empty:
        out = _absorb(out, freed, {code}, snap_m)
    return out


def add_grid(grids: dict, new, code: str, community, snap_m: float) -> dict:
    """A new grid ``code`` drawn as ``new``; it takes its area from the grids it covers."""
    if code in grids:
        raise InvalidInput(f"grid {code} already exists")
    if not new.is_valid:
        raise InvalidGeometry(f"the drawn grid is invalid: {shapely.is_valid_reason(new)}")
    out = dict(grids)
    out[code] = shapely.MultiPolygon()
    return replace_grid(out, code, new, community, snap_m)


def split_grid(grids: dict, line, new_code) -> tuple[dict, list[str]]:
    """Split every grid ``line`` crosses from edge to edge; the largest piece keeps the code.

    ``new_code(taken)`` returns the next free code. Returns the new set and the new codes.
    """
    out, created = dict(grids), []
    for code, geom in grids.items():
        if not geom.is_valid or not geom.intersects(line):
            continue
        pieces = [p for part in polygons(geom) for p in polygons(ops.split(part, line))]
        if len(pieces) < 2:
            continue
        pieces.sort(key=lambda p: -p.area)
        out[code] = shapely.MultiPolygon([pieces[0]])
        for piece in pieces[1:]:
            c = new_code(set(out) | set(created))
            out[c] = shapely.MultiPolygon([piece])
            created.append(c)
    if not created:
        raise InvalidInput("the line must cross a grid from edge to edge to split it")
    return out, created


def merge_grids(grids: dict, keep: str, other: str, snap_m: float) -> dict:
    """Merge ``other`` into ``keep`` (neighbours only); ``other``'s code is retired."""
    a, b = _get(grids, keep), _get(grids, other)
    if keep == other:
        raise InvalidInput("choose two different grids to merge")
    if shared_length(a, b, snap_m) <= 0:
        raise InvalidInput(f"grids {keep} and {other} are not neighbours; only neighbours can merge")
    out = {c: g for c, g in grids.items() if c != other}
    out[keep] = as_multi(shapely.union(a, b))
    return out


def delete_grid(grids: dict, code: str, snap_m: float, into: str | None = None) -> tuple[dict, str]:
    """Delete ``code``: its area goes to ``into`` or, by default, the neighbour sharing most edge."""
    geom = _get(grids, code)
    if into is None:
        lengths = {c: shared_length(geom, g, snap_m) for c, g in grids.items() if c != code}
        into = max(lengths, key=lengths.get) if lengths and max(lengths.values()) > 0 else None
        if into is None:
            raise InvalidInput(f"grid {code} has no neighbour to take its area")
    return merge_grids(grids, into, code, snap_m), into


def clip_grids(grids: dict, community) -> dict:
    """Every grid cut to the community (the fix offered for grids reaching outside it)."""
    return {c: (as_multi(g.intersection(community)) if g.is_valid else g) for c, g in grids.items()}


def assign_points(grids: dict, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Index into ``sorted(grids)`` of the grid covering each point, -1 when none.

    Points on a shared edge go to the lowest code, like the database's re-derivation
    (``ST_Covers … ORDER BY code LIMIT 1``). One STRtree query for all points.
    """
    codes = sorted(grids)
    out = np.full(len(x), -1, dtype=np.int64)
    keep = [i for i, c in enumerate(codes) if not grids[c].is_empty and grids[c].is_valid]
    if not keep or not len(x):
        return out
    tree = shapely.STRtree([grids[codes[i]] for i in keep])
    pts, idx = tree.query(shapely.points(np.asarray(x, float), np.asarray(y, float)), predicate="intersects")
    grid_index = np.asarray(keep, dtype=np.int64)[idx]
    # Lowest code first, then the first hit per point wins.
    order = np.lexsort((grid_index, pts))
    pts, grid_index = pts[order], grid_index[order]
    first = np.ones(len(pts), dtype=bool)
    first[1:] = pts[1:] != pts[:-1]
    out[pts[first]] = grid_index[first]
    return out
