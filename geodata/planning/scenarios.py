"""Planning scenarios (saved analyses and proposals) and background solve jobs.

A scenario stores its parameters, aggregated figures (totals only, no personal data) and the
proposed sites (EPSG:4326 points). A job is a row the page polls while a thread of the web
process runs the solve, so any worker can report its progress.
"""

from __future__ import annotations

import json
import logging
import threading

import psycopg
from psycopg.types.json import Jsonb

from geodata.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

INSERT_SCENARIO = """
INSERT INTO plan_scenario (name, kind, model, distance_mode, params, figures, solver)
VALUES (%(name)s, %(kind)s, %(model)s, %(mode)s, %(params)s, %(figures)s, %(solver)s) RETURNING id
"""
INSERT_SITE = """
INSERT INTO plan_site (scenario_id, seq, source, ref, label, capacity, served, geom)
VALUES (%s, %s, %s, %s, %s, %s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326))
"""
SCENARIOS = """
SELECT id, name, kind, model, distance_mode, params, figures, solver, created_at
  FROM plan_scenario ORDER BY created_at DESC, id DESC
"""
SCENARIO = """
SELECT id, name, kind, model, distance_mode, params, figures, solver, created_at FROM plan_scenario WHERE id = %(id)s
"""
SITES = """
SELECT seq, source, ref, label, capacity, served, ST_X(geom) AS lon, ST_Y(geom) AS lat
  FROM plan_site WHERE scenario_id = %(id)s ORDER BY seq
"""
DELETE_SCENARIO = "DELETE FROM plan_scenario WHERE id = %(id)s"
NAME_TAKEN = "SELECT 1 FROM plan_scenario WHERE name = %(name)s"

INSERT_JOB = "INSERT INTO plan_job (params) VALUES (%(params)s) RETURNING id"
UPDATE_JOB = """
UPDATE plan_job SET state = %(state)s, stage = %(stage)s, progress = %(progress)s, gap = %(gap)s,
       message = %(message)s, scenario_id = %(scenario)s, updated_at = now(),
       finished_at = CASE WHEN %(state)s IN ('done', 'failed') THEN now() END
 WHERE id = %(id)s
"""
JOB = """
SELECT id, params, state, stage, progress, gap, message, scenario_id,
       extract(epoch FROM now() - created_at) AS age_s, extract(epoch FROM now() - updated_at) AS idle_s
  FROM plan_job WHERE id = %(id)s
"""
#: A running job not heard from for this long died with its process.
STALE_S = 120


def check_name(name: str | None) -> str:
    name = (name or "").strip()
    if not name:
        raise InvalidInput("give the scenario a name")
    if len(name) > 80:
        raise InvalidInput("scenario name is longer than 80 characters")
    return name


def write_scenario(conn: psycopg.Connection, name: str, *, kind: str, model: str, params: dict, result: dict) -> int:
    """Save a scenario (``result`` as returned by the optimiser or a coverage run); its id."""
    name = check_name(name)
    if conn.execute(NAME_TAKEN, {"name": name}).fetchone():
        raise Conflict(f"a scenario named {name!r} already exists")
    with conn.transaction():
        sid = conn.execute(INSERT_SCENARIO, {
            "name": name, "kind": kind, "model": model, "mode": result["distance_mode"], "params": Jsonb(params),
            "figures": Jsonb(result["figures"]), "solver": Jsonb(result.get("solver"))}).fetchone()[0]
        with conn.cursor() as cur:
            cur.executemany(INSERT_SITE, [(sid, n + 1, s["source"], s["ref"], s["label"], s["capacity"], s["served"],
                                           s["lon"], s["lat"]) for n, s in enumerate(result.get("sites", []))])
    return sid


def fetch_scenarios(conn: psycopg.Connection) -> list[dict]:
    return conn.cursor(row_factory=psycopg.rows.dict_row).execute(SCENARIOS).fetchall()


def fetch_scenario(conn: psycopg.Connection, scenario_id: int) -> dict:
    """One scenario with its ``sites``; :class:`NotFound` when it does not exist."""
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    row = cur.execute(SCENARIO, {"id": int(scenario_id)}).fetchone()
    if row is None:
        raise NotFound(f"scenario {scenario_id} does not exist")
    row["sites"] = cur.execute(SITES, {"id": int(scenario_id)}).fetchall()
    return row


def delete_scenario(conn: psycopg.Connection, scenario_id: int) -> None:
    if conn.execute(DELETE_SCENARIO, {"id": int(scenario_id)}).rowcount == 0:
        raise NotFound(f"scenario {scenario_id} does not exist")


# ---- jobs -----------------------------------------------------------------------------------
def create_job(conn: psycopg.Connection, params: dict) -> int:
    return conn.execute(INSERT_JOB, {"params": Jsonb(params)}).fetchone()[0]


def update_job(conn: psycopg.Connection, job_id: int, state: str, *, stage: str | None = None, progress: float = 0.0,
               gap: float | None = None, message: str | None = None, scenario: int | None = None) -> None:
    conn.execute(UPDATE_JOB, {"id": job_id, "state": state, "stage": stage, "progress": min(1.0, max(0.0, progress)),
                              "gap": gap, "message": message, "scenario": scenario})


def fetch_job(conn: psycopg.Connection, job_id: int) -> dict:
    """A job's state; a ``running`` job silent for :data:`STALE_S` is reported ``failed``."""
    row = conn.cursor(row_factory=psycopg.rows.dict_row).execute(JOB, {"id": int(job_id)}).fetchone()
    if row is None:
        raise NotFound(f"job {job_id} does not exist")
    if row["state"] in ("queued", "running") and row["idle_s"] > STALE_S:
        row["state"], row["message"] = "failed", "the process running this job stopped"
    return row


def start_job(connect, params: dict, work) -> int:
    """Record a job and run ``work(conn, report)`` in a background thread.

    ``connect()`` opens a new connection (the thread's own, autocommit, for progress rows and
    one for the work); ``report(stage, progress, gap)`` updates the row; ``work`` returns the
    scenario id. Errors end the job as ``failed`` with their message.
    """
    with connect(autocommit=True) as conn:
        job_id = create_job(conn, params)

    def run() -> None:
        with connect(autocommit=True) as status, connect() as work_conn:
            def report(stage: str, progress: float, gap: float | None = None) -> None:
                update_job(status, job_id, "running", stage=stage, progress=progress, gap=gap)

            try:
                report("start", 0.01)
                scenario = work(work_conn, report)
                work_conn.commit()
                update_job(status, job_id, "done", stage="done", progress=1.0, scenario=scenario)
            except Exception as exc:  # noqa: BLE001 — any failure must end the job visibly
                work_conn.rollback()
                message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                if not hasattr(exc, "message"):
                    log.exception("planning job %s failed", job_id)
                update_job(status, job_id, "failed", stage="failed", message=message)

    threading.Thread(target=run, name=f"plan-job-{job_id}", daemon=True).start()
    return job_id


def scenario_json(row: dict) -> str:
    """Parameters and figures of a scenario as JSON text (for exports)."""
    return json.dumps({k: row[k] for k in ("name", "kind", "model", "distance_mode", "params", "figures", "solver")},
                      ensure_ascii=False, default=str)
