"""Headless capture of print sheets: PNG and PDF rendered by Chromium on the server.

A sheet page (``/print`` or ``/briefing`` with its query string) is opened in Debian's
Chromium (never a downloaded build) at the sheet's CSS size; PNG is a screenshot at
``device_scale_factor = dpi / 96`` (so A4 at 300 dpi is 2480 × 3508 px, with the dpi written
into the file), PDF is Chromium's print at the paper size, vector where the map is SVG and
with its fonts (WenQuanYi Micro Hei for Chinese) embedded.

One capture at a time per process: Chromium is heavy and the machines are small.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from geodata.errors import InvalidInput, OneGridError

log = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--font-render-hinting=none"]
#: Longest wait for a sheet to draw (the district's layers at 4K take a few seconds).
TIMEOUT_MS = 60_000
_ONE_AT_A_TIME = threading.Lock()


class SnapshotFailed(OneGridError):
    """The sheet could not be drawn (its page reported a problem, or Chromium failed)."""

    status = 422


@dataclass(frozen=True)
class Capture:
    """A rendered file: ``data`` (bytes), ``fmt`` (png/pdf), ``pixels`` (w, h of a PNG; the page
    size in CSS px for a PDF) and ``seconds`` spent."""

    data: bytes
    fmt: str
    pixels: tuple[int, int]
    seconds: float


def _ready(page, url: str) -> None:
    """Wait until the sheet is drawn: the page is there (or reports an error), fonts are
    loaded, the network is idle (base-map tiles) and two frames have painted."""
    page.goto(url, wait_until="domcontentloaded", timeout=TIMEOUT_MS)
    page.wait_for_selector("#og-print-root .leaflet-container, #og-print-error, #og-briefing-root .leaflet-container",
                           timeout=TIMEOUT_MS)
    error = page.query_selector("#og-print-error")
    if error is not None:
        raise SnapshotFailed(error.inner_text())
    page.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
    page.evaluate("""() => document.fonts.ready.then(() => new Promise(r =>
        requestAnimationFrame(() => requestAnimationFrame(r))))""")


def _png(page, size: tuple[int, int], dpi: int) -> bytes:
    from PIL import Image

    raw = page.screenshot(full_page=False, type="png")
    image = Image.open(io.BytesIO(raw))
    if image.size != size:
        # Chromium rounds the device size of a fractional scale up by a pixel or two.
        image = image.crop((0, 0, *size)) if image.width >= size[0] and image.height >= size[1] \
            else image.resize(size, Image.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi), optimize=False)
    return out.getvalue()


def capture(url: str, *, css: tuple[int, int], fmt: str, scale: float = 1.0, pixels: tuple[int, int] | None = None,
            paper_mm: tuple[int, int] | None = None, dpi: int = 96,
            progress: Callable[[str], None] | None = None) -> Capture:
    """Render the sheet at ``url`` as ``fmt`` (``png`` or ``pdf``).

    Parameters
    ----------
    css : sheet size in CSS pixels (the browser viewport).
    scale : device pixels per CSS pixel for PNG (dpi / 96).
    pixels : exact PNG size wanted (defaults to ``css`` × ``scale``).
    paper_mm : PDF page size in millimetres (w, h); None → the CSS size at 96 dpi.
    progress : called with a stage name (``open``, ``draw``, ``write``) as the capture goes.
    """
    if fmt not in ("png", "pdf"):
        raise InvalidInput(f"snapshot format must be png or pdf, got {fmt!r}")
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    step = progress or (lambda _stage: None)
    started = time.perf_counter()
    pixels = pixels or (round(css[0] * scale), round(css[1] * scale))
    with _ONE_AT_A_TIME, sync_playwright() as p:
        step("open")
        try:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        except PlaywrightError as exc:
            raise SnapshotFailed(f"cannot start Chromium ({CHROMIUM}): {str(exc).splitlines()[0]}") from exc
        try:
            page = browser.new_page(viewport={"width": css[0], "height": css[1]},
                                    device_scale_factor=scale if fmt == "png" else 1)
            page.emulate_media(media="screen")  # the PDF looks like the screen, not a print stylesheet
            step("draw")
            _ready(page, url)
            step("write")
            if fmt == "png":
                data = _png(page, pixels, dpi)
            else:
                w, h = paper_mm or (css[0] * 25.4 / 96, css[1] * 25.4 / 96)
                data = page.pdf(width=f"{w}mm", height=f"{h}mm", print_background=True,
                                margin={"top": "0", "right": "0", "bottom": "0", "left": "0"})
        except PlaywrightError as exc:
            raise SnapshotFailed(f"the sheet did not draw: {str(exc).splitlines()[0]}") from exc
        finally:
            browser.close()
    return Capture(data, fmt, pixels if fmt == "png" else css, time.perf_counter() - started)
