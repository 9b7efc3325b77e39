"""Impact preview: what changes grid if the draft is saved (before the save, nothing written).

Addresses, households and residents (they follow their address), open cases and facilities
are assigned to the draft's grids exactly as the save re-derives them (covering grid, lowest
code on a shared edge) and compared with the grid they have in the database now. Residents
and households leave the database only as counts per grid (PIPL).
"""

from __future__ import annotations

import numpy as np
import psycopg

from geodata.grids import store
from geodata.grids.editor import Draft
from geodata.grids.partition import assign_points

#: Most moved address points sent to the map (the counts always cover all of them).
MAX_MOVED_POINTS = 3000
KINDS = ("addresses", "households", "residents", "open_cases", "facilities")


def _after(draft: Draft, pts: dict) -> np.ndarray:
    codes = np.asarray(sorted(draft.grids) + [None], dtype=object)
    x, y = draft.frame.xy_local(pts["lon"], pts["lat"])
    return codes[assign_points(draft.grids, x, y)]  # -1 → None (outside every grid)


def _tally(table: dict, codes: np.ndarray, weights: np.ndarray, kind: str, side: str) -> None:
    for code, w in zip(codes, weights, strict=True):
        row = table.setdefault(code, {"before": dict.fromkeys(KINDS, 0), "after": dict.fromkeys(KINDS, 0)})
        row[side][kind] += int(w)


def preview_impact(conn: psycopg.Connection, draft: Draft) -> dict:
    """Counts moving between grids and per grid before/after if ``draft`` were saved.

    Returns ``{"moved": {kind: n}, "per_grid": [{code, before: {kind: n}, after: {kind: n}}],
    "points": [{lon, lat, from, to}]}`` — points are moved addresses (lon/lat, EPSG:4326),
    at most :data:`MAX_MOVED_POINTS`.
    """
    sources = {"addresses": store.fetch_points(conn, draft.community),
               "open_cases": store.fetch_open_cases(conn, draft.community),
               "facilities": store.fetch_facilities(conn, draft.community)}
    moved = dict.fromkeys(KINDS, 0)
    table: dict = {}
    points = []
    for source, pts in sources.items():
        before, after = pts["grid"], _after(draft, pts)
        changed = before != after
        weights = {source: np.ones(len(before), np.int64)}
        if source == "addresses":
            weights.update(households=pts["households"], residents=pts["residents"])
            for i in np.flatnonzero(changed)[:MAX_MOVED_POINTS]:
                points.append({"lon": float(pts["lon"][i]), "lat": float(pts["lat"][i]),
                               "from": before[i], "to": after[i]})
        for kind, w in weights.items():
            moved[kind] += int(w[changed].sum())
            _tally(table, before, w, kind, "before")
            _tally(table, after, w, kind, "after")
    per_grid = [{"code": code, **table[code]} for code in sorted(table, key=lambda c: (c is None, c or ""))]
    return {"moved": moved, "per_grid": per_grid, "points": points}
