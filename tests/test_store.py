"""The shared writers: all-or-nothing, derived fields, every refusal named."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from geodata import store
from geodata.errors import CRSMismatch, ImportRejected, MissingCRS

CRS = "EPSG:4326"


def frame(rows: list[dict], geoms: list, crs=CRS) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry=geoms, crs=crs)


@pytest.fixture
def tiny(empty_db):
    """One district, one street, two communities, two grids in the first community."""
    with empty_db.connect() as conn:
        store.write_admin_areas(conn, frame(
            [{"code": "999001", "name": "测试区", "level": "district"},
             {"code": "999001001", "name": "测试街道", "level": "street", "parent_code": "999001"},
             {"code": "999001001001", "name": "甲社区", "level": "community", "parent_code": "999001001"},
             {"code": "999001001002", "name": "乙社区", "level": "community", "parent_code": "999001001"}],
            [shapely.box(121, 31, 121.1, 31.1)] * 2
            + [shapely.box(121, 31, 121.05, 31.1), shapely.box(121.05, 31, 121.1, 31.1)]))
        store.write_grids(conn, frame(
            [{"code": "999001001001001", "households": 320}, {"code": "999001001001002", "households": 410}],
            [shapely.box(121, 31, 121.05, 31.05), shapely.box(121, 31.05, 121.05, 31.1)]))
    return empty_db


def snapshot(db) -> dict:
    with db.connect() as conn:
        return {t: conn.execute(f"SELECT md5(string_agg(t::text, ',' ORDER BY t::text)) FROM {t} t").fetchone()[0]  # noqa: S608
                for t in ("admin_area", "grid", "address", "facility", "road")}


def test_grid_gets_community_and_street(tiny):
    with tiny.connect() as conn:
        rows = conn.execute("SELECT code, community_code, street_code FROM grid ORDER BY code").fetchall()
    assert rows == [("999001001001001", "999001001001", "999001001"), ("999001001001002", "999001001001", "999001001")]


def test_addresses_derive_grid_community_street_and_h3(tiny):
    with tiny.connect() as conn:
        n = store.write_addresses(conn, frame([{"full_text": "甲1号"}, {"full_text": "乙2号"}],
                                              [shapely.Point(121.01, 31.01), shapely.Point(121.07, 31.07)]))
        rows = conn.execute("SELECT full_text, grid_code, community_code, street_code, h3_r7, h3_r10 "
                            "FROM address ORDER BY ST_X(geom)").fetchall()
    assert n == 2
    assert rows[0][1:4] == ("999001001001001", "999001001001", "999001001")
    # 乙 lies in a community without grids: community known, grid unknown.
    assert rows[1][1:4] == (None, "999001001002", "999001001")
    import h3
    assert h3.api.basic_int.cell_to_parent(rows[0][5], 7) == rows[0][4]


def test_rejection_names_rows_and_reasons_and_writes_nothing(tiny):
    before = snapshot(tiny)
    bowtie = shapely.Polygon([(121, 31), (121.01, 31.01), (121.01, 31), (121, 31.01)])
    with pytest.raises(ImportRejected) as err, tiny.connect() as conn:
        store.write_grids(conn, frame(
            [{"code": "G1", "_where": "feature 1"}, {"code": "G1", "_where": "feature 2"}],
            [bowtie, shapely.box(121.06, 31.0, 121.07, 31.01)]))
    reasons = {(p.where, p.reason.split(":")[0].split(" '")[0]) for p in err.value.problems}
    assert ("feature 1", "invalid geometry") in reasons
    assert ("feature 2", "duplicate code") in reasons
    assert "Self-intersection" in err.value.message
    assert snapshot(tiny) == before


def test_overlapping_grid_is_refused_with_area(tiny):
    with pytest.raises(ImportRejected, match=r"overlaps grid 999001001001001 by [\d.]+ m²"), tiny.connect() as conn:
        store.write_grids(conn, frame([{"code": "G9", "community_code": "999001001001"}],
                                      [shapely.box(121.0, 31.0, 121.01, 31.01)]))


def test_schema_trigger_also_refuses_overlap(tiny):
    import psycopg
    with pytest.raises(psycopg.errors.ExclusionViolation), tiny.connect() as conn:
        conn.execute("INSERT INTO grid (code, name, community_code, geom) VALUES "
                     "('G8', 'x', '999001001001', ST_Multi(ST_MakeEnvelope(121, 31, 121.01, 31.01, 4326)))")


def test_point_outside_every_community(tiny):
    before = snapshot(tiny)
    with pytest.raises(ImportRejected, match="outside every community"), tiny.connect() as conn:
        store.write_addresses(conn, frame([{"full_text": "远方"}], [shapely.Point(120, 30)]))
    assert snapshot(tiny) == before
    with tiny.connect() as conn:
        assert store.write_addresses(conn, frame([{"full_text": "远方"}], [shapely.Point(120, 30)]),
                                     allow_outside=True) == 1


@pytest.mark.parametrize("geom, reason", [
    (shapely.Point(200, 30), "out of range"),
    (shapely.Point(float("nan"), 30), "not a finite"),
    (shapely.LineString([(121, 31), (121.01, 31.01)]), "expected Point"),
    (None, "missing or empty"),
])
def test_bad_points(tiny, geom, reason):
    with pytest.raises(ImportRejected, match=reason), tiny.connect() as conn:
        store.write_addresses(conn, frame([{"full_text": "x"}], [geom]))


def test_crs_is_required_and_must_be_wgs84(tiny):
    with tiny.connect() as conn:
        with pytest.raises(MissingCRS):
            store.write_addresses(conn, frame([{"full_text": "x"}], [shapely.Point(121.01, 31.01)], crs=None))
        with pytest.raises(CRSMismatch):
            store.write_addresses(conn, frame([{"full_text": "x"}], [shapely.Point(13e6, 3.6e6)], crs="EPSG:3857"))


def test_admin_parent_must_be_level_above(tiny):
    with pytest.raises(ImportRejected, match="not the level above"), tiny.connect() as conn:
        store.write_admin_areas(conn, frame(
            [{"code": "999001001009", "name": "丙", "level": "community", "parent_code": "999001"}],
            [shapely.box(121, 31, 121.01, 31.01)]))
    with pytest.raises(ImportRejected, match="does not exist"), tiny.connect() as conn:
        store.write_admin_areas(conn, frame(
            [{"code": "999001009", "name": "丁", "level": "street", "parent_code": "nope"}],
            [shapely.box(121, 31, 121.01, 31.01)]))


def test_facility_kind_must_be_known_and_is_located(tiny):
    with tiny.connect() as conn:
        with pytest.raises(ImportRejected, match="unknown facility kind 'spaceport'"):
            store.write_facilities(conn, frame([{"kind": "spaceport", "name": "x"}], [shapely.Point(121.01, 31.01)]))
    with tiny.connect() as conn:
        store.write_facilities(conn, frame([{"kind": "clinic", "name": "甲诊所", "capacity": "30"}],
                                           [shapely.Point(121.01, 31.01)]))
        row = conn.execute("SELECT kind, capacity, grid_code FROM facility").fetchone()
    assert row == ("clinic", 30, "999001001001001")


def test_roads_split_multilines_and_get_street(tiny):
    with tiny.connect() as conn:
        n = store.write_roads(conn, frame([{"name": "一路", "kind": "primary"}], [shapely.MultiLineString(
            [[(121.01, 31.01), (121.02, 31.02)], [(121.03, 31.03), (121.04, 31.04)]])]))
        streets = {r[0] for r in conn.execute("SELECT street_code FROM road")}
    assert n == 2 and streets == {"999001001"}


def _cells_match_addresses(conn) -> bool:
    exact = conn.execute("""
        SELECT res, cell, count(*) FROM (
            SELECT 7 AS res, h3_r7 AS cell FROM address UNION ALL SELECT 8, h3_r8 FROM address
            UNION ALL SELECT 9, h3_r9 FROM address UNION ALL SELECT 10, h3_r10 FROM address) x
        GROUP BY 1, 2 ORDER BY 1, 2""").fetchall()
    kept = conn.execute("SELECT res, cell, n FROM address_cell ORDER BY 1, 2").fetchall()
    return exact == kept


def test_h3_pyramid_follows_inserts_moves_and_deletes(tiny):
    import numpy as np
    rng = np.random.default_rng(1)
    pts = [shapely.Point(121.001 + 0.098 * x, 31.001 + 0.098 * y) for x, y in rng.random((300, 2))]
    with tiny.connect() as conn:
        store.write_addresses(conn, frame([{"full_text": f"地址{i}"} for i in range(300)], pts))
        assert conn.execute("SELECT sum(n) FROM address_cell WHERE res = 7").fetchone()[0] == 300
        assert _cells_match_addresses(conn)
        # Re-deriving grid codes must not touch the pyramid; moving points must.
        conn.execute("UPDATE address SET grid_code = NULL WHERE id % 3 = 0")
        assert _cells_match_addresses(conn)
        conn.execute("UPDATE address SET h3_r10 = h3_r10 # 1 WHERE id % 5 = 0")  # fake move within parents
        assert _cells_match_addresses(conn)
        conn.execute("DELETE FROM address WHERE id % 2 = 0")
        assert _cells_match_addresses(conn)
        conn.execute("DELETE FROM address")
        assert conn.execute("SELECT count(*) FROM address_cell").fetchone()[0] == 0


def test_code_format_is_checked_per_row(tiny):
    with pytest.raises(ImportRejected) as err, tiny.connect() as conn:
        store.write_grids(conn, frame([{"code": "ok-1"}, {"code": "网格 1", "_where": "line 3"}],
                                      [shapely.box(121.06, 31.0, 121.07, 31.01), shapely.box(121.07, 31.0, 121.08, 31.01)]))
    assert [p.where for p in err.value.problems] == ["line 3"]
    assert "may only hold letters" in err.value.message
