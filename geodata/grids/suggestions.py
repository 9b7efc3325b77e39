"""Suggested grids as an editable draft, and suggestion runs with progress in the database.

:func:`suggest_draft` turns :func:`geodata.grids.suggest.suggest_grids` into a :class:`Draft`
the supervisor can accept, edit and save like any other edit. Codes stay stable: each
suggested grid keeps the code of the current grid it overlaps most (one grid per code), the
others take the next free numbers, and current grids left without a match are retired.

:func:`start_suggestion` runs it on a background thread of the dashboard worker and records
progress in ``grid_suggestion``, so the browser's polls can land on any worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import replace

import psycopg
import shapely
from psycopg.types.json import Jsonb

from geodata.db import pooled
from geodata.errors import NotFound, OneGridError
from geodata.grids import sql as Q
from geodata.grids import store
from geodata.grids.editor import Draft, draft_to_json, load_draft
from geodata.grids.partition import next_code
from geodata.grids.suggest import suggest_grids
from geodata.settings import get_settings

log = logging.getLogger(__name__)


def fetch_roads(conn: psycopg.Connection, draft: Draft) -> list:
    """Road centre lines inside the community, local metres (footpaths left out)."""
    lines = [shapely.from_wkb(r[0]) for r in conn.execute(Q.ROADS, {"c": draft.community})]
    out = []
    for g in lines:
        out.extend(getattr(g, "geoms", [g]) if g.geom_type != "LineString" else [g])
    return [draft.frame.to_local(g) for g in out if g.geom_type == "LineString" and not g.is_empty]


def _match_codes(draft: Draft, grids: list) -> dict:
    """Suggested grids keyed by code: largest overlaps with current grids first, one each."""
    pairs = []
    for i, g in enumerate(grids):
        for code, old in draft.grids.items():
            if old.is_valid and g.intersects(old):
                pairs.append((g.intersection(old).area, i, code))
    out, taken_i, taken_c = {}, set(), set()
    for _area, i, code in sorted(pairs, reverse=True):
        if i not in taken_i and code not in taken_c:
            out[code] = grids[i]
            taken_i.add(i)
            taken_c.add(code)
    used = set(draft.used)
    for i, g in enumerate(grids):
        if i not in taken_i:
            code = next_code(draft.community, used | set(out))
            out[code] = g
    return out


def suggest_draft(conn: psycopg.Connection, draft: Draft,
                  progress: Callable[[float], None] | None = None) -> tuple[Draft, list[int]]:
    """A draft of balanced grids for the draft's community; also the households per grid."""
    s = get_settings()
    pts = store.fetch_points(conn, draft.community)
    x, y = draft.frame.xy_local(pts["lon"], pts["lat"])
    result = suggest_grids(draft.area, x, y, pts["households"], lo=s.grid_households_min,
                           hi=s.grid_households_max, roads=fetch_roads(conn, draft), snap_m=s.grid_snap_m,
                           progress=progress)
    grids = _match_codes(draft, result.grids)
    meta = {c: draft.meta.get(c, {"name": c, "supervisor": None}) for c in grids}
    new = replace(draft, grids=grids, meta=meta, used=draft.used | frozenset(grids))
    return new, result.households


def start_suggestion(community: str) -> int:
    """Start a suggestion run for ``community`` in the background; returns its id."""
    with pooled() as conn:
        store.fetch_community(conn, community)  # NotFound before any thread starts
        conn.execute(Q.SUGGESTION_PRUNE)
        job = conn.execute(Q.SUGGESTION_START, {"c": community}).fetchone()[0]
    threading.Thread(target=_run, args=(job, community), name=f"grid-suggest-{job}", daemon=True).start()
    return job


def _run(job: int, community: str) -> None:
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.05 or fraction >= 1:
            last[0] = fraction
            with pooled() as c:
                c.execute(Q.SUGGESTION_PROGRESS, {"p": round(fraction * 0.95, 3), "id": job})

    try:
        with pooled() as conn:
            draft, _ = suggest_draft(conn, load_draft(conn, community), progress)
            result = draft_to_json(draft)
        status, msg = "done", None
    except OneGridError as exc:
        status, msg, result = "failed", exc.message, None
    except Exception as exc:  # a bug: record it for the browser, keep the trace in the log
        log.exception("grid suggestion %s failed", job)
        status, msg, result = "failed", f"internal error: {exc}", None
    with pooled() as conn:
        conn.execute(Q.SUGGESTION_DONE, {"status": status, "msg": msg, "id": job,
                                         "result": Jsonb(result) if result else None})


def fetch_suggestion(conn: psycopg.Connection, job: int) -> dict:
    """State of a suggestion run: community, status (running/done/failed), progress 0..1, message, result."""
    row = conn.execute(Q.SUGGESTION, {"id": job}).fetchone()
    if row is None:
        raise NotFound(f"suggestion {job} does not exist")
    keys = ("community", "status", "progress", "message", "result")
    return dict(zip(keys, row, strict=True))

