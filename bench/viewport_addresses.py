"""Address layer per viewport at district, street and grid zoom, against sending the whole table.

Uses the district-scale demo in its own database (``onegrid_bench``; loaded once, ~150,000
addresses) and the same code path as the map callback (``layers.addresses.build_addresses``).
Prints p50/p95 server-side time per viewport, payload bytes, and ratios against the naive
baseline measured in the same run. Targets (issue #2): p95 < 150 ms, payload < 1 MB.

Then the command map's whole viewport callback (every default layer: district, roads, outlines,
grids, facilities; ``layers.viewport.build_viewport``) and Dash's serialisation of its response,
with the legend as plain JSON (as sent now) against the same response with the legend blocks
as Dash components (as sent before; baseline, same run, same data), per zoom.

    .venv/bin/python bench/viewport_addresses.py [--viewports 40] [--width 1920 --height 1080]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time

from geodata import migrate
from geodata.db import connect, database_dsn
from geodata.geometry import BBox
from geodata.inventory import fetch_sample_points, fetch_table_counts, fetch_whole_table_geojson
from geodata.settings import get_settings
from layers.addresses import build_addresses
from layers.view import View

BENCH_DB = "onegrid_bench"
ZOOMS = [("district", 11), ("street", 13), ("street+", 14), ("grid", 16), ("grid+", 17)]


def bench_dsn() -> str:
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    from geodata.cluster import LocalCluster

    cluster = LocalCluster(settings)
    cluster.up()
    cluster.create_database(BENCH_DB)
    return database_dsn(settings, BENCH_DB)


def ensure_loaded(dsn: str) -> dict:
    with connect(dsn) as conn:
        migrate.migrate(conn, log=lambda *_: None)
        counts = fetch_table_counts(conn)
        if counts["address"] < 100_000:
            from geodata.demo import load_demo

            print("loading the district-scale demo into", BENCH_DB, "(once) …", flush=True)
            with conn.transaction():
                if counts["admin_area"]:
                    raise SystemExit(f"{BENCH_DB} holds partial data; drop it and run again")
                load_demo(conn, scale="district", seed=42, progress=True)
            conn.execute("ANALYZE")
            counts = fetch_table_counts(conn)
    return counts


def viewport(lon: float, lat: float, zoom: int, width: int, height: int) -> BBox:
    """The lon/lat box a ``width``×``height`` px Web-Mercator map shows around (lon, lat)."""
    deg_per_px = 360 / (256 * 2**zoom)
    half_w = width / 2 * deg_per_px
    half_h = height / 2 * deg_per_px * math.cos(math.radians(lat))
    return BBox(lon - half_w, lat - half_h, lon + half_w, lat + half_h)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _components(value):
    """Plain component JSON back as Dash components (the baseline: what the callback sent before)."""
    from dash import dcc, html

    if isinstance(value, dict) and "namespace" in value:
        module = {"dash_html_components": html, "dash_core_components": dcc}[value["namespace"]]
        return getattr(module, value["type"])(**{k: _components(v) for k, v in value["props"].items()})
    return [_components(v) for v in value] if isinstance(value, list) else value


def print_map_response(dsn: str, centres: list, width: int, height: int) -> None:
    """The viewport callback per zoom: build, then the response JSON with the legend plain / as components."""
    import os

    from dash._utils import to_json  # what Dash serialises a callback response with

    from app.i18n import strings
    from callbacks.viewport import DATA_KEYS
    from layers.viewport import DEFAULT_LAYERS, LayerRequest, build_viewport

    os.environ["ONEGRID_DATABASE_URL"] = dsn  # build_viewport reads through the pool
    get_settings.cache_clear()
    t, request = strings("zh"), LayerRequest(layers=tuple(DEFAULT_LAYERS), metric="households", kinds=None, lang="zh")
    print(f"\nmap viewport callback (layers {', '.join(DEFAULT_LAYERS)}), {len(centres)} viewports per zoom")
    print(f"{'zoom':>5}{'build p50':>10}{'p50 ms':>8}{'p95 ms':>8}{'p50 KB':>8}{'before p50':>11}{'before p95':>11}{'× p95':>7}")
    for zoom in (11, 13, 15, 17):
        now, before, build, size = [], [], [], []
        for lon, lat in centres:
            b = viewport(lon, lat, zoom, width, height)
            t0 = time.perf_counter()
            out = build_viewport([[b.minlat, b.minlon], [b.maxlat, b.maxlon]], zoom, request, t)
            build.append((time.perf_counter() - t0) * 1000)
            data = {k: {"data": out[k]} for k in DATA_KEYS}
            for legend, times in ((out["legend"], now), (_components(out["legend"]), before)):
                t0 = time.perf_counter()
                body = to_json({"multi": True, "response": {**data, "og-legend": {"children": legend}}})
                times.append(build[-1] + (time.perf_counter() - t0) * 1000)
            size.append(len(body.encode()))
        print(f"{zoom:>5}{statistics.median(build):>10.1f}{statistics.median(now):>8.1f}{pct(now, 0.95):>8.1f}"
              f"{statistics.median(size) / 1e3:>8.1f}{statistics.median(before):>11.1f}{pct(before, 0.95):>11.1f}"
              f"{pct(before, 0.95) / pct(now, 0.95):>7.1f}", flush=True)
    print("p50/p95 = build + response JSON with the legend as plain JSON (now); before = legend as components")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--viewports", type=int, default=40)
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    args = ap.parse_args()
    dsn = bench_dsn()
    counts = ensure_loaded(dsn)
    cap = get_settings().max_features
    print(f"database {BENCH_DB}: {counts['address']:,} addresses, {counts['grid']:,} grids; "
          f"viewport {args.width}x{args.height}px, {args.viewports} viewports per zoom, cap {cap}")
    with connect(dsn) as conn:
        centres = fetch_sample_points(conn, args.viewports)
        t0 = time.perf_counter()
        whole = fetch_whole_table_geojson(conn, "address")
        base_ms = (time.perf_counter() - t0) * 1000
        base_bytes = len(whole.encode())
        print(f"\nbaseline, whole address table as GeoJSON: {base_ms:,.0f} ms, {base_bytes / 1e6:,.1f} MB\n")
        print(f"{'view':<9}{'zoom':>5}{'mode':>14}{'p50 ms':>9}{'p95 ms':>9}{'p50 KB':>9}{'max KB':>9}"
              f"{'time ×':>9}{'bytes ×':>10}")
        ok = True
        for label, zoom in ZOOMS:
            times, sizes, modes = [], [], set()
            build_addresses(conn, View(viewport(*centres[0], zoom, args.width, args.height), zoom), cap)  # warm
            for lon, lat in centres:
                view = View(viewport(lon, lat, zoom, args.width, args.height), zoom)
                t0 = time.perf_counter()
                data = build_addresses(conn, view, cap)
                payload = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
                times.append((time.perf_counter() - t0) * 1000)
                sizes.append(len(payload.encode()))
                modes.add(f"{data['mode']}" + (f" r{data['resolution']}" if data.get("resolution") else ""))
            p95, biggest = pct(times, 0.95), max(sizes)
            ok &= p95 < 150 and biggest < 1_000_000
            print(f"{label:<9}{zoom:>5}{'/'.join(sorted(modes)):>14}{statistics.median(times):>9.1f}{p95:>9.1f}"
                  f"{statistics.median(sizes) / 1e3:>9.1f}{biggest / 1e3:>9.1f}"
                  f"{base_ms / p95:>9.0f}{base_bytes / biggest:>10.0f}")
    print(f"\ntargets (p95 < 150 ms, payload < 1 MB at every zoom): {'met' if ok else 'NOT met'}")
    print("time × / bytes × = baseline ÷ p95 time / baseline ÷ largest payload (higher is better)")
    print_map_response(dsn, centres[:12], args.width, args.height)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
