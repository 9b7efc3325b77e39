"""Referential integrity of cases and events, enforced per statement (migration 0010).

The set-based checks replace foreign keys, so they must keep every promise the foreign keys
made: unknown keys refused, key changes cascaded, grid deletes nulled, referenced parents not
deletable or truncatable, events deleted with their case, and no orphan under concurrency.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from geodata import cases as C

ForeignKeyViolation = psycopg.errors.ForeignKeyViolation
_COLUMNS = "code, category_code, channel, street_code, community_code, grid_code, department_code, geom"


@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


def _place(conn) -> tuple:
    """(lon, lat, grid, community, street) of a demo address inside a grid."""
    return conn.execute(
        "SELECT ST_X(a.geom), ST_Y(a.geom), g.code, g.community_code, g.street_code FROM address a "
        "JOIN grid g ON ST_Covers(g.geom, a.geom) ORDER BY a.id LIMIT 1").fetchone()


def _case(conn) -> C.Case:
    lon, lat = _place(conn)[:2]
    return C.create_case(conn, category_code="garbage", channel="supervisor", lon=lon, lat=lat, actor="tester")


def _raw_insert(conn, code: str, **override) -> None:
    lon, lat, grid, community, street = _place(conn)
    row = {"category_code": "garbage", "street_code": street, "community_code": community, "grid_code": grid,
           "department_code": "roads"} | override
    conn.execute(
        f"INSERT INTO cases ({_COLUMNS}) VALUES (%(code)s, %(category_code)s, 'supervisor', %(street_code)s, "  # noqa: S608
        "%(community_code)s, %(grid_code)s, %(department_code)s, ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326))",
        row | {"code": code, "lon": lon, "lat": lat})


@pytest.mark.parametrize(("column", "value", "named"), [
    ("category_code", "no_such_category", "case category 'no_such_category'"),
    ("grid_code", "999999999999999", "grid '999999999999999'"),
    ("community_code", "nowhere", "admin area 'nowhere'"),
    ("street_code", "nowhere", "admin area 'nowhere'"),
    ("department_code", "ghosts", "department 'ghosts'"),
])
def test_unknown_key_is_refused_and_nothing_is_written(conn, column, value, named):
    before = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    with pytest.raises(ForeignKeyViolation, match=named):
        _raw_insert(conn, "T-1", **{column: value})
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == before


def test_one_bad_row_in_a_multi_row_statement_refuses_the_statement(conn):
    lon, lat, grid, community, street = _place(conn)
    with pytest.raises(ForeignKeyViolation, match="grid 'bogus'"):
        conn.execute(
            f"INSERT INTO cases ({_COLUMNS}) SELECT 'M-' || i, 'garbage', 'video', %s, %s, "  # noqa: S608
            "CASE WHEN i = 7 THEN 'bogus' ELSE %s END, NULL, ST_SetSRID(ST_MakePoint(%s, %s), 4326) "
            "FROM generate_series(1, 10) i", (street, community, grid, lon, lat))
    conn.rollback()
    assert conn.execute("SELECT count(*) FROM cases WHERE code LIKE 'M-%'").fetchone()[0] == 0


def test_update_to_an_unknown_key_is_refused(conn):
    case = _case(conn)
    with pytest.raises(ForeignKeyViolation, match="department 'ghosts'"):
        conn.execute("UPDATE cases SET department_code = 'ghosts' WHERE id = %s", (case.id,))
    conn.rollback()


def test_duplicate_of_and_event_case_must_exist(conn):
    case = _case(conn)
    conn.commit()
    with pytest.raises(ForeignKeyViolation, match="case 987654321 \\(duplicate_of\\)"):
        conn.execute("UPDATE cases SET duplicate_of = 987654321 WHERE id = %s", (case.id,))
    conn.rollback()
    with pytest.raises(ForeignKeyViolation, match="case 987654321 does not exist"):
        conn.execute("INSERT INTO case_event (case_id, street_code, action, to_state, actor) "
                     "VALUES (987654321, %s, 'report', 'reported', 'x')", (case.street_code,))
    conn.rollback()


def test_key_changes_cascade_to_cases(conn):
    case = _case(conn)
    conn.execute("UPDATE grid SET code = '999000000000001' WHERE code = %s", (case.grid_code,))
    conn.execute("UPDATE admin_area SET code = 'S-NEW' WHERE code = %s", (case.street_code,))
    conn.execute("UPDATE case_category SET code = 'garbage2' WHERE code = 'garbage'")
    conn.execute("UPDATE department SET code = 'dept2' WHERE code = %s", (case.department_code,))
    got = conn.execute("SELECT grid_code, street_code, category_code, department_code FROM cases WHERE id = %s",
                       (case.id,)).fetchone()
    assert got == ("999000000000001", "S-NEW", "garbage2", "dept2")


def test_deleting_a_grid_keeps_its_cases_without_a_grid(conn):
    case = _case(conn)
    conn.execute("UPDATE address SET grid_code = NULL WHERE grid_code = %s", (case.grid_code,))
    conn.execute("UPDATE facility SET grid_code = NULL WHERE grid_code = %s", (case.grid_code,))
    conn.execute("DELETE FROM grid WHERE code = %s", (case.grid_code,))
    assert conn.execute("SELECT grid_code, street_code FROM cases WHERE id = %s", (case.id,)).fetchone() == (
        None, case.street_code)


@pytest.mark.parametrize(("sql", "named"), [
    ("DELETE FROM case_category WHERE code = 'garbage'", "case_category 'garbage' is still referenced"),
    ("DELETE FROM department WHERE code = %(department)s", "department .* is still referenced"),
])
def test_referenced_parents_cannot_be_deleted(conn, sql, named):
    case = _case(conn)
    # A department only this case refers to (categories and rules refer to theirs by foreign key).
    department = "test_only"
    conn.execute("INSERT INTO department (code, name_zh, name_en) VALUES ('test_only', '测试', 'Test')")
    conn.execute("UPDATE cases SET department_code = %s WHERE id = %s", (department, case.id))
    conn.commit()
    with pytest.raises(ForeignKeyViolation, match=named):
        conn.execute(sql, {"department": department})
    conn.rollback()
    assert C.fetch_case(conn, case.id).department_code == department


def test_referenced_admin_area_cannot_be_deleted(conn):
    case = _case(conn)
    # A community only this case refers to (grids, addresses and facilities refer by foreign key).
    conn.execute("INSERT INTO admin_area (code, name, level, parent_code, geom) SELECT '310113999999', '测试社区', "
                 "'community', parent_code, geom FROM admin_area WHERE code = %s", (case.community_code,))
    conn.execute("UPDATE cases SET community_code = '310113999999' WHERE id = %s", (case.id,))
    conn.commit()
    with pytest.raises(ForeignKeyViolation, match="admin_area '310113999999' is still referenced"):
        conn.execute("DELETE FROM admin_area WHERE code = '310113999999'")
    conn.rollback()


def test_deleting_a_case_deletes_its_events_but_not_one_another_case_duplicates(conn):
    first, second = _case(conn), _case(conn)
    conn.execute("UPDATE cases SET duplicate_of = %s WHERE id = %s", (first.id, second.id))
    conn.commit()
    with pytest.raises(ForeignKeyViolation, match=f"case {first.id} is still referenced"):
        conn.execute("DELETE FROM cases WHERE id = %s", (first.id,))
    conn.rollback()
    conn.execute("DELETE FROM cases WHERE id = ANY(%s)", ([first.id, second.id],))
    assert conn.execute("SELECT count(*) FROM case_event WHERE case_id = ANY(%s)",
                        ([first.id, second.id],)).fetchone()[0] == 0


def test_truncating_a_parent_alone_is_refused_while_cases_remain(conn):
    _case(conn)
    conn.commit()
    # Refused either by the grid's check or, when CASCADE reaches cases through another table's
    # foreign key (warnings), by the cases check: cases never survive their grids' truncation.
    with pytest.raises(ForeignKeyViolation, match="cannot truncate (grid while cases refer to it|cases alone)"):
        conn.execute("TRUNCATE grid CASCADE")
    conn.rollback()
    with pytest.raises(ForeignKeyViolation, match="truncate case_event in the same statement"):
        conn.execute("TRUNCATE cases CASCADE")
    conn.rollback()
    conn.execute("TRUNCATE case_event, cases, facility, address, road, grid, admin_area CASCADE")
    assert conn.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_parent_key_changes_refuse_other_isolation_levels(conn):
    case = _case(conn)
    conn.commit()
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="needs READ COMMITTED"):
        conn.execute("UPDATE grid SET code = 'X' WHERE code = %s", (case.grid_code,))
    conn.rollback()


def test_a_case_cannot_refer_to_a_grid_deleted_concurrently(demo_db):
    """Parent delete first: the insert waits for it, then fails (no orphan)."""
    with demo_db.connect() as setup:
        grid = _place(setup)[2]
    with demo_db.connect() as deleter, demo_db.connect() as writer:
        deleter.execute("UPDATE address SET grid_code = NULL WHERE grid_code = %s", (grid,))
        deleter.execute("UPDATE facility SET grid_code = NULL WHERE grid_code = %s", (grid,))
        deleter.execute("DELETE FROM grid WHERE code = %s", (grid,))
        failure: list[BaseException] = []

        def insert():
            try:
                _raw_insert(writer, "RACE-1", grid_code=grid)
                writer.commit()
            except BaseException as exc:  # noqa: BLE001 (handed to the test thread)
                failure.append(exc)

        thread = threading.Thread(target=insert)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the insert must wait for the concurrent delete of its grid"
        deleter.commit()
        thread.join(10)
        assert failure and isinstance(failure[0], ForeignKeyViolation)
    with demo_db.connect() as check:
        assert check.execute("SELECT count(*) FROM cases WHERE code = 'RACE-1'").fetchone()[0] == 0


def test_a_grid_delete_waits_for_a_case_inserted_concurrently(demo_db):
    """Child insert first: the delete waits for it, then nulls the new case's grid (no orphan)."""
    with demo_db.connect() as setup:
        grid = _place(setup)[2]
    with demo_db.connect() as deleter, demo_db.connect() as writer:
        _raw_insert(writer, "RACE-2", grid_code=grid)
        done = threading.Event()

        def delete():
            deleter.execute("UPDATE address SET grid_code = NULL WHERE grid_code = %s", (grid,))
            deleter.execute("UPDATE facility SET grid_code = NULL WHERE grid_code = %s", (grid,))
            deleter.execute("DELETE FROM grid WHERE code = %s", (grid,))
            deleter.commit()
            done.set()

        thread = threading.Thread(target=delete)
        thread.start()
        assert not done.wait(0.5), "the delete must wait for the transaction that refers to the grid"
        writer.commit()
        thread.join(10)
        assert done.is_set()
    with demo_db.connect() as check:
        assert check.execute("SELECT grid_code FROM cases WHERE code = 'RACE-2'").fetchone() == (None,)
