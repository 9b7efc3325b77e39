"""Live cases in a real browser: a case POSTed through Open311 appears on the open map and in
the table without a reload; the drawer registers it. Screenshots: /tmp/shots/cases-*.png."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta

import pytest
from live import SHOTS, chromium_page, dashboard

from geodata import cases as gc

pytestmark = pytest.mark.browser


def _seed(conn, n: int = 80) -> None:
    """A few days of cases at demo addresses, some moved along the workflow, some overdue."""
    cats = [c["code"] for c in gc.fetch_categories(conn) if not c["metadata"]][:8]
    pts = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id").fetchall()
    now = datetime.now().astimezone()
    for i in range(n):
        lon, lat = pts[(i * 97) % len(pts)]
        at = now - timedelta(hours=(i * 7) % 120)
        case = gc.create_case(conn, category_code=cats[i % len(cats)], channel=gc.CHANNELS[i % 5], lon=lon, lat=lat,
                              actor="seed", reported_at=at)
        steps = ["register", "dispatch", "start", "feedback", "close"][: i % 6]
        for k, action in enumerate(steps):
            # Dispatched days ago → deadline passed → overdue while still open.
            gc.transition(conn, case.id, action, actor="seed", at=at + timedelta(minutes=10 * (k + 1)))
    conn.commit()


@pytest.fixture
def server(demo_db):
    with demo_db.connect() as conn:
        _seed(conn)
        key = gc.create_api_key(conn, "browser-test")
        conn.commit()
    with dashboard(demo_db.dsn) as url:
        yield url, key


def _post_case(url: str, key: str, service: str, lon: float, lat: float) -> str:
    body = urllib.parse.urlencode({"api_key": key, "service_code": service, "long": lon, "lat": lat,
                                   "description": "浏览器测试：道路积水"}).encode()
    req = urllib.request.Request(url + "/open311/v2/requests.json", data=body, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())[0]["service_request_id"]


def test_posted_case_appears_live_and_is_registered_from_the_drawer(server, demo_db):
    url, key = server
    with demo_db.connect() as conn:
        lon, lat = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id DESC LIMIT 1").fetchone()
        service = next(c["code"] for c in gc.fetch_categories(conn) if not c["metadata"])
    with chromium_page() as pg:
        pg.goto(url + "/")
        pg.wait_for_function("(window.onegrid.shownCases || []).length > 10", timeout=30_000)
        pg.wait_for_selector(".og-case-cluster, .og-case", timeout=20_000)
        pg.wait_for_function("document.querySelectorAll('#og-kpis .og-kpi').length === 5", timeout=20_000)
        pg.wait_for_timeout(1500)
        sizes = pg.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
        assert sizes == [1920, 1080]
        pg.screenshot(path=str(SHOTS / "cases-map.png"))
        loads = pg.evaluate("performance.getEntriesByType('navigation').length")

        code = _post_case(url, key, service, lon, lat)
        with demo_db.connect() as conn:
            case_id = conn.execute("SELECT id FROM cases WHERE code = %s", (code,)).fetchone()[0]
        t0 = time.time()
        pg.wait_for_function(f"(window.onegrid.shownCases || []).includes({case_id})", timeout=5_000)
        pg.wait_for_function(f"document.querySelector('#og-case-table').innerText.includes({code!r})", timeout=5_000)
        assert time.time() - t0 < 4
        assert pg.evaluate("performance.getEntriesByType('navigation').length") == loads  # no reload

        # Click its row: the drawer opens, the map flies to it and rings it.
        pg.locator("#og-case-table td", has_text=code).first.click()
        pg.wait_for_selector("#og-drawer:not(.og-hidden)", timeout=10_000)
        assert code in pg.inner_text("#og-drawer-body") and "上报" in pg.inner_text("#og-drawer-body")
        pg.wait_for_selector(f".og-case-selected[data-case='{case_id}']", timeout=15_000)
        pg.fill("#og-actor", "值班员甲")
        pg.click(".og-act-register")
        pg.wait_for_function("document.querySelector('#og-drawer-body .og-state').innerText === '立案'", timeout=10_000)
        pg.wait_for_function(f"""[...document.querySelectorAll('#og-case-table tr')]
            .some(r => r.innerText.includes({code!r}) && r.innerText.includes('立案'))""", timeout=5_000)
        pg.wait_for_timeout(800)
        pg.screenshot(path=str(SHOTS / "cases-drawer.png"))
        with demo_db.connect() as conn:
            assert gc.fetch_case(conn, case_id).state == "registered"

        # Grid choropleth by overdue rate.
        pg.locator("#og-grid-metric").get_by_text("超期率", exact=True).click()
        pg.wait_for_function("document.querySelector('#og-legend').innerText.includes('超期率')", timeout=15_000)
        pg.click("#og-drawer-close")
        pg.wait_for_timeout(1200)
        pg.screenshot(path=str(SHOTS / "cases-choropleth.png"))
        assert not pg.errors, pg.errors
