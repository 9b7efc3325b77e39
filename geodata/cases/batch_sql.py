"""SQL of :func:`geodata.cases.batch.write_cases`: staging, routing and inserts, all set-based.

Times arrive as integer microseconds since the Unix epoch (UTC), -1 when missing, so no text
parsing happens in the database; lon/lat are EPSG:4326 degrees.
"""

STAMPS = ("reported_at", "registered_at", "dispatched_at", "started_at", "deadline_at", "fed_back_at",
          "closed_at", "evaluated_at")
STAGE_COLUMNS = ("ord", "where_label", "code", "category_code", "channel", "state", "description",
                 "address_text", "source_ref", "department_code", "satisfaction", *STAMPS, "lon", "lat")

STAGE = """
DROP TABLE IF EXISTS og_stage_case;
DROP TABLE IF EXISTS og_stage_point;
DROP TABLE IF EXISTS og_case_grid;
DROP TABLE IF EXISTS og_routed_case;
CREATE TEMP TABLE og_stage_case (
    ord int, where_label text, code text, category_code text, channel text, state text,
    description text, address_text text, source_ref text, department_code text, satisfaction smallint,
    reported_at bigint, registered_at bigint, dispatched_at bigint, started_at bigint, deadline_at bigint,
    fed_back_at bigint, closed_at bigint, evaluated_at bigint, lon float8, lat float8)"""


def scratch(statement: str, temp: bool) -> str:
    """``statement`` with its scratch tables TEMP (``temp``) or UNLOGGED: a transaction that touched
    temporary tables cannot be prepared, so the second backend of a split import stages in
    unlogged tables of its own schema, first on its search_path (see batch_parallel.py)."""
    return statement if temp else statement.replace("CREATE TEMP TABLE", "CREATE UNLOGGED TABLE")


COPY = f"COPY og_stage_case ({', '.join(STAGE_COLUMNS)}) FROM STDIN (FORMAT binary)"
#: Binary COPY types of STAGE_COLUMNS (must match og_stage_case).
STAGE_TYPES = ("int4", *["text"] * 9, "int2", *["int8"] * len(STAMPS), "float8", "float8")


#: Staged columns with the missing times (staged as -1, which is cheaper than building NULLs in Python) as NULL.
_STAGED_NULLS = ", ".join(f"nullif({c}, -1) AS {c}" if c in STAMPS else c for c in STAGE_COLUMNS)


def _ts(column: str) -> str:
    return f"'epoch'::timestamptz + s.{column} * interval '1 microsecond' AS {column}"


# Point in grid with the grid as the OUTER side: each grid polygon is then tested against all
# its candidate points in a row, so PostGIS reuses one prepared (indexed) polygon instead of
# preparing a polygon per point (1.25 s → 0.25 s for 50,000 points). The lowest grid code wins
# on a shared edge, as in create_case.
GRID_POINTS = """
CREATE TEMP TABLE og_stage_point AS
SELECT ord, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS geom FROM og_stage_case;
CREATE INDEX ON og_stage_point USING gist (geom);
CREATE TEMP TABLE og_case_grid AS
SELECT DISTINCT ON (p.ord) p.ord, g.code, g.community_code, g.street_code
  FROM grid g
 CROSS JOIN LATERAL (SELECT ord FROM og_stage_point p WHERE ST_Covers(g.geom, p.geom)) p
 ORDER BY p.ord, g.code"""

# Everything a case row needs, computed once: its id (drawn from the identity sequence, so
# events need no join back to `cases`), code (as in create_case: local reporting day + the
# global sequence), routing (grid implies community and street; communities without grids
# still route), department (the row's own, else street rule, else district-wide rule, else the
# category's), deadline (dispatch + time limit), updated_at (the latest step).
# ORDER BY ord: volatile target-list functions run after the sort, so ids follow file order (in
# each half when two backends share a batch). The sequence is looked up once (an InitPlan),
# not per row.
ROUTE = f"""
CREATE TEMP TABLE og_routed_case AS
SELECT nextval((SELECT pg_get_serial_sequence('cases', 'id')::regclass)) AS id, s.ord, s.where_label, s.category_code, s.channel,
       s.state, coalesce(s.description, '') AS description, s.address_text, s.source_ref,
       coalesce(s.department_code, rs.department_code, rd.department_code, k.department_code) AS department_code,
       s.satisfaction,
       {', '.join(_ts(c) for c in STAMPS if c != 'deadline_at')},
       coalesce('epoch'::timestamptz + s.deadline_at * interval '1 microsecond',
                'epoch'::timestamptz + s.dispatched_at * interval '1 microsecond'
                + make_interval(hours => k.time_limit_hours)) AS deadline_at,
       'epoch'::timestamptz + greatest(s.reported_at, s.registered_at, s.dispatched_at, s.started_at,
                                       s.fed_back_at, s.closed_at, s.evaluated_at) * interval '1 microsecond'
           AS updated_at,
       ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom,
       g.code AS grid_code, coalesce(g.community_code, a.code) AS community_code,
       coalesce(g.street_code, a.parent_code) AS street_code,
       coalesce(s.code, to_char(('epoch'::timestamptz + s.reported_at * interval '1 microsecond')
                                AT TIME ZONE %(tz)s, 'YYYYMMDD')
                        || '-' || lpad(s.seq::text, greatest(6, length(s.seq::text)), '0')) AS code
  FROM (SELECT {_STAGED_NULLS}, CASE WHEN code IS NULL THEN nextval('case_code_seq') END AS seq
          FROM og_stage_case) s
  JOIN case_category k ON k.code = s.category_code
  LEFT JOIN og_case_grid g ON g.ord = s.ord
  LEFT JOIN LATERAL (SELECT code, parent_code FROM admin_area
                      WHERE g.code IS NULL AND level = 'community'
                        AND ST_Covers(admin_area.geom, ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326))
                      ORDER BY code LIMIT 1) a ON true
  LEFT JOIN dispatch_rule rs ON rs.category_code = s.category_code
                            AND rs.street_code = coalesce(g.street_code, a.parent_code)
  LEFT JOIN dispatch_rule rd ON rd.category_code = s.category_code AND rd.street_code IS NULL
 ORDER BY s.ord"""  # noqa: S608 (fixed column names only)
# The key lets the event insert read cases in id order (an incremental sort of each case's steps
# instead of a sort of all events).
ROUTED_KEY = "ALTER TABLE og_routed_case ADD PRIMARY KEY (id)"
OUTSIDE = """
SELECT where_label, ST_X(geom), ST_Y(geom) FROM og_routed_case
 WHERE street_code IS NULL ORDER BY ord LIMIT 1000"""
CODES_IN_DB = "SELECT code FROM cases WHERE code = ANY(%s)"

_CASE_COLUMNS = ("id, code, category_code, channel, state, description, address_text, source_ref, grid_code, "
                 "community_code, street_code, department_code, reported_at, registered_at, dispatched_at, "
                 "deadline_at, fed_back_at, closed_at, evaluated_at, satisfaction, updated_at, geom")
# Imported cases get no Open311 token (no API client is waiting for one; migration 0011).
INSERT_CASES = f"""
INSERT INTO cases (token, {_CASE_COLUMNS}) OVERRIDING SYSTEM VALUE
SELECT NULL, {_CASE_COLUMNS} FROM og_routed_case ORDER BY id"""  # noqa: S608 (fixed column names only)

# Workflow steps: (step, action, stamp, state reached). Closing and evaluating count only for
# cases that are closed/evaluated now.
_STEPS = ((1, "report", "reported_at", "reported"), (2, "register", "registered_at", "registered"),
          (3, "dispatch", "dispatched_at", "dispatched"), (4, "start", "started_at", "handling"),
          (5, "feedback", "fed_back_at", "fed_back"), (6, "close", "closed_at", "closed"),
          (7, "evaluate", "evaluated_at", "evaluated"))
_FINAL_ACTION = """CASE r.state WHEN 'returned' THEN 'return' WHEN 'rejected' THEN 'reject'
    WHEN 'duplicate' THEN 'mark_duplicate' WHEN 'registered' THEN 'register' WHEN 'dispatched' THEN 'dispatch'
    WHEN 'handling' THEN 'start' WHEN 'fed_back' THEN 'feedback' WHEN 'closed' THEN 'close' ELSE 'evaluate' END"""


def _reached(step: int) -> str:
    """The state step ``step`` reaches when it happened, else NULL."""
    _, _, stamp, state = _STEPS[step - 1]
    extra = " AND r.state IN ('closed', 'evaluated')" if step >= 6 else ""
    return f"CASE WHEN r.{stamp} IS NOT NULL{extra} THEN '{state}' END"


def _before(step: int) -> str:
    """The state the case was in before step ``step``: the latest earlier step that happened."""
    earlier = [_reached(k) for k in range(step - 1, 0, -1)]
    return f"coalesce({', '.join(earlier)})" if len(earlier) > 1 else (earlier[0] if earlier else "NULL")


def _at(step: int) -> str:
    """When step ``step`` happened (NULL: it did not count)."""
    stamp = _STEPS[step - 1][2]
    return f"r.{stamp}" if step <= 5 else f"CASE WHEN r.state IN ('closed', 'evaluated') THEN r.{stamp} END"


def _event_arrays() -> str:
    """The eight candidate events of a case as parallel arrays (action, at, to_state, from_state, note)."""
    actions = [f"'{action}'" for _, action, _, _ in _STEPS] + [_FINAL_ACTION]
    ats = [_at(n) for n in range(1, 8)] + [f"CASE WHEN {_before(8)} <> r.state THEN r.updated_at END"]
    to_states = [f"'{state}'" for *_, state in _STEPS] + ["r.state"]
    from_states = [_before(n) for n in range(1, 9)]
    notes = ["''"] * 7 + ["'imported: the time of this step was not recorded'"]
    return ",\n        ".join(f"ARRAY[{', '.join(items)}]{cast}" for items, cast in (
        (actions, "::text[]"), (ats, "::timestamptz[]"), (to_states, "::text[]"), (from_states, "::text[]"),
        (notes, "::text[]")))


# One event per known step, in workflow order; a final state no stamped step reaches
# (returned, rejected, duplicate, or a state with missing stamps) gets one more event at the
# case's latest time, saying its own time was not recorded. from_state chains the events: it is
# computed per row from the stamps (no window, no join back to `cases`). unnest of arrays, not a
# LATERAL VALUES list: a ValuesScan compiles its expressions again for every outer row (a fifth
# of this statement's CPU for ~320,000 events); a function scan's arguments are compiled once.
# Event ids follow the
# steps within each case, i.e. time order (the stamps are checked to be in workflow order); the
# live map reads ids > cursor and needs no global time order.
INSERT_EVENTS = f"""
INSERT INTO case_event (case_id, street_code, at, action, from_state, to_state, actor, department_code, note)
SELECT r.id, r.street_code, e.at, e.action, e.from_state, e.to_state, %(actor)s, r.department_code, e.note
  FROM og_routed_case r
 CROSS JOIN LATERAL unnest(
        {_event_arrays()}) WITH ORDINALITY AS e(action, at, to_state, from_state, note, step)
 WHERE e.at IS NOT NULL"""  # noqa: S608 (fixed text only)
# No ORDER BY: the lateral unnest yields each case's steps in workflow order (a nested loop is
# the only plan for it), so event ids follow the steps within a case; sorting 320,000 rows to
# also order them across cases cost ~0.1 s of a 50,000-case import and bought nothing.

# Two backends (batch_parallel.py, migration 0012). PREPARE / COMMIT PREPARED take no
# parameters: the gid goes in as a psycopg.sql.Literal.
MAX_PREPARED = "SELECT current_setting('max_prepared_transactions')"
CURRENT_XID = "SELECT pg_current_xact_id()::text"
ROUTED_BY_STREET = "SELECT street_code, count(*) FROM og_routed_case GROUP BY 1"
PREPARE = "PREPARE TRANSACTION {}"
CREATE_SCRATCH = "CREATE SCHEMA {}"
DROP_SCRATCH = "DROP SCHEMA {} CASCADE"
#: Puts the scratch schema (a plain lower-case name, %s) first on this transaction's search_path.
SCRATCH_PATH = "SELECT set_config('search_path', %s || ', ' || current_setting('search_path'), true)"
FINISH_PREPARED = {True: "COMMIT PREPARED {}", False: "ROLLBACK PREPARED {}"}
INSERT_MARKER = "INSERT INTO case_import_batch (gid, actor, cases) VALUES (%s, %s, %s)"
MARKER_EXISTS = "SELECT EXISTS (SELECT 1 FROM case_import_batch WHERE gid = %s)"
PENDING_HALVES = """
SELECT gid, pg_xact_status(split_part(gid, ':', 2)::xid8) FROM pg_prepared_xacts
 WHERE database = current_database() AND gid ~ '^onegrid-cases:[0-9]+:[0-9a-f]{32}$' ORDER BY prepared"""
