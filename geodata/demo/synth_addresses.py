"""Standard addresses (标准地址) of the demo: residential estates and houses inside every grid.

Urban grids are mostly estates (小区): rows of buildings (号/栋) with 2–4 entrances (单元),
all behind one lane number on the nearest road (…路1211弄12号2单元). Rural grids are mostly
village houses with a door number (…路88号). Each grid's households are split over its
addresses so that they add up to the grid's total. Coordinates are local metres.
"""

from __future__ import annotations

import numpy as np
import shapely

from geodata.demo.synth_admin import AdminPlan
from geodata.demo.tiling import sample_in

INSET_M = 2.0  # addresses keep this far inside their grid, so no boundary point is ambiguous
BUILDING_SPACING_M = (28.0, 42.0)
UNIT_SPACING_M = 11.0
MAX_BUILDINGS = 30


def urbanity(per_km2: np.ndarray) -> np.ndarray:
    """0 (rural, ≤ 500 people/km²) … 1 (dense city, ≥ 10,000 people/km²), log-scaled."""
    return np.clip((np.log10(np.maximum(per_km2, 1.0)) - 2.7) / 1.3, 0.0, 1.0)


def address_counts(plan: AdminPlan, target: int) -> np.ndarray:
    """Addresses per grid: urban grids have many households per entrance, rural ones ~2 a house."""
    hh = np.array([g["households"] for g in plan.grids], dtype=float)
    u = urbanity(np.array([g["per_km2"] for g in plan.grids]))
    raw = hh / (1.8 + 8.0 * u)
    n = np.round(raw * target / raw.sum()).astype(int)
    return np.clip(n, 3, hh.astype(int))


def build_addresses(plan: AdminPlan, target: int, rng: np.random.Generator, progress=None) -> dict:
    """Addresses of every grid as column arrays (``x``, ``y`` in metres, door/estate info)."""
    counts = address_counts(plan, target)
    u_all = urbanity(np.array([g["per_km2"] for g in plan.grids]))
    cols: dict[str, list] = {k: [] for k in ("x", "y", "grid", "estate", "building", "unit", "hh")}
    estates: list[tuple[float, float, int, str]] = []  # door x, y, grid index, building word
    for gi, (grid, n, u) in enumerate(zip(plan.grids, counts.tolist(), u_all.tolist(), strict=True)):
        inner = shapely.buffer(grid["geom"], -INSET_M)
        inner = grid["geom"] if inner.is_empty else inner
        shapely.prepare(inner)
        n_estate = int(round(n * (0.15 + 0.85 * u)))
        ex, ey, eb, eu, eid = _estates(inner, n_estate, gi, rng, plan, estates)
        hx, hy = sample_in(inner, n - len(ex), rng, plan.density).T
        x = np.concatenate([ex, hx])
        y = np.concatenate([ey, hy])
        weight = np.concatenate([rng.uniform(4 + 8 * u, 10 + 10 * u, len(ex)), rng.uniform(1, 3, len(hx))])
        cols["x"].append(x)
        cols["y"].append(y)
        cols["grid"].append(np.full(len(x), gi))
        cols["estate"].append(np.concatenate([eid, np.full(len(hx), -1)]))
        cols["building"].append(np.concatenate([eb, np.zeros(len(hx), dtype=int)]))
        cols["unit"].append(np.concatenate([eu, np.zeros(len(hx), dtype=int)]))
        cols["hh"].append(split_households(grid["households"], weight))
        if progress is not None:
            progress.update(1)
    out = {k: np.concatenate(v) for k, v in cols.items()}
    out["estates"] = estates
    return out


def _estates(inner, n: int, gi: int, rng, plan: AdminPlan, estates: list):
    """Place estates in one grid until ``n`` entrances (addresses) exist (or the grid is full)."""
    xs, ys, bs, us, ids = [], [], [], [], []
    have = 0
    for _ in range(12):
        if have >= n:
            break
        units = int(rng.integers(2, 5))
        n_buildings = int(min(MAX_BUILDINGS, np.ceil((n - have) / units)))
        centre = sample_in(inner, 1, rng, plan.density)[0]
        bx, by = _lattice(centre, n_buildings, rng)
        inside = shapely.contains_xy(inner, bx, by)
        bx, by = bx[inside], by[inside]
        if len(bx) == 0:
            continue
        angle = rng.uniform(0, np.pi)
        offset = (np.arange(units) - (units - 1) / 2) * UNIT_SPACING_M
        ux = (bx[:, None] + offset * np.cos(angle)).ravel()
        uy = (by[:, None] + offset * np.sin(angle)).ravel()
        b = np.repeat(np.arange(1, len(bx) + 1), units)
        un = np.tile(np.arange(1, units + 1), len(bx))
        ok = shapely.contains_xy(inner, ux, uy)
        take = np.flatnonzero(ok)[: n - have]
        if len(take) == 0:
            continue
        estates.append((float(centre[0]), float(centre[1]), gi, "栋" if rng.random() < 0.3 else "号"))
        xs.append(ux[take])
        ys.append(uy[take])
        bs.append(b[take])
        us.append(un[take])
        ids.append(np.full(len(take), len(estates) - 1))
        have += len(take)
    if not xs:
        return (np.empty(0), np.empty(0), np.empty(0, dtype=int), np.empty(0, dtype=int), np.empty(0, dtype=int))
    return tuple(np.concatenate(a) for a in (xs, ys, bs, us, ids))


def _lattice(centre: np.ndarray, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n`` building positions in rows around ``centre``, rotated, slightly irregular."""
    cols = int(np.ceil(np.sqrt(n)))
    rows = int(np.ceil(n / cols))
    spacing = rng.uniform(*BUILDING_SPACING_M)
    gx, gy = np.meshgrid(np.arange(cols) - (cols - 1) / 2, np.arange(rows) - (rows - 1) / 2)
    gx, gy = gx.ravel()[:n] * spacing, gy.ravel()[:n] * spacing * 1.3  # rows further apart (sunlight)
    angle = rng.uniform(-0.5, 0.5)
    x = centre[0] + gx * np.cos(angle) - gy * np.sin(angle) + rng.normal(0, 2.0, n)
    y = centre[1] + gx * np.sin(angle) + gy * np.cos(angle) + rng.normal(0, 2.0, n)
    return x, y


def split_households(total: int, weight: np.ndarray) -> np.ndarray:
    """Integers ≥ 1 proportional to ``weight`` that add up to ``total`` (largest remainder)."""
    n = len(weight)
    if n == 0:
        return np.zeros(0, dtype=int)
    spare = max(total - n, 0)
    share = weight / weight.sum() * spare
    base = np.floor(share).astype(int)
    left = spare - int(base.sum())
    if left:
        base[np.argsort(-(share - base), kind="stable")[:left]] += 1
    return base + 1


def label_addresses(plan: AdminPlan, roads: list[dict], addr: dict, rng: np.random.Generator) -> dict:
    """Road, number, building, unit and full text of every address.

    Each door (an estate's gate or a house) takes the name of its nearest road; door numbers
    rise along each road (odd numbers, random gaps), as Chinese door plates do.
    """
    road_geoms = np.asarray([r["geom"] for r in roads], dtype=object)
    estate_xy = np.array([(e[0], e[1]) for e in addr["estates"]]).reshape(-1, 2)
    house = addr["estate"] < 0
    door_xy = np.concatenate([estate_xy, np.column_stack([addr["x"][house], addr["y"][house]])])
    doors = shapely.points(door_xy)
    _, nearest = shapely.STRtree(road_geoms).query_nearest(doors, all_matches=False)
    position = shapely.line_locate_point(road_geoms[nearest], doors)
    # One named road is several chains between junctions: number doors per name, chain by chain.
    name_ids = {}
    name_of = np.array([name_ids.setdefault(r["name"], len(name_ids)) for r in roads])[nearest]
    order = np.lexsort((position, nearest, name_of))
    # An estate's gate takes a stretch of frontage (numbers jump by tens); houses sit side by side.
    steps = np.concatenate([rng.integers(8, 60, len(estate_xy)), rng.integers(1, 6, len(doors) - len(estate_xy))])
    steps = steps[order]
    csum = np.cumsum(steps)
    first = np.r_[True, name_of[order][1:] != name_of[order][:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    numbers = np.empty(len(doors), dtype=int)
    numbers[order] = 2 * (csum - np.r_[0, csum][start]) - 1

    n_est = len(estate_xy)
    door_of = np.where(house, n_est + np.cumsum(house) - 1, addr["estate"])
    road_idx = nearest[door_of]
    num = numbers[door_of]
    words = [e[3] for e in addr["estates"]]
    street_name = {s["code"]: s["name"] for s in plan.streets}
    road_name = [r["name"] for r in roads]
    out = {"road": [], "number": [], "building": [], "unit": [], "full_text": [], "code": []}
    seq: dict[int, int] = {}
    prefix = plan.district.address_prefix
    for g, e, b, u, r, n in zip(addr["grid"].tolist(), addr["estate"].tolist(), addr["building"].tolist(),
                                addr["unit"].tolist(), road_idx.tolist(), num.tolist(), strict=True):
        grid = plan.grids[g]
        seq[g] = seq.get(g, 0) + 1
        road = road_name[r]
        if e >= 0:
            number, building, unit = f"{n}弄", f"{b}{words[e]}", f"{u}单元"
        else:
            number, building, unit = f"{n}号", None, None
        out["road"].append(road)
        out["number"].append(number)
        out["building"].append(building)
        out["unit"].append(unit)
        out["full_text"].append(
            f"{prefix}{street_name[grid['street_code']]}{road}{number}{building or ''}{unit or ''}"
        )
        out["code"].append(f"{grid['code']}{seq[g]:05d}")
    return out
