"""Reading import files: GeoJSON, GeoPackage, Shapefile (.shp or zipped), FlatGeobuf and CSV.

Every reader returns a GeoDataFrame in EPSG:4326 (lon, lat; degrees) with a ``_where`` column
naming each row the way a person finds it in the file: CSV data rows are ``line N`` (the
header is line 1), other formats ``feature N`` (1-based). Attribute columns keep the file's
names; :mod:`geodata.io.columns` maps them.

CRS rules: a file that declares a CRS is read in it, and ``--crs`` may only repeat it
(anything else is :class:`CRSMismatch`); GeoJSON without a ``crs`` member is WGS-84
(RFC 7946); CSV lon/lat columns are WGS-84 unless ``--crs`` names another geographic CRS
(e.g. EPSG:4490, CGCS2000); CSV x/y columns and files without a CRS (.shp without .prj)
need ``--crs`` (:class:`MissingCRS`).
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geodata.errors import CRSMismatch, ImportRejected, InvalidInput, MissingCRS, Problem, UnsupportedFormat
from geodata.io.columns import COORDINATE_ALIASES, COORDINATE_COLUMNS, coordinate_columns

WGS84 = CRS.from_epsg(4326)
VECTOR_SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".gpkg": "GeoPackage", ".shp": "Shapefile",
                   ".zip": "zipped Shapefile", ".fgb": "FlatGeobuf"}
SUFFIXES = (*VECTOR_SUFFIXES, ".csv")


def parse_crs(text: str | None) -> CRS | None:
    """``--crs`` text (``EPSG:3857``, ``4490``, WKT, PROJ) → CRS, or None when not given."""
    if text is None or not str(text).strip():
        return None
    try:
        return CRS.from_user_input(str(text).strip())
    except CRSError as exc:
        raise InvalidInput(f"--crs {text!r} is not a CRS pyproj knows (try EPSG:xxxx)") from exc


def same_crs(a: CRS, b: CRS) -> bool:
    """True when two CRSs are the same (axis order ignored: OGC:CRS84 == EPSG:4326)."""
    if a.equals(b, ignore_axis_order=True):
        return True
    ea, eb = a.to_epsg(min_confidence=90), b.to_epsg(min_confidence=90)
    return ea is not None and ea == eb


def _name(crs: CRS) -> str:
    epsg = crs.to_epsg(min_confidence=90)
    return f"EPSG:{epsg} ({crs.name})" if epsg else crs.name


def resolve_crs(declared: CRS | None, given: CRS | None, path: Path) -> CRS:
    """The CRS to read ``path`` in: the file's, or ``--crs`` when the file has none."""
    if declared is None and given is None:
        raise MissingCRS(f"{path.name} declares no CRS (e.g. a .shp without .prj); "
                         "say which with --crs EPSG:xxxx")
    if declared is not None and given is not None and not same_crs(declared, given):
        rfc = (" (a GeoJSON without a \"crs\" member is WGS-84 by RFC 7946)"
               if suffix_of(path) in (".geojson", ".json") and same_crs(declared, WGS84) else "")
        raise CRSMismatch(f"{path.name} declares {_name(declared)}{rfc} but --crs says {_name(given)}; "
                          "drop --crs or fix the file")
    return declared if declared is not None else given


def suffix_of(path: Path) -> str:
    """The format suffix, lower case; ``.shp.zip`` counts as ``.zip``."""
    return path.suffix.lower()


def read_source(path: str | Path, *, crs: str | None = None, layer: str | None = None,
                mapping: dict[str, str] | None = None, encoding: str | None = None) -> gpd.GeoDataFrame:
    """Read ``path`` into a GeoDataFrame in EPSG:4326 with a ``_where`` label per row.

    Parameters
    ----------
    path : file to read; the format comes from its extension.
    crs : ``--crs`` text, the CRS of coordinates when the file does not declare one.
    layer : layer name in a GeoPackage (or .shp inside a zip) holding several.
    mapping : ``--map`` pairs; for CSV they may name the coordinate columns (``X坐标=x``).
    encoding : text encoding of CSV / Shapefile attributes when the file does not say
        (a .shp without .cpg; e.g. ``GBK``). CSV default: UTF-8, else GB18030.

    Raises
    ------
    UnsupportedFormat, MissingCRS, CRSMismatch, InvalidInput, ImportRejected
    """
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    suffix = suffix_of(path)
    given = parse_crs(crs)
    if suffix == ".csv":
        gdf = _read_csv(path, given, mapping or {}, encoding)
    elif suffix in VECTOR_SUFFIXES:
        gdf = _read_vector(path, given, layer, encoding)
    else:
        raise UnsupportedFormat(f"{path.name}: unsupported format {suffix or '(no extension)'}; "
                                f"use one of {', '.join(SUFFIXES)}")
    if len(gdf) == 0:
        raise ImportRejected([Problem(path.name, "the file has no features (empty file)")])
    return _flatten(gdf)


def _flatten(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop Z/M (storage is 2-D) and unwrap one-part MultiPoints (common in GIS exports)."""
    geoms = shapely.force_2d(np.asarray(gdf.geometry.values, dtype=object))
    single = (shapely.get_type_id(geoms) == 4) & (shapely.get_num_geometries(geoms) == 1)
    if single.any():
        geoms[single] = shapely.get_geometry(geoms[single], 0)
    gdf = gdf.copy()
    gdf["geometry"] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
    return gdf


# -- vector formats (GDAL through pyogrio) -----------------------------------------------------
def _zip_member(path: Path, layer: str | None) -> str:
    """The GDAL path of the one Shapefile inside a zip (``--layer`` picks when there are several)."""
    try:
        with zipfile.ZipFile(path) as zf:
            shps = [n for n in zf.namelist() if n.lower().endswith(".shp") and not n.startswith("__MACOSX")]
    except zipfile.BadZipFile as exc:
        raise InvalidInput(f"{path.name}: not a readable zip file") from exc
    if layer:
        shps = [n for n in shps if Path(n).stem == layer or n == layer]
    if len(shps) != 1:
        what = "no .shp" if not shps else f"several .shp ({', '.join(shps)}); pick one with --layer NAME"
        raise InvalidInput(f"{path.name}: the zip holds {what}")
    return f"/vsizip/{path.resolve()}/{shps[0]}"


def _pick_layer(path: Path, layer: str | None) -> str | None:
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InvalidInput(f"{path.name}: cannot read it ({exc})") from exc
    if layer is not None:
        if layer not in layers:
            raise InvalidInput(f"{path.name}: no layer {layer!r}; layers: {', '.join(layers)}")
        return layer
    if len(layers) > 1:
        raise InvalidInput(f"{path.name} has several layers ({', '.join(layers)}); pick one with --layer NAME")
    return layers[0] if layers else None


def _read_vector(path: Path, given: CRS | None, layer: str | None, encoding: str | None) -> gpd.GeoDataFrame:
    source = _zip_member(path, layer) if suffix_of(path) == ".zip" else str(path)
    chosen = _pick_layer(path, layer) if suffix_of(path) == ".gpkg" else None
    try:
        gdf = pyogrio.read_dataframe(source, layer=chosen, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, pyogrio.errors.FieldError) as exc:
        raise InvalidInput(f"{path.name}: cannot read it ({str(exc).strip()})") from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf:
        raise InvalidInput(f"{path.name}: the file has no geometry column")
    if gdf.geometry.name != "geometry":
        gdf = gdf.rename_geometry("geometry")
    source_crs = resolve_crs(gdf.crs, given, path)
    gdf = gdf.set_crs(source_crs, allow_override=True)
    gdf.insert(0, "_where", [f"feature {i + 1}" for i in range(len(gdf))])
    return to_wgs84(gdf)


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Reproject to EPSG:4326 (always_xy: lon, lat); labelled EPSG:4326 even when read as CRS84."""
    if not same_crs(gdf.crs, WGS84):
        gdf = gdf.to_crs(WGS84)
    return gdf.set_crs(WGS84, allow_override=True)


# -- CSV ---------------------------------------------------------------------------------------
def _read_text_table(path: Path, encoding: str | None) -> pd.DataFrame:
    """All cells as text; UTF-8 (with or without BOM), else GB18030 (common for Chinese files)."""
    with open(path, "rb") as fh:
        if not fh.read(4096).strip():
            raise ImportRejected([Problem(path.name, "the file is empty")])
    for candidate in (encoding,) if encoding else ("utf-8-sig", "gb18030"):
        try:
            with open(path, encoding=candidate, newline="") as fh:
                first = fh.readline()
            try:
                sep = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
            except csv.Error:
                sep = ","
            return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=candidate,
                               skip_blank_lines=False)
        except UnicodeDecodeError:
            continue
        except LookupError as exc:
            raise InvalidInput(f"--encoding {candidate!r} is not an encoding Python knows") from exc
        except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
            raise InvalidInput(f"{path.name}: not a readable CSV ({str(exc).strip()})") from exc
    raise InvalidInput(f"{path.name}: text is not {encoding or 'UTF-8 or GB18030'}; say which with --encoding")


def _numbers(frame: pd.DataFrame, column: str, role: str, problems: dict[int, str]) -> np.ndarray:
    """Parse one coordinate column; unparseable, empty and non-finite cells become problems."""
    text = frame[column].str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
    for i in np.flatnonzero(~np.isfinite(values)):
        cell = text.iat[i]
        reason = (f"{role} is empty" if cell == "" else
                  f"{role} {cell!r} is not a number" if np.isnan(values[i]) and cell.lower() != "nan"
                  else f"{role} {cell!r} is not a finite number")
        problems.setdefault(int(i), f"column {column!r}: {reason}")
    return values


def _csv_points(frame: pd.DataFrame, cols: dict[str, str], role: tuple[str, str],
                problems: dict[int, str], check_range: bool) -> np.ndarray:
    xs = _numbers(frame, cols[role[0]], role[0], problems)
    ys = _numbers(frame, cols[role[1]], role[1], problems)
    if check_range:
        bad = np.isfinite(xs) & np.isfinite(ys) & ((np.abs(xs) > 180) | (np.abs(ys) > 90))
        for i in np.flatnonzero(bad):
            problems.setdefault(int(i), f"coordinate out of range (lon {xs[i]:g}, lat {ys[i]:g}); "
                                        "lon must be within -180..180 and lat within -90..90")
    ok = np.isfinite(xs) & np.isfinite(ys)
    geoms = np.full(len(frame), None, dtype=object)
    geoms[ok] = shapely.points(xs[ok], ys[ok])
    return geoms


def _csv_wkt(frame: pd.DataFrame, column: str, problems: dict[int, str]) -> np.ndarray:
    text = frame[column].str.strip().to_numpy(dtype=object)
    geoms = np.full(len(text), None, dtype=object)
    for i, cell in enumerate(text):
        if not cell:
            problems.setdefault(i, f"column {column!r}: geometry is empty")
            continue
        try:
            geoms[i] = shapely.from_wkt(cell)
        except shapely.errors.GEOSException:
            problems.setdefault(i, f"column {column!r}: not valid WKT ({cell[:40]!r})")
    return geoms


def _csv_crs(cols: dict[str, str], found: list[str], given: CRS | None, path: Path) -> tuple[tuple[str, str] | str, CRS]:
    """Which coordinate columns to use and in which CRS."""
    if "lon" in cols and "lat" in cols:
        if given is not None and not given.is_geographic:
            raise CRSMismatch(f"{path.name}: columns {cols['lon']!r}/{cols['lat']!r} are lon/lat but --crs "
                              f"{_name(given)} is projected; name projected columns x/y (--map COL=x)")
        return ("lon", "lat"), given or WGS84
    if "x" in cols and "y" in cols:
        if given is None:
            raise MissingCRS(f"{path.name}: columns {cols['x']!r}/{cols['y']!r} are x/y in an unstated CRS; "
                             "say which with --crs EPSG:xxxx")
        return ("x", "y"), given
    if "wkt" in cols:
        return "wkt", given or WGS84
    expected = "; ".join(f"{role}: {', '.join(words)}" for role, words in COORDINATE_ALIASES.items())
    raise InvalidInput(f"{path.name}: no coordinate columns among {', '.join(found)}"
                       f" — expected lon/lat, x/y (with --crs) or a WKT column ({expected}); "
                       "or name yours with --map COL=lon --map COL=lat")


def _text_rows(path: Path, encoding: str | None) -> tuple[pd.DataFrame, list[str]]:
    """The CSV's non-blank rows (all text) and their labels ("line N")."""
    frame = _read_text_table(path, encoding)
    frame.columns = [str(c) for c in frame.columns]
    # Fully blank lines are skipped, but they still count for line numbers.
    lines = np.arange(len(frame)) + 2
    blank = (frame.apply(lambda s: s.str.strip()) == "").all(axis=1).to_numpy()
    frame, lines = frame.loc[~blank].reset_index(drop=True), lines[~blank]
    return frame, [f"line {n}" for n in lines]


def read_plain_csv(path: str | Path, encoding: str | None = None) -> pd.DataFrame:
    """A CSV without geometry (e.g. residents): every cell as text, plus ``_where`` ("line N")."""
    path = Path(path)
    if not path.exists():
        raise InvalidInput(f"{path}: no such file")
    frame, where = _text_rows(path, encoding)
    frame.insert(0, "_where", where)
    return frame


def _read_csv(path: Path, given: CRS | None, mapping: dict[str, str], encoding: str | None) -> gpd.GeoDataFrame:
    frame, where = _text_rows(path, encoding)
    found = list(frame.columns)
    absent = [f"{src}={dst}" for src, dst in mapping.items() if dst in COORDINATE_COLUMNS and src not in found]
    if absent:
        raise InvalidInput(f"--map {', '.join(absent)}: no such column in {path.name}; columns found: "
                           f"{', '.join(found)}")
    cols = coordinate_columns(found, mapping)
    roles, source_crs = _csv_crs(cols, found, given, path)
    problems: dict[int, str] = {}
    if roles == "wkt":
        geoms = _csv_wkt(frame, cols["wkt"], problems)
    else:
        geoms = _csv_points(frame, cols, roles, problems, check_range=source_crs.is_geographic)
    if problems:
        raise ImportRejected([Problem(where[i], problems[i]) for i in sorted(problems)])
    # Every coordinate-like column goes, used or not: a stray "geometry" text column would
    # otherwise clash with the geometry built here.
    attrs = frame.drop(columns=sorted(set(cols.values())))
    gdf = gpd.GeoDataFrame(attrs, geometry=gpd.GeoSeries(geoms, crs=source_crs), crs=source_crs)
    gdf.insert(0, "_where", where)
    gdf = to_wgs84(gdf)
    return gdf
