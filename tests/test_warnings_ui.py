"""Warning panel, sensor layer and live tick as plain callback functions (real PostGIS)."""

from __future__ import annotations

import json
from datetime import datetime

import plotly
import pytest
from dash import no_update

from app.i18n import strings
from callbacks.warnings import ALARM_ON, load_sensors, open_warning, poll_warnings, run_warning_action
from geodata import warnings as gw
from geodata.warnings.demo import seed_sensors

ZH, EN = strings("zh"), strings("en")


def _text(component) -> str:
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


@pytest.fixture
def board(demo_db):
    with demo_db.connect() as conn:
        with conn.transaction():
            seed_sensors(conn, "small", 42)
        ext = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                           "(SELECT ST_Extent(geom) e FROM admin_area) s").fetchone()
        sensors = dict(conn.execute("SELECT code, id FROM sensor").fetchall())
    return {"bounds": [[ext[1], ext[0]], [ext[3], ext[2]]], "sensors": sensors, "db": demo_db}


def _reading(db, sensor, value):
    with db.connect() as conn:
        report = gw.write_readings(conn, [sensor], [datetime.now().astimezone()], [value])
        conn.commit()
    return report


def test_sensor_layer_list_and_live_tick(board):
    fc, live, counts, rows, toast = load_sensors(board["bounds"], ["sensors"], 12, None, ZH, "zh")
    assert toast is no_update and len(fc["features"]) == len(board["sensors"])
    assert {f["properties"]["lv"] for f in fc["features"]} == {None}
    assert ZH["warn_empty"] in _text(rows) and live["sensors"] is True
    json.dumps([fc, live, counts, rows])  # plain JSON: no component sends the layer down Dash's slow path
    assert poll_warnings(1, live, None, ZH, "zh") == (no_update,) * 6  # idle tick: nothing travels

    sid = board["sensors"]["RQ-000001"]
    _reading(board["db"], board["sensors"]["YG-000001"], 3.0)  # blue: listed, not announced
    delta, live2, counts, rows, cls, text = poll_warnings(2, live, None, ZH, "zh")
    assert cls is no_update and text is no_update and live2["cursor"] > live["cursor"]
    assert [f["properties"]["lv"] for f in delta["upsert"]] == ["blue"]
    _reading(board["db"], sid, 30.0)  # red: announced
    delta, live3, counts, rows, cls, text = poll_warnings(3, live2, None, ZH, "zh")
    assert cls == ALARM_ON and "RQ-000001" in text and ZH["alarm_new_red"] in text
    assert [f["properties"]["lv"] for f in delta["upsert"]] == ["red"]
    listed = _text(rows)
    assert listed.index("RQ-000001") < listed.index("YG-000001")  # most severe first
    assert '"data-level": "red"' in _text(counts)
    # Layer off: the list still updates, no sensor delta.
    fc, live_off, *_ = load_sensors(board["bounds"], [], 12, None, EN, "en")
    assert fc["features"] == [] and live_off["sensors"] is False


def test_acting_from_the_panel(board):
    sid = board["sensors"]["JS-000001"]
    (wid,) = _reading(board["db"], sid, 45.0).opened
    body, cls, selected, viewport, toast = open_warning({"type": "og-warn-item", "id": wid, "src": "list"}, ZH, "zh")
    assert cls == "og-warn-detail" and selected["id"] == wid and viewport["zoom"] == 17
    assert ZH["warn_action_convert"] in _text(body)
    _, _, toast = run_warning_action("dismiss", selected, "值班员", "", ZH, "zh")
    assert "reason" in _text(toast)
    _, _, toast = run_warning_action("acknowledge", selected, "", "", ZH, "zh")
    assert "操作人" in _text(toast)
    body, fresh, toast = run_warning_action("acknowledge", selected, "值班员", "", ZH, "zh")
    assert fresh["version"] == selected["version"] + 1 and "og-info" in _text(toast)
    # A stale panel (old version): conflict, reloaded, nothing changed.
    body, again, toast = run_warning_action("convert", selected, "值班员", "", ZH, "zh")
    assert ZH["warn_conflict_reloaded"] in _text(toast) and again == fresh
    body, done, toast = run_warning_action("convert", fresh, "值班员", "", ZH, "zh")
    with board["db"].connect() as conn:
        w = gw.fetch_warning(conn, wid)
    assert w.state == "converted" and w.case_code in _text(toast) and '"og-case-link"' in _text(body)
    # The case drawer links back to the warning (opens it in the warning panel).
    from layers.case_drawer import build_drawer

    with board["db"].connect() as conn:
        drawer, _, _ = build_drawer(conn, w.case_id, ZH, "zh")
    assert ZH["warn_from"] in _text(drawer) and f'"id": {wid}, "src": "case"' in _text(drawer)


def test_page_has_the_warning_parts(board):
    from app.factory import create_app

    create_app()
    from app.pages.home import layout

    zh = _text(layout())
    for needle in ('"og-warn-panel"', '"og-alarm"', '"role": "alert"', '"aria-live": "assertive"', '"og-sensors"',
                   '"og-risk-heat"', ZH["layer_risk_heat"], ZH["risk_window_30d"]):
        assert needle in zh, needle
    assert EN["warn_title"] in _text(layout(lang="en"))

