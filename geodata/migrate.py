"""Numbered plain-SQL migrations, each applied in one transaction and recorded.

Files live in ``geodata/migrations/NNNN_name.sql``. A migration that fails leaves the
database exactly as before it (its transaction rolls back) and stops the run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x0E6121D  # advisory lock: one migrator at a time


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path


def available() -> list[Migration]:
    out = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        m = _NAME.match(path.name)
        if not m:
            raise RuntimeError(f"badly named migration {path.name} (want NNNN_name.sql)")
        out.append(Migration(int(m.group(1)), m.group(2), path))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise RuntimeError("two migrations share a number")
    return out


def _ensure_table(conn: psycopg.Connection) -> None:
    conn.execute(
        """CREATE TABLE IF NOT EXISTS schema_migrations (
               version integer PRIMARY KEY,
               name text NOT NULL,
               applied_at timestamptz NOT NULL DEFAULT now())"""
    )


def applied(conn: psycopg.Connection) -> list[int]:
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()[0]
    if not exists:
        return []
    return [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]


def migrate(conn: psycopg.Connection, *, log=print) -> list[Migration]:
    """Apply every pending migration; returns those applied now."""
    done: list[Migration] = []
    for mig in available():
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            _ensure_table(conn)
            if conn.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (mig.version,)).fetchone():
                continue
            conn.execute(mig.path.read_text())
            conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (mig.version, mig.name)
            )
        log(f"applied migration {mig.version:04d}_{mig.name}")
        done.append(mig)
    return done
