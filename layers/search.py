"""Search box suggestions: place names, addresses and grid codes, fuzzy (pg_trgm)."""

from __future__ import annotations

from geodata import maps


def encode_place(kind: str, key: str) -> str:
    """Dropdown value for a place (``kind|key``)."""
    return f"{kind}|{key}"


def decode_place(value: str) -> tuple[str, str] | None:
    """``(kind, key)`` from a dropdown value, or None if it is not one."""
    kind, sep, key = str(value or "").partition("|")
    return (kind, key) if sep and kind in maps.PLACE_KINDS and key else None


def build_suggestions(conn, text: str, t: dict, limit: int = 10) -> list[dict]:
    """Dropdown options ``{label, value}`` for ``text``: best matches first, at most ``limit``."""
    options = []
    for hit in maps.search_places(conn, text, limit):
        kind_label = t.get(f"level_{hit['detail']}") if hit["kind"] == "area" else t[f"kind_{hit['kind']}"]
        # Codes disambiguate same-named places (e.g. 第3网格 in every community).
        extra = hit["key"] if hit["kind"] in ("grid", "area") else ""
        label = f"{kind_label} · {hit['label']}" + (f"  {extra}" if extra else "")
        options.append({"label": label, "value": encode_place(hit["kind"], hit["key"])})
    return options
