"""A snapshot matches the screen, in a real browser: the command map with the density layer on,
the export panel's PNG downloaded, and the colour of the same places compared pixel by pixel
(the screen's screenshot against the downloaded file). Screenshots: /tmp/shots/snapshot-*.png."""

from __future__ import annotations

import io
import math
from urllib.parse import parse_qsl, urlsplit

import pytest
from live import SHOTS, chromium_page, dashboard
from PIL import Image

from app.i18n import strings
from layers.screen_print import build_sheet
from layers.screen_spec import parse_spec, sheet_of

pytestmark = pytest.mark.browser
ZH = strings("zh")
OTHERS = ("outlines", "grids", "facilities", "roads", "cases", "sensors")
_HIT = "([x, y]) => { const e = document.elementFromPoint(x, y); return !!e && e.matches('path.og-dens-cell'); }"


def _merc(lon: float, lat: float) -> tuple[float, float]:
    """Web Mercator in "world" units (0..1 across the globe), y growing southwards."""
    return (lon + 180) / 360, (1 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2


def _centroid(feature: dict) -> tuple[float, float]:
    ring = feature["geometry"]["coordinates"][0][:-1]
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def _stable_cells(page) -> int:
    """Wait until the density layer has drawn and stopped changing (the live tick never idles)."""
    page.wait_for_selector("path.og-dens-cell", timeout=30_000)
    last = -1
    for _ in range(20):
        n = page.locator("path.og-dens-cell").count()
        if n == last and page.locator(".leaflet-og-grids-pane path, .og-case-dot").count() == 0:
            return n
        last = n
        page.wait_for_timeout(700)
    raise AssertionError("the density layer did not settle")


def _snapshot_png(page) -> tuple[bytes, str]:
    """Download the current view as PNG (A4, 96 dpi) from the export panel: (bytes, query)."""
    page.click("#og-export-toggle")
    page.wait_for_selector("#og-export-panel:not(.og-hidden)")
    page.locator("#og-export-format").get_by_text("PNG", exact=True).click()
    page.locator("#og-export-dpi").get_by_text("96 dpi", exact=True).click()
    page.wait_for_timeout(800)  # the URL store follows the controls
    with page.expect_download(timeout=120_000) as info:
        page.click("#og-export-snapshot")
    data = info.value.path().read_bytes()
    query = next(urlsplit(u).query for u in reversed(page.requests) if "/export/snapshot?" in u)
    page.click("#og-export-toggle-close")
    page.wait_for_selector("#og-export-panel.og-hidden", state="attached")
    return data, query


def test_density_snapshot_has_the_screens_colours_where_the_screen_has_them(demo_db):
    with dashboard(demo_db.dsn) as url, chromium_page(1600, 900) as page:
        page.goto(url + "/")
        page.wait_for_selector("#og-layers", timeout=30_000)
        for name in OTHERS:
            page.locator(f"#og-layers input[value='{name}']").uncheck()
        page.locator("#og-layers input[value='density']").check()
        _stable_cells(page)
        png, query = _snapshot_png(page)
        page.wait_for_timeout(300)
        screen = Image.open(io.BytesIO(page.screenshot())).convert("RGB")
        screen.save(SHOTS / "snapshot-screen.png")
        spec = parse_spec(dict(parse_qsl(query)))
        assert "density" in spec.layers and spec.zoom is not None and spec.bbox is not None
        box = page.locator(".og-map").bounding_box()
        sheet = build_sheet(spec, ZH)
        with page.context.browser.new_page(viewport=dict(zip(("width", "height"), sheet_of(spec).css,
                                                            strict=True))) as sheet_page:
            sheet_page.goto(f"{url}/print?{spec.query_string()}")
            sheet_page.wait_for_selector("#og-print-root path.og-dens-cell", timeout=60_000)
            map_box = sheet_page.locator(".og-sheet-map").bounding_box()
        image = Image.open(io.BytesIO(png)).convert("RGB")
        image.save(SHOTS / "snapshot-density.png")
        assert image.size == sheet_of(spec).pixels
        scale = sheet_of(spec).scale

        # Screen: the map's bounds are the exported box; sheet: Leaflet's centre/zoom of the page.
        west, north = _merc(spec.bbox.minlon, spec.bbox.maxlat)
        east, south = _merc(spec.bbox.maxlon, spec.bbox.minlat)
        cx, cy = _merc(sheet["center"][1], sheet["center"][0])
        world = 256 * 2 ** sheet["zoom"]
        w, h = sheet["layout"]["map"]
        compared, classes = [], set()
        for feature in sheet["data"]["density"]["features"]:
            mx, my = _merc(*_centroid(feature))
            sx = box["x"] + (mx - west) / (east - west) * box["width"]
            sy = box["y"] + (my - north) / (south - north) * box["height"]
            px, py = (mx - cx) * world + w / 2, (my - cy) * world + h / 2
            if not (0.1 * w < px < 0.9 * w and 0.1 * h < py < 0.9 * h):
                continue  # away from the north arrow and the scale bar
            if not page.evaluate(_HIT, [sx, sy]):
                continue  # under a panel of the page, or not a hexagon there
            on_screen = screen.getpixel((round(sx), round(sy)))
            on_sheet = image.getpixel((round((map_box["x"] + px) * scale), round((map_box["y"] + py) * scale)))
            compared.append((feature["properties"]["c"], on_screen, on_sheet))
            classes.add(feature["properties"]["c"])
            if len(compared) >= 40:
                break
    assert len(compared) >= 10 and len(classes) >= 2, compared
    bad = [x for x in compared if max(abs(a - b) for a, b in zip(x[1], x[2], strict=True)) > 12]
    assert not bad, bad


def test_export_panel_exports_one_street_or_the_district(demo_db):
    """The panel's extent: 街镇 shows the street picker and downloads that street's cases only;
    全区 downloads every case of the filter, beyond the view."""
    import json

    from geodata import cases as gc
    from geodata.cases.history import seed_history
    from layers.cases import parse_filter

    with demo_db.connect() as conn:
        seed_history(conn, days=10, scale="small", seed=7)
        conn.commit()
        first = conn.execute("SELECT code FROM admin_area WHERE level = 'street' ORDER BY code LIMIT 1").fetchone()[0]
        week = gc.fetch_cases(conn, parse_filter({"window": "7d"}), limit=5000)
    with dashboard(demo_db.dsn) as url, chromium_page(1600, 900) as page:
        page.goto(url + "/")
        page.wait_for_selector(".og-case-dot, .og-case-cluster", timeout=30_000)
        page.click("#og-export-toggle")
        page.wait_for_selector("#og-export-panel:not(.og-hidden)")
        assert not page.locator("#og-export-data-street").is_visible()
        page.locator("#og-export-data-extent").get_by_text("街镇", exact=True).click()
        page.wait_for_selector("#og-export-data-street", state="visible")
        page.wait_for_timeout(800)
        with page.expect_download(timeout=60_000) as info:
            page.click("#og-export-data")
        street = json.loads(info.value.path().read_text())["features"]
        assert street and {f["properties"]["street_code"] for f in street} == {first}
        assert len(street) == sum(1 for c in week if c.street_code == first)
        page.locator("#og-export-data-extent").get_by_text("全区", exact=True).click()
        page.wait_for_timeout(800)
        with page.expect_download(timeout=60_000) as info:
            page.click("#og-export-data")
        assert len(json.loads(info.value.path().read_text())["features"]) == len(week)
        page.screenshot(path=str(SHOTS / "snapshot-export-extent.png"))
        assert not page.errors
