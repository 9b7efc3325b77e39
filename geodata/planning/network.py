"""The walking network: built from the ``road`` layer for pgRouting, and its status.

Roads are noded at every crossing (``ST_Node``), each piece becomes an edge (length in metres,
measured in the district's UTM zone) and pieces meeting at a point (to 1 cm) share a vertex.
Every address is joined to its nearest edge once, at build time (``walk_access``), so coverage
of the whole district needs no nearest-edge search per request.

The graph is derived data: :func:`ensure_network` rebuilds it when the road or address layer
changed since it was built (count or largest id differs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import psycopg

from geodata.planning import queries as q
from geodata.planning.snap import fetch_edge_index, snap


@dataclass(frozen=True)
class NetworkStatus:
    """What the walking graph holds; ``ready`` is False when there is none (no roads)."""

    ready: bool
    stale: bool
    nodes: int = 0
    edges: int = 0
    length_km: float = 0.0
    srid: int | None = None
    built_at: str | None = None


def utm_srid(lon: float, lat: float) -> int:
    """EPSG code of the WGS-84 UTM zone holding (lon, lat) in degrees (326xx north, 327xx south)."""
    zone = min(60, max(1, int(math.floor((lon + 180.0) / 6.0)) + 1))
    return (32600 if lat >= 0 else 32700) + zone


def _layer_signature(conn: psycopg.Connection) -> dict:
    return conn.execute(q.LAYER_SIGNATURE).fetchone()


def fetch_network_status(conn: psycopg.Connection) -> NetworkStatus:
    """The graph's size and whether roads/addresses changed since it was built."""
    conn.row_factory = psycopg.rows.dict_row
    try:
        row = conn.execute(q.NETWORK_META).fetchone()
        if row is None:
            return NetworkStatus(ready=False, stale=_layer_signature(conn)["road_count"] > 0)
        sig = _layer_signature(conn)
    finally:
        conn.row_factory = psycopg.rows.tuple_row
    stale = any(row[k] != sig[k] for k in ("road_count", "road_max_id", "address_count", "address_max_id"))
    return NetworkStatus(ready=row["edges"] > 0, stale=stale, nodes=row["nodes"], edges=row["edges"],
                         length_km=row["length_m"] / 1000.0, srid=row["srid"],
                         built_at=row["built_at"].isoformat(timespec="seconds"))


def build_walk_network(conn: psycopg.Connection, *, log=lambda _msg: None) -> NetworkStatus:
    """(Re)build the walking graph and the address access links from ``road`` and ``address``.

    Runs in the caller's transaction: either the whole new graph is there or the old one stays.
    With no roads the graph is emptied and distances fall back to straight lines.

    Returns
    -------
    NetworkStatus
        The new graph's size.
    """
    with conn.transaction():
        conn.execute(q.CLEAR_NETWORK)
        centre = conn.execute(q.ROAD_CENTRE).fetchone()
        if centre[0] is None:
            log("no roads: walking distances fall back to straight lines")
            return fetch_network_status(conn)
        srid = utm_srid(centre[0], centre[1])
        log(f"noding roads in EPSG:{srid}")
        conn.execute(q.BUILD_PIECES, {"srid": srid})
        conn.execute(q.BUILD_NODES)
        conn.execute(q.INSERT_NODES, {"srid": srid})
        conn.execute(q.BUILD_EDGES)
        log("joining addresses to the network")
        _write_access(conn, fetch_edge_index(conn, srid))
        conn.execute(q.RECORD_NETWORK, {"srid": srid})
        conn.execute("DROP TABLE og_pieces; DROP TABLE og_nodes")
    conn.execute("ANALYZE walk_node; ANALYZE walk_edge; ANALYZE walk_access")
    return fetch_network_status(conn)


def _write_access(conn: psycopg.Connection, index) -> None:
    """Join every address to its nearest edge (``walk_access``)."""
    rows = conn.execute(q.FETCH_ADDRESS_POINTS).fetchall()
    if not rows:
        return
    ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
    lons = np.fromiter((r[1] for r in rows), float, len(rows))
    lats = np.fromiter((r[2] for r in rows), float, len(rows))
    edge, fraction, access = snap(index, lons, lats)
    with conn.cursor().copy(q.COPY_ACCESS) as copy:
        for row in zip(ids.tolist(), edge.tolist(), fraction.tolist(), access.tolist(), strict=True):
            copy.write_row(row)


def ensure_network(conn: psycopg.Connection, *, log=lambda _msg: None) -> NetworkStatus:
    """The current graph, rebuilt first when missing or stale (roads/addresses changed)."""
    status = fetch_network_status(conn)
    if status.stale:
        status = build_walk_network(conn, log=log)
    return status
