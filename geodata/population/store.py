"""Bulk writer of households, residents and tags (the demo's 2.2 million residents).

:func:`copy_population` draws ids up front, COPYs the three tables in binary and rebuilds
the published counts (:mod:`geodata.population.publish`), all in the caller's transaction;
nothing commits. CSV imports go through :mod:`geodata.population.residents_import`.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql

from geodata.errors import ImportRejected, Problem
from geodata.population import sql as Q
from geodata.population.copy import copy_columns

#: From this many rows a load drops and re-adds the foreign keys instead of checking per row.
BULK_ROWS = 200_000


def reserve_ids(conn: psycopg.Connection, table: str, n: int) -> int:
    """Draw ``n`` consecutive ids of ``table`` (``household`` or ``resident``); returns the first.

    Takes a SHARE ROW EXCLUSIVE lock on the table until the transaction ends.
    """
    conn.execute(Q.LOCK_HOUSEHOLD if table == "household" else Q.LOCK_RESIDENT)
    first = conn.execute(Q.RESERVE[table]).fetchone()[0]
    if n > 1:
        conn.execute(Q.RESERVE_END[table], (first + n - 1,))
    return first


def _alter(conn: psycopg.Connection, table: str, action: str, name: str, definition: str = "") -> None:
    """``ALTER TABLE table action name [definition]``; names and definitions are fixed constants."""
    conn.execute(sql.SQL("ALTER TABLE {} " + action + " {} " + definition).format(  # noqa: S608
        sql.Identifier(table), sql.Identifier(name)))


@contextmanager
def bulk_keys(conn: psycopg.Connection, tables: tuple[str, ...], rows: int):
    """For big loads: drop the tables' keys, indexes and foreign keys, and build them again on
    the way out (validating every row). Smaller loads keep them and are checked per row."""
    if rows < BULK_ROWS:
        yield
        return
    conn.execute(Q.MAINTENANCE_MEMORY)
    for table in tables:
        for name in Q.BULK_FKS[table]:
            _alter(conn, table, "DROP CONSTRAINT", name)
    for table in tables:
        for name in Q.BULK_INDEXES[table]:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
        for name in Q.BULK_KEYS[table]:
            _alter(conn, table, "DROP CONSTRAINT", name)
    yield
    try:
        for table in tables:
            for name, definition in Q.BULK_KEYS[table].items():
                _alter(conn, table, "ADD CONSTRAINT", name, definition)
            for name, definition in Q.BULK_INDEXES[table].items():
                conn.execute(sql.SQL("CREATE " + definition).format(sql.Identifier(name), sql.Identifier(table)))
        for table in tables:
            for name, definition in Q.BULK_FKS[table].items():
                _alter(conn, table, "ADD CONSTRAINT", name, definition)
    except (psycopg.errors.ForeignKeyViolation, psycopg.errors.UniqueViolation) as exc:
        raise ImportRejected([Problem(table, exc.diag.message_detail or str(exc))]) from exc


def copy_population(conn: psycopg.Connection, households: pd.DataFrame, residents: pd.DataFrame,
                    tags: pd.DataFrame, *, publish: bool = True) -> dict[str, int]:
    """Insert households, residents and their tags given as frames of row indexes.

    Parameters
    ----------
    households : columns ``address_id`` (int), ``size``, ``kind``, ``street_code``.
    residents : ``household`` (row position in ``households``), ``birth_year``, ``sex`` ('M'/'F').
    tags : ``resident`` (row position in ``residents``), ``tag`` (a ``population_tag`` code).
    publish : rebuild the published counts afterwards (the layer reads only those).

    Returns rows written per table. Raises :class:`ImportRejected` when a key does not exist.
    """
    n_h, n_r = len(households), len(residents)
    h0 = reserve_ids(conn, "household", n_h) if n_h else 0
    r0 = reserve_ids(conn, "resident", n_r) if n_r else 0
    hh = residents["household"].to_numpy()
    h_addr = households["address_id"].to_numpy(np.int64)
    h_street = households["street_code"].to_numpy(object)
    with bulk_keys(conn, ("household", "resident", "resident_tag"), n_r):
        copy_columns(conn, Q.COPY_HOUSEHOLD, [
            (h0 + np.arange(n_h, dtype=np.int64), "int8"), (h_addr, "int8"),
            (households["size"].to_numpy(np.int16), "int2"), (h_street, "text"),
            (households["kind"].to_numpy(object), "text")])
        copy_columns(conn, Q.COPY_RESIDENT, [
            (r0 + np.arange(n_r, dtype=np.int64), "int8"), (h0 + hh.astype(np.int64), "int8"),
            (h_addr[hh], "int8"), (h_street[hh], "text"),
            (residents["birth_year"].to_numpy(np.int16), "int2"), (residents["sex"].to_numpy(object), "text")])
        copy_columns(conn, Q.COPY_RESIDENT_TAG, [
            (r0 + tags["resident"].to_numpy(np.int64), "int8"), (tags["tag"].to_numpy(object), "text")])
    counts = {"household": n_h, "resident": n_r, "resident_tag": len(tags)}
    if publish:
        from geodata.population.publish import rebuild_published

        rebuild_published(conn)
    return counts


def address_ids(conn: psycopg.Connection, codes) -> pd.DataFrame:
    """``id`` and ``street_code`` of addresses by code (index: code)."""
    rows = conn.execute(Q.ADDRESS_IDS).fetchall()  # all of them: one scan beats a 150,000-code ANY()
    frame = pd.DataFrame(rows, columns=["code", "id", "street_code"]).set_index("code")
    return frame[frame.index.isin(pd.unique(pd.Series(codes, dtype=object)))]
