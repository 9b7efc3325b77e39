"""Grid boundaries from files: the same validation and versioning as edits on the map.

``onegrid import grids FILE`` adds grids to communities (codes must be new) and
``--replace`` makes the file's grids the whole new grid set of each community it covers.
Either way every touched community's resulting set is validated like an edit (invalid,
outside, overlap, gap, pieces), its addresses, facilities, sensors and open cases are
re-derived and its population figures republished in the same transaction, and it is recorded
as a version of kind ``import``; one problem anywhere rejects the file and nothing is written.
"""

from __future__ import annotations

import geopandas as gpd
import psycopg
import shapely

from geodata import store as base
from geodata.errors import Problem
from geodata.grids import editor, store
from geodata.grids import sql as Q


def _issue_problems(community: str, report, where: dict[str, str]) -> list[Problem]:
    out = []
    for issue in report.errors:
        label = ", ".join(where.get(c, f"grid {c}") for c in issue.codes) or f"community {community}"
        area = f" {issue.area_m2:,.0f} m²" if issue.area_m2 else ""
        detail = f" ({issue.detail})" if issue.detail else ""
        out.append(Problem(label, f"{issue.rule}{area}{detail} in community {community}"))
    return out


def _check_and_version(conn: psycopg.Connection, communities: list[str], where: dict, source: str) -> None:
    problems = []
    for community in communities:
        problems += _issue_problems(community, editor.check_draft(conn, editor.load_draft(conn, community)), where)
    base._raise(problems)
    for community in communities:  # the new grids take their addresses, people and figures now
        store.rederive_added(conn, community)
        store.record_version(conn, community, kind="import", author="import", reason=f"import {source}")


def _replace_sets(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, source: str) -> int:
    where, problems = base._check_frame(gdf, ("Polygon", "MultiPolygon"), "grids")
    rows = base._rows(gdf, ("code", "name", "community_code", "supervisor"))
    base._required(rows, where, ("code",), problems)
    codes = [r["code"] for r in rows]
    base._code_format(codes, where, problems)
    base._duplicates(codes, where, "code", problems)
    base._raise(problems)
    groups: dict[str, dict] = {}
    for row, w, geom in zip(rows, where, gdf.geometry.values, strict=True):
        community = row["community_code"] or (conn.execute(Q.COMMUNITY_AT, (shapely.to_wkb(geom),)).fetchone() or [None])[0]
        if community is None:
            problems.append(Problem(w, f"grid {row['code']} lies in no community (give community_code)"))
            continue
        groups.setdefault(community, {})[row["code"]] = {"name": row["name"], "supervisor": row["supervisor"],
                                                         "geom": geom, "where": w}
    base._raise(problems)
    labels = {r["code"]: w for r, w in zip(rows, where, strict=True)}
    drafts = []
    for community, grids in sorted(groups.items()):
        name, area = store.fetch_community(conn, community)
        draft = editor.make_draft(community, name, area, store.fetch_head(conn, community), grids,
                              store.fetch_used_codes(conn, community))
        problems += _issue_problems(community, editor.check_draft(conn, draft), labels)
        drafts.append(draft)
    base._raise(problems)
    for draft in drafts:
        store.write_grid_set(conn, draft.community, draft.lonlat(), base_version=draft.base, author="import",
                             reason=f"import {source}", kind="import")
    return len(rows)


def write_grid_import(conn: psycopg.Connection, gdf: gpd.GeoDataFrame, *, replace: bool = False,
                      source: str = "file") -> int:
    """Import grids (EPSG:4326) in the caller's transaction; returns the grids written.

    ``replace=False``: new codes only (the shared writer's checks), then each touched
    community is validated whole and versioned. ``replace=True``: each community's grids in
    the file become its new grid set (retired codes are never reused).
    """
    if replace:
        return _replace_sets(conn, gdf, source)
    written = base.write_grids(conn, gdf)
    codes = [c for c in (base._text(v) for v in gdf["code"]) if c] if "code" in gdf else []
    communities = [r[0] for r in conn.execute(Q.COMMUNITIES_OF, (codes,))]
    where = {c: w for c, w in zip(codes, base._labels(gdf), strict=False)}
    _check_and_version(conn, communities, where, source)
    return written
