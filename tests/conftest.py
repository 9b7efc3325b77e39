"""Test fixtures: a real PostGIS, isolated per test by cloning migrated template databases.

The session starts the private cluster (or uses ONEGRID_DATABASE_URL, which then needs
CREATEDB rights), builds a migrated template once, and every test that asks for a database
gets its own clone. A database that cannot be reached fails the run; nothing is skipped.
Template names carry the pytest process id, so concurrent runs never touch each other's.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from geodata import migrate
from geodata.cluster import LocalCluster
from geodata.db import close_pool
from geodata.settings import get_settings, load_settings

PREFIX = "onegrid_t"
_NAME = re.compile(rf"^{PREFIX}(\d+)_")


@dataclass
class TestDB:
    """A throw-away database: its name, DSN and a way to connect."""

    __test__ = False  # not a test class
    name: str
    dsn: str

    def connect(self, **kwargs) -> psycopg.Connection:
        return psycopg.connect(self.dsn, **kwargs)

    def count(self, table: str) -> int:
        with self.connect() as conn:
            return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


class Server:
    """Creates and drops test databases on the cluster under test."""

    def __init__(self):
        settings = load_settings()
        if settings.database_url:
            self._url = settings.database_url
            self.admin_dsn = make_conninfo(self._url, dbname="postgres")
        else:
            cluster = LocalCluster(settings)
            cluster.up()
            self._url = cluster.admin_dsn()
            self.admin_dsn = cluster.admin_dsn("postgres")
        self.pid = os.getpid()
        self._drop_leftovers()

    def dsn(self, name: str) -> str:
        return make_conninfo(self._url, dbname=name)

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(self.admin_dsn, autocommit=True)

    def _drop_leftovers(self) -> None:
        """Drop test databases left by runs whose process is gone."""
        with self._admin() as conn:
            for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (PREFIX + "%",)):
                m = _NAME.match(name)
                if m and not os.path.exists(f"/proc/{m.group(1)}"):
                    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def create(self, label: str, template: str | None = None) -> TestDB:
        name = f"{PREFIX}{self.pid}_{label}_{uuid.uuid4().hex[:8]}"
        stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
        with self._admin() as conn:
            conn.execute(stmt)
        return TestDB(name, self.dsn(name))

    def drop(self, db: TestDB) -> None:
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db.name)))


@pytest.fixture(scope="session")
def pg_server():
    server = Server()
    yield server
    close_pool()
    server._drop_leftovers()
    with server._admin() as conn:
        for (name,) in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{PREFIX}{server.pid}_%",)
        ):
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def migrated_template(pg_server) -> TestDB:
    """A database with every migration applied, used as a template."""
    tpl = pg_server.create("tpl")
    with tpl.connect() as conn:
        migrate.migrate(conn, log=lambda *_: None)
    return tpl


@pytest.fixture(scope="session")
def demo_template(pg_server, migrated_template) -> TestDB:
    """The migrated template plus the small demo district (seed 42)."""
    from geodata.demo import load_demo

    tpl = pg_server.create("demotpl", template=migrated_template.name)
    with tpl.connect() as conn:
        with conn.transaction():
            load_demo(conn, scale="small", seed=42)
        conn.execute("ANALYZE")
    return tpl


def _use(db: TestDB, monkeypatch) -> None:
    """Point OneGrid's settings, pool and CLI at ``db`` for one test."""
    close_pool()
    monkeypatch.setenv("ONEGRID_DATABASE_URL", db.dsn)
    get_settings.cache_clear()


@pytest.fixture
def empty_db(pg_server, migrated_template, monkeypatch) -> TestDB:
    db = pg_server.create("empty", template=migrated_template.name)
    _use(db, monkeypatch)
    yield db
    close_pool()
    get_settings.cache_clear()
    pg_server.drop(db)


@pytest.fixture
def demo_db(pg_server, demo_template, monkeypatch) -> TestDB:
    db = pg_server.create("demo", template=demo_template.name)
    _use(db, monkeypatch)
    yield db
    close_pool()
    get_settings.cache_clear()
    pg_server.drop(db)
