"""Cases (案卷): intake from every channel, routing, the workflow, indicators and batch import.

The only package that touches the case tables (``geodata/migrations/0003_cases.sql``).
Coordinates are WGS-84 (EPSG:4326) in (lon, lat) order; times are timezone-aware; "today" and
days follow ``get_settings().timezone``. Nothing here commits: callers own the transaction.
"""

from geodata.cases.apikeys import create_api_key, fetch_api_keys, revoke_api_key, verify_api_key
from geodata.cases.batch import write_cases
from geodata.cases.catalog import fetch_categories, fetch_category_attributes, fetch_departments
from geodata.cases.intake import create_case
from geodata.cases.kpi import fetch_grid_case_stats, fetch_kpis, fetch_ranking, fetch_trend
from geodata.cases.model import (
    ACTIONS,
    CHANNELS,
    FINAL_STATES,
    OPEN_STATES,
    Case,
    CaseFilter,
    allowed_actions,
)
from geodata.cases.read import (
    fetch_case,
    fetch_case_by_token,
    fetch_case_events,
    fetch_cases,
    fetch_changes_since,
    fetch_db_now,
    fetch_event_cursor,
    fetch_turned_overdue,
)
from geodata.cases.workflow import transition

__all__ = [
    "ACTIONS", "CHANNELS", "FINAL_STATES", "OPEN_STATES", "Case", "CaseFilter", "allowed_actions",
    "create_api_key", "create_case", "fetch_api_keys", "fetch_case", "fetch_case_by_token",
    "fetch_case_events", "fetch_cases", "fetch_categories", "fetch_category_attributes",
    "fetch_changes_since", "fetch_db_now", "fetch_turned_overdue", "fetch_departments", "fetch_event_cursor", "fetch_grid_case_stats", "fetch_kpis",
    "fetch_ranking", "fetch_trend", "revoke_api_key", "transition", "verify_api_key", "write_cases",
]
