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
