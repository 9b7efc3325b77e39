"""Density layer per zoom at district scale (~2.2 million residents): p50/p95 time and payload
of the layer (published counts → hexagon GeoJSON → the JSON Dash sends) vs a naive GROUP BY
over the raw resident table in the same run, for all residents and two tags; plus the
publication rebuild time.

The timed request is what the callback does: ``build_density`` and Dash's own serialisation of
the response (cells + legend). The layer caches each (resolution, tag) of the published counts
per process until the publication changes; "first ms" is the first request of each row in a
cold process (nothing cached), which reads and caches that layer, and is not in p50/p95 (the hexagons' rings are
built afresh for each row too, so p95 includes first-time ring building). "CPU ms" is client + database
server CPU per request (p50), since the cores are shared and wall time is noisy.

Then the first res-10 request (zoom 16, all residents) after a worker start and after a
publication (``--cold-repeats`` times each): without the warmer (the request reads the layer:
in a fresh process also every hexagon's shape and ring) against with it (the dashboard's
background thread, ``layers.density.start_density_warmer``: reads at start, and again when the
publication's NOTIFY arrives; the request is timed once it has finished, and a second request
sent right after the publication shows what a request racing the warmer pays). A publication
here is a no-op UPDATE of ``population_cell`` (same figures, new stamp, one NOTIFY). "warm CPU"
is the warmer thread's CPU per run (off the request path).

Uses the district demo in ``onegrid_bench`` (see bench/viewport_addresses.py; loaded once).
If that database has no residents yet, the demo population is added (and timed) first.
Run: ``.venv/bin/python bench/density_viewport.py [--viewports 30] [--rebuild] [--cold-only]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

from cases_batch_kpi import _server_cpu  # bench/ sibling
from dash._utils import to_json  # what Dash serialises a callback response with
from viewport_addresses import BENCH_DB, bench_dsn, ensure_loaded, pct, viewport  # bench/ sibling

from app.i18n import strings
from geodata.db import connect
from geodata.population import ALL, read
from geodata.population.read import count_residents, fetch_raw_counts_for_bench
from layers import density
from layers.addresses import _hexagon
from layers.density import build_density, resolution_for_zoom
from layers.view import View

ZOOMS = [("district", 10), ("district+", 11), ("street", 12), ("street+", 13), ("block", 14), ("block+", 15),
         ("grid", 16), ("grid+", 17)]
TAGS = ("*", "elderly_alone", "drug_rehab")
TARGET_MS = 200


def ensure_population(dsn: str) -> None:
    with connect(dsn) as conn:
        if count_residents(conn):
            return
        from geodata.demo import build_demo
        from geodata.population.demo import write_demo_population

        print("adding the demo population to", BENCH_DB, "(once) …", flush=True)
        data = build_demo(scale="district", seed=42)
        t0 = time.perf_counter()
        with conn.transaction():
            counts = write_demo_population(conn, data)
        print(f"population: {counts} written and published in {time.perf_counter() - t0:.1f} s", flush=True)
        conn.execute("ANALYZE")


def _time(fn, *args) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn(*args)
    return (time.perf_counter() - t0) * 1000, out


def _request(conn, view: View, tag: str, t: dict) -> bytes:
    """One map request as the callback serves it: the layer, then the response JSON."""
    out = build_density(conn, view, tag, "count", t, "zh")
    return to_json({"multi": True, "response": {"density-cells": {"data": out["cells"]},
                                                "density-legend": {"children": out["legend"]}}}).encode()


def bench_row(conn, views: list[View], tag: str, t: dict, naive_views: int, server_cpu) -> dict:
    """Times of one zoom × tag row: first (cold) request, then every viewport again warm."""
    read._LAYERS.clear()  # the first request of the row reads the published layer afresh …
    read.cell_shape.cache_clear()  # … as a fresh process would …
    density._ring.cache_clear()  # … and every viewport builds its hexagons' rings the first time
    _hexagon.cache_clear()
    first, _ = _time(_request, conn, views[0], tag, t)
    times, sizes, cpu, naive = [], [], [], []
    for i, view in enumerate(views):
        c0, s0 = time.process_time(), server_cpu() if server_cpu else 0.0
        ms, body = _time(_request, conn, view, tag, t)
        cpu.append((time.process_time() - c0 + (server_cpu() - s0 if server_cpu else 0.0)) * 1000)
        times.append(ms)
        sizes.append(len(body))
        if i < naive_views:
            ms, _ = _time(fetch_raw_counts_for_bench, conn, resolution_for_zoom(view.zoom), tag, view.bbox)
            naive.append(ms)
    return {"first": first, "p50": statistics.median(times), "p95": pct(times, 0.95), "cpu": statistics.median(cpu),
            "kb50": statistics.median(sizes) / 1e3, "kbmax": max(sizes) / 1e3,
            "n50": statistics.median(naive), "n95": pct(naive, 0.95)}


def _fresh_process() -> None:
    """Forget everything a new worker would not have: layers, hexagon shapes and rings."""
    read._LAYERS.clear()
    read.cell_shape.cache_clear()
    density._ring.cache_clear()
    _hexagon.cache_clear()


def _publish(dsn: str) -> None:
    """A publication as the map sees it: a new stamp and one NOTIFY (the figures stay)."""
    with connect(dsn) as conn:
        conn.execute("UPDATE population_cell SET n = n WHERE false")  # statement trigger: stamp + NOTIFY
        conn.commit()


def _warmer(dsn: str):
    """Start the dashboard's warmer on ``dsn``: (stop event, runs queue of the warm CPU ms)."""
    import queue

    from geodata.population.watch import start_watcher

    runs: queue.Queue = queue.Queue()

    def warm(conn):
        c0 = time.thread_time()
        density.warm_density(conn)
        runs.put((time.thread_time() - c0) * 1000)

    return start_watcher(warm, dsn), runs


def bench_cold(dsn: str, view: View, t: dict, repeats: int) -> dict[str, list[float]]:
    """First-request times (ms) after a start and after a publication, without and with the warmer."""
    out = {k: [] for k in ("start", "publication", "start_w", "publication_w", "racing_w", "warm_cpu")}
    with connect(dsn) as conn:
        for _ in range(repeats):
            _fresh_process()
            out["start"].append(_time(_request, conn, view, ALL, t)[0])
            _publish(dsn)
            out["publication"].append(_time(_request, conn, view, ALL, t)[0])
            _fresh_process()
            stop, runs = _warmer(dsn)
            out["warm_cpu"].append(runs.get(timeout=120))
            out["start_w"].append(_time(_request, conn, view, ALL, t)[0])
            _publish(dsn)
            out["racing_w"].append(_time(_request, conn, view, ALL, t)[0])
            out["warm_cpu"].append(runs.get(timeout=120))
            _publish(dsn)
            runs.get(timeout=120)
            out["publication_w"].append(_time(_request, conn, view, ALL, t)[0])
            stop.set()
            conn.rollback()
    return out


def print_cold(dsn: str, centre: tuple[float, float], t: dict, repeats: int) -> None:
    zoom = 16
    view = View(viewport(*centre, zoom, 1920, 1080), zoom)
    r = bench_cold(dsn, view, t, repeats)
    print(f"\nfirst res-10 request (zoom {zoom}, all residents), {repeats} runs: median / max ms")
    rows = (("after a worker start", "start", "start_w"), ("after a publication", "publication", "publication_w"))
    for label, before, after in rows:
        print(f"  {label:<22} without warmer {statistics.median(r[before]):7.1f} / {max(r[before]):7.1f}"
              f"   with warmer {statistics.median(r[after]):6.1f} / {max(r[after]):6.1f}")
    print(f"  a request sent right after a publication, racing the warmer: {statistics.median(r['racing_w']):.1f} / "
          f"{max(r['racing_w']):.1f} ms; warmer CPU per run (background) {statistics.median(r['warm_cpu']):.0f} / "
          f"{max(r['warm_cpu']):.0f} ms")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewports", type=int, default=30)
    ap.add_argument("--naive-viewports", type=int, default=8, help="viewports for the (slow) naive baseline")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--rebuild", action="store_true", help="also time a rebuild of the published counts")
    ap.add_argument("--cold-repeats", type=int, default=5, help="runs of the first-request figures")
    ap.add_argument("--cold-only", action="store_true", help="only the first-request figures")
    args = ap.parse_args()
    dsn = bench_dsn()
    ensure_loaded(dsn)
    ensure_population(dsn)
    t = strings("zh")
    from geodata.inventory import fetch_sample_points

    with connect(dsn) as conn:
        residents = count_residents(conn)
        centres = fetch_sample_points(conn, args.viewports)
    if args.cold_only:
        print_cold(dsn, centres[0], t, args.cold_repeats)
        return 0
    with connect(dsn) as conn:
        print(f"database {BENCH_DB}: {residents:,} residents; {args.width}x{args.height}px, "
              f"{len(centres)} viewports per zoom and tag")
        if args.rebuild:
            from geodata.population.publish import rebuild_published

            ms, stats = _time(rebuild_published, conn)
            conn.rollback()
            print(f"rebuild of the published counts: {ms / 1000:.1f} s ({stats})")
        print(f"\n{'view':<10}{'zoom':>5}{'res':>4} {'tag':<14}{'first ms':>9}{'p50 ms':>8}{'p95 ms':>8}"
              f"{'CPU ms':>8}{'p50 KB':>8}{'max KB':>8}{'naive p50':>10}{'naive p95':>10}{'× p95':>7}")
        ok, server_cpu = True, _server_cpu(conn)
        for label, zoom in ZOOMS:
            views = [View(viewport(lon, lat, zoom, args.width, args.height), zoom) for lon, lat in centres]
            for tag in TAGS:
                r = bench_row(conn, views, tag, t, args.naive_viewports, server_cpu)
                ok &= r["p95"] < TARGET_MS
                print(f"{label:<10}{zoom:>5}{resolution_for_zoom(zoom):>4} {tag:<14}{r['first']:>9.1f}{r['p50']:>8.1f}"
                      f"{r['p95']:>8.1f}{r['cpu']:>8.1f}{r['kb50']:>8.1f}{r['kbmax']:>8.1f}{r['n50']:>10.1f}"
                      f"{r['n95']:>10.1f}{r['n95'] / r['p95']:>7.1f}", flush=True)
    print_cold(dsn, centres[0], t, args.cold_repeats)
    print(f"\ntarget p95 < {TARGET_MS} ms per viewport: {'met' if ok else 'NOT met'}")
    print("layer = cached published counts → hexagon GeoJSON → response JSON (suppression applied); naive = "
          "GROUP BY over the raw resident table in view (counts only, unsuppressed, no GeoJSON, no JSON; first "
          "--naive-viewports views); × p95 = naive p95 ÷ layer p95; payload = the response JSON")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
