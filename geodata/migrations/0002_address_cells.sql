-- Address counts per H3 cell (resolutions 7..10), kept exact by statement-level triggers,
-- so zoomed-out map views read a few hundred pre-aggregated rows instead of scanning every
-- address in view. geom is the bounding box of the cell's addresses (it only grows on
-- delete, which keeps viewport filtering a superset of the exact answer).

CREATE TABLE address_cell (
    res  smallint NOT NULL CHECK (res BETWEEN 7 AND 10),
    cell bigint   NOT NULL,
    n    integer  NOT NULL CHECK (n >= 0),  -- emptied cells are deleted at the end of each statement
    geom geometry(Geometry, 4326) NOT NULL,
    PRIMARY KEY (res, cell)
);
CREATE INDEX address_cell_r7_geom ON address_cell USING gist (geom) WHERE res = 7;
CREATE INDEX address_cell_r8_geom ON address_cell USING gist (geom) WHERE res = 8;
CREATE INDEX address_cell_r9_geom ON address_cell USING gist (geom) WHERE res = 9;
CREATE INDEX address_cell_r10_geom ON address_cell USING gist (geom) WHERE res = 10;

CREATE FUNCTION og_address_cells_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO address_cell AS c (res, cell, n, geom)
    SELECT res, cell, count(*), ST_Envelope(ST_Collect(geom))
      FROM (SELECT 7 AS res, h3_r7 AS cell, geom FROM og_new
            UNION ALL SELECT 8, h3_r8, geom FROM og_new
            UNION ALL SELECT 9, h3_r9, geom FROM og_new
            UNION ALL SELECT 10, h3_r10, geom FROM og_new) x
     GROUP BY res, cell
    ON CONFLICT (res, cell) DO UPDATE
       SET n = c.n + EXCLUDED.n,
           geom = ST_Envelope(ST_Collect(c.geom, EXCLUDED.geom));
    RETURN NULL;
END $$;

CREATE FUNCTION og_address_cells_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH gone AS (
        SELECT res, cell, count(*) AS n
          FROM (SELECT 7 AS res, h3_r7 AS cell FROM og_old
                UNION ALL SELECT 8, h3_r8 FROM og_old
                UNION ALL SELECT 9, h3_r9 FROM og_old
                UNION ALL SELECT 10, h3_r10 FROM og_old) x
         GROUP BY res, cell)
    UPDATE address_cell c SET n = c.n - g.n FROM gone g WHERE c.res = g.res AND c.cell = g.cell;
    DELETE FROM address_cell WHERE n <= 0;
    RETURN NULL;
END $$;

CREATE TRIGGER address_cells_insert AFTER INSERT ON address
    REFERENCING NEW TABLE AS og_new FOR EACH STATEMENT EXECUTE FUNCTION og_address_cells_add();
CREATE TRIGGER address_cells_delete AFTER DELETE ON address
    REFERENCING OLD TABLE AS og_old FOR EACH STATEMENT EXECUTE FUNCTION og_address_cells_remove();
-- An update moves only the addresses whose cell changed (re-deriving grid codes does not).
CREATE FUNCTION og_address_cells_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
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
CREATE TRIGGER address_cells_update AFTER UPDATE ON address
    REFERENCING OLD TABLE AS og_old NEW TABLE AS og_new FOR EACH STATEMENT EXECUTE FUNCTION og_address_cells_move();

-- Cells for addresses that already exist.
INSERT INTO address_cell (res, cell, n, geom)
SELECT res, cell, count(*), ST_Envelope(ST_Collect(geom))
  FROM (SELECT 7 AS res, h3_r7 AS cell, geom FROM address
        UNION ALL SELECT 8, h3_r8, geom FROM address
        UNION ALL SELECT 9, h3_r9, geom FROM address
        UNION ALL SELECT 10, h3_r10, geom FROM address) x
 GROUP BY res, cell;
