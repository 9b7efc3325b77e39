"""A road network that follows the demo's boundaries, as real grid boundaries follow roads.

Street/town boundaries become trunk and primary roads, community boundaries secondary roads,
and the grid boundaries inside a community local roads. The district's outer boundary (often
a river or the neighbour's road) is left out. Lines are noded: every junction is an end point
of the lines meeting there. Coordinates are local metres.
"""

from __future__ import annotations

import numpy as np
import shapely

from geodata.demo.names import RoadNamer
from geodata.demo.synth_admin import AdminPlan

SNAP_M = 0.01  # boundaries of neighbouring areas agree to far better than 1 cm
NEAR_M = 1.0  # a chain lies on an area's boundary when its midpoint is this close to the area
TRUNK_MIN_M = 4_000.0  # a street/town boundary road at least this long is a trunk road


def build_roads(plan: AdminPlan, rng: np.random.Generator) -> list[dict]:
    """Road centre lines: dicts with ``name``, ``kind`` and ``geom`` (LineString, metres).

    The chains between junctions that separate the same two streets (or communities, or
    grids) form one named road, so a road keeps its name across the junctions along it.
    """
    grid_geoms = np.asarray([g["geom"] for g in plan.grids], dtype=object)
    network = shapely.union_all(shapely.boundary(grid_geoms), grid_size=SNAP_M)
    chains = shapely.get_parts(shapely.line_merge(network))
    chains = chains[shapely.length(chains) > 1.0]
    mid = shapely.line_interpolate_point(chains, 0.5, normalized=True)

    keys, kinds = [], []
    street_pair = _sides(mid, [s["geom"] for s in plan.streets])
    community_pair = _sides(mid, [c["geom"] for c in plan.communities])
    grid_pair = _sides(mid, list(grid_geoms))
    for i in range(len(chains)):
        if street_pair[i] is not None:
            keys.append(("street", *street_pair[i]))
            kinds.append("primary")
        elif community_pair[i] is not None:
            keys.append(("community", *community_pair[i]))
            kinds.append("secondary")
        elif grid_pair[i] is not None:
            keys.append(("grid", *grid_pair[i]))
            kinds.append("local")
        else:  # on the district's outer boundary: a river or the neighbour's road, not ours
            keys.append(None)
            kinds.append(None)
    length = shapely.length(chains)
    total: dict[tuple, float] = {}
    for key, n in zip(keys, length.tolist(), strict=True):
        if key is not None:
            total[key] = total.get(key, 0.0) + n
    namer = RoadNamer(rng)
    rank = {"street": 0, "community": 1, "grid": 2}
    named: dict[tuple, tuple[str, str]] = {}
    # Name the big roads first so they get the plain, memorable names.
    for key in sorted(total, key=lambda k: (rank[k[0]], -total[k], k)):
        kind = {"street": "trunk" if total[key] >= TRUNK_MIN_M else "primary",
                "community": "secondary", "grid": "local"}[key[0]]
        named[key] = (namer.take(kind), kind)
    return [{"name": named[k][0], "kind": named[k][1], "geom": chains[i]}
            for i, k in enumerate(keys) if k is not None]


def _sides(points: np.ndarray, areas: list) -> list[tuple[int, int] | None]:
    """For each point, the two areas it separates (indices, ascending), or None."""
    tree = shapely.STRtree(np.asarray(areas, dtype=object))
    pt_idx, area_idx = tree.query(points, predicate="dwithin", distance=NEAR_M)
    found: list[list[int]] = [[] for _ in range(len(points))]
    for p, a in zip(pt_idx.tolist(), area_idx.tolist(), strict=True):
        found[p].append(a)
    return [tuple(sorted(f)[:2]) if len(f) >= 2 else None for f in found]
