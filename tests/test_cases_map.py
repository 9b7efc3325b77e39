"""Live cases on the command map: callbacks as plain functions on the demo district."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import plotly
import pytest
from dash import no_update

from app.i18n import strings
from callbacks.case_drawer import OPEN, open_case, run_action
from callbacks.case_report import submit
from callbacks.case_stats import update_stats
from callbacks.cases import load_cases, poll_cases
from callbacks.viewport import update_layers
from geodata import cases as gc
from layers.cases import parse_filter

ZH, EN = strings("zh"), strings("en")


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


@pytest.fixture
def world(demo_db):
    """Demo district bounds (Leaflet order), two address points and a category without attributes."""
    with demo_db.connect() as conn:
        minx, miny, maxx, maxy = conn.execute(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM admin_area) s"
        ).fetchone()
        points = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT 2 OFFSET 500").fetchall()
        category = next(c["code"] for c in gc.fetch_categories(conn) if not c["metadata"])
    return {"bounds": [[miny, minx], [maxy, maxx]], "points": points, "category": category, "db": demo_db}


def _create(world, i=0, channel="public"):
    with world["db"].connect() as conn:
        lon, lat = world["points"][i]
        case = gc.create_case(conn, category_code=world["category"], channel=channel, lon=lon, lat=lat,
                              actor="test", description="井盖缺失")
        conn.commit()
    return case


def _ids(fc) -> set[int]:
    return {f["properties"]["id"] for f in fc["features"]}


def test_layer_then_delta_carries_only_the_new_case(world):
    old = _create(world, 0)
    fc, live, note = load_cases(world["bounds"], ["cases"], {"window": "today"}, 12, ZH, "zh")
    assert old.id in _ids(fc) and live["cursor"] >= 1
    feature = next(f for f in fc["features"] if f["properties"]["id"] == old.id)
    assert feature["properties"]["state"] == "上报" and feature["properties"]["code"] == old.code
    # Nothing happened: the tick sends nothing at all.
    assert poll_cases(1, live, ZH, "zh") == (no_update, no_update)
    new = _create(world, 1)
    delta, live2 = poll_cases(2, live, ZH, "zh")
    assert [f["properties"]["id"] for f in delta["upsert"]] == [new.id]  # only the change, not the layer
    assert delta["remove"] == [] and live2["cursor"] > live["cursor"]
    assert poll_cases(3, live2, ZH, "zh") == (no_update, no_update)


def test_a_case_whose_deadline_passes_between_ticks_turns_overdue_live(world):
    """No event marks a deadline passing: the tick must still push the case, now overdue."""
    with world["db"].connect() as conn:
        hours = next(c["time_limit_hours"] for c in gc.fetch_categories(conn) if c["code"] == world["category"])
        now = gc.fetch_db_now(conn)
        lon, lat = world["points"][0]
        case = gc.create_case(conn, category_code=world["category"], channel="supervisor", lon=lon, lat=lat,
                              actor="test", reported_at=now - timedelta(hours=hours, minutes=5))
        gc.transition(conn, case.id, "register", actor="test", at=now - timedelta(hours=hours, minutes=4))
        # Dispatched so that the deadline falls 2 s from now.
        gc.transition(conn, case.id, "dispatch", actor="test", at=now - timedelta(hours=hours) + timedelta(seconds=2))
        conn.commit()
    fc, live, _ = load_cases(world["bounds"], ["cases"], {"window": "7d"}, 12, ZH, "zh")
    shown = next(f for f in fc["features"] if f["properties"]["id"] == case.id)
    assert shown["properties"]["o"] == 0 and not shown["properties"]["overdue"]
    deadline = datetime.fromisoformat(live["checked"]) + timedelta(seconds=3)
    while datetime.now().astimezone() < deadline:
        time.sleep(0.2)
    delta, live2 = poll_cases(1, live, ZH, "zh")
    assert [f["properties"]["id"] for f in delta["upsert"]] == [case.id]
    props = delta["upsert"][0]["properties"]
    assert props["o"] == 1 and props["overdue"] == ZH["overdue_flag"]  # red ring + label
    assert live2["checked"] > live["checked"]
    # Told once: the next tick has nothing new.
    assert poll_cases(2, live2, ZH, "zh") == (no_update, no_update)


def test_filters_drive_layer_and_a_case_leaving_the_filter_is_removed(world):
    case = _create(world, 0, channel="video")
    fc, live, _ = load_cases(world["bounds"], ["cases"], {"channels": ["public"], "window": "7d"}, 12, ZH, "zh")
    assert case.id not in _ids(fc)
    fc, live, _ = load_cases(world["bounds"], ["cases"], {"states": ["reported"], "window": "7d"}, 12, EN, "en")
    assert case.id in _ids(fc)
    with world["db"].connect() as conn:
        gc.transition(conn, case.id, "register", actor="op")
        conn.commit()
    delta, _ = poll_cases(1, live, EN, "en")
    assert delta["remove"] == [case.id] and delta["upsert"] == []
    # Layer off: empty, and no live cursor (no ticks).
    fc, live, _ = load_cases(world["bounds"], [], {"window": "7d"}, 12, ZH, "zh")
    assert fc["features"] == [] and live is None


def test_kpis_ranking_trend_follow_the_filter(world):
    _create(world, 0)
    kpis, ranking, fig, note = update_stats({"window": "today"}, "street", 0, "og-root og-theme-dark", ZH)
    text = _text(kpis)
    assert "今日新增" in text and "按期结案率" in text and note is no_update
    values = [k.children[0].children for k in kpis]
    assert values[0] == "1" and values[1] == "1"  # new today, open
    assert ranking and {"name", "closure_rate", "on_time_rate"} <= set(ranking[0])
    assert len(fig.data) == 3 and fig.data[0].name == "新增" and len(fig.data[0].x) == 30
    kpis, *_ = update_stats({"window": "today", "channels": ["iot"]}, "department", 0, "og-theme-light", EN)
    assert kpis[0].children[0].children == "0"
    *_, toast = update_stats({"window": "forever"}, "street", 0, "", EN)
    assert "time window" in _text(toast)


def test_grid_choropleth_by_case_count(world):
    case = _create(world, 0)
    out = update_layers(world["bounds"], ["grids", "cases"], "cases", None, 12, ZH, "zh", {"window": "today"})
    grids = out[5]["features"]
    hit = [f for f in grids if f["properties"]["code"] == case.grid_code]
    assert hit and hit[0]["properties"]["value"] == 1 and hit[0]["properties"]["cls"] > 0
    assert all(f["properties"]["value"] == 0 for f in grids if f["properties"]["code"] != case.grid_code)
    legend = _text(out[11])
    assert "网格案件数" in legend and "案件状态" in legend


def test_drawer_actions_illegal_and_conflict(world):
    case = _create(world, 0)
    body, cls, drawer_case, selected, viewport, detail_cls, note = open_case("table", {"row_id": case.id}, ZH, "zh")
    assert cls == OPEN and selected == case.id and viewport["transition"] == "flyTo"
    text = _text(body)
    assert case.code in text and "立案" in text and "派遣" not in text.split("流转记录")[0].split("办理")[1][:40]
    # Illegal action for 'reported': the message, nothing changes.
    _, _, toast = run_action("close", drawer_case, "张三", "", None, None, None, ZH, "zh")
    assert "reported" in _text(toast) and "og-error" in _text(toast)
    # Missing operator name.
    _, _, toast = run_action("register", drawer_case, "", "", None, None, None, ZH, "zh")
    assert "operator" in _text(toast)
    body, fresh, toast = run_action("register", drawer_case, "张三", "核实属实", None, None, None, ZH, "zh")
    assert fresh["version"] == drawer_case["version"] + 1 and "og-info" in _text(toast)
    assert "张三" in _text(body) and "核实属实" in _text(body)
    # The old drawer (stale version) loses: Conflict, and the drawer reloads with the fresh version.
    body, reloaded, toast = run_action("reject", drawer_case, "李四", "不属实", None, None, None, ZH, "zh")
    assert "og-error" in _text(toast) and ZH["conflict_reloaded"] in _text(toast)
    assert reloaded == fresh
    with world["db"].connect() as conn:
        assert gc.fetch_case(conn, case.id).state == "registered"
    body, fresh2, _ = run_action("dispatch", fresh, "张三", "", case.department_code, None, None, ZH, "zh")
    with world["db"].connect() as conn:
        now = gc.fetch_case(conn, case.id)
    assert now.state == "dispatched" and now.deadline_at is not None and fresh2["version"] == now.version


def test_report_from_map_creates_a_supervisor_case(world):
    lon, lat = world["points"][1]
    point = {"lon": lon, "lat": lat}
    *_, toast = submit(1, point, world["category"], "路面破损", "", [], [], ZH)
    assert "operator" in _text(toast)
    *_, toast = submit(1, None, world["category"], "路面破损", "王五", [], [], ZH)
    assert "og-error" in _text(toast)
    cls, mode, pt, desc, toast = submit(1, point, world["category"], "路面破损", "王五", [], [], ZH)
    assert mode is False and pt is None and "已上报" in _text(toast)
    with world["db"].connect() as conn:
        found = gc.fetch_cases(conn, gc.CaseFilter(channels=("supervisor",)))
    assert len(found) == 1 and found[0].description == "路面破损"
    assert parse_filter({"window": "90d"}).since is not None


def test_a_failing_tick_sends_nothing_but_logs_the_bug(world, monkeypatch, caplog):
    import callbacks.cases as cb

    fc, live, _ = load_cases(world["bounds"], ["cases"], {"window": "today"}, 12, ZH, "zh")

    def broken(*args, **kwargs):
        raise KeyError("boom")

    monkeypatch.setattr(cb, "build_delta", broken)
    with caplog.at_level("ERROR", logger="onegrid.callbacks"):
        assert poll_cases(1, live, ZH, "zh") == (no_update, no_update)
    assert "live case tick failed" in caplog.text
