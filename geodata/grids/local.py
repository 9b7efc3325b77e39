"""A local metric frame for one community: lon/lat degrees ↔ metres east/north of its centre.

Editing and validation work in metres (snap tolerances, areas in m², sliver widths). The frame
is a plain affine map (equirectangular at the community's centre latitude): lines stay lines,
shared vertices stay shared, and over a community (a few km) areas are within 0.1 % of the
geodesic ones. The same input always maps to the same output, so edges two grids share in
degrees are still shared after a round trip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

#: Metres per degree of latitude (WGS-84 mean; the frame is local, not geodesic).
M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class Frame:
    """Local frame centred at (lon0, lat0) degrees, EPSG:4326; x east, y north, in metres."""

    lon0: float
    lat0: float

    @classmethod
    def around(cls, geom) -> Frame:
        """The frame centred on ``geom``'s bounding box (lon/lat, EPSG:4326)."""
        minx, miny, maxx, maxy = shapely.bounds(geom)
        return cls((minx + maxx) / 2, (miny + maxy) / 2)

    @property
    def kx(self) -> float:
        return M_PER_DEG * math.cos(math.radians(self.lat0))

    def to_local(self, geom):
        """lon/lat geometry (or array of them) → metres in this frame."""
        k = np.array([self.kx, M_PER_DEG])
        o = np.array([self.lon0, self.lat0])
        return shapely.transform(geom, lambda c: (c - o) * k)

    def to_lonlat(self, geom):
        """Metres in this frame → lon/lat geometry (EPSG:4326)."""
        k = np.array([self.kx, M_PER_DEG])
        o = np.array([self.lon0, self.lat0])
        return shapely.transform(geom, lambda c: c / k + o)

    def xy_local(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Point coordinates in degrees → metres in this frame."""
        return (np.asarray(lon, float) - self.lon0) * self.kx, (np.asarray(lat, float) - self.lat0) * M_PER_DEG


def polygons(geom) -> list[shapely.Polygon]:
    """The polygon parts of any geometry (collections from overlay results included)."""
    if geom is None or geom.is_empty:
        return []
    if isinstance(geom, shapely.Polygon):
        return [geom]
    parts = []
    for g in getattr(geom, "geoms", []):
        parts.extend(polygons(g))
    return parts


def as_multi(geom) -> shapely.MultiPolygon:
    """Polygon parts of ``geom`` as one MultiPolygon (lines/points from overlays dropped)."""
    return shapely.MultiPolygon(polygons(geom))


def is_sliver(geom, width_m: float) -> bool:
    """True when ``geom`` (local metres) is thinner than ``width_m`` everywhere (or empty)."""
    if geom is None or geom.is_empty:
        return True
    return geom.buffer(-width_m / 2, join_style="mitre").is_empty
