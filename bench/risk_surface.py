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

Then the risk callback's response per zoom (``--viewports`` screens of 1920×1080 px): what the
callback does — ``build_risk`` (heat + cells) and Dash's serialisation of its four outputs — with
the legend as plain JSON (as sent now), against the same response with the legend as Dash
components (as sent before; baseline, same run, same layer output): one component in a response
sends all of it through Dash's Python JSON fallback. "CPU ms" is client + database server CPU.

    .venv/bin/python bench/risk_surface.py [--repeats 10] [--cases 50] [--viewports 12]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import datetime, timedelta

from cases_batch_kpi import _server_cpu, ensure_history
from dash._utils import to_json  # what Dash serialises a callback response with
from psycopg import Rollback
from viewport_addresses import BENCH_DB, bench_dsn, ensure_loaded, pct, viewport

from app.i18n import strings
from geodata import cases as C
from geodata import warnings as gw
from geodata.db import connect
from geodata.geometry import BBox
from geodata.inventory import fetch_sample_points
from geodata.maps import fetch_extent
from geodata.warnings import risk as gr
from geodata.warnings.demo import seed_reading_history, seed_sensors
from layers.risk import FRAMES, build_risk, risk_legend
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


#: Zooms of the callback figures: district (res-7 sums), street, block (res 8), grid (heat at res 10).
CALLBACK_ZOOMS = (11, 13, 15, 16, 17)


def _response(out: dict, legend) -> bytes:
    """The risk callback's response body for ``out`` (heat, cells, legend, time label)."""
    return to_json({"multi": True, "response": {"risk-heat": {"data": out["heat"]}, "risk-cells": {"data": out["cells"]},
                                                "risk-legend": {"children": legend},
                                                "risk-time": {"children": out["time"]}}}).encode()


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def bench_callback(conn, views: list[View], t: dict) -> dict:
    """Per view: build, then serialise with the plain legend (now) and with component legends (before)."""
    server_cpu = _server_cpu(conn) or (lambda: 0.0)
    # Same blocks (heat ramp + five classes) as Dash components; the class bounds do not change the cost.
    components = risk_legend([1.0, 2.5, 5.0, 7.5], t, True, True)
    build, now, before, cpu, size = [], [], [], [], []
    for view in views:
        c0, s0, t0 = time.process_time(), server_cpu(), time.perf_counter()
        out = build_risk(conn, view, "7d", None, t, True, True)
        build.append(_ms(t0))
        t0 = time.perf_counter()
        size.append(len(_response(out, out["legend"])))
        now.append(build[-1] + _ms(t0))
        cpu.append((time.process_time() - c0 + server_cpu() - s0) * 1000)
        t0 = time.perf_counter()
        _response(out, components)
        before.append(build[-1] + _ms(t0))
    return {"build": statistics.median(build), "p50": statistics.median(now), "p95": pct(now, 0.95),
            "cpu": statistics.median(cpu), "b50": statistics.median(before), "b95": pct(before, 0.95),
            "kb": statistics.median(size) / 1e3}


def print_callback(conn, n_views: int, t: dict) -> None:
    centres = fetch_sample_points(conn, n_views)
    print(f"\nrisk callback response, heat + cells, 7 d, {len(centres)} viewports of 1920x1080 px per zoom")
    print(f"{'zoom':>5}{'build p50':>10}{'p50 ms':>8}{'p95 ms':>8}{'CPU ms':>8}{'KB':>7}"
          f"{'before p50':>11}{'before p95':>11}{'× p95':>7}")
    for zoom in CALLBACK_ZOOMS:
        views = [View(viewport(lon, lat, zoom, 1920, 1080), zoom) for lon, lat in centres]
        r = bench_callback(conn, views, t)
        print(f"{zoom:>5}{r['build']:>10.1f}{r['p50']:>8.1f}{r['p95']:>8.1f}{r['cpu']:>8.1f}{r['kb']:>7.1f}"
              f"{r['b50']:>11.1f}{r['b95']:>11.1f}{r['b95'] / r['p95']:>7.1f}", flush=True)
    print("p50/p95 = build + response JSON with the legend as plain JSON (now); before = the same with the legend "
          "as Dash components (Dash's Python JSON path); × p95 = before p95 ÷ now p95")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--cases", type=int, default=50, help="new cases per repeat (default %(default)s)")
    ap.add_argument("--viewports", type=int, default=12, help="screens per zoom for the callback figures")
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
    with connect(dsn) as conn:
        print_callback(conn, args.viewports, t)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
