"""Privacy of the published population figures, proved by an INDEPENDENT audit.

The audit below shares no code with geodata.population.publish/bounds: it rebuilds the pieces
(people per res-10 cell ∩ grid) straight from the raw tables, reads back everything published
(every resolution, every tag, the grid table) and runs its own interval propagation
(Gauss–Seidel, one constraint at a time, infinite bounds as float('inf')) over:
  figure = Σ its pieces; suppressed figure ≥ 1; absent figure = 0; tag piece ≤ all piece;
  tag figure ≤ all-residents figure.
Every suppressed figure must keep a feasible range of width ≥ 1.
"""

from __future__ import annotations

import math

import h3
import numpy as np
import pandas as pd
import pytest

from geodata.population import audit as lp_audit
from geodata.population.publish import expand_atoms, publish_atoms

INF = math.inf
K = 10


# ---- the audit ------------------------------------------------------------------------------

def audit(pieces: list[tuple], published: dict[tuple, int | None]) -> dict[tuple, tuple[float, float]]:
    """Feasible range of every suppressed figure.

    pieces: (tag, c10, c9, c8, c7, grid) with people (tag '*' = everyone), as an attacker who
    knows where people live would list them; published: {(tag, level, key): n or None} with
    level 7..10 or 'grid'. Returns {figure: (lo, hi)} for suppressed figures.
    """
    members: dict[tuple, list[int]] = {}
    var_of: dict[tuple, int] = {}
    names = []
    for p in pieces:
        tag, c10, c9, c8, c7, grid = p
        keys = [(tag, 10, c10), (tag, 9, c9), (tag, 8, c8), (tag, 7, c7)] + ([(tag, "grid", grid)] if grid else [])
        if any(published.get(k, 0) == 0 for k in keys):
            continue  # in an absent (zero) figure: publicly empty
        var_of[(tag, c10, grid)] = len(names)
        names.append(p)
        for k in keys:
            members.setdefault(k, []).append(len(names) - 1)
    lo = [0.0] * len(names)
    hi = [INF] * len(names)
    fig_lo = {f: (1.0 if n is None else float(n)) for f, n in published.items()}
    fig_hi = {f: (INF if n is None else float(n)) for f, n in published.items()}
    for f in published:
        members.setdefault(f, [])
    below = [(i, var_of[("*", p[1], p[5])]) for i, p in enumerate(names) if p[0] != "*"]
    changed = True
    while changed:
        changed = False
        for f, vs in members.items():
            total_lo = sum(lo[v] for v in vs)
            finite_hi = sum(hi[v] for v in vs if hi[v] < INF)
            n_inf = sum(1 for v in vs if hi[v] == INF)
            new_lo, new_hi = max(fig_lo[f], total_lo), min(fig_hi[f], finite_hi if n_inf == 0 else INF)
            if (new_lo, new_hi) != (fig_lo[f], fig_hi[f]):
                fig_lo[f], fig_hi[f], changed = new_lo, new_hi, True
            for v in vs:
                others_hi = INF if n_inf - (hi[v] == INF) > 0 else finite_hi - (hi[v] if hi[v] < INF else 0)
                cand_lo = fig_lo[f] - others_hi
                cand_hi = fig_hi[f] - (total_lo - lo[v])
                if cand_lo > lo[v]:
                    lo[v], changed = cand_lo, True
                if cand_hi < hi[v]:
                    hi[v], changed = cand_hi, True
        for f in published:
            if f[0] != "*" and ("*", f[1], f[2]) in fig_hi:
                a = ("*", f[1], f[2])
                if fig_hi[a] < fig_hi[f]:
                    fig_hi[f], changed = fig_hi[a], True
                if fig_lo[f] > fig_lo[a]:
                    fig_lo[a], changed = fig_lo[f], True
        for t, a in below:
            if hi[a] < hi[t]:
                hi[t], changed = hi[a], True
            if lo[t] > lo[a]:
                lo[a], changed = lo[t], True
    return {f: (fig_lo[f], fig_hi[f]) for f, n in published.items() if n is None}


def assert_safe(ranges: dict) -> None:
    pinned = {f: r for f, r in ranges.items() if r[1] - r[0] < 1}
    assert not pinned, f"{len(pinned)} suppressed figures are recoverable, e.g. {list(pinned.items())[:3]}"


# ---- hand-made tricky cases -------------------------------------------------------------------

def _family(lat=31.40, lon=121.48):
    """An r8 cell, its 7 r9 children and each r9's first r10 children (real H3 ids)."""
    c8 = h3.api.basic_int.latlng_to_cell(lat, lon, 8)
    c7 = h3.api.basic_int.cell_to_parent(c8, 7)
    c9s = sorted(h3.api.basic_int.cell_to_children(c8, 9))
    return c7, c8, c9s, {c9: sorted(h3.api.basic_int.cell_to_children(c9, 10)) for c9 in c9s}


def _run(base_rows, tag_rows=(), communities=None):
    base = pd.DataFrame(base_rows, columns=["c10", "c9", "c8", "c7", "grid", "n"])
    tagged = pd.DataFrame(list(tag_rows), columns=["tag", "c10", "grid", "n"])
    atoms = expand_atoms(base, tagged)
    aggs, hidden, _ = publish_atoms(atoms, communities or {}, K)
    published = {(t, "grid" if lvl == 0 else lvl, (k if lvl == 0 else int(k))): (None if h else int(n))
                 for t, lvl, k, n, h in zip(aggs["tag"], aggs["level"], aggs["key"], aggs["n"], hidden,
                                            strict=True)}
    pieces = [tuple(r) for r in atoms[["tag", "c10", "c9", "c8", "c7", "grid"]].itertuples(index=False)]
    # an attacker lists only pieces with people (stronger than knowing addresses only)
    pieces = [p for p, n in zip(pieces, atoms["n"], strict=True) if n > 0 or p[0] == "*"]
    return published, pieces


def test_one_small_child_forces_a_second_suppression():
    c7, c8, c9s, c10s = _family()
    rows = [(c10s[c9][0], c9, c8, c7, "G1", 3 if i == 0 else 20 + i) for i, c9 in enumerate(c9s)]
    published, pieces = _run(rows)
    small = ("*", 9, c9s[0])
    assert published[small] is None
    hidden_siblings = [c9 for c9 in c9s[1:] if published[("*", 9, c9)] is None]
    assert hidden_siblings, "parent minus visible children would give the small cell"
    assert_safe(audit(pieces, published))


def test_two_ones_under_a_published_parent_are_not_enough():
    c7, c8, c9s, c10s = _family()
    rows = [(c10s[c9][0], c9, c8, c7, "G1", 1 if i < 2 else 30) for i, c9 in enumerate(c9s)]
    published, pieces = _run(rows)
    assert sum(published[("*", 9, c9)] is None for c9 in c9s) >= 3
    assert_safe(audit(pieces, published))


def test_tag_complement_is_suppressed():
    c7, c8, c9s, c10s = _family()
    rows = [(c10s[c9][0], c9, c8, c7, "G1", 40) for c9 in c9s]
    tags = [("floating", c10s[c9s[0]][0], "G1", 38)] + [("floating", c10s[c9][0], "G1", 15) for c9 in c9s[1:]]
    published, pieces = _run(rows, tags)
    assert published[("floating", 10, c10s[c9s[0]][0])] is None  # 40 - 38 = 2 people not floating
    assert_safe(audit(pieces, published))


def test_grid_table_does_not_reveal_a_hexagon():
    c7, c8, c9s, c10s = _family()
    # grid G2 holds one small piece only; the rest of that r10 cell belongs to G1.
    cell = c10s[c9s[0]][0]
    rows = [(cell, c9s[0], c8, c7, "G1", 30), (cell, c9s[0], c8, c7, "G2", 4)]
    rows += [(c10s[c9][0], c9, c8, c7, "G1", 25) for c9 in c9s[1:]]
    rows += [(c10s[c9][1], c9, c8, c7, "G2", 12) for c9 in c9s[1:3]]
    published, pieces = _run(rows, communities={"G1": "C1", "G2": "C1"})
    assert published[("*", "grid", "G2")] is not None  # 4 + 12 + 12 = 28
    assert_safe(audit(pieces, published))


def test_many_rare_tag_cells_stay_protected():
    rng = np.random.default_rng(3)
    c7, c8, c9s, c10s = _family()
    rows, tags = [], []
    for c9 in c9s:
        for j, c10 in enumerate(c10s[c9][:4]):
            grid = f"G{j % 2}"
            rows.append((c10, c9, c8, c7, grid, int(rng.integers(5, 60))))
            if rng.random() < 0.6:
                tags.append(("drug_rehab", c10, grid, int(rng.integers(1, 4))))
    published, pieces = _run(rows, tags, {"G0": "C", "G1": "C"})
    assert_safe(audit(pieces, published))


# ---- the small demo, end to end -------------------------------------------------------------------

_PIECES = """
SELECT '*' AS tag, a.h3_r10, a.h3_r9, a.h3_r8, a.h3_r7, coalesce(a.grid_code, '') FROM resident r
  JOIN address a ON a.id = r.address_id GROUP BY 2, 3, 4, 5, 6
UNION ALL
SELECT t.tag_code, a.h3_r10, a.h3_r9, a.h3_r8, a.h3_r7, coalesce(a.grid_code, '') FROM resident_tag t
  JOIN resident r ON r.id = t.resident_id JOIN address a ON a.id = r.address_id GROUP BY 1, 2, 3, 4, 5, 6"""


def test_demo_publication_is_safe_and_right(demo_db):
    with demo_db.connect() as conn:
        pieces = [tuple(r) for r in conn.execute(_PIECES)]
        published = {(t, res, cell): n for res, t, cell, n in conn.execute(
            "SELECT res, tag, cell, n FROM population_cell")}
        published |= {(t, "grid", g): n for g, t, n in conn.execute(
            "SELECT grid_code, tag, n FROM population_grid")}
        truth = dict(((t, r, c), n) for t, r, c, n in conn.execute("""
            SELECT '*', 8, a.h3_r8, count(*) FROM resident r JOIN address a ON a.id = r.address_id GROUP BY 3
            UNION ALL SELECT t.tag_code, 8, a.h3_r8, count(*) FROM resident_tag t
              JOIN resident r ON r.id = t.resident_id JOIN address a ON a.id = r.address_id GROUP BY 1, 3"""))
    shown = {f: n for f, n in published.items() if f[1] == 8 and n is not None}
    assert shown and all(truth[f] == n for f, n in shown.items())  # published figures are exact
    assert all(n >= K for n in published.values() if n is not None)
    assert set(f for f in published if f[1] == 8) == set(truth)  # every inhabited cell, nothing else
    hidden = [f for f, n in published.items() if n is None]
    assert len(hidden) > 100
    tags = {f[0] for f in hidden}
    assert "*" in tags and "drug_rehab" in tags
    assert_safe(audit(pieces, published))


# ---- the small demo against the exact attacker (an LP per suppressed figure) ------------------------

@pytest.mark.parametrize("tag", ["*", "elderly_alone"])
def test_demo_publication_resists_an_lp_attacker(demo_db, tag):
    with demo_db.connect() as conn:
        result = lp_audit.audit_tag(conn, tag, K)
    assert result.suppressed > 300 and result.published > 50
    assert result.determined == [], f"{len(result.determined)} recoverable ({result.below_k} below k)"


def test_the_lp_attacker_finds_a_planted_leak(demo_db):
    """Publish a hidden res-10 cell's parent and siblings: the cell is then parent − siblings."""
    with demo_db.connect() as conn:
        cell, parent = conn.execute(_PLANT_PICK).fetchone()
        conn.execute(_PLANT_PUBLISH, {"parent": parent, "cell": cell})
        conn.commit()
        result = lp_audit.audit_tag(conn, "*", K, only=[(10, cell)])
    assert result.audited == 1
    assert result.determined == [(10, cell)] and result.below_k == 1


# a hidden '*' res-10 cell under 10 people whose res-9 parent has other children
_PLANT_PICK = """
SELECT c.cell, a.h3_r9 FROM population_cell c JOIN address a ON a.h3_r10 = c.cell
 WHERE c.tag = '*' AND c.res = 10 AND c.n IS NULL
   AND (SELECT count(*) FROM resident r JOIN address b ON b.id = r.address_id WHERE b.h3_r10 = c.cell) < 10
   AND (SELECT count(DISTINCT b.h3_r10) FROM address b JOIN resident r ON r.address_id = b.id
         WHERE b.h3_r9 = a.h3_r9) > 1
 LIMIT 1"""
# the parent and every other child get their true counts published
_PLANT_PUBLISH = """
UPDATE population_cell p SET n = t.n
  FROM (SELECT 9 AS res, a.h3_r9 AS cell, count(*)::int AS n FROM resident r JOIN address a ON a.id = r.address_id
         WHERE a.h3_r9 = %(parent)s GROUP BY 2
        UNION ALL
        SELECT 10, a.h3_r10, count(*)::int FROM resident r JOIN address a ON a.id = r.address_id
         WHERE a.h3_r9 = %(parent)s AND a.h3_r10 <> %(cell)s GROUP BY 2) t
 WHERE p.tag = '*' AND p.res = t.res AND p.cell = t.cell"""
