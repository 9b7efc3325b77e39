"""The demo district: a real Chinese district's boundary filled with synthetic but plausible
streets/towns, communities, grids, roads, standard addresses and facilities.

``build_demo`` makes it in memory (no database); ``load_demo`` writes it through
:mod:`geodata.store` in the caller's transaction. Same seed → byte-identical data.
"""

from geodata.demo.build import DemoData, build_demo
from geodata.demo.district import DEFAULT_DISTRICT, District, resolve_district
from geodata.demo.load import delete_onegrid_data, load_demo

__all__ = ["DEFAULT_DISTRICT", "DemoData", "District", "build_demo", "delete_onegrid_data", "load_demo",
           "resolve_district"]
