"""SQL of the grid editor (values always as parameters; no identifiers from input).

Geometries travel as WKB in EPSG:4326 (lon/lat). ``%(c)s`` is the community code.
"""

COMMUNITIES = """
SELECT a.code, a.name, s.name AS street, (SELECT count(*) FROM grid g WHERE g.community_code = a.code) AS grids
  FROM admin_area a LEFT JOIN admin_area s ON s.code = a.parent_code
 WHERE a.level = 'community'
 ORDER BY a.code"""
# Outlines for the editor's overview map: simplified by %(tol)s degrees, GeoJSON with 6 decimals (~0.1 m).
COMMUNITY_OUTLINES = """
SELECT a.code, a.name, s.name, ST_AsGeoJSON(ST_SimplifyPreserveTopology(a.geom, %(tol)s), 6)
  FROM admin_area a LEFT JOIN admin_area s ON s.code = a.parent_code
 WHERE a.level = 'community'
 ORDER BY a.code"""
COMMUNITY = "SELECT code, name, ST_AsBinary(geom) FROM admin_area WHERE code = %(c)s AND level = 'community'"
GRIDS = """
SELECT code, name, supervisor, ST_AsBinary(geom) FROM grid WHERE community_code = %(c)s ORDER BY code"""
HEAD = "SELECT coalesce(max(version), 0) FROM grid_version WHERE community_code = %(c)s"
USED_CODES = """
SELECT code FROM grid WHERE community_code = %(c)s
UNION SELECT code FROM grid_version_member WHERE community_code = %(c)s"""
FOREIGN_CODES = "SELECT code, community_code FROM grid WHERE code = ANY(%(codes)s) AND community_code <> %(c)s"

# Households and residents per address: index lookups per address (household/resident are
# district-wide; grouping them whole would cost more than the community's few thousand probes).
POINTS = """
SELECT a.id, ST_X(a.geom), ST_Y(a.geom), a.grid_code,
       (SELECT count(*) FROM household h WHERE h.address_id = a.id),
       (SELECT count(*) FROM resident r WHERE r.address_id = a.id)
  FROM address a WHERE a.community_code = %(c)s ORDER BY a.id"""
OPEN_CASES = """
SELECT id, ST_X(geom), ST_Y(geom), grid_code FROM cases
 WHERE community_code = %(c)s AND state = ANY(%(open)s) ORDER BY id"""
FACILITIES = "SELECT id, ST_X(geom), ST_Y(geom), grid_code FROM facility WHERE community_code = %(c)s ORDER BY id"

# -- saving --------------------------------------------------------------------------------
LOCK = "SELECT code FROM admin_area WHERE code = %(c)s AND level = 'community' FOR UPDATE"
ROW_CHECK_OFF = "SELECT set_config('onegrid.grid_set_write', 'on', true)"
INSERT_VERSION = """
INSERT INTO grid_version (community_code, version, kind, author, reason, effective_at, based_on, grids)
VALUES (%(c)s, %(v)s, %(kind)s, %(author)s, %(reason)s, %(eff)s, %(based_on)s,
        (SELECT count(*) FROM grid WHERE community_code = %(c)s))"""
SNAPSHOT = """
INSERT INTO grid_version_member (community_code, version, code, name, supervisor, households, geom)
SELECT community_code, %(v)s, code, name, supervisor, households, geom FROM grid WHERE community_code = %(c)s"""
STAGE = """
DROP TABLE IF EXISTS og_stage_gridset;
CREATE TEMP TABLE og_stage_gridset (code text, name text, supervisor text, wkb bytea,
                                    geom geometry(MultiPolygon, 4326)) ON COMMIT DROP"""
COPY_STAGE = "COPY og_stage_gridset (code, name, supervisor, wkb) FROM STDIN"
STAGE_GEOM = "UPDATE og_stage_gridset SET geom = ST_Multi(ST_SetSRID(ST_GeomFromWKB(wkb), 4326))"
UPDATE_CHANGED = """
UPDATE grid g SET geom = s.geom, name = s.name, supervisor = s.supervisor, version = %(v)s, valid_from = %(eff)s
  FROM og_stage_gridset s
 WHERE g.code = s.code AND g.community_code = %(c)s
   AND (NOT ST_OrderingEquals(g.geom, s.geom) OR g.name IS DISTINCT FROM s.name
        OR g.supervisor IS DISTINCT FROM s.supervisor)"""
INSERT_NEW = """
INSERT INTO grid (code, name, community_code, supervisor, households, version, valid_from, geom)
SELECT s.code, s.name, %(c)s, s.supervisor, 0, %(v)s, %(eff)s, s.geom
  FROM og_stage_gridset s WHERE NOT EXISTS (SELECT 1 FROM grid g WHERE g.code = s.code)"""
# Re-derivation: the new grid covering each point (lowest code on a shared edge), only among
# the new set's codes (retired grids are still rows until DELETE_RETIRED). The join runs grid
# first, so PostGIS tests each polygon against many points (its prepared-geometry cache hits);
# a per-point subquery would test 10,000 points against changing polygons (~30× slower).
#: Tables whose points carry a derived grid_code within a community (whitelist for REDERIVE_POINTS):
#: addresses, facilities and sensors (migration 0006; their past warnings keep the grid they had).
POINT_TABLES = ("address", "facility", "sensor")
# Formatted with psycopg.sql ({table} an Identifier from POINT_TABLES).
REDERIVE_POINTS = """
UPDATE {table} f SET grid_code = n.code
  FROM (SELECT t.id, c.code FROM {table} t
          LEFT JOIN (SELECT DISTINCT ON (a.id) a.id, g.code
                       FROM grid g JOIN {table} a ON ST_Covers(g.geom, a.geom)
                      WHERE g.code = ANY(%(codes)s) AND a.community_code = %(c)s
                      ORDER BY a.id, g.code) c ON c.id = t.id
         WHERE t.community_code = %(c)s) n
 WHERE f.id = n.id AND f.community_code = %(c)s AND f.grid_code IS DISTINCT FROM n.code"""
# Open cases follow the new boundaries; closed ones keep their grid unless it is retired.
REDERIVE_CASES = """
UPDATE cases f SET grid_code = n.code
  FROM (SELECT t.id, c.code FROM cases t
          LEFT JOIN (SELECT DISTINCT ON (a.id) a.id, g.code
                       FROM grid g JOIN cases a ON ST_Covers(g.geom, a.geom)
                      WHERE g.code = ANY(%(codes)s) AND a.community_code = %(c)s
                      ORDER BY a.id, g.code) c ON c.id = t.id
         WHERE t.community_code = %(c)s
           AND (t.state = ANY(%(open)s) OR NOT (t.grid_code = ANY(%(codes)s)))) n
 WHERE f.id = n.id AND f.community_code = %(c)s AND f.grid_code IS DISTINCT FROM n.code"""
DELETE_RETIRED = "DELETE FROM grid WHERE community_code = %(c)s AND NOT (code = ANY(%(codes)s))"
# Each grid's count once (a count in the subquery's select list was run twice per grid: for
# the comparison and for SET; OFFSET 0 keeps it a per-grid index probe).
HOUSEHOLDS = """
UPDATE grid g SET households = n.hh
  FROM grid g2
 CROSS JOIN LATERAL (SELECT count(*) AS hh FROM household h JOIN address a ON a.id = h.address_id
                      WHERE a.grid_code = g2.code OFFSET 0) n
 WHERE g2.community_code = %(c)s AND g.code = g2.code AND g.households IS DISTINCT FROM n.hh"""
HAS_ADDRESSES = "SELECT EXISTS (SELECT 1 FROM address WHERE community_code = %(c)s)"
# Set-based guard after writing (the validation ran before; this catches anything it missed).
OVERLAPS = """
SELECT a.code, b.code, round(ST_Area(ST_Intersection(a.geom, b.geom)::geography)::numeric, 1)
  FROM grid a JOIN grid b ON b.community_code = a.community_code AND b.code > a.code AND b.geom && a.geom
 WHERE a.community_code = %(c)s AND ST_Relate(a.geom, b.geom, '2********')
   AND ST_Area(ST_Intersection(a.geom, b.geom)::geography)
       > coalesce((SELECT value::float8 FROM og_setting WHERE key = 'grid_overlap_tolerance_m2'), 1.0)
 LIMIT 5"""

# -- history -------------------------------------------------------------------------------
VERSIONS = """
SELECT version, kind, author, reason, created_at, effective_at, based_on, grids
  FROM grid_version WHERE community_code = %(c)s ORDER BY version DESC"""
VERSION_MEMBERS = """
SELECT code, name, supervisor, households, ST_AsBinary(geom)
  FROM grid_version_member WHERE community_code = %(c)s AND version = %(v)s ORDER BY code"""
DIFF = """
SELECT coalesce(a.code, b.code) AS code,
       CASE WHEN a.code IS NULL THEN 'added' WHEN b.code IS NULL THEN 'retired'
            WHEN ST_Equals(a.geom, b.geom) THEN 'same' ELSE 'changed' END AS change,
       ST_Area(a.geom::geography) AS area_a, ST_Area(b.geom::geography) AS area_b,
       a.households AS households_a, b.households AS households_b
  FROM (SELECT * FROM grid_version_member WHERE community_code = %(c)s AND version = %(a)s) a
  FULL JOIN (SELECT * FROM grid_version_member WHERE community_code = %(c)s AND version = %(b)s) b
    ON a.code = b.code
 ORDER BY 1"""

# -- suggestions ---------------------------------------------------------------------------
ROADS = """
SELECT ST_AsBinary(ST_Intersection(r.geom, a.geom)) FROM road r JOIN admin_area a ON a.code = %(c)s
 WHERE r.geom && a.geom AND ST_Intersects(r.geom, a.geom) AND r.kind <> 'path'"""
SUGGESTION_START = "INSERT INTO grid_suggestion (community_code) VALUES (%(c)s) RETURNING id"
SUGGESTION_PROGRESS = "UPDATE grid_suggestion SET progress = %(p)s WHERE id = %(id)s AND status = 'running'"
SUGGESTION_DONE = """
UPDATE grid_suggestion SET status = %(status)s, progress = 1, message = %(msg)s, result = %(result)s
 WHERE id = %(id)s"""
SUGGESTION = "SELECT community_code, status, progress, message, result FROM grid_suggestion WHERE id = %(id)s"
SUGGESTION_PRUNE = "DELETE FROM grid_suggestion WHERE created_at < now() - interval '1 day'"

# -- imports -------------------------------------------------------------------------------
COMMUNITY_AT = """
SELECT a.code FROM admin_area a
 WHERE a.level = 'community' AND ST_Covers(a.geom, ST_PointOnSurface(ST_SetSRID(ST_GeomFromWKB(%s), 4326)))
 ORDER BY a.code LIMIT 1"""
COMMUNITIES_OF = "SELECT DISTINCT community_code FROM grid WHERE code = ANY(%s) ORDER BY 1"

# -- republication of the community's grid population figures (geodata.grids.publication) --
PUBLISHED = "SELECT 1 FROM population_publication"
PREV_DROP = "DROP TABLE IF EXISTS og_prev_grid"
# The community's addresses before the save, with their H3 cells (which the save leaves alone)
# so the region's cells need no second look at these addresses.
PREV_STAGE = """
CREATE TEMP TABLE og_prev_grid ON COMMIT DROP AS
SELECT id, grid_code, h3_r7, h3_r8, h3_r9, h3_r10 FROM address WHERE community_code = %(c)s"""
PREV_FIGURES = """
SELECT p.grid_code, p.tag, p.n FROM population_grid p JOIN grid g ON g.code = p.grid_code
 WHERE g.community_code = %(c)s"""
GRID_CODES = "SELECT code FROM grid WHERE community_code = %(c)s"
# The region: every address in the H3 cells (column {col}, an Identifier h3_r7..h3_r10; %(res)s
# its resolution) that hold the community's addresses, with its grid now and before the save
# (other communities' addresses kept theirs). address has no index on the H3 columns (each
# would slow every re-derivation's UPDATE): the cells' envelopes in the address_cell pyramid
# find their addresses through the spatial index; REGION_COMPLETE then compares the count with
# the pyramid's exact per-cell counts and REGION_STAGE_SCAN (a sequential scan) is the fallback.
REGION_DROP = "DROP TABLE IF EXISTS og_region"
REGION_CELLS = "SELECT DISTINCT {col} FROM og_prev_grid"
REGION_STAGE = """
CREATE TEMP TABLE og_region ON COMMIT DROP AS
SELECT a.id, a.h3_r10, a.h3_r9, a.h3_r8, a.h3_r7, coalesce(a.grid_code, '') AS grid,
       CASE WHEN p.id IS NULL THEN coalesce(a.grid_code, '') ELSE coalesce(p.grid_code, '') END AS prev
  FROM address_cell c
  JOIN address a ON a.geom && c.geom AND a.{col} = c.cell
  LEFT JOIN og_prev_grid p ON p.id = a.id
 WHERE c.res = %(res)s AND c.cell = ANY(%(cells)s)"""
REGION_COMPLETE = """
SELECT (SELECT count(*) FROM og_region)
     = (SELECT coalesce(sum(n), 0) FROM address_cell WHERE res = %(res)s AND cell = ANY(%(cells)s))"""
REGION_STAGE_SCAN = """
CREATE TEMP TABLE og_region ON COMMIT DROP AS
SELECT a.id, a.h3_r10, a.h3_r9, a.h3_r8, a.h3_r7, coalesce(a.grid_code, '') AS grid,
       CASE WHEN p.id IS NULL THEN coalesce(a.grid_code, '') ELSE coalesce(p.grid_code, '') END AS prev
  FROM address a LEFT JOIN og_prev_grid p ON p.id = a.id
 WHERE a.{col} = ANY(%(cells)s)"""
# People per region atom (H3 res-10 cell, grid now, grid before) and tag ('*' first): one index
# probe of population_address per region address (OFFSET 0 keeps the planner from turning the
# probes into a hash join over the whole district's counts).
REGION_ATOMS = """
SELECT p.tag, r.h3_r10, r.h3_r9, r.h3_r8, r.h3_r7, r.grid, r.prev, sum(p.n)::bigint
  FROM og_region r
 CROSS JOIN LATERAL (SELECT tag, n FROM population_address WHERE address_id = r.id OFFSET 0) p
 GROUP BY 1, 2, 3, 4, 5, 6, 7
 ORDER BY p.tag <> '*', 1, 2, 6, 7"""
# People per address and tag (migration 0015), rebuilt when a resident write changed the stamp.
# Read the stamp before the residents: a resident write committed in between only makes the next
# save rebuild again.
ADDRESS_CACHE_LOCK = "LOCK TABLE population_address IN EXCLUSIVE MODE"
ADDRESS_CACHE_STAMP = "SELECT stamp, built_from FROM population_address_stamp"
ADDRESS_CACHE_CLEAR = "DELETE FROM population_address"
ADDRESS_CACHE_FILL = """
INSERT INTO population_address (address_id, tag, n)
SELECT address_id, '*', count(*) FROM resident GROUP BY 1
UNION ALL
SELECT r.address_id, t.tag_code, count(*) FROM resident_tag t JOIN resident r ON r.id = t.resident_id GROUP BY 1, 2"""
ADDRESS_CACHE_BUILT = "UPDATE population_address_stamp SET built_from = %(stamp)s"
# The figures of the region's cells that hold people (%(cells)s: H3 ids, unique across resolutions).
CELL_STATES = "SELECT res, tag, cell, n FROM population_cell WHERE cell = ANY(%(cells)s)"
# H3 cells coarser than the region's resolution that also hold addresses outside the region
# (their figures count people it lacks); {cols} are Identifiers h3_r7..h3_r9, finest first.
# Cells at the region's resolution or finer are whole by construction (parents are derived).
PARTIAL_CELLS = """
SELECT DISTINCT {cols} FROM address a
 WHERE a.h3_r7 = ANY(ARRAY(SELECT DISTINCT h3_r7 FROM og_region))
   AND NOT EXISTS (SELECT 1 FROM og_region r WHERE r.id = a.id)"""
GRID_STATES = "SELECT grid_code, tag, n FROM population_grid WHERE grid_code = ANY(%(codes)s)"
# Grids with an address outside the region.
PARTIAL_GRIDS = """
SELECT DISTINCT a.grid_code FROM address a
 WHERE a.grid_code = ANY(%(codes)s) AND NOT EXISTS (SELECT 1 FROM og_region r WHERE r.id = a.id)"""
# Published cells a save's new grid figures would give away (geodata.grids.publication).
HIDE_CELLS = """
UPDATE population_cell p SET n = NULL
  FROM unnest(%(res)s::int2[], %(tag)s::text[], %(cell)s::int8[]) AS h (res, tag, cell)
 WHERE p.res = h.res AND p.tag = h.tag AND p.cell = h.cell"""
CLEAR_FIGURES = "DELETE FROM population_grid WHERE grid_code = ANY(%(codes)s)"
COPY_FIGURES = "COPY population_grid (grid_code, tag, n) FROM STDIN"
