"""Export of cases and people density, and a common entry for every exportable layer
(``export_data``).

Cases leave the database without anything personal or secret: no description, no address
text typed by the reporter, no tracking token — only what the map shows (code, category,
channel, state, where, when, overdue). People density leaves only as the *published* counts
per H3 hexagon (small cells suppressed by :mod:`geodata.population`; a suppressed cell has no
number) — never residents. Geometry is EPSG:4326 (lon, lat; degrees); times are ISO 8601 in the
district's time zone (text, so every format keeps the offset).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import psycopg
from tqdm import tqdm

from geodata.cases.model import CaseFilter
from geodata.cases.read import MAX_LIMIT, fetch_cases
from geodata.db import connect
from geodata.errors import InvalidInput, NotFound, TooManyFeatures
from geodata.geometry import BBox, h3_cell_polygon, parse_bbox
from geodata.io import queries as Q
from geodata.io.columns import LAYER_TABLES
from geodata.io.export import ExportReport, fetch_layer, format_of, write_layer_file
from geodata.population import fetch_counts_by_cell
from geodata.settings import get_settings

#: Case columns written to files, in order (nothing personal: see the module docstring).
CASE_COLUMNS = ("code", "category_code", "category", "channel", "state", "overdue", "street_code",
                "community_code", "grid_code", "department_code", "reported_at", "dispatched_at",
                "deadline_at", "closed_at")
#: Every layer ``export_data`` writes: the map layers plus cases and people density.
EXPORT_LAYERS = (*LAYER_TABLES, "cases", "density")
#: H3 resolution of a density export (≈0.1 km² hexagons, the map's street view).
DENSITY_RES = 9


def fetch_case_layer(conn: psycopg.Connection, flt: CaseFilter | None = None, *, bbox: BBox | None = None,
                     lang: str = "zh") -> gpd.GeoDataFrame:
    """Cases matching ``flt`` within ``bbox`` as a GeoDataFrame (EPSG:4326), oldest first.

    More than :data:`geodata.cases.read.MAX_LIMIT` cases is :class:`TooManyFeatures` (narrow
    the filter or the box)."""
    found = fetch_cases(conn, flt, bbox=bbox, limit=MAX_LIMIT, order="oldest")
    if len(found) >= MAX_LIMIT:
        raise TooManyFeatures(f"more than {MAX_LIMIT - 1:,} cases match; narrow the time window, filter or area")
    tz = ZoneInfo(get_settings().timezone)

    def when(value):
        return value.astimezone(tz).isoformat(timespec="seconds") if value is not None else None

    rows = [{"code": c.code, "category_code": c.category_code,
             "category": c.category_name_en if lang == "en" else c.category_name_zh, "channel": c.channel,
             "state": c.state, "overdue": int(c.overdue), "street_code": c.street_code,
             "community_code": c.community_code, "grid_code": c.grid_code, "department_code": c.department_code,
             "reported_at": when(c.reported_at), "dispatched_at": when(c.dispatched_at),
             "deadline_at": when(c.deadline_at), "closed_at": when(c.closed_at)} for c in found]
    frame = pd.DataFrame(rows, columns=list(CASE_COLUMNS)).astype(object)
    frame["overdue"] = frame["overdue"].astype("Int64")
    points = gpd.points_from_xy([c.lon for c in found], [c.lat for c in found], crs=4326)
    return gpd.GeoDataFrame(frame, geometry=points, crs=4326)


def fetch_density_layer(conn: psycopg.Connection, *, bbox: BBox | None = None, tag: str | None = None,
                        res: int = DENSITY_RES) -> gpd.GeoDataFrame:
    """Published resident counts per H3 cell (``res``; ``tag`` one key-population tag or all) as
    hexagons in EPSG:4326: ``cell`` (hex id), ``res``, ``tag``, ``n`` (empty when suppressed),
    ``suppressed`` (0/1), ``per_km2``. Only what :func:`geodata.population.fetch_counts_by_cell`
    publishes leaves."""
    frame = fetch_counts_by_cell(conn, res, tag, bbox=bbox)
    out = pd.DataFrame({"cell": [format(int(c), "x") for c in frame["cell"]], "res": res, "tag": tag or "*",
                        "n": frame["n"].astype("Int64"), "suppressed": frame["suppressed"].astype(int),
                        "per_km2": frame["per_km2"].astype("Float64").round(1)})
    geoms = [h3_cell_polygon(int(c)) for c in frame["cell"]]
    return gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=4326), crs=4326)


def export_data(layer: str, path: str | Path, *, bbox: str | BBox | None = None, community: str | None = None,
                street: str | None = None, case_filter: CaseFilter | None = None, lang: str = "zh",
                tag: str | None = None, kinds: tuple[str, ...] | None = None, progress: bool = False,
                conn: psycopg.Connection | None = None) -> ExportReport:
    """Export ``layer`` (a map layer of :func:`geodata.io.export.export_layer`, or ``cases``
    with ``case_filter``, or ``density``: published counts, ``tag`` one key-population tag) to
    ``path``; the format follows the extension (GeoJSON, GPKG, CSV, FlatGeobuf, zipped
    Shapefile). ``progress`` shows read → write stages on stderr.

    Extent: ``bbox`` (EPSG:4326), or ``street`` (a street/town code: its rows, its cases, the
    density hexagons meeting its outline), or neither — the whole district; ``community``
    narrows further. ``kinds`` keeps those facility kinds (the map's kind filter).

    Raises UnsupportedFormat, InvalidBBox, NotFound, InvalidInput, TooManyFeatures.
    """
    if layer not in EXPORT_LAYERS:
        raise InvalidInput(f"unknown layer {layer!r}; use one of {', '.join(EXPORT_LAYERS)}")
    if layer != "cases" and case_filter is not None:
        raise InvalidInput("case filters apply to the cases layer only")
    if street is not None and bbox is not None:
        raise InvalidInput("give the extent as a bbox or a street, not both")
    if kinds is not None and layer != "facilities":
        raise InvalidInput("facility kinds apply to the facilities layer only")
    path = Path(path)
    format_of(path)
    box = parse_bbox(bbox) if isinstance(bbox, str) else bbox
    bar = tqdm(total=2, desc=f"export {layer}", unit="step", file=sys.stderr, disable=not progress, leave=False)
    own = conn is None
    conn = conn or connect()
    try:
        bar.set_postfix_str("read")
        gdf, table = _read(conn, layer, box, community, street, case_filter, lang, tag, kinds)
        bar.update(1)
        bar.set_postfix_str(f"write {len(gdf):,} features")
        fmt = write_layer_file(gdf, path, table)
        bar.update(1)
    finally:
        bar.close()
        if own:
            conn.close()
    return ExportReport(table, str(path), fmt, len(gdf))


def _read(conn, layer, box, community, street, case_filter, lang, tag, kinds) -> tuple[gpd.GeoDataFrame, str]:
    """The features of one export and the table name they are written as."""
    if layer == "cases":
        if community is not None:
            case_filter = _with_community(case_filter, community)
        if street is not None:
            case_filter = _with_street(conn, case_filter, street)
        return fetch_case_layer(conn, case_filter, bbox=box, lang=lang), "cases"
    if layer == "density":
        if community is not None:
            raise InvalidInput("density exports take --bbox or --street, not --community (hexagons cross communities)")
        if street is None:
            return fetch_density_layer(conn, bbox=box, tag=tag), "density"
        outline = fetch_layer(conn, "admin_area", street=street)
        shape = outline.loc[outline["code"] == street, "geometry"].iloc[0]
        gdf = fetch_density_layer(conn, bbox=BBox(*shape.bounds), tag=tag)
        return gdf[gdf.intersects(shape)].reset_index(drop=True), "density"
    return fetch_layer(conn, LAYER_TABLES[layer], bbox=box, community=community, street=street, kinds=kinds), \
        LAYER_TABLES[layer]


def _with_street(conn, flt: CaseFilter | None, street: str) -> CaseFilter:
    """The case filter narrowed to one street (NotFound if unknown; InvalidInput when the
    filter's own streets leave it out — nothing would match)."""
    if conn.execute(Q.STREET_EXISTS, (street,)).fetchone() is None:
        raise NotFound(f"no street/town with code {street!r}")
    flt = flt or CaseFilter()
    if flt.streets and street not in flt.streets:
        raise InvalidInput(f"the case filter's streets ({', '.join(flt.streets)}) leave out street {street}; "
                           "clear the street filter or pick one of them")
    return replace(flt, streets=(street,))


def _with_community(flt: CaseFilter | None, community: str) -> CaseFilter:
    return replace(flt or CaseFilter(), communities=(community,))

