"""Density layer and grid drill-down: published figures only, no resident location or id in any
response at any zoom, classes and legend, counts vs per-km² density."""

from __future__ import annotations

import json

import h3
import pytest
from dash import no_update

from app.i18n import strings
from callbacks.density import load_density, show_grid
from geodata.db import pooled
from geodata.errors import InvalidInput
from geodata.population import fetch_counts_by_cell, fetch_grid_table
from layers.density import nice_breaks, resolution_for_zoom

T = strings("zh")


def _bounds(conn, zoom):
    """Leaflet bounds around the most populous address, smaller at higher zoom."""
    lon, lat = conn.execute("""SELECT ST_X(a.geom), ST_Y(a.geom) FROM address a
                                WHERE a.id = (SELECT address_id FROM resident GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1)"""
                            ).fetchone()
    half = 0.2 / 2 ** (zoom - 10)
    return [[lat - half, lon - half * 1.5], [lat + half, lon + half * 1.5]]


def test_zoom_to_resolution_and_breaks():
    assert [resolution_for_zoom(z) for z in (9, 11, 12, 13, 14, 15, 16, 18)] == [7, 7, 8, 8, 9, 9, 10, 10]
    b = nice_breaks([10, 12, 40, 300, 900])
    assert b == sorted(b) and b[-1] == 900 and len(b) <= 5
    assert nice_breaks([]) == [] and nice_breaks([15, 15]) == [15]


@pytest.mark.parametrize("zoom", [10, 12, 13, 15, 17])
def test_layer_sends_published_figures_only(demo_db, zoom):
    with pooled() as conn:
        bounds = _bounds(conn, zoom)
        points = conn.execute("""SELECT DISTINCT round(ST_X(a.geom)::numeric, 5), round(ST_Y(a.geom)::numeric, 5)
                                   FROM address a JOIN resident r ON r.address_id = a.id""").fetchall()
        ids = {r[0] for r in conn.execute("SELECT id FROM resident ORDER BY random() LIMIT 200")}
    for tag in ("*", "elderly_alone", "drug_rehab"):
        cells, legend, cls, toast = load_density(bounds, ["density"], tag, "count", zoom, T, "zh")
        feats = cells["features"]
        assert (feats or tag != "*") and "og-hidden" not in cls
        res = resolution_for_zoom(zoom)
        with pooled() as conn:
            published = {int(c): n for c, n in conn.execute(
                "SELECT cell, n FROM population_cell WHERE res = %s AND tag = %s", (res, tag))}
        for f in feats:
            assert set(f["properties"]) == {"cell", "v", "c"}
            assert f["geometry"]["type"] == "Polygon"
            cell = h3.str_to_int(f["properties"]["cell"])
            assert h3.api.basic_int.get_resolution(cell) == res
            assert published[cell] == f["properties"]["v"]  # None when suppressed
            assert (f["properties"]["c"] == -1) == (f["properties"]["v"] is None)
        text = json.dumps(cells)
        # no resident's address point, at 5 decimals, appears anywhere in the response
        assert not any(f"{x}, {y}" in text or f"[{x},{y}]" in text for x, y in points[:2000])
        assert "resident" not in text and "address" not in text
        assert not any(f'"id": {i}' in text for i in ids)
        assert T["density_suppressed"] in str(legend)


def test_per_km2_is_derived_from_published_counts(demo_db):
    with pooled() as conn:
        counts = fetch_counts_by_cell(conn, 9)
    shown = counts[~counts["suppressed"]]
    assert (abs(shown["per_km2"] - shown["n"] / shown["area_km2"]) < 1e-6).all()
    assert counts.loc[counts["suppressed"], "per_km2"].isna().all()
    with pooled() as conn:
        bounds = _bounds(conn, 13)
    cells, *_ = load_density(bounds, ["density"], "*", "per_km2", 13, T, "zh")
    values = [f["properties"]["v"] for f in cells["features"] if f["properties"]["v"] is not None]
    assert values and all(isinstance(v, float) for v in values)


def test_layer_off_sends_nothing_and_bad_tag_is_refused(demo_db):
    with pooled() as conn:
        bounds = _bounds(conn, 12)
    cells, legend, cls, _ = load_density(bounds, ["grids"], "*", "count", 12, T, "zh")
    assert cells["features"] == [] and "og-hidden" in cls
    *_, toast = load_density(bounds, ["density"], "no_such_tag", "count", 12, T, "zh")
    assert "no_such_tag" in str(toast)
    with pooled() as conn, pytest.raises(InvalidInput):
        fetch_counts_by_cell(conn, 11)


def test_grid_drill_down_uses_the_same_suppression(demo_db):
    with pooled() as conn:
        code = conn.execute("SELECT grid_code FROM population_grid WHERE tag = 'drug_rehab' LIMIT 1").fetchone()[0]
        rows = fetch_grid_table(conn, code)
        stored = dict(conn.execute("SELECT tag, n FROM population_grid WHERE grid_code = %s", (code,)).fetchall())
    assert rows[0]["code"] == "*"
    for r in rows:
        if r["code"] in stored:
            assert r["n"] == stored[r["code"]] and r["suppressed"] == (stored[r["code"]] is None)
        else:
            assert r["n"] == 0 and not r["suppressed"]
    assert any(r["suppressed"] for r in rows)
    with pooled() as conn:
        lon, lat = conn.execute("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p FROM grid "
                                "WHERE code = %s) x", (code,)).fetchone()
    click = {"latlng": {"lat": lat, "lng": lon}}
    text = str(show_grid(click, ["density"], T, "zh"))
    assert code in text and T["density_suppressed_short"] in text and "残疾人" in text
    assert show_grid(click, ["grids"], T, "zh") is no_update
    assert T["density_no_grid"] in str(show_grid({"latlng": {"lat": 0.5, "lng": 100.0}}, ["density"], T, "zh"))


def test_cached_layer_follows_every_change_of_the_publication(demo_db):
    """The layer's per-process cache is keyed by the publication stamp (migration 0014): a
    rebuild, a direct write or a rolled-back write never leaves stale or foreign figures."""
    from geodata.population.publish import rebuild_published
    from geodata.population.read import fetch_publication_stamp, fetch_published_layer

    def shown(conn):
        return {int(c): (None if h else int(n)) for c, n, h in zip(
            *(getattr(fetch_published_layer(conn, 9, "*"), a).tolist() for a in ("cell", "n", "suppressed")),
            strict=True)}

    def stored(conn):
        return dict(conn.execute("SELECT cell, n FROM population_cell WHERE res = 9 AND tag = '*'").fetchall())

    with demo_db.connect() as conn:
        first = fetch_published_layer(conn, 9, "*")
        assert fetch_published_layer(conn, 9, "*") is first  # unchanged publication: reused
        stamp = fetch_publication_stamp(conn)
        cell = conn.execute("SELECT cell FROM population_cell WHERE res = 9 AND tag = '*' AND n > 50 "
                            "ORDER BY n DESC LIMIT 1").fetchone()[0]
        conn.execute("UPDATE population_cell SET n = n + 1000 WHERE res = 9 AND tag = '*' AND cell = %s", (cell,))
        assert fetch_publication_stamp(conn) != stamp and shown(conn) == stored(conn)  # own write seen
        conn.rollback()
        assert fetch_publication_stamp(conn) == stamp and shown(conn) == stored(conn)  # and undone
        # The real path: residents move out of the busiest address and the counts are republished.
        address = conn.execute("SELECT address_id FROM resident GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
        conn.execute("DELETE FROM resident WHERE address_id = %s", (address,))
        rebuild_published(conn)
        conn.commit()
    with pooled() as conn:  # another connection, same process
        assert fetch_publication_stamp(conn) != stamp
        assert shown(conn) == stored(conn) != {int(c): (None if h else int(n)) for c, n, h in zip(
            first.cell.tolist(), first.n.tolist(), first.suppressed.tolist(), strict=True)}
        bounds = _bounds(conn, 15)
        cells, *_ = load_density(bounds, ["density"], "*", "count", 15, T, "zh")
        published = stored(conn)
    assert cells["features"] and all(published[h3.str_to_int(f["properties"]["cell"])] == f["properties"]["v"]
                                     for f in cells["features"])


def test_warmer_reads_every_layer_at_start_and_again_after_a_committed_publication(demo_db):
    """The dashboard's background warmer (migration 0017's NOTIFY): every (resolution, tag) layer
    is cached before any request, and a committed change of the published counts is read again
    without a request; an uncommitted one is not (NOTIFY comes at commit)."""
    import threading
    import time

    from geodata.population.read import _LAYERS, fetch_publication_stamp, fetch_tags
    from geodata.population.watch import start_watcher
    from layers.density import _ring, warm_density

    runs = []
    done = threading.Event()

    def warm(conn):
        runs.append(warm_density(conn))
        done.set()

    def stamps() -> set[str]:
        return {layer.stamp for layer in _LAYERS.values()}

    _LAYERS.clear()
    _ring.cache_clear()
    stop = start_watcher(warm, demo_db.dsn)
    try:
        assert done.wait(30)  # at start
        with demo_db.connect() as conn:
            stamp, tags = fetch_publication_stamp(conn), fetch_tags(conn)
            assert {(r, t) for r, t in _LAYERS} == {(r, t) for r in (7, 8, 9, 10) for t in ["*", *(x["code"] for x in tags)]}
            assert stamps() == {stamp} and runs[0] > 0 and _ring.cache_info().currsize == runs[0]
            done.clear()
            conn.execute("UPDATE population_cell SET n = n + 1 WHERE res = 10 AND tag = '*' AND n > 50")
            time.sleep(1)
            assert not done.is_set() and stamps() == {stamp}  # not committed: nothing heard
            conn.commit()
            new = fetch_publication_stamp(conn)
        assert done.wait(30) and new != stamp
        assert stamps() == {new} and len(runs) == 2  # every layer read again, once, without a request
    finally:
        stop.set()
