"""The locked, version-checked step every workflow takes before it changes state.

Cases and warnings both move through small state machines that operators drive from the
map. Each action first locks the row (``SELECT … FOR UPDATE``) so two operators are
serialised, then checks the version the operator saw (optimistic concurrency: the second of
two concurrent operators gets :class:`Conflict` naming who changed it, instead of silently
overwriting) and that the action is legal from the current state. This module is that step,
once; each workflow keeps its own update and event rows.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from geodata.errors import Conflict, InvalidInput, NotFound


@dataclass(frozen=True)
class StateMachine:
    """One workflow's vocabulary.

    Attributes
    ----------
    noun : what moves ("case", "warning"), used in every message.
    actions : action → (states it is allowed from, state it leads to), in display order.
    final : how to say that no action is left (e.g. "the case is final").
    lock_sql : ``SELECT … FOR UPDATE`` of one row by id (one ``%s``), returning at least
        ``id``, ``state`` and ``version``.
    last_event_sql : ``SELECT actor, at …`` of the row's newest event (one ``%s``).
    """

    noun: str
    actions: Mapping[str, tuple[Collection[str], str]]
    final: str
    lock_sql: str
    last_event_sql: str

    def allowed(self, state: str) -> list[str]:
        """Actions allowed from ``state``, in display order."""
        return [a for a, (sources, _) in self.actions.items() if state in sources]


def require_actor(actor: object, noun: str) -> str:
    """The acting operator's name, stripped; :class:`InvalidInput` when empty."""
    actor = str(actor or "").strip()
    if not actor:
        raise InvalidInput(f"actor is required (who acts on the {noun})")
    return actor


def _conflict(conn: psycopg.Connection, machine: StateMachine, row: dict, expected: int) -> Conflict:
    last = conn.execute(machine.last_event_sql, (row["id"],)).fetchone()
    who = f" by {last[0]} at {last[1].isoformat(timespec='seconds')}" if last else ""
    return Conflict(f"{machine.noun} {row['id']} was changed{who}: it is now '{row['state']}' (version "
                    f"{row['version']}, you had version {expected}); reload it and try again")


def lock_for_action(conn: psycopg.Connection, machine: StateMachine, row_id: object, action: str,
                    expected_version: int | None) -> tuple[dict, str]:
    """Lock row ``row_id`` and check that ``action`` may be applied to it now.

    Returns
    -------
    (the locked row as a dict, the state ``action`` leads to). The lock lasts until the
    caller's transaction ends.

    Raises
    ------
    InvalidInput (unknown action; illegal from the current state — the message names the
    state and the allowed actions), NotFound, Conflict (``expected_version`` is not the
    current version).
    """
    if action not in machine.actions:
        raise InvalidInput(f"unknown {machine.noun} action {action!r}; use one of {', '.join(machine.actions)}")
    try:
        row_id = int(row_id)
    except (TypeError, ValueError) as exc:
        raise NotFound(f"{machine.noun} {row_id!r} not found") from exc
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(machine.lock_sql, (row_id,)).fetchone()
    if row is None:
        raise NotFound(f"{machine.noun} {row_id} not found")
    if expected_version is not None and int(expected_version) != row["version"]:
        raise _conflict(conn, machine, row, int(expected_version))
    sources, to_state = machine.actions[action]
    if row["state"] not in sources:
        allowed = ", ".join(machine.allowed(row["state"])) or f"none ({machine.final})"
        raise InvalidInput(f"cannot {action} {machine.noun} {row_id}: it is '{row['state']}'; "
                           f"allowed actions: {allowed}")
    return row, to_state
