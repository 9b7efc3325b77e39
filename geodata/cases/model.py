"""The case model: channels, states, the workflow table, filters and the ``Case`` record.

Pure Python (no SQL). Coordinates are WGS-84 (EPSG:4326) in (lon, lat) order, degrees;
times are timezone-aware ``datetime`` values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from geodata.errors import InvalidCoordinate, InvalidInput

#: 监督员上报, 视频AI, 物联感知, 公众/热线, 上级交办
CHANNELS = ("supervisor", "video", "iot", "public", "assigned")
OPEN_STATES = ("reported", "registered", "dispatched", "handling", "fed_back", "returned")
FINAL_STATES = ("closed", "evaluated", "rejected", "duplicate")
STATES = OPEN_STATES + FINAL_STATES
#: States that count as 结案 (closed) in the indicators.
CLOSED_STATES = ("closed", "evaluated")

#: action → (states it may start from, state it leads to). CJ/T 214 workflow plus rework,
#: rejection and duplicates.
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "register": (frozenset({"reported"}), "registered"),
    "dispatch": (frozenset({"registered"}), "dispatched"),
    "start": (frozenset({"dispatched", "returned"}), "handling"),
    "feedback": (frozenset({"handling"}), "fed_back"),
    "close": (frozenset({"fed_back"}), "closed"),
    "return": (frozenset({"fed_back"}), "returned"),
    "evaluate": (frozenset({"closed"}), "evaluated"),
    "reject": (frozenset({"reported", "registered"}), "rejected"),
    "mark_duplicate": (frozenset({"reported", "registered"}), "duplicate"),
}

MAX_DESCRIPTION = 4000
MAX_NOTE = 4000


def allowed_actions(state: str) -> list[str]:
    """Actions the workflow allows from ``state`` (in workflow order)."""
    return [a for a, (sources, _) in ACTIONS.items() if state in sources]


@dataclass(frozen=True)
class CaseFilter:
    """Which cases a query looks at. ``None`` means "all" for every tuple field.

    ``since``/``until`` are aware datetimes bounding ``reported_at`` (since inclusive, until
    exclusive); the indicator functions (``fetch_kpis``, ``fetch_ranking``) read them as the
    window in which deadlines fall instead (see their docstrings).
    """

    states: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    streets: tuple[str, ...] | None = None
    communities: tuple[str, ...] | None = None
    departments: tuple[str, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    overdue_only: bool = False

    def __post_init__(self) -> None:
        for name in ("states", "categories", "channels", "streets", "communities", "departments"):
            value = getattr(self, name)
            if value is not None:
                if isinstance(value, str):
                    value = (value,)
                value = tuple(str(v) for v in value)
                object.__setattr__(self, name, value)
        for name, known in (("states", STATES), ("channels", CHANNELS)):
            bad = [v for v in getattr(self, name) or () if v not in known]
            if bad:
                raise InvalidInput(f"unknown {name[:-1]} {', '.join(map(repr, bad))}; use {', '.join(known)}")
        for name in ("since", "until"):
            check_aware(getattr(self, name), name)
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput(f"since ({self.since.isoformat()}) must be before until ({self.until.isoformat()})")


@dataclass(frozen=True)
class Case:
    """One case as the rest of OneGrid sees it — no reporter personal data.

    ``lon``/``lat`` are EPSG:4326 degrees; ``overdue`` is true for an open case whose
    deadline has passed.
    """

    id: int
    code: str
    token: str | None  # Open311 token; None for cases imported in bulk
    category_code: str
    category_name_zh: str
    category_name_en: str
    channel: str
    state: str
    description: str
    address_text: str | None
    lon: float
    lat: float
    grid_code: str | None
    community_code: str | None
    street_code: str
    department_code: str | None
    duplicate_of: int | None
    reported_at: datetime
    dispatched_at: datetime | None
    deadline_at: datetime | None
    closed_at: datetime | None
    updated_at: datetime
    version: int
    overdue: bool
    attributes: dict = field(default_factory=dict)


def check_aware(value: datetime | None, name: str) -> None:
    """Refuse naive datetimes (their zone would be a guess)."""
    if value is None:
        return
    if not isinstance(value, datetime):
        raise InvalidInput(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(f"{name} must carry a time zone (got naive {value.isoformat()})")


def check_lonlat(lon, lat) -> tuple[float, float]:
    """Finite numbers within ±180 / ±90 (EPSG:4326 degrees), else :class:`InvalidCoordinate`."""
    try:
        x, y = float(lon), float(lat)
    except (TypeError, ValueError) as exc:
        raise InvalidCoordinate(f"lon/lat must be numbers, got {lon!r}, {lat!r}") from exc
    if not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidCoordinate(f"lon/lat must be finite numbers, got {lon!r}, {lat!r}")
    if abs(x) > 180 or abs(y) > 90:
        raise InvalidCoordinate(f"coordinate out of range (lon {x:g}, lat {y:g}); "
                                "lon must be within -180..180 and lat within -90..90")
    return x, y
