"""Density layer per zoom at district scale (~2.2 million residents): p50/p95 time and payload
of the layer (published counts → hexagon GeoJSON) vs a naive GROUP BY over the raw resident
table in the same run, for all residents and two tags; plus the publication rebuild time.

Uses the district demo in ``onegrid_bench`` (see bench/viewport_addresses.py; loaded once).
If that database has no residents yet, the demo population is added (and timed) first.
Run: ``.venv/bin/python bench/density_viewport.py [--viewports 30] [--rebuild]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from viewport_addresses import BENCH_DB, bench_dsn, ensure_loaded, pct, viewport  # bench/ sibling

from app.i18n import strings
from geodata.db import connect
from geodata.population.read import count_residents, fetch_raw_counts_for_bench
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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewports", type=int, default=30)
    ap.add_argument("--naive-viewports", type=int, default=8, help="viewports for the (slow) naive baseline")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--rebuild", action="store_true", help="also time a rebuild of the published counts")
    args = ap.parse_args()
    dsn = bench_dsn()
    ensure_loaded(dsn)
    ensure_population(dsn)
    t = strings("zh")
    from geodata.inventory import fetch_sample_points

    with connect(dsn) as conn:
        residents = count_residents(conn)
        centres = fetch_sample_points(conn, args.viewports)
        print(f"database {BENCH_DB}: {residents:,} residents; {args.width}x{args.height}px, "
              f"{len(centres)} viewports per zoom and tag")
        if args.rebuild:
            from geodata.population.publish import rebuild_published

            ms, stats = _time(rebuild_published, conn)
            conn.rollback()
            print(f"rebuild of the published counts: {ms / 1000:.1f} s ({stats})")
        print(f"\n{'view':<10}{'zoom':>5}{'res':>4} {'tag':<14}{'p50 ms':>8}{'p95 ms':>8}{'p50 KB':>8}{'max KB':>8}"
              f"{'naive p50':>10}{'naive p95':>10}{'× p95':>7}")
        ok = True
        for label, zoom in ZOOMS:
            for tag in TAGS:
                times, sizes, naive = [], [], []
                for i, (lon, lat) in enumerate(centres):
                    view = View(viewport(lon, lat, zoom, args.width, args.height), zoom)
                    ms, out = _time(build_density, conn, view, tag, "count", t, "zh")
                    times.append(ms)
                    sizes.append(len(json.dumps(out["cells"], separators=(",", ":")).encode()))
                    if i < args.naive_viewports:
                        ms, _ = _time(fetch_raw_counts_for_bench, conn, resolution_for_zoom(zoom), tag, view.bbox)
                        naive.append(ms)
                p95, n95 = pct(times, 0.95), pct(naive, 0.95)
                ok &= p95 < TARGET_MS
                print(f"{label:<10}{zoom:>5}{resolution_for_zoom(zoom):>4} {tag:<14}{statistics.median(times):>8.1f}"
                      f"{p95:>8.1f}{statistics.median(sizes) / 1e3:>8.1f}{max(sizes) / 1e3:>8.1f}"
                      f"{statistics.median(naive):>10.1f}{n95:>10.1f}{n95 / p95:>7.1f}")
    print(f"\ntarget p95 < {TARGET_MS} ms per viewport: {'met' if ok else 'NOT met'}")
    print("layer = published counts → hexagon GeoJSON (suppression applied); naive = GROUP BY over the raw "
          "resident table in view (counts only, unsuppressed, no GeoJSON; first --naive-viewports views); "
          "× p95 = naive p95 ÷ layer p95")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
