-- Grid boundary editing (issue 5): every change to a community's grid set is a version.
-- `grid` keeps holding the current grids only (every existing query reads it as such);
-- the versions hold full snapshots, so any version can be shown, compared or restored, and
-- a retired grid code is never handed out again (next code = past every code ever used).

CREATE TABLE grid_version (
    community_code text NOT NULL REFERENCES admin_area (code) ON UPDATE CASCADE ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 1),
    kind           text NOT NULL CHECK (kind IN ('initial', 'edit', 'rollback', 'import', 'suggestion')),
    author         text NOT NULL CHECK (btrim(author) <> '' AND length(author) <= 100),
    reason         text NOT NULL CHECK (btrim(reason) <> '' AND length(reason) <= 1000),
    created_at     timestamptz NOT NULL DEFAULT now(),
    effective_at   timestamptz NOT NULL,
    based_on       integer,          -- the version the editor started from (rollback: the restored one)
    grids          integer NOT NULL CHECK (grids >= 0),
    PRIMARY KEY (community_code, version)
);

CREATE TABLE grid_version_member (
    community_code text NOT NULL,
    version        integer NOT NULL,
    code           text NOT NULL CHECK (code ~ '^[A-Za-z0-9_.-]{1,32}$'),
    name           text NOT NULL,
    supervisor     text,
    households     integer NOT NULL CHECK (households >= 0),
    geom           geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom)),
    PRIMARY KEY (community_code, version, code),
    FOREIGN KEY (community_code, version) REFERENCES grid_version (community_code, version)
        ON UPDATE CASCADE ON DELETE CASCADE
);
CREATE INDEX grid_version_member_code_idx ON grid_version_member (code);

-- The per-row overlap check cannot judge a set replaced row by row (two grids trading area
-- overlap for a moment whichever is written first). A grid-set save validates the whole set
-- first and re-checks it set-based after writing, so it switches the row check off for its
-- own transaction with SET LOCAL onegrid.grid_set_write = 'on'. Everything else is unchanged.
CREATE OR REPLACE FUNCTION og_grid_check() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF coalesce(current_setting('onegrid.grid_set_write', true), '') = 'on' THEN
        RETURN NEW;
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

-- Suggestion runs: the worker that computes one writes its progress here, so any dashboard
-- worker can answer the browser's progress polls; the result is a draft (GeoJSON, lon/lat).
CREATE TABLE grid_suggestion (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    community_code text NOT NULL REFERENCES admin_area (code) ON UPDATE CASCADE ON DELETE CASCADE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    status         text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
    progress       real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    message        text,
    result         jsonb
);
