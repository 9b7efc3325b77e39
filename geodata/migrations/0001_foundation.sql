-- OneGrid foundation: administrative areas, grids, standard addresses, facilities, roads.
-- Storage: SRID 4326, lon/lat axis order. Every geometry is valid (CHECK) and GiST-indexed.

CREATE EXTENSION IF NOT EXISTS postgis;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- District → street/town → community. Codes are text (15-digit convention in China,
-- but imported data from elsewhere keeps its own codes).
CREATE TABLE admin_area (
    code        text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name        text NOT NULL CHECK (btrim(name) <> ''),
    level       text NOT NULL CHECK (level IN ('district', 'street', 'community')),
    parent_code text REFERENCES admin_area (code) ON UPDATE CASCADE,
    population  integer CHECK (population >= 0),
    geom        geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    CHECK (level <> 'district' OR parent_code IS NULL)
);
CREATE INDEX admin_area_geom_idx ON admin_area USING gist (geom);
CREATE INDEX admin_area_parent_idx ON admin_area (parent_code);
CREATE INDEX admin_area_level_idx ON admin_area (level);
CREATE INDEX admin_area_name_trgm ON admin_area USING gin (name gin_trgm_ops);

-- A parent must sit exactly one level up.
CREATE FUNCTION og_admin_area_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE parent_level text;
BEGIN
    IF NEW.parent_code IS NOT NULL THEN
        SELECT level INTO parent_level FROM admin_area WHERE code = NEW.parent_code;
        IF parent_level IS DISTINCT FROM (CASE NEW.level WHEN 'street' THEN 'district'
                                                          WHEN 'community' THEN 'street' END) THEN
            RAISE EXCEPTION 'admin area %: parent % is a %, not the level above %',
                NEW.code, NEW.parent_code, coalesce(parent_level, 'missing area'), NEW.level
                USING ERRCODE = 'foreign_key_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER admin_area_check BEFORE INSERT OR UPDATE ON admin_area
    FOR EACH ROW EXECUTE FUNCTION og_admin_area_check();

-- Unit/community grids. Grids of one community tile it: no overlaps (enforced below).
CREATE TABLE grid (
    code           text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name           text NOT NULL CHECK (btrim(name) <> ''),
    community_code text NOT NULL REFERENCES admin_area (code) ON UPDATE CASCADE,
    street_code    text REFERENCES admin_area (code) ON UPDATE CASCADE,
    supervisor     text,
    households     integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    valid_from     timestamptz NOT NULL DEFAULT now(),
    valid_to       timestamptz,
    geom           geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX grid_geom_idx ON grid USING gist (geom);
CREATE INDEX grid_community_idx ON grid (community_code);
CREATE INDEX grid_street_idx ON grid (street_code);
CREATE INDEX grid_name_trgm ON grid USING gin (name gin_trgm_ops);

-- Overlap tolerance in m² (floating-point slivers from reprojection are not overlaps).
CREATE TABLE og_setting (key text PRIMARY KEY, value text NOT NULL);
INSERT INTO og_setting VALUES ('grid_overlap_tolerance_m2', '1.0');

CREATE FUNCTION og_grid_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    other text;
    overlap double precision;
    tolerance double precision;
BEGIN
    SELECT parent_code INTO NEW.street_code
      FROM admin_area WHERE code = NEW.community_code AND level = 'community';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'grid %: community % does not exist', NEW.code, NEW.community_code
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    SELECT value::double precision INTO tolerance FROM og_setting WHERE key = 'grid_overlap_tolerance_m2';
    SELECT g.code, ST_Area(ST_Intersection(g.geom, NEW.geom)::geography)
      INTO other, overlap
      FROM grid g
     WHERE g.community_code = NEW.community_code
       AND g.code <> NEW.code
       AND g.geom && NEW.geom
       AND ST_Relate(g.geom, NEW.geom, '2********')
     ORDER BY 2 DESC
     LIMIT 1;
    IF other IS NOT NULL AND overlap > coalesce(tolerance, 1.0) THEN
        RAISE EXCEPTION 'grid % overlaps grid % by % m²', NEW.code, other, round(overlap::numeric, 1)
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER grid_check BEFORE INSERT OR UPDATE OF geom, community_code ON grid
    FOR EACH ROW EXECUTE FUNCTION og_grid_check();

-- Standard place-name and address records (标准地址). community/grid/street are derived
-- from the point by the writers in geodata, and re-derived when boundaries change.
-- h3_r7..h3_r10 are the H3 cells of the point (computed on write), for aggregation.
CREATE TABLE address (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text UNIQUE,
    full_text      text NOT NULL CHECK (btrim(full_text) <> ''),
    road           text,
    number         text,
    building       text,
    unit           text,
    community_code text REFERENCES admin_area (code) ON UPDATE CASCADE,
    grid_code      text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    street_code    text REFERENCES admin_area (code) ON UPDATE CASCADE,
    h3_r7          bigint NOT NULL,
    h3_r8          bigint NOT NULL,
    h3_r9          bigint NOT NULL,
    h3_r10         bigint NOT NULL,
    geom           geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX address_geom_idx ON address USING gist (geom);
CREATE INDEX address_grid_idx ON address (grid_code);
CREATE INDEX address_community_idx ON address (community_code);
CREATE INDEX address_street_idx ON address (street_code);
CREATE INDEX address_text_trgm ON address USING gin (full_text gin_trgm_ops);

-- Facility kinds: colour, map glyph and life-circle level (GB 50180-2018) per kind.
CREATE TABLE facility_kind (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name_zh     text NOT NULL,
    name_en     text NOT NULL,
    color       text NOT NULL CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    glyph       text NOT NULL,
    life_circle smallint CHECK (life_circle IN (5, 10, 15)),
    sort        smallint NOT NULL DEFAULT 100
);
INSERT INTO facility_kind (code, name_zh, name_en, color, glyph, life_circle, sort) VALUES
    ('service_centre',   '社区服务中心', 'Community service centre', '#4fc3f7', '服', 15, 10),
    ('elderly_day_care', '老年日间照料', 'Elderly day care',         '#ffb74d', '老', 5,  20),
    ('clinic',           '社区卫生服务站', 'Community clinic',       '#ef5350', '医', 15, 30),
    ('kindergarten',     '幼儿园',       'Kindergarten',             '#f06292', '幼', 5,  40),
    ('primary_school',   '小学',         'Primary school',           '#ba68c8', '小', 10, 50),
    ('secondary_school', '中学',         'Secondary school',         '#9575cd', '中', 15, 55),
    ('police_post',      '警务站',       'Police post',              '#5c6bc0', '警', NULL, 60),
    ('fire_station',     '消防站',       'Fire station',             '#ff7043', '消', NULL, 70),
    ('video_point',      '视频监控点',   'Video point',              '#26a69a', '视', NULL, 80),
    ('iot_gateway',      '物联网关',     'IoT gateway',              '#66bb6a', '物', NULL, 85),
    ('smart_locker',     '智能快递柜',   'Smart locker',             '#d4e157', '柜', 5,  90),
    ('public_toilet',    '公共厕所',     'Public toilet',            '#90a4ae', '厕', 5,  95),
    ('market',           '菜市场',       'Market',                   '#a1887f', '市', 10, 97),
    ('small_park',       '口袋公园',     'Pocket park',              '#81c784', '园', 5,  99);

CREATE TABLE facility (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text UNIQUE,
    kind           text NOT NULL REFERENCES facility_kind (code) ON UPDATE CASCADE,
    name           text NOT NULL CHECK (btrim(name) <> ''),
    capacity       integer CHECK (capacity >= 0),
    address_id     bigint REFERENCES address (id) ON DELETE SET NULL,
    community_code text REFERENCES admin_area (code) ON UPDATE CASCADE,
    grid_code      text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    street_code    text REFERENCES admin_area (code) ON UPDATE CASCADE,
    geom           geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX facility_geom_idx ON facility USING gist (geom);
CREATE INDEX facility_kind_idx ON facility (kind);
CREATE INDEX facility_grid_idx ON facility (grid_code);
CREATE INDEX facility_name_trgm ON facility USING gin (name gin_trgm_ops);

-- Road centre lines (synthesised for the demo, importable): base-map context and, later,
-- the walking network.
CREATE TABLE road (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text,
    kind        text NOT NULL CHECK (kind IN ('expressway', 'trunk', 'primary', 'secondary', 'local', 'path')),
    street_code text REFERENCES admin_area (code) ON UPDATE CASCADE,
    geom        geometry(LineString, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
CREATE INDEX road_geom_idx ON road USING gist (geom);
CREATE INDEX road_kind_idx ON road (kind);
