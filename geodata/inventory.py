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
