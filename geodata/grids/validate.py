"""Validation of a community's proposed grid set (pure geometry, local metres).

Rules, each reported with where it is (a geometry for the map) and what it is:

``invalid``   a grid's geometry is invalid — shapely's reason and its place (error)
``empty``     a grid has no area left (error)
``outside``   a grid reaches outside the community — area; fix offered: clip (error)
``overlap``   two grids overlap — area and place (error)
``gap``       community area no grid covers — the gap polygons (error)
``pieces``    a grid is not one contiguous piece (error)
``households_low`` / ``households_high``  households outside the configured range (warning)

Pieces thinner than the snap tolerance (``ONEGRID_GRID_SNAP_M``) are slivers from
floating-point noise or imported data, not problems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import shapely

from geodata.grids.local import Frame, is_sliver, polygons
from geodata.grids.partition import assign_points

ERROR, WARNING = "error", "warning"
_AT = re.compile(r"\[\s*([-0-9.eE+]+)\s+([-0-9.eE+]+)\s*\]")


@dataclass
class Issue:
    """One validation finding; ``geom`` is lon/lat (EPSG:4326) for the map, ``area_m2`` in m²."""

    rule: str
    severity: str
    codes: list[str]
    geom: object = None
    area_m2: float | None = None
    detail: str = ""
    value: int | None = None

    def to_dict(self) -> dict:
        return {"rule": self.rule, "severity": self.severity, "codes": self.codes,
                "area_m2": None if self.area_m2 is None else round(self.area_m2, 1),
                "detail": self.detail, "value": self.value}


@dataclass
class Report:
    """All issues of a grid set plus households/residents/addresses per grid."""

    issues: list[Issue] = field(default_factory=list)
    per_grid: dict[str, dict] = field(default_factory=dict)

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERROR]

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Points:
    """Address points of a community in local metres with households and residents each."""

    x: np.ndarray
    y: np.ndarray
    households: np.ndarray
    residents: np.ndarray

    @classmethod
    def empty(cls) -> Points:
        z = np.zeros(0)
        return cls(z, z, z.astype(np.int64), z.astype(np.int64))


def _invalid(code: str, geom, frame: Frame) -> Issue:
    reason = shapely.is_valid_reason(geom)
    m = _AT.search(reason)
    place = shapely.Point(float(m.group(1)), float(m.group(2))) if m else geom.representative_point()
    return Issue("invalid", ERROR, [code], frame.to_lonlat(place), detail=reason)


def _geometry_issues(community, grids: dict, frame: Frame, snap_m: float) -> list[Issue]:
    issues: list[Issue] = []
    good: dict = {}
    for code in sorted(grids):
        geom = grids[code]
        if geom is None or geom.is_empty:
            issues.append(Issue("empty", ERROR, [code]))
        elif not geom.is_valid:
            issues.append(_invalid(code, geom, frame))
        else:
            good[code] = geom
    # A grid inside the community widened by half the tolerance can only stick out as a sliver.
    margin = community.buffer(snap_m / 2)
    shapely.prepare(margin)
    for code, geom in good.items():
        if not margin.covers(geom):
            out = geom.difference(community)
            if not is_sliver(out, snap_m):
                issues.append(Issue("outside", ERROR, [code], frame.to_lonlat(out), out.area))
        if len(polygons(geom)) < 2:
            continue
        parts = [p for p in polygons(geom) if not is_sliver(p, snap_m)]
        if len(parts) > 1:
            parts.sort(key=lambda p: -p.area)
            rest = shapely.MultiPolygon(parts[1:])
            issues.append(Issue("pieces", ERROR, [code], frame.to_lonlat(rest), rest.area, value=len(parts)))
    codes = list(good)
    geoms = np.asarray([good[c] for c in codes], dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    # Neighbours only touch: keep pairs whose interiors meet (DE-9IM 2********), vectorised.
    inner = shapely.relate_pattern(geoms[left], geoms[right], "2********") if len(left) else np.zeros(0, bool)
    for i, j in zip(left[inner], right[inner], strict=True):
        both = good[codes[i]].intersection(good[codes[j]])
        area = sum(p.area for p in polygons(both))
        if area > 0 and not is_sliver(both, snap_m):
            issues.append(Issue("overlap", ERROR, [codes[i], codes[j]], frame.to_lonlat(both), area))
    covered = shapely.union_all(list(good.values())) if good else shapely.Polygon()
    for gap in polygons(community.difference(covered)):
        if not is_sliver(gap, snap_m):
            issues.append(Issue("gap", ERROR, [], frame.to_lonlat(gap), gap.area))
    return issues


def per_grid_counts(grids: dict, points: Points) -> dict[str, dict]:
    """Addresses, households and residents per grid code (points on shared edges: lowest code)."""
    codes = sorted(grids)
    idx = assign_points(grids, points.x, points.y)
    inside = idx >= 0
    n = len(codes)
    count = np.bincount(idx[inside], minlength=n)
    hh = np.bincount(idx[inside], weights=points.households[inside], minlength=n)
    res = np.bincount(idx[inside], weights=points.residents[inside], minlength=n)
    return {c: {"addresses": int(count[i]), "households": int(hh[i]), "residents": int(res[i])}
            for i, c in enumerate(codes)}


def validate_grid_set(community, grids: dict, points: Points, frame: Frame, *, snap_m: float,
                      households_min: int, households_max: int) -> Report:
    """Check a proposed grid set of one community.

    Parameters
    ----------
    community : shapely geometry
        The community polygon in ``frame``'s local metres.
    grids : dict
        code → polygonal geometry in local metres (may be invalid: that is reported).
    points : Points
        The community's addresses (local metres) with households and residents.
    snap_m : float
        Sliver width in metres; thinner gaps/overlaps/outside parts are ignored.
    households_min, households_max : int
        The configured range; grids outside it get a warning.
    """
    report = Report(issues=_geometry_issues(community, grids, frame, snap_m))
    report.per_grid = per_grid_counts(grids, points)
    for code, stats in report.per_grid.items():
        hh = stats["households"]
        if hh < households_min:
            report.issues.append(Issue("households_low", WARNING, [code], value=hh))
        elif hh > households_max:
            report.issues.append(Issue("households_high", WARNING, [code], value=hh))
    return report
