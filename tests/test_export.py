"""`onegrid export`: every format by extension, filters, refusals, and export → import round trips."""

from __future__ import annotations

import zipfile

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from app.cli import main as cli
from geodata import store
from geodata.errors import ImportRejected, InvalidBBox, NotFound, UnsupportedFormat
from geodata.io.export import export_layer, fetch_layer
from geodata.io.importer import import_file

LAYERS = [("admin-areas", "admin_area"), ("grids", "grid"), ("addresses", "address"),
          ("facilities", "facility"), ("roads", "road")]
FORMATS = [".geojson", ".json", ".gpkg", ".csv", ".fgb", ".zip", ".shp.zip"]


def _frame(rows, geoms):
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=4326)


def fill(conn) -> None:
    """A small district: 1 district, 1 street, 2 communities, 4 grids, addresses, facilities, roads.

    Coordinates carry 9 decimals so round trips are checked well below the 1e-7 tolerance.
    """
    x0, y0 = 121.400000123, 31.300000456
    store.write_admin_areas(conn, _frame(
        [{"code": "D1", "name": "区", "level": "district", "population": 5000},
         {"code": "D1S1", "name": "街道甲", "level": "street", "parent_code": "D1"},
         {"code": "D1S1C1", "name": "社区一", "level": "community", "parent_code": "D1S1", "population": 2000},
         {"code": "D1S1C2", "name": "社区二", "level": "community", "parent_code": "D1S1"}],
        [shapely.box(x0, y0, x0 + 0.02, y0 + 0.01)] * 2
        + [shapely.box(x0, y0, x0 + 0.01, y0 + 0.01), shapely.box(x0 + 0.01, y0, x0 + 0.02, y0 + 0.01)]))
    store.write_grids(conn, _frame(
        [{"code": f"G{i}", "name": f"网格{i}", "supervisor": "张三" if i % 2 else None, "households": 300 + i}
         for i in range(4)],
        [shapely.box(x0 + i * 0.005, y0, x0 + (i + 1) * 0.005, y0 + 0.01) for i in range(4)]))
    store.write_addresses(conn, _frame(
        [{"code": f"A{i}", "full_text": f"测试路{i}号", "road": "测试路", "number": f"{i}号",
          "building": None if i % 3 else "1栋"} for i in range(12)],
        [shapely.Point(x0 + 0.0004 + i * 0.0016123, y0 + 0.0031234567) for i in range(12)]))
    store.write_facilities(conn, _frame(
        [{"code": "F1", "kind": "clinic", "name": "卫生站", "capacity": 30},
         {"code": "F2", "kind": "kindergarten", "name": "幼儿园"}],
        [shapely.Point(x0 + 0.003, y0 + 0.002), shapely.Point(x0 + 0.013, y0 + 0.002)]))
    store.write_roads(conn, _frame(
        [{"name": "测试路", "kind": "primary"}, {"name": "小路", "kind": "path"}],
        [shapely.LineString([(x0, y0 + 0.005), (x0 + 0.02, y0 + 0.0051)]),
         shapely.LineString([(x0 + 0.001, y0 + 0.001), (x0 + 0.002, y0 + 0.009)])]))


@pytest.fixture
def small(empty_db):
    with empty_db.connect() as conn:
        fill(conn)
    return empty_db


def same_layer(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame, key: str) -> None:
    """Same rows by ``key`` with the same attributes and geometries within 1e-7 degrees."""
    a, b = a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
    attrs = [c for c in a.columns if c != "geometry"]
    pd.testing.assert_frame_equal(pd.DataFrame(a[attrs]), pd.DataFrame(b[attrs]), check_dtype=False)
    for ga, gb in zip(a.geometry, b.geometry, strict=True):
        assert shapely.normalize(ga).equals_exact(shapely.normalize(gb), tolerance=1e-7), (ga.wkt, gb.wkt)


@pytest.mark.parametrize("suffix", FORMATS)
def test_export_then_import_round_trips(small, pg_server, migrated_template, tmp_path, suffix):
    files = {}
    with small.connect() as conn:
        originals = {t: fetch_layer(conn, t) for _, t in LAYERS}
        for layer, table in LAYERS:
            files[table] = tmp_path / f"{layer}{suffix}"
            report = export_layer(layer, files[table], conn=conn)
            assert report.count == len(originals[table]) > 0
    fresh = pg_server.create("roundtrip", template=migrated_template.name)
    try:
        with fresh.connect() as conn:
            for layer, table in LAYERS:
                import_file(layer, files[table], conn=conn)
            for _, table in LAYERS:
                back = fetch_layer(conn, table)
                if table in ("address", "facility", "road"):
                    assert len(back) == len(originals[table])
                key = "name" if table == "road" else "code"
                skip = ["address_id"] if table == "facility" else []
                same_layer(originals[table].drop(columns=skip), back.drop(columns=skip), key)
    finally:
        pg_server.drop(fresh)


def test_csv_has_lon_lat_for_points_and_wkt_for_polygons(small, tmp_path):
    export_layer("addresses", tmp_path / "a.csv")
    export_layer("grids", tmp_path / "g.csv")
    points = pd.read_csv(tmp_path / "a.csv", encoding="utf-8-sig")
    polys = pd.read_csv(tmp_path / "g.csv", encoding="utf-8-sig")
    assert {"lon", "lat", "full_text", "grid_code"} <= set(points.columns) and "wkt" not in points
    assert points.loc[points.code == "A0", "lon"].item() == pytest.approx(121.400400123, abs=1e-12)
    assert polys.wkt.str.startswith("MULTIPOLYGON").all() and "lon" not in polys


def test_zipped_shapefile_has_short_field_names(small, tmp_path):
    export_layer("grids", tmp_path / "g.shp.zip")
    with zipfile.ZipFile(tmp_path / "g.shp.zip") as zf:
        names = sorted(zf.namelist())
    assert names == ["grid.cpg", "grid.dbf", "grid.prj", "grid.shp", "grid.shx"]
    fields = list(pyogrio.read_info(f"/vsizip/{tmp_path / 'g.shp.zip'}/grid.shp")["fields"])
    assert all(len(f) <= 10 for f in fields) and "comm_code" in fields


def test_bbox_and_community_filters(small, tmp_path):
    export_layer("addresses", tmp_path / "box.geojson", bbox="121.4,31.3,121.41,31.31")
    inside = gpd.read_file(tmp_path / "box.geojson")
    assert 0 < len(inside) < 12 and (inside.geometry.x <= 121.41).all()
    report = export_layer("grids", tmp_path / "c.gpkg", community="D1S1C2")
    assert report.count == 2
    assert sorted(gpd.read_file(tmp_path / "c.gpkg").code) == ["G2", "G3"]
    assert export_layer("admin-areas", tmp_path / "c.json", community="D1S1C2").count == 1
    assert export_layer("roads", tmp_path / "r.json", community="D1S1C1").count == 2


def test_refusals(small, tmp_path):
    with pytest.raises(UnsupportedFormat, match=r"\.kml"):
        export_layer("grids", tmp_path / "g.kml")
    for bad in ("1,2,3", "a,b,c,d", "121.5,31,121.4,31.3", "0,0,200,10"):
        with pytest.raises(InvalidBBox):
            export_layer("grids", tmp_path / "g.geojson", bbox=bad)
    with pytest.raises(NotFound, match="no community with code 'NOPE'"):
        export_layer("grids", tmp_path / "g.geojson", community="NOPE")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_export_overwrites_and_leaves_no_temporary_files(small, tmp_path):
    target = tmp_path / "g.gpkg"
    export_layer("grids", target, community="D1S1C1")
    export_layer("grids", target)
    assert len(gpd.read_file(target)) == 4
    assert [p.name for p in tmp_path.iterdir()] == ["g.gpkg"]


def test_cli_export(small, tmp_path, capsys):
    assert cli(["export", "facilities", str(tmp_path / "f.csv")]) == 0
    assert capsys.readouterr().out.strip() == "f.csv: wrote 2 feature(s) of facility as CSV"
    assert cli(["export", "grids", str(tmp_path / "g.geojson"), "--bbox", "1,2,3"]) == 2
    assert "bbox needs 4" in capsys.readouterr().err
    assert cli(["export", "grids", str(tmp_path / "g.txt")]) == 2
    assert "cannot export to .txt" in capsys.readouterr().err


@pytest.mark.parametrize("suffix", FORMATS)
def test_demo_grids_and_addresses_round_trip(demo_db, pg_server, migrated_template, tmp_path, suffix):
    """The demo's areas, grids and addresses → file → a fresh database: same codes, same geometry."""
    layers = LAYERS[:3]
    with demo_db.connect() as conn:
        originals = {t: fetch_layer(conn, t) for _, t in layers}
        for layer, table in layers:
            assert export_layer(layer, tmp_path / f"{layer}{suffix}", conn=conn).count == len(originals[table]) > 0
    fresh = pg_server.create("demotrip", template=migrated_template.name)
    try:
        with fresh.connect() as conn:
            for layer, table in layers:
                assert import_file(layer, tmp_path / f"{layer}{suffix}", conn=conn).written == len(originals[table])
            for _, table in layers:
                assert originals[table]["code"].notna().all()  # rows are matched by code
                same_layer(originals[table], fetch_layer(conn, table), "code")
    finally:
        pg_server.drop(fresh)


@pytest.mark.parametrize("suffix", FORMATS)
def test_empty_selection_writes_an_empty_file_that_import_refuses_as_empty(small, tmp_path, suffix):
    path = tmp_path / f"none{suffix}"
    assert export_layer("facilities", path, bbox="10,10,11,11").count == 0
    with pytest.raises(ImportRejected, match="empty|no features"):
        import_file("facilities", path)
