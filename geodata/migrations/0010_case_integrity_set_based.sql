-- Referential integrity of `cases` and `case_event`, checked per statement instead of per row.
--
-- Why: PostgreSQL checks a foreign key with one trigger call per inserted row (a lookup plus a
-- FOR KEY SHARE row lock on the parent, ~9 µs each). A case carried six of them and every event
-- one more, so a batch import of 50,000 historical cases (~320,000 events) spent over half its
-- time in those calls (issue 3, target ≥ 20,000 cases/s). The keys checked are few and
-- repeated (16 categories, ~2,000 grids, ~400 areas, ~20 departments), so one set-based check
-- per statement does the same work once per DISTINCT key.
--
-- The rules are those of the foreign keys they replace, enforced in both directions:
--   child side  (after INSERT/UPDATE on cases, after INSERT on case_event, per statement):
--       every referenced key exists; the referenced parent rows are locked FOR KEY SHARE, as a
--       foreign key check locks them, so a concurrent delete or key change of a parent waits
--       for (or makes fail) the transaction that refers to it.
--   parent side (per row / statement on the parents):
--       case_category, admin_area, department: ON UPDATE CASCADE, delete refused while cases refer;
--       grid: ON UPDATE CASCADE, ON DELETE SET NULL;
--       cases: delete refused while another case is a duplicate of it, events deleted with it;
--       TRUNCATE of a parent refused while cases remain (truncate cases in the same statement).
-- Errors carry SQLSTATE 23503 (foreign_key_violation) and name the key, like a foreign key's.
-- Parent-side changes must run in READ COMMITTED (OneGrid's default): each cascade statement
-- then sees rows committed by concurrent inserts; the triggers refuse other isolation levels
-- rather than risk missing such rows (a real foreign key uses a cross-check snapshot there).

ALTER TABLE cases
    DROP CONSTRAINT cases_category_code_fkey,
    DROP CONSTRAINT cases_grid_code_fkey,
    DROP CONSTRAINT cases_community_code_fkey,
    DROP CONSTRAINT cases_street_code_fkey,
    DROP CONSTRAINT cases_department_code_fkey,
    DROP CONSTRAINT cases_duplicate_of_fkey;
ALTER TABLE case_event DROP CONSTRAINT case_event_case_id_fkey;

-- Child side -----------------------------------------------------------------------------------

CREATE FUNCTION og_cases_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM 1 FROM case_category WHERE code IN (SELECT category_code FROM og_new) FOR KEY SHARE;
    SELECT n.category_code INTO bad FROM (SELECT DISTINCT category_code FROM og_new) n
     WHERE NOT EXISTS (SELECT 1 FROM case_category p WHERE p.code = n.category_code) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('case category %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_category_code_ref';
    END IF;

    PERFORM 1 FROM grid WHERE code IN (SELECT grid_code FROM og_new) FOR KEY SHARE;
    SELECT n.grid_code INTO bad FROM (SELECT DISTINCT grid_code FROM og_new WHERE grid_code IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM grid p WHERE p.code = n.grid_code) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('grid %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_grid_code_ref';
    END IF;

    PERFORM 1 FROM admin_area
     WHERE code IN (SELECT community_code FROM og_new UNION SELECT street_code FROM og_new) FOR KEY SHARE;
    SELECT n.code INTO bad
      FROM (SELECT community_code AS code FROM og_new WHERE community_code IS NOT NULL
            UNION SELECT street_code FROM og_new) n
     WHERE NOT EXISTS (SELECT 1 FROM admin_area p WHERE p.code = n.code) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('admin area %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_admin_area_ref';
    END IF;

    PERFORM 1 FROM department WHERE code IN (SELECT department_code FROM og_new) FOR KEY SHARE;
    SELECT n.department_code INTO bad
      FROM (SELECT DISTINCT department_code FROM og_new WHERE department_code IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM department p WHERE p.code = n.department_code) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('department %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_department_code_ref';
    END IF;

    PERFORM 1 FROM cases WHERE id IN (SELECT duplicate_of FROM og_new) FOR KEY SHARE;
    SELECT n.duplicate_of::text INTO bad
      FROM (SELECT DISTINCT duplicate_of FROM og_new WHERE duplicate_of IS NOT NULL) n
     WHERE NOT EXISTS (SELECT 1 FROM cases p WHERE p.id = n.duplicate_of) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('case %s (duplicate_of) does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_duplicate_of_ref';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_refs_insert AFTER INSERT ON cases REFERENCING NEW TABLE AS og_new
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_check_refs();
CREATE TRIGGER cases_refs_update AFTER UPDATE ON cases REFERENCING NEW TABLE AS og_new
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_check_refs();

CREATE FUNCTION og_case_event_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    PERFORM 1 FROM cases WHERE id IN (SELECT case_id FROM og_new) FOR KEY SHARE;
    SELECT n.case_id INTO bad FROM (SELECT DISTINCT case_id FROM og_new) n
     WHERE NOT EXISTS (SELECT 1 FROM cases p WHERE p.id = n.case_id) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('case %s does not exist', bad),
            TABLE = 'case_event', CONSTRAINT = 'case_event_case_id_ref';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_event_refs_insert AFTER INSERT ON case_event REFERENCING NEW TABLE AS og_new
    FOR EACH STATEMENT EXECUTE FUNCTION og_case_event_check_refs();

-- Parent side ----------------------------------------------------------------------------------

CREATE FUNCTION og_refs_read_committed() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE feature_not_supported USING MESSAGE = format(
            'changing keys that cases refer to needs READ COMMITTED isolation, not %s',
            current_setting('transaction_isolation'));
    END IF;
END $$;

-- ON UPDATE CASCADE: per row (old and new key must be paired), only when the key changes.
CREATE FUNCTION og_cases_cascade_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM og_refs_read_committed();
    CASE TG_TABLE_NAME
        WHEN 'case_category' THEN UPDATE cases SET category_code = NEW.code WHERE category_code = OLD.code;
        WHEN 'grid' THEN UPDATE cases SET grid_code = NEW.code WHERE grid_code = OLD.code;
        WHEN 'department' THEN UPDATE cases SET department_code = NEW.code WHERE department_code = OLD.code;
        WHEN 'admin_area' THEN
            UPDATE cases SET community_code = NEW.code WHERE community_code = OLD.code;
            UPDATE cases SET street_code = NEW.code WHERE street_code = OLD.code;
    END CASE;
    RETURN NULL;
END $$;

CREATE TRIGGER case_category_cases_key AFTER UPDATE OF code ON case_category
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION og_cases_cascade_key();
CREATE TRIGGER grid_cases_key AFTER UPDATE OF code ON grid
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION og_cases_cascade_key();
CREATE TRIGGER department_cases_key AFTER UPDATE OF code ON department
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION og_cases_cascade_key();
CREATE TRIGGER admin_area_cases_key AFTER UPDATE OF code ON admin_area
    FOR EACH ROW WHEN (OLD.code IS DISTINCT FROM NEW.code) EXECUTE FUNCTION og_cases_cascade_key();

-- Deletes, per statement. Grids: the cases keep their place and lose the grid (SET NULL).
-- Others: refused while a case refers to a deleted key (NO ACTION, checked after the statement).
CREATE FUNCTION og_cases_parent_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    PERFORM og_refs_read_committed();
    CASE TG_TABLE_NAME
        WHEN 'grid' THEN
            UPDATE cases SET grid_code = NULL WHERE grid_code IN (SELECT code FROM og_old);
            RETURN NULL;
        WHEN 'case_category' THEN
            SELECT c.category_code INTO bad FROM cases c JOIN og_old o ON o.code = c.category_code LIMIT 1;
        WHEN 'department' THEN
            SELECT c.department_code INTO bad FROM cases c JOIN og_old o ON o.code = c.department_code LIMIT 1;
        WHEN 'admin_area' THEN
            SELECT o.code INTO bad FROM og_old o
             WHERE EXISTS (SELECT 1 FROM cases c WHERE c.street_code = o.code)
                OR EXISTS (SELECT 1 FROM cases c WHERE c.community_code = o.code) LIMIT 1;
    END CASE;
    IF bad IS NOT NULL THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            '%s %L is still referenced by cases', TG_TABLE_NAME, bad), TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_category_cases_delete AFTER DELETE ON case_category REFERENCING OLD TABLE AS og_old
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_deleted();
CREATE TRIGGER grid_cases_delete AFTER DELETE ON grid REFERENCING OLD TABLE AS og_old
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_deleted();
CREATE TRIGGER department_cases_delete AFTER DELETE ON department REFERENCING OLD TABLE AS og_old
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_deleted();
CREATE TRIGGER admin_area_cases_delete AFTER DELETE ON admin_area REFERENCING OLD TABLE AS og_old
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_deleted();

-- Cases deleted: their events go with them (ON DELETE CASCADE; the append-only rule on
-- case_event admits deletes from a trigger), and no remaining case may be a duplicate of one.
CREATE FUNCTION og_cases_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad bigint;
BEGIN
    PERFORM og_refs_read_committed();
    DELETE FROM case_event WHERE case_id IN (SELECT id FROM og_old);
    SELECT c.duplicate_of INTO bad FROM cases c JOIN og_old o ON o.id = c.duplicate_of LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'case %s is still referenced by a case marked as its duplicate', bad), TABLE = 'cases';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER cases_deleted AFTER DELETE ON cases REFERENCING OLD TABLE AS og_old
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_deleted();

-- TRUNCATE (no per-row triggers run): refused while cases remain, so `TRUNCATE grid CASCADE`
-- can no longer leave cases pointing at nothing; truncate cases in the same statement. AFTER, so
-- cases truncated by the same statement are already empty. Events go with truncated cases.
CREATE FUNCTION og_cases_parent_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'cases' THEN
        IF EXISTS (SELECT 1 FROM case_event) THEN
            RAISE foreign_key_violation USING MESSAGE =
                'cannot truncate cases alone: truncate case_event in the same statement';
        END IF;
    ELSIF EXISTS (SELECT 1 FROM cases) THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'cannot truncate %s while cases refer to it: truncate cases and case_event in the same statement',
            TG_TABLE_NAME);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER case_category_cases_truncate AFTER TRUNCATE ON case_category
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_truncated();
CREATE TRIGGER grid_cases_truncate AFTER TRUNCATE ON grid
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_truncated();
CREATE TRIGGER department_cases_truncate AFTER TRUNCATE ON department
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_truncated();
CREATE TRIGGER admin_area_cases_truncate AFTER TRUNCATE ON admin_area
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_truncated();
CREATE TRIGGER cases_truncate AFTER TRUNCATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION og_cases_parent_truncated();
