"""What each Open311 call answers, as plain dicts/lists ready for :mod:`app.open311.formats`.

Every function takes an open connection and goes through :mod:`geodata.cases` (no SQL here).
Services are the case categories; a request is a case, its ``service_request_id`` the case
code. Dates are ISO 8601 in the district's time zone (``ONEGRID_TIMEZONE``). Reporter personal
data never appears in a GET answer (``Case`` does not carry it).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg

from app.open311.errors import Forbidden
from app.open311.params import MAX_REQUESTS, Intake, RequestQuery, window
from geodata.cases import (
    FINAL_STATES,
    OPEN_STATES,
    Case,
    CaseFilter,
    create_case,
    fetch_case,
    fetch_case_by_token,
    fetch_cases,
    fetch_categories,
    fetch_category_attributes,
    fetch_departments,
    verify_api_key,
)
from geodata.cases.open311_queries import (
    fetch_address,
    fetch_address_match,
    fetch_case_ids_by_code,
    fetch_notice_facts,
    fetch_open311_extras,
)
from geodata.errors import InvalidInput, NotFound
from geodata.settings import get_settings

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
#: When this endpoint's behaviour last changed (discovery ``changeset``).
CHANGESET = "2026-11-22T00:00:00+08:00"
FORMAT_TYPES = ["application/json", "text/xml"]


def _lang() -> str:
    return get_settings().lang


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with the district's UTC offset, whole seconds (None stays None)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(get_settings().timezone)).isoformat(timespec="seconds")


def discovery(base_url: str) -> dict:
    """The discovery document for the endpoint served at ``base_url`` (…/open311/v2)."""
    return {
        "changeset": CHANGESET,
        "contact": "the command centre (指挥中心) operating this OneGrid district",
        "key_service": "API keys are issued by the operator: onegrid apikey create NAME --channel public",
        "endpoints": [{"specification": SPECIFICATION, "url": base_url, "changeset": CHANGESET,
                       "type": "production", "formats": list(FORMAT_TYPES)}],
    }


def _name(row: dict, lang: str) -> str:
    return row["name_zh"] if lang == "zh" else row["name_en"]


def list_services(conn: psycopg.Connection) -> list[dict]:
    """Active case categories as Open311 services (metadata = has attributes)."""
    lang = _lang()
    return [{
        "service_code": c["code"],
        "service_name": _name(c, lang),
        "description": c["description"] or f"{c['name_zh']} / {c['name_en']}",
        "metadata": bool(c["metadata"]),
        "type": "realtime",
        "keywords": c["keywords"],
        "group": c["group_zh"] if lang == "zh" else c["group_en"],
    } for c in fetch_categories(conn, active_only=True)]


def service_definition(conn: psycopg.Connection, code: str) -> dict:
    """The service definition (attributes) of one active category; NotFound when unknown."""
    if code not in {c["code"] for c in fetch_categories(conn, active_only=True)}:
        raise NotFound(f"service {code!r} not found")
    attributes = [{
        "variable": True,
        "code": a["code"],
        "datatype": a["datatype"],
        "required": bool(a["required"]),
        "datatype_description": a["datatype_description"] or "",
        "order": a["order"],
        "description": a["description"],
        "values": [{"key": v["key"], "name": v["name"]} for v in a["values"] or []],
    } for a in fetch_category_attributes(conn, code)]
    return {"service_code": code, "attributes": attributes}


def _notice(case: Case, departments: dict[str, str], limits: dict[str, int], duplicate_code: str | None) -> str:
    """Who handles the case, its time limit, and a duplicate hint."""
    department = departments.get(case.department_code or "", case.department_code or "")
    hours = limits.get(case.category_code)
    if _lang() == "zh":
        text = f"已派往{department}；处置时限{hours}小时，自派遣起计"
        if case.deadline_at:
            text += f"，截止 {iso(case.deadline_at)}"
        if duplicate_code:
            text += f"；疑似重复，可能与案件 {duplicate_code} 相同 (likely duplicate of {duplicate_code})"
        return text
    text = f"Routed to {department}; time limit {hours} h from dispatch"
    if case.deadline_at:
        text += f", due {iso(case.deadline_at)}"
    if duplicate_code:
        text += f"; likely duplicate of {duplicate_code}"
    return text


def _lookups(conn: psycopg.Connection) -> tuple[dict[str, str], dict[str, int]]:
    lang = _lang()
    departments = {d["code"]: _name(d, lang) for d in fetch_departments(conn)}
    limits = {c["code"]: c["time_limit_hours"] for c in fetch_categories(conn, active_only=False)}
    return departments, limits


def _locate(conn: psycopg.Connection, intake: Intake) -> tuple[float, float, str | None]:
    """(lon, lat, address text): lat/long win; else the standard address by id or by text."""
    if intake.lon is not None:
        return intake.lon, intake.lat, intake.address_string
    if intake.address_id is not None:
        try:
            address = fetch_address(conn, intake.address_id)
        except NotFound:
            raise InvalidInput(f"address_id {intake.address_id} is not a standard address") from None
    else:
        address = fetch_address_match(conn, intake.address_string)
        if address is None:
            raise InvalidInput(f"address_string {intake.address_string!r} matches no standard address; "
                               "send lat and long instead")
    return address["lon"], address["lat"], address["full_text"]


def post_request(conn: psycopg.Connection, intake: Intake) -> list[dict]:
    """Create the case (routed, duplicate-checked) and answer ``[{service_request_id, service_notice, account_id}]``.

    Runs in the caller's transaction; any error leaves nothing written once it rolls back.
    """
    key = verify_api_key(conn, intake.api_key)
    if key is None:
        raise Forbidden("api_key is not valid (unknown or revoked)")
    lon, lat, address_text = _locate(conn, intake)
    try:
        case = create_case(conn, category_code=intake.service_code, channel=key["channel"], lon=lon, lat=lat,
                           actor=f"open311:{key['name']}", description=intake.description,
                           address_text=address_text, attributes=intake.attributes or None,
                           media_url=intake.media_url, reporter=intake.reporter or None)
    except NotFound as exc:
        # An unknown service code in a POST is a bad request, not a missing resource.
        raise InvalidInput(f"service_code {intake.service_code!r} is not a known service: {exc.message}") from None
    facts = fetch_notice_facts(conn, case.department_code, case.category_code, case.duplicate_of)
    department = facts["department_zh"] if _lang() == "zh" else facts["department_en"]
    notice = _notice(case, {case.department_code or "": department or ""},
                     {case.category_code: facts["time_limit_hours"]}, facts["duplicate_code"])
    return [{"service_request_id": case.code, "service_notice": notice, "account_id": intake.account_id}]


def token_lookup(conn: psycopg.Connection, token: str) -> list[dict]:
    """``[{service_request_id, token}]`` for a token (NotFound when unknown)."""
    case = fetch_case_by_token(conn, token)
    return [{"service_request_id": case.code, "token": case.token}]


def _requests(conn: psycopg.Connection, cases: list[Case]) -> list[dict]:
    """Cases as Open311 request objects (no personal data)."""
    departments, limits = _lookups(conn)
    extras = fetch_open311_extras(conn, [c.id for c in cases])
    duplicates = {c.duplicate_of for c in cases if c.duplicate_of}
    codes = {c.id: c.code for c in fetch_cases(conn, ids=sorted(duplicates), limit=MAX_REQUESTS)} if duplicates else {}
    lang = _lang()
    out = []
    for c in cases:
        extra = extras.get(c.id, {})
        out.append({
            "service_request_id": c.code,
            "status": "open" if c.state in OPEN_STATES else "closed",
            "status_notes": extra.get("status_notes") or "",
            "service_name": c.category_name_zh if lang == "zh" else c.category_name_en,
            "service_code": c.category_code,
            "description": c.description,
            "agency_responsible": departments.get(c.department_code or "", ""),
            "service_notice": _notice(c, departments, limits, codes.get(c.duplicate_of)),
            "requested_datetime": iso(c.reported_at),
            "updated_datetime": iso(c.updated_at),
            "expected_datetime": iso(c.deadline_at),
            "address": c.address_text or "",
            "address_id": extra.get("address_id"),
            "zipcode": "",
            "lat": c.lat,
            "long": c.lon,
            "media_url": extra.get("media_url") or "",
        })
    return out


def list_requests(conn: psycopg.Connection, query: RequestQuery, now: datetime | None = None) -> list[dict]:
    """GET requests: by codes, or by service codes, status and window (default the last 90 days), newest first, ≤ 1,000."""
    if query.codes:
        ids = list(fetch_case_ids_by_code(conn, list(query.codes)).values())
        return _requests(conn, fetch_cases(conn, ids=ids, limit=MAX_REQUESTS)) if ids else []
    if query.service_codes:
        known = {c["code"] for c in fetch_categories(conn, active_only=False)}
        unknown = [s for s in query.service_codes if s not in known]
        if unknown:
            raise InvalidInput(f"unknown service_code {', '.join(map(repr, unknown))} (see services.json)")
    states = None
    if query.statuses:
        states = tuple(s for status in query.statuses for s in (OPEN_STATES if status == "open" else FINAL_STATES))
    since, until = window(query, now or datetime.now().astimezone())
    # end_date is inclusive in the spec; CaseFilter's ``until`` is exclusive.
    flt = CaseFilter(states=states, categories=query.service_codes, since=since,
                     until=until + timedelta(microseconds=1))
    return _requests(conn, fetch_cases(conn, flt, limit=MAX_REQUESTS, order="newest"))


def one_request(conn: psycopg.Connection, code: str) -> list[dict]:
    """GET requests/{id}: a one-element list; NotFound for an unknown case code."""
    ids = fetch_case_ids_by_code(conn, [code])
    if code not in ids:
        raise NotFound(f"service request {code!r} not found")
    return _requests(conn, [fetch_case(conn, ids[code])])
