"""Reference data of the case system: categories (Open311 services), their attributes, and
departments; plus the check of a report's attribute values against its category.
"""

from __future__ import annotations

import math
from datetime import datetime

import psycopg
from psycopg.rows import dict_row

from geodata.errors import InvalidInput, NotFound

_CATEGORIES = """
SELECT k.code, k.name_zh, k.name_en, k.class, k.group_zh, k.group_en, k.department_code,
       k.time_limit_hours, k.description, k.keywords,
       EXISTS (SELECT 1 FROM case_category_attribute a WHERE a.category_code = k.code) AS metadata
  FROM case_category k
 WHERE k.active OR NOT %s
 ORDER BY k.sort, k.code"""
_CATEGORY = "SELECT code, active, time_limit_hours FROM case_category WHERE code = %s"
_ATTRIBUTES = """
SELECT code, datatype, required, description, datatype_description, sort AS "order", "values"
  FROM case_category_attribute WHERE category_code = %s ORDER BY sort, code"""
_DEPARTMENTS = "SELECT code, name_zh, name_en FROM department ORDER BY code"
_CATEGORY_WITH_ATTRIBUTES = """
SELECT k.code, k.active, k.time_limit_hours,
       coalesce((SELECT json_agg(json_build_object(
                    'code', a.code, 'datatype', a.datatype, 'required', a.required,
                    'description', a.description, 'datatype_description', a.datatype_description,
                    'order', a.sort, 'values', a."values") ORDER BY a.sort, a.code)
                   FROM case_category_attribute a WHERE a.category_code = k.code), '[]'::json) AS attributes
  FROM case_category k WHERE k.code = %s"""


def fetch_categories(conn: psycopg.Connection, *, active_only: bool = True) -> list[dict]:
    """Case categories in display order: ``code, name_zh, name_en, class, group_zh, group_en,
    department_code, time_limit_hours, description, keywords, metadata`` (metadata: has attributes)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_CATEGORIES, (bool(active_only),)).fetchall()


def fetch_category(conn: psycopg.Connection, code: str, *, active_only: bool = True) -> dict:
    """``code, active, time_limit_hours`` of one category (:class:`NotFound` when unknown/inactive)."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_CATEGORY, (str(code or "").strip(),)).fetchone()
    if row is None or (active_only and not row["active"]):
        state = "inactive" if row is not None else "unknown"
        raise NotFound(f"{state} case category {code!r}")
    return row


def fetch_category_for_intake(conn: psycopg.Connection, code: str) -> tuple[dict, list[dict]]:
    """An active category and its attribute definitions in one round trip (the intake hot path).
    :class:`NotFound` when unknown or inactive."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_CATEGORY_WITH_ATTRIBUTES, (str(code or "").strip(),)).fetchone()
    if row is None or not row["active"]:
        state = "inactive" if row is not None else "unknown"
        raise NotFound(f"{state} case category {code!r}")
    return row, list(row.pop("attributes"))


def fetch_category_attributes(conn: psycopg.Connection, category_code: str) -> list[dict]:
    """The extra questions of a category (Open311 service definition attributes), in order:
    ``code, datatype, required, description, datatype_description, order, values``
    (values: ``[{"key", "name"}]`` for list datatypes). :class:`NotFound` for an unknown category."""
    fetch_category(conn, category_code, active_only=False)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_ATTRIBUTES, (category_code,)).fetchall()


def fetch_departments(conn: psycopg.Connection) -> list[dict]:
    """Departments: ``code, name_zh, name_en``."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_DEPARTMENTS).fetchall()


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _one(attr: dict, value):
    """Check and normalise one attribute value; raises InvalidInput naming the attribute."""
    code, kind = attr["code"], attr["datatype"]
    keys = [v["key"] for v in attr["values"]]
    if kind == "number":
        try:
            number = float(str(value).strip())
        except ValueError as exc:
            raise InvalidInput(f"attribute {code}: {value!r} is not a number") from exc
        if not math.isfinite(number):
            raise InvalidInput(f"attribute {code}: {value!r} is not a finite number")
        return int(number) if number.is_integer() else number
    if kind == "datetime":
        try:
            return datetime.fromisoformat(str(value).strip()).isoformat()
        except ValueError as exc:
            raise InvalidInput(f"attribute {code}: {value!r} is not an ISO 8601 date-time") from exc
    if kind == "singlevaluelist":
        if str(value).strip() not in keys:
            raise InvalidInput(f"attribute {code}: {value!r} is not one of {', '.join(keys)}")
        return str(value).strip()
    if kind == "multivaluelist":
        items = value if isinstance(value, list | tuple) else str(value).split(",")
        items = [str(v).strip() for v in items if str(v).strip()]
        bad = [v for v in items if v not in keys]
        if bad:
            raise InvalidInput(f"attribute {code}: {', '.join(map(repr, bad))} not among {', '.join(keys)}")
        return items
    text = str(value).strip()
    if len(text) > 4000:
        raise InvalidInput(f"attribute {code}: longer than 4000 characters")
    return text


def check_attributes(conn: psycopg.Connection, category_code: str, attributes: dict | None,
                     *, defined: list[dict] | None = None) -> dict:
    """Check a report's attribute values against its category; returns them normalised
    (numbers as numbers, multi-value lists as lists of keys).

    Raises
    ------
    InvalidInput
        A required attribute is missing, a value does not parse or is not a known key, or
        the category has no attribute of that code. The message names the attribute.
    """
    attributes = dict(attributes or {})
    if defined is None:
        with conn.cursor(row_factory=dict_row) as cur:
            defined = cur.execute(_ATTRIBUTES, (category_code,)).fetchall()
    defined = {a["code"]: a for a in defined}
    unknown = [str(k) for k in attributes if k not in defined]
    if unknown:
        known = ", ".join(defined) or "none"
        raise InvalidInput(f"unknown attribute {', '.join(unknown)} for category {category_code} (known: {known})")
    out = {}
    for code, attr in defined.items():
        value = attributes.get(code)
        if _blank(value):
            if attr["required"]:
                raise InvalidInput(f"attribute {code} is required for category {category_code}")
            continue
        out[code] = _one(attr, value)
    return out
