"""``onegrid db up | down | status | migrate | reset``."""

from __future__ import annotations

import argparse

from geodata import migrate as migrations
from geodata.cases.batch_parallel import resolve_pending
from geodata.cluster import LocalCluster
from geodata.db import connect, database_dsn, describe_dsn
from geodata.errors import InvalidInput
from geodata.inventory import fetch_postgis_version, fetch_table_counts
from geodata.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="the database: private cluster lifecycle and migrations")
    dbsub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbsub.add_parser("up", help="initialise and start the private cluster (idempotent)").set_defaults(func=cmd_up)
    dbsub.add_parser("down", help="stop the private cluster").set_defaults(func=cmd_down)
    dbsub.add_parser("status", help="where the database is and what it holds").set_defaults(func=cmd_status)
    dbsub.add_parser("migrate", help="apply pending migrations").set_defaults(func=cmd_migrate)
    reset = dbsub.add_parser("reset", help="drop all OneGrid data and re-apply migrations")
    reset.add_argument("--yes", action="store_true", help="required: confirms that all data goes")
    reset.set_defaults(func=cmd_reset)


def cmd_up(args) -> int:
    settings = get_settings()
    if settings.database_url:
        with connect() as conn:
            conn.execute("SELECT 1")
        print(f"using external database {describe_dsn(settings.database_url)} (no private cluster)")
        return 0
    state = LocalCluster(settings).up()
    print(f"private PostgreSQL up: socket {state.socket_dir}, port {state.port}, database {settings.db_name}")
    return 0


def cmd_down(args) -> int:
    settings = get_settings()
    if settings.database_url:
        print("ONEGRID_DATABASE_URL is set: there is no private cluster to stop")
        return 0
    stopped = LocalCluster(settings).down()
    print("private PostgreSQL stopped" if stopped else "private PostgreSQL was not running")
    return 0


def cmd_status(args) -> int:
    settings = get_settings()
    if not settings.database_url:
        cluster = LocalCluster(settings)
        state = cluster.state()
        running = cluster.is_running()
        print(f"private cluster: {'running' if running else 'stopped'}"
              + (f" (data {state.pgdata}, port {state.port})" if state else " (not initialised)"))
        if not running:
            return 1
    with connect() as conn:
        version = fetch_postgis_version(conn)
        done = migrations.applied(conn)
        pending = [m.version for m in migrations.available() if m.version not in done]
        print(f"database: {describe_dsn(database_dsn())}")
        print(f"postgis: {version}")
        print(f"migrations: {len(done)} applied, {len(pending)} pending")
        for table, n in fetch_table_counts(conn).items():
            print(f"  {table}: {n}")
    return 0


def cmd_migrate(args) -> int:
    with connect() as conn:
        done = migrations.migrate(conn)
    if not done:
        print("migrations: up to date")
    with connect(autocommit=True) as conn:
        settled = resolve_pending(conn)
    if settled:
        print(f"settled {settled} half of a batch case import left prepared by a crash")
    return 0


def cmd_reset(args) -> int:
    if not args.yes:
        raise InvalidInput("db reset deletes all OneGrid data; run again with --yes to confirm")
    settings = get_settings()
    if settings.database_url:
        with connect(autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    else:
        cluster = LocalCluster(settings)
        cluster.up()
        cluster.drop_database(settings.db_name)
        cluster.create_database(settings.db_name)
    with connect() as conn:
        migrations.migrate(conn)
    print("database reset: empty and migrated")
    return 0
