"""Case intake through the Open311 POST on the real server, against in-process and sequential baselines.

Starts ``onegrid serve`` (gunicorn, gthread workers) on a free loopback port against the
district-scale demo in ``onegrid_bench``, then POSTs N realistic reports (points drawn from the
district's standard addresses and jittered a few metres, a category mix with the required
attributes each service definition asks for) from several client threads. Every case is routed
(grid → community → street → department) and duplicate-checked. Prints cases/s and p50/p95
latency, and in the same run two baselines: the same POSTs from one thread, and ``create_case``
called in-process on one connection (one transaction per case). Target (issue 3): ≥ 300 cases/s
on a 2-core machine. Every case the run created is deleted at the end, with its events, in one
transaction; the bench API key is revoked.

    .venv/bin/python bench/open311_intake.py [-n 3000] [--threads 8] [--sequential 500]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

os.environ.setdefault("ONEGRID_DB_NAME", "onegrid_bench")

import requests  # noqa: E402

from geodata.cases import create_api_key, create_case, revoke_api_key  # noqa: E402
from geodata.cases.open311_queries import delete_cases, fetch_case_ids_by_code  # noqa: E402
from geodata.db import connect  # noqa: E402
from geodata.errors import OutsideArea  # noqa: E402
from geodata.inventory import fetch_sample_points, fetch_table_counts  # noqa: E402
from geodata.settings import get_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
#: Relative frequency of categories in the mix (others weigh 1): what a district hotline sees most.
MIX = {"garbage": 8, "illegal_parking": 7, "street_vending": 5, "road_damage": 4, "noise": 4,
       "illegal_ads": 3, "streetlight": 3, "manhole_cover": 2, "water_logging": 1}
#: Jitter around an address point (metres): reports land near, not exactly on, the door.
JITTER_M = 15.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    """``onegrid serve`` on loopback; returns once /healthz answers 200."""
    # `onegrid serve`'s own function, without building the whole CLI parser (an unrelated
    # command group that fails to import must not stop the bench).
    code = ("import argparse, sys; from app.cli.serve import cmd_serve; "
            f"sys.exit(cmd_serve(argparse.Namespace(host='127.0.0.1', port={port}, dev=False)))")
    proc = subprocess.Popen([sys.executable, "-c", code],
                            cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode(errors='replace')[-2000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200:
                return proc
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.5)
    proc.terminate()
    raise SystemExit("server did not answer /healthz within 90 s")


def attribute_values(definition: dict, rng: random.Random) -> dict:
    """Form fields answering a service definition's attributes (all required ones, some optional)."""
    fields = {}
    for attr in definition["attributes"]:
        if not attr["required"] and rng.random() < 0.5:
            continue
        keys = [v["key"] for v in attr["values"]]
        if attr["datatype"] == "number":
            fields[f"attribute[{attr['code']}]"] = str(rng.randint(5, 60))
        elif attr["datatype"] == "singlevaluelist":
            fields[f"attribute[{attr['code']}]"] = rng.choice(keys)
        elif attr["datatype"] == "multivaluelist":
            fields[f"attribute[{attr['code']}][]"] = rng.sample(keys, rng.randint(1, len(keys)))
        elif attr["datatype"] == "datetime":
            fields[f"attribute[{attr['code']}]"] = "2026-11-22T08:00:00+08:00"
        else:
            fields[f"attribute[{attr['code']}]"] = f"沪A{rng.randint(10000, 99999)}"
    return fields


def build_reports(base: str, points: list[tuple[float, float]], n: int, key: str, seed: int) -> list[dict]:
    """N POST forms: category by MIX, a jittered address point, required attributes, a short description."""
    services = requests.get(f"{base}/services.json", timeout=10).json()
    definitions = {s["service_code"]: requests.get(f"{base}/services/{s['service_code']}.json", timeout=10).json()
                   for s in services}
    codes = list(definitions)
    weights = [MIX.get(c, 1) for c in codes]
    rng = random.Random(seed)
    reports = []
    for i in range(n):
        code = rng.choices(codes, weights)[0]
        lon, lat = points[i % len(points)]
        dlat = rng.uniform(-JITTER_M, JITTER_M) / 111_320
        dlon = rng.uniform(-JITTER_M, JITTER_M) / (111_320 * math.cos(math.radians(lat)))
        form = {"api_key": key, "service_code": code, "lat": f"{lat + dlat:.7f}", "long": f"{lon + dlon:.7f}",
                "description": f"压测上报 {i}：{code}", "device_id": f"bench-{i % 50}"}
        reports.append(form | attribute_values(definitions[code], rng))
    return reports


def post_all(port: int, reports: list[dict], threads: int) -> tuple[float, list[float], list[str], list[str]]:
    """POST every report from ``threads`` clients; (seconds, latencies, created codes, error answers).

    Each client keeps one HTTP/1.1 connection (plain ``http.client``: the load generator shares
    the machine's cores with the server, so it should spend as little CPU as it can). Bodies
    are encoded before the clock starts.
    """
    bodies = [urlencode(r, doseq=True).encode() for r in reports]
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    latencies: list[float] = []
    codes: list[str] = []
    errors: list[str] = []
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            with lock:
                i = next(cursor, None)
            if i is None:
                conn.close()
                return
            t0 = time.perf_counter()
            conn.request("POST", "/open311/v2/requests.json", body=bodies[i], headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            dt = time.perf_counter() - t0
            with lock:
                latencies.append(dt)
                if resp.status == 201:
                    codes.append(json.loads(data)[0]["service_request_id"])
                else:
                    errors.append(f"{resp.status} {data[:200].decode(errors='replace')}")

    workers = [threading.Thread(target=client) for _ in range(threads)]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return time.perf_counter() - t0, latencies, codes, errors


def in_process(reports: list[dict], ids: list[int]) -> float:
    """create_case on one connection, one transaction per case (no HTTP, no form parsing); ids collected in ``ids``."""
    with connect() as conn:
        t0 = time.perf_counter()
        for form in reports:
            attributes = {k[10:].split("]")[0]: v for k, v in form.items() if k.startswith("attribute[")}
            try:
                case = create_case(conn, category_code=form["service_code"], channel="public",
                                   lon=float(form["long"]), lat=float(form["lat"]), actor="bench-in-process",
                                   description=form["description"], attributes=attributes)
            except OutsideArea:  # a jittered point off the district's edge: refused, as over HTTP
                conn.rollback()
                continue
            conn.commit()
            ids.append(case.id)
        return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


def report(label: str, n: int, seconds: float, latencies: list[float] | None = None) -> float:
    rate = n / seconds
    line = f"{label:<34} {n:>6} cases in {seconds:7.2f} s = {rate:8.1f} cases/s"
    if latencies:
        line += f"   p50 {pct(latencies, 50):6.1f} ms  p95 {pct(latencies, 95):6.1f} ms"
    print(line, flush=True)
    return rate


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="reports POSTed concurrently (default 3000)")
    parser.add_argument("--threads", type=int, default=8, help="client threads (default 8)")
    parser.add_argument("--sequential", type=int, default=500, help="reports POSTed from one thread (baseline)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = get_settings()
    with connect() as conn:
        counts = fetch_table_counts(conn)
        if counts["address"] < 100_000:
            raise SystemExit(f"{settings.db_name} lacks the district-scale demo (run bench/viewport_addresses.py once)")
        points = fetch_sample_points(conn, args.n + args.sequential + args.n, seed=0.17)
        key_name = f"bench-open311-{int(time.time())}"
        key = create_api_key(conn, key_name, channel="public")
        conn.commit()
    print(f"database {settings.db_name}: {counts['address']:,} addresses, {counts['grid']:,} grids; "
          f"gunicorn {settings.workers} workers × 8 threads; {os.cpu_count()} CPUs", flush=True)
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}/open311/v2"
    created_codes: list[str] = []
    created_ids: list[int] = []
    try:
        reports = build_reports(base, points, args.n + args.sequential + args.n, key, args.seed)
        concurrent, sequential, local = (reports[:args.n], reports[args.n:args.n + args.sequential],
                                         reports[args.n + args.sequential:])
        # Warm-up (pools, plans) on reports that then are not timed; their cases are cleaned up too.
        created_codes += post_all(port, local[:50], args.threads)[2]
        seconds, lat, codes, errors = post_all(port, concurrent, args.threads)
        created_codes += codes
        rate = report(f"POST, {args.threads} client threads", len(codes), seconds, lat)
        s_seconds, s_lat, s_codes, s_errors = post_all(port, sequential, 1)
        created_codes += s_codes
        s_rate = report("POST, 1 client (baseline)", len(s_codes), s_seconds, s_lat)
        get_ms = []
        for _ in range(5):  # the read side: the newest 1,000 requests of the default 90-day window
            t0 = time.perf_counter()
            answered = requests.get(f"{base}/requests.json", timeout=60)
            get_ms.append((time.perf_counter() - t0) * 1000)
        print(f"{'GET requests.json (newest ≤ 1,000)':<34} {len(answered.json()):>6} requests, "
              f"median {statistics.median(get_ms):.0f} ms, {len(answered.content) / 1e6:.1f} MB", flush=True)
        l_seconds = in_process(local, created_ids)
        l_rate = report("create_case in-process, 1 conn", len(created_ids), l_seconds)
        refused = Counter(e.split(" ", 1)[0] for e in errors + s_errors)
        print(f"refused answers by status: {dict(refused) or 'none'} (400s are jittered points off the district's "
              f"edge); in-process refused: {len(local) - len(created_ids)}")
        for err in [e for e in errors + s_errors if not e.startswith("400")][:5]:
            print("unexpected:", err)
        print(f"concurrent POST vs 1 client: {rate / s_rate:.2f}x; vs in-process create_case: {rate / l_rate:.2f}x; "
              f"target ≥ 300 cases/s: {'met' if rate >= 300 else 'NOT met'}")
    finally:
        server.terminate()
        server.wait(timeout=30)
        with connect() as conn:
            with conn.transaction():
                ids = list(fetch_case_ids_by_code(conn, created_codes).values()) + created_ids
                removed = delete_cases(conn, sorted(set(ids)))
                revoke_api_key(conn, key_name)
        print(f"clean-up: {removed} bench cases and their events deleted, key {key_name} revoked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
