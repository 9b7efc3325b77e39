"""Readings in, warnings out: store a batch of readings and apply the warning rules.

``write_readings`` stores the readings (a repeated ``(sensor, at)`` is ignored), keeps each
sensor's last value and level, and — per sensor — takes the most severe level the batch
reached: no open warning → one opens at that level; an open warning at a lower level →
it escalates (an acknowledged one becomes active again, someone must look anew). A warning
never de-escalates by itself: operators close it (dismiss / convert). Every open and
escalation appends a ``warning_event``. Set-based: four statements per batch whatever its size.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from geodata.errors import InvalidInput
from geodata.warnings.model import LEVEL_RANK, LEVELS

#: Actor recorded on events the rules cause.
RULE_ACTOR = "预警规则"
MAX_BATCH = 200_000

# Store readings, update each sensor's last value/level, and return per sensor the most
# severe new reading (rank 1..4 = blue..red; earliest of equals).
_STORE = """
WITH r AS (SELECT * FROM unnest(%(ids)s::bigint[], %(ats)s::timestamptz[], %(vals)s::float8[])
                    AS r(sensor_id, at, value)),
ins AS (
    INSERT INTO reading (sensor_id, at, street_code, value)
    SELECT r.sensor_id, r.at, s.street_code, r.value FROM r JOIN sensor s ON s.id = r.sensor_id
    ON CONFLICT (sensor_id, at) DO NOTHING
    RETURNING sensor_id, at, value),
lv AS (
    SELECT i.sensor_id, i.at, i.value, k.unit,
           (SELECT max(array_position(%(levels)s::text[], w.level)) FROM warning_rule w
             WHERE w.kind_code = s.kind_code
               AND CASE k.direction WHEN 'above' THEN i.value >= w.threshold ELSE i.value <= w.threshold END) AS rank
      FROM ins i JOIN sensor s ON s.id = i.sensor_id JOIN sensor_kind k ON k.code = s.kind_code),
latest AS (SELECT DISTINCT ON (sensor_id) sensor_id, at, value, rank FROM lv ORDER BY sensor_id, at DESC),
upd AS (
    UPDATE sensor s SET last_value = l.value, last_at = l.at, level = (%(levels)s::text[])[l.rank]
      FROM latest l WHERE s.id = l.sensor_id AND (s.last_at IS NULL OR s.last_at <= l.at)
    RETURNING s.id)
SELECT (SELECT count(*) FROM ins) AS written, (SELECT count(*) FROM upd) AS sensors,
       (SELECT coalesce(json_agg(json_build_object('sensor_id', sensor_id, 'at', at, 'value', value,
                                                  'rank', rank, 'unit', unit)), '[]')
          FROM (SELECT DISTINCT ON (sensor_id) * FROM lv WHERE rank IS NOT NULL
                ORDER BY sensor_id, rank DESC, at) p) AS peaks"""
_UNKNOWN = "SELECT array_agg(i) FROM unnest(%s::bigint[]) i WHERE NOT EXISTS (SELECT 1 FROM sensor WHERE id = i)"
_LOCK_OPEN = """
SELECT id, sensor_id, level, state FROM warning
 WHERE sensor_id = ANY(%s) AND state IN ('active', 'acknowledged') ORDER BY id FOR UPDATE"""
_ESCALATE = """
WITH e AS (SELECT * FROM unnest(%(ids)s::bigint[], %(levels)s::text[], %(vals)s::float8[], %(ats)s::timestamptz[],
                                %(from)s::text[], %(notes)s::text[]) AS e(id, level, value, at, from_state, note)),
upd AS (
    UPDATE warning w SET level = e.level, value = e.value, escalated_at = e.at, state = 'active',
                         updated_at = e.at, version = w.version + 1
      FROM e WHERE w.id = e.id
    RETURNING w.id, w.street_code, e.level, e.value, e.at, e.from_state, e.note)
INSERT INTO warning_event (warning_id, street_code, at, action, from_state, to_state, level, value, actor, note)
SELECT id, street_code, at, 'escalate', from_state, 'active', level, value, %(actor)s, note FROM upd"""
_OPEN = """
WITH o AS (SELECT * FROM unnest(%(sensors)s::bigint[], %(levels)s::text[], %(vals)s::float8[], %(ats)s::timestamptz[],
                                %(notes)s::text[]) AS o(sensor_id, level, value, at, note)),
ins AS (
    INSERT INTO warning (sensor_id, kind_code, street_code, community_code, grid_code, h3_r8, level, first_level,
                         value, opened_at, updated_at, geom)
    SELECT s.id, s.kind_code, s.street_code, s.community_code, s.grid_code, s.h3_r8, o.level, o.level,
           o.value, o.at, o.at, s.geom
      FROM o JOIN sensor s ON s.id = o.sensor_id
    ON CONFLICT (sensor_id) WHERE state IN ('active', 'acknowledged') DO NOTHING
    RETURNING id, sensor_id, street_code, level, value, opened_at),
ev AS (
    INSERT INTO warning_event (warning_id, street_code, at, action, from_state, to_state, level, value, actor, note)
    SELECT ins.id, ins.street_code, ins.opened_at, 'open', NULL, 'active', ins.level, ins.value, %(actor)s, o.note
      FROM ins JOIN o ON o.sensor_id = ins.sensor_id)
SELECT id FROM ins ORDER BY id"""


@dataclass
class ReadingReport:
    """What one batch did: readings stored, warnings opened and escalated (ids)."""

    written: int = 0
    opened: list[int] = field(default_factory=list)
    escalated: list[int] = field(default_factory=list)


def _check(sensor_ids, ats, values) -> tuple[list[int], list[datetime], list[float]]:
    if not (len(sensor_ids) == len(ats) == len(values)):
        raise InvalidInput("sensor_ids, ats and values must have the same length")
    if len(sensor_ids) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH:,} readings per batch, got {len(sensor_ids):,}")
    ids, times, vals = [], [], []
    for i, (sid, at, value) in enumerate(zip(sensor_ids, ats, values, strict=True), 1):
        try:
            sid, value = int(sid), float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"reading {i}: sensor id and value must be numbers, got {sid!r}, {value!r}") from exc
        if not math.isfinite(value):
            raise InvalidInput(f"reading {i} (sensor {sid}): value must be a finite number, got {value!r}")
        if not isinstance(at, datetime) or at.tzinfo is None or at.utcoffset() is None:
            raise InvalidInput(f"reading {i} (sensor {sid}): time must be an aware datetime, got {at!r}")
        ids.append(sid)
        times.append(at)
        vals.append(value)
    return ids, times, vals


def _note(level: str, value: float, unit: str, previous: str | None = None) -> str:
    head = f"{previous} → {level}" if previous else level
    return f"{head}: reading {value:g} {unit}"


def write_readings(conn: psycopg.Connection, sensor_ids, ats, values) -> ReadingReport:
    """Store readings (parallel sequences: sensor id, aware time, value in the kind's unit) and
    apply the warning rules (see the module docstring).

    All-or-nothing: a non-finite value, a naive time or an unknown sensor refuses the batch
    (InvalidInput naming it). Returns a :class:`ReadingReport`. Never commits.
    """
    ids, times, vals = _check(sensor_ids, ats, values)
    report = ReadingReport()
    if not ids:
        return report
    unknown = conn.execute(_UNKNOWN, (sorted(set(ids)),)).fetchone()[0]
    if unknown:
        raise InvalidInput(f"unknown sensor id(s) {', '.join(map(str, unknown[:20]))}; nothing written")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_STORE, {"ids": ids, "ats": times, "vals": vals, "levels": list(LEVELS)}).fetchone()
    report.written = int(row["written"])
    peaks = {p["sensor_id"]: {**p, "value": float(p["value"])} for p in row["peaks"]}
    if not peaks:
        return report
    open_rows = conn.execute(_LOCK_OPEN, (sorted(peaks),)).fetchall()
    escalate = []
    for wid, sid, level, state in open_rows:
        p = peaks.pop(sid)
        if p["rank"] > LEVEL_RANK[level]:
            new = LEVELS[p["rank"] - 1]
            escalate.append((wid, new, p["value"], p["at"], state, _note(new, p["value"], p["unit"], level)))
    if escalate:
        cols = list(zip(*escalate, strict=True))
        conn.execute(_ESCALATE, {"ids": list(cols[0]), "levels": list(cols[1]), "vals": list(cols[2]),
                                 "ats": list(cols[3]), "from": list(cols[4]), "notes": list(cols[5]),
                                 "actor": RULE_ACTOR})
        report.escalated = [e[0] for e in escalate]
    if peaks:
        ps = sorted(peaks.values(), key=lambda p: p["sensor_id"])
        levels = [LEVELS[p["rank"] - 1] for p in ps]
        opened = conn.execute(_OPEN, {
            "sensors": [p["sensor_id"] for p in ps], "levels": levels, "vals": [p["value"] for p in ps],
            "ats": [p["at"] for p in ps], "notes": [_note(lv, p["value"], p["unit"]) for lv, p in zip(levels, ps, strict=True)],
            "actor": RULE_ACTOR}).fetchall()
        report.opened = [r[0] for r in opened]
    return report


_LATEST = """
SELECT DISTINCT ON (sensor_id) sensor_id, at, value FROM reading
 WHERE sensor_id = ANY(%s) ORDER BY sensor_id, at DESC"""
_SERIES = """
SELECT at, value FROM reading WHERE sensor_id = %s AND at >= %s AND at < %s ORDER BY at LIMIT %s"""


def fetch_latest_readings(conn: psycopg.Connection, sensor_ids) -> dict[int, tuple[datetime, float]]:
    """``{sensor_id: (at, value)}`` of each sensor's newest reading (primary-key backward scan)."""
    return {sid: (at, value) for sid, at, value in conn.execute(_LATEST, ([int(i) for i in sensor_ids],))}


def fetch_readings(conn: psycopg.Connection, sensor_id: int, since: datetime, until: datetime,
                   limit: int = 10_000) -> list[tuple[datetime, float]]:
    """One sensor's readings in ``[since, until)``, oldest first, at most ``limit``."""
    return conn.execute(_SERIES, (int(sensor_id), since, until, int(limit))).fetchall()
