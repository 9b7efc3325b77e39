"""Map snapshot times: A4 at 150 and 300 dpi (PNG and PDF), the screen size and the wall screen,
against a bare screenshot of the same print page measured in the same run.

Every snapshot goes the production way (``app.snapshot.service.render_snapshot``: Chromium
start, the /print page, its layers for the extent, fonts, PNG at the paper's pixels or PDF).
The baseline opens the same page in the same Chromium and screenshots it as soon as the map
container exists (no dpi scaling, no waiting for fonts or the network). Also printed: the
server-side sheet build (``layers.screen_print.build_sheet``) alone, and A4 300 dpi sheets of the
density and risk overlays at a screen's street view. Target (issue 7): A4 at 300 dpi as PDF < 10 s.

    .venv/bin/python bench/snapshot.py [--repeat 3] [--dsn postgresql://…]

Without ``--dsn`` it uses the district-scale demo in ``onegrid_bench`` (see viewport_addresses.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from cases_batch_kpi import ensure_history
from viewport_addresses import bench_dsn, ensure_loaded

from geodata.db import connect

CASES = [  # name, spec query
    ("A4 150 dpi PNG", {"size": "A4", "orientation": "landscape", "dpi": "150", "format": "png"}),
    ("A4 150 dpi PDF", {"size": "A4", "orientation": "landscape", "dpi": "150", "format": "pdf"}),
    ("A4 300 dpi PNG", {"size": "A4", "orientation": "portrait", "dpi": "300", "format": "png"}),
    ("A4 300 dpi PDF", {"size": "A4", "orientation": "landscape", "dpi": "300", "format": "pdf"}),
    ("screen 1920×1080 PNG", {"size": "screen", "width": "1920", "height": "1080", "format": "png"}),
    # The overlays with their own controls, taken from a 1920×1080 screen at street zoom (the
    # sheet takes the screen's resolution and classes: two density/risk reads instead of one).
    ("A4 300 PDF density", {"size": "A4", "orientation": "landscape", "dpi": "300", "format": "pdf",
                            "layers": "outlines,density", "bbox": "121.40,31.30,121.50,31.36", "zoom": "13.4"}),
    ("A4 300 PDF risk", {"size": "A4", "orientation": "landscape", "dpi": "300", "format": "pdf",
                         "layers": "outlines,risk_heat,risk_cells", "bbox": "121.40,31.30,121.50,31.36", "zoom": "13.4"}),
]


def _baseline(url: str) -> float:
    """Chromium start + the same /print page + a screenshot as soon as the map exists."""
    from playwright.sync_api import sync_playwright

    from app.snapshot.capture import ARGS, CHROMIUM

    started = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1122, "height": 793})
        page.goto(url)
        page.wait_for_selector("#og-print-root .leaflet-container")
        page.screenshot()
        browser.close()
    return time.perf_counter() - started


def _wall(url: str) -> float:
    """The wall screen at 1920×1080: Chromium start → figures and live cases drawn → screenshot."""
    from playwright.sync_api import sync_playwright

    from app.snapshot.capture import ARGS, CHROMIUM

    started = time.perf_counter()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        page.goto(url + "/screen?rotate=0")
        page.wait_for_selector(".og-wall-kpis .og-kpi", timeout=60_000)
        page.wait_for_selector(".og-wall-map .og-case-dot, .og-wall-map .og-case-cluster", timeout=60_000)
        page.screenshot()
        browser.close()
    return time.perf_counter() - started


def _median(fn, repeat: int) -> tuple[float, float]:
    times = sorted(fn() for _ in range(repeat))
    return statistics.median(times), times[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dsn", help="database to draw (default: the district-scale bench database)")
    args = parser.parse_args()
    dsn = args.dsn or bench_dsn()
    if not args.dsn:
        ensure_loaded(dsn)
        with connect(dsn) as conn:  # the wall view waits for live cases: 90 days of history, once
            ensure_history(conn)
    os.environ["ONEGRID_DATABASE_URL"] = dsn
    from geodata.settings import get_settings

    get_settings.cache_clear()
    from app.i18n import strings
    from app.snapshot.service import local_dashboard, render_snapshot
    from layers.screen_print import build_sheet
    from layers.screen_spec import parse_spec

    with local_dashboard() as url:
        spec = parse_spec(CASES[0][1])
        _baseline(f"{url}/print?{spec.query_string()}")  # warm the server (imports, first queries)
        base, base_max = _median(lambda: _baseline(f"{url}/print?{spec.query_string()}"), args.repeat)
        build, _ = _median(lambda: _timed(lambda: build_sheet(spec, strings("zh"))), args.repeat)
        print(f"{'what':<24}{'median s':>10}{'max s':>8}{'× baseline':>12}{'bytes':>12}")
        print(f"{'baseline (bare shot)':<24}{base:>10.2f}{base_max:>8.2f}{1:>12.2f}{'':>12}")
        print(f"{'sheet build (server)':<24}{build:>10.2f}{'':>8}{build / base:>12.2f}{'':>12}")
        for name, query in CASES:
            sizes = []

            def shot(query=query, sizes=sizes):
                result = render_snapshot(parse_spec(query), url)
                sizes.append(len(result.data))
                return result.seconds

            med, worst = _median(shot, args.repeat)
            flag = "  (target < 10 s: " + ("met" if worst < 10 else "MISSED") + ")" if name == "A4 300 dpi PDF" else ""
            print(f"{name:<24}{med:>10.2f}{worst:>8.2f}{med / base:>12.2f}{sizes[-1]:>12,}{flag}")
        med, worst = _median(lambda: _wall(url), args.repeat)
        print(f"{'wall screen 1920×1080':<24}{med:>10.2f}{worst:>8.2f}{med / base:>12.2f}{'':>12}")


def _timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
