"""Data export extents: the current view (bbox), one street/town, or the whole district — from
export_data, the CLI, the download route and the export panel's URLs — with the map's filters
(case filter, density tag, facility kinds)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlsplit

import pytest
import shapely
from psycopg import sql

from app.cli import main
from geodata.errors import InvalidInput, NotFound
from geodata.io.export_cases import export_data
from layers.cases import parse_filter
from layers.screen_export import build_export_urls
from tests.live import dashboard
from tests.test_snapshot import cases_db  # noqa: F401 - the fixture


def _street(conn, offset: int = 0) -> str:
    return conn.execute("SELECT code FROM admin_area WHERE level = 'street' ORDER BY code LIMIT 1 OFFSET %s",
                        (offset,)).fetchone()[0]


def _features(path) -> list[dict]:
    return json.loads(path.read_text())["features"]


@pytest.mark.parametrize("layer, table", [("grids", "grid"), ("addresses", "address"), ("facilities", "facility")])
def test_a_street_exports_its_rows_and_the_district_all(demo_db, tmp_path, layer, table):
    with demo_db.connect() as conn:
        street = _street(conn, 1)
        count = sql.SQL("SELECT count(*) FILTER (WHERE street_code = %s), count(*) FROM {}").format(sql.Identifier(table))
        in_street, total = conn.execute(count, (street,)).fetchone()
    report = export_data(layer, tmp_path / "s.geojson", street=street)
    feats = _features(tmp_path / "s.geojson")
    assert report.count == len(feats) == in_street > 0
    assert {f["properties"]["street_code"] for f in feats} == {street}
    assert export_data(layer, tmp_path / "d.geojson").count == total > in_street


def test_street_admin_areas_roads_and_refusals(demo_db, tmp_path):
    with demo_db.connect() as conn:
        street = _street(conn)
        communities = conn.execute("SELECT count(*) FROM admin_area WHERE parent_code = %s", (street,)).fetchone()[0]
        outline = shapely.from_wkb(bytes(conn.execute("SELECT ST_AsBinary(geom) FROM admin_area WHERE code = %s",
                                                      (street,)).fetchone()[0]))
    export_data("admin-areas", tmp_path / "a.geojson", street=street)
    areas = [f["properties"] for f in _features(tmp_path / "a.geojson")]
    assert len(areas) == communities + 1 and {a["level"] for a in areas} == {"street", "community"}
    export_data("roads", tmp_path / "r.geojson", street=street)
    roads = _features(tmp_path / "r.geojson")
    assert roads and all(shapely.geometry.shape(f["geometry"]).intersects(outline) for f in roads)
    with pytest.raises(NotFound, match="street"):
        export_data("grids", tmp_path / "x.csv", street="000000000")
    with pytest.raises(InvalidInput, match="bbox or a street"):
        export_data("grids", tmp_path / "x.csv", street=street, bbox="121.4,31.3,121.5,31.4")
    with pytest.raises(InvalidInput, match="facilities layer only"):
        export_data("grids", tmp_path / "x.csv", kinds=("school",))
    assert not (tmp_path / "x.csv").exists()


def test_facility_kinds_follow_the_map_filter(demo_db, tmp_path):
    with demo_db.connect() as conn:
        kinds = [r[0] for r in conn.execute("SELECT DISTINCT kind FROM facility ORDER BY 1 LIMIT 2")]
        n = conn.execute("SELECT count(*) FROM facility WHERE kind = ANY(%s)", (kinds,)).fetchone()[0]
    assert export_data("facilities", tmp_path / "f.geojson", kinds=tuple(kinds)).count == n > 0
    assert {f["properties"]["kind"] for f in _features(tmp_path / "f.geojson")} == set(kinds)
    with pytest.raises(InvalidInput, match="unknown facility kind.*'nosuch'"):
        export_data("facilities", tmp_path / "x.geojson", kinds=(kinds[0], "nosuch"))
    assert not (tmp_path / "x.geojson").exists()
    assert export_data("facilities", tmp_path / "none.geojson", kinds=()).count == 0  # none ticked: empty, fine


def test_cases_of_a_street_with_the_case_filter(cases_db, tmp_path):  # noqa: F811
    from geodata import cases as gc

    with cases_db.connect() as conn:
        street, other = _street(conn), _street(conn, 1)
        flt = parse_filter({"window": "30d", "states": ["closed"]})
        expected = [c for c in gc.fetch_cases(conn, flt, limit=5000) if c.street_code == street]
    report = export_data("cases", tmp_path / "c.geojson", street=street, case_filter=flt)
    props = [f["properties"] for f in _features(tmp_path / "c.geojson")]
    assert report.count == len(expected) > 0 and {p["code"] for p in props} == {c.code for c in expected}
    assert {p["state"] for p in props} == {"closed"}
    with pytest.raises(InvalidInput, match="leave out street"):
        export_data("cases", tmp_path / "x.csv", street=street,
                    case_filter=parse_filter({"window": "30d", "streets": [other]}))


def test_density_of_a_street_is_published_hexagons_meeting_it(demo_db, tmp_path):
    with demo_db.connect() as conn:
        street = _street(conn)
        outline = shapely.from_wkb(bytes(conn.execute("SELECT ST_AsBinary(geom) FROM admin_area WHERE code = %s",
                                                      (street,)).fetchone()[0]))
    part = export_data("density", tmp_path / "s.geojson", street=street).count
    whole = export_data("density", tmp_path / "d.geojson").count
    feats = _features(tmp_path / "s.geojson")
    assert 0 < part < whole and len(feats) == part
    assert all(shapely.geometry.shape(f["geometry"]).intersects(outline) for f in feats)
    assert all(f["properties"]["n"] is None for f in feats if f["properties"]["suppressed"])


def test_cli_export_extents(demo_db, tmp_path, capsys):
    with demo_db.connect() as conn:
        street = _street(conn)
        n = conn.execute("SELECT count(*) FROM grid WHERE street_code = %s", (street,)).fetchone()[0]
    assert main(["export", "grids", str(tmp_path / "g.geojson"), "--street", street]) == 0
    assert len(_features(tmp_path / "g.geojson")) == n
    assert main(["export", "grids", str(tmp_path / "x.csv"), "--street", "000000000"]) == 2
    assert "no street/town" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["export", "grids", str(tmp_path / "x.csv"), "--street", street, "--bbox", "121.4,31.3,121.5,31.4"])
    assert exit_.value.code == 2
    assert main(["export", "roads", str(tmp_path / "x.csv"), "--kinds", "school"]) == 2
    assert "facilities layer only" in capsys.readouterr().err


def test_panel_urls_for_each_extent():
    args = ([[31.30, 121.40], [31.40, 121.50]], ["facilities"], "households", ["primary_school", "clinic"],
            {"window": "30d", "states": ["closed"]}, "zh", "dark", "A4", "landscape", 150, "pdf")

    def data(layer, extent, street=None):
        url = urlsplit(build_export_urls(*args, layer, "csv", "7d", None, extent, street)["data"])
        return url.path, dict(parse_qsl(url.query))

    path, q = data("facilities", "view")
    assert path == "/export/data/facilities.csv" and q["bbox"].startswith("121.400000,31.300000")
    assert q["kinds"] == "primary_school,clinic"
    assert data("cases", "street", "310113106")[1] == {"lang": "zh", "street": "310113106", "states": "closed",
                                                       "window": "30d"}
    assert "bbox" not in data("grids", "district")[1] and "street" not in data("grids", "district")[1]
    with pytest.raises(InvalidInput, match="pick the street"):
        data("grids", "street", None)


def test_route_exports_a_street_and_refuses_a_bad_one(demo_db):
    with demo_db.connect() as conn:
        street = _street(conn)
        n = conn.execute("SELECT count(*) FROM address WHERE street_code = %s", (street,)).fetchone()[0]
    with dashboard(demo_db.dsn) as url:
        with urllib.request.urlopen(f"{url}/export/data/addresses.geojson?street={street}", timeout=60) as resp:
            body = resp.read()
            assert int(resp.headers["Content-Length"]) == len(body)
        assert len(json.loads(body)["features"]) == n > 0
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{url}/export/data/grids.csv?street={street}&bbox=121.4,31.3,121.5,31.4", timeout=60)
        assert err.value.code == 400 and "bbox or a street" in json.loads(err.value.read())["message"]
