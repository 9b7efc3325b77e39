"""Property tests for the pure geometry helpers: bboxes, H3 cells, GCJ-02 datum."""

from __future__ import annotations

import h3
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.datum import gcj02_to_wgs84, geometry_to_gcj02, geometry_to_wgs84, wgs84_to_gcj02
from geodata.errors import InvalidBBox
from geodata.geometry import H3_RESOLUTIONS, BBox, bbox_from_leaflet, h3_cell_polygon, h3_cells, parse_bbox

lons = st.floats(-179.9, 179.9, allow_nan=False)
lats = st.floats(-84.9, 84.9, allow_nan=False)
china_lon = st.floats(73.5, 134.7, allow_nan=False)
china_lat = st.floats(18.2, 53.5, allow_nan=False)


@given(lons, lats, st.floats(1e-6, 5), st.floats(1e-6, 5))
def test_bbox_text_round_trip(lon, lat, w, h):
    box = BBox(lon, lat, min(lon + w, 180), min(lat + h, 90))
    assert parse_bbox(",".join(repr(v) for v in box.as_tuple())) == box


@given(lons, lats, st.floats(1e-6, 5), st.floats(1e-6, 5))
def test_leaflet_bounds_are_lat_lng(lon, lat, w, h):
    east, north = min(lon + w, 180), min(lat + h, 90)
    assert bbox_from_leaflet([[lat, lon], [north, east]]) == BBox(lon, lat, east, north)


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "10,10,5,20", "0,95,1,96", "nan,0,1,1", ""])
def test_bad_bbox_text_is_refused(text):
    with pytest.raises(InvalidBBox):
        parse_bbox(text)


def test_bad_leaflet_bounds_are_refused():
    for bounds in (None, [[1, 2]], [["a", 2], [3, 4]], [[10, 10], [5, 20]]):
        with pytest.raises(InvalidBBox):
            bbox_from_leaflet(bounds)


@settings(max_examples=60)
@given(st.lists(st.tuples(china_lon, china_lat), min_size=1, max_size=20))
def test_h3_cells_nest_and_contain_their_point(points):
    xy = np.array(points)
    cells = h3_cells(xy[:, 0], xy[:, 1])
    finest = max(H3_RESOLUTIONS)
    for i, (lon, lat) in enumerate(points):
        assert cells[finest][i] == h3.api.basic_int.latlng_to_cell(lat, lon, finest)
        for res in H3_RESOLUTIONS:
            assert h3.api.basic_int.get_resolution(int(cells[res][i])) == res
            assert h3.api.basic_int.cell_to_parent(int(cells[finest][i]), res) == cells[res][i]
        # The cell polygon (lon/lat) contains the point, within a hair of float error.
        assert h3_cell_polygon(int(cells[finest][i])).buffer(1e-9).contains(shapely.Point(lon, lat))


@settings(max_examples=40)
@given(st.sampled_from([7, 8, 9]), china_lon, china_lat)
def test_h3_children_cover_their_parent(res, lon, lat):
    parent = h3.api.basic_int.latlng_to_cell(lat, lon, res)
    children = shapely.union_all([h3_cell_polygon(c) for c in h3.api.basic_int.cell_to_children(parent, res + 1)])
    parent_poly = h3_cell_polygon(parent)
    # H3 children cover the parent only approximately (aperture 7): check area coverage.
    assert parent_poly.intersection(children).area / parent_poly.area > 0.85


# No per-example deadline: the first example pays one-off imports, and on a shared machine
# hypothesis' 200 ms default fails the run on timing alone (no timing asserts in tests).
@settings(deadline=None)
@given(china_lon, china_lat)
def test_gcj02_round_trip(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    assert 1e-5 < abs(glon - lon) + abs(glat - lat) < 0.02  # shifted, by at most ~1 km
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(wlon - lon) < 1e-7 and abs(wlat - lat) < 1e-7


@given(st.floats(-179, 60, allow_nan=False), lats)
def test_gcj02_is_identity_outside_china(lon, lat):
    assert wgs84_to_gcj02(lon, lat) == (lon, lat)


def test_gcj02_moves_whole_geometries_both_ways():
    poly = shapely.box(121.40, 31.30, 121.41, 31.31)
    moved = geometry_to_gcj02(poly)
    assert not moved.equals(poly) and moved.is_valid
    back = geometry_to_wgs84(moved)
    assert shapely.hausdorff_distance(back, poly) < 1e-7
