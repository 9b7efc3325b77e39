"""Location-allocation models on small cases with known optima, bad inputs, scenarios, exports, jobs."""

from __future__ import annotations

import itertools
import json
import re
import subprocess
import time

import numpy as np
import pytest

from geodata.errors import Conflict, InvalidInput, NotFound
from geodata.planning.heuristics import covered_weight, dominated_columns, greedy_mclp, reduce_cover
from geodata.planning.mclp import solve_mclp
from geodata.planning.models import coverage_matrix, solve_lscp
from geodata.planning.pmedian import solve_pmedian

# 6 demand points, 5 candidates; candidate j covers the listed demand points.
COVERS = {0: [0, 1], 1: [1, 2, 3], 2: [3, 4], 3: [4, 5], 4: [0, 5]}
WEIGHTS = np.array([4.0, 1.0, 1.0, 1.0, 6.0, 4.0])


def matrix():
    pairs = [(j, i) for j, dem in COVERS.items() for i in dem]
    return coverage_matrix(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]), 5, 6)


def brute_force_mclp(k: int) -> float:
    best = 0.0
    for combo in itertools.combinations(range(5), k):
        covered = set().union(*(COVERS[j] for j in combo))
        best = max(best, WEIGHTS[list(covered)].sum())
    return best


@pytest.mark.parametrize("k", [1, 2, 3])
def test_mclp_matches_brute_force_and_beats_greedy(k):
    sol = solve_mclp(matrix(), WEIGHTS, k)
    assert sol.status == "optimal" and sol.gap == 0.0
    assert sol.objective == pytest.approx(brute_force_mclp(k))
    assert len(sol.chosen) == k
    greedy = greedy_mclp(matrix(), WEIGHTS, k)
    greedy_cover = WEIGHTS[list(set().union(*(COVERS[j] for j in greedy)))].sum()
    assert sol.objective >= greedy_cover
    assert sol.served.sum() == pytest.approx(sol.objective)


def test_mclp_greedy_is_not_optimal_here_but_the_mip_is():
    # Greedy first takes the middle site (heaviest alone); the optimum is the two flanks.
    a = coverage_matrix(np.array([0, 0, 1, 1, 2, 2]), np.array([0, 1, 0, 3, 2, 3]), 3, 4)
    w = np.array([5.0, 3.0, 3.0, 5.0])
    greedy = greedy_mclp(a, w, 2)
    sol = solve_mclp(a, w, 2)
    assert sorted(sol.chosen) == [0, 2] and sol.objective == 16
    assert greedy[0] == 1


def test_reduction_drops_dominated_sites_and_merges_identical_demand():
    # Site 0 covers {0, 1} ⊂ site 1's {0, 1, 2}; sites 2 and 3 both cover exactly {3, 4}; site 4 nothing.
    a = coverage_matrix(np.array([0, 0, 1, 1, 1, 2, 2, 3, 3]), np.array([0, 1, 0, 1, 2, 3, 4, 3, 4]), 5, 6)
    assert dominated_columns(a).tolist() == [True, False, False, True, True]
    r, w, cols = reduce_cover(a, np.array([1.0, 2, 3, 4, 5, 6]))
    assert cols.tolist() == [1, 2]
    # Rows {0, 1, 2} (all reached by site 1 only) and {3, 4} (site 2 only) merge; row 5 (no site) goes.
    assert r.shape == (2, 2) and sorted(w.tolist()) == [6.0, 9.0]


@pytest.mark.parametrize("seed", range(6))
def test_reduced_mclp_keeps_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    n_cand, n_dem = 9, 40
    mask = rng.random((n_cand, n_dem)) < 0.25
    mask[1] |= mask[0]  # site 0 dominated by site 1
    mask[5] = mask[4]  # identical sites
    cand, dem = np.nonzero(mask)
    a = coverage_matrix(cand, dem, n_cand, n_dem)
    w = rng.integers(1, 50, n_dem).astype(float)
    for k in (1, 2, 3, 4):
        best = max(covered_weight(a, w, c) for c in itertools.combinations(range(n_cand), k))
        sol = solve_mclp(a, w, k)
        assert sol.objective == pytest.approx(best) and sol.status == "optimal" and len(set(sol.chosen)) == k
        assert covered_weight(a, w, sol.chosen) == pytest.approx(sol.objective)
        assert sol.objective >= covered_weight(a, w, greedy_mclp(a, w, k))


def test_mclp_with_fewer_useful_sites_than_k_still_returns_k_sites():
    a = coverage_matrix(np.array([0, 1, 2]), np.array([0, 0, 1]), 4, 2)  # sites 1 and 3 add nothing
    sol = solve_mclp(a, np.array([3.0, 4.0]), 3)
    assert len(set(sol.chosen)) == 3 and {0, 2} <= set(sol.chosen)
    assert sol.objective == 7 and sol.status == "optimal" and sol.gap == 0.0


def test_capacitated_mclp_respects_capacity():
    sol = solve_mclp(matrix(), WEIGHTS, 1, capacity=np.full(5, 5.0))
    assert sol.objective == pytest.approx(5.0)
    assert sol.served.max() <= 5.0 + 1e-6


def test_capacitated_mclp_with_existing_facilities_fixed_open():
    from geodata.planning.mclp import served_within_capacity

    # Column 0 is an existing facility covering demand {0, 1} with 5 places; candidate 1 covers
    # {1, 2} without limit; candidate 2 covers {0} with 10 places.
    a = coverage_matrix(np.array([0, 0, 1, 1, 2]), np.array([0, 1, 1, 2, 0]), 3, 3)
    w = np.array([10.0, 10.0, 1.0])
    cap = np.array([5.0, np.inf, 10.0])
    assert served_within_capacity(a[:, :1], w, cap[:1]) == pytest.approx(5.0)
    sol = solve_mclp(a, w, 1, capacity=cap, fixed=1)
    # Candidate 1 gives 10 + 1 and the existing site still fills its 5 places from demand 0: 16;
    # candidate 2 would give 10 + the existing 5 from demand 1: 15.
    assert sol.chosen == [0] and sol.objective == pytest.approx(16.0) and sol.status == "optimal"
    assert sol.served.tolist() == pytest.approx([11.0])


def test_capacity_fill_is_a_feasible_split():
    from geodata.planning.heuristics import capacity_fill

    # Pairs (demand, site): demand 0 (10 people) to sites 0 and 1, demand 1 (6) to site 1; site 2 closed.
    dem, site = np.array([0, 0, 1, 1]), np.array([0, 1, 1, 2])
    share = capacity_fill(dem, site, np.array([10.0, 6.0]), np.array([4.0, 8.0, 99.0]), np.array([True, True, False]))
    assert share.tolist() == pytest.approx([0.4, 0.6, 2 / 6, 0.0])  # site 1 gets 6 + 2 = its 8 places


def test_lscp_finds_the_fewest_sites_and_counts_unreachable_demand():
    sol, unreachable = solve_lscp(matrix(), WEIGHTS)
    assert sol.objective == 3 and unreachable == 0  # e.g. {1, 3, 4}; no two cover all six
    covered = set().union(*(COVERS[j] for j in sol.chosen))
    assert covered == set(range(6))
    a = coverage_matrix(np.array([0]), np.array([0]), 1, 2)
    sol, unreachable = solve_lscp(a, np.array([1.0, 1.0]))
    assert sol.chosen == [0] and unreachable == 1


def test_pmedian_known_optimum_on_a_line():
    # Demand at 0, 1, 10, 11 (km, weight 1); candidates at 0.5, 5, 10.5; no existing facility
    # (fallback = cap 100). p = 2: {0.5, 10.5}, total 4 × 0.5 = 2.
    dem_pos, cand_pos = np.array([0, 1, 10, 11.0]), np.array([0.5, 5, 10.5])
    cand, dem = np.meshgrid(np.arange(3), np.arange(4), indexing="ij")
    cand, dem = cand.ravel(), dem.ravel()
    d = np.abs(cand_pos[cand] - dem_pos[dem])
    sol = solve_pmedian(cand, dem, d, np.ones(4), np.full(4, 100.0), 3, 2)
    assert sorted(sol.chosen) == [0, 2] and sol.objective == pytest.approx(2.0) and sol.gap == 0.0
    # An existing facility at 11 (fallback distances) makes the far candidate useless: p = 1 → 0.5.
    fallback = np.abs(11 - dem_pos)
    sol = solve_pmedian(cand, dem, d, np.ones(4), fallback, 3, 1)
    assert sol.chosen == [0] and sol.objective == pytest.approx(0.5 + 0.5 + 1 + 0)


def _random_pmedian(seed: int, n_cand: int = 9, n_dem: int = 40):
    rng = np.random.default_rng(seed)
    cand_xy, dem_xy = rng.random((n_cand, 2)) * 1000, rng.random((n_dem, 2)) * 1000
    cand, dem = np.meshgrid(np.arange(n_cand), np.arange(n_dem), indexing="ij")
    cand, dem = cand.ravel(), dem.ravel()
    d = np.hypot(*(cand_xy[cand] - dem_xy[dem]).T)
    w = rng.integers(1, 30, n_dem).astype(float)
    fallback = rng.uniform(200, 900, n_dem)  # metres to an existing facility
    return cand, dem, d, w, fallback, n_cand


def _pmedian_cost(cand, dem, d, w, fallback, sites) -> float:
    best = fallback.copy()
    on = np.isin(cand, sites)
    np.minimum.at(best, dem[on], d[on])
    return float(w @ best)


@pytest.mark.parametrize("seed", range(5))
def test_pmedian_matches_brute_force_and_its_bound_is_below(seed):
    from geodata.planning.mclp import _Clock
    from geodata.planning.pmedian import Pairs, lagrangian

    cand, dem, d, w, fallback, n = _random_pmedian(seed)
    for p in (1, 2, 3, 4):
        best = min(_pmedian_cost(cand, dem, d, w, fallback, c) for c in itertools.combinations(range(n), p))
        sol = solve_pmedian(cand, dem, d, w, fallback, n, p)
        assert sol.objective == pytest.approx(best) and sol.status == "optimal" and len(set(sol.chosen)) == p
        assert _pmedian_cost(cand, dem, d, w, fallback, sol.chosen) == pytest.approx(sol.objective)
        assert sol.bound <= best + 1e-6 and sol.gap <= 1e-4
        assert sol.served.sum() <= w.sum()
        # The Lagrangian bound alone is a lower bound for any multipliers it visits.
        state = lagrangian(Pairs(cand, dem, d, w, fallback, n), p, best * 1.5, _Clock(5, None), 5)
        assert state["lower"] <= best + 1e-6


def test_capacitated_pmedian_respects_capacity():
    cand, dem, d, w, fallback, n = _random_pmedian(3)
    cap = np.full(n, 0.2 * w.sum())
    sol = solve_pmedian(cand, dem, d, w, fallback, n, 2, capacity=cap)
    assert len(sol.chosen) == 2 and sol.served.max() <= 0.2 * w.sum() + 1e-6
    free = solve_pmedian(cand, dem, d, w, fallback, n, 2)
    assert sol.objective >= free.objective - 1e-6


def test_pmedian_reports_progress_from_its_heuristics_and_stops_when_asked():
    cand, dem, d, w, fallback, n = _random_pmedian(11, n_cand=60, n_dem=400)
    seen = []

    def progress(elapsed, gap):
        seen.append((elapsed, gap))
        return True  # stop at the first report

    import geodata.planning.mclp as mclp

    clock = mclp._Clock(30, progress)
    clock._last = -1.0
    assert clock.tick(0.5) is True and clock.stopped and seen == [(pytest.approx(0, abs=1), 0.5)]
    sol = solve_pmedian(cand, dem, d, w, fallback, n, 5, time_limit=30, progress=lambda *_: True)
    assert len(sol.chosen) == 5 and sol.status == "interrupted" and sol.gap > 0


def test_teitz_bart_interchange_repairs_a_bad_start():
    from geodata.planning.mclp import _Clock
    from geodata.planning.pmedian import Pairs, interchange

    cand, dem, d, w, fallback, n = _random_pmedian(7, n_cand=12, n_dem=60)
    pr = Pairs(cand, dem, d, w, fallback, n)
    start = [0, 1, 2]
    worst = pr.total(start)
    swapped = interchange(pr, start, _Clock(10, None))
    assert len(set(swapped)) == 3 and pr.total(swapped) <= worst
    # A local optimum: no single swap of an open site for a closed one saves anything.
    for r in range(3):
        for j in set(range(n)) - set(swapped):
            trial = [j if s == swapped[r] else s for s in swapped]
            assert pr.total(trial) >= pr.total(swapped) - 1e-6


@pytest.mark.parametrize("call, message", [
    (lambda: solve_mclp(matrix(), WEIGHTS, 6), "larger than candidates"),
    (lambda: solve_mclp(matrix(), WEIGHTS, 0), "≥ 1"),
    (lambda: solve_mclp(matrix(), np.zeros(6), 2), "empty demand"),
    (lambda: solve_lscp(coverage_matrix(np.zeros(0, int), np.zeros(0, int), 2, 2), np.ones(2)), "nothing to cover"),
])
def test_bad_model_inputs_are_clear_errors(call, message):
    with pytest.raises(InvalidInput, match=message):
        call()


def _result(n_sites: int) -> dict:
    figures = {"people": 100, "served": 40, "unserved": 60, "coverage_pct": 40.0, "mean_m": 420.5, "p90_m": 900.0,
               "unreachable": 0, "radius_m": 300.0, "distance_mode": "network"}
    return {"distance_mode": "network",
            "figures": {"before": figures, "after": {**figures, "coverage_pct": 55.0}, "sites": n_sites},
            "solver": {"status": "optimal", "gap": 0.0, "objective": 15, "bound": 15, "seconds": 0.1},
            "sites": [{"source": "h3", "ref": str(n), "label": f"候选点{n}", "capacity": None, "served": 7.5,
                       "lon": 121.4 + n / 100, "lat": 31.3} for n in range(n_sites)]}


def test_scenarios_save_compare_export(demo_db, tmp_path):
    from geodata.planning.report import export_scenario
    from geodata.planning.scenarios import delete_scenario, fetch_scenario, fetch_scenarios, write_scenario

    with demo_db.connect() as conn:
        sid = write_scenario(conn, "养老 方案A", kind="elderly_day_care", model="mclp", params={"k": 2},
                             result=_result(2))
        write_scenario(conn, "现状", kind="elderly_day_care", model="coverage", params={}, result=_result(0))
        with pytest.raises(Conflict, match="already exists"):
            write_scenario(conn, "现状", kind="elderly_day_care", model="coverage", params={}, result=_result(0))
        with pytest.raises(InvalidInput, match="name"):
            write_scenario(conn, "  ", kind="elderly_day_care", model="coverage", params={}, result=_result(0))
        assert [r["name"] for r in fetch_scenarios(conn)] == ["现状", "养老 方案A"]
        row = fetch_scenario(conn, sid)
        assert len(row["sites"]) == 2 and row["figures"]["after"]["coverage_pct"] == 55.0
        gj = json.loads(export_scenario(conn, sid, "geojson"))
        assert len(gj["features"]) == 2 and gj["scenario"]["name"] == "养老 方案A"
        csv_text = export_scenario(conn, sid, "csv").decode("utf-8-sig")
        assert csv_text.splitlines()[0].startswith("seq,source,ref,label") and "候选点1" in csv_text
        pdf = export_scenario(conn, sid, "pdf")
        (tmp_path / "r.pdf").write_bytes(pdf)
        text = subprocess.run(["pdftotext", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True).stdout
        assert "养老 方案A" in text and "覆盖率" in text, "Chinese text must render in the PDF"
        info = subprocess.run(["pdfinfo", str(tmp_path / "r.pdf")], capture_output=True, text=True).stdout
        assert re.search(r"^Pages:\s+1$", info, re.M), info
        with pytest.raises(InvalidInput):
            export_scenario(conn, sid, "docx")
        delete_scenario(conn, sid)
        with pytest.raises(NotFound):
            fetch_scenario(conn, sid)


def test_background_job_reports_progress_and_failure(empty_db):
    from geodata.planning.scenarios import fetch_job, start_job, write_scenario

    def work(conn, report):
        report("solving", 0.5, 0.02)
        return write_scenario(conn, "job", kind="clinic", model="mclp", params={}, result=_result(1))

    def fail(conn, report):
        raise InvalidInput("k larger than candidates")

    jobs = [start_job(empty_db.connect, {"x": 1}, work), start_job(empty_db.connect, {"x": 2}, fail)]
    with empty_db.connect() as conn:
        for _ in range(100):
            rows = [fetch_job(conn, j) for j in jobs]
            conn.commit()
            if all(r["state"] in ("done", "failed") for r in rows):
                break
            time.sleep(0.1)
        assert rows[0]["state"] == "done" and rows[0]["scenario_id"] and rows[0]["progress"] == 1.0
        assert rows[1]["state"] == "failed" and "larger than candidates" in rows[1]["message"]
        with pytest.raises(NotFound):
            fetch_job(conn, 999999)


def test_cli_plan_commands(demo_db, tmp_path, capsys):
    from app.cli import main

    assert main(["plan", "coverage", "kindergarten", "--save", "幼儿园现状"]) == 0
    out = capsys.readouterr().out
    assert "within 300 m (walking network)" in out and "saved scenario" in out
    assert main(["plan", "solve", "kindergarten", "--model", "mclp", "--name", "x"]) == 2
    assert "needs the number of sites" in capsys.readouterr().err
    assert main(["plan", "solve", "kindergarten", "--model", "mclp", "--k", "2", "--candidates", "h3:8",
                 "--time-limit", "20", "--name", "幼儿园+2"]) == 0
    assert "2 new sites" in capsys.readouterr().out
    assert main(["plan", "solve", "kindergarten", "--model", "pmedian", "--k", "2", "--candidates", "h3:8",
                 "--time-limit", "20", "--name", "幼儿园 p-median"]) == 0
    out = capsys.readouterr().out
    assert "2 new sites" in out and re.search(r"solver (optimal|time_limit|bounded), gap \d", out), out
    assert re.search(r"greedy \+ interchange [\d,]+, final [\d,]+, lower bound [\d,]+", out), out
    assert main(["plan", "solve", "kindergarten", "--model", "mclp", "--k", "2", "--candidates", "h3:8",
                 "--existing-capacity", "--capacity", "50", "--time-limit", "20", "--name", "幼儿园 容量"]) == 0
    out = capsys.readouterr().out
    served = re.search(r"within radius and capacity: (\S+) people served before, (\S+) after", out)
    assert served, out
    before, after = (int(x.replace(",", "")) if x[0] != "<" else 0 for x in served.groups())
    assert after >= before
    assert main(["plan", "solve", "kindergarten", "--model", "pmedian", "--k", "2", "--existing-capacity",
                 "--name", "x"]) == 2
    assert "(mclp) only" in capsys.readouterr().err
    assert main(["plan", "scenarios"]) == 0
    listing = capsys.readouterr().out
    assert "幼儿园+2" in listing and "幼儿园现状" in listing
    assert main(["plan", "export", "999999", str(tmp_path / "x.pdf")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["plan", "coverage", "video_point"]) == 2
    assert "life-circle" in capsys.readouterr().err
