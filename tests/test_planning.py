"""Planning: walking network, distances and coverage on hand-made networks with known answers.

The test network is drawn in UTM metres (zone 51N, near Shanghai) and stored in lon/lat, so
expected walking distances are plain sums of segment lengths.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Transformer

from geodata.errors import InvalidInput
from geodata.geometry import h3_cells
from geodata.planning import coverage as cov
from geodata.planning.demand import AddressFrame, Sites, default_analysis, fetch_planning_kinds
from geodata.planning.distance import Distances, Points
from geodata.planning.network import build_walk_network, fetch_network_status

SRID = 32651
X0, Y0 = 350_000.0, 3_470_000.0  # about 121.4 E, 31.35 N
TO_LL = Transformer.from_crs(SRID, 4326, always_xy=True)

# Roads (metres from X0, Y0): A–B along y=0, a branch up from B, a road crossing A–B at x=500
# (only a crossing: the network must node it), and a separate road far away.
ROADS = [[(0, 0), (1000, 0)], [(1000, 0), (1000, 800)], [(500, -300), (500, 300)], [(5000, 5000), (5400, 5000)]]
FACILITY = (0, 10)
# address (x, y), people, expected walking distance to the facility
ADDRESSES = [((400, 20), 5, 10 + 400 + 20),
             ((1030, 500), 7, 10 + 1000 + 500 + 30),
             ((520, 250), 3, 10 + 500 + 250 + 20),
             ((5200, 5010), 2, math.inf)]


def ll(x: float, y: float) -> tuple[float, float]:
    return TO_LL.transform(X0 + x, Y0 + y)


def _wkt_line(coords) -> str:
    return "LINESTRING(" + ", ".join("{:.9f} {:.9f}".format(*ll(x, y)) for x, y in coords) + ")"


def load_hand_made(conn, roads=True) -> list[int]:
    if roads:
        for line in ROADS:
            conn.execute("INSERT INTO road (kind, geom) VALUES ('local', ST_GeomFromText(%s, 4326))", (_wkt_line(line),))
    lonlat = [ll(*xy) for xy, _, _ in ADDRESSES]
    cells = h3_cells(np.array([p[0] for p in lonlat]), np.array([p[1] for p in lonlat]))
    ids = []
    for n, (lon, lat) in enumerate(lonlat):
        ids.append(conn.execute(
            "INSERT INTO address (full_text, h3_r7, h3_r8, h3_r9, h3_r10, geom) VALUES (%s, %s, %s, %s, %s, "
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)) RETURNING id",
            (f"测试地址{n}", *(int(cells[r][n]) for r in (7, 8, 9, 10)), lon, lat)).fetchone()[0])
    return ids


def facility_sites() -> Sites:
    lon, lat = ll(*FACILITY)
    return Sites([1], ["测试设施"], [None], Points.of([lon], [lat]))


def address_frame(conn, ids: list[int]) -> AddressFrame:
    from geodata.planning.demand import fetch_addresses

    return fetch_addresses(conn, {i: n for i, (_, n, _) in zip(ids, ADDRESSES, strict=True)})


def test_network_is_noded_at_crossings_and_measured_in_metres(empty_db):
    with empty_db.connect() as conn:
        load_hand_made(conn)
        status = build_walk_network(conn)
        # A–B split at x=500 (crossing) → 2, the crossing road split → 2, branch 1, far road 1
        assert (status.edges, status.nodes) == (6, 8)
        assert status.length_km == pytest.approx((1000 + 800 + 600 + 400) / 1000, abs=1e-3)
        assert fetch_network_status(conn).stale is False
        conn.execute("INSERT INTO road (kind, geom) VALUES ('path', ST_GeomFromText(%s, 4326))",
                     (_wkt_line([(0, 0), (0, 300)]),))
        assert fetch_network_status(conn).stale is True


def test_walking_distances_have_known_answers(empty_db):
    with empty_db.connect() as conn:
        ids = load_hand_made(conn)
        dist = Distances(conn)
        assert dist.mode == "network"
        frame = address_frame(conn, ids)
        d, site = dist.nearest(facility_sites().points, frame.points)
        expected = [e for _, _, e in ADDRESSES]
        assert np.isinf(d[3]) and site[3] == -1, "a road not connected to the facility is unreachable"
        assert d[:3] == pytest.approx(expected[:3], abs=0.05)
        assert list(site[:3]) == [0, 0, 0]
        # The pairwise search agrees and honours its limit.
        i, j, dd = dist.pairs(facility_sites().points, frame.points, 800)
        assert sorted(zip(j.tolist(), np.round(dd, 1).tolist(), strict=True)) == [(0, 430.0), (2, 780.0)]
        # Plain points (not addresses) are joined to the graph the same way.
        pts = Points.of(frame.lon, frame.lat)
        d2, _ = dist.nearest(facility_sites().points, pts)
        assert d2[:3] == pytest.approx(expected[:3], abs=0.05)


def test_nearest_site_wins_among_several(empty_db):
    with empty_db.connect() as conn:
        ids = load_hand_made(conn)
        dist = Distances(conn)
        lon2, lat2 = ll(1000, 790)  # second facility near the branch end
        sites = Points.of([facility_sites().points.lon[0], lon2], [facility_sites().points.lat[0], lat2])
        d, site = dist.nearest(sites, address_frame(conn, ids).points)
        assert list(site[:3]) == [0, 1, 0]
        assert d[1] == pytest.approx(290 + 30, abs=0.05)  # 800-510 along the branch, then 30 across


def test_no_network_falls_back_to_straight_line_times_detour(empty_db):
    with empty_db.connect() as conn:
        ids = load_hand_made(conn, roads=False)
        dist = Distances(conn, detour=1.3)
        assert dist.mode == "straight"
        d, _ = dist.nearest(facility_sites().points, address_frame(conn, ids).points)
        assert d[0] == pytest.approx(1.3 * math.hypot(400, 10), rel=1e-3)
        with pytest.raises(InvalidInput, match="detour"):
            Distances(conn, detour=0.5)


def test_coverage_figures_on_the_hand_made_network(empty_db):
    with empty_db.connect() as conn:
        ids = load_hand_made(conn)
        result = cov.compute_coverage(Distances(conn), facility_sites(), address_frame(conn, ids), 500)
        fig = cov.summarize(result)
        assert (fig["people"], fig["served"], fig["unserved"], fig["unreachable"]) == (17, 5, 12, 2)
        assert fig["coverage_pct"] == pytest.approx(100 * 5 / 17, abs=0.01)
        assert fig["mean_m"] == pytest.approx((5 * 430 + 7 * 1540 + 3 * 780) / 15, abs=0.1)
        assert fig["p90_m"] == pytest.approx(1540, abs=0.1)
        assert fig["distance_mode"] == "network"
        # Small counts never leave: every cell here holds fewer than 10 people.
        cells = cov.cell_counts(result, 9, 10)
        assert cells and all(c["people"] is None and c["served"] is None for c in cells)
        # With k = 1 the split shows, since nothing is small.
        shown = cov.cell_counts(result, 10, 1)
        assert sum(c["people"] for c in shown) == 17
        assert len(cov.catchments(result, facility_sites())) == 1


def test_empty_demand_is_a_clear_error(empty_db):
    with empty_db.connect() as conn:
        ids = load_hand_made(conn)
        from geodata.planning.demand import fetch_addresses

        frame = fetch_addresses(conn, {})
        with pytest.raises(InvalidInput, match="empty demand"):
            cov.compute_coverage(Distances(conn), facility_sites(), frame, 500)
        assert len(ids) == 4


def test_life_circle_defaults(empty_db):
    with empty_db.connect() as conn:
        kinds = {k["code"]: k for k in fetch_planning_kinds(conn)}
        assert kinds["kindergarten"]["radius_m"] == 300
        assert kinds["primary_school"]["radius_m"] == 500
        assert kinds["clinic"]["radius_m"] == 1000
        care = default_analysis(conn, "elderly_day_care")
        assert (care.radius_m, care.group.min_age, care.group.max_age) == (300, 60, None)
        assert default_analysis(conn, "clinic").group.min_age is None
        with pytest.raises(Exception, match="life-circle"):
            default_analysis(conn, "video_point")


def test_weighted_percentile():
    values = np.array([100.0, 200.0, 300.0])
    assert cov.weighted_percentile(values, np.array([1, 1, 8]), 0.9) == 300
    assert cov.weighted_percentile(values, np.array([9, 0, 1]), 0.9) == 100


def test_small_counts_and_their_complements_never_show():
    fig = {"people": 40, "served": 37, "unserved": 3, "coverage_pct": 92.5, "unreachable": 2, "mean_m": 1.0}
    shown = cov.public_figures(fig, 10)
    assert shown["people"] == 40
    assert shown["served"] is None and shown["unserved"] is None and shown["coverage_pct"] is None, \
        "40 people and 92.5 % would give back the 3 unserved"
    assert shown["unreachable"] is None
    assert cov.public_figures({**fig, "served": 20, "unserved": 20, "coverage_pct": 50.0}, 10)["served"] == 20
    row = {"figures": {"before": fig, "after": fig, "sites": 1}, "sites": [{"served": 4.0}, {"served": 12.0}]}
    public = cov.public_scenario(row, 10)
    assert [s["served"] for s in public["sites"]] == [None, 12.0]
    assert public["figures"]["after"]["unserved"] is None


def test_cells_hide_the_exact_share_when_the_split_is_hidden(empty_db):
    with empty_db.connect() as conn:
        ids = load_hand_made(conn)
        frame = address_frame(conn, ids)
        frame.n[:] = [37, 0, 3, 0]  # 37 served (430 m) and 3 unserved (780 m) …
        assert frame.h3[8][0] == frame.h3[8][2], "… in one res-8 cell"
        result = cov.compute_coverage(Distances(conn), facility_sites(), frame, 500)
        cells = cov.cell_counts(result, 8, 10)
        assert [c["people"] for c in cells] == [40] and cells[0]["coarse"] and cells[0]["share"] == 0.75
        for cell in cells:
            if cell["coarse"]:
                assert cell["served"] is None and cell["share"] in (0.0, 0.25, 0.5, 0.75)
            else:
                assert cell["served"] in (0, cell["people"]) or cell["served"] >= 10
