"""Snapshots and briefings end to end: check the request, open its sheet page, capture it.

The sheet pages are served by the dashboard itself (``base_url``): the download routes use
the server they run in, the CLI starts one on a loopback port (:func:`local_dashboard`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from app.snapshot.capture import Capture, capture
from geodata.db import pooled
from geodata.settings import get_settings
from layers.screen_print import resolve_extent
from layers.screen_spec import SnapshotSpec, sheet_of


def check_spec(spec: SnapshotSpec) -> None:
    """Fail before starting Chromium when the extent cannot be drawn (unknown street, no data):
    NotFound / DatabaseUnavailable with the reason."""
    with pooled() as conn:
        resolve_extent(conn, spec)


def render_snapshot(spec: SnapshotSpec, base_url: str,
                    progress: Callable[[str], None] | None = None) -> Capture:
    """The map snapshot ``spec`` as PNG or PDF (``spec.fmt``), drawn by ``base_url``'s ``/print``."""
    check_spec(spec)
    sheet = sheet_of(spec)
    return capture(f"{base_url.rstrip('/')}/print?{spec.query_string()}", css=sheet.css, fmt=spec.fmt,
                   scale=sheet.scale, pixels=sheet.pixels, paper_mm=sheet.paper_mm, dpi=sheet.dpi,
                   progress=progress)


def render_briefing(base_url: str, *, street: str | None = None, lang: str = "zh", theme: str = "light",
                    progress: Callable[[str], None] | None = None) -> Capture:
    """The daily briefing PDF (A4 portrait) of ``street`` (None: the district)."""
    check_spec(SnapshotSpec(street=street))
    query = urlencode({k: v for k, v in (("street", street), ("lang", lang), ("theme", theme)) if v})
    sheet = sheet_of(SnapshotSpec(size="A4", orientation="portrait"))
    return capture(f"{base_url.rstrip('/')}/briefing?{query}", css=sheet.css, fmt="pdf", paper_mm=sheet.paper_mm,
                   progress=progress)


def file_name(kind: str, fmt: str, place: str | None = None) -> str:
    """``onegrid-<kind>[-<place>]-<YYYYmmdd-HHMM>.<fmt>`` in the district's local time."""
    stamp = datetime.now(ZoneInfo(get_settings().timezone)).strftime("%Y%m%d-%H%M")
    middle = f"-{place}" if place else ""
    return f"onegrid-{kind}{middle}-{stamp}.{fmt}"


@contextmanager
def local_dashboard() -> Iterator[str]:
    """Serve the dashboard on a free loopback port in this process (for the CLI and benches);
    yields its base URL and stops it afterwards."""
    from werkzeug.serving import make_server

    from app.factory import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no request log on the terminal
    server = make_server("127.0.0.1", 0, create_app().server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="onegrid-snapshot-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
