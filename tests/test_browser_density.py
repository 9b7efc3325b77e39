"""The density layer in a real browser: it draws hexagons (some suppressed), its legend shows
classes and the suppressed swatch, the tag picker changes it, a click shows the grid table.
Screenshot: /tmp/shots/density.png."""

from __future__ import annotations

import pytest
from live import SHOTS, chromium_page, dashboard

pytestmark = pytest.mark.browser


def test_density_layer_draws_with_legend_and_grid_table(demo_db):
    with dashboard(demo_db.dsn) as url, chromium_page() as pg:
        pg.goto(url + "/")
        pg.wait_for_selector("#og-layers", timeout=30_000)
        assert pg.locator("path.og-dens-cell").count() == 0
        pg.locator("#og-layers").get_by_text("重点人群密度（H3）", exact=True).click()
        pg.wait_for_selector("path.og-dens-cell", timeout=20_000)
        pg.wait_for_selector("#density-legend .og-swatch.og-dens-c0", timeout=10_000)
        legend = pg.inner_text("#density-legend")
        assert "全部居民" in legend and "隐私保护" in legend
        assert pg.locator("path.og-dens-c0, path.og-dens-c1, path.og-dens-c2, path.og-dens-c3, path.og-dens-c4").count() > 0
        all_cells = pg.locator("path.og-dens-cell").count()

        pg.click("#density-tag")
        pg.get_by_text("戒毒康复", exact=True).click()
        pg.wait_for_function("document.querySelector('#density-legend').innerText.includes('戒毒康复')",
                             timeout=10_000)
        pg.wait_for_selector("path.og-dens-suppressed", timeout=10_000)
        assert pg.locator("path.og-dens-cell").count() < all_cells  # fewer cells hold anyone of that tag

        box = pg.locator(".og-map").bounding_box()
        pg.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        pg.wait_for_selector("#density-grid .og-dens-table, #density-grid .og-hint", timeout=10_000)
        pg.screenshot(path=str(SHOTS / "density.png"))
        text = pg.inner_text("#density-grid")
        assert "全部居民" in text or "不在任何网格" in text
