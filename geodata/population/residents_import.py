"""``write_residents``: residents from a table (CSV import), checked whole, all or nothing.

Columns (canonical names; aliases in :mod:`geodata.io.columns`): ``address_code`` (required,
an existing standard address), ``birth_year`` (required, a year within the last 120),
``sex`` (M/F, 男/女, male/female; may be empty), ``tags`` (codes or names of key-population
tags, separated by ``;`` ``,`` ``、`` ``|``), ``household_code`` (optional: rows with the same
code form one household at one address; an existing household is joined) and ``ref`` (optional
external reference: kept only as a salted SHA-256, refused when already imported). Every bad
row is named; nothing is written unless every row is good. The published counts are rebuilt
afterwards in the same transaction. Nothing commits.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np
import pandas as pd
import psycopg

from geodata.errors import ImportRejected, Problem
from geodata.population import sql as Q
from geodata.population.demo import reference_year
from geodata.population.publish import rebuild_published
from geodata.population.store import reserve_ids

MAX_AGE = 120
MAX_PROBLEMS = 1000
SEX_WORDS = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F"}
_SPLIT = re.compile(r"[;,，；、|/]+")
_CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def _text(value) -> str | None:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    text = str(value).strip()
    return text or None


def _tag_words(conn: psycopg.Connection) -> dict[str, str]:
    words = {}
    for code, zh, en, _colour, _sort in conn.execute(Q.TAGS):
        for w in (code, zh, en):
            words[w.strip().lower()] = code
    return words


def _check_row(row: dict, w: str, year: int, words: dict[str, str], problems: list[Problem]) -> dict:
    out = {"address_code": _text(row.get("address_code")), "household_code": _text(row.get("household_code")),
           "ref": _text(row.get("ref")), "sex": None, "birth_year": None, "tags": []}
    if out["address_code"] is None:
        problems.append(Problem(w, "address_code is required but empty"))
    birth = _text(row.get("birth_year"))
    try:
        value = float(birth) if birth is not None else None
    except ValueError:
        value = None
    if birth is None:
        problems.append(Problem(w, "birth_year is required but empty"))
    elif value is None or not value.is_integer() or not year - MAX_AGE <= value <= year:
        problems.append(Problem(w, f"birth_year must be a year from {year - MAX_AGE} to {year}, got {birth!r}"))
    else:
        out["birth_year"] = int(value)
    sex = _text(row.get("sex"))
    if sex is not None:
        out["sex"] = SEX_WORDS.get(sex.lower())
        if out["sex"] is None:
            problems.append(Problem(w, f"sex must be M or F (男/女), got {sex!r}"))
    for word in _SPLIT.split(_text(row.get("tags")) or ""):
        word = word.strip()
        if not word:
            continue
        code = words.get(word.lower())
        if code is None:
            known = ", ".join(sorted(set(words.values())))
            problems.append(Problem(w, f"unknown population tag {word!r} (known: {known})"))
        elif code not in out["tags"]:
            out["tags"].append(code)
    hh = out["household_code"]
    if hh is not None and not _CODE.fullmatch(hh):
        problems.append(Problem(w, f"household_code {hh!r} may only hold letters, digits, _ . - (at most 40)"))
    return out


def _ref_hash(salt: str, ref: str) -> str:
    return hashlib.sha256(f"{salt}\x1f{ref}".encode()).hexdigest()


def _check_keys(conn, rows: list[dict], where: list[str], problems: list[Problem]) -> tuple[dict, dict]:
    """Addresses exist, households agree on their address, references are new."""
    codes = sorted({r["address_code"] for r in rows if r["address_code"]})
    addresses = {c: (i, s) for c, i, s in conn.execute(Q.ADDRESSES_BY_CODE, (codes,))}
    households = {c: (i, a) for c, i, a in conn.execute(
        Q.HOUSEHOLDS_BY_CODE, (sorted({r["household_code"] for r in rows if r["household_code"]}),))}
    salt = conn.execute(Q.SALT).fetchone()[0]
    first_address: dict[str, tuple[str, str]] = {}
    seen_refs: dict[str, str] = {}
    for r, w in zip(rows, where, strict=True):
        a = r["address_code"]
        if a is not None and a not in addresses:
            problems.append(Problem(w, f"address code {a!r} does not exist"))
            continue
        address_id = addresses[a][0] if a else None
        hh = r["household_code"]
        if hh is not None and a is not None:
            if hh in households and households[hh][1] != address_id:
                problems.append(Problem(w, f"household {hh!r} already lives at another address"))
            elif hh in first_address and first_address[hh][0] != a:
                problems.append(Problem(w, f"household {hh!r} is at {first_address[hh][0]!r} on "
                                           f"{first_address[hh][1]}, not at {a!r}"))
            first_address.setdefault(hh, (a, w))
        if r["ref"] is not None:
            r["ref_hash"] = _ref_hash(salt, r["ref"])
            if r["ref_hash"] in seen_refs:
                problems.append(Problem(w, f"the same person (ref) as {seen_refs[r['ref_hash']]}"))
            seen_refs.setdefault(r["ref_hash"], w)
    existing = {h for (h,) in conn.execute(Q.REF_HASHES, (list(seen_refs),))}
    for r, w in zip(rows, where, strict=True):
        if r.get("ref_hash") in existing:
            problems.append(Problem(w, "this person (ref) was imported before"))
    return addresses, households


def write_residents(conn: psycopg.Connection, frame: pd.DataFrame) -> int:
    """Insert residents (and new households, tags) from ``frame``; returns residents written.

    ``_where`` labels rows in messages (default "row N"). Raises :class:`ImportRejected`
    listing every bad row; the caller's transaction then rolls back.
    """
    where = [str(w) for w in frame["_where"]] if "_where" in frame else [f"row {i + 1}" for i in range(len(frame))]
    year = reference_year()
    words = _tag_words(conn)
    problems: list[Problem] = []
    rows = [_check_row(r, w, year, words, problems) for r, w in zip(frame.to_dict("records"), where, strict=True)]
    addresses, households = _check_keys(conn, rows, where, problems)
    if problems:
        raise ImportRejected(problems[:MAX_PROBLEMS])
    if not rows:
        return 0
    household_ids = _write_households(conn, rows, addresses, households)
    first = reserve_ids(conn, "resident", len(rows))
    with conn.cursor().copy(Q.COPY_RESIDENT_ROWS) as cp:
        for i, r in enumerate(rows):
            address_id, street = addresses[r["address_code"]]
            cp.write_row((first + i, household_ids.get(r["household_code"]), address_id, street, r["birth_year"],
                          r["sex"], r.get("ref_hash")))
    with conn.cursor().copy(Q.COPY_RESIDENT_TAG_ROWS) as cp:
        for i, r in enumerate(rows):
            for tag in r["tags"]:
                cp.write_row((first + i, tag))
    rebuild_published(conn)
    return len(rows)


def _write_households(conn, rows: list[dict], addresses: dict, households: dict) -> dict[str, int]:
    """New households inserted, existing ones grown; returns household code → id."""
    members: dict[str, int] = {}
    at: dict[str, str] = {}
    for r in rows:
        if r["household_code"]:
            members[r["household_code"]] = members.get(r["household_code"], 0) + 1
            at[r["household_code"]] = r["address_code"]
    new = [h for h in members if h not in households]
    ids = {h: i for h, (i, _a) in households.items()}
    if new:
        inserted = conn.execute(Q.INSERT_HOUSEHOLDS, (
            new, [addresses[at[h]][0] for h in new], [members[h] for h in new],
            [addresses[at[h]][1] for h in new])).fetchall()
        ids |= dict(inserted)
    old = [h for h in members if h in households]
    if old:
        conn.execute(Q.GROW_HOUSEHOLDS, ([ids[h] for h in old], [members[h] for h in old]))
    return ids
