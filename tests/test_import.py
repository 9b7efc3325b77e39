"""`onegrid import`: every format, CRS handling, column aliases, and every refusal named and harmless.

The test district is drawn here (not the demo's): district 990100 → streets 990100001/002 →
communities (two per street, each 0.05° × 0.05°) → two grids per community.
"""

from __future__ import annotations

import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from app.cli import main as cli
from geodata.errors import CRSMismatch, ImportRejected, InvalidInput, MissingCRS, UnsupportedFormat
from geodata.io.importer import import_file

X0, Y0, D = 121.0, 31.0, 0.05
TABLES = ("admin_area", "grid", "address", "facility", "road")


def admin_frame() -> gpd.GeoDataFrame:
    rows, geoms = [{"code": "990100", "name": "测试区", "level": "district"}], [shapely.box(X0, Y0, X0 + 4 * D, Y0 + D)]
    for s in range(2):
        street = f"990100{s + 1:03d}"
        rows.append({"code": street, "name": f"街道{s + 1}", "level": "street", "parent_code": "990100"})
        geoms.append(shapely.box(X0 + 2 * s * D, Y0, X0 + (2 * s + 2) * D, Y0 + D))
        for c in range(2):
            rows.append({"code": f"{street}{c + 1:03d}", "name": f"社区{s + 1}-{c + 1}", "level": "community",
                         "parent_code": street, "population": 1000 * (c + 1)})
            geoms.append(shapely.box(X0 + (2 * s + c) * D, Y0, X0 + (2 * s + c + 1) * D, Y0 + D))
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=4326)


def grid_frame() -> gpd.GeoDataFrame:
    rows, geoms = [], []
    for k, community in enumerate(["990100001001", "990100001002", "990100002001", "990100002002"]):
        for g in range(2):
            rows.append({"code": f"{community}{g + 1:03d}", "name": f"网格{k}-{g}", "supervisor": f"员{k}{g}",
                         "households": 300 + g})
            geoms.append(shapely.box(X0 + k * D, Y0 + g * D / 2, X0 + (k + 1) * D, Y0 + (g + 1) * D / 2))
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=4326)


def snapshot(db) -> dict:
    """Row count and a content hash of every table (to prove a rejected import changed nothing)."""
    with db.connect() as conn:
        return {t: conn.execute(f"SELECT count(*), md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) "  # noqa: S608 - fixed names
                                f"FROM {t} t").fetchone() for t in TABLES}


def rejected(db, *args, **kwargs) -> str:
    """Run an import expected to fail; assert nothing changed and return the message."""
    before = snapshot(db)
    with pytest.raises((ImportRejected, InvalidInput)) as err:
        import_file(*args, **kwargs)
    assert snapshot(db) == before
    return err.value.message


@pytest.fixture
def areas(empty_db, tmp_path):
    path = tmp_path / "areas.geojson"
    admin_frame().to_file(path, engine="pyogrio")
    report = import_file("admin-areas", path)
    assert report.written == 7
    return empty_db


@pytest.fixture
def district(areas, tmp_path):
    path = tmp_path / "grids.gpkg"
    grid_frame().to_file(path, engine="pyogrio")
    assert import_file("grids", path).written == 8
    return areas


def addresses_csv(tmp_path, rows: list[str], header: str = "地址,经度,纬度", name="a.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


# -- formats ---------------------------------------------------------------------------------
def test_admin_areas_report_levels(areas):
    with areas.connect() as conn:
        rows = conn.execute("SELECT level, count(*) FROM admin_area GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("community", 4), ("district", 1), ("street", 2)]


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg", ".shp", ".zip", ".fgb", ".csv"])
def test_every_format_imports_grids_and_derives_community(areas, tmp_path, suffix):
    gdf = grid_frame()
    path = tmp_path / f"grids{suffix}"
    if suffix == ".csv":
        pd.DataFrame(gdf.drop(columns="geometry")).assign(wkt=gdf.geometry.to_wkt()).to_csv(path, index=False)
    elif suffix == ".zip":
        gdf.to_file(tmp_path / "g.shp", engine="pyogrio")
        with zipfile.ZipFile(path, "w") as zf:
            for part in ("shp", "shx", "dbf", "prj", "cpg"):
                if (tmp_path / f"g.{part}").exists():
                    zf.write(tmp_path / f"g.{part}", arcname=f"inner/g.{part}")
    else:
        gdf.to_file(path, engine="pyogrio")
    report = import_file("grids", path)
    assert report.written == 8
    assert [(g[0], g[2]) for g in report.groups] == [(c, 2) for c in
                                                     ("990100001001", "990100001002", "990100002001", "990100002002")]
    with areas.connect() as conn:
        rows = conn.execute("SELECT code, community_code, supervisor, households, ST_AsText(geom) FROM grid "
                            "ORDER BY code").fetchall()
    assert rows[0][:4] == ("990100001001001", "990100001001", "员00", 300)
    assert shapely.from_wkt(rows[0][4]).equals(shapely.MultiPolygon([gdf.geometry[0]]))


def test_csv_points_with_chinese_columns_report_per_community(district, tmp_path):
    path = addresses_csv(tmp_path, ["甲路1号,121.01,31.01", "甲路2号,121.02,31.04", "乙路3号,121.16,31.02"])
    report = import_file("addresses", path)
    assert report.written == 3
    assert [(c, n, k) for c, n, k in report.groups] == [("990100001001", "社区1-1", 2), ("990100002002", "社区2-2", 1)]
    assert any("社区1-1: 2" in line for line in report.lines())
    with district.connect() as conn:
        rows = conn.execute("SELECT full_text, grid_code FROM address ORDER BY full_text").fetchall()
    assert rows == [("乙路3号", "990100002002001"), ("甲路1号", "990100001001001"), ("甲路2号", "990100001001002")]


def test_gbk_csv_with_english_aliases(district, tmp_path):
    path = addresses_csv(tmp_path, ["宝山路1号,121.01,31.01,A1"], header="Address,Longitude,Latitude,Code",
                         encoding="gb18030")
    assert import_file("addresses", path).written == 1
    with district.connect() as conn:
        assert conn.execute("SELECT code, full_text FROM address").fetchall() == [("A1", "宝山路1号")]


def test_map_option_names_columns(district, tmp_path):
    path = addresses_csv(tmp_path, ["x1,121.01,31.01"], header="门址描述,东经,北纬")
    msg = rejected(district, "addresses", path)
    assert "no coordinate columns" in msg and "东经" in msg
    assert "--map 经度=lon: no such column" in rejected(district, "addresses", path, mapping={"经度": "lon"})
    assert "--map 门址描述=full_text and --map 东经=full_text" in rejected(
        district, "addresses", path, mapping={"门址描述": "full_text", "东经": "full_text"})
    report = import_file("addresses", path, mapping={"门址描述": "full_text", "东经": "lon", "北纬": "lat"})
    assert report.written == 1 and report.columns == {"门址描述": "full_text"}


def test_gpkg_with_several_layers_needs_layer(district, tmp_path):
    path = tmp_path / "two.gpkg"
    pts = gpd.GeoDataFrame({"地址": ["a", "b"]}, geometry=[shapely.Point(121.01, 31.01)] * 2, crs=4326)
    pts.to_file(path, layer="first", engine="pyogrio")
    pts.iloc[:1].to_file(path, layer="second", engine="pyogrio")
    assert "several layers (first, second)" in rejected(district, "addresses", path)
    assert import_file("addresses", path, layer="second").written == 1


def test_3d_multipoints_and_gbk_shapefile_without_cpg(district, tmp_path):
    pts = gpd.GeoDataFrame({"地址": ["宝山路1号"]}, geometry=[shapely.MultiPoint([(121.01, 31.01, 5.0)])], crs=4326)
    pts.to_file(tmp_path / "z.gpkg")
    assert import_file("addresses", tmp_path / "z.gpkg").written == 1
    pts.to_file(tmp_path / "gbk.shp", encoding="GBK")
    (tmp_path / "gbk.cpg").unlink(missing_ok=True)
    import_file("addresses", tmp_path / "gbk.shp", encoding="GBK", mapping={"地址": "full_text"})
    with district.connect() as conn:
        rows = conn.execute("SELECT full_text, ST_AsText(geom) FROM address").fetchall()
    assert rows == [("宝山路1号", "POINT(121.01 31.01)")] * 2


# -- CRS -------------------------------------------------------------------------------------
def test_csv_xy_in_web_mercator_is_reprojected(district, tmp_path):
    pt = gpd.GeoSeries([shapely.Point(121.0123456, 31.0234567)], crs=4326).to_crs(3857)[0]
    path = addresses_csv(tmp_path, [f"甲1号,{pt.x!r},{pt.y!r}"], header="地址,X,Y")
    assert "say which with --crs" in rejected(district, "addresses", path)
    import_file("addresses", path, crs="EPSG:3857")
    with district.connect() as conn:
        x, y = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address").fetchone()
    assert abs(x - 121.0123456) < 1e-7 and abs(y - 31.0234567) < 1e-7


def test_cgcs2000_is_identity_in_lon_lat_order(district, tmp_path):
    path = tmp_path / "cgcs.gpkg"
    gpd.GeoDataFrame({"地址": ["a"]}, geometry=[shapely.Point(121.0111, 31.0222)], crs=4490).to_file(path)
    import_file("addresses", path)
    csv = addresses_csv(tmp_path, ["b,121.0333,31.0444"])
    import_file("addresses", csv, crs="EPSG:4490")
    with district.connect() as conn:
        rows = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY full_text").fetchall()
    assert rows == [(pytest.approx(121.0111, abs=1e-9), pytest.approx(31.0222, abs=1e-9)),
                    (pytest.approx(121.0333, abs=1e-9), pytest.approx(31.0444, abs=1e-9))]


def test_crs_contradicting_the_file_is_an_error(district, tmp_path):
    path = tmp_path / "a.geojson"
    gpd.GeoDataFrame({"地址": ["a"]}, geometry=[shapely.Point(121.01, 31.01)], crs=4326).to_file(path)
    before = snapshot(district)
    with pytest.raises(CRSMismatch, match="declares EPSG:4326.*--crs says EPSG:3857"):
        import_file("addresses", path, crs="EPSG:3857")
    csv = addresses_csv(tmp_path, ["b,121.03,31.04"])
    with pytest.raises(CRSMismatch, match="projected"):
        import_file("addresses", csv, crs="EPSG:3857")
    assert snapshot(district) == before


def test_shapefile_without_prj_needs_crs(district, tmp_path):
    gdf = gpd.GeoDataFrame({"address": ["a"]}, geometry=[shapely.Point(121.01, 31.01)], crs=4326).to_crs(3857)
    gdf.to_file(tmp_path / "a.shp")
    (tmp_path / "a.prj").unlink()
    before = snapshot(district)
    with pytest.raises(MissingCRS, match=r"a.shp declares no CRS .*--crs"):
        import_file("addresses", tmp_path / "a.shp")
    assert snapshot(district) == before
    assert import_file("addresses", tmp_path / "a.shp", crs="EPSG:3857").written == 1


def test_geojson_without_crs_member_is_wgs84(district, tmp_path):
    path = tmp_path / "plain.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"地址": "a"}, "geometry": {"type": "Point", "coordinates": [121.01, 31.01]}}]}))
    assert import_file("addresses", path).written == 1


# -- refusals: named, and nothing written ----------------------------------------------------
def test_bad_csv_coordinates_name_their_lines(district, tmp_path):
    path = addresses_csv(tmp_path, ["ok,121.01,31.01", "a,abc,31.01", "b,,31.01", "c,nan,31.01",
                                    "d,200,31.01", "e,121.01,inf"])
    msg = rejected(district, "addresses", path)
    for line, reason in [(3, "'abc' is not a number"), (4, "lon is empty"), (5, "'nan' is not a finite"),
                         (6, "out of range (lon 200"), (7, "'inf' is not a finite")]:
        assert f"line {line}: " in msg and reason in msg, (line, msg)
    assert "line 2:" not in msg


def test_invalid_geometry_names_feature_code_and_reason(areas, tmp_path):
    gdf = grid_frame()
    gdf.loc[1, "geometry"] = shapely.Polygon([(121, 31), (121.01, 31.01), (121.01, 31), (121, 31.01)])
    gdf.to_file(tmp_path / "g.geojson")
    msg = rejected(areas, "grids", tmp_path / "g.geojson")
    assert "feature 2 (code 990100001001002): invalid geometry: Self-intersection" in msg


def test_point_outside_every_community(district, tmp_path):
    path = addresses_csv(tmp_path, ["in,121.01,31.01", "out,120.5,31.01"])
    msg = rejected(district, "addresses", path)
    assert "line 3: point (120.500000, 31.010000) is outside every community" in msg
    report = import_file("addresses", path, allow_outside=True)
    assert report.written == 2 and (None, None, 1) in report.groups


def test_duplicate_codes_in_file_and_against_database(district, tmp_path):
    path = addresses_csv(tmp_path, ["A1,a,121.01,31.01", "A1,b,121.02,31.01"], header="编码,地址,lon,lat")
    assert "line 3: duplicate code 'A1' (also at line 2)" in rejected(district, "addresses", path)
    gdf = grid_frame().iloc[:1]
    gdf.to_file(tmp_path / "again.gpkg")
    msg = rejected(district, "grids", tmp_path / "again.gpkg")
    assert "feature 1 (code 990100001001001): grid code '990100001001001' already exists" in msg


def test_levels_in_chinese_and_unknown_level(empty_db, tmp_path):
    gdf = admin_frame().rename(columns={"code": "编码", "name": "名称", "level": "级别", "parent_code": "上级编码"})
    gdf["级别"] = gdf["级别"].map({"district": "区", "street": "街道", "community": "居委会"})
    gdf.loc[3, "级别"] = "片区"
    gdf.to_file(tmp_path / "a.gpkg")
    msg = rejected(empty_db, "admin-areas", tmp_path / "a.gpkg")
    assert "feature 4 (code 990100001002): unknown level '片区'" in msg and "街道" in msg
    gdf.loc[3, "级别"] = "村"
    gdf.to_file(tmp_path / "b.gpkg")
    assert import_file("admin-areas", tmp_path / "b.gpkg").written == 7


def test_missing_required_column_lists_found_and_suggests_map(district, tmp_path):
    path = addresses_csv(tmp_path, ["x,121.01,31.01"], header="描述,lon,lat")
    msg = rejected(district, "addresses", path)
    assert "missing required column(s) full_text" in msg and "columns found: 描述" in msg and "--map" in msg
    assert import_file("addresses", path, mapping={"描述": "full_text"}).written == 1


@pytest.mark.parametrize("content", ["", "地址,经度,纬度\n", '{"type":"FeatureCollection","features":[]}'])
def test_empty_file_is_refused(district, tmp_path, content):
    path = tmp_path / ("e.geojson" if content.startswith("{") else "e.csv")
    path.write_text(content, encoding="utf-8")
    assert "empty" in rejected(district, "addresses", path)


def test_facility_kinds_by_chinese_name_and_unknown_kind(district, tmp_path):
    path = addresses_csv(tmp_path, ["幼儿园,阳光幼儿园,120,121.01,31.01", "clinic,诊所,,121.02,31.01",
                                    "游泳馆,某游泳馆,5,121.03,31.01"], header="类型,名称,容量,lon,lat")
    msg = rejected(district, "facilities", path)
    assert "line 4: unknown facility kind '游泳馆'" in msg and "kindergarten" in msg and "service_centre" in msg
    assert "line 2" not in msg and "line 3" not in msg
    ok = addresses_csv(tmp_path, ["幼儿园,阳光幼儿园,120,121.01,31.01", "Community clinic,诊所,,121.02,31.01"],
                       header="类型,名称,容量,lon,lat", name="ok.csv")
    assert import_file("facilities", ok).written == 2
    with district.connect() as conn:
        assert conn.execute("SELECT kind, capacity FROM facility ORDER BY kind").fetchall() == [
            ("clinic", None), ("kindergarten", 120)]


def test_roads_with_chinese_kinds(district, tmp_path):
    gdf = gpd.GeoDataFrame({"路名": ["甲路", "乙路"], "道路等级": ["主干路", "步行道"]},
                           geometry=[shapely.LineString([(121.01, 31.01), (121.04, 31.01)]),
                                     shapely.LineString([(121.11, 31.01), (121.14, 31.02)])], crs=4326)
    gdf.to_file(tmp_path / "r.fgb")
    report = import_file("roads", tmp_path / "r.fgb")
    assert report.written == 2
    with district.connect() as conn:
        assert conn.execute("SELECT name, kind, street_code FROM road ORDER BY name").fetchall() == [
            ("乙路", "path", "990100002"), ("甲路", "primary", "990100001")]
    gdf["道路等级"] = ["主干路", "跑道"]
    gdf.to_file(tmp_path / "bad.fgb", SPATIAL_INDEX="NO")  # a spatial index would reorder features
    assert "feature 2: unknown road kind '跑道'" in rejected(district, "roads", tmp_path / "bad.fgb")


def test_unsupported_format(district, tmp_path):
    (tmp_path / "a.kml").write_text("<kml/>")
    with pytest.raises(UnsupportedFormat, match=r"\.kml"):
        import_file("addresses", tmp_path / "a.kml")


def test_dry_run_checks_database_and_writes_nothing(district, tmp_path):
    path = addresses_csv(tmp_path, ["a,121.01,31.01", "b,121.06,31.01"])
    before = snapshot(district)
    report = import_file("addresses", path, dry_run=True)
    assert report.written == 2 and report.dry_run
    assert [g[0] for g in report.groups] == ["990100001001", "990100001002"]
    assert snapshot(district) == before
    gpd.GeoDataFrame({"code": ["990100001001001"]}, geometry=[shapely.box(121.0, 31.0, 121.001, 31.001)],
                     crs=4326).to_file(tmp_path / "dup.geojson")
    with pytest.raises(ImportRejected, match="already exists in the database"):
        import_file("grids", tmp_path / "dup.geojson", dry_run=True)


# -- command line ----------------------------------------------------------------------------
def test_cli_import_prints_summary_and_fails_cleanly(district, tmp_path, capsys):
    path = addresses_csv(tmp_path, ["a,121.01,31.01"])
    assert cli(["import", "addresses", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "a.csv: would write 1 row(s) to address (dry run: nothing written)"
    assert cli(["import", "addresses", str(path), "--map", "地址=full_text"]) == 0
    assert "wrote 1 row(s) to address" in capsys.readouterr().out
    bad = addresses_csv(tmp_path, ["a,abc,31.01"], name="bad.csv")
    before = snapshot(district)
    assert cli(["import", "addresses", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 2: column '经度': lon 'abc' is not a number" in err
    assert cli(["import", "grids", str(path), "--map", "nothere=code"]) == 2
    assert "no column 'nothere'" in capsys.readouterr().err
    assert snapshot(district) == before
