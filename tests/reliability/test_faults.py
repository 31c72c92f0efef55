"""Fault injection with real servers: the store fails in the middle of a run.

A traffic thread logs sessions out (and sends ordinary requests in between) through
``LogoutMiddleware`` while the main thread breaks the store and repairs it: a backend
that raises; Redis killed; Redis frozen with SIGSTOP; PostgreSQL stopped and started;
the SQLite file locked by another process (``BEGIN EXCLUSIVE``), made read-only, or
removed. Every time:

* a logout answers ``200`` or ``500``, never anything else and never an exception;
* a ``500`` comes promptly (well under :data:`HANG_BOUND` seconds, far above the
  configured timeouts) and still expires the cookie;
* a ``200`` is never given for a record that still exists;
* ordinary requests keep getting the app's answer during the fault;
* once the store is back, logouts succeed again through the same middleware and
  backend objects (no restart).

No test here depends on how much work fits in a time window: each phase of a
campaign ends on an event (a count of answers of a kind), the traffic waits once a
phase's goal is met instead of running through a fixed supply of sessions, and the
only clock is a generous hang guard (:data:`SAFETY_TIMEOUT`). The remaining time
bounds are the property under test (a frozen or locked store gives up within its
configured timeout) with several times that timeout as headroom.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from reliability_util import LOGOUT, checked_call, report

from logout_middleware import LogoutMiddleware, MemoryBackend, SQLiteBackend

#: A logout that takes longer than this has hung (every store below is configured to
#: give up within about 1 to 2 seconds).
HANG_BOUND = 15.0
#: The whole campaign's hang guard. Nothing waits for time to pass: each phase ends
#: on an event (a count of answers), and this only stops a run that makes no
#: progress at all, however slow the machine is.
SAFETY_TIMEOUT = 600.0
#: Logouts sent while the store is being broken or repaired (they straddle the
#: change); then the traffic waits for the change to finish.
TRANSITION_LOGOUTS = 3


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


@dataclass
class Logout:
    sid: str
    status: int
    elapsed: float
    expired: bool
    phase: str


@dataclass
class Campaign:
    """Logouts of sessions while the store is broken and repaired.

    Bounded by counts and events, never by how much work fits in a time window: a
    traffic thread sends one ordinary request and one logout at a time, and in each
    phase only until that phase's goal is met, then waits for the next phase:

    * ``before``: 3 logouts;
    * ``breaking`` / ``repairing`` (the store is being changed): at most
      :data:`TRANSITION_LOGOUTS`, however long the change takes;
    * ``during``: until the fault has been observed (a ``500``) ``during`` times;
    * ``after``: until at least ``after`` logouts, the last 3 of them ``200``
      (recovery observed).

    The sessions come from ``reserve`` (created while the store was up); once it is
    used up, only the ``after`` phase (store up) creates more, so a fault that never
    shows fails on a count ("N logouts and no 500"), not on a clock.
    """

    middleware: LogoutMiddleware
    store: Any
    reserve: list[str]
    logouts: list[Logout] = field(default_factory=list)
    passthrough: list[int] = field(default_factory=list)
    phase: str = "before"
    errors: list[BaseException] = field(default_factory=list)
    during: int = 3
    after: int = 5
    #: Logouts started in each phase (a logout that ends in another phase is
    #: recorded as ``transition`` but counted here where it started).
    sent: dict[str, int] = field(default_factory=dict)
    created: int = 0
    changed: threading.Condition = field(default_factory=threading.Condition)
    stopped: bool = False

    def _logout(self, sid: str) -> None:
        phase = self.phase
        started = time.monotonic()
        answer = checked_call(
            self.middleware,
            {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_COOKIE": f"session={sid}"},
        )
        elapsed = time.monotonic() - started
        if self.phase != phase:  # the store broke or healed during this logout
            phase = "transition"
        assert answer.lint == [], answer.lint
        assert answer.header("Content-Type") == "application/json"
        message = json.loads(answer.body)["message"]
        assert (answer.status == 200) == (message == "OK"), (answer.status, message)
        expired = any(v.startswith("session=;") for v in answer.all("Set-Cookie"))
        with self.changed:
            self.logouts.append(Logout(sid, answer.status, elapsed, expired, phase))
            self.changed.notify_all()

    def _browse(self) -> None:
        answer = checked_call(self.middleware, {"REQUEST_METHOD": "GET", "PATH_INFO": "/page"})
        self.passthrough.append(answer.status)

    def count(self, phase: str, status: int | None = None) -> int:
        return sum(
            1 for r in self.logouts if r.phase == phase and (status is None or r.status == status)
        )

    def recovered(self) -> bool:
        after = [r.status for r in self.logouts if r.phase == "after"]
        return len(after) >= self.after and after[-3:] == [200] * 3

    def goal_met(self, phase: str) -> bool:
        """Whether the traffic has done what ``phase`` needs (then it waits)."""
        if phase == "before":
            return self.count("before") >= 3
        if phase in ("breaking", "repairing"):
            return self.sent.get(phase, 0) >= TRANSITION_LOGOUTS
        if phase == "during":
            return self.count("during", 500) >= self.during
        if phase == "after":
            return self.recovered()
        return True

    def _next_session(self, phase: str) -> str:
        if self.reserve:
            return self.reserve.pop()
        assert phase == "after", (
            f"{len(self.logouts)} logouts and the {phase!r} phase never reached its goal: "
            f"{self.logouts[-3:]}"
        )
        self.created += 1
        sid: str = self.store.create({"user": f"after{self.created}"})
        return sid

    def _traffic(self) -> None:
        try:
            while True:
                with self.changed:
                    while not self.stopped and self.goal_met(self.phase):
                        self.changed.wait()
                    if self.stopped:
                        return
                    phase = self.phase
                    self.sent[phase] = self.sent.get(phase, 0) + 1
                sid = self._next_session(phase)
                self._browse()
                self._logout(sid)
        except BaseException as exc:  # re-raised by run()
            with self.changed:
                self.errors.append(exc)
                self.changed.notify_all()

    def _enter(self, phase: str) -> None:
        with self.changed:
            self.phase = phase
            self.changed.notify_all()

    def _wait(self, phase: str, thread: threading.Thread, deadline: float) -> None:
        """Wait until the traffic has met ``phase``'s goal (or failed)."""
        with self.changed:
            done = self.changed.wait_for(
                lambda: self.goal_met(phase) or bool(self.errors) or not thread.is_alive(),
                timeout=max(0.0, deadline - time.monotonic()),
            )
            if self.errors:
                raise self.errors[0]
            assert done, f"hang guard: no progress in {SAFETY_TIMEOUT:.0f}s: {self.logouts[-3:]}"
            assert self.goal_met(phase), "the traffic thread stopped early"

    def run(self, break_store: Callable[[], None], repair_store: Callable[[], None]) -> None:
        """Let 3 logouts pass, break the store until the fault showed ``during``
        times, repair it, and stop once recovery showed."""
        deadline = time.monotonic() + SAFETY_TIMEOUT
        thread = threading.Thread(target=self._traffic, daemon=True)
        thread.start()
        try:
            self._wait("before", thread, deadline)
            self._enter("breaking")
            break_store()
            self._enter("during")
            try:
                self._wait("during", thread, deadline)
            finally:
                self._enter("repairing")
                repair_store()
            self._enter("after")
            self._wait("after", thread, deadline)
        finally:
            with self.changed:
                self.stopped = True
                self.changed.notify_all()
            thread.join(HANG_BOUND * 2)
        assert not thread.is_alive(), "a logout hung"
        if self.errors:
            raise self.errors[0]
        self.check()

    def check(self) -> None:
        assert self.passthrough and set(self.passthrough) == {200}, "pass-through failed"
        for r in self.logouts:
            assert r.status in (200, 500), r
            assert r.expired, f"cookie not expired: {r}"
            assert r.elapsed < HANG_BOUND, f"logout took {r.elapsed:.1f}s: {r}"
            if r.status == 200:
                assert self.store.get(r.sid) is None, f"OK but the record remains: {r}"
        assert self.count("before", 500) == 0
        assert self.count("during", 500) >= self.during, "the fault never showed"
        assert self.recovered(), "logouts did not recover"
        failed = [r for r in self.logouts if r.status == 500]
        report(
            os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0],
            logouts=len(self.logouts),
            ok=len(self.logouts) - len(failed),
            failed_500=len(failed),
            slowest_500_s=round(max(r.elapsed for r in failed), 3),
            passthrough=len(self.passthrough),
            lost=0,
        )


def _campaign(middleware: LogoutMiddleware, store: Any, n: int = 400) -> Campaign:
    return Campaign(middleware, store, [store.create({"user": f"u{i}"}) for i in range(n)])


# -- a backend that raises --------------------------------------------------------------


class SwitchableBackend(MemoryBackend):
    """A MemoryBackend whose delete raises while ``down`` is set."""

    down = False

    def delete(self, session_id: str) -> None:
        if self.down:
            raise ConnectionError("session store unreachable")
        super().delete(session_id)


def test_backend_raising_mid_run_answers_500_then_recovers() -> None:
    store = SwitchableBackend()
    campaign = _campaign(LogoutMiddleware(hello, store), store)

    def down() -> None:
        store.down = True

    def up() -> None:
        store.down = False

    campaign.run(down, up)
    failed = [r for r in campaign.logouts if r.status == 500]
    assert failed and all(store.get(r.sid) is not None for r in failed)


# -- Redis --------------------------------------------------------------------------------


@pytest.fixture
def redis_store(redis_server: Any) -> Iterator[Any]:
    from logout_middleware.backends import RedisBackend

    store = RedisBackend(redis_server.url, socket_timeout=0.5, socket_connect_timeout=0.5)
    store.client.flushdb()
    yield store
    store.close()


@pytest.mark.redis
def test_redis_killed_mid_run_answers_500_then_recovers(
    redis_server: Any, redis_store: Any
) -> None:
    campaign = _campaign(LogoutMiddleware(hello, redis_store), redis_store)
    campaign.run(redis_server.stop, redis_server.start)


@pytest.mark.redis
def test_redis_frozen_mid_run_answers_500_within_the_timeout_then_recovers(
    redis_server: Any, redis_store: Any
) -> None:
    campaign = _campaign(LogoutMiddleware(hello, redis_store), redis_store)
    campaign.run(redis_server.pause, redis_server.resume)
    # 0.5 s socket timeout and one retry: each frozen logout gave up in about 1 s.
    frozen = [r for r in campaign.logouts if r.phase == "during" and r.status == 500]
    assert max(r.elapsed for r in frozen) < 5.0
    # The connection is not out of step after the freeze: each answer is its own.
    for i in range(20):
        sid = redis_store.create({"user": f"after{i}"})
        assert redis_store.get(sid) == {"user": f"after{i}"}


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_restarted_mid_run_answers_500_then_recovers(postgres_server: Any) -> None:
    import sqlalchemy as sa

    from logout_middleware.backends import SQLAlchemyBackend

    engine = sa.create_engine(
        postgres_server.url, pool_pre_ping=True, connect_args={"connect_timeout": 2}
    )
    try:
        store = SQLAlchemyBackend(engine, table="reliability_sessions", create_table=True)
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM reliability_sessions"))
        campaign = _campaign(LogoutMiddleware(hello, store), store)
        campaign.run(postgres_server.stop, postgres_server.start)
    finally:
        engine.dispose()


# -- SQLite -----------------------------------------------------------------------------------

_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


@contextlib.contextmanager
def _locker(path: Path) -> Iterator[subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "locked"
        yield process
    finally:
        assert process.stdin is not None and process.stdout is not None
        process.stdout.close()
        if process.poll() is None:
            process.stdin.close()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                process.kill()
                process.wait()


def test_sqlite_locked_by_another_process_answers_500_then_recovers(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SQLiteBackend(path, timeout=1.0)
    campaign = _campaign(LogoutMiddleware(hello, store), store)
    lock: list[contextlib.ExitStack] = []

    def take() -> None:
        stack = contextlib.ExitStack()
        stack.enter_context(_locker(path))
        lock.append(stack)

    def release() -> None:
        lock.pop().close()

    campaign.run(take, release)
    locked = [r for r in campaign.logouts if r.phase == "during" and r.status == 500]
    # The backend waited its 1 s busy timeout, and not much more, then gave up.
    assert all(0.5 < r.elapsed < 5.0 for r in locked)
    # Those records were not deleted: the lock held.
    assert all(store.get(r.sid) is not None for r in locked)


# The read-only and removed cases need care. As root, chmod changes nothing (root
# writes anyway), so the application runs as the unprivileged user "nobody" in a child
# process, as it would in production. Even then a chmod only stops connections opened
# after it: a process that already had the file open keeps writing (the kernel checks
# permissions at open time), and a removed file stays writable, unlinked, for whoever
# has it open. Both are shown below.

def _serve_commands(path: Path, commands: Any, answers: Any) -> None:
    """The worker's loop: one request per line, one JSON answer per line."""
    store = SQLiteBackend(path, timeout=1.0, create_table=False)
    app = LogoutMiddleware(hello, store)
    for line in commands:
        request_path, cookie = line.split()
        environ = {
            "REQUEST_METHOD": "GET" if request_path == "/page" else "POST",
            "PATH_INFO": request_path, "HTTP_COOKIE": cookie, "wsgi.url_scheme": "http",
            "SERVER_NAME": "h", "SERVER_PORT": "80",
        }
        seen: list[Any] = []

        def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
            seen.append((status, headers))  # noqa: B023 - called before the next line

        body = b"".join(app(environ, start_response))
        status, headers = seen[0]
        expired = any(v.startswith("session=;") for k, v in headers if k == "Set-Cookie")
        answers.write(json.dumps([int(status[:3]), body.decode(), expired]) + "\n")
        answers.flush()


class Worker:
    """The application in a forked child process, as user ``nobody`` when we are root.

    (Forked, not executed: the interpreter lives under /root, which ``nobody`` cannot
    read.)
    """

    def __init__(self, path: Path) -> None:
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 0
            try:
                os.close(to_child_w)
                os.close(to_parent_r)
                logging.disable(logging.CRITICAL)
                if os.geteuid() == 0:
                    os.setgroups([])
                    os.setgid(65534)
                    os.setuid(65534)
                with os.fdopen(to_child_r) as commands, os.fdopen(to_parent_w, "w") as answers:
                    _serve_commands(path, commands, answers)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(to_child_r)
        os.close(to_parent_w)
        self.pid = pid
        self.commands = os.fdopen(to_child_w, "w")
        self.answers = os.fdopen(to_parent_r)

    def call(self, path: str, sid: str) -> tuple[int, str, bool]:
        self.commands.write(f"{path} session={sid}\n")
        self.commands.flush()
        line = self.answers.readline()
        assert line, "the worker died"
        status, body, expired = json.loads(line)
        return status, body, expired

    def close(self) -> None:
        self.commands.close()
        self.answers.close()
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:  # pragma: no cover
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.01)


@contextlib.contextmanager
def _worker(path: Path) -> Iterator[Worker]:
    worker = Worker(path)
    try:
        yield worker
    finally:
        worker.close()


@pytest.fixture
def shared_db() -> Iterator[tuple[Path, SQLiteBackend]]:
    """A session file that the unprivileged worker can write, as deployed (not under
    pytest's tmp_path, whose parents only root may enter)."""
    directory = Path(tempfile.mkdtemp(prefix="logout-reliability-"))
    try:
        os.chmod(directory, 0o777)
        path = directory / "sessions.sqlite3"
        store = SQLiteBackend(path)
        store.create({"user": "setup"})
        for f in directory.iterdir():
            os.chmod(f, 0o666)
        yield path, store
        store.close()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _make_read_only(path: Path) -> None:
    for f in path.parent.iterdir():
        os.chmod(f, 0o444)


def _make_writable(path: Path) -> None:
    for f in path.parent.iterdir():
        os.chmod(f, 0o666)


def test_sqlite_made_read_only_fails_new_connections_with_500(
    shared_db: tuple[Path, SQLiteBackend],
) -> None:
    path, store = shared_db
    a, b = store.create({"user": "a"}), store.create({"user": "b"})
    _make_read_only(path)
    try:
        with _worker(path) as worker:  # a worker (re)started after the chmod
            started = time.monotonic()
            status, body, expired = worker.call(LOGOUT, a)
            assert time.monotonic() - started < HANG_BOUND
            assert status == 500 and expired, body
            assert store.get(a) == {"user": "a"}, "500, and the record is intact"
            assert worker.call("/page", "x")[:2] == (200, "hello"), "pass-through stops"
    finally:
        _make_writable(path)
    with _worker(path) as worker:  # a new worker once it is writable again
        assert worker.call(LOGOUT, b)[0] == 200
    assert store.get(b) is None


def test_sqlite_made_read_only_under_a_running_worker_never_lies(
    shared_db: tuple[Path, SQLiteBackend],
) -> None:
    path, store = shared_db
    sessions = [store.create({"user": str(i)}) for i in range(3)]
    with _worker(path) as worker:
        assert worker.call(LOGOUT, sessions[0])[0] == 200  # its connection is open
        _make_read_only(path)
        try:
            status, _body, expired = worker.call(LOGOUT, sessions[1])
        finally:
            _make_writable(path)
        # The open file stays writable for it: OK, and then the record is really gone.
        assert expired
        if status == 200:
            assert store.get(sessions[1]) is None
        else:
            assert status == 500 and store.get(sessions[1]) is not None
        assert worker.call(LOGOUT, sessions[2])[0] == 200
    assert store.get(sessions[2]) is None


def test_sqlite_read_only_recovers_without_a_restart(
    shared_db: tuple[Path, SQLiteBackend],
) -> None:
    path, store = shared_db
    a, b = store.create({"user": "a"}), store.create({"user": "b"})
    _make_read_only(path)
    try:
        with _worker(path) as worker:
            assert worker.call(LOGOUT, a)[0] == 500
            _make_writable(path)
            assert worker.call(LOGOUT, b)[0] == 200, "still failing after the repair"
    finally:
        _make_writable(path)
    assert store.get(b) is None


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


def _backup(path: Path, to: Path) -> None:
    src, dst = sqlite3.connect(path), sqlite3.connect(to)
    with dst:
        src.backup(dst)
    src.close()
    dst.close()


def _in_new_thread(fn: Callable[[], Any]) -> Any:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(fn()))
    thread.start()
    thread.join(HANG_BOUND)
    assert not thread.is_alive()
    return result[0]


def test_sqlite_file_removed_answers_500_and_pass_through_flows(tmp_path: Path) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SQLiteBackend(path, timeout=1.0)
    middleware = LogoutMiddleware(hello, store)
    a = store.create({"user": "a"})
    _remove(path)

    def logout() -> Any:
        started = time.monotonic()
        answer = checked_call(
            middleware,
            {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_COOKIE": f"session={a}"},
        )
        return answer, time.monotonic() - started

    # A thread (a worker) that opens the database after the removal finds no table.
    answer, elapsed = _in_new_thread(logout)
    assert answer.status == 500 and elapsed < HANG_BOUND
    assert any(v.startswith("session=;") for v in answer.all("Set-Cookie"))
    page = checked_call(middleware, {"REQUEST_METHOD": "GET", "PATH_INFO": "/page"})
    assert (page.status, page.body) == (200, b"hello")
    # The operator restores the file: a new connection logs out again.
    _remove(path)
    SQLiteBackend(path)  # recreates the table, as the application's start-up would
    b = SQLiteBackend(path).create({"user": "b"})
    answer = _in_new_thread(
        lambda: checked_call(
            middleware,
            {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_COOKIE": f"session={b}"},
        )
    )
    assert answer.status == 200 and SQLiteBackend(path).get(b) is None


def test_sqlite_file_restored_from_backup_is_never_reported_ok_while_the_record_remains(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.sqlite3"
    store = SQLiteBackend(path, timeout=1.0)  # this thread's connection is open now
    middleware = LogoutMiddleware(hello, store)
    sid = store.create({"user": "a"})
    _backup(path, tmp_path / "backup.sqlite3")
    _remove(path)
    shutil.move(tmp_path / "backup.sqlite3", path)
    answer = checked_call(
        middleware,
        {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "HTTP_COOKIE": f"session={sid}"},
    )
    fresh = SQLiteBackend(path)
    assert answer.status != 200 or fresh.get(sid) is None, "200 OK, record still there"
