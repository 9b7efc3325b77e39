-- Planning (issue 6): walking network for pgRouting, life-circle norms, demand groups per
-- facility kind, planning scenarios with their proposed sites, background solve jobs and
-- uploaded candidate sites. Storage: SRID 4326, lon/lat; lengths and distances in metres.

CREATE EXTENSION IF NOT EXISTS pgrouting;

-- The walking graph, derived from `road` by geodata.planning.network.build_walk_network:
-- roads noded at every crossing, one edge per piece, vertices shared at the junctions.
CREATE TABLE walk_node (
    id   bigint PRIMARY KEY,
    geom geometry(Point, 4326) NOT NULL
);
CREATE INDEX walk_node_geom_idx ON walk_node USING gist (geom);

CREATE TABLE walk_edge (
    id       bigint PRIMARY KEY,
    source   bigint NOT NULL REFERENCES walk_node (id) ON DELETE CASCADE,
    target   bigint NOT NULL REFERENCES walk_node (id) ON DELETE CASCADE,
    length_m double precision NOT NULL CHECK (length_m >= 0),
    geom     geometry(LineString, 4326) NOT NULL,
    -- the same line in the network's metric CRS (walk_network.srid, a UTM zone): snapping
    -- and positions along the edge are measured there, in metres
    geom_m   geometry(LineString) NOT NULL
);
CREATE INDEX walk_edge_geom_idx ON walk_edge USING gist (geom);
CREATE INDEX walk_edge_source_idx ON walk_edge (source);
CREATE INDEX walk_edge_target_idx ON walk_edge (target);

-- Where each address joins the walking graph: nearest edge, position along it (0..1 from
-- source) and the straight access distance from the address to that point. Rebuilt as a whole
-- with the graph (no foreign keys: 10⁵ rows are checked by the rebuild, not row by row).
CREATE TABLE walk_access (
    address_id bigint PRIMARY KEY,
    edge_id    bigint NOT NULL,
    fraction   double precision NOT NULL CHECK (fraction BETWEEN 0 AND 1),
    access_m   double precision NOT NULL CHECK (access_m >= 0)
);
CREATE INDEX walk_access_edge_idx ON walk_access (edge_id);

-- One row: what the graph was built from (so a changed road or address layer is noticed).
CREATE TABLE walk_network (
    singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    built_at       timestamptz NOT NULL DEFAULT now(),
    srid           integer NOT NULL,
    road_count     integer NOT NULL,
    road_max_id    bigint,
    address_count  integer NOT NULL,
    address_max_id bigint,
    nodes          integer NOT NULL,
    edges          integer NOT NULL,
    length_m       double precision NOT NULL
);

-- Life-circle levels (GB 50180-2018): walking radius per level; facility_kind.life_circle
-- names the level of each kind.
CREATE TABLE plan_life_circle (
    level    smallint PRIMARY KEY CHECK (level IN (5, 10, 15)),
    radius_m integer NOT NULL CHECK (radius_m BETWEEN 50 AND 5000)
);
INSERT INTO plan_life_circle VALUES (5, 300), (10, 500), (15, 1000);

-- Who a facility kind serves by default (ages in whole years, both bounds inclusive; NULL = no
-- bound; tag = a population_tag code, NULL = everyone); editable per analysis in the page.
CREATE TABLE plan_kind_demand (
    kind    text PRIMARY KEY REFERENCES facility_kind (code) ON UPDATE CASCADE ON DELETE CASCADE,
    min_age smallint CHECK (min_age BETWEEN 0 AND 150),
    max_age smallint CHECK (max_age BETWEEN 0 AND 150),
    tag     text,
    CHECK (min_age IS NULL OR max_age IS NULL OR min_age <= max_age)
);
INSERT INTO plan_kind_demand (kind, min_age, max_age) VALUES
    ('elderly_day_care', 60, NULL),
    ('kindergarten', 3, 5),
    ('primary_school', 6, 11),
    ('secondary_school', 12, 17),
    ('clinic', NULL, NULL),
    ('service_centre', NULL, NULL);

-- Uploaded candidate sites (a named set per upload).
CREATE TABLE plan_candidate_set (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE plan_candidate (
    set_id   bigint NOT NULL REFERENCES plan_candidate_set (id) ON DELETE CASCADE,
    seq      integer NOT NULL,
    name     text,
    capacity integer CHECK (capacity >= 0),
    geom     geometry(Point, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    PRIMARY KEY (set_id, seq)
);

-- A scenario: the analysis parameters, the aggregated figures (no personal data: people
-- counts only as totals) and, for optimisations, the proposed sites.
CREATE TABLE plan_scenario (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
    kind          text NOT NULL REFERENCES facility_kind (code) ON UPDATE CASCADE,
    model         text NOT NULL CHECK (model IN ('coverage', 'mclp', 'pmedian', 'lscp')),
    distance_mode text NOT NULL CHECK (distance_mode IN ('network', 'straight')),
    params        jsonb NOT NULL,
    figures       jsonb NOT NULL,
    solver        jsonb,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE plan_site (
    scenario_id bigint NOT NULL REFERENCES plan_scenario (id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    source      text NOT NULL CHECK (source IN ('h3', 'upload', 'address')),
    ref         text NOT NULL,
    label       text,
    capacity    integer,
    served      double precision NOT NULL DEFAULT 0,
    geom        geometry(Point, 4326) NOT NULL,
    PRIMARY KEY (scenario_id, seq)
);

-- Background solves: the page polls this row (any worker process can answer).
CREATE TABLE plan_job (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    params      jsonb NOT NULL,
    state       text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    stage       text,
    progress    real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    gap         double precision,
    message     text,
    scenario_id bigint REFERENCES plan_scenario (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
