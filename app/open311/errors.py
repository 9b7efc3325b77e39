"""Open311 error answers: OneGrid errors and HTTP errors mapped to the spec's statuses.

The spec knows three: 404 unknown resource, 403 missing or bad ``api_key``, 400 anything else
wrong with the request. The body is a list of ``{code, description}`` (``code`` is the HTTP
status), in the format the client asked for.
"""

from __future__ import annotations

import logging

import psycopg
from werkzeug.exceptions import HTTPException

from app.open311.formats import respond
from geodata.errors import DatabaseUnavailable, NotFound, OneGridError

log = logging.getLogger(__name__)


class Forbidden(OneGridError):
    """The ``api_key`` is missing, unknown or revoked."""

    status = 403
    code = "forbidden"


def error_response(fmt: str, status: int, description: str):
    """The spec error body ``[{code, description}]`` with ``status``."""
    body = [{"code": status, "description": description}]
    return respond(fmt, body, root="errors", item="error", status=status)


def status_of(exc: Exception) -> tuple[int, str]:
    """(HTTP status, description) for an exception raised while serving an Open311 call.

    ``NotFound`` stays 404, ``Forbidden`` 403, a database outage 503; every other OneGrid error
    is the caller's bad request (400). Werkzeug HTTP errors keep their status (e.g. 405, 413).
    Anything else is a bug: logged with its traceback and answered 500 with the spec body.
    """
    if isinstance(exc, NotFound | Forbidden | DatabaseUnavailable):
        return exc.status, exc.message
    if isinstance(exc, OneGridError):
        return 400, exc.message
    if isinstance(exc, psycopg.errors.UndefinedTable):
        log.error("Open311: %s", exc)
        return 503, "the case tables are missing: the operator must run `onegrid db migrate`"
    if isinstance(exc, HTTPException):
        return exc.code or 400, exc.description or exc.name
    log.exception("Open311 internal error")
    return 500, "internal error (logged on the server)"
