"""Moving a case through its workflow, one locked row at a time.

``transition`` locks the case (``SELECT … FOR UPDATE``), so two operators acting on one case
are serialised: the second sees the first's result and is refused (illegal action now, or
:class:`Conflict` when it names the version it saw). Every transition appends exactly one
``case_event`` row. The deadline runs from dispatch: ``deadline_at = dispatched_at +
case_category.time_limit_hours``.
"""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg import sql

from geodata.cases.model import ACTIONS, MAX_NOTE, Case, check_aware
from geodata.cases.read import fetch_case
from geodata.errors import InvalidInput
from geodata.transitions import StateMachine, lock_for_action, require_actor

_LOCK = """
SELECT c.id, c.state, c.version, c.street_code, c.department_code, k.time_limit_hours
  FROM cases c JOIN case_category k ON k.code = c.category_code
 WHERE c.id = %s FOR UPDATE OF c"""
_LAST_EVENT = "SELECT actor, at FROM case_event WHERE case_id = %s ORDER BY id DESC LIMIT 1"
_MACHINE = StateMachine("case", ACTIONS, "the case is final", _LOCK, _LAST_EVENT)
_DEPARTMENT_EXISTS = "SELECT 1 FROM department WHERE code = %s"
_CASE_EXISTS = "SELECT 1 FROM cases WHERE id = %s"
_EVENT = """
INSERT INTO case_event (case_id, street_code, at, action, from_state, to_state, actor, department_code, note)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"""
#: action → the timestamp column it sets (whitelist for sql.Identifier).
_STAMPS = {"register": "registered_at", "dispatch": "dispatched_at", "feedback": "fed_back_at",
           "close": "closed_at", "evaluate": "evaluated_at"}


def _extra(conn, case_id: int, action: str, row: dict, *, at, note, department_code, duplicate_of,
           satisfaction) -> dict:
    """Columns an action sets besides state/version/timestamps; checks its required inputs."""
    if action == "dispatch":
        department = department_code or row["department_code"]
        if department is None:
            raise InvalidInput(f"case {case_id} has no department; name one (department_code)")
        if conn.execute(_DEPARTMENT_EXISTS, (department,)).fetchone() is None:
            raise InvalidInput(f"unknown department {department!r}")
        return {"department_code": department, "deadline_at": ("deadline", row["time_limit_hours"])}
    if action == "evaluate":
        if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
            raise InvalidInput(f"evaluate needs satisfaction as a whole number 1..5, got {satisfaction!r}")
        return {"satisfaction": satisfaction}
    if action == "reject" and not note.strip():
        raise InvalidInput("reject needs a note saying why")
    if action == "mark_duplicate":
        if duplicate_of is None:
            raise InvalidInput("mark_duplicate needs duplicate_of (the case this one repeats)")
        try:
            other = int(duplicate_of)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"duplicate_of must be a case id, got {duplicate_of!r}") from exc
        if other == case_id:
            raise InvalidInput("a case cannot be a duplicate of itself")
        if conn.execute(_CASE_EXISTS, (other,)).fetchone() is None:
            raise InvalidInput(f"duplicate_of: case {other} does not exist")
        return {"duplicate_of": other}
    return {}


def _update(conn: psycopg.Connection, case_id: int, to_state: str, at: datetime, action: str, extra: dict) -> None:
    sets = [sql.SQL("state = %(state)s"), sql.SQL("version = version + 1"), sql.SQL("updated_at = %(at)s")]
    params = {"id": case_id, "state": to_state, "at": at}
    if action in _STAMPS:
        sets.append(sql.SQL("{} = %(at)s").format(sql.Identifier(_STAMPS[action])))
    for column, value in extra.items():
        if column == "deadline_at":
            params["hours"] = value[1]
            sets.append(sql.SQL("deadline_at = %(at)s + make_interval(hours => %(hours)s)"))
        else:
            params[column] = value
            sets.append(sql.SQL("{} = {}").format(sql.Identifier(column), sql.Placeholder(column)))
    conn.execute(sql.SQL("UPDATE cases SET {} WHERE id = %(id)s").format(sql.SQL(", ").join(sets)), params)


def transition(conn: psycopg.Connection, case_id: int, action: str, *, actor: str, note: str = "",
               expected_version: int | None = None, department_code: str | None = None,
               duplicate_of: int | None = None, satisfaction: int | None = None,
               at: datetime | None = None) -> Case:
    """Apply a workflow ``action`` to a case and record it.

    Parameters
    ----------
    action : one of ``ACTIONS`` (register, dispatch, start, feedback, close, return, evaluate,
        reject, mark_duplicate).
    actor : who acts (recorded on the event).
    expected_version : the version the caller saw; a different current version → :class:`Conflict`.
    department_code : dispatch only — overrides the routed department.
    duplicate_of : mark_duplicate only (required; another existing case).
    satisfaction : evaluate only (required; 1..5).
    at : aware datetime of the action (default: now); dispatch starts the deadline from it.

    Raises
    ------
    NotFound, Conflict, InvalidInput (illegal action for the state: the message names the
    state and the allowed actions). Never commits.
    """
    actor = require_actor(actor, "case")
    note = str(note or "")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"note is longer than {MAX_NOTE} characters")
    check_aware(at, "at")
    row, to_state = lock_for_action(conn, _MACHINE, case_id, action, expected_version)
    case_id = row["id"]
    extra = _extra(conn, case_id, action, row, at=at, note=note, department_code=department_code,
                   duplicate_of=duplicate_of, satisfaction=satisfaction)
    at = at or conn.execute("SELECT now()").fetchone()[0]
    _update(conn, case_id, to_state, at, action, extra)
    department = extra.get("department_code", row["department_code"])
    conn.execute(_EVENT, (case_id, row["street_code"], at, action, row["state"], to_state, actor, department, note))
    return fetch_case(conn, case_id)
