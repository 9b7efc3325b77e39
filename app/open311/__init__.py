"""Open311 GeoReport v2 (``/open311/v2``): outside systems report and read cases.

Register on the dashboard's Flask server with
``server.register_blueprint(build_blueprint(), url_prefix=URL_PREFIX)``.
"""

from app.open311.routes import URL_PREFIX, build_blueprint

__all__ = ["URL_PREFIX", "build_blueprint"]
