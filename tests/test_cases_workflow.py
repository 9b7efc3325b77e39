"""Case intake, routing, duplicates, the workflow, concurrency, the event log and API keys (real PostGIS)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from geodata import cases as C
from geodata.errors import Conflict, InvalidCoordinate, InvalidInput, NotFound, OutsideArea


@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


def _inside(conn, n: int = 1, offset: int = 0) -> list[tuple]:
    """Points of demo addresses that lie in a grid: (lon, lat, grid, community, street)."""
    return conn.execute(
        "SELECT ST_X(a.geom), ST_Y(a.geom), g.code, g.community_code, g.street_code FROM address a "
        "JOIN grid g ON ST_Covers(g.geom, a.geom) ORDER BY a.id OFFSET %s LIMIT %s", (offset, n)).fetchall()


def _new(conn, category="garbage", lon=None, lat=None, **kw) -> C.Case:
    if lon is None:
        lon, lat = _inside(conn)[0][:2]
    return C.create_case(conn, category_code=category, channel=kw.pop("channel", "supervisor"), lon=lon, lat=lat,
                         actor=kw.pop("actor", "tester"), **kw)


def _moved(conn, lon, lat, metres_east: float):
    return conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_Project(ST_MakePoint(%s, %s)::geography, %s, "
                        "radians(90))::geometry AS p) q", (lon, lat, metres_east)).fetchone()


def test_create_routes_point_to_grid_community_street_and_department(conn):
    lon, lat, grid, community, street = _inside(conn)[0]
    case = _new(conn, "road_damage", lon, lat, description="坑洼", reporter={"name": "张三", "phone": "138"})
    assert (case.grid_code, case.community_code, case.street_code) == (grid, community, street)
    assert case.department_code == "roads" and case.state == "reported" and case.version == 1
    assert abs(case.lon - lon) < 1e-9 and abs(case.lat - lat) < 1e-9
    assert case.code.count("-") == 1 and len(case.code.split("-")[1]) >= 6
    assert not hasattr(case, "reporter_name")
    assert conn.execute("SELECT reporter_name FROM cases WHERE id = %s", (case.id,)).fetchone()[0] == "张三"
    events = C.fetch_case_events(conn, case.id)
    assert [(e["action"], e["from_state"], e["to_state"]) for e in events] == [("report", None, "reported")]
    assert C.fetch_case_by_token(conn, case.token).id == case.id


def test_dispatch_rule_precedence_street_over_district_over_category(conn):
    lon, lat, _, _, street = _inside(conn)[0]
    assert _new(conn, "garbage", lon, lat).department_code == "greening_sanitation"
    conn.execute("INSERT INTO dispatch_rule (category_code, street_code, department_code) "
                 "VALUES ('garbage', NULL, 'city_management')")
    far_lon, far_lat = _moved(conn, lon, lat, 0)
    assert _new(conn, "garbage", far_lon, far_lat).department_code == "city_management"
    conn.execute("INSERT INTO dispatch_rule (category_code, street_code, department_code) "
                 "VALUES ('garbage', %s, 'community_office')", (street,))
    assert _new(conn, "garbage", lon, lat).department_code == "community_office"


def test_intake_refuses_bad_input_and_writes_nothing(conn):
    before = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    lon, lat = _inside(conn)[0][:2]
    with pytest.raises(OutsideArea):
        _new(conn, lon=100.0, lat=30.0)
    with pytest.raises(InvalidCoordinate):
        _new(conn, lon=float("nan"), lat=31.0)
    with pytest.raises(InvalidCoordinate):
        _new(conn, lon=200.0, lat=31.0)
    with pytest.raises(NotFound):
        _new(conn, "no_such_thing", lon, lat)
    with pytest.raises(InvalidInput, match="channel"):
        _new(conn, lon=lon, lat=lat, channel="fax")
    with pytest.raises(InvalidInput, match="4,000"):
        _new(conn, lon=lon, lat=lat, description="x" * 4001)
    with pytest.raises(InvalidInput, match="depth_cm"):
        _new(conn, "water_logging", lon, lat)
    with pytest.raises(InvalidInput, match="depth_cm"):
        _new(conn, "water_logging", lon, lat, attributes={"depth_cm": "deep"})
    with pytest.raises(InvalidInput, match="cover_state"):
        _new(conn, "manhole_cover", lon, lat, attributes={"cover_state": "stolen"})
    with pytest.raises(InvalidInput, match="need"):
        _new(conn, "elderly_care", lon, lat, attributes={"need": "meal,dance"})
    assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == before
    ok = _new(conn, "elderly_care", lon, lat, attributes={"need": "meal,visit"})
    assert ok.attributes == {"need": ["meal", "visit"]}
    assert _new(conn, "water_logging", lon, lat, attributes={"depth_cm": "12.5"}).attributes == {"depth_cm": 12.5}


def test_duplicate_within_50m_and_24h_only(conn):
    lon, lat = _inside(conn)[0][:2]
    t0 = datetime(2026, 11, 1, 9, tzinfo=UTC)
    first = _new(conn, "garbage", lon, lat, reported_at=t0)
    near = _moved(conn, lon, lat, 45)
    assert _new(conn, "garbage", *_moved(conn, lon, lat, -60), reported_at=t0 + timedelta(hours=1)).duplicate_of is None
    other_lon, other_lat = _inside(conn, 1, 200)[0][:2]
    _new(conn, "garbage", other_lon, other_lat, reported_at=t0)
    late = _new(conn, "garbage", *_moved(conn, other_lon, other_lat, 10), reported_at=t0 + timedelta(hours=25))
    assert late.duplicate_of is None
    dup = _new(conn, "garbage", *near, reported_at=t0 + timedelta(hours=23))
    assert dup.duplicate_of == first.id and dup.state == "reported"
    assert _new(conn, "road_damage", *near, reported_at=t0 + timedelta(hours=1)).duplicate_of is None


def _walk(conn, case_id, steps, **kw):
    case = None
    for action, extra in steps:
        case = C.transition(conn, case_id, action, actor="op", **extra, **kw)
    return case


FULL = [("register", {}), ("dispatch", {}), ("start", {}), ("feedback", {}), ("return", {}), ("start", {}),
        ("feedback", {}), ("close", {}), ("evaluate", {"satisfaction": 4})]


def test_every_legal_transition_and_the_event_log(conn):
    case = _new(conn)
    at = datetime(2026, 11, 2, 8, tzinfo=UTC)
    C.transition(conn, case.id, "register", actor="op", at=at)
    dispatched = C.transition(conn, case.id, "dispatch", actor="op", at=at + timedelta(hours=1),
                              department_code="city_management")
    assert dispatched.department_code == "city_management"
    assert dispatched.deadline_at == at + timedelta(hours=1 + 8)  # garbage: 8 h from dispatch
    final = _walk(conn, case.id, FULL[2:])
    assert final.state == "evaluated" and final.version == 1 + len(FULL)
    events = C.fetch_case_events(conn, case.id)
    assert [e["action"] for e in events] == ["report"] + [a for a, _ in FULL]
    assert all(a["to_state"] == b["from_state"] for a, b in zip(events, events[1:], strict=False))
    for second in ("reject", "mark_duplicate"):
        other = _new(conn, lon=case.lon + 0.003, lat=case.lat)
        kw = {"note": "not ours"} if second == "reject" else {"duplicate_of": case.id}
        assert C.transition(conn, other.id, second, actor="op", **kw).state in ("rejected", "duplicate")


@pytest.mark.parametrize("steps, action, kw, match", [
    ([], "dispatch", {}, "it is 'reported'; allowed actions: register, reject, mark_duplicate"),
    ([], "close", {}, "allowed actions"),
    (FULL[:2], "feedback", {}, "it is 'dispatched'"),
    (FULL[:4], "evaluate", {"satisfaction": 3}, "it is 'fed_back'"),
    (FULL, "start", {}, r"none \(the case is final\)"),
    (FULL[:8], "evaluate", {"satisfaction": 9}, "satisfaction"),
    ([], "reject", {}, "note"),
    ([], "mark_duplicate", {}, "duplicate_of"),
    ([], "fly", {}, "unknown case action"),
])
def test_illegal_transitions_are_refused(conn, steps, action, kw, match):
    case = _new(conn)
    _walk(conn, case.id, steps)
    before = C.fetch_case(conn, case.id)
    with pytest.raises(InvalidInput, match=match):
        C.transition(conn, case.id, action, actor="op", **kw)
    assert C.fetch_case(conn, case.id).version == before.version
    assert len(C.fetch_case_events(conn, case.id)) == 1 + len(steps)


def test_self_duplicate_unknown_case_and_stale_version(conn):
    case = _new(conn)
    with pytest.raises(InvalidInput, match="itself"):
        C.transition(conn, case.id, "mark_duplicate", actor="op", duplicate_of=case.id)
    with pytest.raises(NotFound):
        C.transition(conn, 999_999, "register", actor="op")
    C.transition(conn, case.id, "register", actor="alice", expected_version=1)
    with pytest.raises(Conflict, match="alice.*'registered'"):
        C.transition(conn, case.id, "reject", actor="bob", note="x", expected_version=1)


def test_concurrent_transitions_one_wins(demo_db):
    with demo_db.connect() as setup:
        case = _new(setup)
        setup.commit()
    barrier = threading.Barrier(2)
    results: list = []

    def act(action, actor, kw):
        with psycopg.connect(demo_db.dsn) as c:
            barrier.wait()
            try:
                got = C.transition(c, case.id, action, actor=actor, expected_version=1, **kw)
                c.execute("SELECT pg_sleep(0.2)")  # hold the row lock so the other must wait
                c.commit()
                results.append(("ok", got.state))
            except (Conflict, InvalidInput) as exc:
                results.append(("refused", type(exc).__name__))

    threads = [threading.Thread(target=act, args=("register", "alice", {})),
               threading.Thread(target=act, args=("reject", "bob", {"note": "spam"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r[0] for r in results) == ["ok", "refused"]
    assert ("refused", "Conflict") in results
    with demo_db.connect() as c:
        final = C.fetch_case(c, case.id)
        events = C.fetch_case_events(c, case.id)
    assert final.version == 2 and len(events) == 2
    assert events[-1]["to_state"] == final.state


def test_event_log_is_append_only(conn):
    case = _new(conn)
    conn.commit()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE case_event SET note = 'x' WHERE case_id = %s", (case.id,))
    conn.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("DELETE FROM case_event WHERE case_id = %s", (case.id,))
    conn.rollback()
    assert len(C.fetch_case_events(conn, case.id)) == 1


def test_fetch_cases_filters_and_changes_since(conn):
    a = _new(conn, "garbage")
    cursor = C.fetch_event_cursor(conn)
    lon, lat = _inside(conn, 1, 50)[0][:2]
    b = _new(conn, "road_damage", lon, lat, channel="video")
    assert [c.id for c in C.fetch_cases(conn, C.CaseFilter(channels=("video",)))] == [b.id]
    assert {c.id for c in C.fetch_cases(conn, C.CaseFilter(categories=("garbage",)))} == {a.id}
    changed, new_cursor = C.fetch_changes_since(conn, cursor)
    assert [c.id for c in changed] == [b.id] and new_cursor > cursor
    C.transition(conn, a.id, "register", actor="op")
    changed, newer = C.fetch_changes_since(conn, new_cursor)
    assert [c.id for c in changed] == [a.id] and changed[0].state == "registered" and newer > new_cursor
    assert C.fetch_changes_since(conn, newer) == ([], newer)
    with pytest.raises(InvalidInput):
        C.CaseFilter(states=("open-ish",))


def test_categories_attributes_departments(conn):
    cats = C.fetch_categories(conn)
    assert {"manhole_cover", "garbage"} <= {c["code"] for c in cats}
    assert next(c for c in cats if c["code"] == "manhole_cover")["metadata"] is True
    attrs = C.fetch_category_attributes(conn, "manhole_cover")
    assert attrs[0]["code"] == "cover_state" and attrs[0]["required"] and len(attrs[0]["values"]) == 3
    with pytest.raises(NotFound):
        C.fetch_category_attributes(conn, "nope")
    assert "roads" in {d["code"] for d in C.fetch_departments(conn)}


def test_api_keys_create_verify_revoke(conn):
    key = C.create_api_key(conn, "hotline", channel="public")
    assert C.verify_api_key(conn, key) == {"name": "hotline", "channel": "public"}
    assert C.verify_api_key(conn, key + "x") is None
    stored = conn.execute("SELECT key_sha256 FROM api_key WHERE name = 'hotline'").fetchone()[0]
    assert key not in stored and len(stored) == 64
    C.revoke_api_key(conn, "hotline")
    assert C.verify_api_key(conn, key) is None
    assert C.fetch_api_keys(conn)[0]["revoked_at"] is not None
    with pytest.raises(NotFound):
        C.revoke_api_key(conn, "hotline")
