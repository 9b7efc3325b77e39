"""Map snapshots (PNG/PDF), the daily briefing and layer downloads (``/export``).

Register on the dashboard's Flask server with
``server.register_blueprint(build_blueprint(), url_prefix=URL_PREFIX)``.
"""

from app.snapshot.routes import URL_PREFIX, build_blueprint

__all__ = ["URL_PREFIX", "build_blueprint"]
