"""A throwaway PostgreSQL cluster for the tests of `events.postgres`.

Started once per session from Debian's `postgresql` binaries (`initdb`, `pg_ctl`) in a
temporary folder, listening on a Unix socket there only (no TCP port), without fsync (nothing
here outlives the session), and stopped at the end: nothing else on the machine is touched.
`initdb` refuses to run as root: as root the cluster belongs to the `postgres` user.  Each
test gets a database of its own (`pg_url`).  Without the binaries or the driver, every test
here is skipped with the reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed "
                              "(pip install 'ictindex[postgres]')")


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             check=True).stdout.strip()
        if out and (Path(out) / "initdb").exists() and (Path(out) / "pg_ctl").exists():
            return Path(out)
    except (OSError, subprocess.CalledProcessError):
        pass
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


class Cluster:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir = bindir
        self.root = root
        self.data = root / "data"
        self.sock = root / "sock"
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._names = itertools.count(1)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.sock.mkdir()
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            for p in (self.root, self.sock):
                os.chown(p, pw.pw_uid, pw.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "--auth=trust",
                  "--no-sync", "-E", "UTF8", "--locale=C")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-o", f"-k {self.sock} -c listen_addresses='' -c fsync=off "
                        "-c synchronous_commit=off -c full_page_writes=off "
                        "-c max_connections=100", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def url(self, database: str = "postgres", user: str | None = None) -> str:
        return f"postgresql://{user or self.user}@/{database}?host={self.sock}"

    def admin(self, database: str = "postgres") -> "psycopg.Connection":
        return psycopg.connect(self.url(database), autocommit=True)

    def new_database(self, template: str = "template0") -> str:
        """A new database: empty, or a copy of `template` (which no one may be connected to)."""
        name = f"t{os.getpid()}_{next(self._names)}"
        with self.admin() as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
        return name


@pytest.fixture(scope="session")
def pg_cluster():
    bindir = _bindir()
    if bindir is None:
        pytest.skip("PostgreSQL's binaries (initdb, pg_ctl) are not installed: "
                    "apt-get install postgresql")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root without a `postgres` user to run initdb as")
    # short (a socket's path has a length limit) and where the `postgres` user can reach it
    root = Path(tempfile.mkdtemp(prefix="ictpg", dir="/tmp" if Path("/tmp").is_dir() else None))
    cluster = Cluster(bindir, root)
    try:
        cluster.start()
    except subprocess.CalledProcessError as e:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start a PostgreSQL cluster: {e.stderr.decode(errors='replace')}")
    yield cluster
    try:
        cluster.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def _pg_test_database(pg_cluster) -> str:
    return pg_cluster.new_database()


def _emptied(cluster: Cluster, name: str) -> str:
    """Database `name` emptied: every other connection to it ended, its schemas and the roles
    tests create dropped; its URL."""
    with cluster.admin(name) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
        conn.execute("DROP SCHEMA IF EXISTS ictindex CASCADE")
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
        for (role,) in conn.execute("SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' "
                                    "AND rolname <> current_user").fetchall():
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')
    return cluster.url(name)


@pytest.fixture
def pg_url(pg_cluster, _pg_test_database) -> str:
    """The URL of an empty database of the throwaway cluster: one database, emptied before
    each test (a new database per test would cost a second each)."""
    return _emptied(pg_cluster, _pg_test_database)


@pytest.fixture(scope="session")
def _pg_second_database(pg_cluster) -> str:
    return pg_cluster.new_database()


@pytest.fixture
def pg_second_url(pg_cluster, _pg_second_database) -> str:
    """A second empty database, for tests that need two logs at once (a copy's target)."""
    return _emptied(pg_cluster, _pg_second_database)


@pytest.fixture
def run(monkeypatch):
    """Run the CLI in-process: run(db, *args) -> click Result (exit code, stdout, stderr)."""
    from click.testing import CliRunner

    from ictindex.cli import build_cli

    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")
    runner = CliRunner()
    cli = build_cli()

    def _run(db, *args, input=None):
        return runner.invoke(cli, ["--db", str(db), *map(str, args)], input=input,
                             catch_exceptions=False)

    return _run
