"""A live dashboard and a headless Chromium for browser tests (shared by tests/test_browser*.py).

The app runs in a subprocess on a free loopback port against a test database; Chromium is
Debian's (/usr/bin/chromium), never a downloaded build.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path("/tmp/shots")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def dashboard(dsn: str, **env_overrides: str) -> Iterator[str]:
    """Serve the dashboard on ``dsn``; yields its base URL once /healthz answers 200."""
    port = free_port()
    env = {**os.environ, "ONEGRID_DATABASE_URL": dsn, "ONEGRID_THEME": "dark", "ONEGRID_LANG": "zh",
           **env_overrides}
    code = f"from app.factory import create_app; create_app().run(host='127.0.0.1', port={port}, debug=False)"
    # The server logs every request (the live map polls each second): to a file, so a full
    # pipe can never block it.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    proc.kill()
                    proc.wait(timeout=10)
                    log.seek(0)
                    raise RuntimeError(f"dashboard did not start: {log.read().decode()[-2000:]}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


@contextmanager
def chromium_page(width: int = 1920, height: int = 1080):
    """A Playwright page in headless Chromium; ``page.errors`` collects page errors and
    ``page.requests`` every URL it requested."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.errors, page.requests = [], []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on("request", lambda r: page.requests.append(r.url))
            yield page
        finally:
            browser.close()
