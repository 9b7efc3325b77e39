"""Settings, migrations, the private cluster and the shape of the code base."""

from __future__ import annotations

import ast
import os
import shutil
import signal
import subprocess
from pathlib import Path

import psycopg
import pytest

from geodata import migrate
from geodata.cluster import LocalCluster
from geodata.errors import ConfigError
from geodata.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_settings_defaults_and_overrides():
    s = load_settings({})
    assert (s.host, s.port, s.lang, s.min_cell) == ("127.0.0.1", 8050, "zh", 10)
    s = load_settings({"ONEGRID_PORT": "9000", "ONEGRID_LANG": "en", "ONEGRID_DATA_DIR": "/tmp/x"})
    assert (s.port, s.lang, str(s.data_dir)) == (9000, "en", "/tmp/x")


def test_default_data_dir_is_the_checkouts_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings({}).data_dir == ROOT / ".onegrid"


@pytest.mark.parametrize("env, name", [
    ({"ONEGRID_PORT": "abc"}, "ONEGRID_PORT"),
    ({"ONEGRID_PORT": "70000"}, "ONEGRID_PORT"),
    ({"ONEGRID_LANG": "fr"}, "ONEGRID_LANG"),
    ({"ONEGRID_BASEMAP_URL": "http://tiles.local/a.png"}, "ONEGRID_BASEMAP_URL"),
    ({"ONEGRID_BASEMAP_CRS": "bd09"}, "ONEGRID_BASEMAP_CRS"),
])
def test_bad_settings_name_the_variable(env, name):
    with pytest.raises(ConfigError, match=name):
        load_settings(env)


def test_migrations_are_idempotent_and_recorded(empty_db):
    with empty_db.connect() as conn:
        assert migrate.migrate(conn, log=lambda *_: None) == []
        assert migrate.applied(conn) == [m.version for m in migrate.available()]


def test_failing_migration_leaves_database_unchanged(empty_db, tmp_path, monkeypatch):
    (tmp_path / "9001_good_then_bad.sql").write_text("CREATE TABLE half_done (x int);\nSELECT no_such_function();")
    monkeypatch.setattr(migrate, "MIGRATIONS_DIR", tmp_path)
    with empty_db.connect() as conn, pytest.raises(psycopg.errors.UndefinedFunction):
        migrate.migrate(conn, log=lambda *_: None)
    with empty_db.connect() as conn:
        assert conn.execute("SELECT to_regclass('half_done')").fetchone()[0] is None
        assert 9001 not in migrate.applied(conn)


def test_schema_refuses_invalid_geometry(empty_db):
    with empty_db.connect() as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("INSERT INTO admin_area (code, name, level, geom) VALUES ('1', 'x', 'district', "
                     "ST_Multi(ST_GeomFromText('POLYGON((0 0,1 1,1 0,0 1,0 0))', 4326)))")


@pytest.fixture
def private_cluster(tmp_path):
    """A second private cluster in pytest's 0700 tmp dir (postgres cannot reach it: it must relocate)."""
    cluster = LocalCluster(load_settings({"ONEGRID_DATA_DIR": str(tmp_path / "og")}))
    yield cluster
    cluster.down()
    state = cluster.state()
    if state:
        shutil.rmtree(state.root, ignore_errors=True)


def test_private_cluster_up_is_idempotent_and_survives_stale_pid(private_cluster):
    state = private_cluster.up()
    if os.geteuid() == 0:
        assert str(state.root).startswith("/var/tmp/onegrid-"), "unreachable data dir must be relocated"
    assert private_cluster.is_running()
    assert private_cluster.up().port == state.port  # second up: no-op
    with psycopg.connect(private_cluster.admin_dsn("onegrid")) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    # Kill the postmaster hard: postmaster.pid stays behind, stale.
    pid = int((state.pgdata / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    for _ in range(100):
        if not Path(f"/proc/{pid}").exists():
            break
        subprocess.run(["sleep", "0.1"])
    assert (state.pgdata / "postmaster.pid").exists()
    private_cluster.up()
    assert private_cluster.is_running()
    assert private_cluster.down() is True
    assert private_cluster.down() is False


def test_up_restarts_a_running_server_whose_settings_are_from_an_older_version(private_cluster):
    state = private_cluster.up()
    conf = state.pgdata / "onegrid.conf"
    # What an older OneGrid wrote: no prepared transactions (batch imports then use one backend).
    conf.write_text(conf.read_text().replace("max_prepared_transactions = 10", "max_prepared_transactions = 0"))
    private_cluster._restart(state)
    with psycopg.connect(private_cluster.admin_dsn("onegrid")) as conn:
        assert conn.execute("SHOW max_prepared_transactions").fetchone() == ("0",)
    private_cluster.up()  # running, settings out of date: rewritten and restarted
    with psycopg.connect(private_cluster.admin_dsn("onegrid")) as conn:
        assert conn.execute("SHOW max_prepared_transactions").fetchone() == ("10",)
    pid = (state.pgdata / "postmaster.pid").read_text().split()[0]
    private_cluster.up()  # up to date: left running as it is
    assert (state.pgdata / "postmaster.pid").read_text().split()[0] == pid


LAYERS = ["geodata", "layers", "callbacks", "app"]  # lowest first: a package may import only lower ones


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_imports_point_one_way():
    wrong = []
    for rank, package in enumerate(LAYERS):
        for path in (ROOT / package).rglob("*.py"):
            higher = _imports(path) & set(LAYERS[rank + 1:])
            if higher:
                wrong.append(f"{path.relative_to(ROOT)} imports {sorted(higher)}")
    assert not wrong, "imports must point app → callbacks → layers → geodata:\n" + "\n".join(wrong)


def test_sql_only_in_geodata():
    import re
    pattern = re.compile(r"\b(SELECT\s+.+\s+FROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.S)
    offenders = [str(p.relative_to(ROOT)) for pkg in ("app", "callbacks", "layers")
                 for p in (ROOT / pkg).rglob("*.py") if pattern.search(p.read_text())]
    assert not offenders, f"SQL outside geodata/: {offenders}"


@pytest.mark.parametrize("port", ["99999", "0", "http"])
def test_serve_refuses_a_bad_port_before_starting(port, capsys):
    from app.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--port", port])
    assert exit_.value.code == 2
    assert "port" in capsys.readouterr().err


def test_a_served_worker_is_set_up_before_its_first_request(empty_db, monkeypatch):
    """The browser's first, parallel requests must find every Dash script registered (a fresh
    worker answered react-dom with a 500 and the page stayed on "Loading…")."""
    import re
    import time
    from concurrent.futures import ThreadPoolExecutor

    import dash

    from app.cli.serve import build_server

    setup = dash.Dash._setup_server

    def slow_setup(self):
        # Dash's own order, slowed down: the "done" flag is set before the work (the race seen
        # under load), so concurrent requests that skip the setup are answered before it ends.
        if self._got_first_request["setup_server"]:
            return
        self._got_first_request["setup_server"] = True
        time.sleep(0.3)
        self._got_first_request["setup_server"] = False
        setup(self)

    monkeypatch.setattr(dash.Dash, "_setup_server", slow_setup)

    from app.factory import create_app

    # The script URLs, learnt from another app so the served one gets no request before the burst.
    index = create_app().server.test_client().get("/").get_data(as_text=True)
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', index)
    assert any("react-dom" in s for s in scripts)
    server = build_server()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda s: server.test_client().get(s).status_code, scripts))
    assert codes == [200] * len(scripts)
