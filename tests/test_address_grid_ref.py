"""address.grid_code → grid, enforced per statement (migration 0016) instead of a foreign key.

The set-based check must keep every promise the foreign key made: unknown grids refused (the
whole statement, nothing written), key changes cascaded, grid deletes nulled, no dangling grid
after TRUNCATE, and no orphan under concurrency.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

ForeignKeyViolation = psycopg.errors.ForeignKeyViolation
SOME = "SELECT id, grid_code FROM address WHERE grid_code IS NOT NULL ORDER BY id LIMIT 1"


@pytest.fixture
def conn(demo_db):
    with demo_db.connect() as c:
        yield c


def test_unknown_grid_is_refused_for_the_whole_statement(conn):
    before = conn.execute("SELECT id, grid_code FROM address ORDER BY id").fetchall()
    ids = [r[0] for r in before[:10]]
    with pytest.raises(ForeignKeyViolation, match="grid 'bogus' does not exist"):
        conn.execute("UPDATE address SET grid_code = CASE WHEN id = %s THEN 'bogus' ELSE grid_code END "
                     "WHERE id = ANY(%s)", (ids[5], ids))
    conn.rollback()
    with pytest.raises(ForeignKeyViolation, match="grid 'nowhere' does not exist"):
        conn.execute("INSERT INTO address (full_text, grid_code, h3_r7, h3_r8, h3_r9, h3_r10, geom) "
                     "SELECT 'x', 'nowhere', h3_r7, h3_r8, h3_r9, h3_r10, geom FROM address WHERE id = %s",
                     (ids[0],))
    conn.rollback()
    assert conn.execute("SELECT id, grid_code FROM address ORDER BY id").fetchall() == before


def test_grid_code_change_cascades_and_delete_nulls(conn):
    address, grid = conn.execute(SOME).fetchone()
    n = conn.execute("SELECT count(*) FROM address WHERE grid_code = %s", (grid,)).fetchone()[0]
    conn.execute("UPDATE grid SET code = %s WHERE code = %s", (grid + "9", grid))
    assert conn.execute("SELECT count(*) FROM address WHERE grid_code = %s", (grid + "9",)).fetchone()[0] == n
    assert conn.execute("SELECT grid_code FROM address WHERE id = %s", (address,)).fetchone() == (grid + "9",)
    conn.execute("DELETE FROM grid WHERE code = %s", (grid + "9",))
    assert conn.execute("SELECT grid_code FROM address WHERE id = %s", (address,)).fetchone() == (None,)


def test_truncated_grids_leave_no_address_pointing_at_them(conn):
    total = conn.execute("SELECT count(*) FROM address").fetchone()[0]
    conn.execute("TRUNCATE case_event, cases, grid CASCADE")
    assert conn.execute("SELECT count(*), count(grid_code) FROM address").fetchone() == (total, 0)


def test_grid_deletes_refuse_other_isolation_levels(conn):
    grid = conn.execute(SOME).fetchone()[1]
    conn.commit()
    conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="needs READ COMMITTED"):
        conn.execute("DELETE FROM grid WHERE code = %s", (grid,))
    conn.rollback()


def test_an_address_cannot_take_a_grid_deleted_concurrently(demo_db):
    """Parent delete first: the update waits for it, then fails (no orphan)."""
    with demo_db.connect() as setup:
        address, grid = setup.execute(SOME).fetchone()
        other = setup.execute("SELECT id FROM address WHERE grid_code IS DISTINCT FROM %s ORDER BY id LIMIT 1",
                              (grid,)).fetchone()[0]
    with demo_db.connect() as deleter, demo_db.connect() as writer:
        deleter.execute("DELETE FROM cases WHERE grid_code = %s", (grid,))
        deleter.execute("DELETE FROM grid WHERE code = %s", (grid,))
        failure: list[BaseException] = []

        def update():
            try:
                writer.execute("UPDATE address SET grid_code = %s WHERE id = %s", (grid, other))
                writer.commit()
            except BaseException as exc:  # noqa: BLE001 (handed to the test thread)
                failure.append(exc)

        thread = threading.Thread(target=update)
        thread.start()
        time.sleep(0.5)
        assert thread.is_alive(), "the update must wait for the concurrent delete of its grid"
        deleter.commit()
        thread.join(10)
        assert failure and isinstance(failure[0], ForeignKeyViolation)
    with demo_db.connect() as check:
        assert check.execute("SELECT count(*) FROM address WHERE grid_code = %s", (grid,)).fetchone()[0] == 0
        assert check.execute("SELECT grid_code FROM address WHERE id = %s", (address,)).fetchone() == (None,)
