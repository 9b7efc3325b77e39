"""The wall screen and the export buttons in headless Chromium: /screen fills 1920×1080 and
3840×2160 without scrollbars and takes a new case live; rotation moves to a street; the map
page's export buttons download a PDF snapshot and a GeoJSON of the cases.
Screenshots: /tmp/shots/wall-*.png, /tmp/shots/export-*.png."""

from __future__ import annotations

import json

import pytest
from live import SHOTS, chromium_page, dashboard

from geodata import cases as gc
from tests.test_screen import wall_db  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser

_NO_SCROLL = """() => {
    const d = document.documentElement, b = document.body;
    const boxes = [...document.querySelectorAll('.og-wall-head, .og-wall-panel, .og-wall-map, .og-wall-ticker')]
        .map(e => e.getBoundingClientRect());
    return {page: [d.scrollWidth, d.scrollHeight, b.scrollWidth, b.scrollHeight, innerWidth, innerHeight],
            inside: boxes.every(r => r.left >= 0 && r.top >= 0 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5),
            n: boxes.length};
}"""
_CASES_SHOWN = """() => [...document.querySelectorAll('.og-wall-map .og-case-dot')].length +
    [...document.querySelectorAll('.og-wall-map .og-case-cluster span')].reduce((s, e) => s + (+e.textContent || 0), 0)"""


def _fits(page, w: int, h: int) -> None:
    got = page.evaluate(_NO_SCROLL)
    assert got["page"] == [w, h, w, h, w, h], got
    assert got["inside"] and got["n"] == 5
    # The legend is whole: no block cut off at the panel's bottom (the panel cannot scroll), no
    # label running into the next column.
    page.wait_for_selector(".og-wall-legend .og-legend-block", timeout=30_000)
    legend = page.evaluate("""() => { const e = document.querySelector('.og-wall-legend');
        const box = e.getBoundingClientRect();
        return {fits: e.scrollHeight <= e.clientHeight + 1,
                inside: [...e.querySelectorAll('.og-legend-item')].every(i => i.getBoundingClientRect().bottom <= box.bottom + 0.5
                                                                          && i.scrollWidth <= i.clientWidth + 1),
                blocks: e.querySelectorAll('.og-legend-block').length}; }""")
    assert legend == {"fits": True, "inside": True, "blocks": 3}, legend


def _clock_is_the_districts(page) -> None:
    """The wall clock shows the district's time zone (ONEGRID_TIMEZONE), not the browser's."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from geodata.settings import get_settings

    shown = page.inner_text(".og-wall-clock")
    now = datetime.now(ZoneInfo(get_settings().timezone))
    assert shown[:16] in {f"{now + timedelta(minutes=d):%Y-%m-%d %H:%M}" for d in (-1, 0, 1)}, shown


_RED_TILE = "() => +document.querySelector('.og-warn-tile.og-warn-red .og-wall-tile-value').textContent.replace(/,/g, '')"


def _red_warning_shows_within_seconds(page, db) -> None:
    """A new red warning reaches the wall's red tile and its sensor layer within ~2 s, not on
    the 10 s figures tick: the wall follows the warning events' cursor every second."""
    import time
    from datetime import datetime

    from geodata import warnings as gw

    page.wait_for_timeout(11_000)  # past a figures tick, so only the cursor can explain a fast update
    before = page.evaluate(_RED_TILE)
    with db.connect() as conn:
        sensor = conn.execute("SELECT s.id FROM sensor s WHERE s.kind_code = 'gas' AND NOT EXISTS (SELECT 1 "
                              "FROM warning w WHERE w.sensor_id = s.id AND w.state IN ('active', 'acknowledged')) "
                              "ORDER BY s.id LIMIT 1").fetchone()[0]
        gw.write_readings(conn, [sensor], [datetime.now().astimezone()], [31.5])  # red for gas
        conn.commit()
    t0 = time.time()
    page.wait_for_function(f"() => ({_RED_TILE})() === {before + 1}", timeout=6_000)
    assert time.time() - t0 < 3.0, f"red warning on the wall after {time.time() - t0:.1f} s"
    page.wait_for_selector(".og-wall-map .og-lv-red", timeout=3_000)


def test_wall_screen_fits_1080p_and_4k_and_takes_a_new_case_live(wall_db):  # noqa: F811
    with wall_db.connect() as conn:
        lon, lat = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT 1 OFFSET 300").fetchone()
        category = next(c["code"] for c in gc.fetch_categories(conn) if not c["metadata"])
    with dashboard(wall_db.dsn) as url:
        with chromium_page(1920, 1080) as page:
            page.goto(url + "/screen?rotate=0")
            page.wait_for_selector(".og-wall-kpis .og-kpi", timeout=30_000)
            page.wait_for_selector(".og-wall-map .og-case-dot, .og-wall-map .og-case-cluster", timeout=30_000)
            page.wait_for_selector(".og-wall-ticker .og-tick", timeout=30_000)
            _fits(page, 1920, 1080)
            assert page.locator(".og-warn-tile").count() == 4
            # Warnings are the command map's sensor layer: kind glyphs / clusters in the level's colour.
            page.wait_for_selector(".og-wall-map .og-sensor-cluster[class*='og-lv-'], "
                                   ".og-wall-map .og-sensor-glyph[class*='og-lv-']", timeout=30_000)
            assert page.locator(".og-wall-map .og-warn-dot").count() == 0
            assert "物联传感器" in page.inner_text(".og-wall-legend")
            _clock_is_the_districts(page)
            assert page.locator(".og-wall-view").inner_text() == "宝山区"
            before = page.evaluate(_CASES_SHOWN)
            with wall_db.connect() as conn:
                gc.create_case(conn, category_code=category, channel="public", lon=lon, lat=lat, actor="wall-test")
                conn.commit()
            page.wait_for_function(f"() => ({_CASES_SHOWN})() === {before + 1}", timeout=15_000)
            _red_warning_shows_within_seconds(page, wall_db)
            page.screenshot(path=str(SHOTS / "wall-1080.png"))
            assert not page.errors
        with chromium_page(3840, 2160) as page:  # in English: the longer labels fit too
            page.goto(url + "/screen?rotate=0&lang=en")
            page.wait_for_selector(".og-wall-map .og-case-dot, .og-wall-map .og-case-cluster", timeout=30_000)
            page.wait_for_selector(".og-wall-kpis .og-kpi", timeout=30_000)
            _fits(page, 3840, 2160)
            page.screenshot(path=str(SHOTS / "wall-4k.png"))


def test_wall_screen_rotates_to_the_next_street(wall_db):  # noqa: F811
    with wall_db.connect() as conn:
        first = conn.execute("SELECT name FROM admin_area WHERE level = 'street' ORDER BY code LIMIT 1").fetchone()[0]
    with dashboard(wall_db.dsn) as url, chromium_page(1920, 1080) as page:
        page.goto(url + "/screen?rotate=5")
        assert page.locator(".og-wall-view").inner_text() in ("宝山区", first)  # it may have turned already
        page.wait_for_function(f"() => document.querySelector('.og-wall-view').textContent === {json.dumps(first)}",
                               timeout=20_000)
        _fits(page, 1920, 1080)


def test_export_buttons_download_a_snapshot_and_the_cases(wall_db, tmp_path):  # noqa: F811
    with dashboard(wall_db.dsn) as url, chromium_page(1920, 1080) as page:
        page.goto(url + "/")
        page.wait_for_selector(".og-case-dot, .og-case-cluster", timeout=30_000)
        page.click("#og-export-toggle")
        page.wait_for_selector("#og-export-panel:not(.og-hidden)")
        with page.expect_download(timeout=90_000) as info:
            page.click("#og-export-snapshot")
        pdf = tmp_path / info.value.suggested_filename
        info.value.save_as(pdf)
        assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"
        assert "onegrid-map" in pdf.name
        page.wait_for_selector("#og-export-status.og-ok")
        page.screenshot(path=str(SHOTS / "export-panel.png"))
        with page.expect_download(timeout=60_000) as info:
            page.click("#og-export-data")
        data = json.loads((info.value.path()).read_text())
        assert data["type"] == "FeatureCollection" and data["features"]
        assert "description" not in data["features"][0]["properties"]
        assert not page.errors
