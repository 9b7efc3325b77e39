"""Grid editing against PostGIS: save with re-derivation, versions, diff, rollback, code
stability, concurrent saves, impact preview, imports through validation, suggestions.

Uses the demo district (seed 42); one community with three grids is edited.
"""

from __future__ import annotations

import threading

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import mapping

from geodata.errors import Conflict, ImportRejected, InvalidInput
from geodata.grids import editor as E
from geodata.grids import impact, store
from geodata.grids.suggestions import suggest_draft
from geodata.io.importer import import_file

C = "310113106002"  # three grids in the demo

ADDRESS_GRIDS = "SELECT id, grid_code FROM address WHERE community_code = %s"
MISDERIVED = """
SELECT count(*) FROM {table} t
 WHERE t.community_code = %s {where}
   AND t.grid_code IS DISTINCT FROM (SELECT g.code FROM grid g WHERE ST_Covers(g.geom, t.geom) ORDER BY g.code LIMIT 1)"""


def households(conn, per_address: int = 1) -> None:
    """Give every address of the community ``per_address`` households (one resident each)."""
    conn.execute("INSERT INTO household (address_id, street_code, size) "
                 "SELECT a.id, a.street_code, 1 FROM address a, generate_series(1, %s) WHERE a.community_code = %s",
                 (per_address, C))
    conn.execute("INSERT INTO resident (household_id, address_id, street_code, birth_year) "
                 "SELECT h.id, h.address_id, h.street_code, 1980 FROM household h "
                 "JOIN address a ON a.id = h.address_id WHERE a.community_code = %s", (C,))


def split_first(draft: E.Draft) -> tuple[E.Draft, list[str]]:
    code = sorted(draft.grids)[0]
    g = draft.geom_lonlat(code)
    minx, miny, maxx, maxy = g.bounds
    x = g.centroid.x
    return E.apply_edit(draft, {"op": "split", "line": mapping(shapely.LineString([(x, miny - 0.01), (x, maxy + 0.01)]))})


def misderived(conn, table: str, where: str = "") -> int:
    return conn.execute(MISDERIVED.format(table=table, where=where), (C,)).fetchone()[0]  # fixed names


def open_case_in(conn, grid: str) -> int:
    """An open case at a point inside ``grid``; returns its id."""
    return conn.execute(
        "INSERT INTO cases (code, category_code, channel, state, street_code, community_code, grid_code, geom) "
        "SELECT 'T' || g.code, (SELECT code FROM case_category LIMIT 1), 'public', 'reported', g.street_code, "
        "g.community_code, g.code, ST_PointOnSurface(g.geom) FROM grid g WHERE g.code = %s RETURNING id",
        (grid,)).fetchone()[0]


def test_save_rederives_everything_in_one_version(demo_db):
    with demo_db.connect() as conn:
        households(conn)
        draft = E.load_draft(conn, C)
        assert draft.base == 0
        before_households = conn.execute("SELECT count(*) FROM household h JOIN address a ON a.id = h.address_id "
                                         "WHERE a.community_code = %s", (C,)).fetchone()[0]
        edited, created = split_first(draft)
        preview = impact.preview_impact(conn, edited)
        assert preview["moved"]["addresses"] > 0
        grid_before = dict(conn.execute(ADDRESS_GRIDS, (C,)).fetchall())
        version = E.save_draft(conn, edited, author="张三", reason="新建小区")
        conn.commit()
        assert version == 2
        assert [v["kind"] for v in store.fetch_versions(conn, C)] == ["edit", "initial"]
        for table in ("address", "facility"):
            assert misderived(conn, table) == 0, table
        moved = [a for a, g in conn.execute(ADDRESS_GRIDS, (C,)).fetchall() if grid_before[a] != g]
        assert len(moved) == preview["moved"]["addresses"]
        assert conn.execute("SELECT count(*) FROM household WHERE address_id = ANY(%s)",
                            (moved,)).fetchone()[0] == preview["moved"]["households"]
        assert conn.execute("SELECT count(*) FROM resident WHERE address_id = ANY(%s)",
                            (moved,)).fetchone()[0] == preview["moved"]["residents"]
        hh = dict(conn.execute("SELECT code, households FROM grid WHERE community_code = %s", (C,)).fetchall())
        assert sum(hh.values()) == before_households
        assert hh[created[0]] == conn.execute("SELECT count(*) FROM household h JOIN address a ON a.id = h.address_id "
                                              "WHERE a.grid_code = %s", (created[0],)).fetchone()[0]
        diff = {d["code"]: d["change"] for d in store.fetch_diff(conn, C, 1, 2)}
        assert diff[created[0]] == "added" and list(diff.values()).count("changed") == 1


def test_open_cases_follow_closed_cases_keep_their_grid(demo_db):
    with demo_db.connect() as conn:
        draft = E.load_draft(conn, C)
        first = sorted(draft.grids)[0]
        edited, created = split_first(draft)
        new_part = edited.geom_lonlat(created[0])
        point = new_part.representative_point()
        ids = []
        for state in ("reported", "closed"):
            ids.append(conn.execute(
                "INSERT INTO cases (code, category_code, channel, state, street_code, community_code, grid_code, "
                "geom, dispatched_at, closed_at) SELECT %s, (SELECT code FROM case_category LIMIT 1), 'public', %s, "
                "street_code, community_code, code, ST_SetSRID(ST_Point(%s, %s), 4326), "
                "CASE WHEN %s = 'closed' THEN now() END, CASE WHEN %s = 'closed' THEN now() END "
                "FROM grid WHERE code = %s RETURNING id",
                (f"T-{state}", state, point.x, point.y, state, state, first)).fetchone()[0])
        preview = impact.preview_impact(conn, edited)
        assert preview["moved"]["open_cases"] == 1
        E.save_draft(conn, edited, author="a", reason="r")
        grids = dict(conn.execute("SELECT state, grid_code FROM cases WHERE id = ANY(%s)", (ids,)).fetchall())
        assert grids == {"reported": created[0], "closed": first}


def test_second_editor_gets_a_conflict_and_nothing_half_written(demo_db):
    with demo_db.connect() as a, demo_db.connect() as b:
        da, db_ = E.load_draft(a, C), E.load_draft(b, C)
        a_edit, _ = split_first(da)
        b_edit, _ = E.apply_edit(db_, {"op": "merge", "keep": sorted(db_.grids)[0], "other": sorted(db_.grids)[1]})
        E.save_draft(a, a_edit, author="甲", reason="拆分")  # holds the community lock until commit
        result = {}

        def second():
            try:
                E.save_draft(b, b_edit, author="乙", reason="合并")
            except Conflict as exc:
                result["conflict"] = exc.message
                b.rollback()

        t = threading.Thread(target=second)
        t.start()
        t.join(0.5)
        assert t.is_alive(), "the second save must wait for the first"
        a.commit()
        t.join(10)
        assert "changed since you opened" in result["conflict"] and "甲" in result["conflict"]
        assert "added: " in result["conflict"]
    with demo_db.connect() as c:
        assert [v["author"] for v in store.fetch_versions(c, C)] == ["甲", "onegrid"]
        assert c.execute("SELECT count(*) FROM grid WHERE community_code = %s", (C,)).fetchone()[0] == 4


def test_rollback_restores_as_new_version_and_codes_stay_stable(demo_db):
    with demo_db.connect() as conn:
        draft = E.load_draft(conn, C)
        original = {c: g["geom"] for c, g in store.fetch_grid_set(conn, C).items()}
        edited, created = split_first(draft)
        E.save_draft(conn, edited, author="a", reason="split")
        merged, _ = E.apply_edit(E.load_draft(conn, C), {"op": "merge", "keep": sorted(original)[1],
                                                          "other": sorted(original)[2]})
        assert E.save_draft(conn, merged, author="a", reason="merge") == 3
        assert sorted(original)[2] not in store.fetch_grid_set(conn, C)  # retired
        assert E.rollback(conn, C, 1, base_version=3, author="b", reason="undo") == 4
        now = store.fetch_grid_set(conn, C)
        assert sorted(now) == sorted(original)
        assert all(shapely.equals(now[c]["geom"], original[c]) for c in original)
        assert store.fetch_versions(conn, C)[0]["based_on"] == 1
        assert misderived(conn, "address") == 0
        # The split's code was retired by the rollback and is never handed out again.
        again, more = split_first(E.load_draft(conn, C))
        assert more[0] > created[0]
        with pytest.raises(Conflict):
            E.rollback(conn, C, 2, base_version=3, author="b", reason="stale")


def test_save_refuses_problems_and_bad_metadata(demo_db):
    with demo_db.connect() as conn:
        draft = E.load_draft(conn, C)
        code = sorted(draft.grids)[0]
        shrunk = draft.grids[code].buffer(-50)
        gappy = E.Draft(**{**draft.__dict__, "grids": {**draft.grids, code: shrunk}})
        with pytest.raises(InvalidInput, match="gap"):
            E.save_draft(conn, gappy, author="a", reason="r")
        with pytest.raises(InvalidInput, match="author"):
            E.save_draft(conn, draft, author=" ", reason="r")
        assert store.fetch_versions(conn, C) == []


def test_draft_round_trips_through_the_browser_json(demo_db):
    with demo_db.connect() as conn:
        draft = E.load_draft(conn, C)
        back = E.draft_from_json(conn, E.draft_to_json(draft))
        assert back.lonlat().keys() == draft.lonlat().keys()
        assert all(shapely.equals_exact(back.geom_lonlat(c), draft.geom_lonlat(c), 0) for c in draft.grids)
        with pytest.raises(InvalidInput):
            E.draft_from_json(conn, {"community": C})


def test_grid_import_replace_is_validated_and_versioned(demo_db, tmp_path):
    with demo_db.connect() as conn:
        edited, created = split_first(E.load_draft(conn, C))
    rows = [{"code": c, "community_code": C} for c in sorted(edited.grids)]
    gdf = gpd.GeoDataFrame(rows, geometry=[edited.geom_lonlat(r["code"]) for r in rows], crs=4326)
    gdf.to_file(tmp_path / "ok.geojson")
    broken = gdf.copy()
    broken.loc[0, "geometry"] = broken.loc[0, "geometry"].buffer(-0.001)
    broken.to_file(tmp_path / "gap.geojson")
    with pytest.raises(ImportRejected, match="gap"):
        import_file("grids", tmp_path / "gap.geojson", replace=True)
    assert demo_db.count("grid_version") == 0
    report = import_file("grids", tmp_path / "ok.geojson", replace=True)
    assert report.written == 4
    with demo_db.connect() as conn:
        assert [v["kind"] for v in store.fetch_versions(conn, C)] == ["import", "initial"]
        assert created[0] in store.fetch_grid_set(conn, C)


def test_suggestion_is_a_valid_editable_draft(demo_db):
    with demo_db.connect() as conn:
        households(conn, per_address=12)
        draft = E.load_draft(conn, C)
        suggested, per_grid = suggest_draft(conn, draft)
        report = E.check_draft(conn, suggested)
        assert report.ok, [i.to_dict() for i in report.errors]
        assert max(per_grid) <= 500 and len(per_grid) >= 2
        assert set(draft.grids) & set(suggested.grids)  # current codes kept where grids overlap
        assert E.save_draft(conn, suggested, author="a", reason="suggested", kind="suggestion") == 2


def test_editor_callbacks_select_merge_undo_save_and_conflict(demo_db):
    from app.i18n import strings
    from callbacks.editor import change_draft, check
    from callbacks.editor_history import history, save

    t = strings("en")
    kw = {"community": C, "drawing": None, "click": None, "undo": [], "selected": [], "mode": None,
          "suggestion": None, "t": t}
    draft, *_ = change_draft("community", **{**kw, "draft": None})
    codes = sorted(f["properties"]["code"] for f in draft["grids"]["features"])
    _, _, selected, text, _, _ = change_draft("select", **{**kw, "draft": draft,
                                                          "click": {"properties": {"code": codes[0]}}})
    _, _, selected, _, _, _ = change_draft("select", **{**kw, "draft": draft, "selected": selected,
                                                       "click": {"properties": {"code": codes[1]}}})
    assert selected == codes[:2] and codes[0] in text
    merged, undo, _, text, _, layer = change_draft("merge", **{**kw, "draft": draft, "selected": selected})
    assert len(merged["grids"]["features"]) == 2 and undo == [draft] and text.startswith("merge") and layer
    grids, problems, items, info, clip = check(merged, t)
    assert len(grids["features"]) == 2 and "2 grids" in info and clip == {"display": "none"}
    back, undo2, *_ = change_draft("undo", **{**kw, "draft": merged, "undo": undo})
    assert back == draft and undo2 == []
    # Not neighbours / bad draft: a message, the draft unchanged.
    _, _, _, text, _, _ = change_draft("merge", **{**kw, "draft": {"community": C}, "selected": codes[:2]})
    assert text.startswith("Error: ")
    reloaded, text = save("save", merged, "ed", "merge two", "", None, t)
    assert text == "Saved as version 2" and reloaded["base"] == 2
    _, text = save("save", merged, "ed", "again", "", None, t)  # stale base: conflict, nothing written
    assert "changed since you opened version 0" in text
    table, options, _ = history(reloaded, t)
    assert [o["value"] for o in options] == [2, 1]
    _, text = save("save", reloaded, "ed", "later", "2999-01-01 00:00", None, t)
    assert "future" in text


def test_suggestion_runs_in_the_background_with_progress(demo_db):
    import time

    from geodata.db import pooled
    from geodata.grids.suggestions import fetch_suggestion, start_suggestion

    with demo_db.connect() as conn:
        households(conn, per_address=12)
    job = start_suggestion(C)
    deadline = time.time() + 60
    while True:
        with pooled() as conn:
            state = fetch_suggestion(conn, job)
        if state["status"] != "running" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert state["status"] == "done" and state["progress"] == 1
    assert len(state["result"]["grids"]["features"]) >= 2 and state["result"]["community"] == C
