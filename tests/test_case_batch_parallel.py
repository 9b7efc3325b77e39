"""Batch case import split over two backends: both halves commit with the caller's transaction,
or neither does (real PostGIS, real prepared transactions)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import geopandas as gpd
import psycopg
import pytest
import shapely

from app.cli import main
from geodata import cases as C
from geodata.cases.batch_parallel import resolve_pending, second_backend
from geodata.db import connect
from geodata.errors import ImportRejected
from geodata.io.importer import import_file

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=CST)
N = 400  # 200 rows per backend


@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


def _frame(conn, n: int = N, boom: int | None = None) -> gpd.GeoDataFrame:
    """``n`` closed garbage cases at the first ``n`` addresses, described "row i" (row ``boom``: "boom")."""
    xy = conn.execute("SELECT ST_X(geom), ST_Y(geom) FROM address ORDER BY id LIMIT %s", (n,)).fetchall()
    conn.commit()
    records = []
    for i in range(n):
        t = T0 + timedelta(minutes=i)
        records.append({"category_code": "garbage", "channel": "supervisor", "description": f"row {i}",
                        "reported_at": t, "registered_at": t + timedelta(minutes=5),
                        "dispatched_at": t + timedelta(minutes=10), "closed_at": t + timedelta(hours=2)})
    if boom is not None:
        records[boom]["description"] = "boom"
    return gpd.GeoDataFrame(records, geometry=[shapely.Point(x, y) for x, y in xy], crs="EPSG:4326")


def _counts(dsn: str) -> tuple[int, int, int, int]:
    """(cases, events, prepared import halves, import markers) as a fresh session sees them."""
    with connect(dsn) as c:
        return c.execute("""SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM case_event),
                                   (SELECT count(*) FROM pg_prepared_xacts WHERE gid LIKE 'onegrid-cases:%%'),
                                   (SELECT count(*) FROM case_import_batch)""").fetchone()


def _split_import(conn, frame, *, fail_after: bool = False):
    with second_backend(conn, min_rows=0) as helper, conn.transaction():
        written = C.write_cases(conn, frame, helper=helper)
        assert helper.gid is not None, "the batch was not split (max_prepared_transactions = 0?)"
        if fail_after:
            raise RuntimeError("caller fails after the import")
    return written, helper


def test_split_import_commits_both_halves(conn, demo_db):
    cases0, events0, *_ = _counts(demo_db.dsn)
    written, helper = _split_import(conn, _frame(conn))
    assert written == N and sum(helper.groups.values()) == N // 2
    assert _counts(demo_db.dsn) == (cases0 + N, events0 + 4 * N, 0, 1)
    rows = conn.execute("SELECT description, code FROM cases WHERE description LIKE 'row %' ORDER BY id").fetchall()
    order = [int(d.split()[1]) for d, _ in rows]
    assert sorted(order) == list(range(N)) and len({c for _, c in rows}) == N
    for half in (range(N // 2), range(N // 2, N)):  # ids follow the file within each half
        assert [i for i in order if i in half] == list(half)
    marker = conn.execute("SELECT gid, actor, cases FROM case_import_batch").fetchone()
    assert marker[0] == helper.gid and marker[1:] == ("import", N // 2)
    last = C.fetch_cases(conn, limit=1)[0]  # a case of the second half, with its chained events
    events = C.fetch_case_events(conn, last.id)
    assert [e["action"] for e in events] == ["report", "register", "dispatch", "close"]
    assert all(a["to_state"] == b["from_state"] for a, b in zip(events, events[1:], strict=False))
    assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'og_import_%'").fetchone()[0] == 0


@pytest.mark.parametrize("boom", [10, N - 10], ids=["first half fails", "second half fails"])
def test_one_half_fails_nothing_from_either_half(conn, demo_db, boom):
    conn.execute("""CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.description = 'boom' THEN RAISE EXCEPTION 'boom at %', NEW.code; END IF; RETURN NEW; END $$;
        CREATE TRIGGER test_boom BEFORE INSERT ON cases FOR EACH ROW EXECUTE FUNCTION test_boom()""")
    conn.commit()
    before = _counts(demo_db.dsn)
    frame = _frame(conn, boom=boom)
    with pytest.raises(psycopg.errors.RaiseException, match="boom"), \
            second_backend(conn, min_rows=0) as helper, conn.transaction():
        C.write_cases(conn, frame, helper=helper)
    assert _counts(demo_db.dsn) == before


def test_outside_point_in_second_half_rejects_the_whole_batch(conn, demo_db):
    before = _counts(demo_db.dsn)
    frame = _frame(conn)
    frame.loc[N - 1, "geometry"] = shapely.Point(100.0, 30.0)
    with pytest.raises(ImportRejected, match="outside the district"), \
            second_backend(conn, min_rows=0) as helper, conn.transaction():
        C.write_cases(conn, frame, helper=helper)
    assert _counts(demo_db.dsn) == before


def test_caller_rollback_after_import_rolls_back_the_prepared_half(conn, demo_db):
    before = _counts(demo_db.dsn)
    with pytest.raises(RuntimeError):
        _split_import(conn, _frame(conn), fail_after=True)
    assert _counts(demo_db.dsn) == before


def test_prepared_half_left_by_a_crash_is_decided_by_the_callers_transaction(conn, demo_db, capsys):
    cases0, events0, *_ = _counts(demo_db.dsn)
    # The caller commits, then "crashes" before deciding: the prepared half outlives its session.
    frame = _frame(conn)
    helper = second_backend(conn, min_rows=0).__enter__()
    with conn.transaction():
        C.write_cases(conn, frame, helper=helper)
    helper.conn.close()
    assert _counts(demo_db.dsn) == (cases0 + N // 2, events0 + 4 * N // 2, 1, 1)
    assert main(["db", "migrate"]) == 0  # what an operator runs after a crash
    assert "settled 1 half" in capsys.readouterr().out
    assert _counts(demo_db.dsn) == (cases0 + N, events0 + 4 * N, 0, 1)
    # A caller still running is left alone; once it has rolled back (here: its session dies), so is its half.
    other = connect(demo_db.dsn)
    running = second_backend(other, min_rows=0).__enter__()
    C.write_cases(other, _frame(other), helper=running)
    running.conn.close()
    with connect(demo_db.dsn, autocommit=True) as c:
        assert resolve_pending(c) == 0
    assert _counts(demo_db.dsn) == (cases0 + N, events0 + 4 * N, 1, 1)
    other.close()
    with connect(demo_db.dsn, autocommit=True) as c:
        assert resolve_pending(c) == 1
    assert _counts(demo_db.dsn) == (cases0 + N, events0 + 4 * N, 0, 1)


def test_onegrid_import_cases_splits_big_files(conn, demo_db, tmp_path, monkeypatch):
    monkeypatch.setattr("geodata.cases.batch_parallel.PARALLEL_FROM", 100)
    path = tmp_path / "history.geojson"
    _frame(conn).to_file(path, driver="GeoJSON")
    cases0, events0, *_ = _counts(demo_db.dsn)
    dry = import_file("cases", path, dry_run=True)
    assert dry.written == N and sum(n for *_, n in dry.groups) == N
    assert _counts(demo_db.dsn) == (cases0, events0, 0, 0)
    report = import_file("cases", path)
    assert report.written == N and sum(n for *_, n in report.groups) == N
    assert _counts(demo_db.dsn) == (cases0 + N, events0 + 4 * N, 0, 1)
