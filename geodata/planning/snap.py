"""Joining points to the walking graph: nearest edge, position along it, access distance.

Done in numpy/shapely against one fetch of the edges (thousands of lines), which is much
faster than a nearest-neighbour query per point for the 10⁵ addresses of a district.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
import shapely
from pyproj import Transformer

from geodata.planning import queries as q


@dataclass
class EdgeIndex:
    """The walking graph's edges in its metric CRS (UTM, metres), with a spatial index."""

    srid: int
    ids: np.ndarray
    lines: np.ndarray
    source: np.ndarray
    target: np.ndarray
    length_m: np.ndarray
    tree: shapely.STRtree
    to_metric: Transformer

    def position(self, edge_ids: np.ndarray) -> np.ndarray:
        """Row of each edge id in the arrays above."""
        return np.searchsorted(self.ids, edge_ids)

    def project(self, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lon, lat) degrees → (x, y) metres in the graph's CRS."""
        return self.to_metric.transform(np.asarray(lons, float), np.asarray(lats, float))


def fetch_edge_index(conn: psycopg.Connection, srid: int) -> EdgeIndex:
    """All edges of the walking graph (which must exist) as metric lines."""
    rows = conn.execute(q.FETCH_EDGES_M).fetchall()
    ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    lines = shapely.from_wkb([r[1] for r in rows])
    source = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows))
    target = np.fromiter((r[3] for r in rows), dtype=np.int64, count=len(rows))
    length = np.fromiter((r[4] for r in rows), dtype=float, count=len(rows))
    return EdgeIndex(srid, ids, lines, source, target, length, shapely.STRtree(lines),
                     Transformer.from_crs(4326, srid, always_xy=True))


def snap(index: EdgeIndex, lons, lats) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge of each point.

    Parameters
    ----------
    index : EdgeIndex
    lons, lats : array-like of float
        Points in EPSG:4326 degrees.

    Returns
    -------
    edge_id : int64 array
    fraction : float array
        Position of the nearest point along the edge, 0 at its source, 1 at its target.
    access_m : float array
        Straight distance from the point to the edge, metres.
    """
    x, y = index.project(lons, lats)
    points = shapely.points(x, y)
    if len(points) == 0:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    where, dist = index.tree.query_nearest(points, return_distance=True, all_matches=False)
    edge_pos = np.empty(len(points), dtype=np.int64)
    edge_pos[where[0]] = where[1]
    access = np.empty(len(points))
    access[where[0]] = dist
    lines = index.lines[edge_pos]
    fraction = shapely.line_locate_point(lines, points, normalized=True)
    fraction = np.nan_to_num(np.clip(fraction, 0.0, 1.0))
    return index.ids[edge_pos], fraction, access
