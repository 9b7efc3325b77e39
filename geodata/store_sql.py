"""SQL used by :mod:`geodata.store`: staging tables, set-based checks and inserts.

Staging tables are temporary, recreated per call, and hold ``ord`` (input order) and
``where_label`` (how messages name a row). Geometry arrives as WKB and is tagged SRID 4326.
"""

ADMIN_CODES = "SELECT code FROM admin_area WHERE code = ANY(%s)"
GRID_CODES = "SELECT code FROM grid WHERE code = ANY(%s)"
ADDRESS_CODES = "SELECT code FROM address WHERE code = ANY(%s)"
FACILITY_CODES = "SELECT code FROM facility WHERE code = ANY(%s)"
FACILITY_KINDS = "SELECT code FROM facility_kind"

# -- admin areas ---------------------------------------------------------------------------
STAGE_ADMIN = """
DROP TABLE IF EXISTS og_stage_admin;
CREATE TEMP TABLE og_stage_admin (
    ord int, where_label text, code text, name text, level text, parent_code text,
    population int, wkb bytea)"""
COPY_ADMIN = ("COPY og_stage_admin (ord, where_label, code, name, level, parent_code, population, wkb) "
              "FROM STDIN")
ADMIN_PARENT_PROBLEMS = """
WITH known AS (
    SELECT code, level FROM admin_area
    UNION ALL SELECT code, level FROM og_stage_admin)
SELECT s.where_label,
       CASE WHEN s.level = 'district' THEN 'a district has no parent, got ' || s.parent_code
            WHEN k.code IS NULL THEN 'parent ' || s.parent_code || ' does not exist'
            ELSE 'parent ' || s.parent_code || ' is a ' || k.level || ', not the level above ' || s.level END
  FROM og_stage_admin s
  LEFT JOIN known k ON k.code = s.parent_code
 WHERE s.parent_code IS NOT NULL
   AND (s.level = 'district' OR k.code IS NULL
        OR k.level <> CASE s.level WHEN 'street' THEN 'district' WHEN 'community' THEN 'street' END)
 ORDER BY s.ord"""
INSERT_ADMIN = """
INSERT INTO admin_area (code, name, level, parent_code, population, geom)
SELECT s.code, s.name, s.level, s.parent_code, s.population, ST_SetSRID(ST_GeomFromWKB(s.wkb), 4326)
  FROM og_stage_admin s ORDER BY s.ord"""

# -- grids ---------------------------------------------------------------------------------
STAGE_GRID = """
DROP TABLE IF EXISTS og_stage_grid;
CREATE TEMP TABLE og_stage_grid (
    ord int, where_label text, code text, name text, community_code text, supervisor text,
    households int, wkb bytea, geom geometry(MultiPolygon, 4326))"""
COPY_GRID = ("COPY og_stage_grid (ord, where_label, code, name, community_code, supervisor, households, wkb) "
             "FROM STDIN")
GRID_DERIVE_COMMUNITY = """
UPDATE og_stage_grid s SET geom = ST_SetSRID(ST_GeomFromWKB(s.wkb), 4326);
UPDATE og_stage_grid s SET community_code = (
    SELECT a.code FROM admin_area a
     WHERE a.level = 'community' AND ST_Covers(a.geom, ST_PointOnSurface(s.geom))
     ORDER BY a.code LIMIT 1)
 WHERE s.community_code IS NULL;
CREATE INDEX ON og_stage_grid USING gist (geom);
ANALYZE og_stage_grid"""
GRID_COMMUNITY_PROBLEMS = """
SELECT s.where_label,
       CASE WHEN s.community_code IS NULL THEN 'grid ' || s.code || ' lies in no community (give community_code)'
            ELSE 'community ' || s.community_code || ' does not exist' END
  FROM og_stage_grid s
 WHERE s.community_code IS NULL
    OR NOT EXISTS (SELECT 1 FROM admin_area a WHERE a.code = s.community_code AND a.level = 'community')
 ORDER BY s.ord"""
GRID_OVERLAP_PROBLEMS = """
WITH tol AS (
    SELECT coalesce((SELECT value::float8 FROM og_setting WHERE key = 'grid_overlap_tolerance_m2'), 1.0) AS m2),
pairs AS (
    SELECT a.ord, a.where_label, a.code, b.code AS other,
           ST_Area(ST_Intersection(a.geom, b.geom)::geography) AS m2
      FROM og_stage_grid a
      JOIN og_stage_grid b ON b.community_code = a.community_code AND b.ord > a.ord AND b.geom && a.geom
     WHERE ST_Relate(a.geom, b.geom, '2********')
    UNION ALL
    SELECT a.ord, a.where_label, a.code, g.code, ST_Area(ST_Intersection(a.geom, g.geom)::geography)
      FROM og_stage_grid a
      JOIN grid g ON g.community_code = a.community_code AND g.geom && a.geom
     WHERE ST_Relate(a.geom, g.geom, '2********'))
SELECT p.where_label, 'grid ' || p.code || ' overlaps grid ' || p.other || ' by '
       || round(p.m2::numeric, 1) || ' m²'
  FROM pairs p, tol
 WHERE p.m2 > tol.m2
 ORDER BY p.ord"""
INSERT_GRID = """
INSERT INTO grid (code, name, community_code, supervisor, households, geom)
SELECT s.code, s.name, s.community_code, s.supervisor, s.households, s.geom
  FROM og_stage_grid s ORDER BY s.ord"""

# -- points (addresses, facilities) --------------------------------------------------------
STAGE_POINTS = """
DROP TABLE IF EXISTS {table};
CREATE TEMP TABLE {table} (
    ord int, where_label text, code text,
    full_text text, road text, number text, building text, unit text,
    kind text, name text, capacity int, address_id bigint,
    h3_r7 bigint, h3_r8 bigint, h3_r9 bigint, h3_r10 bigint, wkb bytea,
    geom geometry(Point, 4326), grid_code text, community_code text, street_code text)"""
COPY_ADDRESS = ("COPY og_stage_address (ord, where_label, code, full_text, road, number, building, unit, "
                "h3_r7, h3_r8, h3_r9, h3_r10, wkb) FROM STDIN")
COPY_FACILITY = ("COPY og_stage_facility (ord, where_label, code, kind, name, capacity, address_id, wkb) "
                 "FROM STDIN")
FACILITY_ADDRESS_PROBLEMS = """
SELECT s.where_label, 'address_id ' || s.address_id || ' does not exist'
  FROM og_stage_facility s
 WHERE s.address_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM address a WHERE a.id = s.address_id)
 ORDER BY s.ord"""
# Grid first (it implies community and street); community polygons cover points in
# communities that have no grids yet. Formatted with psycopg.sql ({stage} is an Identifier).
LOCATE_POINTS = """
UPDATE {stage} s SET geom = ST_SetSRID(ST_GeomFromWKB(s.wkb), 4326);
CREATE INDEX ON {stage} USING gist (geom);
ANALYZE {stage};
UPDATE {stage} s SET (grid_code, community_code, street_code) = (
    SELECT g.code, g.community_code, g.street_code FROM grid g
     WHERE ST_Covers(g.geom, s.geom) ORDER BY g.code LIMIT 1);
UPDATE {stage} s SET (community_code, street_code) = (
    SELECT a.code, a.parent_code FROM admin_area a
     WHERE a.level = 'community' AND ST_Covers(a.geom, s.geom) ORDER BY a.code LIMIT 1)
 WHERE s.community_code IS NULL"""
OUTSIDE_POINTS = """
SELECT s.where_label, ST_X(s.geom), ST_Y(s.geom) FROM {stage} s
 WHERE s.community_code IS NULL ORDER BY s.ord LIMIT 1000"""
INSERT_ADDRESS = """
INSERT INTO address (code, full_text, road, number, building, unit, community_code, grid_code, street_code,
                     h3_r7, h3_r8, h3_r9, h3_r10, geom)
SELECT code, full_text, road, number, building, unit, community_code, grid_code, street_code,
       h3_r7, h3_r8, h3_r9, h3_r10, geom
  FROM og_stage_address ORDER BY ord"""
INSERT_FACILITY = """
INSERT INTO facility (code, kind, name, capacity, address_id, community_code, grid_code, street_code, geom)
SELECT code, kind, name, capacity, address_id, community_code, grid_code, street_code, geom
  FROM og_stage_facility ORDER BY ord"""

# -- roads ---------------------------------------------------------------------------------
STAGE_ROAD = """
DROP TABLE IF EXISTS og_stage_road;
CREATE TEMP TABLE og_stage_road (ord int, where_label text, name text, kind text, wkb bytea)"""
COPY_ROAD = "COPY og_stage_road (ord, where_label, name, kind, wkb) FROM STDIN"
INSERT_ROAD = """
INSERT INTO road (name, kind, street_code, geom)
SELECT s.name, s.kind,
       (SELECT a.code FROM admin_area a
         WHERE a.level = 'street' AND ST_Covers(a.geom, ST_LineInterpolatePoint(ST_SetSRID(ST_GeomFromWKB(s.wkb), 4326), 0.5))
         ORDER BY a.code LIMIT 1),
       ST_SetSRID(ST_GeomFromWKB(s.wkb), 4326)
  FROM og_stage_road s ORDER BY s.ord"""
