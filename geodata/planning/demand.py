"""What a planning analysis is about: the facility kind, its walking radius, who it serves.

Defaults come from the database: the kind's life-circle level (``facility_kind.life_circle``)
→ radius (``plan_life_circle``: 5-min 300 m, 10-min 500 m, 15-min 1,000 m) and its demand
group (``plan_kind_demand``: elderly 60+ for elderly care, ages 3–5 for kindergartens, …).
Everything can be overridden per analysis.

Demand is residents per address (server side only: see :mod:`geodata.population`); the
browser only ever sees aggregates that pass the small-cell rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import psycopg

from geodata.errors import InvalidInput, NotFound
from geodata.planning.distance import DETOUR, Points

KINDS = """
SELECT k.code, k.name_zh, k.name_en, k.color, k.life_circle, c.radius_m, d.min_age, d.max_age, d.tag,
       (SELECT count(*) FROM facility f WHERE f.kind = k.code) AS facilities
  FROM facility_kind k
  LEFT JOIN plan_life_circle c ON c.level = k.life_circle
  LEFT JOIN plan_kind_demand d ON d.kind = k.code
 WHERE k.life_circle IS NOT NULL
 ORDER BY k.sort, k.code
"""
FACILITIES = """
SELECT id, name, capacity, ST_X(geom), ST_Y(geom) FROM facility WHERE kind = %(kind)s ORDER BY id
"""
# One row of column arrays (binary): ten times faster to read than 10⁵ rows.
ADDRESSES = """
SELECT array_agg(a.id ORDER BY a.id), array_agg(ST_X(a.geom) ORDER BY a.id), array_agg(ST_Y(a.geom) ORDER BY a.id),
       array_agg(coalesce(a.street_code, '') ORDER BY a.id), array_agg(coalesce(a.community_code, '') ORDER BY a.id),
       array_agg(a.h3_r8 ORDER BY a.id), array_agg(a.h3_r9 ORDER BY a.id), array_agg(a.h3_r10 ORDER BY a.id),
       array_agg(coalesce(w.edge_id, -1) ORDER BY a.id), array_agg(coalesce(w.fraction, 0) ORDER BY a.id),
       array_agg(coalesce(w.access_m, 0) ORDER BY a.id)
  FROM address a LEFT JOIN walk_access w ON w.address_id = a.id
"""


@dataclass(frozen=True)
class DemandGroup:
    """Residents a facility kind serves: ages ``min_age``..``max_age`` (inclusive, years;
    None = no bound) and/or one population tag (None = everyone)."""

    min_age: int | None = None
    max_age: int | None = None
    tag: str | None = None

    def __post_init__(self) -> None:
        for name in ("min_age", "max_age"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 150):
                raise InvalidInput(f"{name} must be a whole number of years 0..150, got {value!r}")
        if self.min_age is not None and self.max_age is not None and self.min_age > self.max_age:
            raise InvalidInput(f"minimum age {self.min_age} is above maximum age {self.max_age}")


@dataclass(frozen=True)
class Analysis:
    """One coverage analysis: facility kind, radius (metres), demand group, distance options."""

    kind: str
    radius_m: float
    group: DemandGroup
    detour: float = DETOUR
    use_network: bool = True

    def __post_init__(self) -> None:
        if not (50 <= float(self.radius_m) <= 5000):
            raise InvalidInput(f"service radius must be 50..5000 m, got {self.radius_m}")
        if not (1.0 <= float(self.detour) <= 3.0):
            raise InvalidInput(f"detour factor must be between 1 and 3, got {self.detour}")

    def as_dict(self) -> dict:
        return {"kind": self.kind, "radius_m": float(self.radius_m), "min_age": self.group.min_age,
                "max_age": self.group.max_age, "tag": self.group.tag, "detour": float(self.detour),
                "use_network": bool(self.use_network)}


def fetch_planning_kinds(conn: psycopg.Connection) -> list[dict]:
    """Facility kinds with a life-circle level, with their default radius and demand group."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(KINDS).fetchall()


def default_analysis(conn: psycopg.Connection, kind: str) -> Analysis:
    """The analysis the norms give for ``kind`` (radius from its life-circle level)."""
    for row in fetch_planning_kinds(conn):
        if row["code"] == kind:
            return Analysis(kind, float(row["radius_m"]), DemandGroup(row["min_age"], row["max_age"], row["tag"]))
    raise NotFound(f"facility kind {kind!r} has no life-circle level (kinds: "
                   f"{', '.join(r['code'] for r in fetch_planning_kinds(conn))})")


@dataclass(frozen=True)
class Sites:
    """Facilities or proposed sites: ids, labels, capacities (None = unlimited), lon/lat (EPSG:4326)."""

    ids: list
    labels: list[str]
    capacity: list
    points: Points

    def __len__(self) -> int:
        return len(self.ids)


def fetch_facilities(conn: psycopg.Connection, kind: str) -> Sites:
    rows = conn.execute(FACILITIES, {"kind": kind}).fetchall()
    return Sites([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows],
                 Points.of([r[3] for r in rows], [r[4] for r in rows]))


@dataclass(frozen=True)
class AddressFrame:
    """Every address (the district's demand locations) with its demand count ``n``."""

    ids: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    street: np.ndarray
    community: np.ndarray
    h3: dict[int, np.ndarray]
    n: np.ndarray
    access: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    @property
    def points(self) -> Points:
        return Points(self.lon, self.lat, self.ids, self.access)


def fetch_addresses(conn: psycopg.Connection, demand: dict[int, int]) -> AddressFrame:
    """All addresses with ``n`` = demand per address (``demand``: address id → people)."""
    cols = conn.cursor(binary=True).execute(ADDRESSES).fetchone()
    cols = [c if c is not None else [] for c in cols]
    ids = np.asarray(cols[0], dtype=np.int64)
    n = np.zeros(len(ids), dtype=np.int64)
    if demand and len(ids):
        keys = np.fromiter(demand.keys(), np.int64, len(demand))
        pos = np.searchsorted(ids, keys)
        ok = (pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == keys)
        n[pos[ok]] = np.fromiter(demand.values(), np.int64, len(demand))[ok]
    edge = np.asarray(cols[8], np.int64)
    # Joined to the walking graph when it was built (-1: not joined, e.g. no network yet).
    access = (edge, np.asarray(cols[9], float), np.asarray(cols[10], float)) if len(edge) and (edge >= 0).all() else None
    return AddressFrame(ids, np.asarray(cols[1], float), np.asarray(cols[2], float), np.asarray(cols[3], object),
                        np.asarray(cols[4], object), {8: np.asarray(cols[5], np.int64), 9: np.asarray(cols[6], np.int64),
                                                      10: np.asarray(cols[7], np.int64)}, n, access)


TAGS = """
SELECT code, name_zh, name_en FROM population_tag ORDER BY sort, code
"""
HAS_TAGS = "SELECT to_regclass('population_tag') IS NOT NULL"


def fetch_tags(conn: psycopg.Connection) -> list[dict]:
    """Population tags a demand group may be limited to (none before residents are loaded)."""
    if not conn.execute(HAS_TAGS).fetchone()[0]:
        return []
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(TAGS).fetchall()


def fetch_demand(conn: psycopg.Connection, group: DemandGroup) -> dict[int, int]:
    """Residents of ``group`` per address id (server side only; never sent to a browser)."""
    try:
        from geodata.population.read import fetch_demand_by_address
    except ModuleNotFoundError as exc:  # a build without the residents feature
        raise NotFound("resident data is not part of this build: no demand to plan for") from exc

    frame = fetch_demand_by_address(conn, group.min_age, group.max_age, group.tag)
    return dict(zip(frame["address_id"].tolist(), frame["n"].tolist(), strict=True))
