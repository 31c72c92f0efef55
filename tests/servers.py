"""Real servers for the tests: ``redis-server`` and a throwaway PostgreSQL cluster.

Both listen on 127.0.0.1 on a free port, live in a temporary directory, are waited
for until they answer, and are torn down at the end of the test session. Without the
binaries the tests that use them skip locally and fail under ``CI=true`` (see
:func:`conftest.unavailable`). No mock or fake stands in for either server.

The returned objects can also ``stop()``/``start()`` the server, and Redis can be
``pause()``-d (SIGSTOP: the port still accepts connections but nothing answers) and
``resume()``-d, for the fault tests. Use the ``stopped()``/``paused()`` context
managers so that a failing test never leaves the shared server down.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "PostgresServer",
    "RedisServer",
    "free_port",
    "pg_engine",
    "postgres_server",
    "redis_cluster",
    "redis_server",
]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _unavailable(reason: str) -> None:
    from conftest import unavailable

    unavailable(reason)


class RedisServer:
    """A ``redis-server`` on 127.0.0.1 without persistence, in its own directory."""

    def __init__(self, binary: str, directory: Path, extra_args: tuple[str, ...] = ()) -> None:
        self.binary = binary
        self.directory = directory
        self.extra_args = extra_args
        self.port = free_port()
        while extra_args and self.port > 55000:  # a cluster node also needs port + 10000
            self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self._log = directory / "redis.log"

    @property
    def pid(self) -> int:
        assert self.process is not None, "redis-server is not running"
        return self.process.pid

    def start(self, timeout: float = 10.0) -> None:
        """Start the server (same port) and wait until it answers ``PING``."""
        assert self.process is None, "redis-server is already running"
        with open(self._log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    self.binary,
                    "--bind", "127.0.0.1",
                    "--port", str(self.port),
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(self.directory),
                    "--daemonize", "no",
                    *self.extra_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.directory,
            )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self._log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not answer PING in time")
            time.sleep(0.02)

    def ping(self) -> bool:
        """Whether the server answers ``PING`` within half a second."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (its data is lost: there is no persistence)."""
        if self.process is None:
            return
        self.resume()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            self.process.kill()
            self.process.wait()
        self.process = None

    def pause(self) -> None:
        """Freeze the server with SIGSTOP: connections are accepted, nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause` (SIGCONT)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the server for the ``with`` block and start it again afterwards."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Freeze the server for the ``with`` block and resume it afterwards."""
        self.pause()
        try:
            yield
        finally:
            self.resume()


def _pg_bindir() -> str | None:
    found = shutil.which("pg_ctl")
    if found:  # often a symlink into /usr/lib/postgresql/N/bin, beside initdb & co
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return os.path.dirname(candidates[-1]) if candidates else None


class PostgresServer:
    """A throwaway PostgreSQL cluster on 127.0.0.1 with one database, ``logout_test``.

    PostgreSQL refuses to run as root, so as root every command runs as the
    ``postgres`` user through ``runuser`` and the directory belongs to that user.
    """

    database = "logout_test"
    user = "postgres"

    def __init__(self, bindir: str, directory: Path, as_user: str | None) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.sockets = directory / "sock"
        self.port = free_port()
        self._prefix = ["runuser", "-u", as_user, "--"] if as_user else []
        self.url = (
            f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"
        )

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [*self._prefix, os.path.join(self.bindir, args[0]), *args[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(
                f"{args[0]} failed ({done.returncode}): "
                f"{done.stdout.decode(errors='replace')[-2000:]}"
            )

    def init(self) -> None:
        """Create the cluster (trust authentication on loopback only)."""
        self._run(
            "initdb", "-D", str(self.data), "-U", self.user, "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.sockets} "
            "-c fsync=off -c full_page_writes=off -c synchronous_commit=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "postgres.log"),
            "-o", options, "-w", "-t", "30", "start",
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``mode``: smart, fast or immediate)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        """Stop and start again: every open connection is cut."""
        self.stop()
        self.start()

    @property
    def pid(self) -> int:
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def create_database(self) -> None:
        self._run(
            "createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
            self.database,
        )

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the server for the ``with`` block and start it again afterwards."""
        self.stop()
        try:
            yield
        finally:
            self.start()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real ``redis-server`` for the whole test session."""
    binary = shutil.which("redis-server")
    if binary is None:
        _unavailable("redis-server is not installed (Debian package redis-server)")
        raise AssertionError("unreachable")  # pragma: no cover
    directory = Path(tempfile.mkdtemp(prefix="logout-redis-"))
    server = RedisServer(binary, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster for the whole test session; ``.url`` for SQLAlchemy."""
    bindir = _pg_bindir()
    if bindir is None or not os.path.exists(os.path.join(bindir, "initdb")):
        _unavailable("PostgreSQL server binaries are not installed (Debian package postgresql)")
        raise AssertionError("unreachable")  # pragma: no cover
    as_user: str | None = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user for PostgreSQL")
            raise AssertionError("unreachable") from None  # pragma: no cover
        as_user = "postgres"
    directory = Path(tempfile.mkdtemp(prefix="logout-pg-"))
    (directory / "sock").mkdir()
    if as_user is not None:
        for path in (directory, directory / "sock"):
            os.chown(path, pw.pw_uid, pw.pw_gid)
    server = PostgresServer(bindir, directory, as_user)
    started = False
    try:
        server.init()
        server.start()
        started = True
        server.create_database()
        yield server
    finally:
        if started:
            with contextlib.suppress(RuntimeError):
                server.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    """A real three-node Redis Cluster (three masters, no replicas) on 127.0.0.1."""
    binary, cli = shutil.which("redis-server"), shutil.which("redis-cli")
    if binary is None or cli is None:
        _unavailable("redis-server and redis-cli are not installed (Debian: redis-server)")
        raise AssertionError("unreachable")
    nodes = []
    try:
        for i in range(3):
            directory = tmp_path_factory.mktemp(f"redis-cluster-{i}")
            node = RedisServer(
                binary,
                directory,
                ("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
                 "--cluster-node-timeout", "2000"),
            )
            node.start()
            nodes.append(node)
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )
        deadline = time.monotonic() + 30
        while True:
            info = subprocess.run(
                [cli, "-p", str(nodes[0].port), "cluster", "info"],
                capture_output=True, text=True, timeout=10,
            ).stdout
            if "cluster_state:ok" in info:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"Redis Cluster did not become ready: {info}")
            time.sleep(0.1)
        yield nodes
    finally:
        for node in nodes:
            node.stop()


@pytest.fixture
def pg_engine(postgres_server: PostgresServer) -> Iterator[Any]:
    """A SQLAlchemy engine on the test PostgreSQL, with no ``sessions`` table left over."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_server.url, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(sa.text('DROP TABLE IF EXISTS "sessions"'))
    yield engine
    engine.dispose()
