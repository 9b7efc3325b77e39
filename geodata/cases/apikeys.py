"""Open311 API keys: created once (plaintext shown once), stored as SHA-256 digests only."""

from __future__ import annotations

import hashlib
import secrets

import psycopg
from psycopg.rows import dict_row

from geodata.cases.model import CHANNELS
from geodata.errors import DuplicateCode, InvalidInput, NotFound

_INSERT = "INSERT INTO api_key (name, key_sha256, channel) VALUES (%s, %s, %s)"
_EXISTS = "SELECT 1 FROM api_key WHERE name = %s"
_VERIFY = "SELECT name, channel FROM api_key WHERE key_sha256 = %s AND revoked_at IS NULL"
_REVOKE = "UPDATE api_key SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL RETURNING id"
_LIST = "SELECT name, channel, created_at, revoked_at FROM api_key ORDER BY created_at, name"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(conn: psycopg.Connection, name: str, *, channel: str = "public") -> str:
    """Create a key called ``name`` for ``channel``; returns the plaintext key (shown once).

    Raises :class:`DuplicateCode` when the name is taken (revoked keys keep their name),
    :class:`InvalidInput` for an empty name or unknown channel. Never commits.
    """
    name = str(name or "").strip()
    if not name or len(name) > 100:
        raise InvalidInput("an API key needs a name of 1..100 characters")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; use one of {', '.join(CHANNELS)}")
    if conn.execute(_EXISTS, (name,)).fetchone():
        raise DuplicateCode(f"an API key named {name!r} already exists")
    key = "og_" + secrets.token_urlsafe(32)
    conn.execute(_INSERT, (name, _digest(key), channel))
    return key


def verify_api_key(conn: psycopg.Connection, key: str | None) -> dict | None:
    """``{"name", "channel"}`` of a valid key; ``None`` for unknown, revoked or empty keys."""
    if not key or not isinstance(key, str):
        return None
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_VERIFY, (_digest(key.strip()),)).fetchone()


def revoke_api_key(conn: psycopg.Connection, name: str) -> None:
    """Revoke the key called ``name`` (:class:`NotFound` when no active key has that name)."""
    if conn.execute(_REVOKE, (str(name or "").strip(),)).fetchone() is None:
        raise NotFound(f"no active API key named {name!r}")


def fetch_api_keys(conn: psycopg.Connection) -> list[dict]:
    """All keys (never their secrets): ``name, channel, created_at, revoked_at``."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_LIST).fetchall()
