"""Download routes: map snapshots, the daily briefing and layer data (``/export/...``).

- ``GET /export/snapshot?<snapshot spec>`` → PNG or PDF (see :mod:`layers.screen_spec`).
- ``GET /export/briefing?street=CODE&lang=zh`` → the daily briefing PDF.
- ``GET /export/data/<layer>.<ext>?bbox=…|street=…&community=…&<case filter>&tag=…&kinds=…`` →
  GeoJSON, GPKG, CSV or zipped Shapefile (no bbox or street: the whole district), streamed in
  chunks with its length (the browser shows progress).

Bad parameters answer 4xx with ``{"code", "message"}``; nothing is ever written to the database.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

from flask import Blueprint, Response, jsonify, request

from app.snapshot.service import file_name, render_briefing, render_snapshot
from geodata.errors import InvalidInput, OneGridError
from geodata.io.export_cases import EXPORT_LAYERS, export_data
from layers.cases import parse_filter
from layers.screen_spec import parse_spec

log = logging.getLogger(__name__)
URL_PREFIX = "/export"
#: File extension in the URL → what ``export_data`` writes (by the path's extension).
DATA_FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "csv": ".csv", "zip": ".shp.zip"}
MEDIA = {"png": "image/png", "pdf": "application/pdf", ".geojson": "application/geo+json",
         ".gpkg": "application/geopackage+sqlite3", ".csv": "text/csv; charset=utf-8", ".shp.zip": "application/zip"}
CHUNK = 256 * 1024


def _attachment(data: bytes, media: str, name: str) -> Response:
    return Response(data, mimetype=media, headers={"Content-Disposition": f'attachment; filename="{name}"',
                                                   "Cache-Control": "no-store"})


def _base_url() -> str:
    # The sheet pages are served by this very server (a thread of it answers Chromium).
    return request.host_url.rstrip("/")


def snapshot() -> Response:
    spec = parse_spec(request.args.to_dict())
    shot = render_snapshot(spec, _base_url())
    return _attachment(shot.data, MEDIA[spec.fmt], file_name("map", spec.fmt, spec.street))


def briefing() -> Response:
    street = request.args.get("street") or None
    shot = render_briefing(_base_url(), street=street, lang=request.args.get("lang") or "zh")
    return _attachment(shot.data, MEDIA["pdf"], file_name("briefing", "pdf", street))


def _stream(path: Path, tmp: tempfile.TemporaryDirectory):
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                yield chunk
    finally:
        tmp.cleanup()


def data(name: str) -> Response:
    layer, _, ext = name.partition(".")
    if layer not in EXPORT_LAYERS or ext not in DATA_FORMATS:
        raise InvalidInput(f"download {name!r}: use <layer>.<format> with layer one of {', '.join(EXPORT_LAYERS)} "
                           f"and format one of {', '.join(DATA_FORMATS)}")
    args = request.args
    flt = None
    if layer == "cases":
        flt = parse_filter({k: [v for v in args.get(k, "").split(",") if v]
                            for k in ("states", "categories", "channels", "streets")} | {"window": args.get("window")})
    tmp = tempfile.TemporaryDirectory(prefix="onegrid-export-")
    try:
        suffix = DATA_FORMATS[ext]
        path = Path(tmp.name) / f"{layer}{suffix}"
        kinds = tuple(k for k in args.get("kinds", "").split(",") if k) if "kinds" in args else None
        export_data(layer, path, bbox=args.get("bbox") or None, street=args.get("street") or None,
                    community=args.get("community") or None, case_filter=flt, lang=args.get("lang") or "zh",
                    tag=(args.get("tag") or None) if layer == "density" else None,
                    kinds=kinds if layer == "facilities" else None)
    except BaseException:
        tmp.cleanup()
        raise
    headers = {"Content-Disposition": f'attachment; filename="{file_name(layer, suffix.lstrip("."))}"',
               "Content-Length": str(path.stat().st_size), "Cache-Control": "no-store"}
    return Response(_stream(path, tmp), mimetype=MEDIA[suffix], headers=headers, direct_passthrough=True)


def _error(exc: OneGridError):
    return jsonify(exc.to_dict()), exc.status


def build_blueprint() -> Blueprint:
    bp = Blueprint("onegrid_export", __name__)
    bp.add_url_rule("/snapshot", "snapshot", snapshot)
    bp.add_url_rule("/briefing", "briefing", briefing)
    bp.add_url_rule("/data/<name>", "data", data)
    bp.register_error_handler(OneGridError, _error)
    return bp
