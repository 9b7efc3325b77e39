"""Live case traffic through the real code path (``create_case`` and ``transition``).

Each tick (one second) reports about ``rate`` new cases — shaped by the local time of day —
at points near real addresses (dense areas get more; a few hotspots get a lot, so likely
duplicates happen), then moves some open cases one workflow step on. Every case and every
step is committed on its own, as operators would. Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np
import psycopg

from geodata.cases.intake import create_case
from geodata.cases.model import OPEN_STATES
from geodata.cases.traffic import attributes_for, day_factor, describe, pick_report
from geodata.cases.workflow import transition
from geodata.errors import Conflict, InvalidInput, OutsideArea
from geodata.settings import get_settings

_SAMPLE_ADDRESSES = """
SELECT ST_X(geom), ST_Y(geom) FROM address WHERE community_code IS NOT NULL
 ORDER BY md5(id::text || %s) LIMIT %s"""
_OPEN_SAMPLE = """
SELECT id, state, version, duplicate_of FROM cases
 WHERE state = ANY(%s) OR (state = 'closed' AND closed_at > now() - interval '1 day')
 ORDER BY md5(id::text || %s) LIMIT %s"""
#: state → the actions an operator takes next, with weights.
NEXT = {
    "reported": {"register": 90, "reject": 5, "mark_duplicate": 5},
    "registered": {"dispatch": 100},
    "dispatched": {"start": 100},
    "handling": {"feedback": 100},
    "fed_back": {"close": 85, "return": 15},
    "returned": {"start": 100},
    "closed": {"evaluate": 100},
}
ACTORS = {"register": "指挥中心受理员", "dispatch": "指挥中心派遣员", "start": "处置部门", "feedback": "处置部门",
          "close": "指挥中心核查员", "return": "指挥中心核查员", "evaluate": "指挥中心", "reject": "指挥中心受理员",
          "mark_duplicate": "指挥中心受理员"}


@dataclass
class TickReport:
    """What one tick did."""

    tick: int
    created: int = 0
    duplicates: int = 0
    moved: int = 0
    refused: int = 0
    actions: dict = field(default_factory=dict)

    def line(self) -> str:
        acts = " ".join(f"{a}:{n}" for a, n in sorted(self.actions.items()))
        return (f"tick {self.tick}: +{self.created} cases ({self.duplicates} likely duplicates), "
                f"{self.moved} moved [{acts}], {self.refused} refused")


class CaseSimulator:
    """Generates live traffic on one connection (commits per case and per step)."""

    def __init__(self, conn: psycopg.Connection, *, rate: float, seed: int | None = None,
                 addresses: int = 3000, hotspots: int = 8):
        if not (rate > 0 and math.isfinite(rate)):
            raise InvalidInput(f"rate must be a positive number of cases per second, got {rate!r}")
        self.conn, self.rate = conn, float(rate)
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        salt = str(seed if seed is not None else self.rng.random())
        points = conn.execute(_SAMPLE_ADDRESSES, (salt, addresses)).fetchall()
        conn.commit()
        if not points:
            raise InvalidInput("the database has no addresses inside communities: load the demo first "
                               "(onegrid demo load)")
        self.points = points
        self.hotspots = self.rng.sample(points, min(hotspots, len(points)))
        self.tz = ZoneInfo(get_settings().timezone)
        self.ticks = 0

    def _place(self) -> tuple[float, float]:
        """Near an address (jitter ~20 m); one report in five at a hotspot (within ~40 m)."""
        lon, lat = self.rng.choice(self.hotspots) if self.rng.random() < 0.2 else self.rng.choice(self.points)
        metres = 40 if self.rng.random() < 0.2 else 20
        dlat = self.rng.gauss(0, metres / 2) / 111_000
        dlon = self.rng.gauss(0, metres / 2) / (111_000 * math.cos(math.radians(lat)))
        return lon + dlon, lat + dlat

    def _report(self, report: TickReport) -> None:
        category, channel = pick_report(self.rng)
        lon, lat = self._place()
        try:
            case = create_case(self.conn, category_code=category, channel=channel, lon=lon, lat=lat,
                               actor=f"sim:{channel}", description=describe(self.rng, category),
                               attributes=attributes_for(self.rng, category),
                               source_ref=f"SIM-{self.rng.randrange(10**6):06d}" if channel in ("video", "iot") else None)
        except OutsideArea:  # jitter pushed it over the district edge
            self.conn.rollback()
            report.refused += 1
            return
        self.conn.commit()
        report.created += 1
        report.duplicates += case.duplicate_of is not None

    def _move(self, case_id: int, state: str, version: int, duplicate_of, report: TickReport) -> None:
        action = self.rng.choices(list(NEXT[state]), weights=list(NEXT[state].values()))[0]
        if action == "mark_duplicate" and duplicate_of is None:
            action = "register"
        kw = {"satisfaction": self.rng.choice((3, 4, 4, 5, 5))} if action == "evaluate" else {}
        kw |= {"duplicate_of": duplicate_of} if action == "mark_duplicate" else {}
        note = {"reject": "不属于受理范围", "return": "现场核查未处理到位"}.get(action, "")
        try:
            transition(self.conn, case_id, action, actor=ACTORS[action], note=note, expected_version=version, **kw)
            self.conn.commit()
        except (Conflict, InvalidInput):  # someone else acted first: fine, skip it
            self.conn.rollback()
            report.refused += 1
            return
        report.moved += 1
        report.actions[action] = report.actions.get(action, 0) + 1

    def tick(self, now: datetime | None = None) -> TickReport:
        """One second of traffic: new reports, then workflow steps on sampled open cases."""
        self.ticks += 1
        report = TickReport(self.ticks)
        local = (now or datetime.now(self.tz)).astimezone(self.tz)
        expected = self.rate * day_factor(local.hour, local.weekday())
        for _ in range(int(self.np_rng.poisson(expected))):
            self._report(report)
        moves = int(self.np_rng.poisson(max(self.rate, 0.5) * 1.2))
        if moves:
            rows = self.conn.execute(_OPEN_SAMPLE, (list(OPEN_STATES), f"{self.ticks}{self.rng.random()}",
                                                    moves)).fetchall()
            self.conn.commit()
            for case_id, state, version, duplicate_of in rows:
                self._move(case_id, state, version, duplicate_of, report)
        return report
