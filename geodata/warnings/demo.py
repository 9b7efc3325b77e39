"""Demo sensors and their recent history for the demo district.

Building sensors (gas, smoke, elevator) sit at standard addresses; street sensors (water level
at low-lying road points, manhole covers, hydrants) sit on road centre lines. The history runs
:class:`geodata.warnings.simulate.ReadingSimulator` on a simulated hourly clock, so warnings
opened, escalated and closed in the past hours look like the live ones. Deterministic per seed.
Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from geodata.settings import get_settings
from geodata.warnings.sensors import write_sensors
from geodata.warnings.simulate import ReadingSimulator

#: Sensors per kind by demo scale.
COUNTS = {
    "district": {"gas": 420, "smoke": 520, "elevator": 260, "water_level": 90, "manhole_tilt": 320,
                 "hydrant_pressure": 240},
    "small": {"gas": 12, "smoke": 14, "elevator": 6, "water_level": 5, "manhole_tilt": 10, "hydrant_pressure": 8},
}
PREFIX = {"gas": "RQ", "smoke": "YG", "elevator": "DT", "water_level": "JS", "manhole_tilt": "JG",
          "hydrant_pressure": "XH"}
_ADDRESSES = """
SELECT ST_X(geom), ST_Y(geom), full_text FROM address WHERE community_code IS NOT NULL
 ORDER BY md5(id::text || %s) LIMIT %s"""
# Points along roads, inside the district's communities (road ends may cross the edge).
_ROAD_POINTS = """
SELECT ST_X(p), ST_Y(p), name FROM (
    SELECT ST_LineInterpolatePoint(ST_GeometryN(r.geom, 1), (abs(hashtext(r.id::text || %(salt)s)) %% 1000) / 1000.0) AS p,
           r.name
      FROM road r ORDER BY md5(r.id::text || %(salt)s) LIMIT %(n)s) x
 WHERE EXISTS (SELECT 1 FROM admin_area a WHERE a.level = 'community' AND ST_Covers(a.geom, x.p))"""
_COUNT = "SELECT count(*) FROM sensor"


def seed_sensors(conn: psycopg.Connection, scale: str = "small", seed: int = 42) -> int:
    """Write the demo sensors (codes like ``RQ-000001``) in the caller's transaction; returns
    how many. Does nothing when sensors exist already."""
    if conn.execute(_COUNT).fetchone()[0]:
        return 0
    counts = COUNTS.get(scale, COUNTS["small"])
    building = sum(counts[k] for k in ("gas", "smoke", "elevator"))
    street = sum(counts[k] for k in ("water_level", "manhole_tilt", "hydrant_pressure"))
    addresses = conn.execute(_ADDRESSES, (f"sensor{seed}", building)).fetchall()
    roads = conn.execute(_ROAD_POINTS, {"salt": f"sensor{seed}", "n": street * 2}).fetchall()[:street]
    rows, pools = [], {"building": iter(addresses), "street": iter(roads)}
    for kind, n in counts.items():
        pool = pools["building" if kind in ("gas", "smoke", "elevator") else "street"]
        for i in range(n):
            point = next(pool, None)
            if point is None:
                break
            lon, lat, where = point
            rows.append({"code": f"{PREFIX[kind]}-{i + 1:06d}", "kind": kind, "name": where or "",
                         "lon": lon, "lat": lat})
    return write_sensors(conn, rows)


def seed_reading_history(conn: psycopg.Connection, hours: int = 48, seed: int = 42,
                         now: datetime | None = None) -> int:
    """Simulate the last ``hours`` of readings hour by hour (every sensor reports each hour,
    incidents and operator actions included) in the caller's transaction; returns readings
    written."""
    now = now or datetime.now(ZoneInfo(get_settings().timezone))
    sim = ReadingSimulator(conn, seed=seed, period=3600, incidents_per_hour=max(1.0, len(_sensors(conn)) / 40),
                           act_after=2 * 3600)
    rng = random.Random(seed)
    written = 0
    for h in range(hours, 0, -1):
        at = now - timedelta(hours=h, minutes=rng.randrange(60))
        written += sim.tick(at, seconds=3600, share=1.0).readings
    return written


def _sensors(conn) -> list:
    return conn.execute("SELECT id FROM sensor").fetchall()
