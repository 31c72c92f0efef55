"""Servers the benchmark starts for itself, on 127.0.0.1 only, and always stops.

``redis-server`` gets a free port, no persistence and a private working directory;
gunicorn gets an already-bound listening socket (``--bind fd://N``), so there is no
race for the port. Both are started in their own process group and stopped with
SIGTERM (then SIGKILL after a grace period) through the process handle: nothing
else on the machine is touched.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import IO

__all__ = ["Gunicorn", "free_port", "gunicorn", "optional_redis", "pin", "redis_server"]


def pin(cpu: int) -> list[str]:
    """A ``taskset`` prefix that keeps a process on one CPU, so that the HTTP
    benchmark's server and load generator do not take turns on the same core (on a
    2-core machine that turn-taking made round-to-round noise of +-20%). Empty where
    ``taskset`` is missing or there is only one CPU."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu % (os.cpu_count() or 1))]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the group we created, nothing more
        proc.wait(grace)


def _wait_for_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


@contextlib.contextmanager
def redis_server(timeout: float = 10.0) -> Iterator[str]:
    """Run a private ``redis-server`` on a free loopback port; yield its URL."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise FileNotFoundError(
            "redis-server is not installed (Debian: apt-get install redis-server)"
        )
    workdir = tempfile.mkdtemp(prefix="bench-redis-")
    proc = None
    try:
        for _attempt in range(5):
            port = free_port()
            proc = subprocess.Popen(
                [
                    exe,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    workdir,
                    "--databases",
                    "16",
                    "--protected-mode",
                    "yes",
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            try:
                _wait_for_port(port, proc, "redis-server", timeout)
                break
            except RuntimeError:
                _stop(proc)
                proc = None
        if proc is None:
            raise RuntimeError("could not start redis-server on a free port")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        if proc is not None:
            _stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


class Gunicorn:
    """A running gunicorn: its URL and process."""

    def __init__(self, url: str, proc: subprocess.Popen[bytes]) -> None:
        self.url = url
        self.proc = proc


@contextlib.contextmanager
def gunicorn(
    app: str,
    *,
    workers: int = 1,
    threads: int = 4,
    env: dict[str, str] | None = None,
    timeout: float = 20.0,
) -> Iterator[Gunicorn]:
    """Run ``gunicorn app`` (a ``module:callable``) on a free loopback port.

    The gthread worker keeps connections alive, as a production setup behind a
    proxy would; the access log is off.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    port = sock.getsockname()[1]
    fd = sock.fileno()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    child_env = {**os.environ, **(env or {}), "PYTHONPATH": root}
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [
            *pin(0),
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"fd://{fd}",
            "--workers",
            str(workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "30",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "--chdir",
            root,
            app,
        ],
        pass_fds=(fd,),
        stdout=subprocess.DEVNULL,
        stderr=log,
        env=child_env,
        start_new_session=True,
    )
    sock.close()
    try:
        _wait_ready(port, proc, log, timeout)
        yield Gunicorn(f"http://127.0.0.1:{port}", proc)
    finally:
        _stop(proc)
        log.close()


def _wait_ready(port: int, proc: subprocess.Popen[bytes], log: IO[bytes], timeout: float) -> None:
    # The socket accepts as soon as it is bound; ready means a worker answers.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            err = log.read().decode(errors="replace")
            raise RuntimeError(f"gunicorn exited with status {proc.returncode}: {err[-2000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as c:
            c.settimeout(1.0)
            c.sendall(b"GET /__ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            if c.recv(12).startswith(b"HTTP/1."):
                return
        time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer on 127.0.0.1:{port} within {timeout} s")


@contextlib.contextmanager
def optional_redis(strict: bool, notes: list[str], what: str) -> Iterator[str | None]:
    """A private ``redis-server``'s URL for the ``with`` block, or ``None`` where
    redis-py or the server binary is missing (a note says so in ``notes``). With
    ``strict`` (under CI) a missing server is an error instead."""
    try:
        import redis  # noqa: F401  (the client the Redis rows need)
    except ImportError as exc:
        notes.append(f"{what} on Redis skipped: {exc}")
        yield None
        return
    try:
        server = redis_server()
        url = server.__enter__()
    except FileNotFoundError as exc:
        if strict:
            raise
        notes.append(f"{what} on Redis skipped: {exc}")
        yield None
        return
    try:
        yield url
    finally:
        server.__exit__(None, None, None)
