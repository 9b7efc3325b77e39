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
    """A fresh connection (for CLI commands and migrations)."""
    dsn = dsn or database_dsn()
    try:
        return psycopg.connect(dsn, application_name="onegrid", **kwargs)
    except psycopg.OperationalError as exc:
        raise DatabaseUnavailable(
            f"cannot connect to {describe_dsn(dsn)}: {str(exc).strip()} (is it up? `onegrid db up`)"
        ) from exc


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
