"""SQL of :func:`geodata.cases.batch.write_cases`: staging, routing and inserts, all set-based.

Times arrive as integer microseconds since the Unix epoch (UTC) so no text parsing happens
in the database; lon/lat are EPSG:4326 degrees.
"""

STAMPS = ("reported_at", "registered_at", "dispatched_at", "started_at", "deadline_at", "fed_back_at",
          "closed_at", "evaluated_at")
STAGE_COLUMNS = ("ord", "where_label", "code", "category_code", "channel", "state", "description",
                 "address_text", "source_ref", "department_code", "satisfaction", *STAMPS, "lon", "lat")

STAGE = """
DROP TABLE IF EXISTS og_stage_case;
DROP TABLE IF EXISTS og_routed_case;
CREATE TEMP TABLE og_stage_case (
    ord int, where_label text, code text, category_code text, channel text, state text,
    description text, address_text text, source_ref text, department_code text, satisfaction smallint,
    reported_at bigint, registered_at bigint, dispatched_at bigint, started_at bigint, deadline_at bigint,
    fed_back_at bigint, closed_at bigint, evaluated_at bigint, lon float8, lat float8)"""
COPY = f"COPY og_stage_case ({', '.join(STAGE_COLUMNS)}) FROM STDIN (FORMAT csv)"


def _ts(column: str) -> str:
    return f"'epoch'::timestamptz + s.{column} * interval '1 microsecond' AS {column}"


# Grid first (it implies community and street); communities without grids still route.
# Case numbers as in create_case: local reporting day + the global sequence.
ROUTE = f"""
CREATE TEMP TABLE og_routed_case AS
SELECT s.ord, s.where_label, s.category_code, s.channel, s.state, coalesce(s.description, '') AS description,
       s.address_text, s.source_ref, s.department_code, s.satisfaction,
       {', '.join(_ts(c) for c in STAMPS)},
       ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom,
       g.code AS grid_code, coalesce(g.community_code, a.code) AS community_code,
       coalesce(g.street_code, a.parent_code) AS street_code,
       coalesce(s.code, to_char(('epoch'::timestamptz + s.reported_at * interval '1 microsecond')
                                AT TIME ZONE %(tz)s, 'YYYYMMDD')
                        || '-' || regexp_replace('00000' || nextval('case_code_seq'), '^0*([0-9]{{6,}})$', '\\1')) AS code
  FROM og_stage_case s
  LEFT JOIN LATERAL (SELECT code, community_code, street_code FROM grid
                      WHERE ST_Covers(grid.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                      ORDER BY code LIMIT 1) g ON true
  LEFT JOIN LATERAL (SELECT code, parent_code FROM admin_area
                      WHERE g.code IS NULL AND level = 'community'
                        AND ST_Covers(admin_area.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                      ORDER BY code LIMIT 1) a ON true"""  # noqa: S608 (fixed column names only)
OUTSIDE = """
SELECT where_label, ST_X(geom), ST_Y(geom) FROM og_routed_case
 WHERE street_code IS NULL ORDER BY ord LIMIT 1000"""
CODES_IN_DB = "SELECT code FROM cases WHERE code = ANY(%s)"

# Department: the row's own, else street rule, else district-wide rule, else the category's.
# Deadline: the row's own, else dispatch + the category's time limit. updated_at: the latest step.
INSERT_CASES = """
INSERT INTO cases (code, category_code, channel, state, description, address_text, source_ref,
                   grid_code, community_code, street_code, department_code, reported_at, registered_at,
                   dispatched_at, deadline_at, fed_back_at, closed_at, evaluated_at, satisfaction,
                   updated_at, geom)
SELECT r.code, r.category_code, r.channel, r.state, r.description, r.address_text, r.source_ref,
       r.grid_code, r.community_code, r.street_code,
       coalesce(r.department_code, rs.department_code, rd.department_code, k.department_code),
       r.reported_at, r.registered_at, r.dispatched_at,
       coalesce(r.deadline_at, r.dispatched_at + make_interval(hours => k.time_limit_hours)),
       r.fed_back_at, r.closed_at, r.evaluated_at, r.satisfaction,
       greatest(r.reported_at, r.registered_at, r.dispatched_at, r.started_at, r.fed_back_at, r.closed_at,
                r.evaluated_at),
       r.geom
  FROM og_routed_case r
  JOIN case_category k ON k.code = r.category_code
  LEFT JOIN dispatch_rule rs ON rs.category_code = r.category_code AND rs.street_code = r.street_code
  LEFT JOIN dispatch_rule rd ON rd.category_code = r.category_code AND rd.street_code IS NULL
 ORDER BY r.ord"""

# One event per known step, in workflow order; a final state no stamped step reaches
# (returned, rejected, duplicate, or a state with missing stamps) gets one more event at the
# case's latest time, saying its own time was not recorded. from_state chains the events.
INSERT_EVENTS = """
WITH steps AS (
    SELECT c.id, c.street_code, c.department_code, c.state, c.updated_at, e.step, e.action, e.at, e.to_state
      FROM og_routed_case r
      JOIN cases c ON c.code = r.code
     CROSS JOIN LATERAL (VALUES
        (1, 'report', r.reported_at, 'reported'), (2, 'register', r.registered_at, 'registered'),
        (3, 'dispatch', r.dispatched_at, 'dispatched'), (4, 'start', r.started_at, 'handling'),
        (5, 'feedback', r.fed_back_at, 'fed_back'), (6, 'close', r.closed_at, 'closed'),
        (7, 'evaluate', r.evaluated_at, 'evaluated')) AS e(step, action, at, to_state)
     WHERE e.at IS NOT NULL
       AND (e.step <= 5 OR c.state IN ('closed', 'evaluated'))),
last AS (
    SELECT DISTINCT ON (id) id, street_code, department_code, state, updated_at, to_state
      FROM steps ORDER BY id, step DESC),
final AS (
    SELECT id, street_code, department_code, 8 AS step,
           CASE state WHEN 'returned' THEN 'return' WHEN 'rejected' THEN 'reject'
                      WHEN 'duplicate' THEN 'mark_duplicate' WHEN 'registered' THEN 'register'
                      WHEN 'dispatched' THEN 'dispatch' WHEN 'handling' THEN 'start'
                      WHEN 'fed_back' THEN 'feedback' WHEN 'closed' THEN 'close' ELSE 'evaluate' END AS action,
           updated_at AS at, state AS to_state
      FROM last WHERE to_state <> state),
everything AS (
    SELECT id, street_code, department_code, step, action, at, to_state, '' AS note FROM steps
    UNION ALL
    SELECT id, street_code, department_code, step, action, at, to_state,
           'imported: the time of this step was not recorded' FROM final)
INSERT INTO case_event (case_id, street_code, at, action, from_state, to_state, actor, department_code, note)
SELECT id, street_code, at, action, lag(to_state) OVER (PARTITION BY id ORDER BY step), to_state,
       %(actor)s, department_code, note
  FROM everything ORDER BY at, id, step"""
