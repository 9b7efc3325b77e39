"""Parsing and checking Open311 request parameters (the API boundary).

Everything a client sends is checked here or by :func:`geodata.cases.create_case`; a bad value
raises :class:`~geodata.errors.InvalidInput` (answered 400) naming the parameter. Coordinates
are WGS-84 degrees, ``long`` = longitude, ``lat`` = latitude.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from werkzeug.datastructures import MultiDict

from app.open311.errors import Forbidden
from geodata.errors import InvalidCoordinate, InvalidInput, NotFound

#: Longest span a GET requests window may cover, and the default window (the spec's 90 days).
MAX_WINDOW = timedelta(days=90)
#: Most requests one GET answers (the spec's 1,000).
MAX_REQUESTS = 1000
#: Longest value accepted for the short text fields.
MAX_FIELD = {"email": 254, "device_id": 200, "account_id": 200, "first_name": 100, "last_name": 100,
             "phone": 40, "media_url": 2000, "address_string": 200, "jurisdiction_id": 100}

_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
# Control characters other than tab/newline/carriage return: never part of a real report,
# and XML 1.0 cannot carry them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SERVICE_CODE = re.compile(r"^[a-z0-9_]{1,40}$")


@dataclass(frozen=True)
class Intake:
    """A checked POST requests call. ``lon``/``lat`` are None when the location is an address."""

    api_key: str
    service_code: str
    lon: float | None = None
    lat: float | None = None
    address_string: str | None = None
    address_id: int | None = None
    description: str = ""
    media_url: str | None = None
    attributes: dict = field(default_factory=dict)
    reporter: dict = field(default_factory=dict)
    account_id: str | None = None


@dataclass(frozen=True)
class RequestQuery:
    """A checked GET requests call: codes override every other filter."""

    codes: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[str, ...] | None = None


def _single(form: MultiDict, name: str) -> str | None:
    """One text parameter, stripped; None when absent or empty; 400 when given twice or unclean."""
    values = form.getlist(name)
    if len(values) > 1:
        raise InvalidInput(f"{name} is given {len(values)} times; send it once")
    value = values[0].strip() if values else ""
    if not value:
        return None
    if _CONTROL.search(value):
        raise InvalidInput(f"{name} contains control characters")
    limit = MAX_FIELD.get(name)
    if limit and len(value) > limit:
        raise InvalidInput(f"{name} is too long ({len(value)} characters, at most {limit})")
    return value


def _float(form: MultiDict, name: str) -> float | None:
    value = _single(form, name)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise InvalidCoordinate(f"{name} must be a number in decimal degrees (WGS-84), got {value!r}") from None
    if not math.isfinite(number):
        raise InvalidCoordinate(f"{name} must be a finite number, got {value!r}")
    return number


def _attributes(form: MultiDict) -> dict:
    """``attribute[CODE]=value`` pairs; a repeated code or ``attribute[CODE][]`` gives a list."""
    attributes: dict = {}
    for key in form.keys():
        m = _ATTRIBUTE.match(key)
        if not m:
            continue
        values = [v.strip() for v in form.getlist(key)]
        if any(_CONTROL.search(v) or len(v) > 1000 for v in values):
            raise InvalidInput(f"attribute {m.group(1)}: value has control characters or is over 1000 characters")
        values = [v for v in values if v]
        if not values:
            continue
        listed = m.group(2) is not None or len(values) > 1
        previous = attributes.get(m.group(1), [])
        previous = previous if isinstance(previous, list) else [previous]
        attributes[m.group(1)] = previous + values if (listed or previous) else values[0]
    return attributes


def _reporter(form: MultiDict) -> dict:
    first, last = _single(form, "first_name"), _single(form, "last_name")
    name = " ".join(p for p in (first, last) if p) or None
    reporter = {"name": name, "phone": _single(form, "phone"), "email": _single(form, "email"),
                "account_id": _single(form, "account_id"), "device_id": _single(form, "device_id")}
    if reporter["email"] and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", reporter["email"]):
        raise InvalidInput(f"email {reporter['email']!r} is not an e-mail address")
    return {k: v for k, v in reporter.items() if v is not None}


def parse_intake(form: MultiDict) -> Intake:
    """Check a POST requests form (``application/x-www-form-urlencoded``).

    The ``api_key`` is checked for presence first (403), then ``service_code`` and the
    location: ``lat`` + ``long``, or ``address_string``, or ``address_id`` (one of them).
    """
    api_key = _single(form, "api_key")
    if api_key is None:
        raise Forbidden("api_key is required")
    service_code = _single(form, "service_code")
    if service_code is None:
        raise InvalidInput("service_code is required")
    if not _SERVICE_CODE.match(service_code):
        raise InvalidInput(f"service_code {service_code!r} is not a known service (see services.json)")
    lat, lon = _float(form, "lat"), _float(form, "long")
    if (lat is None) != (lon is None):
        raise InvalidCoordinate("lat and long must be given together (WGS-84 decimal degrees)")
    address_string = _single(form, "address_string")
    address_id = _single(form, "address_id")
    if address_id is not None:
        if not address_id.isdigit() or len(address_id) > 18:
            raise InvalidInput(f"address_id must be a standard address id (a whole number), got {address_id!r}")
        address_id = int(address_id)
    if lat is None and address_string is None and address_id is None:
        raise InvalidInput("a location is required: lat and long, address_string or address_id")
    description = form.get("description", "")
    if _CONTROL.search(description):
        raise InvalidInput("description contains control characters")
    media_url = _single(form, "media_url")
    if media_url and not re.match(r"^https?://[^\s/]+", media_url, re.IGNORECASE):
        raise InvalidInput("media_url must be an http:// or https:// URL")
    reporter = _reporter(form)
    return Intake(api_key=api_key, service_code=service_code, lon=lon, lat=lat, address_string=address_string,
                  address_id=address_id, description=description.strip(), media_url=media_url,
                  attributes=_attributes(form), reporter=reporter, account_id=reporter.get("account_id"))


def _codes(args: MultiDict, name: str, limit: int) -> tuple[str, ...] | None:
    value = _single(args, name)
    if value is None:
        return None
    codes = tuple(dict.fromkeys(c.strip() for c in value.split(",") if c.strip()))
    if not codes:
        return None
    if len(codes) > limit:
        raise InvalidInput(f"{name} lists {len(codes)} values; at most {limit}")
    return codes


def parse_datetime(value: str, name: str) -> datetime:
    """An ISO 8601 date-time with a time zone (``2026-11-22T08:00:00+08:00`` or ``…Z``)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{name} must be an ISO 8601 date-time with time zone, "
                           f"e.g. 2026-11-22T08:00:00+08:00; got {value!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(f"{name} needs a time zone (e.g. +08:00 or Z); got {value!r}")
    return moment


def parse_request_query(args: MultiDict) -> RequestQuery:
    """Check GET requests filters; ``service_request_id`` overrides the others."""
    codes = _codes(args, "service_request_id", MAX_REQUESTS)
    service_codes = _codes(args, "service_code", 100)
    start = _single(args, "start_date")
    end = _single(args, "end_date")
    start = parse_datetime(start, "start_date") if start else None
    end = parse_datetime(end, "end_date") if end else None
    if start and end and start > end:
        raise InvalidInput("start_date is after end_date")
    if start and end and end - start > MAX_WINDOW:
        raise InvalidInput("start_date to end_date may not span more than 90 days")
    statuses = _codes(args, "status", 2)
    if statuses and not set(statuses) <= {"open", "closed"}:
        raise InvalidInput(f"status must be open, closed or open,closed; got {args.get('status')!r}")
    if codes:
        return RequestQuery(codes=codes)
    return RequestQuery(service_codes=service_codes, start=start, end=end, statuses=statuses)


def window(query: RequestQuery, now: datetime) -> tuple[datetime, datetime]:
    """The reported_at window: the given dates, else 90 days ending at end_date (or now)."""
    if query.start and query.end:
        return query.start, query.end
    if query.start:
        return query.start, query.start + MAX_WINDOW
    end = query.end or now
    return end - MAX_WINDOW, end


def check_token(token: str) -> str:
    """A token is a UUID; anything else cannot name a request (404)."""
    try:
        return str(uuid.UUID(token))
    except ValueError:
        raise NotFound(f"token {token!r} not found") from None
