"""Reads and the one writer of community grid sets (versions, re-derivation, conflicts).

Geometries are shapely objects in EPSG:4326 (lon/lat). :func:`write_grid_set` runs in the
caller's transaction and never commits: the grid rows, the re-derived addresses, facilities
and cases, the published population counts and the version snapshot change together or not
at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import shapely
from psycopg import sql

from geodata.cases.model import OPEN_STATES
from geodata.errors import Conflict, InvalidInput, NotFound
from geodata.geometry import to_multipolygon
from geodata.grids import sql as Q
from geodata.grids.publication import capture_before, republish_community

KINDS = ("edit", "rollback", "import", "suggestion")


def fetch_communities(conn: psycopg.Connection) -> list[dict]:
    """Every community: code, name, street name and how many grids it has."""
    return [{"code": c, "name": n, "street": s, "grids": g} for c, n, s, g in conn.execute(Q.COMMUNITIES)]


def fetch_community_outlines(conn: psycopg.Connection, tolerance_deg: float = 0.00005) -> list[dict]:
    """Every community's outline for an overview map: code, name, street, GeoJSON geometry
    (lon/lat, EPSG:4326, simplified by ``tolerance_deg`` degrees — 0.00005° ≈ 5 m)."""
    return [{"code": c, "name": n, "street": s, "geometry": json.loads(g)}
            for c, n, s, g in conn.execute(Q.COMMUNITY_OUTLINES, {"tol": tolerance_deg})]


def fetch_community(conn: psycopg.Connection, code: str) -> tuple[str, object]:
    """(name, polygon lon/lat) of community ``code``; :class:`NotFound` when there is none."""
    row = conn.execute(Q.COMMUNITY, {"c": code}).fetchone()
    if row is None:
        raise NotFound(f"community {code!r} does not exist")
    return row[1], shapely.from_wkb(row[2])


def fetch_grid_set(conn: psycopg.Connection, code: str) -> dict[str, dict]:
    """Current grids of community ``code``: grid code → {name, supervisor, geom (lon/lat)}."""
    return {c: {"name": n, "supervisor": s, "geom": shapely.from_wkb(w)}
            for c, n, s, w in conn.execute(Q.GRIDS, {"c": code})}


def fetch_head(conn: psycopg.Connection, code: str) -> int:
    """Latest version number of the community's grid set (0: never edited)."""
    return conn.execute(Q.HEAD, {"c": code}).fetchone()[0]


def fetch_used_codes(conn: psycopg.Connection, code: str) -> set[str]:
    """Every grid code the community has or ever had (retired codes are never reused)."""
    return {r[0] for r in conn.execute(Q.USED_CODES, {"c": code})}


def _arrays(rows: list[tuple], extra: int) -> dict:
    if not rows:
        return {"id": np.zeros(0, np.int64), "lon": np.zeros(0), "lat": np.zeros(0),
                "grid": np.zeros(0, object), **{f"v{i}": np.zeros(0, np.int64) for i in range(extra)}}
    cols = list(zip(*rows, strict=True))
    out = {"id": np.asarray(cols[0], np.int64), "lon": np.asarray(cols[1], float),
           "lat": np.asarray(cols[2], float), "grid": np.asarray(cols[3], object)}
    for i in range(extra):
        out[f"v{i}"] = np.asarray(cols[4 + i], np.int64)
    return out


def fetch_points(conn: psycopg.Connection, code: str) -> dict:
    """Addresses of the community: id, lon, lat, current grid, households, residents (arrays).

    Only counts leave the database for residents and households (PIPL).
    """
    out = _arrays(conn.execute(Q.POINTS, {"c": code}).fetchall(), 2)
    out["households"], out["residents"] = out.pop("v0"), out.pop("v1")
    return out


def fetch_open_cases(conn: psycopg.Connection, code: str) -> dict:
    """Open cases of the community: id, lon, lat, current grid (arrays)."""
    return _arrays(conn.execute(Q.OPEN_CASES, {"c": code, "open": list(OPEN_STATES)}).fetchall(), 0)


def fetch_facilities(conn: psycopg.Connection, code: str) -> dict:
    """Facilities of the community: id, lon, lat, current grid (arrays)."""
    return _arrays(conn.execute(Q.FACILITIES, {"c": code}).fetchall(), 0)


def fetch_versions(conn: psycopg.Connection, code: str) -> list[dict]:
    """Versions of the community's grid set, newest first."""
    keys = ("version", "kind", "author", "reason", "created_at", "effective_at", "based_on", "grids")
    return [dict(zip(keys, r, strict=True)) for r in conn.execute(Q.VERSIONS, {"c": code})]


def fetch_version(conn: psycopg.Connection, code: str, version: int) -> dict[str, dict]:
    """Grids of one version: grid code → {name, supervisor, households, geom (lon/lat)}."""
    rows = conn.execute(Q.VERSION_MEMBERS, {"c": code, "v": version}).fetchall()
    if not rows:
        raise NotFound(f"community {code} has no grid version {version}")
    return {c: {"name": n, "supervisor": s, "households": h, "geom": shapely.from_wkb(w)}
            for c, n, s, h, w in rows}


def fetch_diff(conn: psycopg.Connection, code: str, a: int, b: int) -> list[dict]:
    """Per grid code between versions ``a`` and ``b``: added/retired/changed/same, areas (m²), households."""
    for v in (a, b):
        fetch_version(conn, code, v)  # NotFound for a version that does not exist
    keys = ("code", "change", "area_a", "area_b", "households_a", "households_b")
    return [dict(zip(keys, r, strict=True)) for r in conn.execute(Q.DIFF, {"c": code, "a": a, "b": b})]


def describe_changes(conn: psycopg.Connection, code: str, since: int, head: int) -> str:
    """What happened to the community's grids after version ``since`` (for conflict messages)."""
    lines = []
    for v in reversed(fetch_versions(conn, code)):
        if since < v["version"] <= head and v["kind"] != "initial":
            lines.append(f"version {v['version']} by {v['author']} at {v['created_at']:%Y-%m-%d %H:%M} "
                         f"({v['kind']}: {v['reason']})")
    if head > 1:  # version 1 is what a never-edited community (since = 0) looked like
        diff = [d for d in fetch_diff(conn, code, max(since, 1), head) if d["change"] != "same"]
        for change in ("changed", "added", "retired"):
            codes = [d["code"] for d in diff if d["change"] == change]
            if codes:
                lines.append(f"{change}: {', '.join(codes)}")
    return "; ".join(lines) or f"now at version {head}"


def _check_meta(author: str, reason: str, effective_at: datetime | None, kind: str) -> datetime:
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    if not (author or "").strip():
        raise InvalidInput("saving grids needs an author")
    if not (reason or "").strip():
        raise InvalidInput("saving grids needs a reason")
    now = datetime.now(UTC)
    effective_at = effective_at or now
    if effective_at.tzinfo is None:
        raise InvalidInput("effective time needs a time zone")
    if effective_at > now + timedelta(minutes=1):
        raise InvalidInput("the effective time cannot be in the future: boundaries change when saved")
    return effective_at


def _stage(conn: psycopg.Connection, grids: dict[str, dict]) -> None:
    conn.execute(Q.STAGE)
    with conn.cursor().copy(Q.COPY_STAGE) as cp:
        for code in sorted(grids):
            g = grids[code]
            cp.write_row((code, g.get("name") or code, g.get("supervisor"),
                          shapely.to_wkb(to_multipolygon(g["geom"]))))
    conn.execute(Q.STAGE_GEOM)


def _lock_and_check(conn: psycopg.Connection, community: str, base_version: int) -> int:
    if conn.execute(Q.LOCK, {"c": community}).fetchone() is None:
        raise NotFound(f"community {community!r} does not exist")
    head = fetch_head(conn, community)
    if head != base_version:
        raise Conflict(f"community {community}'s grids changed since you opened version {base_version}: "
                       f"{describe_changes(conn, community, base_version, head)}. "
                       "Nothing was saved; reload to see the current grids (your draft is kept).")
    return head


def _rederive(conn: psycopg.Connection, p: dict, *then: str) -> None:
    """Addresses, facilities, sensors and open cases to the grids ``p["codes"]`` of community
    ``p["c"]``, then the queries ``then`` (with the same parameters)."""
    for table in Q.POINT_TABLES:
        conn.execute(sql.SQL(Q.REDERIVE_POINTS).format(table=sql.Identifier(table)), p)
    for query in (Q.REDERIVE_CASES, *then):
        conn.execute(query, p)


def rederive_added(conn: psycopg.Connection, community: str) -> None:
    """After grids were added to community ``community`` (an import without ``--replace``):
    re-derive its addresses, facilities, sensors and open cases, recount its grids' households
    (when it has addresses to count them from) and republish its population figures, in the
    caller's transaction — what :func:`write_grid_set` does after writing a grid set."""
    if conn.execute(Q.LOCK, {"c": community}).fetchone() is None:
        raise NotFound(f"community {community!r} does not exist")
    codes = sorted(r[0] for r in conn.execute(Q.GRID_CODES, {"c": community}))
    before = capture_before(conn, community)
    p = {"c": community, "codes": codes, "open": list(OPEN_STATES)}
    addressed = conn.execute(Q.HAS_ADDRESSES, p).fetchone()[0]  # else the file's households stand
    _rederive(conn, p, *((Q.HOUSEHOLDS,) if addressed else ()))
    republish_community(conn, community, before)


def write_grid_set(conn: psycopg.Connection, community: str, grids: dict[str, dict], *, base_version: int,
                   author: str, reason: str, effective_at: datetime | None = None, kind: str = "edit",
                   based_on: int | None = None) -> int:
    """Replace community ``community``'s grids with ``grids`` as a new version; returns its number.

    ``grids`` maps code → {name, supervisor, geom (lon/lat, valid, already validated)}.
    ``base_version`` is the version the editor started from; when another save came first
    :class:`Conflict` says what changed and nothing is written. Addresses, facilities and
    sensors and open cases (and closed cases of retired grids) are re-derived, grid households recounted
    and the community's published population figures republished
    (:mod:`geodata.grids.publication`), all in the caller's transaction.
    """
    effective_at = _check_meta(author, reason, effective_at, kind)
    if not grids:
        raise InvalidInput("a community needs at least one grid")
    head = _lock_and_check(conn, community, base_version)
    codes = sorted(grids)
    clash = conn.execute(Q.FOREIGN_CODES, {"codes": codes, "c": community}).fetchall()
    if clash:
        raise Conflict("grid code(s) already used by another community: "
                       + ", ".join(f"{c} ({k})" for c, k in clash))
    before = capture_before(conn, community)
    conn.execute(Q.ROW_CHECK_OFF)
    p = {"c": community, "codes": codes, "open": list(OPEN_STATES), "eff": effective_at}
    if head == 0:  # first edit: keep what was there as version 1
        head = 1
        conn.execute(Q.INSERT_VERSION, {**p, "v": 1, "kind": "initial", "author": "onegrid",
                                        "reason": "grids before the first edit", "based_on": None})
        conn.execute(Q.SNAPSHOT, {**p, "v": 1})
    version = head + 1
    p["v"] = version
    _stage(conn, grids)
    conn.execute(Q.UPDATE_CHANGED, p)
    conn.execute(Q.INSERT_NEW, p)
    _rederive(conn, p, Q.DELETE_RETIRED, Q.HOUSEHOLDS)
    bad = conn.execute(Q.OVERLAPS, p).fetchall()
    if bad:
        raise InvalidInput("grids overlap after saving: "
                           + ", ".join(f"{a}/{b} {m2} m²" for a, b, m2 in bad) + "; nothing was saved")
    republish_community(conn, community, before)
    conn.execute(Q.INSERT_VERSION, {**p, "kind": kind, "author": author.strip(), "reason": reason.strip(),
                                    "based_on": max(base_version, 1) if based_on is None else based_on})
    conn.execute(Q.SNAPSHOT, p)
    return version


def record_version(conn: psycopg.Connection, community: str, *, kind: str, author: str, reason: str) -> int:
    """Record the community's current grids as its next version (after grids were added by import)."""
    if conn.execute(Q.LOCK, {"c": community}).fetchone() is None:
        raise NotFound(f"community {community!r} does not exist")
    version = fetch_head(conn, community) + 1
    p = {"c": community, "v": version, "kind": kind, "author": author, "reason": reason,
         "eff": datetime.now(UTC), "based_on": version - 1 or None}
    conn.execute(Q.INSERT_VERSION, p)
    conn.execute(Q.SNAPSHOT, p)
    return version
