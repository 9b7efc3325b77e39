"""Demo case history: the last N days of a district's cases, built in numpy and written with
:func:`geodata.cases.batch.write_cases` (set-based, seconds for ~50,000 cases).

Volume follows the weekday and hour-of-day profile of :mod:`geodata.cases.traffic`. Each
case runs the workflow with plausible delays: registration within minutes, dispatch soon
after, handling taking a category-dependent share of its time limit (most on time, some
late, a few stuck and overdue), verification, and an evaluation for many. Steps that would
lie after "now" have not happened yet, so recent cases are still open. Cases sit on real
address points (EPSG:4326 lon/lat). Deterministic per seed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg

from geodata.cases.batch import write_cases
from geodata.cases.catalog import fetch_categories
from geodata.cases.traffic import (
    CATEGORY_WEIGHTS,
    CHANNEL_WEIGHTS,
    DESCRIPTIONS,
    HOUR_PROFILE,
    WEEKDAY_PROFILE,
)
from geodata.settings import get_settings

#: Average cases per day by demo scale.
DAILY = {"district": 600, "small": 17}
_ADDRESSES = "SELECT ST_X(geom), ST_Y(geom) FROM address WHERE community_code IS NOT NULL ORDER BY id"
_HISTORY_COUNT = "SELECT count(*) FROM case_event WHERE actor = 'demo history' AND action = 'report'"
_STREETS = "SELECT code FROM admin_area WHERE level = 'street' ORDER BY code"
_RULE = """
INSERT INTO dispatch_rule (category_code, street_code, department_code) VALUES (%s, %s, %s)
ON CONFLICT DO NOTHING"""
#: Street-specific dispatch rules the demo starts with: (category, street index, department).
DEMO_RULES = (("illegal_parking", 0, "city_management"), ("garbage", 1, "community_office"),
              ("noise", 2, "community_office"), ("street_vending", 0, "market_regulation"))


def seed_dispatch_rules(conn: psycopg.Connection) -> int:
    """A few category × street rules (demo data); returns how many were added."""
    streets = [r[0] for r in conn.execute(_STREETS)]
    added = 0
    for category, index, department in DEMO_RULES:
        if index < len(streets):
            added += conn.execute(_RULE, (category, streets[index], department)).rowcount
    return added


def _report_times(rng: np.random.Generator, days: int, daily: float, now: datetime) -> pd.DatetimeIndex:
    tz = now.tzinfo
    first = (now - timedelta(days=days)).replace(hour=0, minute=0, second=0, microsecond=0)
    hours = np.asarray(HOUR_PROFILE) / np.sum(HOUR_PROFILE)
    mean_day = np.mean(WEEKDAY_PROFILE)
    stamps = []
    for d in range(days + 1):
        day = first + timedelta(days=d)
        n = rng.poisson(daily * WEEKDAY_PROFILE[day.weekday()] / mean_day)
        hour = rng.choice(24, size=n, p=hours)
        seconds = hour * 3600 + rng.integers(0, 3600, size=n)
        stamps.append(pd.Timestamp(day) + pd.to_timedelta(seconds, unit="s"))
    times = pd.DatetimeIndex(np.concatenate([s.tz_convert(None).to_numpy() for s in stamps])).tz_localize("UTC")
    times = times.tz_convert(tz)
    return times[(times < now) & (times >= now - timedelta(days=days))].sort_values()


def _minutes(rng, scale, n):
    return pd.to_timedelta(rng.exponential(scale, size=n), unit="min")


def build_history(conn: psycopg.Connection, *, days: int, scale: str, seed: int,
                  now: datetime | None = None) -> gpd.GeoDataFrame:
    """The history frame ``write_cases`` takes (EPSG:4326 points at address locations)."""
    rng = np.random.default_rng(seed + 311)
    tz = ZoneInfo(get_settings().timezone)
    now = (now or datetime.now(tz)).astimezone(tz)
    reported = _report_times(rng, days, DAILY.get(scale, DAILY["small"]), now)
    n = len(reported)
    cats = list(CATEGORY_WEIGHTS)
    category = rng.choice(cats, size=n, p=np.array([CATEGORY_WEIGHTS[c] for c in cats]) / sum(CATEGORY_WEIGHTS.values()))
    chans = list(CHANNEL_WEIGHTS)
    channel = rng.choice(chans, size=n, p=np.array([CHANNEL_WEIGHTS[c] for c in chans]) / sum(CHANNEL_WEIGHTS.values()))
    limits = {c["code"]: c["time_limit_hours"] for c in fetch_categories(conn, active_only=False)}
    limit = pd.to_timedelta(np.array([limits[c] for c in category]), unit="h")
    registered = reported + _minutes(rng, 15, n)
    dispatched = registered + _minutes(rng, 20, n)
    started = dispatched + limit * rng.uniform(0.02, 0.15, n)
    # Handling time as a share of the limit: ~78 % on time, the rest late; 2 % stuck.
    share = rng.lognormal(mean=-0.55, sigma=0.6, size=n)
    fed_back = started + limit * share
    closed = fed_back + _minutes(rng, 60, n)
    evaluated = closed + _minutes(rng, 360, n)
    stuck = rng.random(n) < 0.02
    rejected = rng.random(n) < 0.04
    evaluates = rng.random(n) < 0.6
    nat = pd.NaT
    frame = pd.DataFrame({"category_code": category, "channel": channel, "reported_at": reported})
    steps = {"registered_at": registered, "dispatched_at": dispatched, "started_at": started,
             "fed_back_at": fed_back, "closed_at": closed, "evaluated_at": evaluated}
    for column, values in steps.items():
        series = pd.Series(values, index=frame.index)
        series[series >= now] = nat
        if column != "registered_at":
            series[rejected] = nat
        if column in ("fed_back_at", "closed_at", "evaluated_at"):
            series[stuck] = nat
        if column == "evaluated_at":
            series[~evaluates] = nat
        frame[column] = series
    # Each later step only happens once the earlier one has.
    order = list(steps)
    for before, after in zip(order, order[1:], strict=False):
        frame.loc[frame[before].isna(), after] = nat
    frame["state"] = None
    frame.loc[rejected, "state"] = "rejected"
    frame["satisfaction"] = np.where(frame["evaluated_at"].notna(), rng.choice([3, 4, 4, 5, 5], size=n), None)
    frame["satisfaction"] = frame["satisfaction"].astype(object)
    frame.loc[frame["evaluated_at"].notna(), "state"] = "evaluated"
    frame["description"] = [DESCRIPTIONS[c][i % len(DESCRIPTIONS[c])] for i, c in enumerate(category)]
    points = np.asarray(conn.execute(_ADDRESSES).fetchall(), dtype=float)
    pick = rng.integers(0, len(points), size=n)
    geometry = gpd.points_from_xy(points[pick, 0], points[pick, 1], crs="EPSG:4326")
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def count_history_cases(conn: psycopg.Connection) -> int:
    """How many cases the demo history wrote (their 'report' events carry its actor)."""
    return conn.execute(_HISTORY_COUNT).fetchone()[0]


def seed_history(conn: psycopg.Connection, *, days: int = 90, scale: str = "district", seed: int = 42,
                 now: datetime | None = None) -> int:
    """Write ``days`` days of demo cases (and demo dispatch rules) in the caller's transaction."""
    seed_dispatch_rules(conn)
    if days <= 0:
        return 0
    frame = build_history(conn, days=days, scale=scale, seed=seed, now=now)
    if frame.empty:
        return 0
    return write_cases(conn, frame, actor="demo history")
