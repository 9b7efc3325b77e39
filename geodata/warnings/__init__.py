"""Sensors, readings and early warnings (物联感知预警), and the risk surface.

The only package that touches ``sensor``, ``reading``, ``warning``, ``warning_event`` and the
risk tables (``geodata/migrations/0006_warnings.sql``). Levels rise blue (IV) → yellow (III) →
orange (II) → red (I). Coordinates are WGS-84 (EPSG:4326) in (lon, lat) order; times are
timezone-aware. Nothing here commits: callers own the transaction.
"""

from geodata.warnings.model import (
    ACTIONS,
    FINAL_STATES,
    LEVEL_RANK,
    LEVELS,
    OPEN_STATES,
    STATES,
    Warning,
    allowed_warning_actions,
    level_for,
)
from geodata.warnings.read import (
    fetch_alarms_between,
    fetch_newest_warnings,
    fetch_warning,
    fetch_warning_changes_since,
    fetch_warning_counts,
    fetch_warning_cursor,
    fetch_warning_events,
    fetch_warning_for_case,
    fetch_warnings,
)
from geodata.warnings.readings import ReadingReport, fetch_latest_readings, fetch_readings, write_readings
from geodata.warnings.sensors import (
    fetch_sensor,
    fetch_sensor_kinds,
    fetch_sensors,
    upsert_warning_rule,
    write_sensors,
)
from geodata.warnings.workflow import act_on_warning

__all__ = [
    "ACTIONS", "FINAL_STATES", "LEVELS", "LEVEL_RANK", "OPEN_STATES", "STATES", "ReadingReport", "Warning",
    "act_on_warning", "allowed_warning_actions", "fetch_alarms_between", "fetch_latest_readings", "fetch_newest_warnings", "fetch_readings",
    "fetch_sensor", "fetch_sensor_kinds", "fetch_sensors", "fetch_warning", "fetch_warning_changes_since",
    "fetch_warning_counts", "fetch_warning_cursor", "fetch_warning_events", "fetch_warning_for_case",
    "fetch_warnings", "level_for", "upsert_warning_rule", "write_readings", "write_sensors",
]
