"""What a person sees: the command map in headless Chromium against a live server.

The app runs in a subprocess on a free port with the demo database; screenshots go to
/tmp/shots/ (dark theme at 1920×1080, English, light theme).
"""

from __future__ import annotations

import pytest
from live import SHOTS, chromium_page, dashboard

pytestmark = pytest.mark.browser


@pytest.fixture
def server(demo_db):
    """The dashboard on a free port, serving the demo database; its base URL."""
    with dashboard(demo_db.dsn) as url:
        yield url


@pytest.fixture
def page(server):
    with chromium_page() as pg:
        yield pg


def _wait_paths(pg, selector: str, timeout: float = 20_000) -> int:
    pg.wait_for_function(f"document.querySelectorAll({selector!r}).length > 0", timeout=timeout)
    return pg.locator(selector).count()


def test_command_map_draws_toggles_clicks_and_switches_language(page, server):
    pg = page
    pg.goto(server + "/")
    assert _wait_paths(pg, ".og-grid") > 10
    assert pg.locator(".og-outline-street").count() > 0 and pg.locator(".og-district-fill").count() > 0
    assert pg.locator(".leaflet-tooltip.og-label").count() > 0  # street names
    pg.wait_for_timeout(1500)
    assert "OneGrid 一网统管" in pg.inner_text(".og-header")
    sizes = pg.evaluate("[document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    assert sizes == [1920, 1080]  # no scrollbars on the map page
    pg.screenshot(path=str(SHOTS / "map-dark-zh.png"))

    # Toggle the address layer on: H3 cells appear; off again: they go.
    assert pg.locator(".og-cell").count() == 0
    pg.locator("#og-layers").get_by_text("标准地址", exact=True).click()
    assert _wait_paths(pg, ".og-cell") > 0
    pg.locator("#og-layers").get_by_text("标准地址", exact=True).click()
    pg.wait_for_function("document.querySelectorAll('.og-cell').length === 0", timeout=20_000)
    # Grids off: their polygons disappear.
    pg.locator("#og-layers").get_by_text("网格", exact=True).click()
    pg.wait_for_function("document.querySelectorAll('.og-grid').length === 0", timeout=20_000)
    pg.locator("#og-layers").get_by_text("网格", exact=True).click()
    _wait_paths(pg, ".og-grid")
    pg.wait_for_timeout(1000)

    # Click a grid in the middle of the map: the side panel shows its 15-digit-style code.
    box = pg.locator(".og-map").bounding_box()
    grid_codes = pg.evaluate("""() => {
        const paths = [...document.querySelectorAll('.og-grid')];
        const cx = window.innerWidth / 2, cy = window.innerHeight / 2;
        paths.sort((a, b) => {
            const ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
            const da = Math.hypot(ra.x + ra.width / 2 - cx, ra.y + ra.height / 2 - cy);
            const db = Math.hypot(rb.x + rb.width / 2 - cx, rb.y + rb.height / 2 - cy);
            return da - db;
        });
        const r = paths[0].getBoundingClientRect();
        return [r.x + r.width / 2, r.y + r.height / 2];
    }""")
    assert box and grid_codes
    pg.mouse.click(*grid_codes)
    pg.wait_for_selector("#og-detail-panel:not(.og-hidden)", timeout=20_000)
    panel = pg.inner_text("#og-detail-body")
    assert "网格" in panel and any(ch.isdigit() for ch in panel)
    code = pg.inner_text("#og-detail-body .og-row .og-v")
    assert code.strip() and code.strip() in panel
    pg.screenshot(path=str(SHOTS / "map-dark-grid-panel.png"))

    # Nothing was fetched from outside this server (offline first).
    outside = [u for u in pg.requests if not u.startswith(server) and not u.startswith("data:")]
    assert not outside

    # Switch to English.
    pg.click("#og-lang-link")
    pg.wait_for_function("(document.querySelector('.og-header') || {innerText: ''}).innerText.includes('中文')",
                     timeout=20_000)
    assert "Layers" in pg.inner_text(".og-left") and "图层" not in pg.inner_text(".og-left")
    _wait_paths(pg, ".og-grid")
    pg.wait_for_timeout(1500)
    pg.screenshot(path=str(SHOTS / "map-dark-en.png"))
    assert not pg.errors, pg.errors


def test_search_flies_and_theme_switches(page, server, demo_db):
    with demo_db.connect() as conn:
        code = conn.execute("SELECT code FROM grid ORDER BY code DESC LIMIT 1").fetchone()[0]
    pg = page
    pg.goto(server + "/?lang=en")
    _wait_paths(pg, ".og-grid")
    pg.click("#og-search")
    pg.locator(".dash-dropdown-content input").fill(code)
    option = pg.locator(".dash-dropdown-option", has_text=code).first
    option.wait_for(timeout=30_000)
    option.click()
    pg.wait_for_selector("#og-detail-panel:not(.og-hidden)", timeout=20_000)
    assert code in pg.inner_text("#og-detail-body")
    pg.wait_for_function("Number(document.querySelector('#og-zoom-info').innerText.replace(/\\D/g, '')) >= 14",
                         timeout=20_000)
    pg.click("#og-theme-toggle")
    pg.wait_for_selector(".og-root.og-theme-light", timeout=5_000)
    assert pg.get_attribute("#og-lang-link", "href") == "/?lang=zh&theme=light"
    pg.wait_for_timeout(1500)
    pg.screenshot(path=str(SHOTS / "map-light-search.png"))
    assert not pg.errors, pg.errors
