"""Export a layer to GeoJSON, GeoPackage, CSV, FlatGeobuf or zipped Shapefile (by extension).

Files are written in EPSG:4326 (lon, lat; degrees) and import back unchanged with
``onegrid import``: CSV carries ``lon``/``lat`` columns for points and a ``wkt`` column
otherwise (full precision); Shapefile field names are cut to 10 characters with names the
importer knows (``comm_code``, ``strt_code``, ``parent``). A file is written next to its target
and moved into place, so a failed export never leaves half a file behind.
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import pyogrio
import shapely

from geodata.db import connect
from geodata.errors import InvalidInput, NotFound, UnsupportedFormat
from geodata.geometry import BBox, parse_bbox
from geodata.io import queries as Q
from geodata.io.columns import LAYER_TABLES

#: Extension → format name (``.shp.zip`` is matched as ``.zip``).
FORMATS = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GPKG", ".csv": "CSV",
           ".zip": "ESRI Shapefile", ".fgb": "FlatGeobuf"}
INTEGER_COLUMNS = ("population", "households", "version", "capacity", "address_id")
#: Shapefile (dBase) field names are at most 10 characters.
SHAPEFILE_NAMES = {"community_code": "comm_code", "street_code": "strt_code", "parent_code": "parent",
                   "category_code": "cat_code", "department_code": "dept_code", "reported_at": "reported",
                   "dispatched_at": "dispatched", "deadline_at": "deadline", "closed_at": "closed"}


@dataclass(frozen=True)
class ExportReport:
    table: str
    path: str
    format: str
    count: int

    def line(self) -> str:
        return f"{Path(self.path).name}: wrote {self.count} feature(s) of {self.table} as {self.format}"


def fetch_layer(conn: psycopg.Connection, table: str, *, bbox: BBox | None = None,
                community: str | None = None, street: str | None = None,
                kinds: tuple[str, ...] | None = None) -> gpd.GeoDataFrame:
    """Rows of ``table`` as a GeoDataFrame in EPSG:4326, optionally bounded.

    ``bbox`` keeps features whose bounding box meets it (``geom && envelope``); ``community``
    keeps that community's rows (for admin areas the community itself, for roads the ones that
    cross it); ``street`` likewise a street/town's (admin areas: the street and its
    communities); ``kinds`` keeps those facility kinds (facilities only). An unknown community
    or street is :class:`NotFound`, an unknown facility kind :class:`InvalidInput`.
    """
    if community is not None and conn.execute(Q.COMMUNITY_EXISTS, (community,)).fetchone() is None:
        raise NotFound(f"no community with code {community!r}")
    if street is not None and conn.execute(Q.STREET_EXISTS, (street,)).fetchone() is None:
        raise NotFound(f"no street/town with code {street!r}")
    kinds = list(kinds) if kinds is not None and table == "facility" else None
    unknown = [k for (k,) in conn.execute(Q.UNKNOWN_KINDS, (kinds,))] if kinds else []
    if unknown:
        known = ", ".join(code for code, *_ in conn.execute(Q.FACILITY_KIND_WORDS))
        raise InvalidInput(f"unknown facility kind(s) {', '.join(map(repr, unknown))}; known kinds: {known}")
    params = [*(bbox.as_tuple() if bbox else ()), *((community,) if community is not None else ()),
              *((street,) if street is not None else ()), *((kinds,) if kinds is not None else ())]
    query = Q.select_layer(table, bbox=bbox is not None, community=community is not None, street=street is not None,
                           kinds=kinds is not None)
    rows = conn.execute(query, params).fetchall()
    columns = Q.EXPORT_COLUMNS[table]
    frame = pd.DataFrame([r[:-1] for r in rows], columns=list(columns))
    for col in INTEGER_COLUMNS:
        if col in frame:
            frame[col] = frame[col].astype("Int64")
    for col in columns:
        if col not in INTEGER_COLUMNS:
            frame[col] = frame[col].astype(object)
    geoms = shapely.from_wkb(np.array([bytes(r[-1]) for r in rows], dtype=object)) if rows else []
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def format_of(path: Path) -> str:
    """Format name for ``path``'s extension, or :class:`UnsupportedFormat`."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise UnsupportedFormat(f"{path.name}: cannot export to {path.suffix or '(no extension)'}; "
                                f"use .geojson, .json, .gpkg, .csv, .fgb, .zip or .shp.zip")
    return fmt


def _write_csv(gdf: gpd.GeoDataFrame, target: Path, geometry_type: str) -> None:
    frame = pd.DataFrame(gdf.drop(columns="geometry"))
    if geometry_type == "Point":
        xy = shapely.get_coordinates(gdf.geometry.values) if len(gdf) else np.empty((0, 2))
        frame["lon"], frame["lat"] = xy[:, 0], xy[:, 1]
    else:
        frame["wkt"] = shapely.to_wkt(gdf.geometry.values, rounding_precision=-1) if len(gdf) else []
    # utf-8-sig: spreadsheet programs then show Chinese text correctly; the importer reads both.
    frame.to_csv(target, index=False, encoding="utf-8-sig")


def _write_shapefile_zip(gdf: gpd.GeoDataFrame, target: Path, table: str, geometry_type: str) -> None:
    gdf = gdf.rename(columns=SHAPEFILE_NAMES)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        shp = Path(tmp) / f"{table}.shp"
        pyogrio.write_dataframe(gdf, shp, driver="ESRI Shapefile", encoding="UTF-8", geometry_type=geometry_type)
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, arcname=part.name)


def write_layer_file(gdf: gpd.GeoDataFrame, path: str | Path, table: str) -> str:
    """Write ``gdf`` (EPSG:4326) to ``path`` in the format its extension names; returns the format."""
    path = Path(path)
    fmt = format_of(path)
    if not path.parent.is_dir():
        raise InvalidInput(f"{path.parent}: no such directory")
    geometry_type = Q.GEOMETRY_TYPE[table]
    fd, tmp_name = tempfile.mkstemp(prefix=".onegrid-export-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # GDAL drivers want to create the file themselves
    try:
        if fmt == "CSV":
            _write_csv(gdf, tmp, geometry_type)
        elif fmt == "ESRI Shapefile":
            _write_shapefile_zip(gdf, tmp, table, geometry_type)
        else:
            pyogrio.write_dataframe(gdf, tmp, driver=fmt, layer=table if fmt == "GPKG" else None,
                                    geometry_type=geometry_type)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return fmt


def export_layer(layer_or_table: str, path: str | Path, *, bbox: str | BBox | None = None,
                 community: str | None = None, conn: psycopg.Connection | None = None) -> ExportReport:
    """Export a layer (``admin-areas``, ``grids``, ``addresses``, ``facilities``, ``roads``) to ``path``.

    Parameters
    ----------
    bbox : ``"minlon,minlat,maxlon,maxlat"`` (EPSG:4326 degrees) or a :class:`BBox`.
    community : community code; only its rows are exported.

    Raises
    ------
    UnsupportedFormat, InvalidBBox, NotFound, InvalidInput
    """
    table = LAYER_TABLES.get(layer_or_table, layer_or_table)
    if table not in Q.EXPORT_COLUMNS:
        raise InvalidInput(f"unknown layer {layer_or_table!r}; use one of {', '.join(LAYER_TABLES)}")
    path = Path(path)
    format_of(path)
    box = parse_bbox(bbox) if isinstance(bbox, str) else bbox
    own = conn is None
    conn = conn or connect()
    try:
        gdf = fetch_layer(conn, table, bbox=box, community=community)
    finally:
        if own:
            conn.close()
    fmt = write_layer_file(gdf, path, table)
    return ExportReport(table, str(path), fmt, len(gdf))
