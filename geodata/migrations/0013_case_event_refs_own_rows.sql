-- The statement trigger of 0010 checks that every new event's case exists and locks those cases
-- FOR KEY SHARE until commit. It joined the whole transition table to cases twice (lock, then
-- check): ~0.45 s of a 50,000-case batch import with its ~320,000 events. Now the distinct ids
-- are taken once and probed once. Cases inserted by this very transaction are not locked: no
-- other transaction can see them, so none can delete them, and locking them would write every
-- freshly inserted row a second time.
CREATE OR REPLACE FUNCTION og_case_event_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[] := ARRAY(SELECT DISTINCT case_id FROM og_new);
    own xid := pg_current_xact_id()::xid;
    found bigint;
    theirs bigint;
    locked bigint;
    bad bigint;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE xmin <> own) INTO found, theirs FROM cases WHERE id = ANY (ids);
    IF theirs > 0 THEN
        PERFORM 1 FROM cases WHERE id = ANY (ids) AND xmin <> own FOR KEY SHARE;
        GET DIAGNOSTICS locked = ROW_COUNT;
        found := found - theirs + locked;  -- a case deleted meanwhile is not locked: it is gone
    END IF;
    IF found < cardinality(ids) THEN
        SELECT x INTO bad FROM unnest(ids) x WHERE NOT EXISTS (SELECT 1 FROM cases p WHERE p.id = x) LIMIT 1;
        RAISE foreign_key_violation USING MESSAGE = format('case %s does not exist', bad),
            TABLE = 'case_event', CONSTRAINT = 'case_event_case_id_ref';
    END IF;
    RETURN NULL;
END $$;

-- The same for the cases' own references: one pass over the new rows collects each key
-- column's distinct values (it made ten passes, ~0.22 s of a 50,000-case import), then each
-- parent is locked and checked over that short list.
CREATE OR REPLACE FUNCTION og_cases_check_refs() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cats text[]; grids text[]; areas text[]; depts text[]; dups bigint[];
    bad text;
BEGIN
    SELECT array_agg(DISTINCT category_code),
           array_agg(DISTINCT grid_code) FILTER (WHERE grid_code IS NOT NULL),
           array_agg(DISTINCT community_code) FILTER (WHERE community_code IS NOT NULL)
             || array_agg(DISTINCT street_code) FILTER (WHERE street_code IS NOT NULL),
           array_agg(DISTINCT department_code) FILTER (WHERE department_code IS NOT NULL),
           array_agg(DISTINCT duplicate_of) FILTER (WHERE duplicate_of IS NOT NULL)
      INTO cats, grids, areas, depts, dups FROM og_new;

    PERFORM 1 FROM case_category WHERE code = ANY (cats) FOR KEY SHARE;
    SELECT x INTO bad FROM unnest(cats) x WHERE NOT EXISTS (SELECT 1 FROM case_category p WHERE p.code = x) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('case category %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_category_code_ref';
    END IF;

    PERFORM 1 FROM grid WHERE code = ANY (grids) FOR KEY SHARE;
    SELECT x INTO bad FROM unnest(grids) x WHERE NOT EXISTS (SELECT 1 FROM grid p WHERE p.code = x) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('grid %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_grid_code_ref';
    END IF;

    PERFORM 1 FROM admin_area WHERE code = ANY (areas) FOR KEY SHARE;
    SELECT x INTO bad FROM unnest(areas) x WHERE NOT EXISTS (SELECT 1 FROM admin_area p WHERE p.code = x) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('admin area %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_admin_area_ref';
    END IF;

    PERFORM 1 FROM department WHERE code = ANY (depts) FOR KEY SHARE;
    SELECT x INTO bad FROM unnest(depts) x WHERE NOT EXISTS (SELECT 1 FROM department p WHERE p.code = x) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('department %L does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_department_code_ref';
    END IF;

    PERFORM 1 FROM cases WHERE id = ANY (dups) FOR KEY SHARE;
    SELECT x::text INTO bad FROM unnest(dups) x WHERE NOT EXISTS (SELECT 1 FROM cases p WHERE p.id = x) LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format('case %s (duplicate_of) does not exist', bad),
            TABLE = 'cases', CONSTRAINT = 'cases_duplicate_of_ref';
    END IF;
    RETURN NULL;
END $$;
