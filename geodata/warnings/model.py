"""The warning model: levels, states, the action table, the ``Warning`` record and the rule
that turns one reading into a level. Pure Python (no SQL).

Levels rise blue (IV) → yellow (III) → orange (II) → red (I); ``LEVEL_RANK`` gives 1..4.
Coordinates are WGS-84 (EPSG:4326) in (lon, lat) order, degrees; times are aware datetimes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

#: Rising order (national four-level early-warning scheme).
LEVELS = ("blue", "yellow", "orange", "red")
LEVEL_RANK = {level: i + 1 for i, level in enumerate(LEVELS)}
#: Roman numerals of the levels (red is level I, the most severe).
LEVEL_ROMAN = {"blue": "IV", "yellow": "III", "orange": "II", "red": "I"}
OPEN_STATES = ("active", "acknowledged")
FINAL_STATES = ("dismissed", "converted")
STATES = OPEN_STATES + FINAL_STATES
#: action → (states it may start from, state it leads to).
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({"active"}), "acknowledged"),
    "dismiss": (frozenset({"active", "acknowledged"}), "dismissed"),
    "convert": (frozenset({"active", "acknowledged"}), "converted"),
}
DIRECTIONS = ("above", "below")
MAX_REASON = 4000


def allowed_warning_actions(state: str) -> list[str]:
    """Actions allowed on a warning in ``state`` (acknowledge, dismiss, convert order)."""
    return [a for a, (sources, _) in ACTIONS.items() if state in sources]


def level_for(value: float, thresholds: dict[str, float], direction: str) -> str | None:
    """The highest level whose threshold ``value`` reaches, or None (normal).

    ``direction`` ``above``: a level is reached when value ≥ its threshold (gas, water depth);
    ``below``: when value ≤ its threshold (hydrant pressure). Levels missing from
    ``thresholds`` are never reached. NaN and infinities reach nothing.
    """
    if value is None or not math.isfinite(value):
        return None
    reached = None
    for level in LEVELS:
        limit = thresholds.get(level)
        if limit is None:
            continue
        if (value >= limit) if direction == "above" else (value <= limit):
            reached = level
    return reached


def check_thresholds(thresholds: dict[str, float], direction: str) -> list[str]:
    """Problems with one kind's thresholds: each level must be strictly more extreme than the
    one below it (higher for ``above``, lower for ``below``). Empty list when consistent."""
    problems = []
    present = [(lvl, thresholds[lvl]) for lvl in LEVELS if lvl in thresholds]
    for (low, a), (high, b) in zip(present, present[1:], strict=False):
        ok = b > a if direction == "above" else b < a
        if not ok:
            word = "above" if direction == "above" else "below"
            problems.append(f"{high} threshold {b:g} must be {word} the {low} threshold {a:g}")
    return problems


@dataclass(frozen=True)
class Warning:
    """One warning as the rest of OneGrid sees it. ``lon``/``lat`` are EPSG:4326 degrees of the
    sensor; ``value`` is the reading (in the kind's ``unit``) that set the current level."""

    id: int
    sensor_id: int
    sensor_code: str
    sensor_name: str
    kind_code: str
    kind_name_zh: str
    kind_name_en: str
    unit: str
    level: str
    first_level: str
    state: str
    value: float
    opened_at: datetime
    escalated_at: datetime | None
    acknowledged_at: datetime | None
    closed_at: datetime | None
    dismiss_reason: str | None
    case_id: int | None
    case_code: str | None
    street_code: str
    community_code: str | None
    grid_code: str | None
    lon: float
    lat: float
    updated_at: datetime
    version: int
