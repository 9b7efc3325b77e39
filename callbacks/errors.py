"""Turning failures into a message in the UI (never a traceback)."""

from __future__ import annotations

import logging
import uuid

from dash import html

from geodata.errors import DatabaseUnavailable, OneGridError

log = logging.getLogger("onegrid.callbacks")


def toast(message: str, kind: str = "error") -> list:
    """A toast for the alert area (a fresh key, so a repeated message shows again)."""
    return [html.Div(message, key=uuid.uuid4().hex, className=f"og-toast-item og-{kind}")]


def error_toast(exc: BaseException, t: dict) -> list:
    """The user-facing message for ``exc``: its own text for OneGrid errors, a generic one
    otherwise (the traceback goes to the log, not to the browser)."""
    if isinstance(exc, DatabaseUnavailable):
        log.warning("database unavailable: %s", exc.message)
        return toast(f"{t['error_db']} ({exc.message})")
    if isinstance(exc, OneGridError):
        return toast(f"{t['error_prefix']}{exc.message}")
    log.exception("callback failed", exc_info=exc)
    return toast(t["error_internal"])
