-- Batch case imports over two backends: the commit decision for the second backend's half.
--
-- A big batch import (geodata/cases/batch_parallel.py) writes half its rows through a second
-- connection so both cores insert (issue 3: ≥ 20,000 cases/s). That half is its own
-- transaction; it is PREPAREd (two-phase commit) and then decided by the caller's transaction,
-- which inserts one row here naming the prepared transaction. Once the caller's transaction
-- has ended, the row exists exactly when it committed: then COMMIT PREPARED, otherwise
-- ROLLBACK PREPARED. The same rule settles a prepared half left behind by a crash (its gid
-- also carries the caller's transaction id, so a caller still running is left alone).
-- Rows stay as a small log of parallel imports.
CREATE TABLE case_import_batch (
    gid        text PRIMARY KEY CHECK (gid LIKE 'onegrid-cases:%'),
    actor      text NOT NULL,
    cases      integer NOT NULL CHECK (cases >= 0),  -- cases written by the prepared half
    created_at timestamptz NOT NULL DEFAULT now()
);
