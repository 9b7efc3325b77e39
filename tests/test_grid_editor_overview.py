"""The editor with no community chosen draws the district's communities; a click chooses one."""

from __future__ import annotations

import pytest
from dash import no_update

from app import ids
from callbacks.editor import community_from_click
from layers.editor import EMPTY, build_community_outlines, outline_bounds


def _find(node, id_):
    if getattr(node, "id", None) == id_:
        return node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list | tuple) else [children] if children is not None else []:
        found = _find(child, id_)
        if found is not None:
            return found
    return None


def test_outlines_cover_every_community_and_bound_the_map(demo_db):
    with demo_db.connect() as conn:
        outlines = build_community_outlines(conn)
        codes = [r[0] for r in conn.execute("SELECT code FROM admin_area WHERE level = 'community' ORDER BY code")]
        box = conn.execute("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                           "(SELECT ST_Extent(geom) e FROM admin_area WHERE level = 'community') s").fetchone()
    assert [f["properties"]["code"] for f in outlines["features"]] == codes
    assert all(f["properties"]["name"] and f["geometry"]["type"] in ("Polygon", "MultiPolygon")
               for f in outlines["features"])
    (s, w), (n, e) = outline_bounds(outlines)
    assert abs(w - box[0]) < 1e-3 and abs(s - box[1]) < 1e-3 and abs(e - box[2]) < 1e-3 and abs(n - box[3]) < 1e-3


@pytest.fixture(scope="module")
def dash_app():
    """The app (pages can only be imported once an app exists)."""
    from app.factory import create_app

    return create_app()


def test_page_draws_the_communities_only_while_none_is_chosen(dash_app, demo_db):
    from app.pages import editor

    page = editor.layout()
    layer = _find(page, ids.ED_COMMUNITIES)
    assert layer is not None and len(layer.data["features"]) > 10
    assert "点击" in str(_find(page, ids.ED_MESSAGE).children)
    chosen = editor.layout(community="310113106002")
    assert _find(chosen, ids.ED_COMMUNITIES).data == EMPTY


def test_a_click_on_an_outline_chooses_its_community():
    assert community_from_click({"properties": {"code": "310113106002"}}) == "310113106002"
    for click in (None, {}, {"properties": {}}, {"properties": {"code": 5}}):
        assert community_from_click(click) is no_update
