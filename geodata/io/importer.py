"""Import one file into one table, all or nothing.

``import_file`` reads the file (:mod:`geodata.io.read`, → EPSG:4326 lon/lat), maps its
columns and words (:mod:`geodata.io.columns`), and hands the frame to the writer of
:mod:`geodata.store`, which checks it whole (geometry validity, duplicates in the file and
against the database, points outside every community) and inserts it. Everything runs in one
transaction: any problem raises and leaves the database as it was; ``dry_run`` does all of it,
database checks included, and rolls back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg
from psycopg.pq import TransactionStatus
from tqdm import tqdm

from geodata import store
from geodata.cases.batch import write_cases
from geodata.cases.batch_parallel import second_backend
from geodata.db import connect
from geodata.errors import ImportRejected, InvalidInput
from geodata.grids.imports import write_grid_import
from geodata.io import queries as Q
from geodata.io.columns import (
    COORDINATE_COLUMNS,
    IMPORT_LAYERS,
    ColumnPlan,
    check_map,
    check_targets,
    facility_kind_words,
    normalise_values,
    plan_columns,
)
from geodata.io.read import read_plain_csv, read_source, suffix_of
from geodata.population.residents_import import write_residents

#: File size from which a progress bar is shown on stderr.
PROGRESS_FROM_BYTES = 2_000_000

WRITERS: dict[str, Callable] = {
    "admin_area": store.write_admin_areas,
    "grid": write_grid_import,
    "address": store.write_addresses,
    "facility": store.write_facilities,
    "road": store.write_roads,
    "cases": write_cases,
    "resident": write_residents,
}
#: Tables imported from plain CSV (no geometry): rows are located by their address code.
PLAIN_TABLES = ("resident",)


@dataclass
class ImportReport:
    """What an import wrote (or, for a dry run, would write)."""

    layer: str
    table: str
    path: str
    written: int
    dry_run: bool
    #: New rows per group: admin level, or community code for grids/points, street for roads.
    groups: list[tuple[str | None, str | None, int]] = field(default_factory=list)
    #: File column → OneGrid column, as used.
    columns: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """Human-readable summary; the first line is the headline."""
        verb = "would write" if self.dry_run else "wrote"
        head = f"{Path(self.path).name}: {verb} {self.written} row(s) to {self.table}"
        if self.dry_run:
            head += " (dry run: nothing written)"
        out = [head]
        if self.ignored:
            out.append(f"  ignored columns: {', '.join(self.ignored)}")
        label = {"admin_area": "level", "road": "street", "cases": "street", "resident": "street"}.get(self.table, "community")
        for code, name, n in self.groups:
            shown = "(none)" if code is None else f"{code} {name}" if name and name != code else code
            out.append(f"  {label} {shown}: {n}")
        return out


def _label_rows(gdf: gpd.GeoDataFrame, is_csv: bool) -> None:
    """Non-CSV rows are named "feature N (code X)" when they carry a code."""
    if is_csv or "code" not in gdf:
        return
    codes = ["" if pd.isna(c) else str(int(c) if isinstance(c, float) and c.is_integer() else c).strip()
             for c in gdf["code"]]
    gdf["_where"] = [f"{w} (code {c})" if c else w for w, c in zip(gdf["_where"], codes, strict=True)]


def prepare_frame(conn: psycopg.Connection, table: str, path: str | Path, *, crs: str | None = None,
                  layer: str | None = None, mapping: dict[str, str] | None = None,
                  encoding: str | None = None) -> tuple[gpd.GeoDataFrame, ColumnPlan]:
    """Read ``path`` and shape it for the writer of ``table``.

    Returns the GeoDataFrame (EPSG:4326, lon/lat; canonical columns plus ``_where`` and
    ``geometry``) and the column plan (file column → canonical column, ignored columns).
    """
    path = Path(path)
    mapping = dict(mapping or {})
    is_csv = suffix_of(path) == ".csv"
    check_targets(mapping)
    coords = {s: d for s, d in mapping.items() if d in COORDINATE_COLUMNS}
    if coords and not is_csv:
        raise InvalidInput(f"--map to {', '.join(sorted(set(coords.values())))} applies to CSV files only")
    if table in PLAIN_TABLES:
        if not is_csv or coords or crs or layer:
            raise InvalidInput(f"{path.name}: residents are imported from CSV only, without coordinates "
                               "(each row names its standard address by address_code)")
        gdf = read_plain_csv(path, encoding)
    else:
        gdf = read_source(path, crs=crs, layer=layer, mapping=mapping, encoding=encoding)
    attrs = {s: d for s, d in mapping.items() if s not in coords}
    found = [str(c) for c in gdf.columns if c not in ("_where", "geometry")]
    check_map(table, attrs, found)
    plan = plan_columns(table, found, attrs)
    frame = gdf[["_where", *plan.rename]].rename(columns=plan.rename)
    if table not in PLAIN_TABLES:
        frame = gpd.GeoDataFrame(frame, geometry=gdf.geometry, crs=gdf.crs)
    _label_rows(frame, is_csv)
    kinds = facility_kind_words(conn.execute(Q.FACILITY_KIND_WORDS).fetchall()) if table == "facility" else None
    problems = normalise_values(table, frame, kinds)
    if problems:
        raise ImportRejected(problems)
    return frame, plan


def _groups(conn: psycopg.Connection, table: str) -> dict:
    return dict(conn.execute(Q.count_by_group(table)).fetchall())


def _group_report(conn: psycopg.Connection, table: str, before: dict, after: dict) -> list[tuple]:
    diff = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    names = {}
    if table != "admin_area":
        names = dict(conn.execute(Q.AREA_NAMES, ([k for k in diff if k is not None],)).fetchall())
    rank = {level: i for i, level in enumerate(store.LEVELS)}  # admin areas: top level first
    order = sorted(diff.items(), key=lambda kv: (kv[0] is None, rank.get(kv[0], 0), str(kv[0])))
    return [(k, names.get(k), n) for k, n in order]


def import_file(layer_or_table: str, path: str | Path, *, crs: str | None = None, layer: str | None = None,
                mapping: dict[str, str] | None = None, dry_run: bool = False, allow_outside: bool = False,
                encoding: str | None = None, conn: psycopg.Connection | None = None,
                progress: bool = False, replace: bool = False) -> ImportReport:
    """Import ``path`` into a table, all or nothing.

    Parameters
    ----------
    layer_or_table : ``admin-areas``, ``grids``, ``addresses``, ``facilities``, ``roads``, ``cases`` (or the table name).
    path : GeoJSON, GeoPackage, Shapefile (.shp / .zip), FlatGeobuf or CSV; any CRS, stored as EPSG:4326.
    crs : ``--crs``: the coordinates' CRS when the file has none; must agree with the file's otherwise.
    layer : GeoPackage layer (or .shp inside a zip) when the file holds several.
    mapping : ``--map`` pairs ``{file column: OneGrid column}``.
    dry_run : check everything (database included) and roll back.
    allow_outside : keep points outside every community (unassigned) instead of refusing them.
    encoding : attribute text encoding when the file does not say (.shp without .cpg, CSV).
    conn : connection to use (its transaction, or a savepoint inside it); default a new one.
    progress : show a progress bar on stderr for big files.
    replace : grids only: the file's grids become each community's whole new grid set (a new
        version); without it grid codes must be new. Grids are validated and versioned either way.

    Raises
    ------
    OneGridError subclasses (``ImportRejected`` lists every bad line/feature); nothing is written.
    """
    table = IMPORT_LAYERS.get(layer_or_table, layer_or_table)
    if table not in WRITERS:
        raise InvalidInput(f"unknown layer {layer_or_table!r}; use one of {', '.join(IMPORT_LAYERS)}")
    own = conn is None
    conn = conn or connect()
    try:
        return _run(conn, table, layer_or_table, Path(path), dict(crs=crs, layer=layer, mapping=mapping,
                    encoding=encoding), dry_run=dry_run, allow_outside=allow_outside, progress=progress,
                    replace=replace)
    finally:
        if own:
            conn.close()


class _Stages:
    """A stage progress bar on stderr (read → check & write → count), only for big inputs."""

    NAMES = ("read", "check and write", "count")

    def __init__(self, path: Path, enabled: bool):
        big = enabled and path.exists() and path.stat().st_size >= PROGRESS_FROM_BYTES
        self.bar = tqdm(total=len(self.NAMES), desc=f"import {path.name}", unit="step", file=sys.stderr,
                        disable=not big, leave=False)
        self.bar.set_postfix_str(self.NAMES[0])

    def done(self, stage: int, note: str = "") -> None:
        self.bar.update(1)
        if stage + 1 < len(self.NAMES):
            self.bar.set_postfix_str(f"{self.NAMES[stage + 1]}{note}")

    def close(self) -> None:
        self.bar.close()


def _run(conn, table, layer_name, path, read_options, *, dry_run, allow_outside, progress,
         replace=False) -> ImportReport:
    stages = _Stages(path, progress)
    # Big case batches insert on two backends; the second half commits with this transaction,
    # so only when it is a whole transaction (not a savepoint in the caller's).
    split = table == "cases" and conn.info.transaction_status == TransactionStatus.IDLE
    try:
        with second_backend(conn) if split else nullcontext() as helper, conn.transaction() as tx:
            frame, plan = prepare_frame(conn, table, path, **read_options)
            stages.done(0, f" ({len(frame)} features)")
            before = _groups(conn, table)
            kwargs = {"allow_outside": allow_outside} if table in ("address", "facility") else {}
            if table == "grid":
                kwargs = {"replace": replace, "source": path.name}
            if helper is not None:
                kwargs = {"helper": helper}
            written = WRITERS[table](conn, frame, **kwargs)
            stages.done(1)
            after = _groups(conn, table)
            for key, n in (helper.groups if helper is not None else {}).items():  # not visible here yet
                after[key] = after.get(key, 0) + n
            groups = _group_report(conn, table, before, after)
            stages.done(2)
            report = ImportReport(layer_name, table, str(path), written, dry_run, groups, plan.rename, plan.ignored)
            if dry_run:
                raise psycopg.Rollback(tx)
    finally:
        stages.close()
    return report
