"""Acting on a warning: acknowledge, dismiss with a reason, or turn it into a case.

``act_on_warning`` locks the warning (``SELECT … FOR UPDATE``), so two operators (or an
operator and the rules escalating it) are serialised: the second sees the first's result and
is refused — an illegal action for the new state, or :class:`Conflict` when it names the
version it saw. "Convert" creates the case through the normal intake
(:func:`geodata.cases.create_case`, channel ``iot``, category from the sensor kind, at the
sensor's point) and links both ways: ``warning.case_id`` and ``cases.warning_id``.
"""

from __future__ import annotations

from datetime import datetime

import psycopg

from geodata.cases import create_case
from geodata.cases.model import check_aware
from geodata.errors import InvalidInput
from geodata.transitions import StateMachine, lock_for_action, require_actor
from geodata.warnings.model import ACTIONS, LEVEL_ROMAN, MAX_REASON, Warning
from geodata.warnings.read import fetch_warning

_LOCK = """
SELECT w.id, w.state, w.version, w.level, w.value, w.street_code, w.kind_code, k.case_category, k.unit,
       k.name_zh, s.code AS sensor_code, ST_X(w.geom) AS lon, ST_Y(w.geom) AS lat
  FROM warning w JOIN sensor s ON s.id = w.sensor_id JOIN sensor_kind k ON k.code = w.kind_code
 WHERE w.id = %s FOR UPDATE OF w"""
_LAST_EVENT = "SELECT actor, at FROM warning_event WHERE warning_id = %s ORDER BY id DESC LIMIT 1"
_UPDATE = """
UPDATE warning SET state = %(state)s, version = version + 1, updated_at = %(at)s,
       acknowledged_at = CASE WHEN %(state)s = 'acknowledged' THEN %(at)s ELSE acknowledged_at END,
       closed_at = CASE WHEN %(state)s IN ('dismissed', 'converted') THEN %(at)s ELSE closed_at END,
       dismiss_reason = CASE WHEN %(state)s = 'dismissed' THEN %(reason)s ELSE dismiss_reason END,
       case_id = coalesce(%(case_id)s, case_id)
 WHERE id = %(id)s"""
_EVENT = """
INSERT INTO warning_event (warning_id, street_code, at, action, from_state, to_state, level, value, actor, note)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"""
_LINK_CASE = "UPDATE cases SET warning_id = %s WHERE id = %s"
_NOW = "SELECT now()"
_MACHINE = StateMachine("warning", ACTIONS, "the warning is closed", _LOCK, _LAST_EVENT)


def case_attributes(kind_code: str, category: str, value: float) -> dict:
    """Answers to the case category's required questions, from the reading that raised the
    warning (water depth in cm for water logging; a tilted cover is loose, a fully tilted
    one — 30° and more — counts as missing)."""
    if category == "water_logging":
        return {"depth_cm": max(1, round(value)) if kind_code == "water_level" else 1}
    if category == "manhole_cover":
        return {"cover_state": "missing" if kind_code == "manhole_tilt" and value >= 30 else "loose"}
    return {}


def _convert(conn, row: dict, actor: str, note: str, at: datetime) -> int:
    description = (f"物联感知预警转案件：{row['name_zh']}（{row['sensor_code']}）{row['level']} {LEVEL_ROMAN[row['level']]}级，"
                   f"读数 {row['value']:g} {row['unit']}" + (f"。{note}" if note else ""))
    case = create_case(conn, category_code=row["case_category"], channel="iot", lon=row["lon"], lat=row["lat"],
                       actor=actor, description=description[:4000], source_ref=row["sensor_code"],
                       attributes=case_attributes(row["kind_code"], row["case_category"], row["value"]),
                       reported_at=at)
    conn.execute(_LINK_CASE, (row["id"], case.id))
    return case.id


def act_on_warning(conn: psycopg.Connection, warning_id: int, action: str, *, actor: str, reason: str = "",
                   expected_version: int | None = None, at: datetime | None = None) -> Warning:
    """Apply ``action`` (acknowledge, dismiss, convert) to a warning and record it.

    Parameters
    ----------
    actor : who acts (recorded on the event and, for convert, on the case).
    reason : required for dismiss (why it is not a real problem); a note otherwise.
    expected_version : the version the caller saw; a different current version → Conflict.
    at : aware time of the action (default: now).

    Raises
    ------
    NotFound, Conflict, InvalidInput (unknown/illegal action — the message names the state and
    the allowed actions — missing actor or reason). Never commits.
    """
    actor = require_actor(actor, "warning")
    reason = str(reason or "").strip()
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is longer than {MAX_REASON} characters")
    if action == "dismiss" and not reason:
        raise InvalidInput("dismiss needs a reason (e.g. 误报 false alarm, 设备维护 maintenance)")
    check_aware(at, "at")
    row, to_state = lock_for_action(conn, _MACHINE, warning_id, action, expected_version)
    warning_id = row["id"]
    at = at or conn.execute(_NOW).fetchone()[0]
    case_id = _convert(conn, row, actor, reason, at) if action == "convert" else None
    conn.execute(_UPDATE, {"state": to_state, "at": at, "reason": reason or None, "case_id": case_id, "id": warning_id})
    conn.execute(_EVENT, (warning_id, row["street_code"], at, action, row["state"], to_state, row["level"],
                          row["value"], actor, reason))
    return fetch_warning(conn, warning_id)
