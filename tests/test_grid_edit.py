"""Grid editing, pure geometry: every validation rule failing and passing, and the
topology-safe edits (split, merge, delete, add, shared-edge move with snapping, clip).

A 1 km × 1 km community in local metres, tiled by two grids (west/east halves).
"""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely import box

from geodata.errors import InvalidInput
from geodata.grids import partition as P
from geodata.grids.local import Frame
from geodata.grids.suggest import grid_count, suggest_grids
from geodata.grids.validate import Points, validate_grid_set

FRAME = Frame(121.45, 31.35)
AREA = box(0, 0, 1000, 1000)
C = "310113999001"
W, E = C + "001", C + "002"


def tiled() -> dict:
    return {W: shapely.MultiPolygon([box(0, 0, 500, 1000)]), E: shapely.MultiPolygon([box(500, 0, 1000, 1000)])}


def points(n_west: int, n_east: int) -> Points:
    """One household per address, ``n_west`` addresses in the west half and ``n_east`` in the east."""
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(10, 490, n_west), rng.uniform(510, 990, n_east)])
    y = rng.uniform(10, 990, n_west + n_east)
    ones = np.ones(n_west + n_east, dtype=np.int64)
    return Points(x, y, ones, ones * 2)


def check(grids: dict, pts: Points | None = None, lo: int = 300, hi: int = 500):
    return validate_grid_set(AREA, grids, pts or points(400, 400), FRAME, snap_m=1.0,
                             households_min=lo, households_max=hi)


def rules(report) -> list[str]:
    return sorted(i.rule for i in report.issues)


def test_a_clean_tiling_passes_every_rule():
    report = check(tiled())
    assert report.ok and report.issues == []
    assert report.per_grid[W] == {"addresses": 400, "households": 400, "residents": 800}


def test_invalid_geometry_is_named_with_reason_and_place():
    grids = tiled()
    grids[W] = shapely.Polygon([(0, 0), (500, 1000), (500, 0), (0, 1000)])  # bow tie
    report = check(grids)
    bad = [i for i in report.issues if i.rule == "invalid"]
    assert len(bad) == 1 and bad[0].codes == [W] and "Self-intersection" in bad[0].detail
    lon, lat = bad[0].geom.x, bad[0].geom.y  # the crossing, in lon/lat
    assert abs(lon - FRAME.lon0) < 0.01 and abs(lat - FRAME.lat0) < 0.01


def test_outside_the_community_and_clip_fixes_it():
    grids = tiled()
    grids[E] = shapely.MultiPolygon([box(500, 0, 1050, 1000)])
    report = check(grids)
    out = [i for i in report.issues if i.rule == "outside"]
    assert len(out) == 1 and out[0].codes == [E] and out[0].area_m2 == pytest.approx(50_000, rel=1e-6)
    assert check(P.clip_grids(grids, AREA)).ok


def test_overlap_reports_area_and_place_but_not_slivers():
    grids = tiled()
    grids[W] = shapely.MultiPolygon([box(0, 0, 520, 1000)])
    over = [i for i in check(grids).issues if i.rule == "overlap"]
    assert len(over) == 1 and sorted(over[0].codes) == [W, E] and over[0].area_m2 == pytest.approx(20_000)
    assert over[0].geom.bounds[0] > FRAME.lon0  # the strip lies east of the centre line
    grids[W] = shapely.MultiPolygon([box(0, 0, 500.3, 1000)])  # 0.3 m: below the 1 m snap tolerance
    assert "overlap" not in rules(check(grids))


def test_gap_polygons_are_reported():
    grids = tiled()
    grids[W] = shapely.MultiPolygon([box(0, 0, 470, 1000)])
    gaps = [i for i in check(grids).issues if i.rule == "gap"]
    assert len(gaps) == 1 and gaps[0].area_m2 == pytest.approx(30_000) and gaps[0].codes == []
    assert gaps[0].geom.geom_type == "Polygon"


def test_not_one_contiguous_piece():
    grids = tiled()
    grids[W] = shapely.MultiPolygon([box(0, 0, 500, 400), box(0, 600, 500, 1000)])
    grids[E] = shapely.MultiPolygon([box(500, 0, 1000, 1000), box(0, 400, 500, 600)])
    report = check(grids)
    assert [i.codes for i in report.issues if i.rule == "pieces"] == [[W]]
    assert "pieces" not in rules(check(tiled()))


def test_empty_grid_is_an_error():
    grids = tiled()
    grids[C + "003"] = shapely.MultiPolygon()
    assert "empty" in rules(check(grids))


def test_households_outside_the_range_warn_but_do_not_block():
    report = check(tiled(), points(120, 650))
    assert rules(report) == ["households_high", "households_low"]
    assert report.ok  # warnings only
    assert {i.rule: i.value for i in report.issues} == {"households_low": 120, "households_high": 650}
    assert check(tiled(), points(300, 500)).issues == []


def test_split_keeps_code_on_largest_piece_and_tiles():
    line = shapely.LineString([(-10, 300), (510, 300)])
    grids, created = P.split_grid(tiled(), line, lambda taken: P.next_code(C, taken))
    assert created == [C + "003"]
    assert grids[W].area == pytest.approx(350_000) and grids[C + "003"].area == pytest.approx(150_000)
    assert check(grids, points(0, 0), lo=0).ok


def test_split_needs_a_line_across():
    with pytest.raises(InvalidInput, match="edge to edge"):
        P.split_grid(tiled(), shapely.LineString([(100, 100), (200, 200)]), lambda t: "x")


def test_moving_a_shared_edge_moves_both_neighbours_without_gap_or_overlap():
    # West grid pushed 100 m east: the east grid gives the strip up.
    grids = P.replace_grid(tiled(), W, box(0, 0, 600, 1000), AREA, 1.0)
    assert grids[W].area == pytest.approx(600_000) and grids[E].area == pytest.approx(400_000)
    assert check(grids, points(0, 0), lo=0).ok
    # ... and pulled back 200 m west: the freed strip goes to the east neighbour, no gap.
    grids = P.replace_grid(grids, W, box(0, 0, 400, 1000), AREA, 1.0)
    assert grids[E].area == pytest.approx(600_000)
    assert check(grids, points(0, 0), lo=0).ok


def test_a_vertex_within_tolerance_snaps_onto_the_neighbour():
    # A new vertex 0.6 m off the neighbour's corner (500, 1000) snaps onto it: no sliver.
    moved = shapely.Polygon([(0, 0), (500, 0), (500.6, 999.5), (0, 1000)])
    grids = P.replace_grid(tiled(), W, moved, AREA, 1.0)
    corners = {tuple(c) for c in shapely.get_coordinates(grids[W]).round(6).tolist()}
    assert (500.0, 1000.0) in corners and (500.6, 999.5) not in corners
    assert check(grids, points(0, 0), lo=0).ok


def test_merge_only_neighbours_and_retire_one_code():
    three = {**tiled(), C + "003": shapely.MultiPolygon([box(2000, 0, 2100, 100)])}
    with pytest.raises(InvalidInput, match="not neighbours"):
        P.merge_grids(three, W, C + "003", 1.0)
    merged = P.merge_grids(tiled(), E, W, 1.0)
    assert list(merged) == [E] and merged[E].area == pytest.approx(1_000_000)
    assert len(shapely.get_parts(merged[E])) == 1


def test_delete_gives_area_to_the_neighbour():
    grids, into = P.delete_grid(tiled(), W, 1.0)
    assert into == E and list(grids) == [E] and grids[E].area == pytest.approx(1_000_000)


def test_new_grid_takes_its_area_from_the_grids_it_covers():
    grids = P.add_grid(tiled(), box(400, 400, 600, 600), C + "003", AREA, 1.0)
    assert grids[C + "003"].area == pytest.approx(40_000)
    assert grids[W].area == pytest.approx(480_000) and check(grids, points(0, 0), lo=0).ok


def test_next_code_never_reuses_a_retired_code():
    assert P.next_code(C, {W, E}) == C + "003"
    assert P.next_code(C, {W, C + "007"}) == C + "008"  # 007 retired but remembered
    assert P.next_code(C, set()) == C + "001"


def test_local_frame_round_trip_keeps_shared_vertices_identical():
    a = FRAME.to_lonlat(box(0, 0, 500, 1000))
    b = FRAME.to_lonlat(box(500, 0, 1000, 1000))
    assert shapely.equals(FRAME.to_lonlat(FRAME.to_local(a)), a)
    shared_a = {tuple(c) for c in shapely.get_coordinates(a)}
    assert len(shared_a & {tuple(c) for c in shapely.get_coordinates(b)}) == 2


def test_suggestion_is_contiguous_balanced_and_follows_a_road():
    rng = np.random.default_rng(3)
    x, y = rng.uniform(0, 1000, 2000), rng.uniform(0, 1000, 2000)
    hh = np.ones(2000, dtype=np.int64)
    assert grid_count(2000, 300, 500) == 5
    s = suggest_grids(AREA, x, y, hh, lo=300, hi=500)
    assert len(s.grids) == 5 and s.over == [] and all(300 <= h <= 500 for h in s.households)
    assert check({str(i): g for i, g in enumerate(s.grids)}, points(0, 0), lo=0).ok
    road = shapely.LineString([(-5, 395), (1005, 405)])  # 40 % of households south of it
    s = suggest_grids(AREA, x, y, hh, lo=300, hi=500, roads=[road])
    along = sum(g.boundary.intersection(road.buffer(0.5)).length for g in s.grids)
    assert along > 1900, "grid edges should run along the whole road (both sides)"
    assert all(300 <= h <= 500 for h in s.households)
