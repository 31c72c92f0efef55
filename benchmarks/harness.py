"""Real servers for the tests and the benchmarks: one harness, two users.

``redis-server`` (alone, or three of them as a Redis Cluster), a throwaway PostgreSQL
cluster, gunicorn, and the ASGI servers uvicorn, hypercorn and daphne, each on
127.0.0.1 on a free port, in a private temporary directory, waited for until it
really answers (``PING``, ``pg_ctl -w``, an HTTP answer once every worker has
booted), and stopped at the end: SIGTERM, then SIGKILL for the process group it was
started in. Nothing else on the machine is touched.

The tests use it through thin pytest fixtures (``tests/servers.py``,
``tests/gunicorn_util.py``, ``tests/uvicorn_util.py``); the benchmarks through
``benchmarks/servers.py``. It lives in the ``benchmarks`` package because that is
importable from the repository root, which both put on ``sys.path`` (``python -m
benchmarks``; ``pythonpath`` in ``pyproject.toml`` for pytest). It knows nothing of
pytest.

A missing binary raises :class:`Unavailable`; each caller applies its own policy
(the tests skip, or fail under ``CI=true``; the benchmarks note it, or stop under
``CI=true``).

Redis can be ``stop()``-ped and ``start()``-ed again on the same port, and
``pause()``-d (SIGSTOP: the port still accepts connections, nothing answers); use the
``stopped()``/``paused()`` context managers so that a failing test never leaves a
shared server down.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TypeVar

__all__ = [
    "DaphneServer",
    "GunicornServer",
    "HypercornServer",
    "PostgresServer",
    "RedisServer",
    "Unavailable",
    "UvicornServer",
    "free_port",
    "postgres_server",
    "redis_cluster",
    "redis_server",
    "start_daphne",
    "start_gunicorn",
    "start_hypercorn",
    "start_uvicorn",
]


class Unavailable(Exception):
    """A server cannot be run here (its binary, or the user it must run as, is missing)."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _which(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise Unavailable(f"{name} is not installed (Debian package {package})")
    return found


class _Server:
    """What every server here can do: stop, start again, and both around a block."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the server for the ``with`` block and start it again afterwards."""
        self.stop()
        try:
            yield
        finally:
            self.start()


# -- Redis ------------------------------------------------------------------------------


class RedisServer(_Server):
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
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"redis-server exited: {self._log.read_text()[-2000:]}")
            if time.monotonic() > deadline:
                self.stop()
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
        _terminate(self.process, grace=10.0)
        self.process = None

    def pause(self) -> None:
        """Freeze the server with SIGSTOP: connections are accepted, nothing answers."""
        os.kill(self.pid, signal.SIGSTOP)

    def resume(self) -> None:
        """Undo :meth:`pause` (SIGCONT)."""
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGCONT)

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Freeze the server for the ``with`` block and resume it afterwards."""
        self.pause()
        try:
            yield
        finally:
            self.resume()


def _terminate(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL for the process group it leads (``start_new_session``)."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _started_redis(binary: str, directory: Path, extra_args: tuple[str, ...] = ()) -> RedisServer:
    # The free port can be taken between free_port() and the bind: try a few.
    for attempt in range(5):
        server = RedisServer(binary, directory, extra_args)
        try:
            server.start()
            return server
        except RuntimeError:
            if attempt == 4:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A private ``redis-server`` for the ``with`` block (``.url``, ``.port``)."""
    binary = _which("redis-server", "redis-server")
    directory = Path(tempfile.mkdtemp(prefix="logout-redis-"))
    try:
        server = _started_redis(binary, directory)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@contextlib.contextmanager
def redis_cluster(size: int = 3) -> Iterator[list[RedisServer]]:
    """A real Redis Cluster of ``size`` masters (no replicas), ready (``cluster_state:ok``)."""
    binary = _which("redis-server", "redis-server")
    cli = _which("redis-cli", "redis-server")
    directory = Path(tempfile.mkdtemp(prefix="logout-redis-cluster-"))
    options = (
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", "2000",
    )
    nodes: list[RedisServer] = []
    try:
        for i in range(size):
            (directory / str(i)).mkdir()
            nodes.append(_started_redis(binary, directory / str(i), options))
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{n.port}" for n in nodes),
             "--cluster-replicas", "0", "--cluster-yes"],
            check=True, capture_output=True, timeout=60,
        )
        deadline = time.monotonic() + 30
        while True:
            info = subprocess.run(
                [cli, "-p", str(nodes[0].port), "cluster", "info"],
                capture_output=True, text=True, timeout=10, check=False,
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
        shutil.rmtree(directory, ignore_errors=True)


# -- PostgreSQL -------------------------------------------------------------------------


def _pg_bindir() -> str | None:
    found = shutil.which("pg_ctl")
    if found:  # often a symlink into /usr/lib/postgresql/N/bin, beside initdb & co
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"),
        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0,
    )
    return os.path.dirname(candidates[-1]) if candidates else None


class PostgresServer(_Server):
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
def postgres_server() -> Iterator[PostgresServer]:
    """A private PostgreSQL cluster for the ``with`` block; ``.url`` for SQLAlchemy."""
    bindir = _pg_bindir()
    if bindir is None or not os.path.exists(os.path.join(bindir, "initdb")):
        raise Unavailable(
            "PostgreSQL server binaries are not installed (Debian package postgresql)"
        )
    as_user: str | None = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise Unavailable(
                "running as root and there is no 'postgres' user for PostgreSQL"
            ) from None
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


# -- gunicorn ---------------------------------------------------------------------------

_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
_BOOTED = re.compile(r"Booting worker with pid: (\d+)")


def _supports_control_socket_flag() -> bool:
    from gunicorn.config import KNOWN_SETTINGS

    return any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)


class GunicornServer:
    """A running gunicorn master; see :func:`start_gunicorn`.

    As a context manager it stops the server on exit.
    """

    #: The log line that says where the server listens (the port in group 1), and the
    #: one each worker writes when it boots (its pid in group 1).
    listening = _LISTENING
    booted = _BOOTED
    #: The server's name, in error messages.
    name = "gunicorn"

    def __init__(
        self, process: subprocess.Popen[bytes], log_path: Path, workers: int, ready_path: str = "/"
    ) -> None:
        self.process = process
        self.log_path = log_path
        self.workers = workers
        self.ready_path = ready_path
        self.port = 0
        #: ``http://127.0.0.1:PORT``, set once gunicorn has said where it listens.
        self.url = ""
        #: The master's exit code once stopped.
        self.returncode: int | None = None
        # The whole log, kept in memory once stopped (the temporary file is removed).
        self._final_log: str | None = None

    @property
    def pid(self) -> int:
        """The master's process id."""
        return self.process.pid

    def log(self) -> str:
        """Everything gunicorn (master, workers, access log if on) has written so far."""
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace")

    def _forget_log(self) -> None:
        if self._final_log is None:
            self._final_log = self.log()
            shutil.rmtree(self.log_path.parent, ignore_errors=True)

    def worker_pids(self) -> list[int]:
        """The pids of the workers booted so far, in boot order."""
        return [int(p) for p in self.booted.findall(self.log())]

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            match = self.listening.search(text)
            if match and not self.port:
                self.port = int(match.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
            if self.port and len(self.booted.findall(text)) >= self.workers and self._answers():
                return
            if self.process.poll() is not None:
                self.kill()  # reaps any worker left behind
                raise RuntimeError(f"{self.name} exited during start:\n{text[-4000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"{self.name} was not ready in {timeout}s:\n{text[-4000:]}")
            time.sleep(0.05)

    def _answers(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
        try:
            conn.request("GET", self.ready_path)
            conn.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            conn.close()

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM the master, wait for it and return its exit code (0: clean)."""
        if self.returncode is not None:
            return self.returncode
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.returncode = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise RuntimeError(
                f"{self.name} did not stop within {timeout}s of SIGTERM:\n{self.log()[-4000:]}"
            ) from None
        self._reap_group()
        self._forget_log()
        return self.returncode

    def kill(self) -> None:
        """SIGKILL the master and every process of its group."""
        self._reap_group(signal.SIGKILL)
        if self.process.poll() is None:  # pragma: no cover - killed with the group
            self.process.kill()
        self.returncode = self.process.wait()
        self._forget_log()

    def _reap_group(self, sig: int = signal.SIGKILL) -> None:
        # Workers that outlived their master (they should not) die with the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)

    def __enter__(self) -> GunicornServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.returncode is None:
            try:
                self.stop()
            except RuntimeError:
                if exc is None:
                    raise


def start_gunicorn(
    app_spec: str,
    workers: int = 2,
    worker_class: str = "sync",
    env: Mapping[str, str] | None = None,
    *,
    chdir: str | os.PathLike[str] | None = None,
    config: str | os.PathLike[str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 30.0,
    ready_path: str = "/",
    access_log: bool = True,
    prefix: Sequence[str] = (),
) -> GunicornServer:
    """Start ``gunicorn app_spec`` on 127.0.0.1 with a free port and wait until ready.

    gunicorn binds ``127.0.0.1:0``; the kernel picks the port and gunicorn's own log
    line ``Listening at: http://127.0.0.1:PORT`` tells it. This returns once that line
    is there, every worker has booted and one HTTP request got an answer, so the first
    request never races the boot. The master leads its own process group, so that
    :meth:`GunicornServer.kill` leaves nothing behind.

    :param app_spec: ``module:variable`` (importable from ``chdir``), or with
        ``args=["--paste", ini]`` an empty string.
    :param workers: worker processes.
    :param worker_class: ``sync``, ``gthread``...
    :param env: variables added to this process's environment.
    :param chdir: the directory gunicorn changes to (and imports the app from).
    :param config: a gunicorn config file; the options given here win over it.
    :param args: more command-line options.
    :param timeout: seconds to wait for readiness.
    :param ready_path: the path of the request that proves the server answers (any
        status counts).
    :param access_log: log every request into :meth:`GunicornServer.log` (off for
        measurements).
    :param prefix: a command the server runs under (``taskset -c 0``).
    :raises Unavailable: gunicorn is not installed.
    """
    if importlib.util.find_spec("gunicorn") is None:  # pragma: no cover
        raise Unavailable("gunicorn is not installed (pip install gunicorn)")
    log_dir = Path(tempfile.mkdtemp(prefix="logout-gunicorn-"))
    log_path = log_dir / "gunicorn.log"
    command = [*prefix, sys.executable, "-m", "gunicorn"]
    if config is not None:
        command += ["--config", os.fspath(config)]
    command += [
        "--bind", "127.0.0.1:0",
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--graceful-timeout", "10",
        "--timeout", "30",
        "--log-level", "info",  # the "Listening at" and "Booting worker" lines
        "--error-logfile", "-",
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    if _supports_control_socket_flag():
        command.append("--no-control-socket")
    if chdir is not None:
        command += ["--chdir", os.fspath(chdir)]
    command += list(args)
    if app_spec:
        command.append(app_spec)
    return _launch(GunicornServer, command, log_path, env, workers, ready_path, timeout)


S = TypeVar("S", bound=GunicornServer)


def _launch(
    kind: type[S],
    command: list[str],
    log_path: Path,
    env: Mapping[str, str] | None,
    workers: int,
    ready_path: str,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
) -> S:
    """Run ``command`` (in ``cwd``) with its output in ``log_path``, as the leader of its
    own process group (for ``kill()``), and wait until it is ready."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            cwd=cwd,
            start_new_session=True,  # its own process group, for kill()
        )
    server = kind(process, log_path, workers, ready_path)
    server.wait_ready(timeout)
    return server


# -- uvicorn ----------------------------------------------------------------------------


class UvicornServer(GunicornServer):
    """A running uvicorn (the supervisor, with ``workers > 1``); see :func:`start_uvicorn`.

    The same interface as :class:`GunicornServer`: :meth:`worker_pids` are the
    ``Started server process [PID]`` lines, one per worker (a worker that died and was
    replaced adds one).
    """

    listening = re.compile(r"Uvicorn running on http://127\.0\.0\.1:(\d+)")
    booted = re.compile(r"Started server process \[(\d+)\]")
    name = "uvicorn"


def start_uvicorn(
    app_spec: str,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    *,
    app_dir: str | os.PathLike[str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 30.0,
    ready_path: str = "/",
    access_log: bool = True,
    prefix: Sequence[str] = (),
) -> UvicornServer:
    """Start ``uvicorn app_spec`` on 127.0.0.1 with a free port and wait until ready.

    uvicorn binds ``127.0.0.1:0`` and logs the port the kernel chose (``Uvicorn running
    on http://127.0.0.1:PORT``); this returns once that line is there, every worker has
    started and one HTTP request got an answer. With ``workers > 1`` the process is
    uvicorn's supervisor, which leads its own process group; ``stop()`` sends it
    SIGTERM (it stops the workers) and returns its exit code.

    :param app_spec: ``module:attribute`` (importable from ``app_dir``).
    :param workers: worker processes (1: uvicorn serves in the process itself).
    :param env: variables added to this process's environment.
    :param app_dir: the directory the application is imported from.
    :param args: more command-line options (``--factory``, ``--lifespan off``...).
    :param timeout: seconds to wait for readiness.
    :param ready_path: the path of the request that proves the server answers (any
        status counts).
    :param access_log: log every request into :meth:`UvicornServer.log` (off for
        measurements).
    :param prefix: a command the server runs under (``taskset -c 0``).
    :raises Unavailable: uvicorn is not installed.
    """
    if importlib.util.find_spec("uvicorn") is None:  # pragma: no cover
        raise Unavailable("uvicorn is not installed (pip install uvicorn)")
    log_path = Path(tempfile.mkdtemp(prefix="logout-uvicorn-")) / "uvicorn.log"
    command = [
        *prefix, sys.executable, "-m", "uvicorn",
        "--host", "127.0.0.1",
        "--port", "0",
        "--workers", str(workers),
        "--log-level", "info",  # the "Uvicorn running on" and "Started server" lines
        "--timeout-graceful-shutdown", "10",
    ]
    if workers > 1:
        # The supervisor pings each worker and replaces one that has not answered in
        # 5 s: a busy machine, not a dead worker. Replaced workers are what the tests
        # look for, so only a worker that is truly gone may count.
        command += ["--timeout-worker-healthcheck", "120"]
    if not access_log:
        command.append("--no-access-log")
    if app_dir is not None:
        command += ["--app-dir", os.fspath(app_dir)]
    command += [*args, app_spec]
    return _launch(UvicornServer, command, log_path, env, workers, ready_path, timeout)


# -- hypercorn and daphne -----------------------------------------------------------------


class HypercornServer(GunicornServer):
    """A running hypercorn (its parent process, which runs the workers); see
    :func:`start_hypercorn`. Each worker logs ``[PID] [INFO] Running on
    http://127.0.0.1:PORT`` once it serves: :meth:`worker_pids` are those PIDs."""

    listening = re.compile(r"Running on http://127\.0\.0\.1:(\d+)")
    booted = re.compile(r"\[(\d+)\] \[INFO\] Running on http://")
    name = "hypercorn"


class DaphneServer(GunicornServer):
    """A running daphne, one process that serves; see :func:`start_daphne`."""

    listening = re.compile(r"Listening on TCP address 127\.0\.0\.1:(\d+)")
    booted = listening  # once: there are no workers
    name = "daphne"

    def worker_pids(self) -> list[int]:
        """The one process, once it listens."""
        return [self.pid] if self.booted.search(self.log()) else []


def start_hypercorn(
    app_spec: str,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
    *,
    app_dir: str | os.PathLike[str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 30.0,
    ready_path: str = "/",
    access_log: bool = True,
) -> HypercornServer:
    """Start ``hypercorn app_spec`` on 127.0.0.1 with a free port and wait until ready.

    hypercorn binds ``127.0.0.1:0`` and each worker logs the port the kernel chose
    (``Running on http://127.0.0.1:PORT``); this returns once every worker has and one
    HTTP request got an answer. hypercorn takes an ASGI application where
    ``inspect.iscoroutinefunction(app)`` (or of its ``__call__``), a WSGI one otherwise.
    ``stop()`` sends SIGTERM (the workers finish their requests, at most 10 s).

    :param app_spec: ``module:attribute``, importable from ``app_dir`` (the directory
        hypercorn runs in).
    :param workers: worker processes (hypercorn's ``0`` serves in the process itself).
    :param args: more command-line options (``--root-path /sub``...).
    :raises Unavailable: hypercorn is not installed.

    The other parameters are :func:`start_uvicorn`'s.
    """
    if importlib.util.find_spec("hypercorn") is None:  # pragma: no cover
        raise Unavailable("hypercorn is not installed (pip install hypercorn)")
    log_path = Path(tempfile.mkdtemp(prefix="logout-hypercorn-")) / "hypercorn.log"
    command = [
        sys.executable, "-m", "hypercorn",
        "--bind", "127.0.0.1:0",
        "--workers", str(workers),
        "--log-level", "info",  # the "Running on" lines
        "--error-logfile", "-",
        "--graceful-timeout", "10",
    ]
    if access_log:
        command += ["--access-logfile", "-"]
    command += [*args, app_spec]
    expected = max(workers, 1)  # 0 workers: one "Running on", from the process itself
    return _launch(
        HypercornServer, command, log_path, env, expected, ready_path, timeout, cwd=app_dir
    )


def start_daphne(
    app_spec: str,
    env: Mapping[str, str] | None = None,
    *,
    app_dir: str | os.PathLike[str] | None = None,
    args: Sequence[str] = (),
    timeout: float = 30.0,
    ready_path: str = "/",
    access_log: bool = True,
) -> DaphneServer:
    """Start ``daphne app_spec`` on 127.0.0.1 with a free port and wait until ready.

    daphne serves in one process (no workers). Bound to ``-b 127.0.0.1 -p 0``, it logs
    the port the kernel chose (``Listening on TCP address 127.0.0.1:PORT``, at ``-v
    1``); this returns once that line is there and one HTTP request got an answer.
    daphne passes the application through asgiref's ``guarantee_single_callable``
    (an ASGI 2 class would be wrapped) and sends no ``lifespan`` scope. ``stop()``
    sends SIGTERM.

    The parameters are :func:`start_hypercorn`'s (``--root-path /sub`` in ``args``).

    :raises Unavailable: daphne is not installed.
    """
    if importlib.util.find_spec("daphne") is None:  # pragma: no cover
        raise Unavailable("daphne is not installed (pip install daphne)")
    log_path = Path(tempfile.mkdtemp(prefix="logout-daphne-")) / "daphne.log"
    command = [
        sys.executable, "-m", "daphne",
        "-b", "127.0.0.1",
        "-p", "0",
        "-v", "1",  # the "Listening on" line (logging at INFO; the access log on stdout)
        "--application-close-timeout", "10",
    ]
    if not access_log:
        command += ["--access-log", os.devnull]
    command += [*args, app_spec]
    return _launch(DaphneServer, command, log_path, env, 1, ready_path, timeout, cwd=app_dir)
