-- Sensors, readings and early warnings (物联感知预警), and the risk surface's cache.
--
-- Levels follow the national four-level scheme, in rising order: blue IV → yellow III →
-- orange II → red I (rank 1..4). A sensor kind says which way is dangerous ("above": higher
-- readings are worse, e.g. gas; "below": lower is worse, e.g. hydrant pressure) and which case
-- category a warning becomes when an operator turns it into a case. Thresholds are data
-- (warning_rule), editable without code: a reading reaches a level when it is at or beyond
-- that level's threshold; the highest level reached wins.
--
-- Warning states: active → acknowledged | dismissed (with a reason) | converted (to a case);
-- acknowledged → dismissed | converted; a higher-level reading escalates an open warning (and
-- makes an acknowledged one active again). One open warning per sensor at most.
-- Fact tables (reading, warning, warning_event) carry street_code and time.

CREATE TABLE sensor_kind (
    code          text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name_zh       text NOT NULL CHECK (btrim(name_zh) <> ''),
    name_en       text NOT NULL CHECK (btrim(name_en) <> ''),
    unit          text NOT NULL,
    direction     text NOT NULL CHECK (direction IN ('above', 'below')),
    glyph         text NOT NULL,
    case_category text NOT NULL REFERENCES case_category (code) ON UPDATE CASCADE,
    sort          smallint NOT NULL DEFAULT 100
);

CREATE TABLE warning_rule (
    kind_code text NOT NULL REFERENCES sensor_kind (code) ON UPDATE CASCADE ON DELETE CASCADE,
    level     text NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
    threshold double precision NOT NULL CHECK (threshold > '-Infinity' AND threshold < 'Infinity'),
    PRIMARY KEY (kind_code, level)
);

CREATE TABLE sensor (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL UNIQUE CHECK (btrim(code) <> ''),
    kind_code      text NOT NULL REFERENCES sensor_kind (code) ON UPDATE CASCADE,
    name           text NOT NULL DEFAULT '',
    grid_code      text REFERENCES grid (code) ON UPDATE CASCADE ON DELETE SET NULL,
    community_code text REFERENCES admin_area (code) ON UPDATE CASCADE,
    street_code    text NOT NULL REFERENCES admin_area (code) ON UPDATE CASCADE,
    h3_r8          bigint NOT NULL,                     -- H3 cell (res 8) of the point, for the risk surface
    active         boolean NOT NULL DEFAULT true,
    installed_at   timestamptz NOT NULL DEFAULT now(),
    last_value     double precision,
    last_at        timestamptz,
    level          text CHECK (level IN ('blue', 'yellow', 'orange', 'red')),  -- of the last reading
    geom           geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom))
);
-- Kinds and thresholds a district starts with (editable data). Units: %LEL lower explosive
-- limit; smoke obscuration %/m; water depth on the road cm; cover tilt degrees; elevator
-- out of service minutes; hydrant pressure MPa (low is dangerous).
INSERT INTO sensor_kind (code, name_zh, name_en, unit, direction, glyph, case_category, sort) VALUES
    ('gas', '燃气泄漏报警', 'Gas leak alarm', '%LEL', 'above', '燃', 'safety_hazard', 10),
    ('smoke', '烟感报警', 'Smoke detector', '%/m', 'above', '烟', 'safety_hazard', 20),
    ('water_level', '低洼积水监测', 'Water level (low-lying road)', 'cm', 'above', '水', 'water_logging', 30),
    ('manhole_tilt', '井盖倾斜监测', 'Manhole cover tilt', '°', 'above', '井', 'manhole_cover', 40),
    ('elevator', '电梯故障监测', 'Elevator fault', 'min', 'above', '梯', 'safety_hazard', 50),
    ('hydrant_pressure', '消火栓水压', 'Fire hydrant pressure', 'MPa', 'below', '栓', 'safety_hazard', 60);
INSERT INTO warning_rule (kind_code, level, threshold) VALUES
    ('gas', 'blue', 5), ('gas', 'yellow', 10), ('gas', 'orange', 20), ('gas', 'red', 25),
    ('smoke', 'blue', 2), ('smoke', 'yellow', 4), ('smoke', 'orange', 8), ('smoke', 'red', 12),
    ('water_level', 'blue', 5), ('water_level', 'yellow', 15), ('water_level', 'orange', 25), ('water_level', 'red', 40),
    ('manhole_tilt', 'blue', 3), ('manhole_tilt', 'yellow', 8), ('manhole_tilt', 'orange', 15), ('manhole_tilt', 'red', 30),
    ('elevator', 'blue', 10), ('elevator', 'yellow', 30), ('elevator', 'orange', 60), ('elevator', 'red', 120),
    ('hydrant_pressure', 'blue', 0.2), ('hydrant_pressure', 'yellow', 0.15), ('hydrant_pressure', 'orange', 0.1),
    ('hydrant_pressure', 'red', 0.05);

CREATE INDEX sensor_geom_idx ON sensor USING gist (geom);
CREATE INDEX sensor_kind_idx ON sensor (kind_code);
CREATE INDEX sensor_street_idx ON sensor (street_code);

-- High volume: one row per sensor per report. The primary key serves "latest per sensor"
-- (backward scan of (sensor_id, at)); (street_code, at) serves windows by street; BRIN on
-- time serves district-wide windows cheaply on an append-mostly table.
CREATE TABLE reading (
    sensor_id   bigint NOT NULL REFERENCES sensor (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    street_code text NOT NULL,
    value       double precision NOT NULL CHECK (value > '-Infinity' AND value < 'Infinity'),
    PRIMARY KEY (sensor_id, at)
);
CREATE INDEX reading_street_at_idx ON reading (street_code, at);
CREATE INDEX reading_at_brin ON reading USING brin (at);

CREATE TABLE warning (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sensor_id       bigint NOT NULL REFERENCES sensor (id) ON DELETE CASCADE,
    kind_code       text NOT NULL REFERENCES sensor_kind (code) ON UPDATE CASCADE,
    street_code     text NOT NULL,
    community_code  text,
    grid_code       text,
    h3_r8           bigint NOT NULL,
    level           text NOT NULL CHECK (level IN ('blue', 'yellow', 'orange', 'red')),
    first_level     text NOT NULL CHECK (first_level IN ('blue', 'yellow', 'orange', 'red')),
    state           text NOT NULL DEFAULT 'active'
                    CHECK (state IN ('active', 'acknowledged', 'dismissed', 'converted')),
    value           double precision NOT NULL,          -- the reading that set the current level
    opened_at       timestamptz NOT NULL,
    escalated_at    timestamptz,
    acknowledged_at timestamptz,
    closed_at       timestamptz,                        -- dismissed or converted
    dismiss_reason  text CHECK (dismiss_reason IS NULL OR btrim(dismiss_reason) <> ''),
    case_id         bigint REFERENCES cases (id) ON DELETE SET NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    version         integer NOT NULL DEFAULT 1,         -- optimistic lock: no lost updates
    geom            geometry(Point, 4326) NOT NULL,
    CHECK (state <> 'dismissed' OR dismiss_reason IS NOT NULL),
    CHECK (state NOT IN ('dismissed', 'converted') OR closed_at IS NOT NULL)
);
CREATE UNIQUE INDEX warning_one_open ON warning (sensor_id) WHERE state IN ('active', 'acknowledged');
CREATE INDEX warning_open_idx ON warning (state, level) WHERE state IN ('active', 'acknowledged');
CREATE INDEX warning_opened_idx ON warning (opened_at);
CREATE INDEX warning_street_opened_idx ON warning (street_code, opened_at);
CREATE INDEX warning_geom_idx ON warning USING gist (geom);
CREATE INDEX warning_case_idx ON warning (case_id) WHERE case_id IS NOT NULL;

-- One row per change of a warning (open, escalate, acknowledge, dismiss, convert), never
-- updated: the audit trail, and (by id) the live cursor the map polls.
CREATE TABLE warning_event (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    warning_id  bigint NOT NULL REFERENCES warning (id) ON DELETE CASCADE,
    street_code text NOT NULL,
    at          timestamptz NOT NULL DEFAULT now(),
    action      text NOT NULL CHECK (action IN ('open', 'escalate', 'acknowledge', 'dismiss', 'convert')),
    from_state  text,
    to_state    text NOT NULL,
    level       text NOT NULL,
    value       double precision,
    actor       text NOT NULL CHECK (btrim(actor) <> ''),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 4000)
);
CREATE INDEX warning_event_warning_idx ON warning_event (warning_id, id);

CREATE FUNCTION og_warning_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'warning_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER warning_event_append_only BEFORE UPDATE OR DELETE ON warning_event
    FOR EACH ROW WHEN (pg_trigger_depth() = 0) EXECUTE FUNCTION og_warning_event_append_only();

-- The case a warning became points back at it (the warning points at the case: case_id).
ALTER TABLE cases ADD COLUMN warning_id bigint REFERENCES warning (id) ON DELETE SET NULL;
CREATE UNIQUE INDEX cases_warning_idx ON cases (warning_id) WHERE warning_id IS NOT NULL;

-- Risk surface. Weights and half-lives are data (documented in README); the rebuild reads them.
CREATE TABLE risk_weight (
    factor text PRIMARY KEY CHECK (factor ~ '^[a-z0-9_]{1,40}$'),
    value  double precision NOT NULL CHECK (value >= 0 AND value < 'Infinity'),
    unit   text NOT NULL,
    note   text NOT NULL
);
INSERT INTO risk_weight (factor, value, unit, note) VALUES
    ('cases', 1.0, 'points per decayed case', 'recent cases: each case counts exp(-ln2·age/half-life) in its cell'),
    ('neighbour_share', 0.5, 'share', 'kernel: a cell also gets this share of each ring-1 neighbour''s case density'),
    ('warning_blue', 2.0, 'points per open warning', 'open blue (IV) warnings in the cell'),
    ('warning_yellow', 4.0, 'points per open warning', 'open yellow (III) warnings in the cell'),
    ('warning_orange', 8.0, 'points per open warning', 'open orange (II) warnings in the cell'),
    ('warning_red', 16.0, 'points per open warning', 'open red (I) warnings in the cell'),
    ('vulnerability', 0.02, 'points per key-population resident', 'published (suppressed) key-population count of the cell'),
    ('half_life_24h', 6, 'hours', 'case half-life in the 24 h window'),
    ('half_life_7d', 48, 'hours', 'case half-life in the 7 d window'),
    ('half_life_30d', 168, 'hours', 'case half-life in the 30 d window');

-- Cases indexed by H3 cell (res 8), filled incrementally by the risk rebuild (only cases not
-- yet indexed are read and placed), so a rebuild after new data reads a few rows, not all.
CREATE TABLE risk_case_cell (
    case_id     bigint PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    street_code text NOT NULL,
    reported_at timestamptz NOT NULL,
    cell        bigint NOT NULL
);
CREATE INDEX risk_case_cell_time_idx ON risk_case_cell (reported_at);

-- Centres of the H3 cells the surface uses (viewport filtering without h3 in SQL).
CREATE TABLE risk_cell_centre (
    cell bigint PRIMARY KEY,
    res  smallint NOT NULL CHECK (res BETWEEN 0 AND 15),
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX risk_cell_centre_geom_idx ON risk_cell_centre USING gist (geom);

-- Vulnerability per cell: the published key-population counts (already suppressed), copied
-- at rebuild time when the population tables change.
CREATE TABLE risk_vulnerability (
    cell   bigint PRIMARY KEY,
    people integer NOT NULL CHECK (people >= 0)
);
