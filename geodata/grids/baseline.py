"""Reference implementations the grid-editing bench compares against (bench/grid_edit.py).

They compute the same answers the slow, obvious way: every validation rule as SQL over a
staging table, and re-derivation one address at a time (what a per-row trigger would do).
Also the bench's small reads. Nothing here is used by the application.
"""

from __future__ import annotations

import psycopg
import shapely

LARGEST = """
SELECT community_code FROM address WHERE community_code IS NOT NULL
 GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"""
COUNT = "SELECT count(*) FROM address WHERE community_code = %s"
IDS = "SELECT id FROM address WHERE community_code = %s ORDER BY id"
GRIDS_OF = "SELECT id, grid_code FROM address WHERE community_code = %s ORDER BY id"
STAGE = "CREATE TEMP TABLE IF NOT EXISTS og_bench_grids (code text, wkb bytea); TRUNCATE og_bench_grids"
COPY = "COPY og_bench_grids (code, wkb) FROM STDIN"
VALIDATE = """
WITH g AS (SELECT code, ST_SetSRID(ST_GeomFromWKB(wkb), 4326) AS geom FROM og_bench_grids),
a AS (SELECT geom FROM admin_area WHERE code = %(c)s)
SELECT (SELECT count(*) FROM g WHERE NOT ST_IsValid(g.geom)),
       (SELECT count(*) FROM g, a WHERE ST_Area(ST_Difference(g.geom, a.geom)::geography) > 1),
       (SELECT count(*) FROM g x JOIN g y ON x.code < y.code AND x.geom && y.geom
         WHERE ST_Area(ST_Intersection(x.geom, y.geom)::geography) > 1),
       (SELECT ST_Area(ST_Difference(a.geom, ST_Union(g.geom))::geography) FROM a, g GROUP BY a.geom),
       (SELECT count(*) FROM g WHERE ST_NumGeometries(g.geom) > 1),
       (SELECT array_agg(n) FROM (SELECT count(t.id) AS n FROM g LEFT JOIN address t
          ON t.community_code = %(c)s AND ST_Covers(g.geom, t.geom) GROUP BY g.code) s)"""
# The bench's extra addresses (full_text 'bench N'), committed for the run and deleted after it.
DELETE_EXTRA = "DELETE FROM address WHERE community_code = %s AND full_text LIKE 'bench %%'"
VACUUM = "VACUUM (ANALYZE) address"
FLOOR = "UPDATE address SET grid_code = NULL WHERE community_code = %s AND grid_code IS NOT NULL"
ROW = ("UPDATE address SET grid_code = (SELECT code FROM grid g WHERE g.community_code = %s "
       "AND ST_Covers(g.geom, address.geom) ORDER BY code LIMIT 1) WHERE id = %s")


def fetch_largest_community(conn: psycopg.Connection) -> str:
    """The community with the most addresses."""
    return conn.execute(LARGEST).fetchone()[0]


def delete_extra_addresses(conn: psycopg.Connection, community: str) -> int:
    """Remove the bench's extra addresses from the community; returns how many."""
    return conn.execute(DELETE_EXTRA, (community,)).rowcount


def vacuum_addresses(conn: psycopg.Connection) -> None:
    """VACUUM ANALYZE the address table (outside a transaction), after the bench added or
    removed its extra addresses: dead rows and a long GIN pending list otherwise slow every
    later update of those rows by an order of magnitude."""
    conn.commit()
    conn.autocommit = True
    try:
        conn.execute(VACUUM)
    finally:
        conn.autocommit = False


def count_addresses(conn: psycopg.Connection, community: str) -> int:
    return conn.execute(COUNT, (community,)).fetchone()[0]


def stage_grids(conn: psycopg.Connection, grids: dict) -> None:
    """Grids (code → lon/lat geometry) into a temp table for :func:`validate_in_sql`."""
    conn.execute(STAGE)
    with conn.cursor().copy(COPY) as cp:
        for code, geom in grids.items():
            cp.write_row((code, shapely.to_wkb(geom)))


def validate_in_sql(conn: psycopg.Connection, community: str) -> tuple:
    """Invalid, outside, overlapping pairs, gap m², multi-part grids, addresses per grid — in SQL."""
    return conn.execute(VALIDATE, {"c": community}).fetchone()


def rederive_row_by_row(conn: psycopg.Connection, community: str, limit: int | None = None) -> int:
    """Re-derive the community's addresses (the first ``limit``) with one UPDATE each; returns how many."""
    ids = [r[0] for r in conn.execute(IDS, (community,))][:limit]
    with conn.cursor() as cur:
        cur.executemany(ROW, [(community, i) for i in ids])
    return len(ids)


def clear_grid_codes(conn: psycopg.Connection, community: str) -> int:
    """The floor: one plain UPDATE changing every address's grid_code (index upkeep, no spatial work)."""
    return conn.execute(FLOOR, (community,)).rowcount


def fetch_address_grids(conn: psycopg.Connection, community: str) -> tuple[list[int], list[str | None]]:
    """(address ids, their grid codes) of the community."""
    rows = conn.execute(GRIDS_OF, (community,)).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]
