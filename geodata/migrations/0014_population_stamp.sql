-- A stamp that changes with every change to the published cell counts, so map processes can
-- cache a (resolution, tag) layer of population_cell and still never serve stale figures:
-- readers read the stamp first and reuse their copy only while it is the same. Random (not a
-- counter) so two databases — e.g. test databases made from one template and then changed —
-- never share a stamp for different contents. Statement-level triggers: COPY, DELETE and
-- TRUNCATE in a rebuild each bump it once, inside the writer's transaction.

CREATE TABLE population_cell_stamp (
    one   boolean PRIMARY KEY DEFAULT true CHECK (one),
    stamp uuid NOT NULL
);
INSERT INTO population_cell_stamp (one, stamp) VALUES (true, gen_random_uuid());

CREATE FUNCTION og_population_cell_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE population_cell_stamp SET stamp = gen_random_uuid();
    RETURN NULL;
END $$;

CREATE TRIGGER population_cell_stamp_change
    AFTER INSERT OR UPDATE OR DELETE ON population_cell
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_cell_stamp();
CREATE TRIGGER population_cell_stamp_truncate
    AFTER TRUNCATE ON population_cell
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_cell_stamp();
