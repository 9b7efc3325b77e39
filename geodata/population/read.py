"""Reads of population figures.

Browser-facing reads (:func:`fetch_counts_by_cell`, :func:`fetch_grid_table`) return only the
*published* counts (``population_cell`` / ``population_grid``, built by
:mod:`geodata.population.publish`): a suppressed figure comes back as ``None`` and cannot be
recovered from anything else published. :func:`fetch_demand_by_address` is for server-side
planning (service-demand models) and must never be sent to a browser: it counts people per
address, below the suppression threshold.
"""

from __future__ import annotations

import h3
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from geodata.errors import InvalidInput, NotFound
from geodata.geometry import BBox
from geodata.population import sql as Q
from geodata.population.demo import reference_year

ALL = "*"  #: the tag value meaning "all residents"
RESOLUTIONS = (7, 8, 9, 10)


def check_tag(conn: psycopg.Connection, tag: str | None) -> str:
    """``None``/``"*"`` → ``"*"``; a known tag code → itself; anything else → InvalidInput."""
    if tag in (None, "", ALL):
        return ALL
    if not isinstance(tag, str) or conn.execute(Q.TAG_EXISTS, {"tag": tag}).fetchone() is None:
        raise InvalidInput(f"unknown population tag {tag!r}")
    return tag


def fetch_counts_by_cell(conn: psycopg.Connection, res: int, tag: str | None = None,
                         bbox: BBox | None = None) -> pd.DataFrame:
    """Published (privacy-safe) resident counts per H3 cell.

    Parameters
    ----------
    res : int
        H3 resolution 7..10.
    tag : str, optional
        A ``population_tag`` code; ``None`` or ``"*"`` = all residents. One tag at a time (no unions).
    bbox : BBox, optional
        Lon/lat viewport (EPSG:4326); cells whose addresses' box meets it. ``None`` = everywhere.

    Returns
    -------
    DataFrame with ``cell`` (int64 H3 index), ``n`` (Int64; ``<NA>`` = suppressed), ``suppressed``
    (bool), ``area_km2`` (the hexagon's area) and ``per_km2`` (``n / area_km2``; ``NaN`` when
    suppressed). Cells with nobody (of that tag) are absent.
    """
    if res not in RESOLUTIONS:
        raise InvalidInput(f"H3 resolution must be 7..10, got {res!r}")
    tag = check_tag(conn, tag)
    if bbox is None:
        rows = conn.execute(Q.CELLS_ALL, {"res": res, "tag": tag}).fetchall()
    else:
        query = sql.SQL(Q.CELLS_IN_VIEW).format(res=sql.Literal(res))
        rows = conn.execute(query, {"tag": tag, "minlon": bbox.minlon, "minlat": bbox.minlat,
                                    "maxlon": bbox.maxlon, "maxlat": bbox.maxlat}).fetchall()
    frame = pd.DataFrame(rows, columns=["cell", "n"]).astype({"cell": "int64", "n": "Int64"})
    frame["suppressed"] = frame["n"].isna().to_numpy(bool)
    frame["area_km2"] = [h3.api.basic_int.cell_area(int(c), unit="km^2") for c in frame["cell"]]
    frame["per_km2"] = frame["n"].astype("Float64") / frame["area_km2"]
    return frame


def fetch_grid_table(conn: psycopg.Connection, grid_code: str) -> list[dict]:
    """Published counts per tag for one grid (drill-down): all residents first, then each tag.

    Each row: ``code`` (``"*"`` = all), ``name_zh``, ``name_en``, ``colour``, ``n`` (int; 0 when
    nobody; ``None`` when suppressed) and ``suppressed`` (bool). Raises NotFound for an unknown grid.
    """
    if conn.execute(Q.GRID_EXISTS, {"grid": grid_code}).fetchone() is None:
        raise NotFound(f"no grid {grid_code!r}")
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(Q.GRID_TABLE, {"grid": grid_code}).fetchall()
    for row in rows:
        present = row.pop("present")
        row["suppressed"] = bool(present and row["n"] is None)
        row["n"] = row["n"] if present else 0
    return rows


def fetch_demand_by_address(conn: psycopg.Connection, min_age: int | None = None, max_age: int | None = None,
                            tag: str | None = None) -> pd.DataFrame:
    """Residents per address, optionally of an age band (years, inclusive) and/or one tag.

    SERVER-SIDE ONLY (facility planning): counts below the suppression threshold; never send
    the result to a browser or export it. Ages count from the current year in
    ``ONEGRID_TIMEZONE``. Returns ``address_id`` (int64) and ``n`` (int), addresses with nobody
    matching omitted.
    """
    for name, value in (("min_age", min_age), ("max_age", max_age)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150):
            raise InvalidInput(f"{name} must be a whole number of years 0..150, got {value!r}")
    if min_age is not None and max_age is not None and min_age > max_age:
        raise InvalidInput(f"min_age {min_age} is above max_age {max_age}")
    tag = check_tag(conn, tag)
    year = reference_year()
    params = {"min_year": None if max_age is None else year - max_age,
              "max_year": None if min_age is None else year - min_age,
              "tag": None if tag == ALL else tag}
    rows = conn.execute(Q.DEMAND, params).fetchall()
    return pd.DataFrame(rows, columns=["address_id", "n"]).astype({"address_id": "int64", "n": "int64"})


def fetch_tags(conn: psycopg.Connection) -> list[dict]:
    """Key-population tags in display order: ``code``, ``name_zh``, ``name_en``, ``colour``, ``sort``."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(Q.TAGS).fetchall()


def fetch_grid_at(conn: psycopg.Connection, lon: float, lat: float) -> str | None:
    """Code of the grid containing the point (lon, lat, EPSG:4326), or None."""
    row = conn.execute(Q.GRID_AT, {"lon": float(lon), "lat": float(lat)}).fetchone()
    return row[0] if row else None


def fetch_raw_counts_for_bench(conn: psycopg.Connection, res: int, tag: str | None, bbox: BBox) -> list[tuple]:
    """BENCH BASELINE ONLY: people per H3 cell by a GROUP BY over the raw tables, *unsuppressed*.

    What the density layer would cost without the published table; never send it anywhere.
    """
    if res not in RESOLUTIONS:
        raise InvalidInput(f"H3 resolution must be 7..10, got {res!r}")
    tag = check_tag(conn, tag)
    query = sql.SQL(Q.RAW_CELLS_IN_VIEW).format(res=sql.SQL(str(res)))
    return conn.execute(query, {"tag": None if tag == ALL else tag, "minlon": bbox.minlon, "minlat": bbox.minlat,
                                "maxlon": bbox.maxlon, "maxlat": bbox.maxlat}).fetchall()


def count_residents(conn: psycopg.Connection) -> int:
    """How many residents the database holds."""
    return conn.execute(Q.COUNT_RESIDENTS).fetchone()[0]
