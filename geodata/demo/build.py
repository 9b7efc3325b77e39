"""Build the whole demo district in memory: :func:`build_demo` → :class:`DemoData`.

Every random draw comes from a generator derived from ``(seed, step name)``, so the same seed
gives byte-identical data on any machine and in any process (no Python ``hash()``, no set
iteration order), and adding a step never changes what another step draws.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm import tqdm

from geodata.demo.district import DEFAULT_DISTRICT, District, resolve_district
from geodata.demo.synth_addresses import build_addresses, label_addresses
from geodata.demo.synth_admin import SCALES, AdminPlan, build_admin
from geodata.demo.synth_facilities import build_facilities
from geodata.demo.synth_roads import build_roads
from geodata.errors import InvalidInput

CRS = "EPSG:4326"


@dataclass(frozen=True)
class DemoData:
    """The demo district as GeoDataFrames in EPSG:4326 (lon, lat), ready for :mod:`geodata.store`.

    Columns are the writers' canonical ones; a few extra columns the writers do not need are
    kept for checks and reports: ``grids.street_code``, ``addresses.grid_code/community_code/
    street_code/households`` and ``facilities.grid_code``. Admin areas come parents first.
    """

    district: District
    scale: str
    seed: int
    admin_areas: gpd.GeoDataFrame
    grids: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    addresses: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame

    def counts(self) -> dict[str, int]:
        """Rows per table, e.g. ``{"admin_area": 397, "grid": 1921, ...}``."""
        return {"admin_area": len(self.admin_areas), "grid": len(self.grids), "road": len(self.roads),
                "address": len(self.addresses), "facility": len(self.facilities)}


def step_rng(seed: int, key: str) -> np.random.Generator:
    """The generator of one build step: derived from ``(seed, key)`` only."""
    digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big")
    return np.random.default_rng([int(seed), digest])


def _check(district: str, scale: str, seed: int) -> None:
    if scale not in SCALES:
        raise InvalidInput(f"scale {scale!r}: choose one of {', '.join(SCALES)}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise InvalidInput(f"seed {seed!r}: a whole number from 0 to 2^63-1")
    if not isinstance(district, str):
        raise InvalidInput("district must be a name like 上海市/宝山区")


def build_demo(district: str = DEFAULT_DISTRICT, scale: str = "small", seed: int = 42,
               progress: bool = False) -> DemoData:
    """Generate the demo district.

    Parameters
    ----------
    district : str
        ``区``, ``市/区`` or ``省/市/区`` (e.g. ``上海市/宝山区``); its real boundary comes from cnmaps.
    scale : {"small", "district"}
        ``small`` (tests: ~80 grids, ~3,000 addresses) or ``district`` (~2,000 grids, ~150,000 addresses).
    seed : int
        Same seed, same data, byte for byte.
    progress : bool
        Show a tqdm progress bar on stderr.

    Raises
    ------
    InvalidInput, NotFound
        Bad scale or seed; unknown or ambiguous district.
    """
    _check(district, scale, seed)
    cfg = SCALES[scale]
    steps = tqdm(total=6, desc="demo", unit="step", file=sys.stderr, disable=not progress, leave=False)

    def rng_for(key: str) -> np.random.Generator:
        return step_rng(seed, key)

    steps.set_description("demo: district boundary")
    place = resolve_district(district)
    steps.update()
    steps.set_description("demo: streets, communities, grids")
    plan = build_admin(place, cfg, rng_for)
    steps.update()
    steps.set_description("demo: roads")
    roads = build_roads(plan, rng_for("roads"))
    steps.update()
    steps.set_description("demo: addresses")
    with tqdm(total=len(plan.grids), desc="demo: addresses by grid", unit="grid", file=sys.stderr,
              disable=not progress, leave=False) as bar:
        addr = build_addresses(plan, cfg.addresses, rng_for("addresses"), bar)
    labels = label_addresses(plan, roads, addr, rng_for("doors"))
    steps.update()
    steps.set_description("demo: facilities")
    fac = build_facilities(plan, addr, labels, rng_for("facilities"))
    steps.update()
    steps.set_description("demo: to WGS-84")
    data = _to_frames(plan, roads, addr, labels, fac, scale, seed)
    steps.update()
    steps.close()
    return data


def _to_frames(plan: AdminPlan, roads, addr, labels, fac, scale: str, seed: int) -> DemoData:
    frame = plan.frame

    def polygons(rows: list[dict]) -> np.ndarray:
        geoms = frame.to_lonlat(np.asarray([r["geom"] for r in rows], dtype=object))
        single = shapely.get_type_id(geoms) == 3  # Polygon → MultiPolygon, the column's type
        geoms[single] = [shapely.MultiPolygon([g]) for g in geoms[single]]
        return geoms

    def points(x, y) -> np.ndarray:
        lon, lat = frame.lonlat(x, y)
        return shapely.points(lon, lat)

    d = plan.district
    district_row = {"code": d.code, "name": d.name, "level": "district", "parent_code": None,
                    "population": sum(s["population"] for s in plan.streets), "geom": plan.boundary}
    admin_rows = [district_row, *plan.streets, *plan.communities]
    admin = gpd.GeoDataFrame({
        "code": [r["code"] for r in admin_rows], "name": [r["name"] for r in admin_rows],
        "level": [r["level"] for r in admin_rows], "parent_code": [r["parent_code"] for r in admin_rows],
        "population": [int(r["population"]) for r in admin_rows],
    }, geometry=polygons(admin_rows), crs=CRS)
    grids = gpd.GeoDataFrame(
        {k: [g[k] for g in plan.grids] for k in ("code", "name", "community_code", "supervisor", "households",
                                                  "street_code")},
        geometry=polygons(plan.grids), crs=CRS)
    road_gdf = gpd.GeoDataFrame({"name": [r["name"] for r in roads], "kind": [r["kind"] for r in roads]},
                                geometry=frame.to_lonlat(np.asarray([r["geom"] for r in roads], dtype=object)),
                                crs=CRS)
    grid_code = np.array([g["code"] for g in plan.grids], dtype=object)
    comm_code = np.array([g["community_code"] for g in plan.grids], dtype=object)
    street_code = np.array([g["street_code"] for g in plan.grids], dtype=object)
    addresses = gpd.GeoDataFrame({
        "code": labels["code"], "full_text": labels["full_text"], "road": labels["road"],
        "number": labels["number"], "building": labels["building"], "unit": labels["unit"],
        "grid_code": grid_code[addr["grid"]], "community_code": comm_code[addr["grid"]],
        "street_code": street_code[addr["grid"]], "households": addr["hh"].astype(int),
    }, geometry=points(addr["x"], addr["y"]), crs=CRS)
    facilities = gpd.GeoDataFrame({
        "code": fac["code"], "kind": fac["kind"], "name": fac["name"],
        "capacity": pd.array(fac["capacity"], dtype="Int64"), "address_id": pd.array([None] * len(fac["code"]),
                                                                                      dtype="Int64"),
        "grid_code": grid_code[fac["grid"]],
    }, geometry=points(fac["x"], fac["y"]), crs=CRS)
    return DemoData(d, scale, seed, admin, grids, road_gdf, addresses, facilities)
