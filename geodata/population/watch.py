"""Keep a dashboard process's copy of the published counts current in the background.

A thread reads every layer once when the worker starts, then waits (LISTEN, no polling) for the
notification each change of ``population_cell`` sends at commit (migration 0017) and reads them
again, so the first map request after a publication finds its layer already cached. Requests
never wait for it: they check the publication stamp themselves and read a layer the warmer has
not reached yet (:func:`geodata.population.read.fetch_published_layer`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import psycopg

from geodata.db import connect, database_dsn
from geodata.errors import OneGridError
from geodata.population import sql as Q

log = logging.getLogger(__name__)

#: How long the thread waits for a notification before it checks whether it should stop (s).
WAIT_S = 5.0
#: Pause before reconnecting after the database went away (s).
RETRY_S = 10.0


def watch_publications(warm: Callable[[psycopg.Connection], object], stop: threading.Event,
                       dsn: str | None = None) -> None:
    """Call ``warm(conn)`` now and after every committed change of the published counts, until
    ``stop`` is set. Notifications that arrive while it warms are collapsed into one more call.
    A lost connection is retried every :data:`RETRY_S` seconds; other errors are logged."""
    while not stop.is_set():
        try:
            with connect(dsn, autocommit=True) as conn:
                conn.execute(Q.LISTEN_CELLS)  # before the read: a publication after it is heard
                _warm(warm, conn)
                while not stop.is_set():
                    heard = any(True for _ in conn.notifies(timeout=WAIT_S, stop_after=1))
                    if heard and not stop.is_set():
                        list(conn.notifies(timeout=0.01))  # the rest of a burst: one read for all
                        _warm(warm, conn)
        except (psycopg.OperationalError, OneGridError) as exc:
            log.warning("population warmer: %s; retrying in %.0f s", str(exc).strip(), RETRY_S)
            stop.wait(RETRY_S)


def _warm(warm: Callable[[psycopg.Connection], object], conn: psycopg.Connection) -> None:
    try:
        warm(conn)
    except psycopg.OperationalError:
        raise
    except Exception:  # noqa: BLE001 - a bad read must not end the thread; requests read for themselves
        log.exception("population warmer: reading the published counts failed")


def start_watcher(warm: Callable[[psycopg.Connection], object], dsn: str | None = None) -> threading.Event:
    """Run :func:`watch_publications` in a daemon thread; set the returned event to stop it. The
    database is the one configured now (``dsn`` or the settings'), even if the settings change."""
    stop = threading.Event()
    threading.Thread(target=watch_publications, args=(warm, stop, dsn or database_dsn()),
                     name="onegrid-population-warmer", daemon=True).start()
    return stop
