"""Warnings and the risk surface in a real browser: a new red warning is visible and announced
within 2 s (banner with role=alert/aria-live, list, red sensor), it is turned into a case from
the panel, and the risk heatmap and choropleth draw with their legends.
Screenshots: /tmp/shots/warnings-*.png."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from live import SHOTS, chromium_page, dashboard

from geodata import cases as gc
from geodata import warnings as gw
from geodata.warnings.demo import seed_sensors

pytestmark = pytest.mark.browser


@pytest.fixture
def server(demo_db):
    with demo_db.connect() as conn:
        with conn.transaction():
            seed_sensors(conn, "small", 42)
        pts = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT 40").fetchall()
        now = datetime.now().astimezone()
        for i, (lon, lat) in enumerate(pts):  # recent cases for the risk surface
            gc.create_case(conn, category_code="garbage", channel="public", lon=lon, lat=lat, actor="seed",
                           reported_at=now - timedelta(hours=i % 30))
        gas = conn.execute("SELECT id FROM sensor WHERE kind_code = 'gas' ORDER BY id").fetchall()
        gw.write_readings(conn, [gas[1][0]], [now - timedelta(minutes=30)], [7.0])  # one blue warning
        conn.commit()
    with dashboard(demo_db.dsn) as url:
        yield url, gas[0][0]


def test_red_warning_is_announced_then_converted_and_risk_layers_draw(server, demo_db):
    url, sensor = server
    with chromium_page() as pg:
        pg.goto(url + "/")
        pg.wait_for_selector(".og-sensor, .og-sensor-cluster", timeout=30_000)
        pg.wait_for_selector("#og-warn-list .og-warn-item", timeout=20_000)
        assert "蓝色 IV级" in pg.inner_text("#og-warn-list")
        assert pg.get_attribute("#og-alarm", "role") == "alert"
        assert pg.get_attribute("#og-alarm", "aria-live") == "assertive"
        assert "og-hidden" in pg.get_attribute("#og-alarm", "class")
        pg.wait_for_timeout(1500)  # let the first live ticks pass

        with demo_db.connect() as conn:
            code = conn.execute("SELECT code FROM sensor WHERE id = %s", (sensor,)).fetchone()[0]
            gw.write_readings(conn, [sensor], [datetime.now().astimezone()], [31.5])
            conn.commit()
        t0 = time.time()
        pg.wait_for_function(f"""!document.querySelector('#og-alarm').classList.contains('og-hidden')
                                 && document.querySelector('#og-alarm-text').innerText.includes({code!r})""",
                             timeout=4_000)
        elapsed = time.time() - t0
        assert elapsed < 2.0, f"red warning announced after {elapsed:.2f} s"
        assert "红色预警" in pg.inner_text("#og-alarm")
        first = pg.locator("#og-warn-list .og-warn-item").first
        assert "红色 I级" in first.inner_text() and code in first.inner_text()  # most severe first
        assert pg.locator("#og-warn-counts [data-level='red'] b").inner_text() == "1"
        pg.screenshot(path=str(SHOTS / "warnings-alarm.png"))

        # Act on it: turn it into a case from the panel; the case opens from the link.
        pg.click("#og-alarm-close")
        first.click()
        pg.wait_for_selector("#og-warn-detail:not(.og-hidden) .og-warn-act-convert", timeout=10_000)
        pg.fill("#og-actor", "值班长")
        pg.click(".og-warn-act-convert")
        pg.wait_for_selector("#og-warn-detail .og-link", timeout=10_000)
        case_code = pg.inner_text("#og-warn-detail .og-link")
        with demo_db.connect() as conn:
            case_id, warning_id, channel = conn.execute(
                "SELECT id, warning_id, channel FROM cases WHERE code = %s", (case_code,)).fetchone()
            assert channel == "iot" and gw.fetch_warning(conn, warning_id).case_id == case_id
        pg.click("#og-warn-detail .og-link")
        pg.wait_for_selector("#og-drawer:not(.og-hidden)", timeout=10_000)
        assert case_code in pg.inner_text("#og-drawer-body")
        assert "来源预警" in pg.inner_text("#og-drawer-body") and code in pg.inner_text("#og-drawer-body")
        pg.click("#og-drawer-close")

        # Risk heatmap (our canvas layer) and choropleth, each with its legend.
        pg.locator("#og-layers").get_by_text("风险热力图", exact=True).click()
        pg.wait_for_function("Number((document.querySelector('.og-heat-canvas') || {dataset: {}}).dataset.drawn) > 0",
                             timeout=20_000)
        pg.wait_for_selector("#og-risk-legend .og-risk-legend-heat .og-heat-ramp", timeout=10_000)
        painted = pg.evaluate("""(() => { const c = document.querySelector('.og-heat-canvas');
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
            for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; } return n; })()""")
        assert painted > 1000
        pg.screenshot(path=str(SHOTS / "warnings-heat.png"))
        pg.locator("#og-layers").get_by_text("风险网格（H3）", exact=True).click()
        pg.wait_for_selector("path.og-risk-cell", timeout=20_000)
        pg.wait_for_selector("#og-risk-legend .og-risk-legend-cells .og-swatch", timeout=10_000)
        assert "风险指数" in pg.inner_text("#og-risk-legend")
        pg.locator("path.og-risk-c4, path.og-risk-c3, path.og-risk-c2").first.click(force=True)
        pg.wait_for_selector("#og-risk-detail .og-risk-factor", timeout=10_000)
        assert "主要因素" in pg.inner_text("#og-risk-detail")
        # Playback: the window's first frame is a past time.
        pg.locator("#og-risk-window").get_by_text("24小时", exact=True).click()
        pg.click("#og-risk-play-btn")
        pg.wait_for_function("document.querySelector('#og-risk-time').innerText.includes('截至')", timeout=10_000)
        pg.click("#og-risk-play-btn")
        pg.wait_for_timeout(800)
        pg.screenshot(path=str(SHOTS / "warnings-risk.png"))
        assert not pg.errors, pg.errors
