"""The Dash application: multi-page, assets served locally, callbacks wired, ``/healthz``.

``create_app()`` builds a fresh app each call (callbacks are registered per app, not at import
time), so tests and gunicorn workers each get a complete one.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path

import dash
from flask import jsonify

import callbacks
from app import ids
from app.i18n import strings
from geodata.db import pooled
from geodata.errors import OneGridError
from geodata.maps import fetch_status
from geodata.settings import get_settings

log = logging.getLogger(__name__)

APP_DIR = Path(__file__).resolve().parent
ASSETS_DIR = APP_DIR.parent / "assets"
#: Flask APIs mounted on the dashboard's server. Each module exposes ``build_blueprint()`` and
#: ``URL_PREFIX``; a module not present in this build is skipped (like the CLI's command groups).
BLUEPRINT_MODULES = ("app.open311", "app.snapshot")


def _healthz():
    """Database status as JSON: 200 when the database answers, 503 with the reason when not."""
    try:
        with pooled() as conn:
            status = fetch_status(conn)
    except OneGridError as exc:
        return jsonify({"status": "degraded", "database": "down", "message": exc.message}), 503
    return jsonify({"status": "ok", "database": "up", **status}), 200


def create_app() -> dash.Dash:
    """A new OneGrid dashboard (Dash app; its Flask server is ``app.server``).

    Everything is served from this process (``serve_locally``: Dash, React, Leaflet CSS/JS
    from the installed packages, CSS/JS from ``assets/``); nothing is fetched from a CDN.
    """
    settings = get_settings()
    app = dash.Dash(
        # The package name (not this module's), so Dash imports pages as ``app.pages.home`` —
        # the same module the tests import, registered once.
        "app",
        use_pages=True,
        pages_folder=str(APP_DIR / "pages"),
        assets_folder=str(ASSETS_DIR),
        serve_locally=True,
        title=strings(settings.lang)["product"],
        update_title=None,
        suppress_callback_exceptions=True,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    app.server.add_url_rule("/healthz", "healthz", _healthz)
    _register_blueprints(app.server)
    callbacks.register(ids)
    return app


def _register_blueprints(server) -> None:
    for name in BLUEPRINT_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # API not installed in this build
            raise
        server.register_blueprint(module.build_blueprint(), url_prefix=module.URL_PREFIX)
