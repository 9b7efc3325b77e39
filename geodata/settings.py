"""Settings, read from the environment in one place (prefix ``ONEGRID_``).

Every package reads its configuration through :func:`get_settings`; nothing else looks at
``os.environ``. Values are checked here, so a bad setting fails at start-up with a message
that names the variable, not later inside a request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from geodata.errors import ConfigError

PREFIX = "ONEGRID_"


def _default_data_dir() -> Path:
    """The checkout's ``.onegrid`` (beside pyproject.toml), so every command and bench script
    finds the same private cluster from any working directory; ``./.onegrid`` when OneGrid is
    installed outside a checkout."""
    root = Path(__file__).resolve().parents[1]
    return root / ".onegrid" if (root / "pyproject.toml").is_file() else Path(".onegrid")


@dataclass(frozen=True)
class Settings:
    """OneGrid configuration.

    Attributes map to environment variables ``ONEGRID_<NAME>`` (upper case).
    """

    #: PostgreSQL/PostGIS connection string; when empty the private cluster is used.
    database_url: str = ""
    #: Where the private cluster and other local state live.
    data_dir: Path = field(default_factory=_default_data_dir)
    #: Database name inside the private cluster.
    db_name: str = "onegrid"
    #: TCP port of the private cluster; 0 picks a free port once and remembers it.
    db_port: int = 0
    #: Largest connection pool per process.
    pool_max: int = 8
    #: Dashboard bind address and port.
    host: str = "127.0.0.1"
    port: int = 8050
    #: gunicorn workers for ``onegrid serve``.
    workers: int = 2
    #: Default UI language: ``zh`` or ``en``.
    lang: str = "zh"
    #: Default UI theme: ``dark`` (big screen) or ``light``.
    theme: str = "dark"
    #: Optional XYZ tile URL for a base map (``{z}/{x}/{y}``); empty draws the map from data only.
    basemap_url: str = ""
    basemap_attribution: str = ""
    #: Datum of the base map tiles: ``wgs84`` or ``gcj02`` (e.g. AMap/Tencent tiles).
    basemap_crs: str = "wgs84"
    #: Most raw features one viewport request may return before it is aggregated instead.
    max_features: int = 5000
    #: Small-cell suppression: cells with fewer people than this show no number.
    min_cell: int = 10
    #: Overlap tolerance between grids of one community, square metres.
    overlap_tolerance_m2: float = 1.0
    #: Households per community grid: outside this range the grid editor warns (not blocks).
    grid_households_min: int = 300
    grid_households_max: int = 500
    #: Grid editor: vertices within this many metres of a neighbour snap onto it, and gaps,
    #: overlaps or parts thinner than it are slivers, not problems.
    grid_snap_m: float = 1.0
    #: Local time zone of the district: "today", daily trends and the simulator's clock.
    timezone: str = "Asia/Shanghai"
    #: Connections opened by ``geodata.db.connect`` (every CLI command, migrations, bench) stop
    #: waiting for a lock after this many seconds and say what is busy; 0 waits for ever.
    lock_timeout_s: float = 10.0

    def __post_init__(self) -> None:
        checks = [
            (self.lang in ("zh", "en"), "LANG", "zh or en"),
            (self.theme in ("dark", "light"), "THEME", "dark or light"),
            (self.basemap_crs in ("wgs84", "gcj02"), "BASEMAP_CRS", "wgs84 or gcj02"),
            (0 <= self.db_port <= 65535, "DB_PORT", "0..65535"),
            (1 <= self.port <= 65535, "PORT", "1..65535"),
            (1 <= self.pool_max <= 200, "POOL_MAX", "1..200"),
            (1 <= self.workers <= 64, "WORKERS", "1..64"),
            (100 <= self.max_features <= 200_000, "MAX_FEATURES", "100..200000"),
            (1 <= self.min_cell <= 1000, "MIN_CELL", "1..1000"),
            (0 <= self.overlap_tolerance_m2 <= 10_000, "OVERLAP_TOLERANCE_M2", "0..10000"),
            (0 <= self.grid_households_min <= self.grid_households_max <= 100_000,
             "GRID_HOUSEHOLDS_MIN/MAX", "0 ≤ min ≤ max ≤ 100000"),
            (0 < self.grid_snap_m <= 50, "GRID_SNAP_M", "a number of metres in (0, 50]"),
            (0 <= self.lock_timeout_s <= 86_400, "LOCK_TIMEOUT_S", "a number of seconds 0..86400"),
            (self.db_name.replace("_", "").isalnum(), "DB_NAME", "letters, digits and _"),
        ]
        for ok, name, allowed in checks:
            if not ok:
                raise ConfigError(f"{PREFIX}{name} must be {allowed}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(f"{PREFIX}TIMEZONE {self.timezone!r} is not a known time zone") from exc
        if self.basemap_url and not all(k in self.basemap_url for k in ("{z}", "{x}", "{y}")):
            raise ConfigError(f"{PREFIX}BASEMAP_URL must contain {{z}}, {{x}} and {{y}}")


def _convert(name: str, raw: str, kind: type):
    try:
        if kind is Path:
            return Path(raw).expanduser()
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        return raw
    except ValueError as exc:
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from ``environ`` (default: the process environment)."""
    env = os.environ if environ is None else environ
    values = {}
    for f in fields(Settings):
        raw = env.get(PREFIX + f.name.upper())
        if raw is not None and raw != "":
            kind = {"Path": Path, "int": int, "float": float}.get(str(f.type), str)
            values[f.name] = _convert(f.name, raw.strip(), kind)
    settings = Settings(**values)
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings (read once)."""
    return load_settings()
