"""A CLI command run while another session holds the tables (``make demo``'s load) gives up
after ONEGRID_LOCK_TIMEOUT_S with one line naming what is busy, exit 2 — for every command,
through geodata.db.connect and the CLI entry point."""

from __future__ import annotations

import re
import time

from app.cli import main
from geodata.settings import get_settings

C = "310113106002"


def test_cli_gives_up_on_a_held_lock_and_says_what_is_busy(demo_db, monkeypatch, capsys):
    monkeypatch.setenv("ONEGRID_LOCK_TIMEOUT_S", "0.5")
    get_settings.cache_clear()
    try:
        with demo_db.connect(application_name="demo-load-standin") as holder:
            holder.execute("LOCK TABLE admin_area, grid IN ACCESS EXCLUSIVE MODE")  # as a load's TRUNCATE does
            for argv in (["grids", "history", C], ["grids", "check", C], ["export", "grids", "/tmp/og_busy.geojson"]):
                t = time.monotonic()
                code = main(argv)
                # the one message line (export also draws a progress bar on stderr)
                lines = [x for x in re.split(r"[\r\n]", capsys.readouterr().err) if x.startswith("onegrid:")]
                assert code == 2, argv
                assert time.monotonic() - t < 20
                assert len(lines) == 1, lines
                assert lines[0].startswith("onegrid: database busy: another session (demo-load-standin"), lines
                assert "admin_area" in lines[0] and "try again" in lines[0], lines
            holder.rollback()
        assert main(["grids", "history", C]) == 0  # nothing held: the same command works
        assert "never edited" in capsys.readouterr().out
    finally:
        monkeypatch.delenv("ONEGRID_LOCK_TIMEOUT_S")
        get_settings.cache_clear()


def test_lock_timeout_setting_is_checked(monkeypatch):
    from geodata.errors import ConfigError
    from geodata.settings import load_settings

    assert load_settings({"ONEGRID_LOCK_TIMEOUT_S": "2.5"}).lock_timeout_s == 2.5
    for bad in ("-1", "soon"):
        try:
            load_settings({"ONEGRID_LOCK_TIMEOUT_S": bad})
        except ConfigError as exc:
            assert "ONEGRID_LOCK_TIMEOUT_S" in str(exc)
        else:
            raise AssertionError(f"{bad!r} accepted")
