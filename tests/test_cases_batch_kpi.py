"""Batch import of cases (good and bad), the indicators on a hand-made set with known answers,
rankings and trends (real PostGIS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import geopandas as gpd
import pytest
import shapely

from geodata import cases as C
from geodata.errors import ImportRejected

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=CST)


@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


def _points(conn, n):
    rows = conn.execute("SELECT ST_X(a.geom), ST_Y(a.geom) FROM address a ORDER BY a.id LIMIT %s", (n,)).fetchall()
    return [shapely.Point(x, y) for x, y in rows]


def _frame(records, points):
    return gpd.GeoDataFrame(records, geometry=points, crs="EPSG:4326")


def _worked_example(conn):
    """The norms' worked example: 972 due, 911 closed (737 on time), 61 still open; plus 5
    reported today and 10 whose deadline lies before the 30-day window."""
    records = []
    for i in range(972 + 5 + 10):
        reported = NOW - timedelta(days=1 + i % 27, hours=3)
        rec = {"category_code": "garbage", "channel": "supervisor", "reported_at": reported}
        if i < 972:
            dispatched = reported + timedelta(hours=1)
            deadline = dispatched + timedelta(hours=8)
            rec |= {"registered_at": reported + timedelta(minutes=30), "dispatched_at": dispatched,
                    "started_at": dispatched + timedelta(minutes=30)}
            if i < 737:
                rec |= {"fed_back_at": deadline - timedelta(hours=2), "closed_at": deadline - timedelta(hours=1)}
            elif i < 911:
                rec |= {"fed_back_at": deadline + timedelta(hours=1), "closed_at": deadline + timedelta(hours=2)}
        elif i < 977:
            rec["reported_at"] = NOW - timedelta(hours=1 + i % 3)
        else:
            rec["reported_at"] = NOW - timedelta(days=45)
            rec |= {"dispatched_at": rec["reported_at"] + timedelta(hours=1), "fed_back_at": rec["reported_at"]
                    + timedelta(hours=2), "closed_at": rec["reported_at"] + timedelta(hours=3)}
        records.append(rec)
    return _frame(records, _points(conn, len(records)))


def test_batch_import_and_kpis_match_the_worked_example(conn):
    written = C.write_cases(conn, _worked_example(conn))
    assert written == 987
    kpi = C.fetch_kpis(conn, now=NOW)
    assert (kpi["due"], kpi["closed"], kpi["closed_on_time"]) == (972, 911, 737)
    assert round(kpi["closure_rate"] * 100, 2) == 93.72 and round(kpi["on_time_rate"] * 100, 2) == 75.82
    assert kpi["new_today"] == 5 and kpi["open"] == 61 + 5 and kpi["overdue"] == 61
    streets = C.fetch_ranking(conn, "street", now=NOW)
    assert sum(r["due"] for r in streets) == 972 and sum(r["closed"] for r in streets) == 911
    rates = [r["on_time_rate"] for r in streets if r["on_time_rate"] is not None]
    assert rates == sorted(rates, reverse=True)
    dept = C.fetch_ranking(conn, "department", now=NOW)
    top = next(r for r in dept if r["code"] == "greening_sanitation")
    assert top["due"] == 972 and round(top["on_time_rate"], 4) == 0.7582
    narrow = C.fetch_kpis(conn, C.CaseFilter(categories=("road_damage",)), now=NOW)
    assert narrow["due"] == 0 and narrow["closure_rate"] is None


def test_batch_events_are_generated_and_chained(conn):
    C.write_cases(conn, _worked_example(conn))
    case = C.fetch_cases(conn, C.CaseFilter(states=("closed",)), limit=1)[0]
    events = C.fetch_case_events(conn, case.id)
    assert [e["action"] for e in events] == ["report", "register", "dispatch", "start", "feedback", "close"]
    assert all(a["to_state"] == b["from_state"] for a, b in zip(events, events[1:], strict=False))
    assert case.deadline_at == case.dispatched_at + timedelta(hours=8)
    open_case = C.fetch_cases(conn, C.CaseFilter(states=("handling",)), limit=1)[0]
    assert open_case.overdue
    n_events = conn.execute("SELECT count(*) FROM case_event").fetchone()[0]
    assert n_events == 737 * 6 + 174 * 6 + 61 * 4 + 5 + 10 * 4


def test_imported_cases_get_no_open311_token_but_intake_does(conn):
    C.write_cases(conn, _worked_example(conn))
    assert conn.execute("SELECT count(*) FROM cases WHERE token IS NOT NULL").fetchone()[0] == 0
    assert C.fetch_cases(conn, limit=1)[0].token is None
    lon, lat = _points(conn, 1)[0].coords[0]
    made = C.create_case(conn, category_code="garbage", channel="public", lon=lon, lat=lat, actor="tester")
    assert made.token and C.fetch_case_by_token(conn, made.token).id == made.id


def test_trend_counts_new_closed_and_overdue_by_local_day(conn):
    C.write_cases(conn, _worked_example(conn))
    trend = C.fetch_trend(conn, days=30, now=NOW)
    assert len(trend) == 30 and trend[-1]["day"] == NOW.date() and trend[0]["day"] == NOW.date() - timedelta(days=29)
    assert sum(d["new"] for d in trend) == 972 + 5
    assert sum(d["closed"] for d in trend) == 911
    assert trend[-1]["overdue_open"] == 61
    everything = C.fetch_cases(conn, limit=5000)
    for point in trend:  # brute force: open and past deadline at the end of each local day
        end = min(datetime.combine(point["day"] + timedelta(days=1), datetime.min.time(), CST), NOW)
        expect = sum(1 for c in everything if c.deadline_at is not None and c.deadline_at < end
                     and (c.closed_at is None or c.closed_at >= end))
        assert point["overdue_open"] == expect, point
    assert trend[-1]["new"] == 5
    stats = C.fetch_grid_case_stats(conn)
    assert sum(s["count"] for s in stats.values()) == 987
    assert sum(s["overdue"] for s in stats.values()) >= 61  # now > NOW: at least those


def test_batch_import_bad_rows_named_and_nothing_written(conn):
    before = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    points = _points(conn, 5)
    t = NOW - timedelta(days=2)
    records = [
        {"category_code": "垃圾暴露", "channel": "热线", "reported_at": t.isoformat()},
        {"category_code": "nope", "channel": "supervisor", "reported_at": t.isoformat()},
        {"category_code": "garbage", "channel": "fax", "reported_at": "yesterday-ish"},
        {"category_code": "garbage", "channel": "video", "reported_at": t.isoformat(), "state": "closed"},
        {"category_code": "garbage", "channel": "video", "reported_at": t.isoformat(),
         "dispatched_at": (t - timedelta(hours=1)).isoformat()},
    ]
    frame = _frame(records, points)
    frame["_where"] = [f"line {i + 2}" for i in range(5)]
    with pytest.raises(ImportRejected) as err:
        C.write_cases(conn, frame)
    text = str(err.value)
    for expected in ("line 3: unknown category 'nope'", "line 4: unknown channel 'fax'", "line 4: reported_at",
                     "line 5: state closed needs", "line 6: dispatched_at is before reported_at"):
        assert expected in text
    assert "line 2" not in text
    outside = _frame([records[0]], [shapely.Point(100.0, 30.0)])
    with pytest.raises(ImportRejected, match="outside the district"):
        C.write_cases(conn, outside)
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == before
    ok = C.write_cases(conn, _frame([records[0]], [points[0]]))
    case = C.fetch_cases(conn, limit=1)[0]
    assert ok == 1 and case.category_code == "garbage" and case.channel == "public" and case.state == "reported"
