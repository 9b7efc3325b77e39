"""A second backend for batch case imports, committed exactly when the caller's transaction is.

PostgreSQL runs a statement on one core, so :func:`geodata.cases.batch.write_cases` can
hand the second half of a big batch to a second connection and insert both halves at once.
That half is a transaction of its own. To keep the import all or nothing it is prepared
(``PREPARE TRANSACTION``: durable, undecided) and the caller's transaction decides it: the
caller's half inserts a ``case_import_batch`` row naming the prepared transaction (migration
0012). After the caller's transaction has ended the row exists exactly when it committed, so
the second half is then committed (``COMMIT PREPARED``) or rolled back. A crash in between
leaves a prepared transaction that :func:`resolve_pending` decides by the same rule; the gid
carries the caller's transaction id, so a caller still running is left alone.

Readers may see the first half a few milliseconds before the second (two transactions commit
one after the other); on any failure neither half is written. Without prepared transactions
(``max_prepared_transactions = 0``), or for small batches, everything runs on the caller's
connection.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from psycopg.pq import TransactionStatus

from geodata.cases import batch_sql as Q
from geodata.db import connect
from geodata.errors import Problem

#: Batches smaller than this stay on one backend (a second connection and a prepare cost ~20 ms).
PARALLEL_FROM = 5000


def _decide(conn: psycopg.Connection, gid: str) -> bool:
    """Commit or roll back prepared ``gid`` by its marker row (``conn`` in autocommit); True if committed."""
    committed = conn.execute(Q.MARKER_EXISTS, (gid,)).fetchone()[0]
    try:
        conn.execute(sql.SQL(Q.FINISH_PREPARED[committed]).format(sql.Literal(gid)))
    except psycopg.errors.UndefinedObject:
        pass  # already decided by resolve_pending in another session (the same way)
    return committed


def resolve_pending(conn: psycopg.Connection) -> int:
    """Decide prepared import halves whose caller's transaction has ended; returns how many.

    ``conn`` must be in autocommit mode (``COMMIT PREPARED`` cannot run in a transaction).
    """
    done = 0
    for gid, status in conn.execute(Q.PENDING_HALVES).fetchall():
        if status != "in progress":
            _decide(conn, gid)
            done += 1
    return done


class SecondBackend:
    """The second connection of one import; see :func:`second_backend`."""

    def __init__(self, main: psycopg.Connection, min_rows: int):
        self.main, self.min_rows = main, min_rows
        self.conn: psycopg.Connection | None = None
        self.gid: str | None = None
        #: Cases the second half wrote per street (the caller's connection cannot see them yet).
        self.groups: dict[str | None, int] = {}

    def _usable(self, n: int) -> bool:
        if n < self.min_rows or self.gid is not None:
            return False
        return int(self.main.execute(Q.MAX_PREPARED).fetchone()[0]) > 0

    def load(self, load_rows: Callable, rows: list[tuple], *, events: bool, actor: str) -> tuple[int, list[Problem]]:
        """Load the first half of ``rows`` on the caller's connection and the second half here,
        at the same time; prepare the second half and mark it in the caller's transaction."""
        if not self._usable(len(rows)):
            return load_rows(self.main, rows, events=events, actor=actor)
        info = self.main.info
        self.conn = connect(make_conninfo(info.dsn, password=info.password), autocommit=True)
        resolve_pending(self.conn)
        self.conn.autocommit = False
        half = len(rows) // 2
        with ThreadPoolExecutor(max_workers=1) as pool:
            second = pool.submit(self._load_second, load_rows, rows[half:], events=events, actor=actor)
            try:
                first = load_rows(self.main, rows[:half], events=events, actor=actor)
            except BaseException:
                self.conn.cancel()  # the caller's half failed: stop the other one, then roll it back
                with suppress(BaseException):
                    second.result()
                self.conn.rollback()
                raise
            try:
                other = second.result()
            except BaseException:
                self.conn.rollback()
                raise
        written, outside = first[0] + other[0], first[1] + other[1]
        if outside:
            self.conn.rollback()
            return 0, outside
        xid = self.main.execute(Q.CURRENT_XID).fetchone()[0]
        gid = f"onegrid-cases:{xid}:{uuid.uuid4().hex}"
        self.conn.execute(sql.SQL(Q.PREPARE).format(sql.Literal(gid)))
        self.gid = gid
        self.conn.autocommit = True
        self.main.execute(Q.INSERT_MARKER, (self.gid, actor, other[0]))
        return written, []

    def _load_second(self, load_rows: Callable, rows: list[tuple], **kwargs) -> tuple[int, list[Problem]]:
        """``load_rows`` on the second connection, staging in a schema of its own (dropped again)."""
        schema = f"og_import_{uuid.uuid4().hex}"
        self.conn.execute(sql.SQL(Q.CREATE_SCRATCH).format(sql.Identifier(schema)))
        self.conn.execute(Q.SCRATCH_PATH, (schema,))
        written, outside = load_rows(self.conn, rows, temp=False, **kwargs)
        self.groups = dict(self.conn.execute(Q.ROUTED_BY_STREET).fetchall())
        self.conn.execute(sql.SQL(Q.DROP_SCRATCH).format(sql.Identifier(schema)))
        return written, outside

    def finish(self) -> None:
        """Decide the prepared half by the caller's transaction, which must have ended."""
        try:
            if self.gid is not None:
                if self.main.info.transaction_status != TransactionStatus.IDLE:
                    self.main.rollback()  # used inside the caller's transaction: undecidable, so nothing
                _decide(self.conn, self.gid)
        finally:
            if self.conn is not None:
                self.conn.close()


@contextmanager
def second_backend(conn: psycopg.Connection, *, min_rows: int | None = None) -> Iterator[SecondBackend]:
    """A second backend for ``write_cases(conn, …, helper=…)``; wrap it around the transaction::

        with second_backend(conn) as helper:
            with conn.transaction():
                write_cases(conn, frame, helper=helper)

    On leaving, the second half commits if the caller's transaction committed, else it is
    rolled back; should it still be open, it is rolled back first (undecided means not written).
    Batches under ``min_rows`` (default :data:`PARALLEL_FROM`) use ``conn`` alone.
    """
    helper = SecondBackend(conn, PARALLEL_FROM if min_rows is None else min_rows)
    try:
        yield helper
    finally:
        helper.finish()
