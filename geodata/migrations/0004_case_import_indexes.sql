-- Indexes no query uses, dropped so batch imports (and every intake) maintain fewer of them.
-- Checked against every WHERE / ORDER BY on cases and case_event in geodata/ (filters.py,
-- kpi.py, read.py, map_queries.py, open311_queries.py, intake.py, workflow.py, simulate.py,
-- history.py) and pg_stat_user_indexes after the KPI bench: both had 0 scans.
--
-- case_event (at): events are read by case (case_event_case_idx) or by id (live cursor); no
--   query filters or sorts events by time. Saves one B-tree insert per event (~6 per case).
-- cases (updated_at): the "updated" order is only used on a handful of ids (fetch_changes_since,
--   found through the primary key); a whole list in that order is a top-N sort of the
--   filtered rows.
-- Kept although unscanned: cases (grid_code) serves the grid foreign key's ON DELETE SET NULL /
--   ON UPDATE CASCADE (without it every deleted or renamed grid scans all cases); token and
--   code are unique constraints.
DROP INDEX IF EXISTS case_event_at_idx;
DROP INDEX IF EXISTS cases_updated_idx;
