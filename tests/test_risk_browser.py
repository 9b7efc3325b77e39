"""The risk heat layer and the risk cell detail in a real browser (Chromium):

- the heatmap reads at every zoom: at 11, 14 and 16 the hottest spot in view takes the top of
  the ramp, the blob radius stays within a readable size, and at street zoom the surface is
  spots, not one wash over the whole map; from zoom 16 it is drawn from res-10 cells; the
  canvas sits in its own pane above the grid fills;
- a case linked from the warning detail and from the risk cell detail at the same time: both
  links work (ids carry the panel, so they differ) and the page reports no error.
Screenshots: /tmp/shots/risk-heat-z*.png, /tmp/shots/risk-both-panels.png.
"""

from __future__ import annotations

import h3
import pytest
from live import SHOTS, chromium_page
from test_browser_warnings import server  # noqa: F401 - the same seeded board (sensors, cases, a blue warning)

pytestmark = pytest.mark.browser

#: What the canvas shows: drawn radius, share of the map painted, and whether a top-of-ramp
#: (red) pixel is there.
_CANVAS = """(() => { const c = document.querySelector('.og-heat-canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0, red = 0;
    for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 0) { n++; if (d[i] > 200 && d[i + 1] < 60) red++; } }
    return {radius: Number(c.dataset.radius), painted: n / (c.width * c.height), red: red,
            pane: c.parentElement.className, zoom: window.onegrid.heat.current._map.getZoom(),
            metres: window.onegrid.heat.current.options.radius}; })()"""


def _layer(pg, name: str) -> None:
    pg.locator("#og-layers").get_by_text(name, exact=True).click()


def _view(pg, lat: float, lng: float, zoom: int) -> None:
    """Move the map (through the heat layer's Leaflet map) and wait for the new heat to draw."""
    pg.evaluate(f"window.onegrid.heat.current._map.setView([{lat}, {lng}], {zoom}, {{animate: false}})")
    pg.wait_for_function(f"window.onegrid.heat.current && window.onegrid.heat.current._map "
                         f"&& window.onegrid.heat.current._map.getZoom() === {zoom} "
                         f"&& Number((document.querySelector('.og-heat-canvas') || {{dataset: {{}}}}).dataset.drawn) > 0",
                         timeout=20_000)
    pg.wait_for_timeout(2500)  # the bounds callback answers with this view's points, then redraws


def test_heat_reads_at_every_zoom_and_a_case_in_two_panels_keeps_unique_ids(server, demo_db):  # noqa: F811
    url, _ = server
    with demo_db.connect() as conn:  # where the open warning's sensor is
        lon, lat = conn.execute("SELECT ST_X(s.geom), ST_Y(s.geom) FROM warning w JOIN sensor s ON s.id = w.sensor_id "
                                "WHERE w.state = 'active'").fetchone()
    with chromium_page() as pg:
        pg.goto(url + "/")
        pg.wait_for_selector("#og-warn-list .og-warn-item", timeout=30_000)
        _layer(pg, "风险热力图")
        pg.wait_for_function("window.onegrid.heat && window.onegrid.heat.current", timeout=20_000)
        pg.wait_for_timeout(2000)
        hot = pg.evaluate("""(() => { const p = window.onegrid.heat.current._points; let b = p[0];
                                      for (const q of p) { if (q[2] > b[2]) b = q; } return b; })()""")
        seen = {}
        for zoom in (11, 14, 16):
            _view(pg, hot[0], hot[1], zoom)
            seen[zoom] = pg.evaluate(_CANVAS)
            pg.screenshot(path=str(SHOTS / f"risk-heat-z{zoom}.png"))
        for zoom, s in seen.items():
            assert "og-risk-heat" in s["pane"], s  # above the grid fills (z 400), not in overlayPane
            assert s["red"] > 20, (zoom, s)  # the hottest spot in view is red at every zoom
            assert 8 <= s["radius"] <= 90, (zoom, s)
        assert seen[16]["painted"] < 0.6, seen[16]  # street zoom: spots, not one wash (was 100 %)
        assert seen[11]["radius"] < seen[14]["radius"], seen
        # Zoom 16: res-10 cells (100 m blobs), not res-8 ones (700 m, capped at 90 px, ~400 px apart).
        assert (seen[14]["metres"], seen[16]["metres"]) == (700, 100), seen

        # The warning → a case, from the panel; its detail then links the case.
        pg.locator("#og-warn-list .og-warn-item").first.click()
        pg.wait_for_selector("#og-warn-detail:not(.og-hidden) .og-warn-act-convert", timeout=10_000)
        pg.fill("#og-actor", "值班长")
        pg.click(".og-warn-act-convert")
        pg.wait_for_selector("#og-warn-detail .og-link", timeout=10_000)
        code = pg.inner_text("#og-warn-detail .og-link")
        # Nothing but the heat and the outlines on the map, then click the case's risk cell.
        for name in ("案件（实时）", "物联传感器", "公共设施", "网格"):
            _layer(pg, name)
        clat, clng = h3.api.basic_int.cell_to_latlng(h3.api.basic_int.latlng_to_cell(lat, lon, 8))
        _view(pg, clat, clng, 15)
        box = pg.locator(".leaflet-container").bounding_box()
        x, y = pg.evaluate(f"(() => {{ const p = window.onegrid.heat.current._map.latLngToContainerPoint("
                           f"[{clat}, {clng}]); return [p.x, p.y]; }})()")
        pg.mouse.click(box["x"] + x, box["y"] + y)
        pg.wait_for_selector("#og-risk-detail .og-risk-link", timeout=15_000)
        risk_link = pg.locator("#og-risk-detail .og-risk-link", has_text=code)
        assert risk_link.count() == 1 and pg.locator("#og-warn-detail .og-link", has_text=code).count() == 1
        pg.screenshot(path=str(SHOTS / "risk-both-panels.png"))
        # Both links open the case.
        risk_link.click()
        pg.wait_for_function(f"document.querySelector('#og-drawer-body').innerText.includes({code!r})",
                             timeout=10_000)
        pg.click("#og-drawer-close")
        pg.wait_for_selector("#og-drawer.og-hidden", state="attached", timeout=10_000)
        pg.click("#og-warn-detail .og-link")
        pg.wait_for_selector("#og-drawer:not(.og-hidden)", timeout=10_000)
        assert code in pg.inner_text("#og-drawer-body")
        assert not pg.errors, pg.errors
