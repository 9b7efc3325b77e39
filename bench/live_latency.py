"""Live latency: a case committed in the database → visible in an open command map.

Starts ``onegrid serve`` (gunicorn) on a free loopback port against ``onegrid_bench`` (the
district-scale demo with 90 days of cases; ``ONEGRID_DB_NAME`` overrides), opens the map in
headless Chromium, then commits N cases one at a time from another connection (random pauses,
so commits do not phase-lock with the 1 s tick) and measures commit → the case id is in the
browser's case layer (the list the map and the table draw). Prints p50/p95/max next to the
baselines of the same run: the tick period, a full case-layer reload (time and bytes, what a
naive page would re-send every tick) and the size of one delta. Removes the cases it made.

    .venv/bin/python bench/live_latency.py [--n 30]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

import psycopg

os.environ.setdefault("ONEGRID_DB_NAME", "onegrid_bench")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from open311_intake import free_port, start_server  # noqa: E402

from app.i18n import strings  # noqa: E402
from callbacks.cases import load_cases, poll_cases  # noqa: E402
from geodata.cases import create_case, fetch_categories  # noqa: E402
from geodata.cases.open311_queries import delete_cases  # noqa: E402
from geodata.db import connect  # noqa: E402
from geodata.inventory import fetch_sample_points  # noqa: E402
from geodata.maps import fetch_extent  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
TICK_S = 1.0


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def baseline_reload(bounds) -> tuple[float, int, int, dict]:
    """(seconds, bytes, features, live store) of one full case-layer load for the district view, in process."""
    t = strings("zh")
    start = time.perf_counter()
    fc, live, _ = load_cases(bounds, ["cases"], {"window": "7d"}, 12, t, "zh")
    return time.perf_counter() - start, len(json.dumps(fc, ensure_ascii=False).encode()), len(fc["features"]), live


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=30, help="cases to commit (default 30)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with connect() as conn:
        ext = fetch_extent(conn).bbox
        cats = [c["code"] for c in fetch_categories(conn) if not c["metadata"]]
        points = fetch_sample_points(conn, args.n, seed=0.17)
    bounds = [[ext.minlat, ext.minlon], [ext.maxlat, ext.maxlon]]
    reload_s, reload_bytes, reload_n, live = baseline_reload(bounds)

    port = free_port()
    server = start_server(port)
    created: list[int] = []
    latencies: list[float] = []
    delta_bytes = None
    rng = random.Random(7)
    try:
        with sync_playwright() as p, connect() as conn:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            pg = browser.new_page(viewport={"width": 1920, "height": 1080})
            pg.goto(f"http://127.0.0.1:{port}/")
            pg.wait_for_function("(window.onegrid.shownCases || []).length > 0", timeout=60_000)
            pg.wait_for_timeout(2000)
            for i, (lon, lat) in enumerate(points):
                time.sleep(rng.uniform(0.2, 1.2))
                try:
                    case = create_case(conn, category_code=rng.choice(cats), channel="iot", lon=lon, lat=lat,
                                       actor="bench:live_latency", description="live latency bench")
                    conn.commit()
                except psycopg.errors.ForeignKeyViolation:
                    # Another bench deleted the open case ours was flagged a duplicate of
                    # between the check and the insert (shared bench database): skip this one.
                    conn.rollback()
                    continue
                t0 = time.perf_counter()
                created.append(case.id)
                pg.wait_for_function(f"(window.onegrid.shownCases || []).includes({case.id})", polling=20,
                                     timeout=10_000)
                latencies.append(time.perf_counter() - t0)
                if i == 0:
                    delta, _ = poll_cases(0, live, strings("zh"), "zh")
                    one = {**delta, "upsert": [f for f in delta["upsert"] if f["properties"]["id"] == case.id]}
                    delta_bytes = len(json.dumps(one, ensure_ascii=False).encode())
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
        with connect() as conn:
            removed = delete_cases(conn, created)
            conn.commit()

    ms = [1000 * v for v in latencies]
    print(f"live latency, commit → in the browser's case layer ({len(ms)} cases, gunicorn, headless Chromium):")
    print(f"  p50 {statistics.median(ms):.0f} ms   p95 {pct(ms, 0.95):.0f} ms   max {max(ms):.0f} ms   (target p95 < 2000 ms)")
    print("baselines, same run:")
    print(f"  tick period {TICK_S * 1000:.0f} ms (expected mean wait ≈ {TICK_S * 500:.0f} ms + round trip)")
    print(f"  full case-layer reload: {reload_s * 1000:.0f} ms server time, {reload_bytes / 1024:.0f} KiB, "
          f"{reload_n} cases (what re-sending the layer every tick would cost)")
    if delta_bytes is not None:
        print(f"  one delta with a new case: {delta_bytes} bytes; idle tick: no case data")
    print(f"cleaned up: {removed} cases removed")
    return 0 if pct(ms, 0.95) < 2000 else 1


if __name__ == "__main__":
    sys.exit(main())
