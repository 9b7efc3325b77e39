"""What the database holds: versions and row counts, for `onegrid db status` and health checks."""

from __future__ import annotations

import psycopg
from psycopg import sql

TABLES = ("admin_area", "grid", "address", "facility", "road")


def fetch_postgis_version(conn: psycopg.Connection) -> str:
    return conn.execute("SELECT postgis_lib_version()").fetchone()[0]


def fetch_table_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Exact row counts of OneGrid's main tables (only those that exist yet)."""
    counts = {}
    for table in TABLES:
        if conn.execute("SELECT to_regclass(%s) IS NOT NULL", (table,)).fetchone()[0]:
            query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            counts[table] = conn.execute(query).fetchone()[0]
    return counts


def fetch_sample_points(conn: psycopg.Connection, n: int, seed: float = 0.42) -> list[tuple[float, float]]:
    """``n`` address locations (lon, lat) drawn at random but repeatably (for benchmarks)."""
    conn.execute("SELECT setseed(%s)", (seed,))
    rows = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY random() LIMIT %s", (n,))
    return [(x, y) for x, y in rows]


def fetch_whole_table_geojson(conn: psycopg.Connection, table: str) -> str:
    """Every row of ``table`` as one GeoJSON FeatureCollection: what a naive map layer would send."""
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}")
    query = sql.SQL(
        "SELECT json_build_object('type', 'FeatureCollection', 'features', json_agg(ST_AsGeoJSON(t.*)::json))::text "
        "FROM {} t").format(sql.Identifier(table))
    return conn.execute(query).fetchone()[0]
