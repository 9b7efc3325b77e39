"""Risk surface: score composition on hand-made cases and warnings (decay, kernel, levels,
window, "as of" playback), incremental rebuild, cell detail, naive reference agreement."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import h3
import pytest

from geodata import cases as gc
from geodata import warnings as gw
from geodata.errors import InvalidInput
from geodata.warnings import risk as gr


@pytest.fixture
def place(demo_db):
    """An address point, its res-8 cell, a gas and a smoke sensor there, and the DB's now."""
    with demo_db.connect() as conn:
        lon, lat = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address WHERE community_code IS NOT NULL "
                                "ORDER BY id LIMIT 1").fetchone()
        gw.write_sensors(conn, [{"code": "G1", "kind": "gas", "lon": lon, "lat": lat},
                                {"code": "S1", "kind": "smoke", "lon": lon, "lat": lat}])
        now = conn.execute("SELECT date_trunc('second', now())").fetchone()[0]
        ids = dict(conn.execute("SELECT code, id FROM sensor").fetchall())
        conn.commit()
    return {"lon": lon, "lat": lat, "cell": h3.api.basic_int.latlng_to_cell(lat, lon, 8), "now": now, **ids}


def _case(conn, p, at):
    return gc.create_case(conn, category_code="garbage", channel="public", lon=p["lon"], lat=p["lat"], actor="t",
                          reported_at=at)


def test_score_composition_on_hand_made_data(demo_db, place):
    at = place["now"]
    with demo_db.connect() as conn:
        w = gr.fetch_risk_weights(conn)
        assert w["half_life_7d"] == 48 and w["warning_red"] == 16 and w["neighbour_share"] == 0.5
        _case(conn, place, at - timedelta(seconds=1))          # weight ~1
        _case(conn, place, at - timedelta(hours=48))           # one half-life: 0.5
        _case(conn, place, at - timedelta(days=8))             # outside the 7 d window
        gw.write_readings(conn, [place["G1"], place["S1"]], [at - timedelta(hours=2)] * 2, [30.0, 2.5])  # red, blue
        assert gr.refresh_case_cells(conn) == 3
        surface = gr.fetch_risk_surface(conn, "7d", at=at)
        r = surface[place["cell"]]
        decay = 1 * math.exp(-math.log(2) / 48 / 3600) + 0.5
        assert r.cases == pytest.approx(decay, rel=1e-4)
        assert r.warnings == {"red": 16.0, "blue": 2.0} and r.n_warnings == {"red": 1, "blue": 1}
        assert r.score == pytest.approx(decay + 18, rel=1e-4)
        assert [f for f, _ in r.factors()][:2] == ["warning_red", "warning_blue"]
        for n in h3.api.basic_int.grid_ring(place["cell"], 1):  # the kernel's neighbour share
            assert surface[n].nearby == pytest.approx(0.5 * decay, rel=1e-4) and surface[n].cases == 0
        assert len(surface) == 7
        # The naive reference agrees cell by cell.
        naive = gr.compute_risk_surface_naive(conn, "7d", at=at)
        assert naive.keys() == surface.keys()
        assert all(naive[c] == pytest.approx(surface[c].score, rel=1e-6) for c in naive)
        # 24 h window: half-life 6 h, the 48 h-old case is out.
        r24 = gr.fetch_risk_surface(conn, "24h", at=at)[place["cell"]]
        assert r24.cases == pytest.approx(math.exp(-math.log(2) / 6 / 3600), rel=1e-4)
        # As of 3 h ago (playback): the warnings were not open yet.
        past = gr.fetch_risk_surface(conn, "7d", at=at - timedelta(hours=3))[place["cell"]]
        assert past.warnings == {} and past.cases == pytest.approx(2 ** (-45 / 48), rel=1e-3)  # the 48 h-old case, 45 h old then
        # A dismissed warning no longer counts now, but still does as of before its dismissal.
        red = [x for x in gw.fetch_warnings(conn) if x.level == "red"][0]
        gw.act_on_warning(conn, red.id, "dismiss", actor="t", reason="误报", at=at + timedelta(minutes=1))
        later = gr.fetch_risk_surface(conn, "7d", at=at + timedelta(minutes=2))[place["cell"]]
        assert "red" not in later.warnings
        assert gr.fetch_risk_surface(conn, "7d", at=at)[place["cell"]].warnings["red"] == 16


def test_escalated_warning_counts_at_its_level_of_the_time(demo_db, place):
    at = place["now"]
    with demo_db.connect() as conn:
        gw.write_readings(conn, [place["G1"]], [at - timedelta(hours=3)], [6.0])   # blue
        gw.write_readings(conn, [place["G1"]], [at - timedelta(hours=1)], [26.0])  # → red
        assert gr.fetch_risk_surface(conn, "24h", at=at - timedelta(hours=2))[place["cell"]].warnings == {"blue": 2.0}
        assert gr.fetch_risk_surface(conn, "24h", at=at)[place["cell"]].warnings == {"red": 16.0}


def test_rebuild_is_incremental_and_weights_are_data(demo_db, place):
    at = place["now"]
    with demo_db.connect() as conn:
        _case(conn, place, at - timedelta(hours=1))
        assert gr.refresh_case_cells(conn) == 1
        assert gr.refresh_case_cells(conn) == 0  # nothing new: nothing read
        _case(conn, place, at - timedelta(minutes=5))
        assert gr.refresh_case_cells(conn) == 1
        conn.execute("UPDATE risk_weight SET value = 3 WHERE factor = 'cases'")
        r = gr.fetch_risk_surface(conn, "30d", at=at)[place["cell"]]
        assert r.cases == pytest.approx(3 * (2 ** (-1 / 168) + 2 ** (-5 / 60 / 168)), rel=1e-4)


def test_cell_detail_parent_aggregate_and_bad_input(demo_db, place):
    at = place["now"]
    with demo_db.connect() as conn:
        case = _case(conn, place, at - timedelta(hours=1))
        gw.write_readings(conn, [place["S1"]], [at - timedelta(minutes=30)], [13.0])
        gr.refresh_case_cells(conn)
        d = gr.fetch_cell_detail(conn, place["cell"], "7d", at=at)
        assert [c["id"] for c in d["cases"]] == [case.id]
        assert [w["level"] for w in d["warnings"]] == ["red"]
        assert d["risk"].score > 16
        parent = h3.api.basic_int.cell_to_parent(place["cell"], 7)
        p = gr.fetch_cell_detail(conn, parent, "7d", at=at)
        assert p["res"] == 7 and [c["id"] for c in p["cases"]] == [case.id]
        assert p["risk"].warnings == {"red": 16.0}
        with pytest.raises(InvalidInput, match="resolution"):
            gr.fetch_cell_detail(conn, h3.api.basic_int.cell_to_parent(place["cell"], 5), "7d")
        with pytest.raises(InvalidInput, match="H3"):
            gr.fetch_cell_detail(conn, 12345, "7d")
        with pytest.raises(InvalidInput, match="window"):
            gr.fetch_risk_surface(conn, "1y")
        times = gr.playback_times("24h", 5, at)
        assert times[-1] == at and times[0] == at - timedelta(hours=24)
        with pytest.raises(InvalidInput, match="frames"):
            gr.playback_times("24h", 1, at)


def test_vulnerability_uses_only_published_key_population_counts(demo_db, place):
    """Published per-tag counts of the vulnerable tags add up; a suppressed count (NULL) adds
    nothing, and 'all residents' or other tags do not count."""
    cell = place["cell"]
    with demo_db.connect() as conn:
        conn.execute("DELETE FROM population_cell")
        conn.execute("INSERT INTO population_cell (res, tag, cell, n) VALUES (8, 'elderly_alone', %(c)s, 40), "
                     "(8, 'disabled', %(c)s, 12), (8, 'minor', %(c)s, NULL), (8, '*', %(c)s, 900), "
                     "(8, 'floating', %(c)s, 300), (7, 'elderly_alone', %(p)s, 55)",
                     {"c": cell, "p": h3.api.basic_int.cell_to_parent(cell, 7)})
        publish = ("INSERT INTO population_publication (built_at, min_cell, residents, suppressed, rounds) "
                   "VALUES (clock_timestamp(), 10, 1000, 1, 1) ON CONFLICT (one) DO UPDATE SET built_at = clock_timestamp()")
        conn.execute(publish)
        assert gr.rebuild_risk_surface(conn) == {"cases": 0, "vulnerable_cells": 1}
        r = gr.fetch_risk_surface(conn, "7d", at=place["now"])[cell]
        assert r.people == 52 and r.vulnerability == pytest.approx(0.02 * 52)
        assert r.factors() == [("vulnerability", pytest.approx(1.04))]
        conn.execute("UPDATE population_cell SET n = NULL WHERE tag = 'elderly_alone'")
        # Not yet published: the snapshot stays; once published, it follows.
        assert gr.rebuild_risk_surface(conn)["vulnerable_cells"] == -1
        assert gr.fetch_risk_surface(conn, "7d", at=place["now"])[cell].people == 52
        conn.execute(publish)
        gr.rebuild_risk_surface(conn)
        assert gr.fetch_risk_surface(conn, "7d", at=place["now"])[cell].people == 12


def _ids(children) -> list:
    """Every component id in a panel's children (a component or a list of them)."""
    from dash import html

    root = html.Div(children)
    return [c.id for c in [root, *root._traverse()] if getattr(c, "id", None) is not None]


def test_a_case_linked_from_the_warning_and_the_risk_cell_has_distinct_ids(demo_db, place):
    """A warning turned into a case: its detail links the case, and so does the detail of the
    risk cell the case lies in. Both panels are on the page at once, so their ids must differ."""
    from app.i18n import strings
    from layers.case_drawer import build_drawer
    from layers.risk import build_risk_detail
    from layers.warnings import build_warning_detail

    t = strings("zh")
    with demo_db.connect() as conn:
        (wid,) = gw.write_readings(conn, [place["S1"]], [place["now"] - timedelta(minutes=30)], [13.0]).opened
        case_id = gw.act_on_warning(conn, wid, "convert", actor="值班员").case_id
        gr.refresh_case_cells(conn)
        warning_panel, _, _ = build_warning_detail(conn, wid, t, "zh")
        risk_panel = build_risk_detail(conn, place["cell"], "7d", None, t, "zh")
        drawer, _, _ = build_drawer(conn, case_id, t, "zh")
        conn.rollback()
    panels = {"warning": _ids(warning_panel), "risk": _ids(risk_panel), "drawer": _ids(drawer)}
    links = {name: [i for i in ids if isinstance(i, dict) and i.get("type") == "og-case-link" and i["case"] == case_id]
             for name, ids in panels.items()}
    assert links["warning"] and links["risk"], links  # the same case is linked from both panels …
    every = [json.dumps(i, sort_keys=True) if isinstance(i, dict) else i for ids in panels.values() for i in ids]
    duplicates = {i for i in every if every.count(i) > 1}
    assert not duplicates, duplicates  # … and no id is on the page twice
    from callbacks.case_drawer import case_id_from

    assert {case_id_from("link", i) for i in links["warning"] + links["risk"]} == {case_id}


def test_risk_layer_response_is_plain_json_with_both_legends(demo_db, place):
    """The risk callback's whole response is plain JSON (no Dash component): one component in it
    sends the heat and cell payload through Dash's slow Python serialiser. The legend still holds
    the heat ramp and the five classes."""
    from app.i18n import strings
    from geodata.maps import fetch_extent
    from layers.risk import build_risk
    from layers.view import View

    t = strings("zh")
    with demo_db.connect() as conn:
        _case(conn, place, place["now"] - timedelta(hours=2))
        out = build_risk(conn, View(fetch_extent(conn).bbox, 13), "7d", None, t, True, True)
        conn.rollback()
    text = json.dumps(out, ensure_ascii=False)  # TypeError on any component object
    assert out["cells"]["features"] and out["heat"]["features"][0]["properties"]["heat"]
    assert [b["props"]["className"] for b in out["legend"]] == ["og-legend-block og-risk-legend-heat",
                                                                "og-legend-block og-risk-legend-cells"]
    assert t["legend_risk_heat"] in text and t["legend_risk"] in text and text.count("og-swatch og-risk-c") == 5


def test_fine_heat_refines_the_res8_surface_and_follows_the_zoom(demo_db, place):
    """The res-10 terms behind the heatmap at zoom ≥ 16: a case counts in its own res-10 cell and
    half of it in the six around; a warning its level's points at its sensor's cell; the same
    total as the res-8 surface; vulnerability from the published res-10 counts only."""
    from app.i18n import strings
    from geodata.geometry import BBox
    from geodata.population import fetch_counts_by_cell
    from geodata.warnings.risk_fine import fetch_fine_scores
    from layers.risk import build_risk
    from layers.view import View

    at, lon, lat = place["now"], place["lon"], place["lat"]
    box = BBox(lon - 0.02, lat - 0.02, lon + 0.02, lat + 0.02)
    with demo_db.connect() as conn:
        conn.execute("UPDATE risk_weight SET value = 0 WHERE factor = 'vulnerability'")
        _case(conn, place, at - timedelta(seconds=1))
        _case(conn, place, at - timedelta(hours=48))
        _case(conn, place, at - timedelta(days=8))  # outside the window
        gw.write_readings(conn, [place["G1"], place["S1"]], [at - timedelta(hours=2)] * 2, [30.0, 2.5])  # red, blue
        gr.refresh_case_cells(conn)
        fine = fetch_fine_scores(conn, "7d", at, box)
        own = h3.api.basic_int.latlng_to_cell(lat, lon, 10)
        decay = math.exp(-math.log(2) / 48 / 3600) + 0.5
        assert fine[own] == pytest.approx(decay + 18, rel=1e-4) and len(fine) == 7
        assert all(fine[n] == pytest.approx(0.5 * decay, rel=1e-4) for n in h3.api.basic_int.grid_ring(own, 1))
        coarse = gr.fetch_risk_surface(conn, "7d", at=at, bbox=box)
        assert sum(fine.values()) == pytest.approx(sum(r.score for r in coarse.values()), rel=1e-6)
        past = fetch_fine_scores(conn, "7d", at - timedelta(hours=3), box)  # playback: warnings not open yet
        assert past[own] == pytest.approx(2 ** (-45 / 48), rel=1e-3)
        conn.execute("UPDATE risk_weight SET value = 0.02 WHERE factor = 'vulnerability'")
        people: dict[int, int] = {}
        for tag in gr.VULNERABLE_TAGS:
            f = fetch_counts_by_cell(conn, 10, tag, box)
            f = f[~f["suppressed"]]  # a suppressed count adds nothing
            for c, n in zip(f["cell"].tolist(), f["n"].tolist(), strict=True):
                people[c] = people.get(c, 0) + int(n)
        with_people = fetch_fine_scores(conn, "7d", at, box)
        assert people and all(with_people[c] - fine.get(c, 0) == pytest.approx(0.02 * n) for c, n in people.items())
        t = strings("zh")
        for zoom, res, metres in ((15, 8, 700), (16, 10, 100), (17, 10, 100)):
            props = build_risk(conn, View(box, zoom), "7d", None, t, True, False)["heat"]["features"][0]["properties"]
            assert (props["res"], props["radius"]) == (res, metres) and props["heat"], zoom
        conn.rollback()
