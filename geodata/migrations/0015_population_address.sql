-- People per address and tag ('*' = everyone): what a grid save needs to republish one
-- community's grid figures (geodata/grids/publication.py) without joining the residents of the
-- community's H3 region to their tags on every save (~0.5-0.9 s at district scale; this table
-- answers the same in tens of milliseconds). Server-side only: no browser-facing query reads it.
--
-- Built lazily and checked by a stamp: every statement that writes resident or resident_tag
-- gives population_address_stamp.stamp a new random value; population_address holds the
-- stamp it was built from (read before building), so a save rebuilds it when they differ.
CREATE TABLE population_address (
    address_id bigint  NOT NULL,
    tag        text    NOT NULL,
    n          integer NOT NULL CHECK (n > 0),
    PRIMARY KEY (address_id, tag)
);

CREATE TABLE population_address_stamp (
    one        boolean PRIMARY KEY DEFAULT true CHECK (one),
    stamp      uuid NOT NULL,
    built_from uuid
);
INSERT INTO population_address_stamp (one, stamp) VALUES (true, gen_random_uuid());

CREATE FUNCTION og_population_address_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE population_address_stamp SET stamp = gen_random_uuid();
    RETURN NULL;
END $$;

-- Deleting an address cascades a DELETE to resident that usually removes nobody: only a
-- delete that removed someone makes the counts stale (inserts and updates always do; the
-- bulk load inserts 2 million rows, so those triggers keep no transition table).
CREATE FUNCTION og_population_address_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM og_gone) THEN
        UPDATE population_address_stamp SET stamp = gen_random_uuid();
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER resident_population_address_stale
    AFTER INSERT OR UPDATE ON resident
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
CREATE TRIGGER resident_population_address_deleted
    AFTER DELETE ON resident REFERENCING OLD TABLE AS og_gone
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_deleted();
CREATE TRIGGER resident_population_address_truncate
    AFTER TRUNCATE ON resident
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
CREATE TRIGGER resident_tag_population_address_stale
    AFTER INSERT OR UPDATE ON resident_tag
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
CREATE TRIGGER resident_tag_population_address_deleted
    AFTER DELETE ON resident_tag REFERENCING OLD TABLE AS og_gone
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_deleted();
CREATE TRIGGER resident_tag_population_address_truncate
    AFTER TRUNCATE ON resident_tag
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();

-- A grid save re-derives grid_code on thousands of addresses; the H3 pyramid trigger
-- (migration 0002) then joined the old and new rows five times and scanned address_cell for
-- rows to drop although no address moved. Same function, but it stops after one join when
-- no address changed its res-10 cell (the other resolutions are its parents). The test is an
-- EXCEPT (hashed or sorted): transition tables have no statistics, and a join there was planned
-- as a nested loop (28 s for 10,000 re-derived addresses).
CREATE OR REPLACE FUNCTION og_address_cells_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT id, h3_r10 FROM og_new EXCEPT SELECT id, h3_r10 FROM og_old) THEN
        RETURN NULL;
    END IF;
    WITH moved AS (
        SELECT o.h3_r7, o.h3_r8, o.h3_r9, o.h3_r10
          FROM og_old o JOIN og_new n ON n.id = o.id
         WHERE n.h3_r10 <> o.h3_r10),
    gone AS (
        SELECT res, cell, count(*) AS n
          FROM (SELECT 7 AS res, h3_r7 AS cell FROM moved UNION ALL SELECT 8, h3_r8 FROM moved
                UNION ALL SELECT 9, h3_r9 FROM moved UNION ALL SELECT 10, h3_r10 FROM moved) x
         GROUP BY res, cell)
    UPDATE address_cell c SET n = c.n - g.n FROM gone g WHERE c.res = g.res AND c.cell = g.cell;
    INSERT INTO address_cell AS c (res, cell, n, geom)
    SELECT res, cell, count(*), ST_Envelope(ST_Collect(geom))
      FROM (SELECT 7 AS res, n.h3_r7 AS cell, n.geom, n.h3_r10, o.h3_r10 AS was FROM og_new n JOIN og_old o USING (id)
            UNION ALL SELECT 8, n.h3_r8, n.geom, n.h3_r10, o.h3_r10 FROM og_new n JOIN og_old o USING (id)
            UNION ALL SELECT 9, n.h3_r9, n.geom, n.h3_r10, o.h3_r10 FROM og_new n JOIN og_old o USING (id)
            UNION ALL SELECT 10, n.h3_r10, n.geom, n.h3_r10, o.h3_r10 FROM og_new n JOIN og_old o USING (id)) x
     WHERE h3_r10 <> was
     GROUP BY res, cell
    ON CONFLICT (res, cell) DO UPDATE
       SET n = c.n + EXCLUDED.n,
           geom = ST_Envelope(ST_Collect(c.geom, EXCLUDED.geom));
    DELETE FROM address_cell WHERE n <= 0;
    RETURN NULL;
END $$;
