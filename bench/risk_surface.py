"""Risk surface rebuild after new data, against a naive full recompute in the same run.

Uses the district-scale demo in ``onegrid_bench`` (see bench/viewport_addresses.py) with 90
days of case history and the demo sensors with 48 h of readings (seeded once, committed).
Each repeat adds fresh data in a transaction — N new cases through the normal intake and one
round of readings from every sensor (warnings open/escalate) — then times:

* incremental: ``rebuild_risk_surface`` (index only the new cases; the key-population snapshot
  is copied again only after a new publication) + the whole-district surface for each window
  (24 h, 7 d, 30 d);
* full: the same after emptying the case index (every case of the history placed again) and
  re-copying the key-population snapshot;
* naive: ``compute_risk_surface_naive`` for each window — read the window's cases, place each
  in Python.

and rolls the transaction back. Also the map layer (heat + choropleth at district zoom) and one
playback frame. Target (issue 4): < 1 s to rebuild the risk surface after new data.

    .venv/bin/python bench/risk_surface.py [--repeats 10] [--cases 50]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta

from cases_batch_kpi import ensure_history
from psycopg import Rollback
from viewport_addresses import BENCH_DB, bench_dsn, ensure_loaded, pct

from app.i18n import strings
from geodata import cases as C
from geodata import warnings as gw
from geodata.db import connect
from geodata.geometry import BBox
from geodata.inventory import fetch_sample_points
from geodata.maps import fetch_extent
from geodata.warnings import risk as gr
from geodata.warnings.demo import seed_reading_history, seed_sensors
from layers.risk import FRAMES, build_risk
from layers.view import View


def ensure_sensors(conn, bbox: BBox) -> list[tuple[int, str]]:
    """The bench district's sensors ``(id, kind)``, seeded once (with 48 h of readings)."""
    if not gw.fetch_sensors(conn, bbox, limit=1):
        print(f"seeding demo sensors and 48 h of readings into {BENCH_DB} (once) …", flush=True)
        with conn.transaction():
            seed_sensors(conn, "district", 42)
            seed_reading_history(conn, hours=48, seed=42)
    return [(s["id"], s["kind_code"]) for s in gw.fetch_sensors(conn, bbox, limit=100_000)]


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return (time.perf_counter() - t0) * 1000, out


def add_data(conn, rng: random.Random, points: list, sensors: list, n_cases: int) -> None:
    now = datetime.now().astimezone()
    for _ in range(n_cases):
        lon, lat = rng.choice(points)
        C.create_case(conn, category_code="garbage", channel="public", lon=lon, lat=lat, actor="bench")
    values = [rng.choice((0.2, 0.4, 7.0, 30.0)) if kind == "gas" else 0.0 for _, kind in sensors]
    gw.write_readings(conn, [s for s, _ in sensors], [now + timedelta(microseconds=rng.randrange(10**6))] * len(sensors),
                      values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--cases", type=int, default=50, help="new cases per repeat (default %(default)s)")
    args = ap.parse_args()
    dsn = bench_dsn()
    ensure_loaded(dsn)
    rng = random.Random(4)
    with connect(dsn) as conn:
        history = ensure_history(conn)
        bbox = fetch_extent(conn).bbox
        sensors = ensure_sensors(conn, bbox)
        n_sensors = len(sensors)
        with conn.transaction():  # the index up to date once, like a running dashboard keeps it
            first_ms, _ = timed(lambda: gr.rebuild_risk_surface(conn))
        points = fetch_sample_points(conn, 2000)
        conn.commit()
        view = View(bbox, 11.0)
        t = strings("zh")
        inc, full, naive, layer, frame, cells = [], [], [], [], [], 0
        for _ in range(args.repeats):
            with conn.transaction():  # rolled back at the end: the bench database stays as it was
                add_data(conn, rng, points, sensors, args.cases)
                ms, surfaces = timed(lambda: (gr.rebuild_risk_surface(conn), [gr.fetch_risk_surface(conn, w) for w in gr.WINDOWS])[1])
                inc.append(ms)
                cells = len(surfaces[1])
                layer.append(timed(lambda: build_risk(conn, view, "7d", None, t, True, True))[0])
                frame.append(timed(lambda: build_risk(conn, view, "7d", FRAMES // 2, t, True, True))[0])
                naive.append(timed(lambda: [gr.compute_risk_surface_naive(conn, w) for w in gr.WINDOWS])[0])
                full.append(timed(lambda: (gr.rebuild_risk_surface(conn, full=True),
                                           [gr.fetch_risk_surface(conn, w) for w in gr.WINDOWS]))[0])
                raise Rollback()
    print(f"district: {history:,} cases of history, {n_sensors:,} sensors; 7 d surface: {cells} res-8 cells with risk "
          f"(first index of the history: {first_ms:.0f} ms)")
    print(f"per repeat: +{args.cases} cases, +{len(sensors):,} readings; {args.repeats} repeats")
    for name, values in (("incremental rebuild + 3 surfaces", inc), ("full rebuild + 3 surfaces (baseline)", full),
                         ("naive recompute, 3 windows (baseline)", naive), ("map layer, district zoom", layer),
                         ("playback frame", frame)):
        print(f"  {name:40s} p50 {statistics.median(values):8.1f} ms   p95 {pct(values, 0.95):8.1f} ms")
    print(f"  incremental vs full: {statistics.median(full) / statistics.median(inc):.1f}x faster; "
          f"vs naive: {statistics.median(naive) / statistics.median(inc):.1f}x faster; "
          f"target < 1000 ms: {'met' if pct(inc, 0.95) < 1000 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
