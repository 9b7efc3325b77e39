"""Wall screen (/screen): views, the figures around the map, the ticker and the warnings layer
(plain functions on a real PostGIS with cases and sensor warnings)."""

from __future__ import annotations

import json

import pytest

from app.i18n import strings
from callbacks.screen import update_wall
from geodata import cases as gc
from geodata.warnings import LEVELS, fetch_warning_counts
from layers.screen_wall import build_views

ZH = strings("zh")


@pytest.fixture
def wall_db(demo_db):
    """The small demo district with 30 days of cases and 48 h of sensor readings (warnings)."""
    from geodata.cases.history import seed_history
    from geodata.warnings.demo import seed_reading_history, seed_sensors

    with demo_db.connect() as conn:
        seed_history(conn, days=30, scale="small", seed=42)
        seed_sensors(conn, "small", 42)
        seed_reading_history(conn, 48, 42)
        conn.commit()
    return demo_db


def _text(component) -> str:
    return json.dumps(component, default=lambda c: c.to_plotly_json(), ensure_ascii=False)


def test_views_are_the_district_then_every_street(wall_db):
    views = build_views("zh", ZH)
    with wall_db.connect() as conn:
        streets = conn.execute("SELECT count(*) FROM admin_area WHERE level = 'street'").fetchone()[0]
    assert len(views) == streets + 1 and views[0]["code"] is None and views[0]["name"] == "宝山区"
    for v in views:
        (south, west), (north, east) = v["bounds"]
        assert south < north and west < east


def test_figures_match_the_indicators_and_warning_counts(wall_db):
    views = build_views("zh", ZH)
    kpis, warns, trend, ranking, ticker, toast = update_wall(0, 0, views, ZH, "zh")
    with wall_db.connect() as conn:
        k = gc.fetch_kpis(conn, gc.CaseFilter())
        counts = fetch_warning_counts(conn)
        newest = gc.fetch_cases(conn, gc.CaseFilter(), limit=1)[0]
    values = [tile.children[0].children for tile in kpis]
    assert values[:3] == [f"{k['new_today']:,}", f"{k['open']:,}", f"{k['overdue']:,}"]
    assert [tile.children[0].children for tile in warns] == [f"{counts[lvl]:,}" for lvl in reversed(LEVELS)]
    assert sum(counts.values()) > 0
    assert len(trend.data) == 3 and len(trend.data[0].x) == 30
    assert "高境镇" in _text(ranking) or "镇" in _text(ranking)
    assert ticker and any(newest.category_name_zh in item.children for item in ticker)


def test_a_street_view_narrows_the_figures(wall_db):
    views = build_views("zh", ZH)
    street = views[1]
    kpis, warns, *_ = update_wall(0, 1, views, ZH, "zh")
    with wall_db.connect() as conn:
        k = gc.fetch_kpis(conn, gc.CaseFilter(streets=(street["code"],)))
        counts = fetch_warning_counts(conn, street["code"])
    assert kpis[1].children[0].children == f"{k['open']:,}"
    assert [tile.children[0].children for tile in warns] == [f"{counts[lvl]:,}" for lvl in reversed(LEVELS)]


def test_layout_holds_one_street_without_rotating(wall_db):
    from app import ids
    from app.factory import create_app

    create_app()  # pages register with an app
    from app.pages.screen import layout

    views = build_views("zh", ZH)
    page = layout(view=views[2]["code"])
    found = {}

    def walk(node):
        if hasattr(node, "id") and isinstance(getattr(node, "id", None), str):
            found[node.id] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    walk(page)
    assert found[ids.SCREEN_ROTATE_TICK].disabled is True
    assert found[ids.SCREEN_VIEW].data == 2 and found[ids.SCREEN_VIEW_NAME].children == views[2]["name"]
    assert found[ids.SCREEN_FILTER].data["streets"] == [views[2]["code"]]
    walk(layout(rotate="20"))
    assert found[ids.SCREEN_ROTATE_TICK].disabled is False and found[ids.SCREEN_ROTATE_TICK].interval == 20_000


def test_database_down_is_a_message_not_a_crash(wall_db, monkeypatch):
    from geodata.db import close_pool
    from geodata.settings import get_settings

    close_pool()
    monkeypatch.setenv("ONEGRID_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    out = update_wall(0, 0, [{"code": None, "name": "x", "bounds": [[0, 0], [1, 1]]}], ZH, "zh")
    assert all(o is not None for o in out)
    assert ZH["error_db"] in _text(out[-1])


def test_wall_map_draws_the_command_maps_sensor_layer(wall_db):
    """The wall's warnings are the command map's sensor layer: the same builder and the same
    GeoJSON component (glyphs, level colours, clusters, kinds), and its legend."""
    from app import ids
    from app.factory import create_app
    from app.warn_layout import sensor_layer
    from callbacks.screen import load_sensors
    from layers.display import bounds_from_display
    from layers.sensors import build_sensor_layer
    from layers.view import parse_view

    create_app()
    from app.pages.screen import WALL_LAYERS, layout

    views = build_views("zh", ZH)
    fc, toast = load_sensors(views[0]["bounds"], 0, 12, ZH)
    with wall_db.connect() as conn:
        same = build_sensor_layer(conn, parse_view(bounds_from_display(views[0]["bounds"]), 12))
        warned = conn.execute("SELECT count(DISTINCT sensor_id) FROM warning WHERE state IN ('active', 'acknowledged')"
                              ).fetchone()[0]
    same.pop("truncated")
    assert fc == same and warned > 0
    assert sum(1 for f in fc["features"] if f["properties"]["lv"]) == warned
    assert {f["properties"]["lv"] for f in fc["features"]} - {None} <= set(LEVELS)
    found = {}

    def walk(node):
        if isinstance(getattr(node, "id", None), str):
            found[node.id] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, list) else [children] if children is not None else []:
            walk(child)

    walk(layout())
    wall, command = found[ids.SCREEN_SENSORS].to_plotly_json()["props"], sensor_layer(ids.SENSORS, "zh").to_plotly_json()["props"]
    assert {k: v for k, v in wall.items() if k != "id"} == {k: v for k, v in command.items() if k != "id"}
    assert "sensors" in WALL_LAYERS
