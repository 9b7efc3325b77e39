"""Dashboard callbacks as plain functions, the page layout and the app factory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly
import pytest
from dash import no_update

from app.i18n import STRINGS, strings
from callbacks.detail import OPEN, show_place
from callbacks.search import suggest
from callbacks.viewport import DATA_KEYS, update_layers
from geodata.db import close_pool
from geodata.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
ZH, EN = strings("zh"), strings("en")
ALL_LAYERS = ["outlines", "grids", "addresses", "facilities", "roads"]


def _text(component) -> str:
    """All text inside a Dash component tree."""
    return json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder, ensure_ascii=False)


def _bounds(conn) -> list:
    minlon, minlat, maxlon, maxlat = conn.execute(
        "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (SELECT ST_Extent(geom) e FROM admin_area) s"
    ).fetchone()
    return [[minlat, minlon], [maxlat, maxlon]]


@pytest.fixture(scope="module")
def dash_app():
    """The app (pages can only be imported once an app exists)."""
    from app.factory import create_app

    return create_app()


@pytest.fixture
def down_db(empty_db, monkeypatch):
    """Settings pointing at a port where no database listens."""
    close_pool()
    monkeypatch.setenv("ONEGRID_DATABASE_URL", "host=127.0.0.1 port=9 dbname=nothing connect_timeout=1")
    get_settings.cache_clear()
    yield
    close_pool()
    get_settings.cache_clear()


# ---- strings and layout ---------------------------------------------------------------------

def test_both_languages_have_the_same_strings():
    assert STRINGS["zh"].keys() == STRINGS["en"].keys()
    assert strings("fr") == ZH and strings("EN") == EN


def test_layout_is_small_and_has_no_geojson(dash_app, demo_db):
    from app.pages.home import layout

    for lang in ("zh", "en"):
        text = _text(layout(lang=lang))
        assert len(text.encode()) < 100_000
        assert '"coordinates"' not in text
    zh = _text(layout())
    assert "OneGrid 一网统管" in zh and ZH["stat_grids"] in zh and "og-stat-value" in zh
    assert EN["layers"] in _text(layout(lang="en")) and ZH["layers"] not in _text(layout(lang="en"))
    assert "og-theme-light" in _text(layout(theme="light"))


def test_layout_survives_a_database_outage(dash_app, down_db):
    from app.pages.home import layout

    text = _text(layout())
    assert "og-error" in text and "Traceback" not in text


# ---- app factory ----------------------------------------------------------------------------

def test_app_serves_locally_with_health_and_callbacks(demo_db):
    from app.factory import create_app

    app = create_app()
    client = app.server.test_client()
    page = client.get("/").data.decode()
    assert app.config.serve_locally
    urls = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert urls and not [u for u in urls if u.startswith(("http:", "https:", "//"))]
    assert any("/assets/onegrid.js" in u for u in urls) and any("/assets/onegrid.css" in u for u in urls)
    assert len(app.callback_map) >= 5
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["database"] == "up" and health.json["grids"] > 0


def test_health_reports_a_database_outage(down_db):
    from app.factory import create_app

    health = create_app().server.test_client().get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "down" and health.json["message"]


# ---- viewport callback ----------------------------------------------------------------------

def test_update_layers_returns_every_visible_layer(demo_db):
    with demo_db.connect() as conn:
        bounds = _bounds(conn)
    out = update_layers(bounds, ALL_LAYERS, "addresses", None, 12, ZH, "zh")
    data = dict(zip(DATA_KEYS, out[: len(DATA_KEYS)], strict=True))
    for key in ("district", "roads", "outline_street", "grids", "address_cells", "facilities"):
        assert data[key]["features"], key
    assert data["address_points"]["features"] == []
    hideout_street, hideout_community, legend, zoom_text, toast = out[len(DATA_KEYS):]
    assert hideout_street == {"fill": False}  # grids on: outlines take clicks on their edges only
    assert ZH["legend_grids_addresses"] in _text(legend) and zoom_text.endswith("12")
    assert toast is no_update


def test_hidden_layers_are_emptied(demo_db):
    with demo_db.connect() as conn:
        bounds = _bounds(conn)
    out = update_layers(bounds, ["outlines"], "households", [], 12, EN, "en")
    data = dict(zip(DATA_KEYS, out[: len(DATA_KEYS)], strict=True))
    assert data["outline_street"]["features"]
    assert data["grids"]["features"] == data["facilities"]["features"] == data["address_cells"]["features"] == []
    assert out[len(DATA_KEYS)] == {"fill": True}


@pytest.mark.parametrize("bounds", [None, [[1, 2]], [[31.5, 121.5], [31.1, 121.1]], "DROP TABLE grid"])
def test_update_layers_bad_bounds_show_a_message(demo_db, bounds):
    out = update_layers(bounds, ALL_LAYERS, "households", None, 12, EN, "en")
    assert all(v is no_update for v in out[:-1])
    message = _text(out[-1])
    assert "bbox" in message.lower() or "bounds" in message.lower()
    assert "og-error" in message and "Traceback" not in message


def test_update_layers_bad_metric_shows_a_message(demo_db):
    with demo_db.connect() as conn:
        bounds = _bounds(conn)
    out = update_layers(bounds, ["grids"], "population", None, 12, EN, "en")
    assert "population" in _text(out[-1])


def test_update_layers_database_down_shows_a_message(down_db):
    out = update_layers([[31.3, 121.4], [31.36, 121.48]], ALL_LAYERS, "households", None, 12, EN, "en")
    assert all(v is no_update for v in out[:-1])
    assert EN["error_db"] in _text(out[-1])


# ---- side panel, search ---------------------------------------------------------------------

def _grid(demo_db) -> tuple[str, str]:
    with demo_db.connect() as conn:
        return conn.execute("SELECT code, community_code FROM grid ORDER BY code LIMIT 1").fetchone()


def test_click_grid_opens_panel_with_code_and_chain(demo_db):
    code, community = _grid(demo_db)
    feature = {"type": "Feature", "properties": {"code": code, "name": "x"}}
    body, cls, selection, viewport, toast = show_place("grid", feature, None, 14, EN, "en")
    text = _text(body)
    assert code in text and EN["level_community"] in text and EN["addresses"] in text
    assert cls == OPEN and viewport is no_update and toast is no_update
    assert selection["features"][0]["geometry"]["type"] in ("Polygon", "MultiPolygon")


def test_click_community_and_facility(demo_db):
    _, community = _grid(demo_db)
    body, cls, _, _, _ = show_place("area", {"properties": {"code": community}}, None, 14, ZH, "zh")
    assert community in _text(body) and ZH["grids"] in _text(body) and cls == OPEN
    with demo_db.connect() as conn:
        fid, name = conn.execute("SELECT id, name FROM facility ORDER BY id LIMIT 1").fetchone()
    body, cls, selection, _, _ = show_place("facility", {"properties": {"id": fid}}, None, 14, ZH, "zh")
    assert name in _text(body) and cls == OPEN and selection["features"][0]["geometry"]["type"] == "Point"


def test_click_address_cell_zooms_in():
    feature = {"properties": {"cell": "8a309a6a4b5ffff", "n": 5}}
    body, cls, _, viewport, toast = show_place("cell", feature, None, 13, EN, "en")
    assert body is no_update and viewport["zoom"] == 15 and viewport["transition"] == "flyTo"
    lat, lng = viewport["center"]
    assert 30 < lat < 33 and 120 < lng < 123
    assert show_place("cell", {"properties": {"cell": "junk"}}, None, 13, EN, "en")[3] is no_update


def test_cluster_click_is_left_to_leaflet():
    assert show_place("address", {"properties": {"cluster": True, "id": 1}}, None, 15, EN, "en") == (no_update,) * 5


def test_search_pick_flies_and_opens_panel(demo_db):
    code, _ = _grid(demo_db)
    body, cls, _, viewport, _ = show_place("search", None, f"grid|{code}", 12, EN, "en")
    assert code in _text(body) and cls == OPEN
    (south, west), (north, east) = viewport["bounds"]
    assert south < north and west < east and viewport["transition"] == "flyToBounds"


def test_unknown_place_shows_a_message(demo_db):
    body, cls, _, viewport, toast = show_place("search", None, "grid|nope", 12, EN, "en")
    assert body is no_update and "nope" in _text(toast) and "og-error" in _text(toast)


def test_suggest(demo_db):
    code, _ = _grid(demo_db)
    assert suggest("", EN) == (no_update, no_update)
    options, toast = suggest(code[:9], EN)
    assert options and len(options) <= 10 and all("|" in o["value"] for o in options) and toast is no_update
    options, _ = suggest("zzzz-no-such-place-zzzz", EN)
    assert options[0]["disabled"] and options[0]["label"] == EN["no_results"]
    _, toast = suggest("x" * 200, EN)
    assert "too long" in _text(toast)




def test_update_layers_on_a_gcj02_basemap_shifts_features(demo_db, monkeypatch):
    with demo_db.connect() as conn:
        bounds = _bounds(conn)
    plain = update_layers(bounds, ["outlines"], "households", [], 12, EN, "en")
    monkeypatch.setenv("ONEGRID_BASEMAP_CRS", "gcj02")
    get_settings.cache_clear()
    try:
        shifted = update_layers(bounds, ["outlines"], "households", [], 12, EN, "en")
    finally:
        monkeypatch.delenv("ONEGRID_BASEMAP_CRS")
        get_settings.cache_clear()
    import shapely

    first = [shapely.get_coordinates(shapely.geometry.shape(out[DATA_KEYS.index("district")]["features"][0]["geometry"]))[0]
             for out in (plain, shifted)]
    (lon_a, lat_a), (lon_b, lat_b) = first
    assert 0.001 < lon_b - lon_a < 0.01 and 0 < abs(lat_b - lat_a) < 0.01  # GCJ-02 is hundreds of metres off


def test_click_address_point_shows_the_address(demo_db):
    with demo_db.connect() as conn:
        aid, text, grid = conn.execute("SELECT id, full_text, grid_code FROM address ORDER BY id LIMIT 1").fetchone()
    body, cls, selection, _, _ = show_place("address", {"properties": {"id": aid}}, None, 17, ZH, "zh")
    assert text in _text(body) and grid in _text(body) and cls == OPEN
    assert selection["features"][0]["geometry"]["type"] == "Point"
