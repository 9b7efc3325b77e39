"""The demo district generator: determinism, tiling, codes, addresses, facilities, loading."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import shapely

from app.cli import main
from geodata.demo import build_demo, load_demo, resolve_district
from geodata.demo.district import region_code
from geodata.demo.synth_addresses import split_households
from geodata.demo.synth_facilities import FACILITY_KINDS
from geodata.demo.tiling import kmeans_seeds, partition, sample_in
from geodata.errors import InvalidInput, NotFound

ROOT = Path(__file__).resolve().parents[1]
BAOSHAN_NAMES = ["友谊路街道", "吴淞街道", "张庙街道", "罗店镇", "大场镇", "杨行镇", "月浦镇", "罗泾镇",
                 "顾村镇", "高境镇", "庙行镇", "淞南镇"]


@pytest.fixture(scope="module")
def demo():
    return build_demo(scale="small", seed=42)


def digest(data) -> str:
    """SHA-256 over every frame's attributes and geometry bytes."""
    h = hashlib.sha256()
    for frame in (data.admin_areas, data.grids, data.roads, data.addresses, data.facilities):
        h.update(frame.drop(columns="geometry").to_csv(index=False).encode())
        for wkb in shapely.to_wkb(np.asarray(frame.geometry.values, dtype=object)):
            h.update(wkb)
    return h.hexdigest()


# ---- determinism ---------------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_data_across_processes(demo):
    """Another process with another hash seed builds the very same bytes."""
    code = ("import sys; sys.path.insert(0, 'tests'); from test_demo import digest; "
            "from geodata.demo import build_demo; print(digest(build_demo(scale='small', seed=42)))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == digest(demo)


def test_another_seed_gives_other_data(demo):
    other = build_demo(scale="small", seed=7)
    assert digest(other) != digest(demo)
    assert other.grids.geometry.iloc[0] != demo.grids.geometry.iloc[0]


# ---- hierarchy and tiling ------------------------------------------------------------------------

def test_baoshan_streets_real_names_and_codes(demo):
    areas = demo.admin_areas
    district = areas[areas.level == "district"]
    assert district.code.tolist() == ["310113"] and district.name.tolist() == ["宝山区"]
    streets = areas[areas.level == "street"]
    assert sorted(streets.name) == sorted(BAOSHAN_NAMES)
    assert (streets.parent_code == "310113").all()
    for level, digits in (("street", 9), ("community", 12)):
        codes = areas.loc[areas.level == level, "code"]
        assert codes.str.fullmatch(rf"\d{{{digits}}}").all()
    communities = areas[areas.level == "community"]
    assert all(c.startswith(p) for c, p in zip(communities.code, communities.parent_code, strict=True))
    assert communities.name.str.endswith(("居委会", "村委会")).all()
    assert communities.name.is_unique
    assert (areas.population > 0).all()


def _assert_tiles(parent, pieces, label):
    union = shapely.union_all(pieces)
    rel = abs(union.area - parent.area) / parent.area
    assert rel < 1e-9, f"{label}: union differs from parent by {rel:.2e} of its area"
    assert shapely.symmetric_difference(union, parent).area / parent.area < 1e-9, label
    tree = shapely.STRtree(pieces)
    for i, j in zip(*tree.query(pieces, predicate="intersects"), strict=True):
        if i < j:
            overlap = shapely.intersection(pieces[i], pieces[j]).area
            assert overlap / parent.area < 1e-9, f"{label}: pieces {i} and {j} overlap"


def test_grids_tile_their_community_and_areas_tile_their_parent(demo):
    areas = demo.admin_areas.set_index("code")
    grids = demo.grids
    for community, group in grids.groupby("community_code"):
        _assert_tiles(areas.geometry[community], np.asarray(group.geometry.values), community)
    for parent, group in areas[areas.parent_code.notna()].groupby("parent_code"):
        _assert_tiles(areas.geometry[parent], np.asarray(group.geometry.values), parent)


def test_each_grid_is_one_polygon_with_a_15_digit_code(demo):
    grids = demo.grids
    assert (shapely.get_num_geometries(np.asarray(grids.geometry.values)) == 1).all()
    assert grids.code.str.fullmatch(r"\d{15}").all() and grids.code.is_unique
    assert all(g.startswith(c) for g, c in zip(grids.code, grids.community_code, strict=True))
    assert grids.name.str.endswith("号网格").all()
    assert grids.supervisor.str.len().between(2, 3).all()


def test_grid_households_are_300_to_500_and_sum_of_addresses(demo):
    grids = demo.grids.set_index("code")
    per_grid = demo.addresses.groupby("grid_code").households.sum()
    assert per_grid.reindex(grids.index).tolist() == grids.households.tolist()
    assert grids.households.between(300, 500).mean() >= 0.9


def test_small_scale_counts(demo):
    counts = demo.counts()
    assert counts["admin_area"] == 1 + 12 + len(demo.admin_areas[demo.admin_areas.level == "community"])
    assert 24 <= counts["admin_area"] - 13 <= 36
    assert 2_000 <= counts["address"] <= 4_000
    assert counts["road"] > 50


# ---- addresses, roads, facilities -----------------------------------------------------------------

def test_addresses_lie_inside_their_grid(demo):
    grids = demo.grids.set_index("code").geometry
    addr = demo.addresses
    inside = shapely.contains(np.asarray(grids[addr.grid_code].values), np.asarray(addr.geometry.values))
    assert inside.all()


def test_address_text_and_codes(demo):
    addr = demo.addresses
    assert addr.code.is_unique and addr.full_text.is_unique
    assert addr.code.str.fullmatch(r"\d{20}").all()
    assert all(c.startswith(g) for c, g in zip(addr.code, addr.grid_code, strict=True))
    assert addr.full_text.str.startswith("上海市宝山区").all()
    assert addr.number.str.fullmatch(r"\d+[弄号]").all()
    estate = addr[addr.number.str.endswith("弄")]
    assert len(estate) > len(addr) / 2
    assert estate.building.str.fullmatch(r"\d+[号栋]").all() and estate.unit.str.fullmatch(r"\d+单元").all()
    row = estate.iloc[0]
    assert row.full_text.endswith(f"{row.road}{row.number}{row.building}{row.unit}")


def test_roads_are_named_linestrings_of_schema_kinds(demo):
    roads = demo.roads
    assert (roads.geom_type == "LineString").all()
    assert set(roads.kind) <= {"expressway", "trunk", "primary", "secondary", "local", "path"}
    assert {"primary", "secondary", "local"} <= set(roads.kind)
    assert roads.name.str.contains(r"(?:路|大道|公路|街)$").all()


def test_every_facility_kind_is_present_with_names_and_capacities(demo):
    fac = demo.facilities
    assert set(fac.kind) == set(FACILITY_KINDS)
    assert fac.code.is_unique and fac.name.str.len().gt(2).all()
    assert fac[fac.kind == "kindergarten"].name.str.endswith("幼儿园").all()
    assert fac[fac.kind != "video_point"].capacity.notna().all()
    grids = demo.grids.set_index("code").geometry
    assert shapely.contains(np.asarray(grids[fac.grid_code].values), np.asarray(fac.geometry.values)).all()


# ---- districts by name -----------------------------------------------------------------------------

def test_ambiguous_district_lists_candidates():
    with pytest.raises(InvalidInput) as err:
        resolve_district("宝山区")
    assert "黑龙江省/双鸭山市/宝山区" in err.value.message and "上海市/上海市/宝山区" in err.value.message


def test_unknown_district_is_a_clear_error():
    with pytest.raises(NotFound, match="unknown district"):
        build_demo(district="不存在区", scale="small")


def test_district_spellings_resolve_to_the_same_place():
    a = resolve_district("上海市/宝山区")
    b = resolve_district("上海市/上海市/宝山区")
    c = resolve_district("双鸭山市/宝山区")
    assert a.code == b.code == "310113" and a.code_is_real
    assert c.province == "黑龙江省" and c.code.startswith("23") and not c.code_is_real


def test_other_district_gets_generated_streets():
    data = build_demo(district="双鸭山市/宝山区", scale="small", seed=3)
    streets = data.admin_areas[data.admin_areas.level == "street"]
    assert len(streets) >= 5 and streets.name.str.endswith(("街道", "镇")).all()
    assert data.addresses.full_text.str.startswith("黑龙江省双鸭山市宝山区").all()
    assert data.grids.code.str.startswith(data.district.code).all()


def test_synthetic_region_code_is_stable():
    assert region_code("广东省", "广州市", "天河区") == region_code("广东省", "广州市", "天河区")
    code, real = region_code("广东省", "广州市", "天河区")
    assert code.startswith("44") and len(code) == 6 and not real


def test_bad_scale_and_seed_are_rejected():
    with pytest.raises(InvalidInput, match="scale"):
        build_demo(scale="huge")
    with pytest.raises(InvalidInput, match="seed"):
        build_demo(seed=-1)


# ---- geometry helpers ------------------------------------------------------------------------------

def test_partition_of_a_concave_polygon_is_contiguous_and_exact():
    # A U shape: Voronoi cells straddling the gap fall apart and must be merged.
    u_shape = shapely.Polygon([(0, 0), (300, 0), (300, 300), (200, 300), (200, 100), (100, 100),
                               (100, 300), (0, 300)])
    rng = np.random.default_rng(1)
    seeds = kmeans_seeds(sample_in(u_shape, 800, rng), 9, rng)
    pieces = partition(u_shape, seeds)
    assert len(pieces) == 9
    assert all(p.geom_type == "Polygon" for p in pieces)
    _assert_tiles(u_shape, np.asarray(pieces, dtype=object), "U")


def test_split_households_sums_exactly():
    rng = np.random.default_rng(0)
    for total, n in ((400, 37), (300, 300), (500, 3)):
        parts = split_households(total, rng.uniform(1, 10, n))
        assert parts.sum() == total and parts.min() >= 1


# ---- loading ---------------------------------------------------------------------------------------

def test_load_demo_writes_every_table(empty_db, demo):
    with empty_db.connect() as conn:
        with conn.transaction():
            counts = load_demo(conn, scale="small", seed=42)
    assert {t: counts[t] for t in demo.counts()} == demo.counts()
    assert set(counts) - set(demo.counts()) == {"household", "resident", "resident_tag"}  # the population
    for table, n in counts.items():
        assert empty_db.count(table) == n
    with empty_db.connect() as conn:
        unassigned = conn.execute("SELECT count(*) FROM address WHERE grid_code IS NULL").fetchone()[0]
        wrong = conn.execute(
            "SELECT count(*) FROM address a JOIN grid g ON g.code = a.grid_code "
            "WHERE NOT ST_Contains(g.geom, a.geom)").fetchone()[0]
    assert unassigned == 0 and wrong == 0


def _counts(db) -> dict[str, int]:
    return {t: db.count(t) for t in ("admin_area", "grid", "road", "address", "facility")}


def test_cli_if_empty_nonempty_error_and_replace(empty_db, capsys):
    assert main(["demo", "load", "--scale", "small", "--no-progress"]) == 0
    first = _counts(empty_db)
    assert first["address"] > 0
    with empty_db.connect() as conn:
        before = conn.execute("SELECT md5(string_agg(code || full_text, ',' ORDER BY code)) FROM address").fetchone()

    capsys.readouterr()
    assert main(["demo", "load", "--scale", "small", "--if-empty", "--no-progress"]) == 0
    assert "skipped" in capsys.readouterr().out
    assert _counts(empty_db) == first

    assert main(["demo", "load", "--scale", "small", "--seed", "7", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "already has" in err and "--replace" in err
    assert _counts(empty_db) == first

    assert main(["demo", "load", "--scale", "small", "--seed", "7", "--replace", "--no-progress"]) == 0
    with empty_db.connect() as conn:
        after = conn.execute("SELECT md5(string_agg(code || full_text, ',' ORDER BY code)) FROM address").fetchone()
    assert after != before
    assert _counts(empty_db)["grid"] > 0
    with empty_db.connect() as conn:  # identities restart: a replaced demo has a fresh demo's ids
        assert conn.execute("SELECT min(id) FROM address").fetchone()[0] == 1


def test_cli_unknown_district_changes_nothing(empty_db, capsys):
    assert main(["demo", "load", "--district", "不存在区", "--scale", "small", "--no-progress"]) == 2
    assert "unknown district" in capsys.readouterr().err
    assert all(n == 0 for n in _counts(empty_db).values())


def test_failed_replace_leaves_data_unchanged(empty_db, capsys):
    """--replace deletes first; when the load then fails, the deletion is rolled back too."""
    assert main(["demo", "load", "--scale", "small", "--no-progress"]) == 0
    with empty_db.connect() as conn:  # a kind the demo needs goes missing (renamed, cascading)
        conn.execute("UPDATE facility_kind SET code = 'pocket_park' WHERE code = 'small_park'")
    first = _counts(empty_db)
    assert main(["demo", "load", "--scale", "small", "--seed", "7", "--replace", "--no-progress"]) == 2
    assert "small_park" in capsys.readouterr().err
    assert _counts(empty_db) == first


def test_cli_on_an_unmigrated_database_says_migrate(empty_db, capsys):
    with empty_db.connect() as conn:
        conn.execute("DROP TABLE facility, address, road, grid, admin_area CASCADE")
    assert main(["demo", "load", "--scale", "small", "--no-progress"]) == 2
    assert "onegrid db migrate" in capsys.readouterr().err
