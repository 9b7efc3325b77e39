"""Map layers and their read queries on real PostGIS: viewport bounds, zoom-dependent
aggregation, caps and payload sizes (geodata.maps + layers/)."""

from __future__ import annotations

import json
import math

import h3
import pytest
import shapely

from geodata import maps
from geodata.errors import InvalidBBox, InvalidInput, NotFound
from geodata.geometry import BBox
from layers import addresses, admin, facilities, grids
from layers.search import build_suggestions, decode_place, encode_place
from layers.view import View, parse_view

ONE_MB = 1_000_000


# ---- pure helpers ---------------------------------------------------------------------------

def test_view_bbox_swaps_leaflet_lat_lng_order():
    box = maps.view_bbox([[31.30, 121.40], [31.36, 121.48]])
    assert box == BBox(121.40, 31.30, 121.48, 31.36)


@pytest.mark.parametrize("bounds", [
    None, [], [[31.3, 121.4]], [["a", "b"], [1, 2]], [[31.36, 121.48], [31.30, 121.40]],
    [[float("nan"), 121.4], [31.36, 121.48]], [[31.3, 121.4], [31.3, 121.48]],
])
def test_view_bbox_rejects_nonsense(bounds):
    with pytest.raises(InvalidBBox):
        maps.view_bbox(bounds)


def test_view_bbox_clamps_huge_boxes():
    extent = BBox(121.2, 31.2, 121.6, 31.5)
    world = [[-85, -180], [85, 180]]
    assert maps.view_bbox(world, extent) == extent
    free = maps.view_bbox(world)
    assert free.maxlon - free.minlon <= maps.MAX_SPAN_DEG and free.maxlat - free.minlat <= maps.MAX_SPAN_DEG
    with pytest.raises(InvalidBBox):
        maps.view_bbox([[-80, -170], [-70, -100]], extent)  # huge and nowhere near the data


@pytest.mark.parametrize("zoom,res", [(3, 7), (9, 7), (10, 7), (10.9, 7), (11, 8), (12, 9), (13, 9),
                                      (14, 10), (15, 10), (16, None), (19, None)])
def test_address_resolution_follows_zoom(zoom, res):
    assert addresses.resolution_for_zoom(zoom) == res


def test_simplification_and_precision_follow_zoom():
    tolerances = [maps.simplify_tolerance(z) for z in range(8, 20)]
    digits = [maps.coordinate_digits(z) for z in range(8, 20)]
    assert all(a > b for a, b in zip(tolerances, tolerances[1:], strict=False))
    assert digits == sorted(digits) and 3 <= digits[0] and digits[-1] <= 7
    with pytest.raises(InvalidInput):
        maps.clamp_zoom("near")


def test_road_kinds_fewer_when_zoomed_out():
    assert set(maps.road_kinds(10)) == {"expressway", "trunk", "primary"}
    assert "local" in maps.road_kinds(14) and "path" not in maps.road_kinds(14)
    assert "path" in maps.road_kinds(17)


def test_class_breaks_are_quantiles():
    breaks = grids.class_breaks(range(1, 101))
    assert breaks == [20, 40, 60, 80, 100]
    assert [grids.class_of(v, breaks) for v in (1, 20, 21, 100)] == [0, 0, 1, 4]
    assert grids.class_breaks([7, 7, 7]) == [7]
    assert grids.class_breaks([]) == []


def test_place_values_round_trip():
    assert decode_place(encode_place("grid", "310113001001001")) == ("grid", "310113001001001")
    assert decode_place("bogus|1") is None and decode_place("grid|") is None and decode_place(None) is None


# ---- on the demo district -------------------------------------------------------------------

@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


@pytest.fixture
def extent(conn) -> BBox:
    ext = maps.fetch_extent(conn)
    assert ext.bbox is not None and ext.district_name
    return ext.bbox


def _sub_box(extent: BBox, fraction: float) -> BBox:
    """A box around the extent's centre, ``fraction`` of its size."""
    cx, cy = (extent.minlon + extent.maxlon) / 2, (extent.minlat + extent.maxlat) / 2
    hw, hh = (extent.maxlon - extent.minlon) * fraction / 2, (extent.maxlat - extent.minlat) * fraction / 2
    return BBox(cx - hw, cy - hh, cx + hw, cy + hh)


def _count_addresses(conn, box: BBox) -> int:
    return conn.execute("SELECT count(*) FROM address WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                        box.as_tuple()).fetchone()[0]


@pytest.mark.parametrize("zoom", [9, 10, 11, 12, 13, 14, 15, 16, 17, 18])
def test_address_layer_bounded_capped_and_small_at_every_zoom(conn, extent, zoom):
    box = extent if zoom <= 12 else _sub_box(extent, 0.5 ** (zoom - 12))
    cap = 5000
    data = addresses.build_addresses(conn, View(box, zoom), cap)
    payload = len(json.dumps(data, ensure_ascii=False).encode())
    assert payload < ONE_MB
    assert len(data["features"]) <= min(cap, addresses.CELL_CAP if data["mode"] == "cells" else cap)
    in_view = _count_addresses(conn, box)
    if data["mode"] == "cells":
        assert data["resolution"] <= (addresses.resolution_for_zoom(zoom) or 10)
        assert all(h3.get_resolution(f["properties"]["cell"]) == data["resolution"] for f in data["features"])
        if not data["truncated"]:  # whole cells meeting the view: a superset of the exact count
            assert sum(f["properties"]["n"] for f in data["features"]) >= in_view
        if data["features"]:
            top = data["features"][0]["properties"]
            col = f"h3_r{data['resolution']}"
            exact = conn.execute(f"SELECT count(*) FROM address WHERE {col} = %s",  # noqa: S608 - whitelisted
                                 (h3.str_to_int(top["cell"]),)).fetchone()[0]
            assert top["n"] == exact
    else:
        assert zoom >= addresses.POINTS_ZOOM and len(data["features"]) == in_view
        pts = shapely.points([f["geometry"]["coordinates"] for f in data["features"]] or [[box.minlon, box.minlat]])
        assert shapely.intersects(box.polygon().buffer(1e-6), pts).all()


def test_address_cells_use_the_zoom_resolution(conn, extent):
    data = addresses.build_addresses(conn, View(extent, 11), 5000)
    assert data["mode"] == "cells" and data["resolution"] == 8
    cells = {f["properties"]["cell"] for f in data["features"]}
    assert len(cells) == len(data["features"]) and cells


def test_address_points_over_cap_fall_back_to_cells(conn, extent):
    box = _sub_box(extent, 0.25)
    in_view = _count_addresses(conn, box)
    assert in_view > 3, "the demo should have addresses near its centre"
    cap = in_view - 1
    data = addresses.build_addresses(conn, View(box, 17), cap)
    assert data["mode"] == "cells" and data["resolution"] <= 10
    assert len(data["features"]) <= cap
    full = addresses.build_addresses(conn, View(box, 17), in_view)
    assert full["mode"] == "points" and len(full["features"]) == in_view


def test_cell_cap_coarsens_resolution(conn, extent):
    fine = addresses.build_cells(conn, View(extent, 15), 10, 100_000)
    assert fine["resolution"] == 10 and len(fine["features"]) > 2
    capped = addresses.build_cells(conn, View(extent, 15), 10, 2)
    assert len(capped["features"]) <= 2
    assert capped["resolution"] < 10 or capped["truncated"]


def test_an_empty_viewport_returns_nothing(conn, extent):
    far = BBox(extent.maxlon + 1, extent.maxlat + 1, extent.maxlon + 1.01, extent.maxlat + 1.01)
    assert addresses.build_addresses(conn, View(far, 14), 5000)["features"] == []
    assert maps.fetch_grids(conn, far, 14, 100)["features"] == []
    assert facilities.build_facilities(conn, View(far, 14), None, "zh", 100)["features"] == []


def test_grids_are_viewport_bounded_and_capped(conn, extent):
    box = _sub_box(extent, 0.3)
    fc = maps.fetch_grids(conn, box, 15, 10_000)
    assert fc["features"] and not fc["truncated"]
    total = conn.execute("SELECT count(*) FROM grid").fetchone()[0]
    expected = conn.execute("SELECT count(*) FROM grid WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
                            box.as_tuple()).fetchone()[0]
    assert len(fc["features"]) == expected <= total
    for f in fc["features"]:
        assert shapely.geometry.shape(f["geometry"]).envelope.intersects(box.polygon())
    capped = maps.fetch_grids(conn, extent, 12, 2)
    assert len(capped["features"]) == 2 and capped["truncated"] is (total > 2)


def test_grid_choropleth_classes_and_legend(conn, extent):
    fc, legend = grids.build_grids(conn, View(extent, 13), "addresses", 10_000)
    assert legend["metric"] == "addresses" and legend["breaks"] == sorted(legend["breaks"])
    assert 0 < len(legend["breaks"]) <= grids.N_CLASSES
    first = fc["features"][0]["properties"]
    n = conn.execute("SELECT count(*) FROM address WHERE grid_code = %s", (first["code"],)).fetchone()[0]
    assert first["value"] == n
    for f in fc["features"]:
        p = f["properties"]
        assert set(p) == {"code", "name", "value", "cls"}
        assert p["value"] <= legend["breaks"][p["cls"]]
        assert p["cls"] == 0 or p["value"] > legend["breaks"][p["cls"] - 1]
    with pytest.raises(InvalidInput):
        grids.build_grids(conn, View(extent, 13), "population; DROP TABLE grid", 10)


def test_polygons_simplified_when_zoomed_out(conn, extent):
    def vertices(zoom):
        fc = maps.fetch_admin_areas(conn, extent, zoom, "street", 1000)
        return sum(len(shapely.get_coordinates(shapely.geometry.shape(f["geometry"]))) for f in fc["features"])
    assert vertices(9) <= vertices(18)


def test_outline_labels_follow_zoom(conn, extent):
    low = admin.build_outlines(conn, View(extent, 12), 1000)
    assert low["street"]["features"] and all(f["properties"]["label"] for f in low["street"]["features"])
    assert all(f["properties"]["label"] is None for f in low["community"]["features"])
    high = admin.build_outlines(conn, View(_sub_box(extent, 0.1), 15), 1000)
    assert high["community"]["features"]
    assert all(f["properties"]["label"] for f in high["community"]["features"])
    assert all(f["properties"]["label"] is None for f in high["street"]["features"])


def test_facilities_filtered_by_kind(conn, extent):
    kinds = facilities.build_kinds(conn, "en")
    present = [k["code"] for k in kinds if k["n"]]
    assert present and all(k["name"] and k["color"].startswith("#") for k in kinds)
    one = present[0]
    fc = facilities.build_facilities(conn, View(extent, facilities.GLYPH_ZOOM), [one], "en", 10_000)
    assert fc["features"] and {f["properties"]["k"] for f in fc["features"]} == {one}
    assert all(f["properties"]["n"] and not f["properties"]["s"] for f in fc["features"])
    styles = facilities.kind_styles(kinds)
    assert styles[one]["color"].startswith("#") and styles[one]["glyph"]
    assert facilities.build_facilities(conn, View(extent, 14), [], "en", 10_000)["features"] == []
    capped = facilities.build_facilities(conn, View(extent, 11), None, "zh", 1)
    assert len(capped["features"]) == 1 and capped["features"][0]["properties"]["s"]
    assert "n" not in capped["features"][0]["properties"]
    dense = facilities.default_kinds([{"code": "a", "n": 10}, {"code": "b", "n": 5000}, {"code": "c", "n": 0}], 5000)
    assert dense == ["a"]


def test_roads_only_main_kinds_when_zoomed_out(conn, extent):
    fc = maps.fetch_roads(conn, extent, 10, 10_000)
    assert {f["properties"]["kind"] for f in fc["features"]} <= {"expressway", "trunk", "primary"}
    assert len(maps.fetch_roads(conn, extent, 17, 10_000)["features"]) >= len(fc["features"])


def _some_grid(conn) -> tuple[str, str]:
    return conn.execute("SELECT code, community_code FROM grid ORDER BY code LIMIT 1").fetchone()


def test_place_grid_has_chain_and_counts(conn):
    code, community = _some_grid(conn)
    place = maps.fetch_place(conn, "grid", code)
    assert [c["level"] for c in place["chain"]] == ["district", "street", "community", "grid"]
    assert place["chain"][2]["code"] == community and place["chain"][-1]["code"] == code
    n = conn.execute("SELECT count(*) FROM address WHERE grid_code = %s", (code,)).fetchone()[0]
    assert place["counts"]["addresses"] == n
    minlon, minlat, maxlon, maxlat = place["bbox"]
    assert minlon < maxlon and minlat < maxlat


def test_place_community_counts_its_grids(conn):
    _, community = _some_grid(conn)
    place = maps.fetch_place(conn, "area", community)
    n = conn.execute("SELECT count(*), sum(households) FROM grid WHERE community_code = %s", (community,)).fetchone()
    assert place["level"] == "community"
    assert (place["counts"]["grids"], place["counts"]["households"]) == (n[0], n[1])


def test_place_facility_and_missing(conn):
    fid = conn.execute("SELECT id FROM facility ORDER BY id LIMIT 1").fetchone()[0]
    place = maps.fetch_place(conn, "facility", str(fid))
    assert place["facility_kind"] and place["chain"][0]["level"] == "district"
    with pytest.raises(NotFound):
        maps.fetch_place(conn, "grid", "no-such-grid")
    with pytest.raises(InvalidInput):
        maps.fetch_place(conn, "table", "x")


def test_search_finds_codes_names_and_fuzzy_addresses(conn):
    code, community = _some_grid(conn)
    hits = maps.search_places(conn, code[:12])
    assert hits and hits[0]["key"].startswith(code[:12]) and len(hits) <= 10
    assert maps.search_places(conn, code)[0] == {**maps.search_places(conn, code)[0], "kind": "grid", "key": code}
    name = conn.execute("SELECT name FROM admin_area WHERE code = %s", (community,)).fetchone()[0]
    assert any(h["key"] == community for h in maps.search_places(conn, name))
    text = conn.execute("SELECT full_text FROM address ORDER BY id LIMIT 1").fetchone()[0]
    typo = text[:-2] + text[-1]  # one character dropped
    assert any(h["label"] == text for h in maps.search_places(conn, typo))
    assert maps.search_places(conn, "   ") == []
    assert maps.search_places(conn, "%_\\") is not None  # wildcards are escaped, not SQL
    with pytest.raises(InvalidInput):
        maps.search_places(conn, "x" * 101)


def test_suggestions_label_kind_and_value(conn):
    from app.i18n import strings

    code, _ = _some_grid(conn)
    options = build_suggestions(conn, code, strings("en"))
    assert options[0]["value"] == encode_place("grid", code) and options[0]["label"].startswith("Grid")


def test_parse_view_estimates_missing_zoom(conn, extent):
    bounds = [[extent.minlat, extent.minlon], [extent.maxlat, extent.maxlon]]
    view = parse_view(bounds, None, extent)
    assert view.bbox == extent and maps.MIN_ZOOM <= view.zoom <= maps.MAX_ZOOM
    assert math.isclose(parse_view(bounds, 13, extent).zoom, 13)


def test_tile_layer_only_when_configured(monkeypatch):
    from geodata.settings import get_settings
    from layers.basemap import build_tile_layer

    monkeypatch.delenv("ONEGRID_BASEMAP_URL", raising=False)
    get_settings.cache_clear()
    assert build_tile_layer() == []
    monkeypatch.setenv("ONEGRID_BASEMAP_URL", "http://tiles.local/{z}/{x}/{y}.png")
    monkeypatch.setenv("ONEGRID_BASEMAP_ATTRIBUTION", "© local tiles")
    get_settings.cache_clear()
    try:
        (layer,) = build_tile_layer()
        assert layer.url == "http://tiles.local/{z}/{x}/{y}.png" and layer.attribution == "© local tiles"
    finally:
        get_settings.cache_clear()


@pytest.fixture
def gcj02(monkeypatch):
    from geodata.settings import get_settings

    monkeypatch.setenv("ONEGRID_BASEMAP_CRS", "gcj02")
    get_settings.cache_clear()
    yield
    monkeypatch.delenv("ONEGRID_BASEMAP_CRS")
    get_settings.cache_clear()


def test_display_is_identity_for_wgs84_basemaps():
    from layers import display

    fc = {"type": "FeatureCollection", "features": [{"geometry": {"type": "Point", "coordinates": [121.4, 31.3]}}]}
    assert display.collection_to_display(fc)["features"][0]["geometry"]["coordinates"] == [121.4, 31.3]
    assert display.bounds_from_display([[31.3, 121.4], [31.4, 121.5]]) == [[31.3, 121.4], [31.4, 121.5]]


def test_gcj02_basemap_shifts_what_the_map_gets_and_back(gcj02):
    from geodata.datum import wgs84_to_gcj02
    from layers import display

    poly = [[[121.40, 31.30], [121.41, 31.30], [121.41, 31.31], [121.40, 31.30]]]
    fc = {"type": "FeatureCollection", "features": [
        {"geometry": {"type": "Point", "coordinates": [121.4, 31.3]}},
        {"geometry": {"type": "MultiPolygon", "coordinates": [poly, [poly[0][:3] + [poly[0][0]]]]}},
    ]}
    out = display.collection_to_display(fc)
    x, y = wgs84_to_gcj02(121.4, 31.3)
    assert out["features"][0]["geometry"]["coordinates"] == [round(float(x), 6), round(float(y), 6)]
    ring = out["features"][1]["geometry"]["coordinates"][0][0]
    assert len(ring) == 4 and ring[0] == [round(float(x), 6), round(float(y), 6)]
    shown = [[float(y), float(x)], [float(y) + 0.01, float(x) + 0.01]]
    (south, west), _ = display.bounds_from_display(shown)
    assert abs(south - 31.3) < 1e-6 and abs(west - 121.4) < 1e-6
    assert display.bounds_from_display("junk") == "junk"


def test_hexagon_matches_the_geometry_helper():
    from geodata.geometry import h3_cell_polygon

    cell = h3.api.basic_int.latlng_to_cell(31.3, 121.4, 9)
    ring = addresses._hexagon(cell, 7)
    assert ring[0] == ring[-1] and len(ring) == 7
    assert shapely.Polygon(ring).equals_exact(h3_cell_polygon(cell), tolerance=1e-6)
