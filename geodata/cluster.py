"""The private PostgreSQL + PostGIS cluster OneGrid runs when no database URL is given.

Layout under the data directory (``ONEGRID_DATA_DIR``, default ``./.onegrid``)::

    cluster.json   where the cluster lives, its port and its TCP password (mode 0600)
    pgdata/        the PostgreSQL data directory
    run/           the unix socket directory
    postgres.log   the server log

PostgreSQL refuses to run as root, so when invoked as root the server runs as the
``postgres`` OS user. That user must be able to reach the data directory; when it cannot
(e.g. a checkout under ``/root``), the cluster itself moves to ``/var/tmp/onegrid-<hash>``
and ``cluster.json`` records where it went.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from geodata.errors import ConfigError, DatabaseUnavailable
from geodata.settings import Settings

SERVER_CONF = """\
# written by OneGrid; edit postgresql.auto.conf or ALTER SYSTEM for local changes
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{socket_dir}'
unix_socket_permissions = 0700
max_connections = 100
# Batch case imports split their rows over two backends and commit the second one's half with
# two-phase commit (geodata/cases/batch_parallel.py); without prepared transactions they use one.
max_prepared_transactions = 10
shared_buffers = 256MB
# Batch imports write WAL faster than the default 8 MB of buffers drain (backends then wait on
# WALWrite ~12 % of the time); 64 MB lets two import backends keep going.
wal_buffers = 64MB
max_wal_size = 4GB
work_mem = 32MB
maintenance_work_mem = 256MB
effective_cache_size = 2GB
random_page_cost = 1.1
jit = off
logging_collector = off
log_min_duration_statement = 2000
"""


@dataclass
class ClusterState:
    """What ``cluster.json`` holds."""

    root: str  # directory holding pgdata/ and run/
    port: int
    password: str

    @property
    def pgdata(self) -> Path:
        return Path(self.root) / "pgdata"

    @property
    def socket_dir(self) -> Path:
        return Path(self.root) / "run"

    @property
    def log_file(self) -> Path:
        return Path(self.root) / "postgres.log"


def _is_root() -> bool:
    return os.geteuid() == 0


def find_bindir() -> Path:
    """The newest installed PostgreSQL server bindir that has PostGIS available."""
    override = os.environ.get("ONEGRID_PG_BINDIR")
    candidates = [Path(override)] if override else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name), reverse=True
    )
    for bindir in candidates:
        version = bindir.parent.name
        has_postgis = any(Path(f"/usr/share/postgresql/{version}/extension").glob("postgis.control"))
        if (bindir / "pg_ctl").exists() and (has_postgis or override):
            return bindir
    raise DatabaseUnavailable(
        "no PostgreSQL server with PostGIS found (apt-get install postgresql-15-postgis-3, "
        "or set ONEGRID_DATABASE_URL)"
    )


class LocalCluster:
    """Start, stop and inspect the private cluster."""

    def __init__(self, settings: Settings):
        if settings.database_url:
            raise ConfigError("ONEGRID_DATABASE_URL is set: the private cluster is not used")
        self.settings = settings
        self.data_dir = settings.data_dir.resolve()
        self.state_file = self.data_dir / "cluster.json"

    # -- state ---------------------------------------------------------------------------
    def state(self) -> ClusterState | None:
        if not self.state_file.exists():
            return None
        return ClusterState(**json.loads(self.state_file.read_text()))

    def _write_state(self, state: ClusterState) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(state), indent=2))
        tmp.chmod(0o600)
        tmp.replace(self.state_file)

    # -- helpers -------------------------------------------------------------------------
    def _run(self, args: list[str], *, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = (["runuser", "-u", "postgres", "--"] if _is_root() else []) + args
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise DatabaseUnavailable(f"{Path(args[0]).name} failed: {(proc.stderr or proc.stdout).strip()}")
        return proc

    def _postgres_can_use(self, path: Path) -> bool:
        if not _is_root():
            return True
        path.mkdir(parents=True, exist_ok=True)
        probe = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(path)], capture_output=True)
        return probe.returncode == 0

    def _choose_root(self) -> Path:
        preferred = self.data_dir / "cluster"
        # The socket path must stay under the 107-byte unix limit.
        if self._postgres_can_use(self.data_dir) and len(str(preferred / "run")) < 80:
            return preferred
        digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:12]
        return Path("/var/tmp") / f"onegrid-{digest}"

    def _own(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        if _is_root():
            shutil.chown(path, "postgres", "postgres")

    @staticmethod
    def _port_free(port: int) -> bool:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    def _pick_port(self) -> int:
        if self.settings.db_port:
            return self.settings.db_port
        # Deterministic per data dir, so two checkouts do not fight over one port.
        start = 20000 + int(hashlib.sha1(str(self.data_dir).encode()).hexdigest(), 16) % 20000
        for port in range(start, start + 200):
            if self._port_free(port):
                return port
        raise DatabaseUnavailable("no free TCP port found for the private cluster")

    # -- lifecycle -----------------------------------------------------------------------
    def init(self) -> ClusterState:
        """Create the cluster if it does not exist yet (idempotent)."""
        state = self.state()
        if state and (state.pgdata / "PG_VERSION").exists():
            return state
        bindir = find_bindir()
        root = Path(state.root) if state else self._choose_root()
        state = ClusterState(root=str(root), port=self._pick_port(), password=secrets.token_urlsafe(18))
        for d in (root, state.socket_dir):
            self._own(d)
        if state.pgdata.exists() and not any(state.pgdata.iterdir()):
            state.pgdata.rmdir()
        pwfile = root / ".pw"
        pwfile.write_text(state.password + "\n")
        if _is_root():
            shutil.chown(pwfile, "postgres", "postgres")
        pwfile.chmod(0o600)
        try:
            self._run([
                str(bindir / "initdb"), "-D", str(state.pgdata), "-U", "postgres", "--pwfile", str(pwfile),
                "--encoding=UTF8", "--locale=C.UTF-8", "--auth-local=trust", "--auth-host=scram-sha-256",
            ], timeout=300)
        finally:
            pwfile.unlink(missing_ok=True)
        self._write_conf(state)
        self._write_state(state)
        return state

    def _write_conf(self, state: ClusterState) -> bool:
        """Write this version's server settings; True when they differ from what was there."""
        conf = state.pgdata / "onegrid.conf"
        wanted = SERVER_CONF.format(port=state.port, socket_dir=state.socket_dir)
        changed = not conf.exists() or conf.read_text() != wanted
        if changed:
            conf.write_text(wanted)
        main = state.pgdata / "postgresql.conf"
        text = main.read_text()
        if "include_if_exists = 'onegrid.conf'" not in text:
            main.write_text(text + "\ninclude_if_exists = 'onegrid.conf'\n")
            changed = True
        if _is_root():
            shutil.chown(conf, "postgres", "postgres")
        return changed

    def is_running(self) -> bool:
        state = self.state()
        if not state or not (state.pgdata / "PG_VERSION").exists():
            return False
        proc = self._run([str(find_bindir() / "pg_ctl"), "status", "-D", str(state.pgdata)], check=False)
        return proc.returncode == 0

    def _clear_stale_pid(self, state: ClusterState) -> None:
        pidfile = state.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return
        with contextlib.suppress(ValueError, IndexError, OSError):
            pid = int(pidfile.read_text().split()[0])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            if b"postgres" in cmdline:
                return  # a live server: leave it to pg_ctl
        pidfile.unlink(missing_ok=True)
        for lock in state.socket_dir.glob(".s.PGSQL.*"):
            lock.unlink(missing_ok=True)

    def up(self) -> ClusterState:
        """Initialise if needed, start if stopped, create the database (idempotent)."""
        state = self.init()
        if not self.is_running():
            self._clear_stale_pid(state)
            if not self._port_free(state.port):
                state.port = self._pick_port()
                self._write_state(state)
            self._write_conf(state)  # a stopped cluster starts with this version's settings
            self._own(state.socket_dir)
            proc = self._run([
                str(find_bindir() / "pg_ctl"), "start", "-D", str(state.pgdata), "-l", str(state.log_file),
                "-w", "-t", "90",
            ], check=False, timeout=120)
            if proc.returncode != 0:
                tail = state.log_file.read_text()[-2000:] if state.log_file.exists() else ""
                raise DatabaseUnavailable(f"private PostgreSQL did not start:\n{proc.stderr}\n{tail}")
        elif self._write_conf(state):
            # A server started by an older OneGrid runs with its old settings; some of them
            # (max_prepared_transactions) only take effect on a restart, so restart it once.
            self._restart(state)
        self.create_database(self.settings.db_name)
        return state

    def _restart(self, state: ClusterState) -> None:
        proc = self._run([
            str(find_bindir() / "pg_ctl"), "restart", "-D", str(state.pgdata), "-l", str(state.log_file),
            "-m", "fast", "-w", "-t", "90",
        ], check=False, timeout=120)
        if proc.returncode != 0:
            tail = state.log_file.read_text()[-2000:] if state.log_file.exists() else ""
            raise DatabaseUnavailable(f"private PostgreSQL did not restart with new settings:\n{proc.stderr}\n{tail}")

    def down(self) -> bool:
        """Stop the server; False if it was not running."""
        state = self.state()
        if not state or not self.is_running():
            return False
        self._run([str(find_bindir() / "pg_ctl"), "stop", "-D", str(state.pgdata), "-m", "fast", "-w"])
        return True

    def admin_dsn(self, dbname: str = "postgres") -> str:
        state = self.state()
        if state is None:
            raise DatabaseUnavailable("the private cluster is not initialised: run `onegrid db up`")
        return f"host={state.socket_dir} port={state.port} user=postgres dbname={dbname}"

    def create_database(self, name: str, *, template: str | None = None) -> bool:
        """Create ``name`` if missing; True when it was created."""
        import psycopg
        from psycopg import sql

        deadline = time.monotonic() + 30
        while True:
            try:
                conn = psycopg.connect(self.admin_dsn(), autocommit=True)
                break
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        with conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return False
            stmt = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template:
                stmt += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            conn.execute(stmt)
        return True

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_dsn(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
