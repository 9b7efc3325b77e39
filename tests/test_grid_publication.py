"""A grid save republishes the community's population figures, and the privacy rule holds.

The check is an independent audit (its own interval propagation, no code shared with
geodata.population.bounds): the attacker holds every H3 cell figure, the community's grid
figures published BEFORE the save and those published after it, and knows where people live
(pieces = res-10 cell ∩ new grid ∩ old grid). Every suppressed figure must keep a feasible
range at least 1 wide. A naive republication (small figures hidden, nothing else) fails the
same audit, so the audit can fail.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import mapping

from geodata.grids import editor as E
from geodata.grids import store
from geodata.population import audit as lp_audit
from geodata.population.publish import rebuild_published

C = "310113106002"  # three grids in the demo
K = 10
INF = math.inf

ADDRESS_GRIDS = "SELECT id, grid_code FROM address WHERE community_code = %s"
GRID_FIGURES = "SELECT grid_code, tag, n FROM population_grid WHERE grid_code = ANY(%s)"
TRUTH = """
SELECT a.grid_code, '*', count(*) FROM resident r JOIN address a ON a.id = r.address_id
 WHERE a.community_code = %(c)s GROUP BY 1
UNION ALL
SELECT a.grid_code, t.tag_code, count(*) FROM resident_tag t JOIN resident r ON r.id = t.resident_id
  JOIN address a ON a.id = r.address_id WHERE a.community_code = %(c)s GROUP BY 1, 2"""


def audit(members: dict[tuple, list[int]], published: dict[tuple, int | None], below: list[tuple[int, int]],
          n_vars: int) -> dict[tuple, tuple[float, float]]:
    """Feasible range of every suppressed figure (Gauss–Seidel over figure = Σ members)."""
    lo, hi = [0.0] * n_vars, [INF] * n_vars
    flo = {f: (1.0 if n is None else float(n)) for f, n in published.items()}
    fhi = {f: (INF if n is None else float(n)) for f, n in published.items()}
    changed = True
    while changed:
        changed = False
        for f, vs in members.items():
            total_lo = sum(lo[v] for v in vs)
            finite = sum(hi[v] for v in vs if hi[v] < INF)
            n_inf = sum(1 for v in vs if hi[v] == INF)
            new = (max(flo[f], total_lo), min(fhi[f], finite if n_inf == 0 else INF))
            if new != (flo[f], fhi[f]):
                (flo[f], fhi[f]), changed = new, True
            for v in vs:
                others_hi = INF if n_inf - (hi[v] == INF) > 0 else finite - (hi[v] if hi[v] < INF else 0)
                if flo[f] - others_hi > lo[v]:
                    lo[v], changed = flo[f] - others_hi, True
                if fhi[f] - (total_lo - lo[v]) < hi[v]:
                    hi[v], changed = fhi[f] - (total_lo - lo[v]), True
        for t, a in below:  # a tag's people are among everyone of the same piece
            if hi[a] < hi[t]:
                hi[t], changed = hi[a], True
            if lo[t] > lo[a]:
                lo[a], changed = lo[t], True
    return {f: (flo[f], fhi[f]) for f, n in published.items() if n is None}


def knowledge(pieces: list[tuple], published: dict[tuple, int | None]):
    """Members of each figure over the pieces (tag, c10, c9, c8, c7, new grid, old grid)."""
    members: dict[tuple, list[int]] = {f: [] for f in published}
    index: dict[tuple, int] = {}
    for tag, c10, c9, c8, c7, new, old in pieces:
        keys = [(tag, 10, c10), (tag, 9, c9), (tag, 8, c8), (tag, 7, c7), (tag, "grid", new), (tag, "old", old)]
        keys = [k for k in keys if k in published or k[1] in (7, 8, 9, 10)]
        if any(published.get(k, 0) == 0 for k in keys if k[1] in (7, 8, 9, 10)):
            continue
        index[(tag, c10, new, old)] = len(index)
        for k in keys:
            members.setdefault(k, []).append(index[(tag, c10, new, old)])
    below = [(i, index[("*", c10, new, old)]) for (tag, c10, new, old), i in index.items() if tag != "*"]
    return members, below, len(index)


def differenced(pieces, published) -> set[tuple]:
    """Hidden grid figures (new or old) that are an exact linear combination of published grid
    figures (least squares over the (new grid, old grid) pairs with people, per tag) — the
    differencing that interval propagation cannot see (old total − the published part)."""
    out = set()
    for tag in {p[0] for p in pieces}:
        pairs = sorted({(p[5], p[6]) for p in pieces if p[0] == tag})
        figs = [f for f in published if f[0] == tag and f[1] in ("grid", "old")
                and any((f[2] == (new if f[1] == "grid" else old)) for new, old in pairs)]
        vec = {f: np.array([float(f[2] == (new if f[1] == "grid" else old)) for new, old in pairs]) for f in figs}
        shown = [vec[f] for f in figs if published[f] is not None]
        for f in figs:
            if published[f] is None:
                if not shown:
                    continue
                a = np.array(shown).T
                coef = np.linalg.lstsq(a, vec[f], rcond=None)[0]
                if np.abs(a @ coef - vec[f]).max() < 1e-6:
                    out.add(f)
    return out


def recoverable(pieces, published) -> dict:
    members, below, n = knowledge(pieces, published)
    found = {f: r for f, r in audit(members, published, below, n).items() if r[1] - r[0] < 1}
    return found | {f: "differenced" for f in differenced(pieces, published)}


def lp_recoverable(pieces, published, codes: list[str]) -> set[tuple]:
    """The exact attacker (an LP per figure, geodata.population.audit) on every figure at once —
    cells, grids now and before —, asked about the hidden figures of the community's grids (new
    and old) and of the H3 cells holding its people."""
    out = set()
    mine = {p[1:5] for p in pieces if p[5] in codes or p[6] in codes}
    near = {(lv, c) for c10, c9, c8, c7 in mine for lv, c in ((10, c10), (9, c9), (8, c8), (7, c7))}
    for tag in sorted({p[0] for p in pieces}):
        own = {f: n for f, n in published.items() if f[0] == tag}
        members: dict[tuple, list[int]] = {}
        index = 0
        for p in (p for p in pieces if p[0] == tag):
            keys = [(tag, 10, p[1]), (tag, 9, p[2]), (tag, 8, p[3]), (tag, 7, p[4]), (tag, "grid", p[5]),
                    (tag, "old", p[6])]
            for k in keys:
                if k in own:
                    members.setdefault(k, []).append(index)
            index += 1
        targets = [f for f, n in own.items() if n is None and ((f[1] in ("grid", "old") and f[2] in codes)
                                                                or (f[1], f[2]) in near)]
        out |= set(lp_audit.determined(members, index, own, targets))
    return out


def small_west_piece(conn, grid: str, people: int = 3) -> float:
    """Leave ``people`` residents at the westmost inhabited address of ``grid``; returns a longitude
    just east of it (a split there cuts off a grid of ``people`` residents)."""
    rows = conn.execute("""
        SELECT a.id, ST_X(a.geom) FROM address a WHERE a.grid_code = %s
           AND EXISTS (SELECT 1 FROM resident r WHERE r.address_id = a.id) ORDER BY 2 LIMIT 2""", (grid,)).fetchall()
    (first, x1), (_, x2) = rows
    conn.execute("DELETE FROM resident WHERE address_id = %s AND id NOT IN "
                 "(SELECT id FROM resident WHERE address_id = %s ORDER BY id LIMIT %s)", (first, first, people))
    conn.execute("DELETE FROM resident WHERE address_id IN (SELECT id FROM address WHERE grid_code = %s) "
                 "AND id IN (SELECT r.id FROM resident r JOIN address a ON a.id = r.address_id "
                 "WHERE a.grid_code = %s AND ST_X(a.geom) > %s AND ST_X(a.geom) < %s)", (grid, grid, x1, x2))
    return (x1 + x2) / 2


def save_split(conn, x: float) -> tuple[dict, dict, list[str]]:
    """Split the community's grids along longitude ``x``; returns (old figures, old grid per address, codes)."""
    draft = E.load_draft(conn, C)
    old_codes = sorted(draft.grids)
    before = {(g, t): n for g, t, n in conn.execute(GRID_FIGURES, (old_codes,))}
    old_grid = dict(conn.execute(ADDRESS_GRIDS, (C,)).fetchall())
    _, miny, _, maxy = store.fetch_community(conn, C)[1].bounds
    line = shapely.LineString([(x, miny - 0.01), (x, maxy + 0.01)])
    edited, _ = E.apply_edit(draft, {"op": "split", "line": mapping(line)})
    E.save_draft(conn, edited, author="张三", reason="拆分")
    return before, old_grid, sorted(edited.grids)


def world(conn, before: dict, old_grid: dict) -> tuple[list[tuple], dict]:
    """Pieces (tag, c10, c9, c8, c7, new grid, old grid) with people, and every figure the
    attacker holds: cells, grids now, and the community's grid figures from before the save."""
    rows = conn.execute("""
        SELECT DISTINCT p.tag, a.id, a.h3_r10, a.h3_r9, a.h3_r8, a.h3_r7, coalesce(a.grid_code, '') FROM (
          SELECT '*' AS tag, r.address_id FROM resident r
          UNION ALL SELECT t.tag_code, r.address_id FROM resident_tag t JOIN resident r ON r.id = t.resident_id) p
          JOIN address a ON a.id = p.address_id""").fetchall()
    pieces = sorted({(tag, c10, c9, c8, c7, grid, old_grid.get(a, grid) or "")
                     for tag, a, c10, c9, c8, c7, grid in rows})
    published = {(t, res, cell): n for res, t, cell, n in conn.execute("SELECT res, tag, cell, n FROM population_cell")}
    published |= {(t, "grid", g): n for g, t, n in conn.execute("SELECT grid_code, tag, n FROM population_grid")}
    published |= {(t, "old", g): n for (g, t), n in before.items()}
    return pieces, published


def prepare(conn) -> float:
    """A community whose westmost grid can be split into a 3-person grid; published afresh."""
    first = sorted(E.load_draft(conn, C).grids)[0]
    x = small_west_piece(conn, first)
    rebuild_published(conn)
    return x


def test_save_republishes_the_community_and_leaves_the_rest(demo_db):
    with demo_db.connect() as conn:
        x = prepare(conn)
        cells = conn.execute("SELECT res, tag, cell, n FROM population_cell ORDER BY 1, 2, 3").fetchall()
        elsewhere = "SELECT grid_code, tag, n FROM population_grid WHERE grid_code NOT LIKE %s ORDER BY 1, 2"
        other = conn.execute(elsewhere, (C + "%",)).fetchall()
        before, _, codes = save_split(conn, x)
        conn.commit()
        figures = {(g, t): n for g, t, n in conn.execute(GRID_FIGURES, (codes,))}
        truth = {(g, t): n for g, t, n in conn.execute(TRUTH, {"c": C})}
        assert set(figures) == set(truth)  # every inhabited new grid and tag, nothing else
        assert all(n == truth[f] and n >= K for f, n in figures.items() if n is not None)
        assert all(figures[f] is None for f, n in truth.items() if n < K)  # primary suppression
        assert any(n is not None for n in figures.values())
        assert conn.execute("SELECT count(*) FROM population_grid WHERE grid_code LIKE %s AND NOT "
                            "(grid_code = ANY(%s))", (C + "%", codes)).fetchone()[0] == 0
        # H3 figures and other communities' grid figures do not change with grid assignment
        assert conn.execute("SELECT res, tag, cell, n FROM population_cell ORDER BY 1, 2, 3").fetchall() == cells
        assert conn.execute(elsewhere, (C + "%",)).fetchall() == other


def test_small_new_grid_is_not_recoverable_from_the_figures_before_the_save(demo_db):
    with demo_db.connect() as conn:
        x = prepare(conn)
        before, old_grid, codes = save_split(conn, x)
        pieces, published = world(conn, before, old_grid)
        small = [f for f in published if f[1] == "grid" and f[0] == "*" and f[2] in codes and published[f] is None]
        assert small, "the split should leave a grid below k"
        assert not recoverable(pieces, published)
        assert not lp_recoverable(pieces, published, sorted(set(codes) | {g for g, _ in before}))
        # the same audit catches a naive republication (figures below k hidden, nothing else)
        naive = dict(published)
        truth = {(g, t): n for g, t, n in conn.execute(TRUTH, {"c": C})}
        naive |= {(t, "grid", g): (None if n < K else n) for (g, t), n in truth.items()}
        assert recoverable(pieces, naive)


def test_history_serves_no_population_figures(demo_db):
    with demo_db.connect() as conn:
        x = prepare(conn)
        save_split(conn, x)
        for v in store.fetch_versions(conn, C):
            for grid in store.fetch_version(conn, C, v["version"]).values():
                assert set(grid) == {"name", "supervisor", "households", "geom"}  # households only, no tags


def test_people_per_address_follow_resident_changes_between_saves(demo_db):
    with demo_db.connect() as conn:
        x = prepare(conn)
        save_split(conn, x)  # builds the per-address counts
        grid = sorted(E.load_draft(conn, C).grids)[-1]
        conn.execute("DELETE FROM resident WHERE id IN (SELECT r.id FROM resident r JOIN address a "
                     "ON a.id = r.address_id WHERE a.grid_code = %s ORDER BY r.id LIMIT 40)", (grid,))
        rebuild_published(conn)
        _, miny, _, maxy = store.fetch_community(conn, C)[1].bounds
        draft = E.load_draft(conn, C)
        east = max(g.bounds[2] for g in (draft.geom_lonlat(c) for c in draft.grids))
        line = shapely.LineString([(east - 0.0005, miny - 0.01), (east - 0.0005, maxy + 0.01)])
        edited, _ = E.apply_edit(draft, {"op": "split", "line": mapping(line)})
        E.save_draft(conn, edited, author="张三", reason="再拆分")
        codes = sorted(edited.grids)
        figures = {(g, t): n for g, t, n in conn.execute(GRID_FIGURES, (codes,))}
        truth = {(g, t): n for g, t, n in conn.execute(TRUTH, {"c": C})}
        assert set(figures) == set(truth)
        assert all(n == truth[f] for f, n in figures.items() if n is not None)
        assert any(n is not None for n in figures.values())


def test_republishing_after_a_resident_change_also_rebuilds_the_per_address_counts(demo_db):
    """So the first grid save after an import does not pay for it (seconds at district scale)."""
    stamp = "SELECT stamp = built_from FROM population_address_stamp"
    with demo_db.connect() as conn:
        conn.execute("DELETE FROM resident WHERE id IN (SELECT id FROM resident ORDER BY id LIMIT 5)")
        assert conn.execute(stamp).fetchone() == (False,)
        rebuild_published(conn)
        assert conn.execute(stamp).fetchone() == (True,)
        truth = dict(conn.execute("SELECT address_id, count(*) FROM resident GROUP BY 1").fetchall())
        cached = dict(conn.execute("SELECT address_id, n FROM population_address WHERE tag = '*'").fetchall())
        assert cached == truth


def test_import_without_replace_rederives_and_republishes(demo_db, tmp_path):
    """A grid added by ``onegrid import grids`` (no --replace) takes its addresses and people, and
    the community's figures are republished under the same rule as an edit."""
    import geopandas as gpd

    from geodata.grids import partition as P
    from geodata.io.importer import import_file

    with demo_db.connect() as conn:
        x = prepare(conn)
        draft = E.load_draft(conn, C)
        grids = draft.lonlat()
        first = sorted(grids)[0]
        minx, miny, _, maxy = grids[first]["geom"].bounds
        west = shapely.box(minx - 0.01, miny - 0.01, x, maxy + 0.01)
        piece = shapely.intersection(grids[first]["geom"], west)  # the 3-person piece becomes a gap
        grids[first]["geom"] = shapely.difference(grids[first]["geom"], west)
        store.write_grid_set(conn, C, grids, base_version=draft.base, author="t", reason="leave a gap")
        conn.commit()
        used, new = store.fetch_used_codes(conn, C), []
        for _ in shapely.get_parts(piece):  # one new grid per part of the gap
            new.append(P.next_code(C, used | set(new)))
        old_codes = sorted(store.fetch_grid_set(conn, C))
        before = {(g, t): n for g, t, n in conn.execute(GRID_FIGURES, (old_codes,))}
        old_grid = dict(conn.execute(ADDRESS_GRIDS, (C,)).fetchall())
        assert None in old_grid.values()  # the gap's addresses have no grid
    gpd.GeoDataFrame([{"code": c, "community_code": C} for c in new], geometry=list(shapely.get_parts(piece)),
                     crs=4326).to_file(tmp_path / "piece.geojson")
    assert import_file("grids", tmp_path / "piece.geojson").written == len(new)
    with demo_db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM address a WHERE a.community_code = %s AND a.grid_code IS DISTINCT "
                            "FROM (SELECT g.code FROM grid g WHERE ST_Covers(g.geom, a.geom) ORDER BY g.code LIMIT 1)",
                            (C,)).fetchone()[0] == 0
        figures = {(g, t): n for g, t, n in conn.execute(GRID_FIGURES, (old_codes + new,))}
        truth = {(g, t): n for g, t, n in conn.execute(TRUTH, {"c": C})}
        assert set(figures) == set(truth) and {g for g, _ in figures} & set(new)
        assert all(n == truth[f] and n >= K for f, n in figures.items() if n is not None)
        assert all(n is None for (g, _), n in figures.items() if g in new)  # 3 people
        hh = conn.execute("SELECT sum(households), (SELECT count(*) FROM household h JOIN address a "
                          "ON a.id = h.address_id WHERE a.grid_code = ANY(%s)) FROM grid WHERE code = ANY(%s)",
                          (new, new)).fetchone()
        assert hh[0] == hh[1] > 0
        pieces, published = world(conn, before, old_grid)
        assert not recoverable(pieces, published)
        assert store.fetch_versions(conn, C)[0]["kind"] == "import"


def test_region_is_every_address_of_the_cells_even_when_an_envelope_is_stale(demo_db):
    """The region is found through address_cell's envelopes; a stale (too small) envelope is
    caught by the exact counts and the region is scanned instead."""
    from geodata.grids import publication

    region = "SELECT id FROM address WHERE h3_r7 IN (SELECT h3_r7 FROM address WHERE community_code = %s) ORDER BY id"
    with demo_db.connect() as conn:
        rebuild_published(conn)
        truth = [r[0] for r in conn.execute(region, (C,))]
        assert len(truth) > conn.execute("SELECT count(*) FROM address WHERE community_code = %s", (C,)).fetchone()[0]
        for stale in (False, True):
            if stale:  # every res-7 envelope shrunk to a point: the indexed lookup finds nothing
                conn.execute("UPDATE address_cell SET geom = ST_Envelope(ST_PointOnSurface(geom)) WHERE res = 7")
            publication.capture_before(conn, C)
            publication._stage_region(conn, 7)
            assert [r[0] for r in conn.execute("SELECT id FROM og_region ORDER BY id")] == truth


def test_a_split_along_published_hexagons_suppresses_them_and_nothing_on_screen_is_pinned(demo_db):
    """Splitting 310113002002 at 54 % of its width draws new grids along published hexagons:
    no new figure alone can keep them from pinning a hidden one, so the save suppresses those
    hexagons too; the LP attacker holding what is on screen afterwards pins nothing."""
    community = "310113002002"
    with demo_db.connect() as conn:
        rebuild_published(conn)
        hidden_cells = "SELECT count(*) FROM population_cell WHERE n IS NULL"
        cells_before = conn.execute(hidden_cells).fetchone()[0]
        draft = E.load_draft(conn, community)
        old_codes = sorted(draft.grids)
        before = {(g, t): n for g, t, n in conn.execute(GRID_FIGURES, (old_codes,))}
        old_grid = dict(conn.execute(ADDRESS_GRIDS, (community,)).fetchall())
        minx, miny, maxx, maxy = store.fetch_community(conn, community)[1].bounds
        x = minx + (maxx - minx) * 0.5415
        line = shapely.LineString([(x, miny - 0.01), (x, maxy + 0.01)])
        edited, _ = E.apply_edit(draft, {"op": "split", "line": mapping(line)})
        E.save_draft(conn, edited, author="张三", reason="拆分")
        assert conn.execute(hidden_cells).fetchone()[0] > cells_before
        pieces, published = world(conn, before, old_grid)
        on_screen = {f: n for f, n in published.items() if f[1] != "old"}
        assert not lp_recoverable(pieces, on_screen, sorted(set(edited.grids) | set(old_codes)))
