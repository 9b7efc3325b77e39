"""Live sensor traffic through the real code path (``write_readings`` and ``act_on_warning``).

Each sensor reports about once per ``period`` seconds a value near its kind's normal level
(units as in ``sensor_kind``); now and then an incident starts at one sensor — gas leak,
smoke, a flooded underpass, a lifted cover, a stuck lift, a pressure drop — and its readings
ramp up to a peak and back over several reports, so warnings open and escalate like real
ones. Operators act on open warnings after a while (acknowledge, dismiss as a false alarm,
or turn into a case). Every unit of work is one ``conn.transaction()`` block: on an idle
connection each commits on its own (live), inside the caller's transaction each is a savepoint
(the demo history, written with the rest of the demo). Used live by ``onegrid simulate`` and,
with a simulated clock, for the demo's reading history.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import psycopg

from geodata.errors import Conflict, InvalidInput
from geodata.warnings.readings import write_readings
from geodata.warnings.workflow import act_on_warning

#: kind → (normal value, noise sd, incident peak range) in the kind's unit. Hydrant pressure
#: is dangerous when low, so its "peak" is a drop.
PROFILES = {
    "gas": (0.3, 0.3, (6.0, 40.0)),
    "smoke": (0.2, 0.15, (2.5, 16.0)),
    "water_level": (0.0, 0.5, (6.0, 60.0)),
    "manhole_tilt": (0.5, 0.3, (4.0, 40.0)),
    "elevator": (0.0, 0.0, (12.0, 180.0)),
    "hydrant_pressure": (0.32, 0.01, (0.19, 0.02)),
}
_SENSORS = "SELECT id, kind_code FROM sensor WHERE active ORDER BY id"
_OPEN = """
SELECT id, state, version, extract(epoch FROM %s::timestamptz - updated_at) AS age FROM warning
 WHERE state IN ('active', 'acknowledged') ORDER BY md5(id::text || %s) LIMIT %s"""
ACTOR = "指挥中心值班员"
DISMISS_REASONS = ("误报：设备自检", "误报：现场核实无异常", "设备维护中")


@dataclass
class ReadingTick:
    """What one tick did."""

    readings: int = 0
    opened: int = 0
    escalated: int = 0
    actions: dict = field(default_factory=dict)

    def line(self) -> str:
        acts = " ".join(f"{a}:{n}" for a, n in sorted(self.actions.items()))
        return f"{self.readings} readings, +{self.opened} warnings, {self.escalated} escalated [{acts}]"


def incident_value(kind: str, step: int, length: int, peak: float) -> float:
    """Reading ``step`` (0-based) of an incident of ``length`` reports peaking at ``peak``:
    a triangle from the normal value to the peak and back."""
    normal = PROFILES[kind][0]
    half = max(1, length // 2)
    share = 1 - abs(step - half) / half
    return normal + (peak - normal) * max(0.0, share)


class ReadingSimulator:
    """Sensor readings and operator actions on one connection.

    ``period``: seconds between reports of one sensor; ``incidents_per_hour``: district-wide
    incident starts; ``act_after``: seconds before an operator acts on an open warning.
    """

    def __init__(self, conn: psycopg.Connection, *, seed: int | None = None, period: float = 30.0,
                 incidents_per_hour: float = 30.0, act_after: float = 45.0):
        if not (period > 0 and math.isfinite(period)):
            raise InvalidInput(f"period must be a positive number of seconds, got {period!r}")
        if not (incidents_per_hour >= 0 and math.isfinite(incidents_per_hour)):
            raise InvalidInput(f"incidents per hour must be ≥ 0, got {incidents_per_hour!r}")
        self.conn, self.period, self.act_after = conn, float(period), float(act_after)
        self.rng = random.Random(seed)
        with conn.transaction():
            self.sensors = conn.execute(_SENSORS).fetchall()
        self.incident_rate = incidents_per_hour / 3600.0
        self.incidents: dict[int, list] = {}  # sensor id → [step, length, peak]
        self.ticks = 0

    def _value(self, sid: int, kind: str) -> float:
        normal, sd, _ = PROFILES.get(kind, (0.0, 0.1, (1.0, 1.0)))
        inc = self.incidents.get(sid)
        if inc is None:
            value = normal + self.rng.gauss(0, sd)
            return round(max(0.0, value), 3)
        step, length, peak = inc
        inc[0] += 1
        if inc[0] > length:
            del self.incidents[sid]
        return round(max(0.0, incident_value(kind, step, length, peak) + self.rng.gauss(0, sd)), 3)

    def _start_incidents(self, seconds: float) -> None:
        expected = self.incident_rate * seconds
        n = int(expected) + (self.rng.random() < expected - int(expected))
        for _ in range(n):
            sid, kind = self.rng.choice(self.sensors)
            if sid not in self.incidents and kind in PROFILES:
                lo, hi = PROFILES[kind][2]
                # Mostly mild incidents, a few severe ones (peak drawn towards the low end).
                peak = lo + (hi - lo) * self.rng.random() ** 2
                self.incidents[sid] = [0, self.rng.randint(4, 10), peak]

    def _act(self, now: datetime, report: ReadingTick, moves: int) -> None:
        with self.conn.transaction():
            rows = self.conn.execute(_OPEN, (now, f"{self.ticks}{self.rng.random()}", moves)).fetchall()
        for wid, state, version, age in rows:
            if age < self.act_after:
                continue
            roll = self.rng.random()
            if state == "active":
                action = "acknowledge" if roll < 0.6 else "dismiss" if roll < 0.75 else "convert"
            else:
                action = "convert" if roll < 0.6 else "dismiss"
            reason = self.rng.choice(DISMISS_REASONS) if action == "dismiss" else ""
            try:
                with self.conn.transaction():
                    act_on_warning(self.conn, wid, action, actor=ACTOR, reason=reason, expected_version=version,
                                   at=now)
            except (Conflict, InvalidInput):  # someone else acted first
                continue
            report.actions[action] = report.actions.get(action, 0) + 1

    def tick(self, now: datetime, seconds: float = 1.0, share: float | None = None) -> ReadingTick:
        """``seconds`` of traffic ending at ``now`` (aware): reports from the sensors due (each with
        probability ``seconds / period``, or ``share``), then operator actions."""
        self.ticks += 1
        report = ReadingTick()
        if not self.sensors:
            return report
        self._start_incidents(seconds)
        share = min(1.0, seconds / self.period) if share is None else share
        due = [(sid, kind) for sid, kind in self.sensors if sid in self.incidents or self.rng.random() < share]
        if due:
            ats = [now - timedelta(milliseconds=self.rng.randrange(0, max(1, int(seconds * 1000)))) for _ in due]
            vals = [self._value(sid, kind) for sid, kind in due]
            with self.conn.transaction():
                result = write_readings(self.conn, [sid for sid, _ in due], ats, vals)
            report.readings, report.opened, report.escalated = result.written, len(result.opened), len(result.escalated)
        self._act(now, report, moves=max(1, int(seconds / 5)))
        return report
