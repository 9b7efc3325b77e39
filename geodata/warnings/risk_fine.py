"""The risk surface's terms at a finer H3 resolution, for the heatmap at street zoom.

The surface proper is res 8 (:mod:`geodata.warnings.risk`, ~460 m cells): at zoom 16–17 a
screen holds a dozen res-8 centres and the heatmap showed isolated blobs on a lattice, unrelated
to where the cases and sensors are. Here the same three terms with the same weights and
half-lives are placed at res 10 (~66 m cells, ~115 m apart) for one box: each case of the window
counts its decayed weight in its own res-10 cell and ``neighbour_share`` of it in the six ring-1
neighbours (a kernel of ~200 m instead of ~1.4 km), each open warning its level's weight at its
sensor's cell, and the vulnerability term the *published* res-10 counts of the vulnerable tags
(a suppressed count adds nothing). Summed over a res-8 parent, the case and warning terms give
that cell's own points, so the fine heat is a refinement of the same surface, not a new model.

Read per request from ``cases`` / ``warning`` (GiST on ``geom``) and the process's cached
published counts; nothing is indexed, so the rebuild after new data is unchanged.
Coordinates are EPSG:4326 (lon, lat).
"""

from __future__ import annotations

from datetime import datetime

import h3
import psycopg

from geodata.geometry import BBox
from geodata.warnings.risk import VULNERABLE_TAGS, WINDOWS, fetch_risk_weights

#: Resolution of the fine heat (~66 m hexagon edge).
FINE_RES = 10

_CASES = """
SELECT ST_Y(geom), ST_X(geom), exp(-ln(2) * extract(epoch FROM %(at)s - reported_at) / 3600.0 / %(half)s)
  FROM cases
 WHERE reported_at > %(at)s - make_interval(hours => %(hours)s) AND reported_at <= %(at)s
   AND geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"""
_WARNINGS = """
SELECT ST_Y(geom), ST_X(geom), CASE WHEN escalated_at > %(at)s THEN first_level ELSE level END
  FROM warning
 WHERE opened_at <= %(at)s AND (closed_at IS NULL OR closed_at > %(at)s)
   AND geom && ST_MakeEnvelope(%(minx)s, %(miny)s, %(maxx)s, %(maxy)s, 4326)"""


def fetch_fine_scores(conn: psycopg.Connection, window: str, at: datetime, bbox: BBox,
                      res: int = FINE_RES) -> dict[int, float]:
    """``{res-``res`` cell: score}`` (cells with a score > 0) from the cases, warnings and published
    key-population counts in ``bbox`` (lon/lat) as of ``at`` over ``window``. The caller pads
    ``bbox`` by a cell or two so the kernel of cases just outside reaches in."""
    from geodata.population import fetch_counts_by_cell

    w = fetch_risk_weights(conn)
    params = {"at": at, "hours": WINDOWS[window], "half": w[f"half_life_{window}"], "minx": bbox.minlon,
              "miny": bbox.minlat, "maxx": bbox.maxlon, "maxy": bbox.maxlat}
    score: dict[int, float] = {}
    share = w["cases"] * w["neighbour_share"]
    for lat, lon, decay in conn.execute(_CASES, params):
        cell = h3.api.basic_int.latlng_to_cell(lat, lon, res)
        score[cell] = score.get(cell, 0.0) + w["cases"] * decay
        for n in h3.api.basic_int.grid_ring(cell, 1) if share else ():
            score[n] = score.get(n, 0.0) + share * decay
    for lat, lon, level in conn.execute(_WARNINGS, params):
        cell = h3.api.basic_int.latlng_to_cell(lat, lon, res)
        score[cell] = score.get(cell, 0.0) + w[f"warning_{level}"]
    for tag in VULNERABLE_TAGS:
        frame = fetch_counts_by_cell(conn, res, tag=tag, bbox=bbox)
        shown = frame[~frame["suppressed"]]
        for cell, n in zip(shown["cell"].tolist(), shown["n"].tolist(), strict=True):
            score[int(cell)] = score.get(int(cell), 0.0) + w["vulnerability"] * int(n)
    return {c: s for c, s in score.items() if s > 0}
