"""Reads the Open311 GeoReport v2 endpoint needs beyond the cases contract.

Owned by the Open311 engineer (issue 3). Address resolution for ``address_string`` and
``address_id``, case codes (the public ``service_request_id``) to ids, and the per-request
extras the spec shows (last event note, media URL, standard address id) in one query for a
whole page. Coordinates are WGS-84 (EPSG:4326) in (lon, lat) order. Nothing here returns
reporter personal data.
"""

from __future__ import annotations

import psycopg
from psycopg.rows import dict_row

from geodata.errors import InvalidInput, NotFound

#: Longest free-text address the fuzzy matcher accepts (characters).
MAX_ADDRESS_TEXT = 200
#: Smallest pg_trgm word similarity accepted as a fuzzy address match (0..1).
MIN_ADDRESS_SIMILARITY = 0.6

_ADDRESS_EXACT = """
SELECT id, full_text, ST_X(geom) AS lon, ST_Y(geom) AS lat
  FROM address WHERE full_text = %(q)s ORDER BY id LIMIT 1
"""

# word_similarity: how well the typed text matches some stretch of the standard address, so
# "友谊路924号11栋" finds "宝山区友谊路924号11栋"; whole-string similarity breaks ties.
# The <% operator uses the trigram GIN index (address_text_trgm).
_ADDRESS_FUZZY = """
SELECT id, full_text, ST_X(geom) AS lon, ST_Y(geom) AS lat,
       word_similarity(%(q)s, full_text) AS score
  FROM address
 WHERE %(q)s <%% full_text
 ORDER BY score DESC, similarity(%(q)s, full_text) DESC, id
 LIMIT 1
"""

_ADDRESS_BY_ID = """
SELECT id, full_text, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM address WHERE id = %(id)s
"""

_CASE_IDS_BY_CODE = "SELECT code, id FROM cases WHERE code = ANY(%(codes)s)"

# The standard address a case sits on: same text and the same point (a case placed at an
# address through Open311 or the map carries that address's point and full text).
_CASE_EXTRAS = """
SELECT c.id, c.media_url,
       (SELECT e.note FROM case_event e WHERE e.case_id = c.id ORDER BY e.id DESC LIMIT 1) AS status_notes,
       (SELECT a.id FROM address a
         WHERE c.address_text IS NOT NULL AND a.full_text = c.address_text
           AND a.geom && ST_Expand(c.geom, 1e-7) AND ST_DWithin(a.geom, c.geom, 1e-7)
         ORDER BY a.id LIMIT 1) AS address_id
  FROM cases c
 WHERE c.id = ANY(%(ids)s)
"""


def fetch_address_match(conn: psycopg.Connection, text: str) -> dict | None:
    """The standard address (标准地址) best matching free text, or None.

    An exact ``full_text`` match wins; otherwise the address with the highest trigram word
    similarity of at least :data:`MIN_ADDRESS_SIMILARITY`.

    Returns
    -------
    dict or None
        ``id``, ``full_text``, ``lon``, ``lat`` (EPSG:4326 degrees).
    """
    q = " ".join(str(text or "").split())
    if not q:
        raise InvalidInput("address_string is empty")
    if len(q) > MAX_ADDRESS_TEXT:
        raise InvalidInput(f"address_string is too long (at most {MAX_ADDRESS_TEXT} characters)")
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_ADDRESS_EXACT, {"q": q}).fetchone()
        if row:
            return row
        row = cur.execute(_ADDRESS_FUZZY, {"q": q}).fetchone()
    if row is None or row.pop("score") < MIN_ADDRESS_SIMILARITY:
        return None
    return row


def fetch_address(conn: psycopg.Connection, address_id: int) -> dict:
    """One standard address by id: ``id``, ``full_text``, ``lon``, ``lat`` (EPSG:4326); NotFound if absent."""
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(_ADDRESS_BY_ID, {"id": int(address_id)}).fetchone()
    if row is None:
        raise NotFound(f"address {address_id} not found")
    return row


def fetch_case_ids_by_code(conn: psycopg.Connection, codes: list[str]) -> dict[str, int]:
    """Case ids for case codes (the Open311 ``service_request_id``); unknown codes are absent."""
    if not codes:
        return {}
    return dict(conn.execute(_CASE_IDS_BY_CODE, {"codes": list(codes)}).fetchall())


def fetch_open311_extras(conn: psycopg.Connection, case_ids: list[int]) -> dict[int, dict]:
    """Per case: ``status_notes`` (note of its latest event), ``media_url``, ``address_id``.

    ``address_id`` is the standard address at the case's point with the case's address text,
    or None when the case was reported at a free point.
    """
    if not case_ids:
        return {}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(_CASE_EXTRAS, {"ids": list(case_ids)}).fetchall()
    return {r.pop("id"): r for r in rows}


_UNLINK_DUPLICATES = """
UPDATE cases SET duplicate_of = NULL WHERE duplicate_of = ANY(%(ids)s) AND NOT id = ANY(%(ids)s)
"""
# Deleting cases cascades to their events; the append-only trigger on case_event lets
# cascaded deletes through (they run at trigger depth > 0) and refuses direct ones.
_DELETE_CASES = "DELETE FROM cases WHERE id = ANY(%(ids)s)"


def delete_cases(conn: psycopg.Connection, case_ids: list[int]) -> int:
    """Delete cases and their event log (benchmark clean-up); returns how many cases went.

    Other cases flagged as duplicates of these lose that link (it would point nowhere).
    Runs in the caller's transaction; never commits.
    """
    if not case_ids:
        return 0
    params = {"ids": [int(i) for i in case_ids]}
    conn.execute(_UNLINK_DUPLICATES, params)
    return conn.execute(_DELETE_CASES, params).rowcount


_NOTICE_FACTS = """
SELECT (SELECT name_zh FROM department WHERE code = %(dept)s) AS department_zh,
       (SELECT name_en FROM department WHERE code = %(dept)s) AS department_en,
       (SELECT time_limit_hours FROM case_category WHERE code = %(cat)s) AS time_limit_hours,
       (SELECT code FROM cases WHERE id = %(dup)s) AS duplicate_code
"""


def fetch_notice_facts(conn: psycopg.Connection, department_code: str | None, category_code: str,
                       duplicate_of: int | None) -> dict:
    """What a just-created case's service notice says, in one round trip (intake is hot):
    ``department_zh``, ``department_en``, ``time_limit_hours``, ``duplicate_code`` (None when absent)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_NOTICE_FACTS, {"dept": department_code, "cat": category_code,
                                           "dup": duplicate_of}).fetchone()
