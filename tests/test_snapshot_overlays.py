"""Snapshots of the overlays with their own controls (people density, risk surface): the sheet
takes the screen's view (box, zoom, tag, metric, window, frame), draws the same hexagons in the
same classes with the screen's legend, and carries only published density figures."""

from __future__ import annotations

import json

import pytest

from app.i18n import strings
from geodata.errors import InvalidInput
from geodata.geometry import BBox
from layers.density import build_density
from layers.risk import build_risk
from layers.screen_print import build_sheet
from layers.screen_spec import parse_spec
from layers.view import View

ZH = strings("zh")


def _centre_box(conn, half_lon: float = 0.02, half_lat: float = 0.012) -> BBox:
    """A screen-sized box around the middle of the district's addresses (lon/lat)."""
    lon, lat = conn.execute("SELECT ST_X(c), ST_Y(c) FROM (SELECT ST_Centroid(ST_Collect(geom)) c FROM address) s").fetchone()
    return BBox(lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat)


def _cells(fc: dict) -> dict:
    return {f["properties"]["cell"]: f["properties"] for f in fc["features"]}


def test_spec_carries_the_overlay_controls_and_refuses_bad_ones():
    spec = parse_spec({"layers": "density,risk_cells", "density_tag": "elderly_alone", "density_metric": "per_km2",
                       "risk_window": "30d", "risk_frame": "4", "zoom": "13.5"})
    assert (spec.density_tag, spec.density_metric, spec.risk_frame, spec.zoom) == ("elderly_alone", "per_km2", 4, 13.5)
    assert parse_spec(spec.to_query()) == spec
    assert parse_spec({"risk_frame": "11"}).risk_frame is None  # the last frame is now
    for query, words in (({"density_metric": "people"}, "density_metric"), ({"risk_frame": "12"}, "risk_frame"),
                         ({"zoom": "30"}, "zoom"), ({"zoom": "near"}, "zoom"), ({"density_tag": "a;b"}, "density_tag")):
        with pytest.raises(InvalidInput, match=words):
            parse_spec(query)


def test_sheet_draws_the_screens_density_hexagons_in_the_screens_classes(demo_db):
    with demo_db.connect() as conn:
        box = _centre_box(conn)
        screen = build_density(conn, View(box, 14.0), "*", "count", ZH, "zh")
    spec = parse_spec({"bbox": ",".join(map(str, box.as_tuple())), "zoom": "14", "layers": "density",
                       "size": "A4", "orientation": "portrait"})
    sheet = build_sheet(spec, ZH)
    got, shown = _cells(sheet["data"]["density"]), _cells(screen["cells"])
    assert shown and set(shown) < set(got)  # the portrait sheet shows more than the wide screen
    assert all(got[c]["c"] == p["c"] and got[c]["v"] == p["v"] for c, p in shown.items())
    # The screen's resolution (res 9 at zoom 14), not the sheet's fitted zoom.
    assert all(len(c) == 15 and c[1] == "9" for c in got)
    assert {p["c"] for p in got.values()} <= {-1, 0, 1, 2, 3, 4} and {p["c"] for p in got.values()} - {-1}
    # Privacy: published figures only; suppressed cells drawn suppressed, with no number.
    assert all(set(p) == {"cell", "v", "c"} for p in got.values())
    assert all(p["v"] is None for p in got.values() if p["c"] == -1)
    legend = json.dumps([str(b) for b in sheet["legend"]], ensure_ascii=False)
    assert ZH["legend_density"] in legend and ZH["density_all"] in legend and ZH["density_suppressed"] in legend
    assert ZH["print_window"] not in sheet["subtitle"]  # no case filter where no case is drawn


def test_sheet_density_of_one_tag_and_its_errors(demo_db):
    sheet = build_sheet(parse_spec({"layers": "density,outlines", "density_tag": "elderly_alone",
                                    "density_metric": "per_km2"}), ZH)
    legend = json.dumps([str(b) for b in sheet["legend"]], ensure_ascii=False)
    assert "独居老人" in legend and ZH["density_unit_km2"] in legend
    assert sheet["data"]["density"]["features"]
    with pytest.raises(InvalidInput, match="unknown population tag"):
        build_sheet(parse_spec({"layers": "density", "density_tag": "nobody"}), ZH)


def test_sheet_risk_cells_keep_the_screens_classes(demo_db):
    from geodata.cases.history import seed_history

    with demo_db.connect() as conn:
        seed_history(conn, days=30, scale="small", seed=42)
        conn.commit()
        box = _centre_box(conn, 0.03, 0.02)
        screen = build_risk(conn, View(box, 13.0), "30d", None, ZH, False, True)
        conn.commit()
    spec = parse_spec({"bbox": ",".join(map(str, box.as_tuple())), "zoom": "13", "layers": "risk_cells",
                       "risk_window": "30d", "size": "A4", "orientation": "portrait"})
    sheet = build_sheet(spec, ZH)
    got, shown = _cells(sheet["data"]["risk_cells"]), _cells(screen["cells"])
    assert shown and set(shown) <= set(got)
    assert all(got[c]["c"] == p["c"] for c, p in shown.items())
    assert str(screen["legend"][0]) == str(next(b for b in sheet["legend"] if "og-risk-legend-cells" in str(b)))
    assert ZH["legend_risk"] in sheet["subtitle"]


def test_export_urls_carry_the_overlay_controls_and_the_zoom():
    from urllib.parse import parse_qsl, urlsplit

    from layers.screen_export import build_export_urls

    overlays = {"zoom": 14.25, "risk_frame": 3, "density_tag": "elderly_alone", "density_metric": "per_km2"}
    urls = build_export_urls([[31.30, 121.40], [31.40, 121.50]], ["density", "risk_cells", "grids"], "households", None,
                             {}, "zh", "dark", "A4", "landscape", 150, "pdf", "density", "csv", "30d", overlays)
    spec = parse_spec(dict(parse_qsl(urlsplit(urls["snapshot"]).query)))
    assert spec.layers == ("density", "risk_cells", "grids") and spec.zoom == 14.25 and spec.risk_frame == 3
    assert (spec.density_tag, spec.density_metric, spec.risk_window) == ("elderly_alone", "per_km2", "30d")
    assert dict(parse_qsl(urlsplit(urls["data"]).query))["tag"] == "elderly_alone"


def test_cli_density_pdf_has_the_density_legend(demo_db, tmp_path):
    import subprocess

    from app.cli import main

    out = tmp_path / "elderly.pdf"
    assert main(["snapshot", "--layers", "outlines,density", "--density-tag", "elderly_alone", "--size", "A4",
                 "--dpi", "96", "--out", str(out)]) == 0
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, check=True).stdout.decode()
    for needle in (ZH["legend_density"], "独居老人", ZH["density_unit_people"], ZH["layer_outlines"]):
        assert needle in text, needle
    assert main(["snapshot", "--layers", "density", "--density-tag", "nobody", "--out", str(tmp_path / "x.pdf")]) == 2
    assert not (tmp_path / "x.pdf").exists()
