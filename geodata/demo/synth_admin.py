"""Streets/towns, communities and grids of the demo district, tiling its real boundary.

Geometry is built in local metres (:class:`~geodata.demo.district.LocalFrame`) and converted to
WGS-84 lon/lat at the end by :mod:`geodata.demo.build`. Codes follow the unit-grid convention:
district (6) + street/town (3: 街道 001…, 镇 101…) + community (3: 居委会 001…, 村委会 201…)
+ grid (3) = 15 digits. Street and community numbers are synthetic, not official codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.ops import nearest_points

from geodata.demo import names as nm
from geodata.demo.district import District, LocalFrame
from geodata.demo.tiling import DensityField, kmeans_seeds, partition, sample_in

#: 宝山区's 12 streets/towns: real names, approximate centres (WGS-84 lon, lat), population (rounded).
BAOSHAN_STREETS: list[tuple[str, float, float, int]] = [
    ("友谊路街道", 121.487, 31.405, 110_000), ("吴淞街道", 121.500, 31.378, 100_000),
    ("张庙街道", 121.445, 31.340, 150_000), ("罗店镇", 121.345, 31.415, 170_000),
    ("大场镇", 121.410, 31.305, 350_000), ("杨行镇", 121.430, 31.390, 200_000),
    ("月浦镇", 121.420, 31.450, 140_000), ("罗泾镇", 121.360, 31.480, 60_000),
    ("顾村镇", 121.380, 31.360, 300_000), ("高境镇", 121.480, 31.320, 130_000),
    ("庙行镇", 121.440, 31.318, 100_000), ("淞南镇", 121.470, 31.350, 140_000),
]

HOUSEHOLDS_PER_GRID = (300, 500)


@dataclass(frozen=True)
class Scale:
    """How much to generate. ``communities``/``grids`` fix counts per parent (small scale);
    ``None`` derives them from population (district scale)."""

    name: str
    communities: tuple[int, int] | None
    grids: tuple[int, int] | None
    addresses: int


SCALES = {
    "small": Scale("small", (2, 3), (2, 3), 3_000),
    "district": Scale("district", None, None, 150_000),
}


@dataclass
class AdminPlan:
    """The admin hierarchy in local metres; rows are dicts with a ``geom`` (metres) entry."""

    district: District
    frame: LocalFrame
    boundary: shapely.MultiPolygon
    density: DensityField
    streets: list[dict] = field(default_factory=list)
    communities: list[dict] = field(default_factory=list)
    grids: list[dict] = field(default_factory=list)
    namer: nm.UniqueNamer | None = None  # community names never repeat within the district


def _street_specs(district: District, frame: LocalFrame, boundary, rng) -> list[dict]:
    """Name, kind, anchor (x, y metres) and population target of each street/town."""
    if (district.province, district.name) == ("上海市", "宝山区"):
        specs = []
        for name, lon, lat, pop in BAOSHAN_STREETS:
            x, y = frame.xy(lon, lat)
            specs.append({"name": name, "kind": name[-2:] if name.endswith("街道") else "镇",
                          "anchor": (float(x), float(y)), "population": pop})
    else:
        specs = _generated_specs(boundary, rng)
    inner = shapely.buffer(boundary, -200)
    inner = boundary if inner.is_empty else inner
    shapely.prepare(inner)
    for s in specs:
        pt = shapely.Point(s["anchor"])
        if not inner.contains(pt):  # snap an anchor outside the district to the nearest interior point
            snapped = nearest_points(inner, pt)[0]
            s["anchor"] = (snapped.x, snapped.y)
    return specs


def _generated_specs(boundary, rng) -> list[dict]:
    """Streets/towns for a district without a table: seeded anchors, generated names."""
    area_km2 = boundary.area / 1e6
    n = int(np.clip(round(area_km2 / 25), 5, 15))
    anchors = kmeans_seeds(sample_in(boundary, 60 * n, rng), n, rng)
    total = float(np.clip(area_km2 * 3_500, 150_000, 1_500_000))
    weight = rng.lognormal(0, 0.5, n)
    core = anchors[int(np.argmax(weight))]
    dist = np.hypot(*(anchors - core).T)
    # The anchors nearest the main core are 街道; a small (city-core) district has no towns.
    urban = (dist <= np.quantile(dist, 0.4)) | (area_km2 < 100)
    namer = nm.place_namer(rng)
    specs = []
    for i in np.argsort(~urban, kind="stable"):
        kind = "街道" if urban[i] else "镇"
        specs.append({"name": namer.take([kind]), "kind": kind, "anchor": tuple(anchors[i]),
                      "population": int(round(total * weight[i] / weight.sum(), -3))})
    return specs


def _density_field(specs: list[dict], street_geoms: list, rng) -> DensityField:
    """Gaussian cores at each street's centre plus a few seeded estate clusters per street."""
    centres, sigmas, weights = [], [], []
    for s, geom in zip(specs, street_geoms, strict=True):
        centres.append(s["anchor"])
        sigmas.append(1_500.0 if s["kind"] == "街道" else 1_100.0)
        weights.append(1.0)
        k = int(rng.integers(2, 7))
        centres.extend(map(tuple, sample_in(geom, k, rng)))
        sigmas.extend(rng.uniform(350, 900, k).tolist())
        weights.extend(rng.uniform(0.3, 1.0, k).tolist())
    return DensityField(np.array(centres), np.array(sigmas), np.array(weights))


def _tile(parent, n: int, density: DensityField, rng, per_seed: int = 40) -> tuple[list, np.ndarray]:
    """Split ``parent`` into ``n`` pieces of similar density mass; returns pieces and mass shares."""
    if n <= 1:
        return [parent], np.ones(1)
    pts = sample_in(parent, max(per_seed * n, 200), rng, density)
    seeds = kmeans_seeds(pts, n, rng)
    pieces = partition(parent, seeds)
    d = ((pts[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2)
    share = np.bincount(np.argmin(d, axis=1), minlength=n) / len(pts)
    return pieces, share


def _n_communities(scale: Scale, population: int, rng) -> int:
    if scale.communities:
        return int(rng.integers(scale.communities[0], scale.communities[1] + 1))
    return int(np.clip(round(25 + population / 25_000), 30, 40))


def _grid_households(scale: Scale, households: float, rng) -> np.ndarray:
    """Households of each grid of one community (each within 300–500)."""
    lo, hi = HOUSEHOLDS_PER_GRID
    if scale.grids:
        n = int(rng.integers(scale.grids[0], scale.grids[1] + 1))
        return rng.integers(lo + 20, hi - 20, n)
    n = max(1, int(round(households / 400)))
    each = households / n * (1 + rng.normal(0, 0.08, n))
    return np.clip(np.round(each), lo, hi).astype(int)


def build_admin(district: District, scale: Scale, rng_for) -> AdminPlan:
    """The whole hierarchy: streets tile the district, communities each street, grids each community.

    ``rng_for(key)`` returns the random generator of one named step, so adding a step never
    changes the numbers drawn by another.
    """
    c = district.boundary.centroid
    frame = LocalFrame(c.x, c.y)
    boundary = frame.to_xy(district.boundary)
    specs = _street_specs(district, frame, boundary, rng_for("streets"))
    street_geoms = partition(boundary, np.array([s["anchor"] for s in specs]))
    density = _density_field(specs, street_geoms, rng_for("density"))
    plan = AdminPlan(district, frame, boundary, density, namer=nm.place_namer(rng_for("names")))
    plan.streets = _streets(district, specs, street_geoms)
    rng = rng_for("communities")
    for street in plan.streets:
        _add_communities(plan, street, scale, rng)
    rng = rng_for("grids")
    for community in plan.communities:
        _add_grids(plan, community, scale, rng)
    people = {}
    for g in plan.grids:
        people[g["community_code"]] = people.get(g["community_code"], 0) + g["households"]
    for community in plan.communities:
        community["households"] = people[community["code"]]
        community["population"] = int(round(community["households"] * community["household_size"]))
    for street in plan.streets:
        street["population"] = sum(c["population"] for c in plan.communities if c["parent_code"] == street["code"])
    return plan


def _streets(district: District, specs: list[dict], geoms: list) -> list[dict]:
    rows, n_sub, n_town = [], 0, 0
    for s, geom in zip(specs, geoms, strict=True):
        if s["kind"] == "街道":
            n_sub += 1
            num = n_sub
        else:
            n_town += 1
            num = 100 + n_town
        rows.append({"code": f"{district.code}{num:03d}", "name": s["name"], "kind": s["kind"],
                     "level": "street", "parent_code": district.code, "target": s["population"],
                     "geom": geom})
    return rows


def _add_communities(plan: AdminPlan, street: dict, scale: Scale, rng) -> None:
    n = _n_communities(scale, street["target"], rng)
    pieces, share = _tile(street["geom"], n, plan.density, rng)
    nominal = street["target"] * share
    per_km2 = nominal / np.maximum(shapely.area(np.asarray(pieces, dtype=object)) / 1e6, 1e-3)
    rural = [street["kind"] == "镇" and d < 3_000 for d in per_km2]
    names = nm.community_names(plan.namer, rural)
    n_urban = n_rural = 0
    for piece, pop, dens, is_rural, (short, official) in zip(pieces, nominal, per_km2, rural, names, strict=True):
        if is_rural:
            n_rural += 1
            num = 200 + n_rural
        else:
            n_urban += 1
            num = n_urban
        plan.communities.append({
            "code": f"{street['code']}{num:03d}", "name": official, "short": short, "level": "community",
            "parent_code": street["code"], "street_name": street["name"], "rural": is_rural,
            "nominal": float(pop), "per_km2": float(dens), "household_size": float(rng.uniform(2.3, 2.8)),
            "geom": piece,
        })


def _add_grids(plan: AdminPlan, community: dict, scale: Scale, rng) -> None:
    households = _grid_households(scale, community["nominal"] / community["household_size"], rng)
    pieces, _ = _tile(community["geom"], len(households), plan.density, rng, per_seed=30)
    supervisors = nm.supervisor_names(rng, len(pieces))
    for k, (piece, hh, who) in enumerate(zip(pieces, households.tolist(), supervisors, strict=True), start=1):
        plan.grids.append({
            "code": f"{community['code']}{k:03d}", "name": f"{community['short']}{k}号网格",
            "community_code": community["code"], "street_code": community["parent_code"],
            "supervisor": who, "households": int(hh), "per_km2": community["per_km2"],
            "rural": community["rural"], "geom": piece,
        })
