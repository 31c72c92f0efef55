"""Start a real gunicorn on 127.0.0.1 with a free port, for end-to-end and load tests.

::

    from gunicorn_util import start

    with start("demo:app", workers=2, worker_class="gthread", chdir=EXAMPLES,
               env={"LOGOUT_DEMO_DB": str(db)}, args=["--threads", "4"]) as server:
        urllib.request.urlopen(server.url + "/")
        ...
    assert server.returncode == 0

gunicorn binds ``127.0.0.1:0``; the kernel picks the port and gunicorn's own log line
``Listening at: http://127.0.0.1:PORT`` tells it. :func:`start` returns once that
line is there, every worker has booted and one HTTP request got an answer, so the
first request of a test never races the boot. :meth:`GunicornServer.stop` sends
SIGTERM and waits for the master's exit code; a server that does not stop in time is
killed with its whole process group, so nothing outlives the test session.

Without gunicorn installed, :func:`start` calls ``conftest.unavailable`` (a skip
locally, a failure under ``CI=true``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

__all__ = ["GunicornServer", "start"]

_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
_BOOTED = re.compile(r"Booting worker with pid: (\d+)")


def _supports_control_socket_flag() -> bool:
    try:
        from gunicorn.config import KNOWN_SETTINGS
    except ImportError:  # pragma: no cover
        return False
    return any(s.name == "control_socket_disable" for s in KNOWN_SETTINGS)


class GunicornServer:
    """A running gunicorn master; see :func:`start`."""

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
        """Everything gunicorn (master, workers, access log) has written so far."""
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace")

    def _forget_log(self) -> None:
        if self._final_log is None:
            self._final_log = self.log()
            shutil.rmtree(self.log_path.parent, ignore_errors=True)

    def worker_pids(self) -> list[int]:
        """The pids of the workers booted so far, in boot order."""
        return [int(p) for p in _BOOTED.findall(self.log())]

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            match = _LISTENING.search(text)
            if match and not self.port:
                self.port = int(match.group(1))
                self.url = f"http://127.0.0.1:{self.port}"
            if self.port and len(_BOOTED.findall(text)) >= self.workers and self._answers():
                return
            if self.process.poll() is not None:
                self.kill()  # reaps any worker left behind
                raise RuntimeError(f"gunicorn exited during start:\n{text[-4000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError(f"gunicorn was not ready in {timeout}s:\n{text[-4000:]}")
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
                f"gunicorn did not stop within {timeout}s of SIGTERM:\n{self.log()[-4000:]}"
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


def start(
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
) -> GunicornServer:
    """Start ``gunicorn app_spec`` on 127.0.0.1 with a free port and wait until ready.

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
    """
    try:
        import gunicorn  # noqa: F401
    except ImportError:  # pragma: no cover
        from conftest import unavailable

        unavailable("gunicorn is not installed")
    log_dir = Path(tempfile.mkdtemp(prefix="logout-gunicorn-"))
    log_path = log_dir / "gunicorn.log"
    command = [sys.executable, "-m", "gunicorn"]
    if config is not None:
        command += ["--config", os.fspath(config)]
    command += [
        "--bind", "127.0.0.1:0",
        "--workers", str(workers),
        "--worker-class", worker_class,
        "--graceful-timeout", "10",
        "--timeout", "30",
        "--log-level", "info",
        "--error-logfile", "-",
        "--access-logfile", "-",
    ]
    if _supports_control_socket_flag():
        command.append("--no-control-socket")
    if chdir is not None:
        command += ["--chdir", os.fspath(chdir)]
    command += list(args)
    if app_spec:
        command.append(app_spec)
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,  # its own process group, for kill()
        )
    server = GunicornServer(process, log_path, workers, ready_path)
    server.wait_ready(timeout)
    return server

