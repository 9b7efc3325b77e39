"""Batch (historical) case import: all or nothing, set-based.

``write_cases`` checks the whole frame in Python (vectorised where it matters), COPYs it
into a staging table, routes every point in one SQL statement, inserts the cases and
generates their event log in SQL. Nothing commits; a problem raises ImportRejected listing
every bad row by its ``_where`` label and leaves the database as it was.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg
import shapely

from geodata.cases import batch_sql as Q
from geodata.cases.catalog import fetch_categories, fetch_departments
from geodata.cases.model import CHANNELS, MAX_DESCRIPTION, STATES
from geodata.errors import ImportRejected, Problem
from geodata.settings import get_settings
from geodata.store import _check_frame

if TYPE_CHECKING:  # batch_parallel calls load_rows back
    from geodata.cases.batch_parallel import SecondBackend

MAX_PROBLEMS = 1000
TEXT_COLUMNS = ("code", "category_code", "channel", "state", "description", "address_text", "source_ref",
                "department_code", "satisfaction")
#: Words accepted for channels (lower case) → channel.
CHANNEL_WORDS = {
    **{c: c for c in CHANNELS},
    "监督员": "supervisor", "监督员上报": "supervisor", "网格员": "supervisor", "巡查": "supervisor",
    "视频": "video", "视频监控": "video", "视频ai": "video", "视频智能识别": "video", "camera": "video",
    "物联": "iot", "物联感知": "iot", "传感器": "iot", "sensor": "iot",
    "公众": "public", "热线": "public", "12345": "public", "公众举报": "public", "hotline": "public",
    "上级交办": "assigned", "交办": "assigned",
}
STATE_WORDS = {
    **{s: s for s in STATES},
    "上报": "reported", "立案": "registered", "派遣": "dispatched", "处理中": "handling", "已反馈": "fed_back",
    "返工": "returned", "结案": "closed", "已结案": "closed", "已评价": "evaluated", "作废": "rejected",
    "不予立案": "rejected", "重复": "duplicate", "in_handling": "handling", "in handling": "handling",
}
#: Workflow order of the stamps; each must not precede the one before it.
ORDER = ("reported_at", "registered_at", "dispatched_at", "started_at", "fed_back_at", "closed_at",
         "evaluated_at")
_NEEDS_DISPATCH = ("dispatched", "handling", "fed_back", "returned", "closed", "evaluated")


def _each_distinct(values: np.ndarray, fn) -> np.ndarray:
    """``fn(v)`` once per distinct non-missing value (scalars), spread back over the rows; None where
    missing. A batch has many rows and few distinct words, so per-row Python loops are avoided."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.full(len(uniques) + 1, None, dtype=object)  # the last slot answers code -1 (missing)
    for k, v in enumerate(uniques):
        mapped[k] = fn(v)
    return mapped[codes]


def _rows_with(values: np.ndarray, bad: set) -> np.ndarray:
    """Indexes of the rows whose value is in ``bad``."""
    return np.flatnonzero(pd.Series(values, dtype=object).isin(bad).to_numpy()) if bad else np.array([], int)


def _texts(gdf: gpd.GeoDataFrame) -> dict[str, np.ndarray]:
    """TEXT_COLUMNS as object arrays of stripped strings, None for missing or blank cells."""
    out = {}
    for column in TEXT_COLUMNS:
        if column in gdf.columns:
            out[column] = _each_distinct(gdf[column].to_numpy(dtype=object), lambda v: str(v).strip() or None)
        else:
            out[column] = np.full(len(gdf), None, dtype=object)
    return out


def _times(gdf: gpd.GeoDataFrame, column: str, tz: ZoneInfo, where: list[str],
           problems: list[Problem]) -> np.ndarray:
    """A time column → int64 microseconds since the epoch (UTC), ``-1`` for empty cells.

    Naive times are local time of the district (``ONEGRID_TIMEZONE``).
    """
    if column not in gdf.columns:
        return np.full(len(gdf), -1, dtype=np.int64)
    raw = gdf[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
    else:
        text = raw.astype(object).where(raw.notna(), None).astype(str).str.strip()
        text = text.where(raw.notna().to_numpy() & (text != "").to_numpy(), None)
        parsed = _parse_times(text, tz)
        for i in np.flatnonzero(text.notna().to_numpy() & parsed.isna().to_numpy()):
            problems.append(Problem(where[i], f"{column} {text.iat[i]!r} is not a date-time (use ISO 8601, "
                                              "e.g. 2026-10-01 08:30 or 2026-10-01T08:30:00+08:00)"))
    if getattr(parsed.dt, "tz", None) is None:
        parsed = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    utc = parsed.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[us]")
    micro = utc.to_numpy().astype(np.int64)
    micro[utc.isna().to_numpy()] = -1
    return micro


#: An ISO 8601 time of day followed by its UTC offset.
_OFFSET = r"\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:[+-]\d\d(?::?\d\d)?|Z)$"


def _parse_times(text: pd.Series, tz: ZoneInfo) -> pd.Series:
    """Text times (None for empty) → UTC timestamps, NaT where unreadable.

    ISO 8601 text is parsed vectorised: in one pass when the column is uniform (all naive, which
    means local to ``tz``, or all with one offset), else with and without an offset apart. Only
    the rest goes through the per-value parser (50,000 rows × 8 stamps took ~3 s that way, all
    before the import could start writing).
    """
    has = text.notna().to_numpy()
    try:  # one pass when the column is uniform: all naive, or all with the same offset
        whole = pd.to_datetime(text, format="ISO8601", errors="coerce")
        out = (whole.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT") if whole.dt.tz is None
               else whole).dt.tz_convert("UTC")
    except (ValueError, TypeError, AttributeError):  # mixed: with and without offsets apart
        out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
        aware = has & text.str.contains(_OFFSET, regex=True, na=False).to_numpy()
        naive = has & ~aware
        with contextlib.suppress(ValueError, TypeError):  # e.g. an offset spelled otherwise: left to the loop
            if aware.any():
                out[aware] = pd.to_datetime(text[aware], format="ISO8601", utc=True, errors="coerce")
            if naive.any():
                local = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
                out[naive] = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    for i in np.flatnonzero(has & out.isna().to_numpy()):  # other spellings pandas understands
        stamp = _one_time(text.iat[i])
        if stamp is not None:
            out.iat[i] = stamp.tz_convert("UTC")
    return out


def _one_time(value):
    """Parse one cell; naive values are tagged with the district's zone."""
    if value is None:
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return None
    if stamp is pd.NaT:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(ZoneInfo(get_settings().timezone))
    return stamp


def _words(values: np.ndarray, words: dict[str, str], what: str, where: list[str], problems: list[Problem],
           *, required: bool) -> np.ndarray:
    out = _each_distinct(values, lambda v: words.get(v.lower()) or words.get(v))
    if required:
        for i in np.flatnonzero(pd.isna(values)):
            problems.append(Problem(where[i], f"{what} is required but empty"))
    for i in np.flatnonzero(~pd.isna(values) & pd.isna(out)):
        problems.append(Problem(where[i], f"unknown {what} {values[i]!r} "
                                          f"(use {', '.join(sorted(set(words.values())))})"))
    return out


def _satisfaction(text: str) -> int:
    """A satisfaction score 1..5, 0 when ``text`` is not one."""
    return int(float(text)) if text.replace(".0", "").isdigit() and 1 <= int(float(text)) <= 5 else 0


def _check_rows(conn, t: dict, stamps: dict, where: list[str], problems: list[Problem]) -> None:
    """Categories, departments, satisfaction, description, codes, stamp order and state needs."""
    cats = {}
    for c in fetch_categories(conn, active_only=False):
        for word in (c["code"], c["name_zh"], c["name_en"].lower()):
            cats[word] = c["code"]
    t["category_code"] = _words(t["category_code"], cats, "category", where, problems, required=True)
    departments = {d["code"]: d["code"] for d in fetch_departments(conn)}
    departments |= {d["name_zh"]: d["code"] for d in fetch_departments(conn)}
    t["department_code"] = _each_distinct(t["department_code"], lambda v: departments.get(v, v))
    for i in _rows_with(t["department_code"], set(pd.unique(t["department_code"])) - {None, *departments.values()}):
        problems.append(Problem(where[i], f"unknown department {t['department_code'][i]!r}"))
    for i in _rows_with(t["description"], {v for v in pd.unique(t["description"]) if v and len(v) > MAX_DESCRIPTION}):
        problems.append(Problem(where[i], f"description is longer than {MAX_DESCRIPTION} characters"))
    sat = _each_distinct(t["satisfaction"], _satisfaction)
    for i in np.flatnonzero(~pd.isna(t["satisfaction"]) & ((sat == 0) | (t["state"] != "evaluated"))):
        problems.append(Problem(where[i], f"satisfaction {t['satisfaction'][i]!r}: a whole number 1..5, "
                                          "for evaluated cases only"))
    t["satisfaction"] = np.where(sat == 0, None, sat)
    _check_stamps(t, stamps, where, problems)
    given = np.flatnonzero(~pd.isna(t["code"]))
    codes = t["code"][given].tolist()
    seen: dict[str, str] = {}
    for i, c in zip(given, codes, strict=True):
        if c in seen:
            problems.append(Problem(where[i], f"duplicate code {c!r} (also at {seen[c]})"))
        seen.setdefault(c, where[i])
    for (c,) in conn.execute(Q.CODES_IN_DB, (codes,)) if codes else []:
        problems.append(Problem(seen[c], f"case code {c!r} already exists in the database"))


def _derive_state(stamps: dict, n: int) -> np.ndarray:
    state = np.full(n, "reported", dtype=object)
    for column, value in (("registered_at", "registered"), ("dispatched_at", "dispatched"),
                          ("started_at", "handling"), ("fed_back_at", "fed_back"), ("closed_at", "closed"),
                          ("evaluated_at", "evaluated")):
        state[stamps[column] >= 0] = value
    return state


def _check_stamps(t: dict, stamps: dict, where: list[str], problems: list[Problem]) -> None:
    for i in np.flatnonzero(stamps["reported_at"] < 0):
        problems.append(Problem(where[i], "reported_at is required but empty"))
    latest = stamps["reported_at"].copy()
    latest_name = np.full(len(where), "reported_at", dtype=object)
    for column in ORDER[1:]:
        have = stamps[column] >= 0
        bad = have & (stamps[column] < latest)
        for i in np.flatnonzero(bad):
            problems.append(Problem(where[i], f"{column} is before {latest_name[i]}"))
        latest = np.where(have, np.maximum(latest, stamps[column]), latest)
        latest_name = np.where(have, column, latest_name)
    state = pd.Series(t["state"], dtype=object)
    closes = state.isin(("closed", "evaluated")).to_numpy()
    for i in np.flatnonzero(state.isin(_NEEDS_DISPATCH).to_numpy() & (stamps["dispatched_at"] < 0)):
        problems.append(Problem(where[i], f"state {state.iat[i]} needs dispatched_at"))
    for i in np.flatnonzero(closes & (stamps["closed_at"] < 0)):
        problems.append(Problem(where[i], f"state {state.iat[i]} needs closed_at"))
    for i in np.flatnonzero(~closes & state.notna().to_numpy() & (stamps["closed_at"] >= 0)):
        problems.append(Problem(where[i], f"closed_at given but the state is {state.iat[i]}"))


def _staged_rows(t: dict, stamps: dict, where: list[str], xy: np.ndarray) -> list[tuple]:
    """The checked rows in Q.STAGE_COLUMNS order (missing times stay -1; SQL makes them NULL)."""
    columns = [range(len(where)), where, *(t[c].tolist() for c in Q.STAGE_COLUMNS[2:11])]
    columns += [stamps[column].tolist() for column in Q.STAMPS]
    columns += [xy[:, 0].tolist(), xy[:, 1].tolist()]
    return list(zip(*columns, strict=True))


def load_rows(conn: psycopg.Connection, rows: list[tuple], *, events: bool, actor: str,
              temp: bool = True) -> tuple[int, list[Problem]]:
    """Stage, route and insert checked rows on ``conn``; returns (cases written, points outside).

    Rows go in by binary COPY of plain Python tuples (psycopg's C row formatter: a fifth of the
    time of building CSV text, and no quoting or float-format pitfalls). When a point lies in no
    community nothing is inserted and those rows come back as problems. ``temp=False`` stages in
    unlogged tables (found first on the search path) instead of temporary ones.
    """
    conn.execute(Q.scratch(Q.STAGE, temp))
    with conn.cursor().copy(Q.COPY) as cp:
        cp.set_types(Q.STAGE_TYPES)
        for row in rows:
            cp.write_row(row)
    conn.execute(Q.scratch(Q.GRID_POINTS, temp))
    conn.execute(Q.scratch(Q.ROUTE, temp), {"tz": get_settings().timezone})
    conn.execute(Q.ROUTED_KEY)
    outside = [Problem(w, f"point ({x:.6f}, {y:.6f}) is outside the district (in no community)")
               for w, x, y in conn.execute(Q.OUTSIDE)]
    if outside:
        return 0, outside
    written = conn.execute(Q.INSERT_CASES).rowcount
    if events:
        conn.execute(Q.INSERT_EVENTS, {"actor": actor})
    return written, []


def write_cases(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, *, events: bool = True,
                actor: str = "import", helper: SecondBackend | None = None) -> int:
    """Insert historical cases (points, EPSG:4326 lon/lat), all or nothing; returns rows written.

    Columns (canonical names; all but category_code, channel and reported_at optional):
    code, category_code (code or Chinese/English name), channel (code or word: 监督员, 视频, 热线 …),
    state (derived from the latest time given when absent), description, address_text,
    source_ref, department_code (default: routed by dispatch rules), satisfaction (1..5,
    evaluated only), reported_at, registered_at, dispatched_at, started_at, deadline_at
    (default dispatched_at + time limit), fed_back_at, closed_at, evaluated_at — times as
    datetimes or ISO 8601 text; naive times are local (``ONEGRID_TIMEZONE``). ``_where``
    labels rows in messages. Points must lie in a community of the district.

    With ``events`` every known step becomes a ``case_event`` (actor ``actor``), generated in
    SQL. Never commits. With ``helper`` (:func:`geodata.cases.batch_parallel.second_backend`,
    wrapped around the caller's transaction) a big batch is split over two backends; the second
    half commits or rolls back with the caller's transaction.
    """
    where, problems = _check_frame(gdf, ("Point",), "cases")
    tz = ZoneInfo(get_settings().timezone)
    t = _texts(gdf)
    t["channel"] = _words(t["channel"], CHANNEL_WORDS, "channel", where, problems, required=True)
    stamps = {c: _times(gdf, c, tz, where, problems) for c in Q.STAMPS}
    given = t["state"]
    t["state"] = _words(given, STATE_WORDS, "state", where, problems, required=False)
    derived = _derive_state(stamps, len(where))
    t["state"] = np.where(pd.isna(t["state"]) & pd.isna(given), derived, t["state"])
    _check_rows(conn, t, stamps, where, problems)
    if problems:
        raise ImportRejected(problems[:MAX_PROBLEMS])
    xy = shapely.get_coordinates(np.asarray(gdf.geometry.values, dtype=object))
    rows = _staged_rows(t, stamps, where, xy)
    if helper is None:
        written, outside = load_rows(conn, rows, events=events, actor=actor)
    else:
        written, outside = helper.load(load_rows, rows, events=events, actor=actor)
    if outside:
        raise ImportRejected(outside[:MAX_PROBLEMS])
    return written
