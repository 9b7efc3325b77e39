"""Reads of population figures.

Browser-facing reads (:func:`fetch_counts_by_cell`, :func:`fetch_grid_table`) return only the
*published* counts (``population_cell`` / ``population_grid``, built by
:mod:`geodata.population.publish`): a suppressed figure comes back as ``None`` and cannot be
recovered from anything else published. :func:`fetch_demand_by_address` is for server-side
planning (service-demand models) and must never be sent to a browser: it counts people per
address, below the suppression threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import h3
import numpy as np
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


@dataclass(frozen=True, eq=False)
class PublishedLayer:
    """One (resolution, tag) layer of the published counts as arrays, in cell order.

    ``cell`` int64 H3 indexes; ``n`` int64 counts (0 where suppressed); ``suppressed`` bool;
    ``area_km2`` each hexagon's area (km²); ``box`` (k, 4) float64 lon/lat bounds of each
    hexagon (EPSG:4326: min lon, min lat, max lon, max lat); ``stamp`` the publication stamp
    the arrays were read at. Shared between requests: treat as read-only.
    """

    res: int
    tag: str
    stamp: str
    cell: np.ndarray
    n: np.ndarray
    suppressed: np.ndarray
    area_km2: np.ndarray
    box: np.ndarray

    def in_view(self, bbox: BBox | None) -> np.ndarray:
        """Indexes of the cells whose hexagon's lon/lat box meets ``bbox`` (all when ``None``)."""
        if bbox is None:
            return np.arange(len(self.cell))
        b = self.box
        hit = (b[:, 0] <= bbox.maxlon) & (b[:, 2] >= bbox.minlon) & (b[:, 1] <= bbox.maxlat) & (b[:, 3] >= bbox.minlat)
        return np.flatnonzero(hit)


# (res, tag) → the layer last read. A map request reads only the stamp (one row) and reuses
# the arrays while it is unchanged: the layer's p95 was 200+ ms at 2.2 million residents when
# every viewport queried population_cell and computed areas and boxes again.
_LAYERS: dict[tuple[int, str], PublishedLayer] = {}


def fetch_publication_stamp(conn: psycopg.Connection) -> str:
    """The stamp of the published cell counts; it changes with every change to them (migration 0014)."""
    return str(conn.execute(Q.CELL_STAMP).fetchone()[0])


def fetch_published_layer(conn: psycopg.Connection, res: int, tag: str | None = None) -> PublishedLayer:
    """The published counts of one resolution (7..10) and tag (``None``/``"*"`` = all residents)
    for the whole area, cached per process until the publication changes."""
    if res not in RESOLUTIONS:
        raise InvalidInput(f"H3 resolution must be 7..10, got {res!r}")
    tag = check_tag(conn, tag)
    stamp = fetch_publication_stamp(conn)  # first: the arrays read next are at least this new
    layer = _LAYERS.get((res, tag))
    if layer is not None and layer.stamp == stamp:
        return layer
    rows = conn.execute(Q.CELLS_ALL, {"res": res, "tag": tag}).fetchall()
    cells = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
    counts = np.fromiter((r[1] or 0 for r in rows), dtype=np.int64, count=len(rows))
    hidden = np.fromiter((r[1] is None for r in rows), dtype=bool, count=len(rows))
    shapes = np.array([cell_shape(c) for c in cells.tolist()]).reshape(-1, 5)
    layer = PublishedLayer(res, tag, stamp, cells, counts, hidden, shapes[:, 0], shapes[:, 1:])
    _LAYERS[(res, tag)] = layer
    return layer


def warm_published_layers(conn: psycopg.Connection) -> int:
    """Read every (resolution, tag) of the published counts into this process's cache (those
    already current cost one stamp read each); returns how many layers are cached.

    For a background thread (:mod:`geodata.population.watch`) at worker start and after each
    publication, so no map request pays for the read: res 10 first, the slowest (~21,000
    cells, hexagon shapes built once per process).
    """
    tags = [ALL, *(r["code"] for r in fetch_tags(conn))]
    for res in sorted(RESOLUTIONS, reverse=True):
        for tag in tags:
            fetch_published_layer(conn, res, tag)
    return len(RESOLUTIONS) * len(tags)


@lru_cache(maxsize=120_000)
def cell_shape(cell: int) -> tuple[float, float, float, float, float]:
    """(area km², min lon, min lat, max lon, max lat) of an H3 cell's hexagon (EPSG:4326).

    Kept per process across tags and publications (a district has ~26,000 inhabited cells at
    resolutions 7–10): computing them took most of the first read of a res-10 layer (~0.5 s).
    """
    ring = h3.api.basic_int.cell_to_boundary(cell)  # (lat, lng) pairs
    lats, lngs = [p[0] for p in ring], [p[1] for p in ring]
    return h3.api.basic_int.cell_area(cell, unit="km^2"), min(lngs), min(lats), max(lngs), max(lats)


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
        Lon/lat viewport (EPSG:4326); cells whose hexagon's lon/lat box meets it. ``None`` = everywhere.

    Returns
    -------
    DataFrame with ``cell`` (int64 H3 index), ``n`` (Int64; ``<NA>`` = suppressed), ``suppressed``
    (bool), ``area_km2`` (the hexagon's area) and ``per_km2`` (``n / area_km2``; ``NaN`` when
    suppressed). Cells with nobody (of that tag) are absent.
    """
    layer = fetch_published_layer(conn, res, tag)
    idx = layer.in_view(bbox)
    hidden = layer.suppressed[idx]
    n = pd.arrays.IntegerArray(layer.n[idx].copy(), hidden.copy())
    frame = pd.DataFrame({"cell": layer.cell[idx], "n": n, "suppressed": hidden, "area_km2": layer.area_km2[idx]})
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
