-- Residents, households and key-population tags, plus the privacy-safe published counts the
-- density layer reads. Personal data is kept to the minimum (PIPL): no names, ID numbers or
-- phones; an external reference only as a salted hash (for de-duplicating imports).
-- Rows leave the database only as the aggregates in population_cell / population_grid.

CREATE TABLE household (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        text CHECK (code ~ '^[A-Za-z0-9_.-]{1,40}$'),  -- unique: household_code_key
    address_id  bigint NOT NULL,
    size        smallint CHECK (size BETWEEN 1 AND 200),
    street_code text NOT NULL,
    -- 'collective': dormitories and shared rented rooms (mostly floating workers).
    kind        text NOT NULL DEFAULT 'family' CHECK (kind IN ('family', 'collective')),
    CONSTRAINT household_address_fk FOREIGN KEY (address_id) REFERENCES address (id) ON DELETE CASCADE,
    CONSTRAINT household_street_fk FOREIGN KEY (street_code) REFERENCES admin_area (code) ON UPDATE CASCADE
);
-- Partial unique indexes: most rows have no code / reference, and NULLs need no index entry.
CREATE UNIQUE INDEX household_code_key ON household (code) WHERE code IS NOT NULL;
CREATE INDEX household_address_idx ON household (address_id);

CREATE TABLE resident (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    household_id bigint,
    address_id   bigint NOT NULL,
    street_code  text NOT NULL,
    birth_year   smallint NOT NULL CHECK (birth_year BETWEEN 1880 AND 2100),
    sex          char(1) CHECK (sex IN ('M', 'F')),
    -- hex SHA-256 of (salt, external reference): de-duplicates re-imports without keeping the reference.
    ref_hash     text CHECK (ref_hash ~ '^[0-9a-f]{64}$'),  -- unique: resident_ref_hash_key
    CONSTRAINT resident_household_fk FOREIGN KEY (household_id) REFERENCES household (id) ON DELETE CASCADE,
    CONSTRAINT resident_address_fk FOREIGN KEY (address_id) REFERENCES address (id) ON DELETE CASCADE,
    CONSTRAINT resident_street_fk FOREIGN KEY (street_code) REFERENCES admin_area (code) ON UPDATE CASCADE
);
CREATE UNIQUE INDEX resident_ref_hash_key ON resident (ref_hash) WHERE ref_hash IS NOT NULL;
CREATE INDEX resident_address_idx ON resident (address_id);
CREATE INDEX resident_household_idx ON resident (household_id);

CREATE TABLE population_tag (
    code    text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name_zh text NOT NULL,
    name_en text NOT NULL,
    colour  text NOT NULL CHECK (colour ~ '^#[0-9a-fA-F]{6}$'),
    sort    smallint NOT NULL DEFAULT 100
);
INSERT INTO population_tag (code, name_zh, name_en, colour, sort) VALUES
    ('elderly_alone', '独居老人',      'Elderly living alone',     '#ffb74d', 10),
    ('empty_nest',    '空巢老人',      'Empty-nest elderly',       '#ffcc80', 15),
    ('disabled',      '残疾人',        'Disabled',                 '#4fc3f7', 20),
    ('minor',         '未成年人',      'Minors',                   '#f06292', 30),
    ('floating',      '流动人口',      'Floating population',      '#9575cd', 40),
    ('correction',    '社区矫正',      'Community correction',     '#ef5350', 50),
    ('mental_health', '精神障碍关爱',  'Mental-health care',       '#26a69a', 60),
    ('drug_rehab',    '戒毒康复',      'Drug rehabilitation',      '#ff7043', 70),
    ('low_income',    '低保/低收入',   'Low income',               '#d4e157', 80),
    ('veteran',       '退役军人',      'Veterans',                 '#90a4ae', 90),
    ('pregnant',      '孕产妇',        'Pregnant and new mothers', '#ce93d8', 95);

CREATE TABLE resident_tag (
    resident_id bigint NOT NULL,
    tag_code    text NOT NULL,
    PRIMARY KEY (resident_id, tag_code),
    CONSTRAINT resident_tag_resident_fk FOREIGN KEY (resident_id) REFERENCES resident (id) ON DELETE CASCADE,
    CONSTRAINT resident_tag_tag_fk FOREIGN KEY (tag_code) REFERENCES population_tag (code) ON UPDATE CASCADE
);
CREATE INDEX resident_tag_tag_idx ON resident_tag (tag_code);

-- Published counts: the only population figures the map, the grid table and exports read.
-- tag '*' = all residents. n NULL = suppressed (drawn without a number). Cells/grids with
-- nobody (of that tag) have no row. Rebuilt as a whole by geodata.population.publish after
-- every population change, in the writer's transaction.
CREATE TABLE population_cell (
    res  smallint NOT NULL CHECK (res BETWEEN 7 AND 10),
    tag  text     NOT NULL,
    cell bigint   NOT NULL,
    n    integer CHECK (n > 0),
    PRIMARY KEY (res, tag, cell)
);

CREATE TABLE population_grid (
    grid_code text NOT NULL REFERENCES grid (code) ON UPDATE CASCADE ON DELETE CASCADE,
    tag       text NOT NULL,
    n         integer CHECK (n > 0),
    PRIMARY KEY (grid_code, tag)
);

-- One row: when the published counts were built, with which threshold, from how many residents.
CREATE TABLE population_publication (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    built_at   timestamptz NOT NULL,
    min_cell   integer NOT NULL,
    residents  bigint NOT NULL,
    suppressed integer NOT NULL,
    rounds     integer NOT NULL
);

-- Salt for ref_hash, made once per database: hashes from different databases do not match.
INSERT INTO og_setting (key, value) VALUES ('population_ref_salt', replace(gen_random_uuid()::text, '-', ''))
ON CONFLICT (key) DO NOTHING;
