"""Uploaded candidate sites: any point file the importers read (GeoJSON, GPKG, Shapefile,
FlatGeobuf, CSV lon/lat), stored as a named set, all or nothing.

Optional columns: ``name``/``名称`` and ``capacity``/``容量`` (people a site can serve).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import shapely

from geodata.errors import Conflict, ImportRejected, InvalidInput, Problem
from geodata.io.read import read_source

INSERT_SET = "INSERT INTO plan_candidate_set (name) VALUES (%(name)s) RETURNING id"
SET_TAKEN = "SELECT 1 FROM plan_candidate_set WHERE name = %(name)s"
INSERT_CANDIDATE = """
INSERT INTO plan_candidate (set_id, seq, name, capacity, geom)
VALUES (%s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
"""
SETS = """
SELECT s.id, s.name, count(c.seq)::int AS n FROM plan_candidate_set s
  LEFT JOIN plan_candidate c ON c.set_id = s.id GROUP BY s.id ORDER BY s.created_at DESC, s.id DESC
"""
NAME_COLUMNS = ("name", "名称", "label")
CAPACITY_COLUMNS = ("capacity", "容量")


def _column(gdf, names: tuple[str, ...]) -> str | None:
    lower = {str(c).lower(): c for c in gdf.columns}
    return next((lower[n] for n in names if n in lower), None)


def write_candidate_set(conn: psycopg.Connection, name: str, path: str | Path, *, crs: str | None = None) -> int:
    """Read candidate points from ``path`` and store them as set ``name``; returns the set id.

    Raises
    ------
    ImportRejected
        Naming each feature/line that is not a valid point or has a bad capacity.
    """
    name = (name or "").strip() or Path(path).stem
    if conn.execute(SET_TAKEN, {"name": name}).fetchone():
        raise Conflict(f"a candidate set named {name!r} already exists")
    gdf = read_source(path, crs=crs)
    name_col, cap_col = _column(gdf, NAME_COLUMNS), _column(gdf, CAPACITY_COLUMNS)
    problems, rows = [], []
    for n, (where, geom) in enumerate(zip(gdf["_where"], gdf.geometry, strict=True)):
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            problems.append(Problem(where, f"candidate sites must be points, got {getattr(geom, 'geom_type', 'nothing')}"))
            continue
        if not shapely.is_valid(geom):
            problems.append(Problem(where, shapely.is_valid_reason(geom)))
            continue
        capacity = None
        if cap_col is not None and str(gdf[cap_col].iloc[n]).strip() not in ("", "nan", "None"):
            try:
                capacity = int(float(gdf[cap_col].iloc[n]))
                if capacity < 0:
                    raise ValueError
            except ValueError:
                problems.append(Problem(where, f"capacity {gdf[cap_col].iloc[n]!r} is not a whole number ≥ 0"))
                continue
        label = None if name_col is None else str(gdf[name_col].iloc[n])
        rows.append((n + 1, label, capacity, geom.x, geom.y))
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise InvalidInput("the file holds no candidate points")
    with conn.transaction():
        set_id = conn.execute(INSERT_SET, {"name": name}).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(INSERT_CANDIDATE, [(set_id, *r) for r in rows])
    return set_id


def fetch_candidate_sets(conn: psycopg.Connection) -> list[dict]:
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(SETS).fetchall()
