"""SQL of :mod:`geodata.population` (writers, publication, reads). Values are always parameters."""

# -- ids drawn up front ----------------------------------------------------------------------
# The table lock keeps other writers from drawing ids between nextval and setval (their INSERT
# waits for it), so [first, first + n) is ours.
LOCK_HOUSEHOLD = "LOCK TABLE household IN SHARE ROW EXCLUSIVE MODE"
LOCK_RESIDENT = "LOCK TABLE resident IN SHARE ROW EXCLUSIVE MODE"
RESERVE = {
    "household": "SELECT nextval(pg_get_serial_sequence('household', 'id'))",
    "resident": "SELECT nextval(pg_get_serial_sequence('resident', 'id'))",
}
RESERVE_END = {
    "household": "SELECT setval(pg_get_serial_sequence('household', 'id'), %s)",
    "resident": "SELECT setval(pg_get_serial_sequence('resident', 'id'), %s)",
}

ADDRESS_IDS = "SELECT code, id, street_code FROM address WHERE code IS NOT NULL"

COPY_HOUSEHOLD = "COPY household (id, address_id, size, street_code, kind) FROM STDIN (FORMAT binary)"
COPY_RESIDENT = ("COPY resident (id, household_id, address_id, street_code, birth_year, sex) "
                 "FROM STDIN (FORMAT binary)")
COPY_RESIDENT_TAG = "COPY resident_tag (resident_id, tag_code) FROM STDIN (FORMAT binary)"

# A bulk load (the district demo's 2.2 million residents) drops the keys and indexes of the
# three tables and builds them again afterwards, as pg_restore does: one sort per index and one
# join per foreign key instead of a check and an index insertion per row (~55 s → ~20 s).
# Rebuilt in this order: keys (referenced by the foreign keys), indexes, foreign keys.
BULK_KEYS = {
    "household": {"household_pkey": "PRIMARY KEY (id)"},
    "resident": {"resident_pkey": "PRIMARY KEY (id)"},
    "resident_tag": {"resident_tag_pkey": "PRIMARY KEY (resident_id, tag_code)"},
}
MAINTENANCE_MEMORY = "SET LOCAL maintenance_work_mem = '256MB'"  # index builds sort in memory
BULK_INDEXES = {
    "household": {"household_address_idx": "INDEX {} ON {} (address_id)",
                  "household_code_key": "UNIQUE INDEX {} ON {} (code) WHERE code IS NOT NULL"},
    "resident": {"resident_address_idx": "INDEX {} ON {} (address_id)",
                 "resident_household_idx": "INDEX {} ON {} (household_id)",
                 "resident_ref_hash_key": "UNIQUE INDEX {} ON {} (ref_hash) WHERE ref_hash IS NOT NULL"},
    "resident_tag": {"resident_tag_tag_idx": "INDEX {} ON {} (tag_code)"},
}
BULK_FKS = {
    "household": {
        "household_address_fk": "FOREIGN KEY (address_id) REFERENCES address (id) ON DELETE CASCADE",
        "household_street_fk": "FOREIGN KEY (street_code) REFERENCES admin_area (code) ON UPDATE CASCADE",
    },
    "resident": {
        "resident_household_fk": "FOREIGN KEY (household_id) REFERENCES household (id) ON DELETE CASCADE",
        "resident_address_fk": "FOREIGN KEY (address_id) REFERENCES address (id) ON DELETE CASCADE",
        "resident_street_fk": "FOREIGN KEY (street_code) REFERENCES admin_area (code) ON UPDATE CASCADE",
    },
    "resident_tag": {
        "resident_tag_resident_fk": "FOREIGN KEY (resident_id) REFERENCES resident (id) ON DELETE CASCADE",
        "resident_tag_tag_fk": "FOREIGN KEY (tag_code) REFERENCES population_tag (code) ON UPDATE CASCADE",
    },
}

TAGS = "SELECT code, name_zh, name_en, colour, sort FROM population_tag ORDER BY sort, code"
SALT = "SELECT value FROM og_setting WHERE key = 'population_ref_salt'"

# -- reads -----------------------------------------------------------------------------------
# Published counts of one resolution and tag (cached per process by the publication stamp).
CELLS_ALL = "SELECT cell, n FROM population_cell WHERE res = %(res)s AND tag = %(tag)s ORDER BY cell"
CELL_STAMP = "SELECT stamp FROM population_cell_stamp"  # changes with every change to population_cell
# Notified at the commit of every change to population_cell (migration 0017).
LISTEN_CELLS = "LISTEN onegrid_population_cell"
GRID_TABLE = """
SELECT t.code, t.name_zh, t.name_en, t.colour, g.n, g.grid_code IS NOT NULL AS present
  FROM (SELECT '*' AS code, '全部居民' AS name_zh, 'All residents' AS name_en, '#e0e0e0' AS colour, 0 AS sort
        UNION ALL SELECT code, name_zh, name_en, colour, sort FROM population_tag) t
  LEFT JOIN population_grid g ON g.tag = t.code AND g.grid_code = %(grid)s
 ORDER BY t.sort, t.code"""
GRID_EXISTS = "SELECT 1 FROM grid WHERE code = %(grid)s"
PUBLICATION = "SELECT built_at, min_cell, residents, suppressed, rounds FROM population_publication"
TAG_EXISTS = "SELECT 1 FROM population_tag WHERE code = %(tag)s"

# Server-side planning only: per-address counts (never sent to a browser).
DEMAND = """
SELECT r.address_id, count(*)::int AS n
  FROM resident r
 WHERE (%(min_year)s::int IS NULL OR r.birth_year >= %(min_year)s::int)
   AND (%(max_year)s::int IS NULL OR r.birth_year <= %(max_year)s::int)
   AND (%(tag)s::text IS NULL OR EXISTS (SELECT 1 FROM resident_tag t
                                          WHERE t.resident_id = r.id AND t.tag_code = %(tag)s::text))
 GROUP BY r.address_id
 ORDER BY r.address_id"""

# -- publication -----------------------------------------------------------------------------
# Atoms: people per (H3 res-10 cell, grid) piece; '' = an address outside every grid.
ATOMS_ALL = """
SELECT a.h3_r10, a.h3_r9, a.h3_r8, a.h3_r7, coalesce(a.grid_code, '') AS grid, sum(r.n)::bigint AS n
  FROM (SELECT address_id, count(*) AS n FROM resident GROUP BY address_id) r
  JOIN address a ON a.id = r.address_id
 GROUP BY 1, 2, 3, 4, 5"""
ATOMS_TAG = """
SELECT t.tag_code AS tag, a.h3_r10, coalesce(a.grid_code, '') AS grid, count(*)::bigint AS n
  FROM resident_tag t
  JOIN resident r ON r.id = t.resident_id
  JOIN address a ON a.id = r.address_id
 GROUP BY 1, 2, 3"""
GRID_COMMUNITIES = "SELECT code, community_code FROM grid"
CLEAR_CELLS = "DELETE FROM population_cell"  # not TRUNCATE: map readers keep the old figures until commit
CLEAR_GRIDS = "DELETE FROM population_grid"
COPY_CELLS = "COPY population_cell (res, tag, cell, n) FROM STDIN (FORMAT binary)"
COPY_GRIDS = "COPY population_grid (grid_code, tag, n) FROM STDIN (FORMAT binary)"
SET_PUBLICATION = """
INSERT INTO population_publication (one, built_at, min_cell, residents, suppressed, rounds)
VALUES (true, now(), %(k)s, %(residents)s, %(suppressed)s, %(rounds)s)
ON CONFLICT (one) DO UPDATE SET built_at = EXCLUDED.built_at, min_cell = EXCLUDED.min_cell,
    residents = EXCLUDED.residents, suppressed = EXCLUDED.suppressed, rounds = EXCLUDED.rounds"""
GRID_AT = """
SELECT code FROM grid
 WHERE ST_Intersects(geom, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))
 ORDER BY code LIMIT 1"""

# -- CSV import (geodata.population.residents_import) ----------------------------------------
ADDRESSES_BY_CODE = "SELECT code, id, street_code FROM address WHERE code = ANY(%s)"
HOUSEHOLDS_BY_CODE = "SELECT code, id, address_id FROM household WHERE code = ANY(%s)"
REF_HASHES = "SELECT ref_hash FROM resident WHERE ref_hash = ANY(%s)"
INSERT_HOUSEHOLDS = """
INSERT INTO household (code, address_id, size, street_code)
SELECT * FROM unnest(%s::text[], %s::bigint[], %s::smallint[], %s::text[])
RETURNING code, id"""
GROW_HOUSEHOLDS = """
UPDATE household h SET size = h.size + g.n
  FROM unnest(%s::bigint[], %s::int[]) AS g (id, n)
 WHERE h.id = g.id"""
COPY_RESIDENT_ROWS = ("COPY resident (id, household_id, address_id, street_code, birth_year, sex, ref_hash) "
                      "FROM STDIN")
COPY_RESIDENT_TAG_ROWS = "COPY resident_tag (resident_id, tag_code) FROM STDIN"

# Bench baseline only (bench/density_viewport.py): the naive GROUP BY over the raw resident
# table, unsuppressed; {res} is a whitelisted literal 7..10. Never used for a response.
RAW_CELLS_IN_VIEW = """
SELECT a.h3_r{res} AS cell, count(*)::int AS n
  FROM resident r
  JOIN address a ON a.id = r.address_id
 WHERE a.geom && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
   AND (%(tag)s::text IS NULL OR EXISTS (SELECT 1 FROM resident_tag t
                                          WHERE t.resident_id = r.id AND t.tag_code = %(tag)s::text))
 GROUP BY 1"""
COUNT_RESIDENTS = "SELECT count(*) FROM resident"

# -- exact audit (geodata.population.audit): the attacker's pieces, the published figures, and
# the true count of a figure the attacker pinned (compared with k, never shown) ------------------
AUDIT_TAGS = "SELECT tag FROM population_cell GROUP BY tag ORDER BY tag <> '*', tag"
AUDIT_PIECES = "SELECT DISTINCT h3_r10, h3_r9, h3_r8, h3_r7, coalesce(grid_code, '') FROM address"
AUDIT_CELLS = "SELECT res, cell, n FROM population_cell WHERE tag = %(tag)s"
AUDIT_GRIDS = "SELECT grid_code, n FROM population_grid WHERE tag = %(tag)s"
AUDIT_TRUTH_CELL = """
SELECT count(*) FROM resident r JOIN address a ON a.id = r.address_id
 WHERE CASE %(res)s::int WHEN 10 THEN a.h3_r10 WHEN 9 THEN a.h3_r9 WHEN 8 THEN a.h3_r8 ELSE a.h3_r7 END = %(key)s
   AND (%(tag)s = '*' OR EXISTS (SELECT 1 FROM resident_tag t WHERE t.resident_id = r.id AND t.tag_code = %(tag)s))"""
AUDIT_TRUTH_GRID = """
SELECT count(*) FROM resident r JOIN address a ON a.id = r.address_id
 WHERE a.grid_code = %(key)s
   AND (%(tag)s = '*' OR EXISTS (SELECT 1 FROM resident_tag t WHERE t.resident_id = r.id AND t.tag_code = %(tag)s))"""
