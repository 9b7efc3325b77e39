"""Sensors, warning rules per level, escalation, the warning workflow and the case link."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from geodata import cases as gc
from geodata import warnings as gw
from geodata.errors import Conflict, InvalidInput, NotFound, OutsideArea
from geodata.warnings.model import check_thresholds

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _points(conn, n):
    return conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address WHERE community_code IS NOT NULL "
                        "ORDER BY id LIMIT %s", (n,)).fetchall()


@pytest.fixture
def sensors(demo_db):
    """One sensor of every kind at demo addresses: {kind: sensor id}."""
    with demo_db.connect() as conn:
        kinds = gw.fetch_sensor_kinds(conn)
        pts = _points(conn, len(kinds))
        gw.write_sensors(conn, [{"code": f"T-{k['code']}", "kind": k["code"], "name": k["name_zh"],
                                 "lon": lon, "lat": lat} for k, (lon, lat) in zip(kinds, pts, strict=True)])
        conn.commit()
        ids = dict(conn.execute("SELECT kind_code, id FROM sensor").fetchall())
    return ids


def _rules(conn):
    return {k["code"]: (k["direction"], k["thresholds"]) for k in gw.fetch_sensor_kinds(conn)}


def test_level_for_and_threshold_order():
    t = {"blue": 5, "yellow": 10, "orange": 20, "red": 25}
    assert [gw.level_for(v, t, "above") for v in (4.99, 5, 9.9, 10, 20, 24.9, 25, 1e6)] == \
        [None, "blue", "blue", "yellow", "orange", "orange", "red", "red"]
    low = {"blue": 0.2, "yellow": 0.15, "orange": 0.1, "red": 0.05}
    assert [gw.level_for(v, low, "below") for v in (0.3, 0.2, 0.12, 0.1, 0.05, 0)] == \
        [None, "blue", "yellow", "orange", "red", "red"]
    assert gw.level_for(float("nan"), t, "above") is None
    assert check_thresholds(t, "above") == [] and check_thresholds(low, "below") == []
    assert check_thresholds({"blue": 5, "yellow": 4}, "above") == ["yellow threshold 4 must be above the blue threshold 5"]


def test_every_rule_of_every_kind_per_level(demo_db, sensors):
    """For each kind and level: a reading exactly at the threshold opens/escalates to that level,
    a reading just short of it does not reach it."""
    with demo_db.connect() as conn:
        rules = _rules(conn)
        assert set(rules) == set(sensors) and len(rules) >= 6
        for kind, (direction, thresholds) in rules.items():
            assert set(thresholds) == set(gw.LEVELS)
            sid = sensors[kind]
            step = 1e-6 if direction == "above" else -1e-6
            for i, level in enumerate(gw.LEVELS):
                limit = thresholds[level]
                at = T0 + timedelta(minutes=2 * i)
                gw.write_readings(conn, [sid], [at], [limit - step])  # just short
                w = gw.fetch_warnings(conn, states=gw.OPEN_STATES, ids=conn.execute(
                    "SELECT array_agg(id) FROM warning WHERE sensor_id = %s", (sid,)).fetchone()[0] or [])
                below = gw.LEVELS[i - 1] if i else None
                assert (w[0].level if w else None) == below, (kind, level)
                report = gw.write_readings(conn, [sid], [at + timedelta(minutes=1)], [limit])
                assert report.opened or report.escalated, (kind, level)
                (w,) = gw.fetch_warnings(conn, ids=[(report.opened or report.escalated)[0]])
                assert (w.level, w.value, w.state) == (level, limit, "active"), kind
            events = conn.execute("SELECT e.action, e.level FROM warning_event e JOIN warning w ON w.id = e.warning_id "
                                  "WHERE w.sensor_id = %s ORDER BY e.id", (sid,)).fetchall()
            assert events == [("open", "blue"), ("escalate", "yellow"), ("escalate", "orange"), ("escalate", "red")]
        assert conn.execute("SELECT count(*) FROM reading").fetchone()[0] == 8 * len(rules)


def test_no_deescalation_acknowledged_reactivates_and_one_open_warning(demo_db, sensors):
    sid = sensors["gas"]
    with demo_db.connect() as conn:
        (wid,) = gw.write_readings(conn, [sid, sid], [T0, T0 + timedelta(seconds=5)], [12, 6]).opened
        w = gw.fetch_warning(conn, wid)
        assert (w.level, w.value) == ("yellow", 12)  # the batch's most severe reading
        assert conn.execute("SELECT level, last_value FROM sensor WHERE id = %s", (sid,)).fetchone() == ("blue", 6)
        gw.write_readings(conn, [sid], [T0 + timedelta(minutes=1)], [1])  # back to normal: still open
        assert gw.fetch_warning(conn, wid).state == "active"
        gw.act_on_warning(conn, wid, "acknowledge", actor="值班员")
        report = gw.write_readings(conn, [sid], [T0 + timedelta(minutes=2)], [11])  # same level: nothing
        assert report.opened == report.escalated == []
        assert gw.fetch_warning(conn, wid).state == "acknowledged"
        report = gw.write_readings(conn, [sid], [T0 + timedelta(minutes=3)], [30])
        assert report.escalated == [wid]
        w = gw.fetch_warning(conn, wid)
        assert (w.level, w.first_level, w.state) == ("red", "yellow", "active")
        assert conn.execute("SELECT count(*) FROM warning WHERE sensor_id = %s", (sid,)).fetchone()[0] == 1
        # A repeated (sensor, time) is ignored, not double counted.
        assert gw.write_readings(conn, [sid], [T0 + timedelta(minutes=3)], [99]).written == 0


def test_bad_readings_refuse_the_batch(demo_db, sensors):
    sid = sensors["smoke"]
    with demo_db.connect() as conn:
        for ids, ats, vals, match in (([sid], [T0], [float("nan")], "finite"),
                                      ([sid], [datetime(2026, 1, 1)], [1.0], "aware"),
                                      ([sid, 999999], [T0, T0], [1.0, 1.0], "unknown sensor"),
                                      ([sid], [T0], [], "same length")):
            with pytest.raises(InvalidInput, match=match):
                gw.write_readings(conn, ids, ats, vals)
        assert conn.execute("SELECT count(*) FROM reading").fetchone()[0] == 0


def test_write_sensors_all_or_nothing(demo_db):
    with demo_db.connect() as conn:
        (lon, lat), = _points(conn, 1)
        good = {"code": "S1", "kind": "gas", "lon": lon, "lat": lat}
        with pytest.raises(OutsideArea, match="S2"):
            gw.write_sensors(conn, [good, {"code": "S2", "kind": "gas", "lon": 100.0, "lat": 20.0}])
        with pytest.raises(InvalidInput, match="unknown kind"):
            gw.write_sensors(conn, [good, {"code": "S3", "kind": "radar", "lon": lon, "lat": lat}])
        with pytest.raises(InvalidInput, match="duplicate"):
            gw.write_sensors(conn, [good, good])
        assert conn.execute("SELECT count(*) FROM sensor").fetchone()[0] == 0
        assert gw.write_sensors(conn, [good]) == 1
        s = conn.execute("SELECT street_code, community_code, h3_r8 FROM sensor").fetchone()
        assert s[0] and s[1] and s[2] > 0


def test_rules_are_editable_data_and_keep_their_order(demo_db, sensors):
    with demo_db.connect() as conn:
        with pytest.raises(InvalidInput, match="must be above the yellow"):
            gw.upsert_warning_rule(conn, "gas", "orange", 9)
        with pytest.raises(InvalidInput, match="must be below"):
            gw.upsert_warning_rule(conn, "hydrant_pressure", "red", 0.3)
        with pytest.raises(NotFound):
            gw.upsert_warning_rule(conn, "radar", "red", 1)
        gw.upsert_warning_rule(conn, "gas", "red", 40)
        (wid,) = gw.write_readings(conn, [sensors["gas"]], [T0], [30]).opened
        assert gw.fetch_warning(conn, wid).level == "orange"  # 30 no longer reaches red


def test_transitions_and_illegal_ones(demo_db, sensors):
    with demo_db.connect() as conn:
        (wid,) = gw.write_readings(conn, [sensors["smoke"]], [T0], [5]).opened
        w = gw.fetch_warning(conn, wid)
        with pytest.raises(InvalidInput, match="reason"):
            gw.act_on_warning(conn, wid, "dismiss", actor="甲")
        with pytest.raises(InvalidInput, match="actor"):
            gw.act_on_warning(conn, wid, "acknowledge", actor=" ")
        with pytest.raises(InvalidInput, match="unknown warning action"):
            gw.act_on_warning(conn, wid, "close", actor="甲")
        w = gw.act_on_warning(conn, wid, "acknowledge", actor="甲", expected_version=w.version)
        assert w.state == "acknowledged" and w.acknowledged_at is not None
        with pytest.raises(InvalidInput, match="cannot acknowledge .* 'acknowledged'; allowed actions: dismiss, convert"):
            gw.act_on_warning(conn, wid, "acknowledge", actor="甲")
        with pytest.raises(Conflict, match="by 甲"):
            gw.act_on_warning(conn, wid, "dismiss", actor="乙", reason="误报", expected_version=w.version - 1)
        w = gw.act_on_warning(conn, wid, "dismiss", actor="乙", reason="误报：厨房油烟")
        assert (w.state, w.dismiss_reason) == ("dismissed", "误报：厨房油烟") and w.closed_at
        for action in gw.ACTIONS:
            with pytest.raises(InvalidInput, match="none \\(the warning is closed\\)"):
                gw.act_on_warning(conn, wid, action, actor="甲", reason="x")
        with pytest.raises(NotFound):
            gw.act_on_warning(conn, 10**9, "acknowledge", actor="甲")
        actions = [e["action"] for e in gw.fetch_warning_events(conn, wid)]
        assert actions == ["open", "acknowledge", "dismiss"]
        # The next alarm of that sensor opens a new warning.
        assert gw.write_readings(conn, [sensors["smoke"]], [T0 + timedelta(hours=1)], [13]).opened


def test_convert_to_case_links_both_ways(demo_db, sensors):
    with demo_db.connect() as conn:
        (wid,) = gw.write_readings(conn, [sensors["water_level"]], [T0], [42]).opened
        w = gw.act_on_warning(conn, wid, "convert", actor="指挥长", reason="派水务所抽排")
        assert w.state == "converted" and w.case_id and w.case_code
        case = gc.fetch_case(conn, w.case_id)
        assert (case.channel, case.category_code, case.attributes) == ("iot", "water_logging", {"depth_cm": 42})
        assert case.state == "reported" and "T-water_level" in case.description
        assert (case.lon, case.lat) == pytest.approx((w.lon, w.lat))
        assert conn.execute("SELECT warning_id FROM cases WHERE id = %s", (case.id,)).fetchone()[0] == wid
        assert gw.fetch_warning_for_case(conn, case.id).id == wid
        with pytest.raises(InvalidInput, match="'converted'"):
            gw.act_on_warning(conn, wid, "convert", actor="指挥长")
        assert conn.execute("SELECT count(*) FROM cases WHERE warning_id IS NOT NULL").fetchone()[0] == 1
        (mid,) = gw.write_readings(conn, [sensors["manhole_tilt"]], [T0], [35]).opened
        case = gc.fetch_case(conn, gw.act_on_warning(conn, mid, "convert", actor="指挥长").case_id)
        assert (case.category_code, case.attributes) == ("manhole_cover", {"cover_state": "missing"})


def test_two_operators_cannot_both_win(demo_db, sensors):
    with demo_db.connect() as conn:
        (wid,) = gw.write_readings(conn, [sensors["gas"]], [T0], [26]).opened
        conn.commit()
        version = gw.fetch_warning(conn, wid).version
    results = []
    barrier = threading.Barrier(2)

    def act(action, actor):
        with psycopg.connect(demo_db.dsn) as c:
            barrier.wait()
            try:
                gw.act_on_warning(c, wid, action, actor=actor, reason="重复", expected_version=version)
                c.commit()
                results.append("ok")
            except (Conflict, InvalidInput) as exc:
                results.append(type(exc).__name__)

    threads = [threading.Thread(target=act, args=("convert", "甲")), threading.Thread(target=act, args=("dismiss", "乙"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["Conflict", "ok"]
    with demo_db.connect() as conn:
        assert gw.fetch_warning(conn, wid).version == version + 1
        assert len(gw.fetch_warning_events(conn, wid)) == 2


def test_counts_ordering_and_live_changes(demo_db, sensors):
    with demo_db.connect() as conn:
        cursor = gw.fetch_warning_cursor(conn)
        gw.write_readings(conn, [sensors["gas"], sensors["smoke"], sensors["elevator"], sensors["hydrant_pressure"]],
                          [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=2), T0 + timedelta(minutes=3)],
                          [6, 13, 35, 0.18])
        assert gw.fetch_warning_counts(conn) == {"blue": 2, "yellow": 1, "orange": 0, "red": 1}
        street = conn.execute("SELECT street_code FROM sensor WHERE id = %s", (sensors["smoke"],)).fetchone()[0]
        assert gw.fetch_warning_counts(conn, street_code=street)["red"] == 1
        assert gw.fetch_warning_counts(conn, street_code="nowhere") == dict.fromkeys(gw.LEVELS, 0)
        by_severity = gw.fetch_warnings(conn)
        assert [w.level for w in by_severity] == ["red", "yellow", "blue", "blue"]
        assert [w.kind_code for w in by_severity[2:]] == ["hydrant_pressure", "gas"]  # newest first within a level
        assert [w.kind_code for w in gw.fetch_newest_warnings(conn, limit=2)] == ["hydrant_pressure", "elevator"]
        changed, new_cursor = gw.fetch_warning_changes_since(conn, cursor)
        assert len(changed) == 4 and new_cursor > cursor
        assert gw.fetch_warning_changes_since(conn, new_cursor) == ([], new_cursor)
        red = by_severity[0]
        gw.act_on_warning(conn, red.id, "dismiss", actor="甲", reason="测试")
        assert gw.fetch_warning_counts(conn)["red"] == 0
        assert gw.fetch_warning_counts(conn, states=gw.STATES)["red"] == 1
        assert [w.id for w in gw.fetch_warning_changes_since(conn, new_cursor)[0]] == [red.id]
        with pytest.raises(InvalidInput, match="unknown state"):
            gw.fetch_warning_counts(conn, states=("open",))
