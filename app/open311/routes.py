"""The Open311 GeoReport v2 blueprint (mount at ``/open311/v2``).

Views are thin: check the format extension, parse parameters, one call into
:mod:`app.open311.service` inside one pooled transaction, serialise. Every failure becomes the
spec's error body in the requested format: 404 unknown resource (including unknown paths and
format extensions), 403 api_key, 400 anything else wrong with the request.
"""

from __future__ import annotations

from flask import Blueprint, request

from app.open311 import service
from app.open311.errors import error_response, status_of
from app.open311.formats import FORMATS, respond
from app.open311.params import check_token, parse_intake, parse_request_query
from geodata.db import pooled
from geodata.errors import NotFound

URL_PREFIX = "/open311/v2"
_ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise NotFound(f"unknown format .{fmt}; use .json or .xml")
    return fmt


def _guess_format() -> str:
    """The format an error should use: the path's extension when it names one, else JSON."""
    return "xml" if request.path.endswith(".xml") else "json"


def _discovery(fmt):
    fmt = _format(fmt)
    return respond(fmt, service.discovery(request.host_url.rstrip("/") + URL_PREFIX), root="discovery", item=None)


def _services(fmt):
    fmt = _format(fmt)
    with pooled() as conn:
        body = service.list_services(conn)
    return respond(fmt, body, root="services", item="service")


def _service_definition(code, fmt):
    fmt = _format(fmt)
    with pooled() as conn:
        body = service.service_definition(conn, code)
    return respond(fmt, body, root="service_definition", item=None)


def _requests(fmt):
    fmt = _format(fmt)
    if request.method == "POST":
        intake = parse_intake(request.form)
        with pooled() as conn:
            body = service.post_request(conn, intake)
        return respond(fmt, body, root="service_requests", item="request", status=201)
    query = parse_request_query(request.args)
    with pooled() as conn:
        body = service.list_requests(conn, query)
    return respond(fmt, body, root="service_requests", item="request")


def _one_request(code, fmt):
    fmt = _format(fmt)
    with pooled() as conn:
        body = service.one_request(conn, code)
    return respond(fmt, body, root="service_requests", item="request")


def _token(token, fmt):
    fmt = _format(fmt)
    token = check_token(token)
    with pooled() as conn:
        body = service.token_lookup(conn, token)
    return respond(fmt, body, root="service_requests", item="request")


def _unknown(rest=""):
    raise NotFound(f"no Open311 resource at {request.path}")


def _error(exc: Exception):
    status, description = status_of(exc)
    return error_response(_guess_format(), status, description)


def build_blueprint() -> Blueprint:
    """A new Open311 blueprint (one per Flask app): register with ``url_prefix="/open311/v2"``."""
    bp = Blueprint("open311", __name__)
    bp.add_url_rule("/discovery.<fmt>", "discovery", _discovery)
    bp.add_url_rule("/services.<fmt>", "services", _services)
    bp.add_url_rule("/services/<code>.<fmt>", "service_definition", _service_definition)
    bp.add_url_rule("/requests.<fmt>", "requests", _requests, methods=["GET", "POST"])
    bp.add_url_rule("/requests/<code>.<fmt>", "one_request", _one_request)
    bp.add_url_rule("/tokens/<token>.<fmt>", "token", _token)
    # Anything else under the prefix (no extension, unknown path, other methods) is an unknown
    # resource answered in the spec's error shape rather than Flask's HTML pages.
    bp.add_url_rule("/", "unknown_root", _unknown, methods=_ALL_METHODS)
    bp.add_url_rule("/<path:rest>", "unknown", _unknown, methods=_ALL_METHODS)
    bp.register_error_handler(Exception, _error)
    return bp
