"""``onegrid import LAYER PATH …`` and ``onegrid export LAYER PATH …``."""

from __future__ import annotations

import argparse

from geodata.errors import InvalidInput
from geodata.io.columns import IMPORT_LAYERS, parse_map
from geodata.io.export_cases import EXPORT_LAYERS, export_data
from geodata.io.importer import import_file
from layers.cases import WINDOWS, parse_filter

LAYERS = list(EXPORT_LAYERS)


def register(sub: argparse._SubParsersAction) -> None:
    imp = sub.add_parser(
        "import", help="import a layer from GeoJSON, GeoPackage, Shapefile (.shp/.zip), FlatGeobuf or CSV",
        description="Import a file into one layer, all or nothing: any bad line or feature rejects the "
                    "whole file and leaves the database unchanged.")
    imp.add_argument("layer", choices=list(IMPORT_LAYERS), help="which layer the file holds (cases: historical "
                     "cases, CSV with lon/lat or GeoJSON points; residents: CSV with address_code, "
                     "birth_year, sex, tags, household_code, ref)")
    imp.add_argument("path", help="the file (.geojson .json .gpkg .shp .zip .fgb .csv)")
    imp.add_argument("--crs", help="CRS of the coordinates when the file does not declare one, e.g. EPSG:3857 "
                                   "(must agree with the file's CRS when it declares one)")
    imp.add_argument("--map", action="append", default=[], metavar="SRC=DST",
                     help="use file column SRC as OneGrid column DST (repeatable); DST may also be "
                          "lon, lat, x, y or wkt for CSV")
    imp.add_argument("--layer", dest="source_layer", metavar="NAME",
                     help="layer inside a GeoPackage (or .shp inside a zip) holding several")
    imp.add_argument("--encoding", help="attribute text encoding when the file does not say "
                                        "(.shp without .cpg, CSV), e.g. GBK")
    imp.add_argument("--dry-run", action="store_true", help="check everything, write nothing")
    imp.add_argument("--allow-outside", action="store_true",
                     help="keep points outside every community (stored without community/grid)")
    imp.add_argument("--replace", action="store_true",
                     help="grids only: the file's grids become each community's whole grid set, saved as a "
                          "new version (validated like an edit on the map)")
    imp.set_defaults(func=cmd_import)

    exp = sub.add_parser("export", help="export a layer to GeoJSON, GPKG, CSV, FlatGeobuf or zipped Shapefile",
                         description="The format follows the extension: .geojson/.json, .gpkg, .csv "
                                     "(lon/lat or WKT), .fgb, .zip/.shp.zip (zipped Shapefile).")
    exp.add_argument("layer", choices=LAYERS, help="which layer to export")
    exp.add_argument("path", help="output file; its extension picks the format")
    extent = exp.add_mutually_exclusive_group()
    extent.add_argument("--bbox", metavar="MINLON,MINLAT,MAXLON,MAXLAT",
                        help="only features meeting this box (EPSG:4326 degrees); write --bbox=-74.1,… "
                             "when it starts with a minus sign")
    extent.add_argument("--street", metavar="CODE",
                        help="only this street/town's features (9-digit code); default: the whole district")
    exp.add_argument("--community", metavar="CODE", help="only this community's features")
    exp.add_argument("--kinds", help="facilities only: these kinds, comma-separated (as the map's kind filter)")
    cases = exp.add_argument_group("cases", "filters of the cases layer (as on the map; no personal data is written)")
    cases.add_argument("--window", choices=WINDOWS, help="reported in this window (default 7d)")
    for name in ("states", "categories", "channels", "streets"):
        cases.add_argument(f"--{name}", help=f"only these {name}, comma-separated")
    exp.add_argument("--tag", help="density only: one key-population tag (default: all residents); "
                                    "only published counts are written, small cells suppressed")
    exp.set_defaults(func=cmd_export)


def cmd_import(args) -> int:
    report = import_file(args.layer, args.path, crs=args.crs, layer=args.source_layer,
                         mapping=parse_map(args.map), dry_run=args.dry_run,
                         allow_outside=args.allow_outside, encoding=args.encoding, progress=True,
                         replace=args.replace)
    for line in report.lines()[1:]:
        print(line)
    print(report.lines()[0])
    return 0


def _case_filter(args):
    names = ("states", "categories", "channels", "streets")
    if args.tag and args.layer != "density":
        raise InvalidInput("--tag applies to the density layer only")
    if args.layer != "cases":
        if args.window or any(getattr(args, n) for n in names):
            raise InvalidInput("--window/--states/--categories/--channels/--streets apply to the cases layer only")
        return None
    return parse_filter({n: (getattr(args, n) or "").split(",") if getattr(args, n) else [] for n in names}
                        | {"window": args.window})


def cmd_export(args) -> int:
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip()) if args.kinds else None
    report = export_data(args.layer, args.path, bbox=args.bbox, street=args.street, community=args.community,
                         case_filter=_case_filter(args), tag=args.tag, kinds=kinds, progress=True)
    print(report.line())
    return 0
