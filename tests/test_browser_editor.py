"""The grid editor in headless Chromium: open a community, draw a split line with the
leaflet-draw tool, see the new grid and the validation list; then save it and see the
version in the history. Screenshots go to /tmp/shots/.
"""

from __future__ import annotations

import pytest
from live import SHOTS, chromium_page, dashboard

pytestmark = pytest.mark.browser

C = "310113106002"  # three grids in the demo


@pytest.fixture
def server(demo_db):
    with dashboard(demo_db.dsn) as url:
        yield url


def _labels(pg) -> list[str]:
    return pg.eval_on_selector_all(".leaflet-tooltip.ed-label", "els => els.map(e => e.textContent.slice(0, 3))")


def _settled_labels(pg, timeout: float = 10.0) -> list[str]:
    """The sorted labels once two reads 0.5 s apart agree (or the last read at the timeout)."""
    import time

    deadline, last = time.monotonic() + timeout, sorted(_labels(pg))
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = sorted(_labels(pg))
        if now == last:
            return now
        last = now
    return last


def test_draw_a_split_and_see_the_validation_list(server, demo_db):
    with chromium_page(1600, 900) as pg:
        pg.goto(f"{server}/editor?community={C}")
        pg.wait_for_function("document.querySelectorAll('.leaflet-tooltip.ed-label').length === 3", timeout=30_000)
        # The map may redraw once more (community from the URL, then the dropdown): tooltips of the
        # outgoing layer linger for a moment, so read until the labels settle, then compare.
        assert _settled_labels(pg) == ["001", "002", "003"]
        pg.wait_for_selector("#ed-issues .ed-summary")
        assert "3 个网格" in pg.inner_text("#ed-info")

        # Draw a horizontal line right across the map (and so across the community).
        box = pg.locator(".og-map").bounding_box()
        y = box["y"] + box["height"] * 0.55
        pg.locator("a.leaflet-draw-draw-polyline").click()
        for fx in (0.03, 0.5, 0.97):
            pg.mouse.click(box["x"] + box["width"] * fx, y)
            pg.wait_for_timeout(250)
        pg.get_by_text("完成", exact=True).click()  # leaflet-draw's "Finish", in the page's Chinese

        pg.wait_for_function("[...document.querySelectorAll('.leaflet-tooltip.ed-label')]"
                             ".some(e => e.innerText.startsWith('004'))", timeout=30_000)
        pg.wait_for_timeout(500)
        labels = sorted(set(_labels(pg)))
        assert "004" in labels and len(labels) > 3
        pg.wait_for_function("document.querySelector('#ed-info').innerText.indexOf('3 个网格') < 0")
        issues = pg.inner_text("#ed-issues")
        assert "0 个错误" in issues  # a split keeps the community tiled
        assert "310113106002004" in issues  # the new grid is checked too (households range)
        assert "split: 310113106002004" in pg.inner_text("#ed-message")
        pg.screenshot(path=str(SHOTS / "editor-split.png"))

        # Impact preview, then save: the history lists the new version.
        pg.locator("#ed-impact-btn").click()
        pg.wait_for_selector("#ed-impact .ed-moved", timeout=30_000)
        assert "变更网格" in pg.inner_text("#ed-impact")
        pg.fill("#ed-author", "测试员")
        pg.fill("#ed-reason", "新建小区拆分")
        pg.locator("#ed-save").click()
        pg.wait_for_function("document.querySelector('#ed-save-msg').innerText.indexOf('版本 2') >= 0",
                             timeout=30_000)
        pg.wait_for_function("document.querySelector('#ed-versions').innerText.indexOf('测试员') >= 0")
        pg.screenshot(path=str(SHOTS / "editor-saved.png"))
        assert not pg.errors, pg.errors
        assert all(r.startswith(server) or r.startswith("data:") for r in pg.requests), "offline: no outside requests"
    with demo_db.connect() as conn:
        n = conn.execute("SELECT count(*) FROM grid WHERE community_code = %s", (C,)).fetchone()[0]
        assert n == len(labels)


def test_no_community_chosen_shows_the_district_and_a_click_opens_one(server, demo_db):
    with demo_db.connect() as conn:
        codes = [r[0] for r in conn.execute("SELECT code FROM admin_area WHERE level = 'community' ORDER BY code")]
    with chromium_page(1600, 900) as pg:
        pg.goto(f"{server}/editor")
        pg.wait_for_function(f"document.querySelectorAll('path.ed-community').length === {len(codes)}",
                             timeout=30_000)
        assert "社区（点击选择）" in pg.inner_text(".ed-legend")
        assert "点击" in pg.inner_text("#ed-message")
        pg.screenshot(path=str(SHOTS / "editor-overview.png"))
        # outlines are drawn in code order: click the one of C
        pg.locator("path.ed-community").nth(codes.index(C)).dispatch_event("click")
        pg.wait_for_function("document.querySelectorAll('.leaflet-tooltip.ed-label').length >= 3", timeout=30_000)
        assert _settled_labels(pg) == ["001", "002", "003"]
        assert C in pg.inner_text("#" + "ed-community")
        pg.wait_for_function("document.querySelectorAll('path.ed-community').length === 0", timeout=10_000)
        assert not pg.errors, pg.errors
