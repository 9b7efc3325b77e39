"""Residents, households and key-population tags, and their privacy-safe published counts.

Tables (migration 0005): ``household``, ``resident`` (birth year, sex, address — no names, ID
numbers or phones), ``population_tag`` and ``resident_tag``; the published figures live in
``population_cell`` (per H3 cell, resolutions 7..10, per tag or ``"*"`` = all residents) and
``population_grid`` (per grid and tag), rebuilt by :func:`~geodata.population.publish.rebuild_published`
after every population change. Only published figures leave the database toward a browser.

Reads: :func:`fetch_counts_by_cell`, :func:`fetch_grid_table` (published, privacy-safe) and
:func:`fetch_demand_by_address` (server-side planning only).
"""

from geodata.population.read import ALL, fetch_counts_by_cell, fetch_demand_by_address, fetch_grid_table

__all__ = ["ALL", "fetch_counts_by_cell", "fetch_demand_by_address", "fetch_grid_table"]
