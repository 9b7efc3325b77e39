"""Walking distances from sites (facilities, candidate sites) to demand points.

Along the walking network with pgRouting (``pgr_drivingDistance`` from every site at once)
when a network is loaded; otherwise the straight-line distance times a detour factor (default
1.3), measured in the district's UTM zone. :attr:`Distances.mode` says which, and the planner
page shows it.

Points are WGS-84 (EPSG:4326) lon/lat degrees; distances are metres. A point joins the network
at the nearest point of its nearest edge; the straight access walk to it is part of the distance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg
from pyproj import Transformer
from scipy.spatial import cKDTree

from geodata.errors import InvalidInput
from geodata.planning import queries as q
from geodata.planning.network import ensure_network, utm_srid
from geodata.planning.snap import fetch_edge_index, snap

#: Default straight-line → walking detour factor when no network is loaded.
DETOUR = 1.3
#: "No limit" for nearest-site searches, metres (larger than any district).
UNLIMITED_M = 1.0e7


@dataclass(frozen=True)
class Points:
    """Points in EPSG:4326: lon, lat (degrees); ``address_ids`` when they are addresses."""

    lon: np.ndarray
    lat: np.ndarray
    address_ids: np.ndarray | None = None
    #: (edge id, fraction, access metres) when already known (addresses read with walk_access)
    access: tuple | None = None

    def __len__(self) -> int:
        return len(self.lon)

    @classmethod
    def of(cls, lon, lat, address_ids=None) -> Points:
        lon, lat = np.asarray(lon, float), np.asarray(lat, float)
        if lon.shape != lat.shape or lon.ndim != 1:
            raise InvalidInput("points need as many longitudes as latitudes")
        if not (np.isfinite(lon).all() and np.isfinite(lat).all()):
            raise InvalidInput("point coordinates must be finite numbers")
        ids = None if address_ids is None else np.asarray(address_ids, np.int64)
        return cls(lon, lat, ids)


class Distances:
    """Distance engine on one connection: ``mode`` is ``"network"`` or ``"straight"``.

    Parameters
    ----------
    conn : psycopg.Connection
    detour : float
        Straight-line multiplier when there is no walking network (1 ≤ detour ≤ 3).
    use_network : bool
        False forces straight lines even when a network is loaded.
    """

    def __init__(self, conn: psycopg.Connection, *, detour: float = DETOUR, use_network: bool = True):
        if not (1.0 <= float(detour) <= 3.0):
            raise InvalidInput(f"detour factor must be between 1 and 3, got {detour}")
        self.conn = conn
        self.detour = float(detour)
        status = ensure_network(conn) if use_network else None
        self.mode = "network" if status is not None and status.ready else "straight"
        self._index = fetch_edge_index(conn, status.srid) if self.mode == "network" else None

    # -- public ------------------------------------------------------------------------
    def nearest(self, sites: Points, demand: Points, limit_m: float = UNLIMITED_M) -> tuple[np.ndarray, np.ndarray]:
        """Distance from each demand point to its nearest site, and that site's index.

        Returns
        -------
        dist : float array (len(demand)), ``inf`` where no site is within ``limit_m``
        site : int array, -1 where no site is within ``limit_m``
        """
        if len(sites) == 0 or len(demand) == 0:
            return np.full(len(demand), np.inf), np.full(len(demand), -1, dtype=np.int64)
        if self.mode == "network":
            return self._network_nearest(sites, demand, limit_m)
        i, j, d = self._straight(sites, demand, limit_m, nearest=True)
        dist = np.full(len(demand), np.inf)
        site = np.full(len(demand), -1, dtype=np.int64)
        dist[j], site[j] = d, i
        return dist, site

    def pairs(self, sites: Points, demand: Points, limit_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every (site i, demand j, distance) with distance ≤ ``limit_m`` metres."""
        if len(sites) == 0 or len(demand) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        if self.mode == "network":
            return self._network(sites, demand, limit_m, equicost=False)
        return self._straight(sites, demand, limit_m, nearest=False)


    # -- network -----------------------------------------------------------------------
    def _load(self, table_copy: str, points: Points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        edge, fraction, access = snap(self._index, points.lon, points.lat)
        with self.conn.cursor().copy(table_copy) as copy:
            for row in zip(range(len(points)), edge.tolist(), fraction.tolist(), access.tolist(), strict=True):
                copy.write_row(row)
        return edge, fraction, access

    def _demand_access(self, demand: Points) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(edge, fraction, access) of demand points; addresses were joined when the graph was built."""
        if demand.access is not None:
            return demand.access
        if demand.address_ids is None:
            return snap(self._index, demand.lon, demand.lat)
        rows = self.conn.execute(q.ACCESS_OF_ADDRESSES, {"ids": demand.address_ids.tolist()}).fetchall()
        if len(rows) != len(demand):
            raise InvalidInput(f"{len(demand) - len(rows)} demand address(es) are not joined to the walking network")
        arr = np.asarray(rows, dtype=float).reshape(-1, 3)
        return arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2]

    def _network_nearest(self, sites: Points, demand: Points, limit_m: float):
        conn, idx = self.conn, self._index
        conn.execute(q.CREATE_POINT_TABLES)
        s_edge, s_frac, s_access = self._load(q.COPY_SRC, sites)
        base = int(conn.execute(q.VERTEX_BASE).fetchone()[0])
        rows = conn.execute(q.NEAREST_NODES, {"edges": q.EDGES_SQL.format(vertex=str(base)), "start": base,
                                             "limit": float(limit_m)}).fetchall()
        node_dist, node_site = self._trace_sites(rows, base)
        edge, fraction, access = self._demand_access(demand)
        pos = idx.position(edge)
        length = idx.length_m[pos]
        via_u = node_dist[idx.source[pos]] + fraction * length + access
        via_v = node_dist[idx.target[pos]] + (1 - fraction) * length + access
        dist = np.minimum(via_u, via_v)
        site = np.where(via_u <= via_v, node_site[idx.source[pos]], node_site[idx.target[pos]])
        # A site on the demand point's own edge may be closer straight along the edge.
        for i in np.nonzero(np.isin(s_edge, edge))[0]:
            on = edge == s_edge[i]
            direct = s_access[i] + access[on] + np.abs(s_frac[i] - fraction[on]) * length[on]
            better = direct < dist[on]
            dist[np.nonzero(on)[0][better]] = direct[better]
            site[np.nonzero(on)[0][better]] = i
        far = ~(dist <= limit_m)
        dist[far], site[far] = np.inf, -1
        return dist, site

    def _trace_sites(self, rows, base: int) -> tuple[np.ndarray, np.ndarray]:
        """Per vertex: distance to the nearest site and which site (following the edges
        each vertex was reached by back to a site's link)."""
        idx = self._index
        size = base + 1
        node_dist = np.full(size, np.inf)
        node_site = np.full(size, -1, dtype=np.int64)
        pred_edge = {}
        for node, edge, cost in sorted(rows, key=lambda r: r[2]):
            node_dist[node] = cost
            pred_edge[node] = edge
        for node in sorted(pred_edge, key=lambda n: node_dist[n]):
            edge = pred_edge[node]
            if edge < 0:
                node_site[node] = (-edge - 1) // 2
            elif edge > 0:
                p = idx.position(np.asarray([edge]))[0]
                prev = idx.target[p] if idx.source[p] == node else idx.source[p]
                node_site[node] = node_site[prev]
        node_dist[base], node_site[base] = np.inf, -1
        return node_dist, node_site

    def _network(self, sites: Points, demand: Points, limit_m: float, *, equicost: bool):
        conn = self.conn
        conn.execute(q.CREATE_POINT_TABLES)
        self._load(q.COPY_SRC, sites)
        if demand.address_ids is not None:
            conn.execute(q.TARGETS_FROM_ADDRESSES, {"ids": demand.address_ids.tolist()})
        else:
            self._load(q.COPY_TGT, demand)
        base = int(conn.execute(q.VERTEX_BASE).fetchone()[0])
        starts = list(range(base, base + len(sites)))
        rows = conn.execute(q.DISTANCES, {"base": base, "edges": q.EDGES_SQL.format(vertex=f"{base} + s.i"),
                                          "starts": starts, "limit": float(limit_m),
                                          "equicost": equicost}).fetchall()
        if demand.address_ids is not None:
            rows = [(i, j - 1, d) for i, j, d in rows]  # WITH ORDINALITY counts from 1
        arr = np.asarray(rows, dtype=float).reshape(-1, 3)
        return arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64), arr[:, 2]

    # -- straight lines ----------------------------------------------------------------
    def _straight(self, sites: Points, demand: Points, limit_m: float, *, nearest: bool):
        lon0, lat0 = float(np.mean(demand.lon)), float(np.mean(demand.lat))
        to_m = Transformer.from_crs(4326, utm_srid(lon0, lat0), always_xy=True)
        sx, sy = to_m.transform(sites.lon, sites.lat)
        dx, dy = to_m.transform(demand.lon, demand.lat)
        tree = cKDTree(np.column_stack([sx, sy]))
        reach = limit_m / self.detour
        demand_xy = np.column_stack([dx, dy])
        if nearest:
            d, i = tree.query(demand_xy, k=1, distance_upper_bound=reach)
            ok = np.isfinite(d)
            return i[ok].astype(np.int64), np.nonzero(ok)[0], d[ok] * self.detour
        matrix = cKDTree(demand_xy).sparse_distance_matrix(tree, reach, output_type="coo_matrix")
        return matrix.col.astype(np.int64), matrix.row.astype(np.int64), matrix.data * self.detour
