"""The early-warning risk surface per H3 cell (resolution 8, ~0.74 km²; resolution 7 sums it).

score(cell) = w_cases · D(cell) + Σ_level w_warning_level · open warnings of that level in the cell
              + w_vulnerability · key-population residents of the cell

where D is a time-decayed kernel density of recent cases: each case reported within the
window counts exp(−ln 2 · age / half-life) in its own cell, and a share (``neighbour_share``)
of that in each of the six ring-1 neighbours. Weights and half-lives are data
(``risk_weight``; README lists them). The key-population count is the sum of the *published*
(small-cell-suppressed) counts of the tags in ``VULNERABLE_TAGS`` — a suppressed count adds
nothing, so nothing unpublished leaks into the surface. The surface can be taken "as of" any
time ``at`` (playback): cases reported in (at − window, at], warnings open at ``at``.

Rebuilding after new data is incremental: :func:`rebuild_risk_surface` places only cases not
yet indexed (``risk_case_cell``) and refreshes the vulnerability snapshot; the surface itself
is three small aggregate queries combined here. Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import h3
import psycopg
from psycopg.rows import dict_row

from geodata.errors import InvalidInput
from geodata.geometry import BBox
from geodata.warnings.model import LEVELS

RES = 8
#: Time windows: name → hours.
WINDOWS = {"24h": 24, "7d": 24 * 7, "30d": 24 * 30}
#: Key-population tags that make a cell more vulnerable (need help in an emergency).
VULNERABLE_TAGS = ("elderly_alone", "empty_nest", "disabled", "minor", "mental_health", "pregnant")
#: Cases re-checked behind the newest indexed id (transactions that committed out of id order).
STRAGGLERS = 5000

_WEIGHTS = "SELECT factor, value FROM risk_weight"
_NEW_CASES = """
SELECT c.id, c.street_code, c.reported_at, ST_X(c.geom), ST_Y(c.geom) FROM cases c
 WHERE c.id > (SELECT coalesce(max(case_id), 0) - %(behind)s FROM risk_case_cell)
   AND NOT EXISTS (SELECT 1 FROM risk_case_cell r WHERE r.case_id = c.id)"""
_INSERT_CASES = """
INSERT INTO risk_case_cell (case_id, street_code, reported_at, cell)
SELECT * FROM unnest(%s::bigint[], %s::text[], %s::timestamptz[], %s::bigint[]) ON CONFLICT DO NOTHING"""
_INSERT_CENTRES = """
INSERT INTO risk_cell_centre (cell, res, geom)
SELECT c, r, ST_SetSRID(ST_MakePoint(x, y), 4326) FROM unnest(%s::bigint[], %s::smallint[], %s::float8[], %s::float8[]) AS u(c, r, x, y)
ON CONFLICT (cell) DO NOTHING"""
_KNOWN_CENTRES = "SELECT cell FROM risk_cell_centre WHERE cell = ANY(%s)"
_CLEAR_VULN = "DELETE FROM risk_vulnerability"
_INSERT_VULN = "INSERT INTO risk_vulnerability (cell, people) SELECT * FROM unnest(%s::bigint[], %s::int[])"
_CLEAR_CASES = "TRUNCATE risk_case_cell"
# The published counts change only when geodata.population.publish rebuilds them (it stamps
# population_publication.built_at); the snapshot remembers which publication it copied.
_PUBLISHED_AT = "SELECT coalesce((SELECT built_at::text FROM population_publication), 'never')"
_SNAPSHOT_OF = "SELECT value FROM og_setting WHERE key = 'risk_vulnerability_of'"
_SET_SNAPSHOT_OF = """
INSERT INTO og_setting (key, value) VALUES ('risk_vulnerability_of', %s)
ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"""
# The three terms as of %(at)s, for cells whose centre lies in the (expanded) box.
_CASE_TERM = """
SELECT r.cell, sum(exp(-ln(2) * extract(epoch FROM %(at)s - r.reported_at) / 3600.0 / %(half)s))
  FROM risk_case_cell r JOIN risk_cell_centre c ON c.cell = r.cell
 WHERE r.reported_at > %(at)s - make_interval(hours => %(hours)s) AND r.reported_at <= %(at)s
   AND c.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)
 GROUP BY r.cell"""
_WARNING_TERM = """
SELECT h3_r8, CASE WHEN escalated_at > %(at)s THEN first_level ELSE level END AS lv, count(*)
  FROM warning
 WHERE opened_at <= %(at)s AND (closed_at IS NULL OR closed_at > %(at)s)
   AND geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)
 GROUP BY 1, 2"""
_VULN_TERM = """
SELECT v.cell, v.people FROM risk_vulnerability v JOIN risk_cell_centre c ON c.cell = v.cell
 WHERE c.geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"""
_NOW = "SELECT now()"
_TRY_LOCK = "SELECT pg_try_advisory_xact_lock(%s)"
_LOCK_KEY = 0x0E6121F  # one rebuild at a time; a concurrent request reads what is there


@dataclass
class CellRisk:
    """One H3 cell's score and its terms (points): ``cases`` (own decayed cases), ``nearby``
    (neighbours' share), ``warnings`` ({level: points}), ``vulnerability``; ``people`` is the
    published key-population count behind the last term and ``n_warnings`` the open warnings."""

    cell: int
    cases: float = 0.0
    nearby: float = 0.0
    warnings: dict = field(default_factory=dict)
    vulnerability: float = 0.0
    people: int = 0
    n_warnings: dict = field(default_factory=dict)

    @property
    def score(self) -> float:
        return self.cases + self.nearby + sum(self.warnings.values()) + self.vulnerability

    def factors(self) -> list[tuple[str, float]]:
        """(factor, points) with points > 0, largest first."""
        parts = [("cases", self.cases), ("nearby_cases", self.nearby), ("vulnerability", self.vulnerability)]
        parts += [(f"warning_{lv}", p) for lv, p in self.warnings.items()]
        return sorted([(k, v) for k, v in parts if v > 0], key=lambda kv: -kv[1])


def fetch_risk_weights(conn: psycopg.Connection) -> dict[str, float]:
    """``{factor: value}`` from ``risk_weight`` (weights in points, half-lives in hours)."""
    return {k: float(v) for k, v in conn.execute(_WEIGHTS)}


def _centres(conn, cells, res: int) -> None:
    cells = sorted({int(c) for c in cells})
    if not cells:
        return
    known = {r[0] for r in conn.execute(_KNOWN_CENTRES, (cells,))}
    new = [c for c in cells if c not in known]
    if new:
        pts = [h3.api.basic_int.cell_to_latlng(c) for c in new]
        conn.execute(_INSERT_CENTRES, (new, [res] * len(new), [p[1] for p in pts], [p[0] for p in pts]))


def refresh_case_cells(conn: psycopg.Connection) -> int:
    """Index cases not yet placed in an H3 cell; returns how many were added."""
    rows = conn.execute(_NEW_CASES, {"behind": STRAGGLERS}).fetchall()
    if not rows:
        return 0
    cells = [h3.api.basic_int.latlng_to_cell(lat, lon, RES) for _, _, _, lon, lat in rows]
    conn.execute(_INSERT_CASES, ([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], cells))
    _centres(conn, set(cells), RES)
    return len(rows)


def refresh_vulnerability(conn: psycopg.Connection) -> int:
    """Snapshot the published key-population counts per res-8 cell (sum over
    ``VULNERABLE_TAGS``; suppressed counts add nothing); returns cells with people."""
    from geodata.population import fetch_counts_by_cell

    people: dict[int, int] = {}
    for tag in VULNERABLE_TAGS:
        frame = fetch_counts_by_cell(conn, RES, tag=tag)
        shown = frame[~frame["suppressed"]]  # a suppressed count adds nothing
        for cell, n in zip(shown["cell"].tolist(), shown["n"].tolist(), strict=True):
            people[int(cell)] = people.get(int(cell), 0) + int(n)
    conn.execute(_CLEAR_VULN)
    if people:
        conn.execute(_INSERT_VULN, (list(people), list(people.values())))
        _centres(conn, people, RES)
    return len(people)


def rebuild_risk_surface(conn: psycopg.Connection, *, full: bool = False) -> dict[str, int]:
    """Bring the surface's inputs up to date after new data (incremental unless ``full``):
    ``{"cases": newly indexed, "vulnerable_cells": n}`` (n = -1 when the published population
    counts have not changed since the last snapshot, which is then kept). Never commits.

    One rebuild runs at a time (transaction-scoped advisory lock); when another transaction
    is rebuilding, this one skips (``{"cases": 0, "vulnerable_cells": -1}``) and reads what
    the other commits next time."""
    if not conn.execute(_TRY_LOCK, (_LOCK_KEY,)).fetchone()[0]:
        return {"cases": 0, "vulnerable_cells": -1}
    if full:
        conn.execute(_CLEAR_CASES)
    published = conn.execute(_PUBLISHED_AT).fetchone()[0]
    snapshot = conn.execute(_SNAPSHOT_OF).fetchone()
    vulnerable = -1
    if full or snapshot is None or snapshot[0] != published:
        vulnerable = refresh_vulnerability(conn)
        conn.execute(_SET_SNAPSHOT_OF, (published,))
    return {"cases": refresh_case_cells(conn), "vulnerable_cells": vulnerable}


def _box(bbox: BBox | None, pad: float) -> dict:
    if bbox is None:
        return {"minx": -180, "miny": -90, "maxx": 180, "maxy": 90}
    return {"minx": bbox.minlon - pad, "miny": bbox.minlat - pad, "maxx": bbox.maxlon + pad, "maxy": bbox.maxlat + pad}


def fetch_risk_surface(conn: psycopg.Connection, window: str = "7d", *, at: datetime | None = None,
                       bbox: BBox | None = None, weights: dict | None = None) -> dict[int, CellRisk]:
    """The surface as of ``at`` (default: now) over ``window`` (``24h``/``7d``/``30d``):
    ``{res-8 cell: CellRisk}`` for cells with any risk whose centre lies in ``bbox`` (lon/lat,
    padded by one cell so the kernel sees the neighbours). Reads only; call
    :func:`rebuild_risk_surface` after new data."""
    if window not in WINDOWS:
        raise InvalidInput(f"risk window must be one of {', '.join(WINDOWS)}, got {window!r}")
    w = weights or fetch_risk_weights(conn)
    at = at or conn.execute(_NOW).fetchone()[0]
    params = {"at": at, "hours": WINDOWS[window], "half": w[f"half_life_{window}"], **_box(bbox, 0.012)}
    out: dict[int, CellRisk] = {}

    def cell(c: int) -> CellRisk:
        return out.setdefault(c, CellRisk(c))

    share = w["neighbour_share"]
    for c, density in conn.execute(_CASE_TERM, params):
        cell(c).cases += w["cases"] * density
        if share:
            for n in h3.api.basic_int.grid_ring(c, 1):
                cell(n).nearby += w["cases"] * share * density
    for c, level, n in conn.execute(_WARNING_TERM, params):
        r = cell(c)
        r.warnings[level] = r.warnings.get(level, 0.0) + w[f"warning_{level}"] * n
        r.n_warnings[level] = r.n_warnings.get(level, 0) + n
    for c, people in conn.execute(_VULN_TERM, params):
        r = cell(c)
        r.people, r.vulnerability = people, w["vulnerability"] * people
    if bbox is not None:  # drop the padding ring again
        out = {c: r for c, r in out.items() if _inside(c, bbox)}
    return {c: r for c, r in out.items() if r.score > 0}


def _inside(cell: int, bbox: BBox) -> bool:
    lat, lon = h3.api.basic_int.cell_to_latlng(cell)
    return bbox.minlon <= lon <= bbox.maxlon and bbox.minlat <= lat <= bbox.maxlat


def aggregate_to_parent(surface: dict[int, CellRisk], res: int = 7) -> dict[int, CellRisk]:
    """Sum a res-8 surface into its parents at ``res`` (district zoom)."""
    out: dict[int, CellRisk] = {}
    for c, r in surface.items():
        p = out.setdefault(h3.api.basic_int.cell_to_parent(c, res), CellRisk(h3.api.basic_int.cell_to_parent(c, res)))
        p.cases += r.cases
        p.nearby += r.nearby
        p.vulnerability += r.vulnerability
        p.people += r.people
        for lv in LEVELS:
            if lv in r.warnings:
                p.warnings[lv] = p.warnings.get(lv, 0.0) + r.warnings[lv]
                p.n_warnings[lv] = p.n_warnings.get(lv, 0) + r.n_warnings[lv]
    return out


def playback_times(window: str, frames: int, at: datetime) -> list[datetime]:
    """``frames`` evenly spaced times across the window ending at ``at`` (oldest first)."""
    if window not in WINDOWS:
        raise InvalidInput(f"risk window must be one of {', '.join(WINDOWS)}, got {window!r}")
    if not isinstance(frames, int) or not 2 <= frames <= 96:
        raise InvalidInput(f"frames must be a whole number within 2..96, got {frames!r}")
    step = timedelta(hours=WINDOWS[window]) / (frames - 1)
    return [at - step * (frames - 1 - i) for i in range(frames)]


def fetch_db_now(conn: psycopg.Connection) -> datetime:
    return conn.execute(_NOW).fetchone()[0]


def score_scale(surface: dict[int, CellRisk] | list[float]) -> float:
    """A robust top of the scores (95th percentile, at least 1) for colour ramps; ``surface`` is
    a surface or plain scores."""
    scores = sorted(r.score for r in surface.values()) if isinstance(surface, dict) else sorted(surface)
    if not scores:
        return 1.0
    return max(1.0, scores[min(len(scores) - 1, math.ceil(0.95 * len(scores)) - 1)])


_CELL_CASES = """
SELECT c.id, c.code, k.name_zh, k.name_en, c.state, c.reported_at,
       exp(-ln(2) * extract(epoch FROM %(at)s - r.reported_at) / 3600.0 / %(half)s) AS weight
  FROM risk_case_cell r JOIN cases c ON c.id = r.case_id JOIN case_category k ON k.code = c.category_code
 WHERE r.cell = ANY(%(cells)s) AND r.reported_at > %(at)s - make_interval(hours => %(hours)s)
   AND r.reported_at <= %(at)s
 ORDER BY weight DESC, c.id DESC LIMIT %(limit)s"""
_CELL_WARNINGS = """
SELECT w.id, w.level, w.state, k.name_zh, k.name_en, s.code AS sensor_code, w.value, k.unit, w.opened_at
  FROM warning w JOIN sensor s ON s.id = w.sensor_id JOIN sensor_kind k ON k.code = w.kind_code
 WHERE w.h3_r8 = ANY(%(cells)s) AND w.opened_at <= %(at)s AND (w.closed_at IS NULL OR w.closed_at > %(at)s)
 ORDER BY array_position(%(levels)s::text[], w.level) DESC, w.opened_at DESC LIMIT %(limit)s"""


def fetch_cell_detail(conn: psycopg.Connection, cell: int, window: str = "7d", *, at: datetime | None = None,
                      limit: int = 10) -> dict:
    """What makes one cell (res 8, or res 7 = its children together) risky as of ``at``:
    ``{cell, res, risk: CellRisk, cases: [...], warnings: [...]}`` — the cell's own cases in the
    window by decayed weight (``id, code, name_zh, name_en, state, reported_at, weight``) and
    its warnings open at ``at`` most severe first (``id, level, state, name_zh, name_en,
    sensor_code, value, unit, opened_at``)."""
    try:
        cell = int(cell)
        res = h3.api.basic_int.get_resolution(cell)
    except (TypeError, ValueError, h3.H3BaseException) as exc:
        raise InvalidInput(f"not an H3 cell: {cell!r}") from exc
    if res not in (7, RES):
        raise InvalidInput(f"risk cells are resolution 7 or {RES}, got {res}")
    w = fetch_risk_weights(conn)
    at = at or fetch_db_now(conn)
    cells = [cell] if res == RES else list(h3.api.basic_int.cell_to_children(cell, RES))
    lat, lon = h3.api.basic_int.cell_to_latlng(cell)
    pad = 0.02 if res == RES else 0.05
    surface = fetch_risk_surface(conn, window, at=at, bbox=BBox(lon - pad, lat - pad, lon + pad, lat + pad), weights=w)
    if res == RES:
        risk = surface.get(cell, CellRisk(cell))
    else:
        risk = aggregate_to_parent({c: r for c, r in surface.items() if c in set(cells)}, 7).get(cell, CellRisk(cell))
    params = {"at": at, "half": w[f"half_life_{window}"], "hours": WINDOWS[window], "cells": cells,
              "limit": int(limit), "levels": list(LEVELS)}
    with conn.cursor(row_factory=dict_row) as cur:
        cases = cur.execute(_CELL_CASES, params).fetchall()
        warnings = cur.execute(_CELL_WARNINGS, params).fetchall()
    return {"cell": cell, "res": res, "risk": risk, "cases": cases, "warnings": warnings, "at": at}


def compute_risk_surface_naive(conn: psycopg.Connection, window: str = "7d", at: datetime | None = None) -> dict[int, float]:
    """Reference implementation (bench baseline and test oracle): every case of the window read
    and placed from scratch, scores summed in Python. ``{res-8 cell: score}``."""
    w = fetch_risk_weights(conn)
    at = at or fetch_db_now(conn)
    half, hours = w[f"half_life_{window}"], WINDOWS[window]
    rows = conn.execute("SELECT reported_at, ST_X(geom), ST_Y(geom) FROM cases WHERE reported_at > %s AND reported_at <= %s",
                        (at - timedelta(hours=hours), at)).fetchall()
    score: dict[int, float] = {}
    for reported, lon, lat in rows:
        c = h3.api.basic_int.latlng_to_cell(lat, lon, RES)
        d = w["cases"] * math.exp(-math.log(2) * (at - reported).total_seconds() / 3600 / half)
        score[c] = score.get(c, 0.0) + d
        for n in h3.api.basic_int.grid_ring(c, 1):
            score[n] = score.get(n, 0.0) + d * w["neighbour_share"]
    for c, level, first, escalated in conn.execute(
            "SELECT h3_r8, level, first_level, escalated_at FROM warning WHERE opened_at <= %s "
            "AND (closed_at IS NULL OR closed_at > %s)", (at, at)):
        lv = first if escalated is not None and escalated > at else level
        score[c] = score.get(c, 0.0) + w[f"warning_{lv}"]
    for c, people in conn.execute("SELECT cell, people FROM risk_vulnerability"):
        score[c] = score.get(c, 0.0) + w["vulnerability"] * people
    return {c: s for c, s in score.items() if s > 0}
