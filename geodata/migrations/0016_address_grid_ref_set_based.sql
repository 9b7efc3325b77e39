-- address.grid_code → grid.code checked per statement instead of per row (as migration 0010
-- does for cases).
--
-- Why: a grid save re-derives the grid of every address it moves — 10,000 in the issue-5 bench —
-- and the foreign key checked each one with its own trigger call (a lookup plus a FOR KEY SHARE
-- lock on the grid, 60–120 ms of the save). The keys are few (a community's grids), so one
-- set-based check per statement does the same work once per DISTINCT grid code. Address imports
-- (hundreds of thousands of rows, a few thousand grids) gain the same way.
--
-- The rules are those of the foreign key it replaces, in both directions:
--   child side  (after INSERT/UPDATE on address, per statement): every grid_code exists; the
--       grids referred to are locked FOR KEY SHARE, as a foreign key check locks them, so a
--       concurrent delete or key change of a grid waits for (or makes fail) the transaction.
--   parent side (on grid): ON UPDATE CASCADE (per row), ON DELETE SET NULL (per statement),
--       and TRUNCATE grid sets them NULL too.
-- Errors carry SQLSTATE 23503 (foreign_key_violation) and name the key. Parent-side changes
-- need READ COMMITTED (og_refs_read_committed, migration 0010). address_grid_idx stays: the
-- parent side and the per-grid address counts of the map use it.

ALTER TABLE address DROP CONSTRAINT address_grid_code_fkey;

CREATE FUNCTION og_address_check_grid() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM 1 FROM grid WHERE code IN (SELECT grid_code FROM og_new) FOR KEY SHARE;
    SELECT n.grid_code INTO bad FROM (SELECT DISTINCT grid_code FROM og_new WHERE grid_code IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM grid p WHERE p.code = n.grid_code) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('grid %L does not exist', bad),
            TABLE = 'address', CONSTRAINT = 'address_grid_code_ref';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER address_grid_insert AFTER INSERT ON address REFERENCING NEW TABLE AS og_new
    FOR EACH STATEMENT EXECUTE FUNCTION og_address_check_grid();
CREATE TRIGGER address_grid_update AFTER UPDATE ON address REFERENCING NEW TABLE AS og_new
    FOR EACH STATEMENT EXECUTE FUNCTION og_address_check_grid();

-- ON UPDATE CASCADE: per row (old and new key must be paired), only when the key changes.
CREATE FUNCTION og_address_grid_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM og_refs_read_committed();
    UPDATE address SET grid_code = NEW.code WHERE grid_code = OLD.code;
    RETURN NULL;
END $$;

CREATE TRIGGER grid_address_key AFTER UPDATE OF code ON grid
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION og_address_grid_key();

-- ON DELETE SET NULL: the addresses keep their place and lose the grid.
CREATE FUNCTION og_address_grid_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM og_refs_read_committed();
    UPDATE address SET grid_code = NULL WHERE grid_code IN (SELECT code FROM og_old);
    RETURN NULL;
END $$;

CREATE TRIGGER grid_address_delete AFTER DELETE ON grid REFERENCING OLD TABLE AS og_old
    FOR EACH STATEMENT EXECUTE FUNCTION og_address_grid_deleted();

-- TRUNCATE runs no per-row triggers: the addresses lose their grids as on DELETE (a foreign
-- key refused TRUNCATE grid, and with CASCADE emptied address and everything that hangs on it).
-- No error of its own, so TRUNCATE grid CASCADE still fails with the cases' message (0010).
CREATE FUNCTION og_address_grid_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE address SET grid_code = NULL WHERE grid_code IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER grid_truncate_address AFTER TRUNCATE ON grid
    FOR EACH STATEMENT EXECUTE FUNCTION og_address_grid_truncated();
