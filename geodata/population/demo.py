"""The demo district's population: built from :class:`~geodata.demo.DemoData`, written in bulk."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import psycopg

from geodata.errors import ConfigError
from geodata.population.store import address_ids, copy_population
from geodata.population.synth import Population, build_population
from geodata.settings import get_settings


def reference_year() -> int:
    """The current year in the district's time zone (ages are counted from it)."""
    return datetime.now(ZoneInfo(get_settings().timezone)).year


def build_demo_population(data, ref_year: int | None = None) -> Population:
    """Households, residents and tags of a built demo; same demo seed → same population."""
    from geodata.demo.build import step_rng

    return build_population(data, ref_year or reference_year(), step_rng(data.seed, "population"))


def write_demo_population(conn: psycopg.Connection, data, ref_year: int | None = None) -> dict[str, int]:
    """Build the demo population and write it after the demo's addresses (caller's transaction)."""
    pop = build_demo_population(data, ref_year)
    ids = address_ids(conn, data.addresses["code"])
    missing = set(data.addresses["code"]) - set(ids.index)
    if missing:
        raise ConfigError(f"{len(missing)} demo addresses are not in the database; load the demo addresses first")
    households = pop.households.assign(address_id=ids["id"].reindex(pop.households["address_code"]).to_numpy())
    return copy_population(conn, households, pop.residents, pop.tags)
