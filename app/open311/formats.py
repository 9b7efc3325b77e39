"""Open311 answers as JSON or XML (UTF-8).

JSON lists are plain arrays; XML wraps them in the spec's container and item elements
(``<services><service>…``, ``<service_requests><request>…``, ``<errors><error>…``). XML is
built with :mod:`xml.etree.ElementTree`, which escapes text, so user-written descriptions
(Chinese included, or ``<``/``&``) come out intact.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

from flask import Response

FORMATS = ("json", "xml")
MIMETYPES = {"json": "application/json", "xml": "text/xml"}

#: Item element name for each nested list in XML (``<attributes><attribute>…``).
XML_ITEMS = {
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "keywords": "keyword",
}


# Characters XML 1.0 cannot carry at all (not even escaped); data from other channels could
# hold them, and one would make the whole document unparseable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(parent: ET.Element, value) -> None:
    """Write ``value`` (dict, list or scalar) into ``parent``."""
    if isinstance(value, dict):
        for key, child in value.items():
            _fill(ET.SubElement(parent, key), child)
    elif isinstance(value, list | tuple):
        item_tag = XML_ITEMS.get(parent.tag, "item")
        for child in value:
            _fill(ET.SubElement(parent, item_tag), child)
    else:
        parent.text = _text(value)


def to_xml(root: str, item: str | None, body) -> str:
    """XML document text: ``<root><item>…</item>…</root>`` for a list, ``<root>…</root>`` for a dict."""
    element = ET.Element(root)
    if item is None:
        _fill(element, body)
    else:
        for entry in body:
            _fill(ET.SubElement(element, item), entry)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(element, encoding="unicode")


def to_json(body) -> str:
    """JSON text keeping non-ASCII characters as themselves (``ensure_ascii=False``)."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def respond(fmt: str, body, *, root: str, item: str | None, status: int = 200) -> Response:
    """A Flask response with ``body`` in ``fmt`` (``json``/``xml``), charset UTF-8."""
    if fmt == "xml":
        text = to_xml(root, item, body)
    else:
        text = to_json(body)
    return Response(text.encode("utf-8"), status=status, content_type=f"{MIMETYPES[fmt]}; charset=utf-8")
