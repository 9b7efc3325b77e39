"""A synthetic but plausible population for the demo district: households, residents, tags.

Every address of the demo gets its households (the ``households`` the address generator gave
it); each household gets a type (elderly alone, elderly couple, young couple, families of 3/4,
three generations, …, collective rooms of floating workers) whose odds depend on the grid:

* *older centres* (宝山: 友谊路, 吴淞, 张庙 — 1950s–80s workers' estates) → many elderly
  households, ~35–40 % aged 60+;
* *new estates* (顾村, 大场, 罗店 large residential communities) → young families and children;
* *villages* (low-density grids of the towns) → older locals plus collective rooms of floating
  workers.

Tags follow age, household type and per-grid clustering (community correction, drug
rehabilitation and mental-health care cluster). Everything is numpy-vectorised and drawn from
one generator, so the same seed gives identical arrays. No names, no ID numbers: residents are
a birth year, a sex and an address (PIPL minimum).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

#: Elderliness (0 young … 1 old) of 宝山's streets/towns; others default by kind.
STREET_AGE = {"友谊路街道": 0.85, "吴淞街道": 0.8, "张庙街道": 0.85, "杨行镇": 0.5, "月浦镇": 0.55,
              "淞南镇": 0.55, "高境镇": 0.45, "庙行镇": 0.45, "罗泾镇": 0.6, "顾村镇": 0.2, "大场镇": 0.3,
              "罗店镇": 0.25}
#: Grids below this many households per km² count as villages.
VILLAGE_PER_KM2 = 1_200.0

# Household types: (name, members). Weights per grid come from _type_weights.
TYPES = ("elderly_single", "elderly_couple", "single_adult", "young_couple", "family3", "family4",
         "three_gen", "parents_adult_child", "collective")
SIZE = np.array([1, 2, 1, 2, 3, 4, 5, 3, 0])  # collective: drawn (2..10)
_ELDERLY_SINGLE, _ELDERLY_COUPLE, _SINGLE, _YOUNG, _F3, _F4, _THREE, _PAC, _COLLECTIVE = range(len(TYPES))


@dataclass(frozen=True)
class Population:
    """Column arrays, ready for :func:`geodata.population.store.copy_population`.

    ``households``: ``address_code``, ``size``, ``kind``, ``street_code`` (one row per household).
    ``residents``: ``household`` (row index into households), ``birth_year``, ``sex``.
    ``tags``: ``resident`` (row index into residents), ``tag``.
    """

    households: pd.DataFrame
    residents: pd.DataFrame
    tags: pd.DataFrame


def _type_weights(age: np.ndarray, village: np.ndarray) -> np.ndarray:
    """Household-type odds per grid (rows sum to 1): ``age`` elderliness 0..1, ``village`` 0/1."""
    e, r = age[:, None], village[:, None].astype(float)
    w = np.hstack([
        0.04 + 0.18 * e,             # elderly living alone
        0.06 + 0.28 * e,             # elderly couple (empty nest)
        0.09 + 0 * e,                # single adult
        0.15 - 0.10 * e,             # young couple
        0.27 - 0.17 * e,             # parents + child
        0.09 - 0.06 * e,             # parents + two children
        0.09 + 0.05 * r,             # three generations
        0.10 + 0 * e,                # middle-aged parents + adult child
        0.06 + 0.20 * r + 0.06 * (1 - e),  # collective rooms (floating workers)
    ])
    return w / w.sum(axis=1, keepdims=True)


def _grid_profile(data, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Elderliness, village flag and a clustering factor per grid (in ``data.grids`` order)."""
    grids = data.grids
    streets = data.admin_areas.set_index("code")["name"]
    names = streets.reindex(grids["street_code"]).to_numpy()
    base = np.array([STREET_AGE.get(n, 0.6 if str(n).endswith("街道") else 0.4) for n in names])
    geoms = np.asarray(grids.geometry.values, dtype=object)
    lat = np.radians(shapely.get_y(shapely.centroid(geoms)))
    km2 = shapely.area(geoms) * (111.32 ** 2) * np.cos(lat)  # degrees² → km² (local, < 1 % off)
    per_km2 = grids["households"].to_numpy() / np.maximum(km2, 1e-3)
    village = per_km2 < VILLAGE_PER_KM2
    age = np.clip(base + 0.2 * village + rng.normal(0, 0.08, len(grids)), 0.05, 0.95)
    cluster = rng.lognormal(0.0, 0.7, len(grids))
    return age, village, cluster


def build_population(data, ref_year: int, rng: np.random.Generator) -> Population:
    """Households, residents and tags for a built demo (:class:`geodata.demo.DemoData`).

    ``ref_year`` is the year ages are counted from (birth_year = ref_year - age).
    """
    age_g, village_g, cluster_g = _grid_profile(data, rng)
    addr = data.addresses
    grid_index = pd.Index(data.grids["code"]).get_indexer(addr["grid_code"])
    hh_per_addr = addr["households"].to_numpy().astype(np.int64)
    h_grid = np.repeat(grid_index, hh_per_addr)
    h_addr = np.repeat(np.arange(len(addr)), hh_per_addr)
    n_h = len(h_grid)
    cum = _type_weights(age_g, village_g).cumsum(axis=1)[h_grid]
    h_type = (rng.random(n_h)[:, None] > cum).sum(axis=1).clip(0, len(TYPES) - 1)
    size = SIZE[h_type].copy()
    coll = h_type == _COLLECTIVE
    size[coll] = rng.choice([2, 3, 4, 5, 6, 6, 8, 10], coll.sum())
    head = _head_ages(h_type, rng)

    r_h = np.repeat(np.arange(n_h), size)
    slot = np.arange(len(r_h)) - np.repeat(np.cumsum(size) - size, size)
    r_type = h_type[r_h]
    ages, sex = _member_ages_sexes(r_type, slot, head[r_h], rng)
    tags = _tags(r_h, r_type, ages, sex, h_grid, age_g, village_g, cluster_g, rng)

    households = pd.DataFrame({
        "address_code": addr["code"].to_numpy()[h_addr], "size": size.astype(np.int16),
        "kind": np.where(coll, "collective", "family"), "street_code": addr["street_code"].to_numpy()[h_addr],
    })
    residents = pd.DataFrame({"household": r_h, "birth_year": (ref_year - ages).astype(np.int16), "sex": sex})
    return Population(households, residents, tags)


def _head_ages(h_type: np.ndarray, rng) -> np.ndarray:
    n = len(h_type)
    old = 60 + np.minimum(rng.gamma(2.2, 6.0, n), 38)
    ranges = {_SINGLE: (22, 59), _YOUNG: (24, 38), _F3: (28, 50), _F4: (31, 48), _THREE: (30, 46),
              _PAC: (46, 64), _COLLECTIVE: (18, 45)}
    age = old.copy()
    for t, (lo, hi) in ranges.items():
        m = h_type == t
        age[m] = rng.uniform(lo, hi + 1, m.sum())
    return age


def _member_ages_sexes(r_type, slot, head, rng) -> tuple[np.ndarray, np.ndarray]:
    n = len(slot)
    spouse = head + rng.normal(-1.5, 2.5, n)
    child = head - rng.uniform(24, 36, n)
    grand = head + rng.uniform(24, 31, n)
    age = np.select(
        [slot == 0,
         (slot == 1) & (r_type != _COLLECTIVE),
         (slot >= 3) & (r_type == _THREE),
         r_type == _COLLECTIVE],
        [head, spouse, grand, 18 + np.minimum(rng.gamma(3.0, 3.5, n), 40)],
        child)
    age = np.where(age < 0, rng.uniform(0, 3, n), age)
    age = np.clip(age, 0, 100).astype(np.int64)
    male = rng.random(n) < np.where((r_type == _ELDERLY_SINGLE), 0.35, 0.5)
    couple = (slot == 1) & np.isin(r_type, [_ELDERLY_COUPLE, _YOUNG, _F3, _F4, _THREE, _PAC])
    male[couple] = ~np.r_[False, male[:-1]][couple]  # spouse: the other sex of the head
    male[(slot == 4) & (r_type == _THREE)] = ~male[np.flatnonzero((slot == 4) & (r_type == _THREE)) - 1]
    return age, np.where(male, "M", "F")


def _tags(r_h, r_type, age, sex, h_grid, age_g, village_g, cluster_g, rng) -> pd.DataFrame:
    n, n_h = len(r_h), len(h_grid)
    g = h_grid[r_h]
    clus = cluster_g[g]
    male = sex == "M"
    adult = age >= 18
    h_rent = rng.random(n_h) < (0.08 + 0.25 * village_g[h_grid] + 0.1 * (1 - age_g[h_grid]))
    h_poor = rng.random(n_h) < (0.006 + 0.015 * age_g[h_grid] + 0.012 * village_g[h_grid])
    u = lambda: rng.random(n)  # noqa: E731 - one fresh uniform per tag
    rules = {
        "elderly_alone": (r_type == _ELDERLY_SINGLE) & (age >= 60),
        "empty_nest": (r_type == _ELDERLY_COUPLE) & (age >= 60),
        "disabled": u() < 0.012 + 0.05 * (age >= 60) + 0.05 * (age >= 80),
        "minor": age < 18,
        "floating": (r_type == _COLLECTIVE) | (h_rent[r_h] & np.isin(r_type, [_SINGLE, _YOUNG, _F3])),
        "correction": adult & (age < 60) & (u() < np.where(male, 0.0009, 0.00015) * clus),
        "mental_health": adult & (u() < 0.004 * clus),
        "drug_rehab": adult & (age < 56) & (u() < np.where(male, 0.0012, 0.0003) * clus),
        "low_income": h_poor[r_h],
        "veteran": male & (age >= 25) & (u() < 0.025),
        "pregnant": ~male & (age >= 21) & (age <= 42) & (u() < 0.03),
    }
    idx, code = [], []
    for tag, mask in rules.items():
        hit = np.flatnonzero(mask)
        idx.append(hit)
        code.append(np.full(len(hit), tag, dtype=object))
    return pd.DataFrame({"resident": np.concatenate(idx), "tag": np.concatenate(code)})
