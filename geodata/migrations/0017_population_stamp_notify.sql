-- Every change of the published cell counts also notifies channel onegrid_population_cell, so a
-- dashboard process re-reads its cached layers (geodata/population/watch.py) as soon as a
-- publication commits, instead of the first map request after it paying for the read (up to
-- 1.3 s for a res-10 layer in a fresh process). NOTIFY is sent at commit, and identical
-- notifications of one transaction collapse into one, so a rebuild notifies once.

CREATE OR REPLACE FUNCTION og_population_cell_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE population_cell_stamp SET stamp = gen_random_uuid();
    PERFORM pg_notify('onegrid_population_cell', '');
    RETURN NULL;
END $$;
