"""The demo population: size, structure, rates, spatial pattern, determinism, PIPL minimum."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geodata.demo import build_demo
from geodata.population import fetch_demand_by_address
from geodata.population.demo import build_demo_population

YEAR = 2026


@pytest.fixture(scope="module")
def demo():
    return build_demo(scale="small", seed=42)


@pytest.fixture(scope="module")
def pop(demo):
    return build_demo_population(demo, YEAR)


def test_same_seed_same_population_other_seed_differs(demo, pop):
    again = build_demo_population(demo, YEAR)
    for a, b in ((pop.households, again.households), (pop.residents, again.residents), (pop.tags, again.tags)):
        pd.testing.assert_frame_equal(a, b)
    other = build_demo_population(build_demo(scale="small", seed=7), YEAR)
    assert not np.array_equal(other.residents["birth_year"].to_numpy()[:1000],
                              pop.residents["birth_year"].to_numpy()[:1000])


def test_households_follow_the_addresses(demo, pop):
    assert len(pop.households) == demo.addresses["households"].sum()
    sizes = pop.residents.groupby("household").size()
    assert (sizes.to_numpy() == pop.households["size"].to_numpy()[sizes.index]).all()
    assert pop.households["size"].between(1, 10).all()
    assert 2.4 < len(pop.residents) / len(pop.households) < 3.2


def test_age_pyramid_and_tag_rates(pop):
    age = YEAR - pop.residents["birth_year"].to_numpy()
    assert age.min() >= 0 and age.max() <= 100
    assert 0.18 < (age >= 60).mean() < 0.35
    assert 0.07 < (age < 18).mean() < 0.18
    rate = pop.tags["tag"].value_counts() / len(pop.residents)
    expected = {"minor": (0.07, 0.18), "elderly_alone": (0.02, 0.08), "disabled": (0.015, 0.05),
                "floating": (0.1, 0.5), "low_income": (0.005, 0.05), "mental_health": (0.002, 0.01),
                "correction": (0.0001, 0.002), "drug_rehab": (0.0001, 0.002)}
    for tag, (lo, hi) in expected.items():
        assert lo < rate[tag] < hi, (tag, rate[tag])
    tagged_age = age[pop.tags["resident"].to_numpy()]
    assert (tagged_age[pop.tags["tag"].to_numpy() == "minor"] < 18).all()
    assert (tagged_age[pop.tags["tag"].to_numpy() == "elderly_alone"] >= 60).all()
    assert not pop.tags.duplicated().any()


def test_older_centres_are_older_than_new_estates(demo, pop):
    names = demo.admin_areas.set_index("code")["name"]
    street = names.reindex(pop.households["street_code"].to_numpy()[pop.residents["household"].to_numpy()])
    old = pd.Series(YEAR - pop.residents["birth_year"].to_numpy() >= 60).groupby(street.to_numpy()).mean()
    assert old[["友谊路街道", "张庙街道"]].mean() > old[["顾村镇", "罗店镇"]].mean() + 0.08


def test_demo_db_holds_the_population(demo_db):
    with demo_db.connect() as conn:
        n_res, n_hh = conn.execute("SELECT (SELECT count(*) FROM resident), (SELECT count(*) FROM household)").fetchone()
        assert n_res > 50_000 and n_hh > 20_000
        wrong = conn.execute("""
            SELECT count(*) FROM resident r JOIN household h ON h.id = r.household_id
              JOIN address a ON a.id = r.address_id
             WHERE h.address_id <> r.address_id OR a.street_code <> r.street_code
                OR h.street_code <> r.street_code""").fetchone()[0]
        assert wrong == 0
        sizes = conn.execute("""
            SELECT count(*) FROM household h
             WHERE h.size <> (SELECT count(*) FROM resident r WHERE r.household_id = h.id)""").fetchone()[0]
        assert sizes == 0
        columns = {r[0] for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'resident'")}
        # PIPL minimum: nothing that names or identifies a person directly.
        assert columns == {"id", "household_id", "address_id", "street_code", "birth_year", "sex", "ref_hash"}
        demand = fetch_demand_by_address(conn, min_age=0, max_age=5)
        kids = conn.execute("SELECT count(*) FROM resident WHERE birth_year >= extract(year FROM now()) - 5"
                            ).fetchone()[0]
        assert demand["n"].sum() == kids > 0
