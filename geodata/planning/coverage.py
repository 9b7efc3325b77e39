"""Life-circle coverage: how many of the people a facility kind serves live within its radius.

Every address gets its walking distance to the nearest facility (:class:`Distances`); people
are counted per address on the server, and only aggregates leave this module: district
figures, H3 cells and street/community rows, each count suppressed below ``ONEGRID_MIN_CELL``
(and a cell's served/unserved split hidden when either part is small, so one cannot be
recovered from the other). Distances are metres; coordinates EPSG:4326 lon/lat.
"""

from __future__ import annotations

from dataclasses import dataclass

import h3
import numpy as np
import shapely

from geodata.errors import InvalidInput
from geodata.planning.demand import AddressFrame, Sites
from geodata.planning.distance import Distances

#: Catchment outline: concave hull ratio of the addresses a facility serves, and its margin.
HULL_RATIO = 0.4
HULL_MARGIN_DEG = 0.0002


@dataclass
class Coverage:
    """Per-address result (server side only) and the analysis it came from."""

    radius_m: float
    mode: str
    addresses: AddressFrame
    dist: np.ndarray
    site: np.ndarray

    @property
    def served(self) -> np.ndarray:
        return self.dist <= self.radius_m


def compute_coverage(distances: Distances, facilities: Sites, addresses: AddressFrame, radius_m: float) -> Coverage:
    """Nearest-facility walking distance of every address.

    Raises
    ------
    InvalidInput
        When nobody belongs to the demand group (empty demand).
    """
    if int(addresses.n.sum()) == 0:
        raise InvalidInput("no residents match this demand group (empty demand): nothing to cover")
    dist, site = distances.nearest(facilities.points, addresses.points)
    return Coverage(float(radius_m), distances.mode, addresses, dist, site)


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value with at least ``q`` (0..1) of the weight at or below it."""
    order = np.argsort(values, kind="stable")
    cum = np.cumsum(weights[order])
    if cum.size == 0 or cum[-1] <= 0:
        return float("nan")
    return float(values[order][np.searchsorted(cum, q * cum[-1] - 1e-9)])


def summarize(cov: Coverage) -> dict:
    """District figures: people, served, unserved, coverage %, mean and P90 walking distance.

    Distances are over the people with any facility reachable; ``unreachable`` counts the rest
    (no facility at all, or none on their part of the network).
    """
    n = cov.addresses.n
    total = int(n.sum())
    served = int(n[cov.served].sum())
    reach = np.isfinite(cov.dist) & (n > 0)
    unreachable = int(n[~np.isfinite(cov.dist)].sum())
    mean = float(np.average(cov.dist[reach], weights=n[reach])) if reach.any() else None
    p90 = weighted_percentile(cov.dist[reach], n[reach], 0.9) if reach.any() else None
    return {"people": total, "served": served, "unserved": total - served,
            "coverage_pct": round(100.0 * served / total, 2), "mean_m": None if mean is None else round(mean, 1),
            "p90_m": None if p90 is None else round(p90, 1), "unreachable": unreachable,
            "radius_m": cov.radius_m, "distance_mode": cov.mode}


def public_figures(fig: dict, k: int) -> dict:
    """District figures as they may be shown: people counts below ``k`` hidden, and the
    served/unserved split (with the coverage %) hidden when either part is small."""
    out = dict(fig)
    people, served = fig.get("people"), fig.get("served")
    if people is None or served is None:
        return out
    split = _split_ok(people, served, k)
    out["people"] = _shown(people, k)
    if not split:
        out["served"] = out["unserved"] = out["coverage_pct"] = None
    unreachable = fig.get("unreachable") or 0
    out["unreachable"] = unreachable if unreachable == 0 or unreachable >= k else None
    return out


def public_scenario(row: dict, k: int) -> dict:
    """A stored scenario with its figures and per-site served counts made showable."""
    out = dict(row)
    figures = dict(row["figures"])
    for side in ("before", "after"):
        if side in figures:
            figures[side] = public_figures(figures[side], k)
    for key in ("capacity_served_before", "capacity_served_after"):
        if figures.get(key) is not None:
            figures[key] = _shown(figures[key], k)
    out["figures"] = figures
    if "sites" in row:
        out["sites"] = [{**s, "served": s["served"] if s["served"] >= k else None} for s in row["sites"]]
    return out


def _shown(value: int, k: int) -> int | None:
    return int(value) if value >= k else None


def _split_ok(people: int, served: int, k: int) -> bool:
    """Show served and unserved only when neither is a small non-zero count."""
    unserved = people - served
    return people >= k and (served == 0 or served >= k) and (unserved == 0 or unserved >= k)


def _share(people: int, served: int, exact: bool) -> float:
    """Served share; when counts are hidden only its quarter (0, .25, .5, .75) so that the
    share times a shown total cannot give back a small count."""
    share = served / people
    return round(share, 3) if exact else min(0.75, float(np.floor(share * 4) / 4))


def cell_counts(cov: Coverage, res: int, k: int) -> list[dict]:
    """Served/unserved people per H3 cell (resolution 8..10), suppressed below ``k``.

    Each dict: ``cell`` (int), ``share`` (served ÷ people, 0..1; only its quarter when
    ``coarse``), ``people``, ``served``, ``unserved`` — counts ``None`` when suppressed; the
    split is hidden when either part is below ``k`` (else the hidden one is total minus the
    shown one), and so is the exact share (share × total would give it back).
    """
    if res not in cov.addresses.h3:
        raise InvalidInput(f"H3 resolution must be 8, 9 or 10, got {res!r}")
    n = cov.addresses.n
    has = n > 0
    cells = cov.addresses.h3[res][has]
    keys, inverse = np.unique(cells, return_inverse=True)
    people = np.bincount(inverse, weights=n[has]).astype(np.int64)
    served = np.bincount(inverse, weights=(n * cov.served)[has], minlength=len(keys)).astype(np.int64)
    out = []
    for cell, p, s in zip(keys.tolist(), people.tolist(), served.tolist(), strict=True):
        split = _split_ok(p, s, k)
        out.append({"cell": cell, "share": _share(p, s, split), "coarse": not split, "people": _shown(p, k), "k": k,
                    "served": s if split else None, "unserved": p - s if split else None})
    return out


def area_table(cov: Coverage, level: str, k: int, names: dict[str, str]) -> list[dict]:
    """Coverage per street/town (``level="street"``) or community, largest unserved first.

    Counts below ``k`` are ``None`` (and the split hidden as in :func:`cell_counts`).
    """
    if level not in ("street", "community"):
        raise InvalidInput(f"table level must be street or community, got {level!r}")
    codes = cov.addresses.street if level == "street" else cov.addresses.community
    n = cov.addresses.n
    rows = []
    for code in sorted(set(codes[n > 0].tolist())):
        mask = (codes == code) & (n > 0)
        p = int(n[mask].sum())
        s = int(n[mask & cov.served].sum())
        reach = mask & np.isfinite(cov.dist)
        mean = float(np.average(cov.dist[reach], weights=n[reach])) if reach.any() else None
        split = _split_ok(p, s, k)
        rows.append({"code": code, "name": names.get(code, code or "—"), "people": _shown(p, k),
                     "served": s if split else None, "unserved": p - s if split else None,
                     "coverage_pct": round(100.0 * s / p, 1) if split else None,
                     "mean_m": round(mean) if mean is not None and p >= k else None,
                     "_rank": p - s})
    rows.sort(key=lambda r: -r.pop("_rank"))
    return rows


def catchments(cov: Coverage, facilities: Sites) -> list[dict]:
    """One outline per facility: the addresses whose nearest facility it is, within the radius.

    Built from all addresses (not from residents), so an outline reveals nobody. Returns
    GeoJSON features (EPSG:4326) with ``id``, ``label`` and ``addresses``.
    """
    n_sites = len(facilities)
    mine = cov.served & (cov.site >= 0)
    # Each facility's own point plus the addresses it serves, one multipoint per facility.
    lon = np.concatenate([facilities.points.lon, cov.addresses.lon[mine]])
    lat = np.concatenate([facilities.points.lat, cov.addresses.lat[mine]])
    owner = np.concatenate([np.arange(n_sites), cov.site[mine]])
    order = np.argsort(owner, kind="stable")
    groups = shapely.multipoints(np.column_stack([lon[order], lat[order]]), indices=owner[order])
    hulls = shapely.buffer(shapely.concave_hull(groups, ratio=HULL_RATIO), HULL_MARGIN_DEG, quad_segs=4)
    counts = np.bincount(cov.site[mine], minlength=n_sites)
    return [{"type": "Feature", "geometry": shapely.geometry.mapping(hulls[i]),
             "properties": {"id": facilities.ids[i], "label": facilities.labels[i], "addresses": int(counts[i])}}
            for i in range(n_sites)]


def cell_features(cells: list[dict], res: int) -> list[dict]:
    """H3 cell dicts (from :func:`cell_counts`) as GeoJSON polygons (EPSG:4326)."""
    feats = []
    for c in cells:
        ring = [[lng, lat] for lat, lng in h3.api.basic_int.cell_to_boundary(int(c["cell"]))]
        ring.append(ring[0])
        feats.append({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
                      "properties": {**c, "cell": str(c["cell"]), "res": res}})
    return feats
