"""The grid editor's model: a draft of one community's grid set, edits, checks and saving.

A :class:`Draft` holds the grids in the community's local metric frame; it travels to the
browser as GeoJSON (lon/lat, EPSG:4326) with the version it started from, and comes back
with each edit. The browser's copy is never trusted: geometry is parsed and checked here,
and the community polygon is always read from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

import psycopg
import shapely
from shapely.geometry import mapping, shape

from geodata.errors import InvalidGeometry, InvalidInput
from geodata.grids import partition as P
from geodata.grids import store
from geodata.grids.local import Frame
from geodata.grids.validate import Points, Report, validate_grid_set
from geodata.settings import get_settings

MAX_GRIDS = 500


@dataclass(frozen=True)
class Draft:
    """A community's grid set being edited (geometries in ``frame``'s local metres)."""

    community: str
    name: str
    base: int
    frame: Frame
    area: object                       # the community polygon, local metres
    grids: dict                        # code → geometry, local metres
    meta: dict = field(default_factory=dict)   # code → {"name", "supervisor"}
    used: frozenset = frozenset()      # every code ever used (never reissued)
    #: code → (local geometry as loaded, lon/lat original): unedited grids go back bit for bit.
    origin: dict = field(default_factory=dict)

    def geom_lonlat(self, code: str):
        """Grid ``code`` in lon/lat; an unedited grid is returned exactly as it was read."""
        local = self.grids[code]
        loaded = self.origin.get(code)
        return loaded[1] if loaded is not None and loaded[0] is local else self.frame.to_lonlat(local)

    def lonlat(self) -> dict[str, dict]:
        """code → {name, supervisor, geom (lon/lat)} — what :func:`store.write_grid_set` takes."""
        return {c: {**self.meta.get(c, {}), "geom": self.geom_lonlat(c)} for c in self.grids}


def make_draft(code: str, name: str, area_lonlat, base: int, grids_lonlat: dict[str, dict], used) -> Draft:
    frame = Frame.around(area_lonlat)
    grids = {c: frame.to_local(g["geom"]) for c, g in grids_lonlat.items()}
    meta = {c: {"name": g.get("name") or c, "supervisor": g.get("supervisor")} for c, g in grids_lonlat.items()}
    origin = {c: (grids[c], g["geom"]) for c, g in grids_lonlat.items()}
    return Draft(code, name, base, frame, frame.to_local(area_lonlat), grids, meta,
                 frozenset(used) | frozenset(grids), origin)


def load_draft(conn: psycopg.Connection, community: str) -> Draft:
    """A draft of the community's current grids at its current version."""
    name, area = store.fetch_community(conn, community)
    return make_draft(community, name, area, store.fetch_head(conn, community),
                  store.fetch_grid_set(conn, community), store.fetch_used_codes(conn, community))


def draft_to_json(draft: Draft) -> dict:
    """The draft for the browser: GeoJSON grids (lon/lat) plus community, base version, used codes."""
    features = [{"type": "Feature", "properties": {"code": c, **draft.meta.get(c, {})},
                 "geometry": mapping(draft.geom_lonlat(c))} for c in sorted(draft.grids)]
    return {"community": draft.community, "name": draft.name, "base": draft.base, "used": sorted(draft.used),
            "grids": {"type": "FeatureCollection", "features": features}}


def parse_geometry(geojson, kinds: tuple[str, ...], what: str):
    """A GeoJSON geometry (lon/lat) from the browser or a file → shapely, type-checked."""
    try:
        geom = shape(geojson)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise InvalidGeometry(f"{what}: not a GeoJSON geometry ({exc})") from exc
    if geom.geom_type not in kinds:
        raise InvalidGeometry(f"{what}: expected {' or '.join(kinds)}, got {geom.geom_type}")
    coords = shapely.get_coordinates(geom)
    if geom.is_empty or not (abs(coords[:, 0]) <= 180).all() or not (abs(coords[:, 1]) <= 90).all():
        raise InvalidGeometry(f"{what}: empty or coordinates outside lon -180..180 / lat -90..90")
    return geom


def draft_from_json(conn: psycopg.Connection, data: dict) -> Draft:
    """Rebuild a draft sent back by the browser (community polygon re-read from the database)."""
    try:
        community, base = str(data["community"]), int(data["base"])
        features = data["grids"]["features"]
        used = [str(c) for c in data.get("used", [])]
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"the editor's draft is malformed ({exc}); reload the community") from exc
    if len(features) > MAX_GRIDS:
        raise InvalidInput(f"a community may have at most {MAX_GRIDS} grids")
    name, area = store.fetch_community(conn, community)
    grids = {}
    for f in features:
        props = f.get("properties") or {}
        code = str(props.get("code") or "")
        geom = parse_geometry(f.get("geometry"), ("Polygon", "MultiPolygon"), f"grid {code}")
        grids[code] = {"name": props.get("name"), "supervisor": props.get("supervisor"), "geom": geom}
    return make_draft(community, name, area, base, grids, used)


def _new_code(draft: Draft):
    return lambda taken: P.next_code(draft.community, set(draft.used) | set(taken))


def apply_edit(draft: Draft, op: dict) -> tuple[Draft, list[str]]:
    """Apply one edit; returns the new draft and the codes it created or touched.

    ``op`` is ``{"op": "add", "polygon": geojson}``, ``{"op": "split", "line": geojson}``,
    ``{"op": "reshape", "code": c, "polygon": geojson}`` (moved vertices / shared edge),
    ``{"op": "merge", "keep": a, "other": b}``, ``{"op": "delete", "code": c, "into": b|None}``
    or ``{"op": "clip"}``. Geometry in GeoJSON is lon/lat (EPSG:4326).
    """
    snap = get_settings().grid_snap_m
    kind, grids, touched = op.get("op"), draft.grids, []
    if kind == "add":
        code = P.next_code(draft.community, draft.used)
        poly = draft.frame.to_local(parse_geometry(op.get("polygon"), ("Polygon", "MultiPolygon"), "new grid"))
        grids, touched = P.add_grid(grids, poly, code, draft.area, snap), [code]
    elif kind == "split":
        line = draft.frame.to_local(parse_geometry(op.get("line"), ("LineString",), "split line"))
        grids, touched = P.split_grid(grids, line, _new_code(draft))
    elif kind == "reshape":
        poly = draft.frame.to_local(parse_geometry(op.get("polygon"), ("Polygon", "MultiPolygon"), "grid"))
        grids, touched = P.replace_grid(grids, str(op.get("code")), poly, draft.area, snap), [str(op.get("code"))]
    elif kind == "merge":
        grids, touched = P.merge_grids(grids, str(op.get("keep")), str(op.get("other")), snap), [str(op.get("keep"))]
    elif kind == "delete":
        grids, into = P.delete_grid(grids, str(op.get("code")), snap, op.get("into"))
        touched = [into]
    elif kind == "clip":
        grids = P.clip_grids(grids, draft.area)
    else:
        raise InvalidInput(f"unknown edit {kind!r}")
    meta = {c: draft.meta.get(c, {"name": c, "supervisor": None}) for c in grids}
    return replace(draft, grids=grids, meta=meta, used=draft.used | frozenset(grids)), touched


def fetch_draft_points(conn: psycopg.Connection, draft: Draft) -> Points:
    """The community's addresses with households/residents, in the draft's local metres."""
    pts = store.fetch_points(conn, draft.community)
    x, y = draft.frame.xy_local(pts["lon"], pts["lat"])
    return Points(x, y, pts["households"], pts["residents"])


def check_draft(conn: psycopg.Connection, draft: Draft, points: Points | None = None) -> Report:
    """Validate the draft with the configured snap tolerance and household range."""
    s = get_settings()
    points = points if points is not None else fetch_draft_points(conn, draft)
    return validate_grid_set(draft.area, draft.grids, points, draft.frame, snap_m=s.grid_snap_m,
                             households_min=s.grid_households_min, households_max=s.grid_households_max)


def _refuse_errors(report: Report) -> None:
    if report.errors:
        head = "; ".join(f"{i.rule} {' / '.join(i.codes)}".strip() +
                         (f" {i.area_m2:,.0f} m²" if i.area_m2 else "") + (f" ({i.detail})" if i.detail else "")
                         for i in report.errors[:8])
        more = f" … and {len(report.errors) - 8} more" if len(report.errors) > 8 else ""
        raise InvalidInput(f"the grids have {len(report.errors)} problem(s), nothing was saved: {head}{more}")


def save_draft(conn: psycopg.Connection, draft: Draft, *, author: str, reason: str,
               effective_at: datetime | None = None, kind: str = "edit") -> int:
    """Validate and save the draft as a new version (caller's transaction); returns the version."""
    _refuse_errors(check_draft(conn, draft))
    return store.write_grid_set(conn, draft.community, draft.lonlat(), base_version=draft.base, author=author,
                                reason=reason, effective_at=effective_at, kind=kind)


def rollback(conn: psycopg.Connection, community: str, version: int, *, base_version: int, author: str,
             reason: str) -> int:
    """Restore version ``version``'s grids as a new version (validated like any edit)."""
    old = store.fetch_version(conn, community, version)
    name, area = store.fetch_community(conn, community)
    draft = make_draft(community, name, area, base_version, old, store.fetch_used_codes(conn, community))
    _refuse_errors(check_draft(conn, draft))
    return store.write_grid_set(conn, community, draft.lonlat(), base_version=base_version, author=author,
                                reason=reason, kind="rollback", based_on=version)
