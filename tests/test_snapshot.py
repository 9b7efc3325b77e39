"""Map snapshots and the daily briefing: the sheet specification, the sheet's data, and real
PNG/PDF files rendered by headless Chromium (opened with Pillow and poppler)."""

from __future__ import annotations

import io
import json
import math
import re
import subprocess
import urllib.error
import urllib.request

import pytest
from PIL import Image

from app.cli import main
from app.i18n import strings
from app.snapshot.service import local_dashboard, render_briefing, render_snapshot
from geodata import cases as gc
from geodata.errors import InvalidBBox, InvalidInput
from geodata.geometry import BBox
from layers.cases import parse_filter
from layers.screen_print import build_sheet, sheet_layout, visible_bounds
from layers.screen_spec import SnapshotSpec, fit_zoom, parse_spec, sheet_of
from tests.live import ARGS, CHROMIUM, dashboard

ZH = strings("zh")


def _pdftotext(data: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=data, capture_output=True, check=True).stdout.decode()


def _pdfinfo(data: bytes) -> tuple[int, tuple[float, float]]:
    """(pages, page size in points) of a PDF."""
    info = subprocess.run(["pdfinfo", "-"], input=data, capture_output=True, check=True).stdout.decode()
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    w, h = re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups()
    return pages, (float(w), float(h))


# ---- specification and sheet geometry (no database) ----

def test_spec_round_trips_through_the_query_string():
    spec = parse_spec({"bbox": "121.40,31.30,121.50,31.40", "layers": "grids,cases", "states": "handling,returned",
                       "channels": "video", "window": "30d", "size": "a3", "orientation": "portrait", "dpi": "300",
                       "format": "PNG", "title": "测试"})
    assert spec.size == "A3" and spec.fmt == "png" and spec.layers == ("grids", "cases")
    assert parse_spec(spec.to_query()) == spec


@pytest.mark.parametrize("query, message", [
    ({"dpi": "600"}, "dpi must be within 72..300"),
    ({"size": "A0"}, "size must be one of"),
    ({"layers": "grids,people"}, "unknown layer 'people'"),
    ({"states": "lost"}, "unknown state 'lost'"),
    ({"format": "svg"}, "format must be one of"),
    ({"width": "abc"}, "width must be a whole number"),
])
def test_bad_spec_names_the_parameter(query, message):
    with pytest.raises(InvalidInput, match=message):
        parse_spec(query)


def test_bad_bbox_is_refused():
    with pytest.raises(InvalidBBox):
        parse_spec({"bbox": "121.5,31.4,121.4,31.3"})


@pytest.mark.parametrize("size, orientation, dpi, pixels", [
    ("A4", "portrait", 300, (2480, 3508)), ("A4", "landscape", 150, (1754, 1240)),
    ("A3", "portrait", 300, (3508, 4961)), ("A3", "landscape", 72, (1191, 842)),
])
def test_paper_sizes_at_dpi(size, orientation, dpi, pixels):
    sheet = sheet_of(SnapshotSpec(size=size, orientation=orientation, dpi=dpi))
    assert sheet.pixels == pixels
    # The CSS sheet never exceeds the paper (no second PDF page) and the scale covers the pixels.
    w_mm, h_mm = sheet.paper_mm
    assert sheet.css[0] <= w_mm / 25.4 * 96 and sheet.css[1] <= h_mm / 25.4 * 96
    assert sheet.css[0] * sheet.scale >= pixels[0] - 0.01 and sheet.css[1] * sheet.scale >= pixels[1] - 0.01


def test_fit_zoom_shows_the_whole_box_and_fills_one_side():
    box = BBox(121.30, 31.25, 121.55, 31.45)
    for size in ((700, 500), (400, 900), (1920, 1080)):
        zoom, lat, lon = fit_zoom(box, *size)
        (south, west), (north, east) = visible_bounds(zoom, lat, lon, size)
        assert west <= box.minlon + 1e-9 and east >= box.maxlon - 1e-9
        assert south <= box.minlat + 1e-9 and north >= box.maxlat - 1e-9
        fills_width = math.isclose(east - west, box.maxlon - box.minlon, rel_tol=1e-6)
        fills_height = math.isclose(north - south, box.maxlat - box.minlat, rel_tol=1e-4)
        assert fills_width or fills_height


def test_layout_puts_the_legend_beside_landscape_and_below_portrait():
    assert sheet_layout(SnapshotSpec(size="A4", orientation="landscape"))["legend"] == "right"
    portrait = sheet_layout(SnapshotSpec(size="A4", orientation="portrait"))
    assert portrait["legend"] == "bottom" and portrait["map"][0] < portrait["width"]


# ---- the sheet's data (PostGIS) ----

@pytest.fixture
def cases_db(demo_db):
    """The small demo district with 30 days of case history."""
    from geodata.cases.history import seed_history

    with demo_db.connect() as conn:
        seed_history(conn, days=30, scale="small", seed=42)
        conn.commit()
    return demo_db


def test_sheet_has_every_case_in_the_extent_and_a_legend_per_layer(cases_db):
    spec = parse_spec({"layers": "outlines,grids,facilities,roads,cases", "window": "90d", "size": "A4"})
    sheet = build_sheet(spec, ZH)
    (south, west), (north, east) = visible_bounds(sheet["zoom"], *sheet["center"], sheet["layout"]["map"])
    with cases_db.connect() as conn:
        expected = gc.fetch_cases(conn, parse_filter({"window": "90d"}), bbox=BBox(west, south, east, north),
                                  limit=5000)
    got = sheet["data"]["cases"]["features"]
    assert expected and {f["properties"]["id"] for f in got} == {c.id for c in expected}
    for f in got:
        lon, lat = f["geometry"]["coordinates"]
        assert west <= lon <= east and south <= lat <= north
    assert sheet["data"]["grids"]["features"] and sheet["data"]["facilities"]["features"]
    text = json.dumps([str(b) for b in sheet["legend"]], ensure_ascii=False)
    for title in (ZH["layer_outlines"], ZH["legend_grids_households"], ZH["legend_cases"], ZH["legend_facilities"],
                  ZH["layer_roads"]):
        assert title in text
    assert "宝山区" in sheet["title"] and "EPSG:4326" in sheet["source"] and ZH["window_90d"] in sheet["subtitle"]


def test_sheet_of_a_street_and_an_unknown_street(demo_db):
    with demo_db.connect() as conn:
        street = conn.execute("SELECT code, name FROM admin_area WHERE level = 'street' ORDER BY code LIMIT 1").fetchone()
    sheet = build_sheet(parse_spec({"street": street[0], "layers": "outlines"}), ZH)
    assert street[1] in sheet["title"]
    from geodata.errors import NotFound
    with pytest.raises(NotFound):
        build_sheet(parse_spec({"street": "000000000"}), ZH)


# ---- real files from headless Chromium ----

@pytest.fixture
def served(cases_db):
    with local_dashboard() as url:
        yield url


def test_png_a4_150_dpi_has_its_pixel_size_and_dpi(served):
    shot = render_snapshot(parse_spec({"size": "A4", "orientation": "portrait", "dpi": "150", "format": "png"}), served)
    image = Image.open(io.BytesIO(shot.data))
    assert image.format == "PNG" and image.size == (1240, 1754)
    assert round(image.info["dpi"][0]) == 150
    # Not blank: the dark sheet carries the map's colours (grid classes, case dots).
    assert len(image.convert("RGB").resize((200, 280)).getcolors(200 * 280)) > 200


def test_pdf_a4_300_dpi_opens_with_title_legend_and_embedded_chinese_font(served):
    spec = parse_spec({"size": "A4", "orientation": "landscape", "dpi": "300", "format": "pdf", "title": "宝山区案件态势图"})
    shot = render_snapshot(spec, served)
    pages, (w, h) = _pdfinfo(shot.data)
    assert pages == 1 and abs(w - 842) < 1.5 and abs(h - 595) < 1.5  # A4 landscape in points
    text = _pdftotext(shot.data)
    for needle in ("宝山区案件态势图", ZH["legend"], ZH["legend_cases"], ZH["legend_grids_households"], "EPSG:4326"):
        assert needle in text, needle
    fonts = subprocess.run(["pdffonts", "-"], input=shot.data, capture_output=True, check=True).stdout.decode()
    assert "WenQuanYi" in fonts and " yes " in fonts.split("WenQuanYi", 1)[1].splitlines()[0]
    png = subprocess.run(["pdftoppm", "-r", "30", "-png", "-"], input=shot.data, capture_output=True, check=True).stdout
    width, height = Image.open(io.BytesIO(png)).size
    assert abs(width - 351) <= 1 and abs(height - 248) <= 1  # 297 × 210 mm at 30 dpi


def test_print_page_draws_every_case_of_the_extent(served, cases_db):
    """What Chromium draws: case dots plus the counts on cluster markers = the cases in view."""
    from playwright.sync_api import sync_playwright

    with cases_db.connect() as conn:
        lon, lat = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM cases ORDER BY reported_at DESC LIMIT 1").fetchone()
    box = BBox(lon - 0.02, lat - 0.015, lon + 0.02, lat + 0.015)
    spec = SnapshotSpec(bbox=box, layers=("cases",), window="90d", size="screen", width=1000, height=700)
    sheet = build_sheet(spec, ZH)
    expected = len(sheet["data"]["cases"]["features"])
    assert expected >= 1
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 700})
        page.goto(f"{served}/print?{spec.query_string()}")
        page.wait_for_selector("#og-print-root .leaflet-container")
        page.wait_for_timeout(300)
        dots = page.locator(".og-case-dot").count()
        clustered = sum(int(s) for s in page.locator(".og-case-cluster span").all_inner_texts())
        browser.close()
    assert dots + clustered == expected


def test_briefing_pdf_for_a_street(served, cases_db):
    with cases_db.connect() as conn:
        code, name = conn.execute("SELECT code, name FROM admin_area WHERE level = 'street' ORDER BY code LIMIT 1").fetchone()
    shot = render_briefing(served, street=code)
    text = _pdftotext(shot.data)
    assert _pdfinfo(shot.data)[0] == 1
    for needle in (name, ZH["brief_title"], ZH["kpi_new_today"], ZH["kpi_on_time_rate"], ZH["brief_hotspots"],
                   ZH["brief_overdue"], ZH["legend_cases"]):
        assert needle in text, needle


# ---- download routes and CLI ----

def test_routes_answer_files_and_clear_errors(cases_db):
    with dashboard(cases_db.dsn) as url:
        with urllib.request.urlopen(f"{url}/export/snapshot?size=screen&width=800&height=600&format=png",
                                    timeout=120) as resp:
            assert resp.headers["Content-Type"] == "image/png"
            assert "attachment" in resp.headers["Content-Disposition"]
            assert Image.open(io.BytesIO(resp.read())).size == (800, 600)
        with urllib.request.urlopen(f"{url}/export/data/cases.csv?window=90d&states=closed", timeout=60) as resp:
            body = resp.read()
            assert int(resp.headers["Content-Length"]) == len(body)
        lines = body.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("code,category_code") and "description" not in lines[0] and "token" not in lines[0]
        with cases_db.connect() as conn:
            closed = len(gc.fetch_cases(conn, parse_filter({"window": "90d", "states": ["closed"]}), limit=5000))
        assert len(lines) - 1 == closed
        for bad, status, words in (("/export/snapshot?dpi=9000", 400, "dpi"),
                                   ("/export/snapshot?street=000000000", 404, "not found"),
                                   ("/export/data/people.csv", 400, "layer one of"), ("/export/data/grids.exe", 400, "format"),
                                   ("/export/data/cases.csv?window=1y", 400, "window")):
            with pytest.raises(urllib.error.HTTPError) as err:
                urllib.request.urlopen(url + bad, timeout=60)
            assert err.value.code == status
            assert words in json.loads(err.value.read())["message"]


def test_cli_snapshot_and_export(cases_db, tmp_path, capsys):
    out = tmp_path / "map.png"
    assert main(["snapshot", "--size", "screen", "--width", "640", "--height", "480", "--layers", "outlines,cases",
                 "--out", str(out)]) == 0
    assert Image.open(out).size == (640, 480)
    assert main(["snapshot", "--street", "000000000", "--out", str(tmp_path / "x.pdf")]) == 2
    assert "not found" in capsys.readouterr().err and not (tmp_path / "x.pdf").exists()
    assert main(["snapshot", "--out", str(tmp_path / "x.svg")]) == 2
    assert main(["export", "cases", str(tmp_path / "c.geojson"), "--window", "30d", "--channels", "video"]) == 0
    data = json.loads((tmp_path / "c.geojson").read_text())
    assert data["features"] and {f["properties"]["channel"] for f in data["features"]} == {"video"}
    assert main(["export", "grids", str(tmp_path / "g.csv"), "--window", "7d"]) == 2
    assert "cases layer only" in capsys.readouterr().err


def test_sheet_draws_the_risk_layers_with_their_legend(cases_db):
    sheet = build_sheet(parse_spec({"layers": "outlines,risk_cells,risk_heat", "risk_window": "30d"}), ZH)
    assert sheet["data"]["risk_cells"]["features"] and sheet["data"]["risk_heat"]["features"]
    text = json.dumps([str(b) for b in sheet["legend"]], ensure_ascii=False)
    assert ZH["legend_risk"] in text and ZH["legend_risk_heat"] in text
    with pytest.raises(InvalidInput, match="risk_window"):
        parse_spec({"risk_window": "1y"})


def test_export_urls_carry_the_map_view_and_filters():
    from urllib.parse import parse_qsl, urlsplit

    from layers.screen_export import build_export_urls

    urls = build_export_urls([[31.30, 121.40], [31.40, 121.50]], ["cases", "grids"], "cases", ["school"],
                             {"states": ["handling"], "streets": ["310113106"], "window": "30d"}, "en", "light",
                             "A3", "portrait", 300, "png", "cases", "gpkg", "24h")
    spec = parse_spec(dict(parse_qsl(urlsplit(urls["snapshot"]).query)))
    assert spec.bbox == BBox(121.40, 31.30, 121.50, 31.40) and spec.layers == ("cases", "grids")
    assert (spec.size, spec.orientation, spec.dpi, spec.fmt, spec.lang, spec.theme) == ("A3", "portrait", 300, "png", "en", "light")
    assert spec.states == ("handling",) and spec.window == "30d" and spec.kinds == ("school",) and spec.risk_window == "24h"
    assert urls["briefing"] == "/export/briefing?lang=en&street=310113106"
    data = urlsplit(urls["data"])
    assert data.path == "/export/data/cases.gpkg"
    assert dict(parse_qsl(data.query)) == {"lang": "en", "bbox": "121.400000,31.300000,121.500000,31.400000",
                                           "states": "handling", "streets": "310113106", "window": "30d"}


def test_density_export_writes_only_published_counts(demo_db, tmp_path):
    from geodata.io.export_cases import export_data
    from geodata.population import fetch_counts_by_cell

    report = export_data("density", tmp_path / "d.geojson")
    data = json.loads((tmp_path / "d.geojson").read_text())
    with demo_db.connect() as conn:
        published = fetch_counts_by_cell(conn, 9)
    assert report.count == len(published) == len(data["features"]) > 0
    props = [f["properties"] for f in data["features"]]
    assert set(props[0]) == {"cell", "res", "tag", "n", "suppressed", "per_km2"}
    suppressed = [p for p in props if p["suppressed"]]
    assert suppressed and all(p["n"] is None and p["per_km2"] is None for p in suppressed)
    assert all(p["n"] is not None for p in props if not p["suppressed"])
    assert sum(p["n"] or 0 for p in props) == int(published["n"].fillna(0).sum())
    with pytest.raises(InvalidInput, match="community"):
        export_data("density", tmp_path / "x.csv", community="310113003001")
    assert main(["export", "grids", str(tmp_path / "g.csv"), "--tag", "elderly_alone"]) == 2
