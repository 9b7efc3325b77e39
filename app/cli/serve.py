"""``onegrid serve``: the dashboard behind gunicorn (or Flask's server with --dev)."""

from __future__ import annotations

import argparse

from geodata.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the dashboard")
    p.add_argument("--host", help="bind address (default ONEGRID_HOST or 127.0.0.1)")
    p.add_argument("--port", type=_port, help="port 1..65535 (default ONEGRID_PORT or 8050)")
    p.add_argument("--dev", action="store_true", help="Flask development server with reload and debug")
    p.set_defaults(func=cmd_serve)


def _port(text: str) -> int:
    """A TCP port from the command line (argparse reports the error and exits 2)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 1..65535, got {port}")
    return port


def cmd_serve(args) -> int:
    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    print(f"OneGrid dashboard on http://{host}:{port}/")
    if args.dev:
        from app.factory import create_app
        from layers.density import start_density_warmer

        start_density_warmer()
        create_app().run(host=host, port=port, debug=True)
        return 0
    from gunicorn.app.base import BaseApplication

    class _Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", settings.workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)

        def load(self):
            return build_server()

    _Server().run()
    return 0


def build_server():
    """The dashboard's Flask server for one gunicorn worker, set up before it takes requests.

    Dash completes its setup (registering the script paths it serves) on the first request,
    behind a flag it sets before the work is done, so the browser's parallel first requests to
    a fresh worker's thread pool could be answered half set up: a 500 for react-dom and a page
    stuck on "Loading..." — on a wall screen, until someone reloads it. One request here
    finishes the setup before the worker accepts connections. The worker also keeps its copy of
    the published population counts warm from a background thread (read now and after each
    publication), so the first density request does not pay for reading them.
    """
    from app.factory import create_app
    from layers.density import start_density_warmer

    server = create_app().server
    server.test_client().get("/")
    start_density_warmer()
    return server
