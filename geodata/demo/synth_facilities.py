"""Facilities of every kind for the demo, counted by plausible rates and placed near addresses.

Counts follow the life-circle norms loosely (GB 50180-2018): one service centre, clinic and
fire station per street/town, schools and kindergartens by population, a service station
and care services per community, video points and smart lockers per grid. Capacities are in
the unit natural to each kind (pupils, places, stalls, compartments, staff); video points
have none. Coordinates are local metres.
"""

from __future__ import annotations

import numpy as np
import shapely

from geodata.demo.synth_addresses import INSET_M
from geodata.demo.synth_admin import AdminPlan

#: The facility kinds of migration 0001 (``facility_kind``: code → name_zh), in its sort order.
FACILITY_KINDS = {
    "service_centre": "社区服务中心", "elderly_day_care": "老年日间照料", "clinic": "社区卫生服务站",
    "kindergarten": "幼儿园", "primary_school": "小学", "secondary_school": "中学", "police_post": "警务站",
    "fire_station": "消防站", "video_point": "视频监控点", "iot_gateway": "物联网关",
    "smart_locker": "智能快递柜", "public_toilet": "公共厕所", "market": "菜市场", "small_park": "口袋公园",
}


def _short(street_name: str) -> str:
    return street_name.removesuffix("街道").removesuffix("镇")


def _street_requests(plan: AdminPlan, rng) -> list[tuple]:
    """(kind, scope, index, name template, capacity range) for street/town-level facilities."""
    out = []
    for i, s in enumerate(plan.streets):
        pop, name = s["population"], s["name"]
        out += [("service_centre", "street", i, f"{name}社区事务受理服务中心", (200, 400)),
                ("clinic", "street", i, f"{name}社区卫生服务中心", (150, 400)),
                ("fire_station", "street", i, f"{_short(name)}消防救援站", (20, 40))]
        if s["geom"].area > 30e6:
            out.append(("fire_station", "street", i, "{road}消防救援站", (15, 30)))
        for kind, n, tmpl, cap in (
            ("primary_school", pop / 25_000, "{road}小学", (600, 1500)),
            ("secondary_school", pop / 45_000, "{road}中学", (800, 1600)),
            ("kindergarten", pop * 0.025 / 250, "{road}幼儿园", (150, 360)),
            ("market", pop / 30_000, "{road}菜市场", (40, 150)),
        ):
            out += [(kind, "street", i, tmpl, cap)] * max(1, int(round(n)))
    return out


def _community_requests(plan: AdminPlan, rng) -> list[tuple]:
    out = []
    for i, c in enumerate(plan.communities):
        short = c["short"]
        out.append(("service_centre", "community", i, f"{short}社区服务站", (40, 80)))
        if c["population"] >= 3_000 or rng.random() < 0.5:
            out.append(("elderly_day_care", "community", i, f"{short}老年日间照料中心", (20, 60)))
        if rng.random() < (0.9 if c["rural"] else 0.5):
            out.append(("clinic", "community", i, f"{short}{'卫生室' if c['rural'] else '卫生服务站'}", (20, 60)))
        if rng.random() < 0.6:
            out.append(("police_post", "community", i, "{road}警务站", (4, 12)))
        out += [("iot_gateway", "community", i, f"{short}物联网关{k}", (64, 512))
                for k in range(1, 2 + int(rng.random() < 0.5))]
        out += [("public_toilet", "community", i, "{road}公共厕所", (6, 16))] * (1 + int(rng.random() < 0.4))
        if rng.random() < 0.7:
            out.append(("small_park", "community", i, f"{short}口袋公园", (50, 300)))
    return out


def _grid_requests(plan: AdminPlan, rng) -> list[tuple]:
    out = []
    for i, g in enumerate(plan.grids):
        out += [("video_point", "grid", i, "{road}{number}视频监控点", None)] * max(1, g["households"] // 120)
        out += [("smart_locker", "grid", i, "{road}{number}智能快递柜", (60, 240))] * int(
            rng.integers(0 if g["rural"] else 1, 3)
        )
    return out


def build_facilities(plan: AdminPlan, addr: dict, labels: dict, rng: np.random.Generator) -> dict:
    """Facilities as column arrays: ``code, kind, name, capacity, x, y, grid`` (grid index)."""
    requests = _street_requests(plan, rng) + _community_requests(plan, rng) + _grid_requests(plan, rng)
    present = {r[0] for r in requests}
    for kind, name_zh in FACILITY_KINDS.items():  # every kind at least once, whatever the dice said
        if kind not in present:
            requests.append((kind, "street", 0, "{road}" + name_zh, None))
    pools = _address_pools(plan, addr)
    chosen = np.array([pools[scope][idx][int(rng.integers(len(pools[scope][idx])))]
                       for _, scope, idx, _, _ in requests])
    x, y, grid = _near(plan, addr, chosen, rng)
    names, seen = [], {}
    codes, seq = [], {}
    for (_, _, _, tmpl, _), a, g in zip(requests, chosen.tolist(), grid.tolist(), strict=True):
        name = tmpl.format(road=labels["road"][a], number=labels["number"][a])
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name}（{seen[name]}）")
        seq[g] = seq.get(g, 0) + 1
        codes.append(f"F{plan.grids[g]['code']}{seq[g]:03d}")
    capacity = [None if cap is None else int(rng.integers(cap[0], cap[1] + 1)) for *_, cap in requests]
    return {"code": codes, "kind": [r[0] for r in requests], "name": names, "capacity": capacity,
            "x": x, "y": y, "grid": grid}


def _address_pools(plan: AdminPlan, addr: dict) -> dict[str, list[np.ndarray]]:
    """Address indices per grid, community and street (each non-empty)."""
    order = np.argsort(addr["grid"], kind="stable")
    by_grid = np.split(order, np.searchsorted(addr["grid"][order], np.arange(1, len(plan.grids))))
    comm_index = {c["code"]: i for i, c in enumerate(plan.communities)}
    street_index = {s["code"]: i for i, s in enumerate(plan.streets)}
    by_comm: list[list[np.ndarray]] = [[] for _ in plan.communities]
    by_street: list[list[np.ndarray]] = [[] for _ in plan.streets]
    for g, idx in zip(plan.grids, by_grid, strict=True):
        by_comm[comm_index[g["community_code"]]].append(idx)
        by_street[street_index[g["street_code"]]].append(idx)
    return {"grid": by_grid, "community": [np.concatenate(v) for v in by_comm],
            "street": [np.concatenate(v) for v in by_street]}


def _near(plan: AdminPlan, addr: dict, chosen: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A point 6–25 m from each chosen address, kept inside the address's grid."""
    grid = addr["grid"][chosen]
    inner = shapely.buffer(np.asarray([g["geom"] for g in plan.grids], dtype=object), -INSET_M)
    r = rng.uniform(6, 25, len(chosen))
    a = rng.uniform(0, 2 * np.pi, len(chosen))
    x = addr["x"][chosen] + r * np.cos(a)
    y = addr["y"][chosen] + r * np.sin(a)
    ok = shapely.contains_xy(inner[grid], x, y)
    x = np.where(ok, x, addr["x"][chosen])
    y = np.where(ok, y, addr["y"][chosen])
    return x, y, grid
