"""Pure geometry helpers (no database): bounding boxes, H3 cells, geometry checks.

Conventions: WGS-84 (EPSG:4326), coordinates in (lon, lat) order, distances in metres.
h3's own (lat, lng) order appears only inside these helpers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3
import numpy as np
import shapely

from geodata.errors import InvalidBBox

#: H3 resolutions stored on address rows (columns h3_r7 .. h3_r10).
H3_RESOLUTIONS = (7, 8, 9, 10)


@dataclass(frozen=True)
class BBox:
    """A lon/lat bounding box in EPSG:4326 (degrees)."""

    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    def __post_init__(self) -> None:
        values = (self.minlon, self.minlat, self.maxlon, self.maxlat)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise InvalidBBox(f"bbox values must be finite numbers, got {values}")
        if not (-180 <= self.minlon <= 180 and -180 <= self.maxlon <= 180):
            raise InvalidBBox(f"bbox longitude outside -180..180: {values}")
        if not (-90 <= self.minlat <= 90 and -90 <= self.maxlat <= 90):
            raise InvalidBBox(f"bbox latitude outside -90..90: {values}")
        if self.minlon >= self.maxlon or self.minlat >= self.maxlat:
            raise InvalidBBox(f"bbox must have min < max on both axes (minlon,minlat,maxlon,maxlat): {values}")

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.minlon, self.minlat, self.maxlon, self.maxlat)

    def polygon(self) -> shapely.Polygon:
        return shapely.box(*self.as_tuple())


def parse_bbox(text: str) -> BBox:
    """Parse ``"minlon,minlat,maxlon,maxlat"`` (degrees, EPSG:4326)."""
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4:
        raise InvalidBBox(f"bbox needs 4 comma-separated numbers minlon,minlat,maxlon,maxlat; got {text!r}")
    try:
        values = [float(p) for p in parts]
    except ValueError as exc:
        raise InvalidBBox(f"bbox values must be numbers; got {text!r}") from exc
    return BBox(*values)


def bbox_from_leaflet(bounds) -> BBox:
    """Convert Leaflet bounds ``[[south, west], [north, east]]`` (lat/lng order) to a lon/lat BBox.

    Longitudes beyond the antimeridian (Leaflet allows panning past ±180) are clamped.
    """
    try:
        (south, west), (north, east) = bounds
        south, west, north, east = (float(v) for v in (south, west, north, east))
    except (TypeError, ValueError) as exc:
        raise InvalidBBox(f"map bounds must be [[south, west], [north, east]]; got {bounds!r}") from exc
    clamp = lambda v, lo, hi: min(max(v, lo), hi)  # noqa: E731
    return BBox(clamp(west, -180, 180), clamp(south, -90, 90), clamp(east, -180, 180), clamp(north, -90, 90))


def h3_cells(lons: np.ndarray, lats: np.ndarray) -> dict[int, np.ndarray]:
    """H3 cell ids (as signed 64-bit ints) of points at every resolution in ``H3_RESOLUTIONS``.

    Parameters
    ----------
    lons, lats : array-like of float
        Point coordinates in degrees, EPSG:4326.

    Returns
    -------
    dict
        resolution → int64 array of cell ids (H3 ids fit in a signed bigint: their top bit is 0).
    """
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    finest = max(H3_RESOLUTIONS)
    fine = [h3.api.basic_int.latlng_to_cell(lat, lon, finest) for lon, lat in zip(lons, lats, strict=True)]
    out = {finest: np.asarray(fine, dtype=np.int64)}
    for res in H3_RESOLUTIONS:
        if res != finest:
            out[res] = np.asarray([h3.api.basic_int.cell_to_parent(c, res) for c in fine], dtype=np.int64)
    return out


def h3_cell_polygon(cell: int) -> shapely.Polygon:
    """Boundary of an H3 cell as a lon/lat polygon."""
    ring = h3.api.basic_int.cell_to_boundary(int(cell))
    return shapely.Polygon([(lng, lat) for lat, lng in ring])


def invalid_reasons(geoms: np.ndarray) -> list[str | None]:
    """``None`` for each valid geometry, else shapely's reason (e.g. ``Self-intersection[x y]``)."""
    valid = shapely.is_valid(geoms)
    return [None if ok else shapely.is_valid_reason(g) for g, ok in zip(geoms, valid, strict=True)]


def to_multipolygon(geom):
    """Promote a Polygon to a MultiPolygon; other types pass through unchanged."""
    if isinstance(geom, shapely.Polygon):
        return shapely.MultiPolygon([geom])
    return geom
