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

CREATE TRIGGER resident_population_address_stale
    AFTER INSERT OR UPDATE OR DELETE ON resident
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
CREATE TRIGGER resident_population_address_truncate
    AFTER TRUNCATE ON resident
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
CREATE TRIGGER resident_tag_population_address_stale
    AFTER INSERT OR UPDATE OR DELETE ON resident_tag
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
CREATE TRIGGER resident_tag_population_address_truncate
    AFTER TRUNCATE ON resident_tag
    FOR EACH STATEMENT EXECUTE FUNCTION og_population_address_stale();
