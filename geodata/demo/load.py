"""Write the demo district to PostGIS through the shared writers, and clear OneGrid data.

Everything here runs inside the caller's transaction and never commits: a failure anywhere
leaves the database as it was.
"""

from __future__ import annotations

import sys

import psycopg
from tqdm import tqdm

from geodata import store
from geodata.demo.build import DemoData, build_demo
from geodata.demo.district import DEFAULT_DISTRICT
from geodata.demo.synth_facilities import FACILITY_KINDS
from geodata.errors import ConfigError
from geodata.population.demo import write_demo_population

#: OneGrid's data tables, children before parents.
DATA_TABLES = ("population_cell", "population_publication", "resident_tag", "resident", "household", "facility",
               "address", "road", "grid", "admin_area")
_LOCK_KEY = 0x0E6121E  # advisory lock: one demo load at a time

_COUNT_AREAS = "SELECT count(*) FROM admin_area"
_KINDS = "SELECT code FROM facility_kind"
_LOCK = "SELECT pg_advisory_xact_lock(%s)"
# Fixed table names from DATA_TABLES only, never user text.
_COUNT = {t: f"SELECT count(*) FROM {t}" for t in DATA_TABLES}  # noqa: S608
# Cases and their events are named: they refer to areas and grids through statement-level checks
# (migration 0010), not foreign keys, so CASCADE would not reach them.
_TRUNCATE = f"TRUNCATE case_event, cases, {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE"


def count_admin_areas(conn: psycopg.Connection) -> int:
    """How many admin areas the database holds (0 = empty for the demo's purposes)."""
    try:
        return conn.execute(_COUNT_AREAS).fetchone()[0]
    except psycopg.errors.UndefinedTable as exc:
        raise ConfigError("the database has no OneGrid schema yet: run `onegrid db migrate`") from exc


def lock_demo(conn: psycopg.Connection) -> None:
    """Serialise demo loads until the caller's transaction ends."""
    conn.execute(_LOCK, (_LOCK_KEY,))


def delete_onegrid_data(conn: psycopg.Connection) -> dict[str, int]:
    """Delete all rows of OneGrid's data tables; returns the rows each table had.

    One ``TRUNCATE … CASCADE`` in the caller's transaction (rolled back with it): row-by-row
    DELETEs of a district take minutes because of the foreign-key checks, TRUNCATE takes
    milliseconds. CASCADE also empties tables added later that refer to these (cases, …),
    which are OneGrid data too. Identities restart, so a replaced demo gets the same ids as a
    fresh one. Reference tables (``facility_kind``, ``og_setting``) and migrations are kept.
    """
    counts = {t: conn.execute(_COUNT[t]).fetchone()[0] for t in DATA_TABLES}
    conn.execute(_TRUNCATE)
    return counts


def write_demo(conn: psycopg.Connection, data: DemoData, progress: bool = False) -> dict[str, int]:
    """Insert built demo data with :mod:`geodata.store` in the caller's transaction."""
    known = {r[0] for r in conn.execute(_KINDS)}
    missing = [k for k in FACILITY_KINDS if k not in known]
    if missing:
        raise ConfigError(f"facility_kind lacks {', '.join(missing)}: run `onegrid db migrate`")
    steps = [
        ("admin_area", lambda: store.write_admin_areas(
            conn, data.admin_areas[["code", "name", "level", "parent_code", "population", "geometry"]])),
        ("grid", lambda: store.write_grids(
            conn, data.grids[["code", "name", "community_code", "supervisor", "households", "geometry"]])),
        ("road", lambda: store.write_roads(conn, data.roads[["name", "kind", "geometry"]])),
        ("address", lambda: store.write_addresses(
            conn, data.addresses[["code", "full_text", "road", "number", "building", "unit", "geometry"]])),
        ("facility", lambda: store.write_facilities(
            conn, data.facilities[["code", "kind", "name", "capacity", "address_id", "geometry"]])),
        ("resident", lambda: write_demo_population(conn, data)),
    ]
    counts: dict[str, int] = {}
    with tqdm(steps, desc="writing", unit="table", file=sys.stderr, disable=not progress, leave=False) as bar:
        for table, write in bar:
            n = len(getattr(data, _FRAME[table]))
            bar.set_description(f"writing residents of {n:,} addresses" if table == "resident"
                                else f"writing {table} ({n:,} rows)")
            written = write()
            if isinstance(written, dict):  # the population step writes households, residents and tags
                counts.update(written)
            else:
                counts[table] = written
    return counts


_FRAME = {"admin_area": "admin_areas", "grid": "grids", "road": "roads", "address": "addresses",
          "facility": "facilities", "resident": "addresses"}


def write_history(conn: psycopg.Connection, *, days: int, scale: str, seed: int) -> int:
    """Seed demo dispatch rules and the last ``days`` days of cases (set-based, caller's
    transaction); returns the cases written."""
    from geodata.cases.history import seed_history

    return seed_history(conn, days=days, scale=scale, seed=seed)


def write_sensor_demo(conn: psycopg.Connection, *, scale: str, seed: int, history_days: int) -> dict[str, int]:
    """Demo sensors and their last hours of readings (at most 48 h; warnings opened, escalated
    and closed on the way) in the caller's transaction: ``{"sensor": n, "reading": n}``."""
    from geodata.warnings.demo import seed_reading_history, seed_sensors

    sensors = seed_sensors(conn, scale=scale, seed=seed)
    readings = seed_reading_history(conn, hours=min(48, 24 * history_days), seed=seed) if history_days else 0
    return {"sensor": sensors, "reading": readings}


def load_demo(conn: psycopg.Connection, district: str = DEFAULT_DISTRICT, scale: str = "small", seed: int = 42,
              progress: bool = False, history_days: int = 0) -> dict[str, int]:
    """Build the demo district and write it in the caller's transaction.

    Returns rows written per table. The database should hold no admin areas with the demo's
    codes (the writers reject duplicates); use :func:`delete_onegrid_data` first to replace.
    ``history_days`` > 0 also seeds that many days of cases (``onegrid demo load`` does 90;
    the default 0 keeps test fixtures free of cases), the demo sensors and their last 48 h of
    readings.
    """
    data = build_demo(district=district, scale=scale, seed=seed, progress=progress)
    counts = write_demo(conn, data, progress=progress)
    if history_days:
        counts["cases"] = write_history(conn, days=history_days, scale=scale, seed=seed)
        counts |= write_sensor_demo(conn, scale=scale, seed=seed, history_days=history_days)
    return counts
