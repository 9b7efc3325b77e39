"""Connections: where the database is, and one pool per process.

``ONEGRID_DATABASE_URL`` wins; otherwise the private cluster (see :mod:`geodata.cluster`)
is used over its unix socket. The pool is created lazily and re-created after a fork, so
gunicorn workers never share sockets.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg_pool import ConnectionPool

from geodata.errors import DatabaseUnavailable
from geodata.settings import Settings, get_settings

_lock = threading.Lock()
_pool: ConnectionPool | None = None
_pool_key: tuple | None = None


def database_dsn(settings: Settings | None = None, dbname: str | None = None) -> str:
    """Connection string for OneGrid's database (``dbname`` overrides the name)."""
    settings = settings or get_settings()
    if settings.database_url:
        dsn = settings.database_url
        return make_conninfo(dsn, dbname=dbname) if dbname else dsn
    from geodata.cluster import LocalCluster

    return LocalCluster(settings).admin_dsn(dbname or settings.db_name)


def describe_dsn(dsn: str) -> str:
    """The DSN without its password, for messages."""
    parts = conninfo_to_dict(dsn)
    parts.pop("password", None)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def connect(dsn: str | None = None, **kwargs) -> psycopg.Connection:
    """A fresh connection (for CLI commands and migrations).

    It waits at most ``ONEGRID_LOCK_TIMEOUT_S`` for a lock (then the statement fails with
    ``LockNotAvailable``; :func:`describe_busy` says who holds the locks), so a command run
    while another load holds its tables ends with a message instead of hanging.
    """
    dsn = dsn or database_dsn()
    timeout_ms = round(get_settings().lock_timeout_s * 1000)
    kwargs.setdefault("options", f"-c lock_timeout={timeout_ms}")
    try:
        return psycopg.connect(dsn, application_name="onegrid", **kwargs)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to {describe_dsn(dsn)}: {str(exc).strip()} (is it up? `onegrid db up`)"
        ) from exc


# Other sessions holding strong locks in this database, oldest transaction first (why a
# command gave up waiting). Row locks show as the holder's open transaction.
BUSY = """
SELECT a.pid, a.application_name, extract(epoch FROM now() - a.xact_start)::int AS open_s,
       left(regexp_replace(coalesce(a.query, ''), '[[:space:]]+', ' ', 'g'), 60) AS query,
       coalesce(string_agg(DISTINCT c.relname, ', ') FILTER (WHERE l.mode IN
           ('AccessExclusiveLock', 'ExclusiveLock', 'ShareRowExclusiveLock', 'ShareLock')), '') AS tables
  FROM pg_stat_activity a
  LEFT JOIN pg_locks l ON l.pid = a.pid AND l.granted AND l.relation IS NOT NULL
  LEFT JOIN pg_class c ON c.oid = l.relation AND c.relkind IN ('r', 'p')
 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.xact_start IS NOT NULL
 GROUP BY a.pid, a.application_name, a.xact_start, a.query
 ORDER BY (count(c.relname) FILTER (WHERE l.mode = 'AccessExclusiveLock') > 0) DESC, a.xact_start
 LIMIT 1"""


def describe_busy(dsn: str | None = None) -> str:
    """One line saying which session holds the locks a command gave up waiting for."""
    waited = f"waited {get_settings().lock_timeout_s:g} s, ONEGRID_LOCK_TIMEOUT_S"
    try:
        with psycopg.connect(dsn or database_dsn(), application_name="onegrid", connect_timeout=5) as conn:
            row = conn.execute(BUSY).fetchone()
    except psycopg.Error:
        row = None
    if row is None:
        return f"database busy: another session held a lock this command needs ({waited}); try again"
    pid, app, open_s, query, tables = row
    what = f"locks on {tables}" if tables else "rows this command needs"
    return (f"database busy: another session ({app or 'unnamed'}, pid {pid}, transaction open {open_s} s, "
            f"running: {query}) holds {what} ({waited}); try again when it has finished")


def get_pool(dsn: str | None = None) -> ConnectionPool:
    """This process's connection pool (created on first use, re-created after fork).

    The pool is keyed on the process, the explicit DSN and the settings object, so the hot
    path is a tuple comparison: the DSN (which for the private cluster means reading its
    state file) is worked out only when a pool is created.
    """
    global _pool, _pool_key
    settings = get_settings()
    key = (os.getpid(), dsn, settings)
    pool = _pool
    if pool is not None and _pool_key == key:
        return pool
    with _lock:
        if _pool is None or _pool_key != key:
            if _pool is not None and _pool_key[0] == os.getpid():
                _pool.close()
            _pool = ConnectionPool(
                dsn or database_dsn(settings),
                min_size=1,
                max_size=settings.pool_max,
                kwargs={"application_name": "onegrid-app"},
                open=True,
                timeout=10,
            )
            _pool_key = key
        return _pool


def close_pool() -> None:
    global _pool, _pool_key
    with _lock:
        if _pool is not None:
            _pool.close()
        _pool, _pool_key = None, None


@contextmanager
def pooled() -> Iterator[psycopg.Connection]:
    """Borrow a pooled connection; the block runs in one transaction."""
    try:
        with get_pool().connection() as conn:
            yield conn
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(f"database unavailable: {str(exc).strip()}") from exc
