"""Concurrency: the same session logged out twice at once, and a logout racing the
session's own ordinary requests -- from threads (one process) and from processes
(gunicorn's sync workers, and separate client processes).

Exactly-once effects: the record is gone, every logout answers 200 OK (logout is
idempotent, so the loser of the race is not an error), every ordinary request gets the
app's answer (the user, or anonymous once the logout has answered), nothing raises.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from gunicorn_util import start
from reliability_util import LOGOUT, Client, logout_ok, make_app, report, run_threads

from logout_middleware import LogoutMiddleware, MemoryBackend, SQLiteBackend

TESTS = Path(__file__).resolve().parents[1]  # where reliability_util.py lives
ROUNDS = 100


def _call(app: Any, method: str, path: str, sid: str) -> tuple[int, bytes]:
    environ = {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "",
        "HTTP_COOKIE": f"session={sid}", "wsgi.url_scheme": "http",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
    }
    seen: list[str] = []
    body = b"".join(app(environ, lambda status, headers, exc_info=None: seen.append(status)))
    return int(seen[0][:3]), body


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "memory":
        return MemoryBackend()
    return SQLiteBackend(tmp_path / "sessions.sqlite3")


def test_two_threads_logging_out_the_same_session_both_get_ok(store: Any) -> None:
    app = LogoutMiddleware(make_app(store), store)
    for _ in range(ROUNDS):
        sid = store.create({"user": "ada"})
        answers: list[tuple[int, bytes]] = []

        def logout(i: int, sid: str = sid, answers: list[Any] = answers) -> None:
            answers.append(_call(app, "POST", LOGOUT, sid))

        run_threads(logout, 2)
        assert [logout_ok(*a) for a in answers] == [True, True], answers
        assert store.get(sid) is None


def _race(app: Any, sid: str) -> tuple[tuple[int, bytes], list[bytes]]:
    """One thread logs ``sid`` out while three others browse with it."""
    answers: list[tuple[int, bytes]] = []
    done = threading.Event()
    after: list[bytes] = []

    def act(i: int) -> None:
        if i == 0:
            answers.append(_call(app, "POST", LOGOUT, sid))
            done.set()
            return
        for _ in range(5):
            started_after_logout = done.is_set()
            status, body = _call(app, "GET", "/me", sid)
            assert status == 200 and body in (b"ada", b"anonymous"), (status, body)
            if started_after_logout:
                after.append(body)

    run_threads(act, 4)
    return answers[0], after


def test_logout_racing_the_sessions_own_requests_in_threads(store: Any) -> None:
    app = LogoutMiddleware(make_app(store), store)
    for _ in range(ROUNDS // 2):
        sid = store.create({"user": "ada"})
        answer, after = _race(app, sid)
        assert logout_ok(*answer)
        assert store.get(sid) is None
        assert set(after) <= {b"anonymous"}, "the session was still alive after OK"


_CLIENT = """
import http.client, json, sys
port, sid, start_at = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
import time
time.sleep(max(0.0, start_at - time.time()))
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
conn.request("POST", sys.argv[4], body=b"", headers={"Cookie": "session=" + sid})
r = conn.getresponse()
print(json.dumps([r.status, r.read().decode()]))
"""


@pytest.mark.gunicorn
@pytest.mark.parametrize("store_kind", ["sqlite", "redis"])
def test_same_session_logged_out_from_processes_at_once_under_gunicorn(
    store_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    import time

    if store_kind == "sqlite":
        location = str(tmp_path / "sessions.sqlite3")
        store: Any = SQLiteBackend(location)
    else:
        from logout_middleware.backends import RedisBackend

        location = request.getfixturevalue("redis_server").url
        store = RedisBackend(location)
    with start(
        "reliability_util:build_app()", workers=2, worker_class="sync", chdir=TESTS,
        env={"RELIABILITY_STORE": f"{store_kind}:{location}"},
        args=["--access-logfile", "/dev/null"],
    ) as server:
        # Two client processes, two sync worker processes: the same cookie, sent at
        # the same instant.
        for _ in range(10):
            sid = store.create({"user": "ada"})
            at = time.time() + 0.3
            procs = [
                subprocess.Popen(
                    [sys.executable, "-c", _CLIENT, str(server.port), sid, str(at), LOGOUT],
                    stdout=subprocess.PIPE, text=True,
                )
                for _ in range(2)
            ]
            outs = [p.communicate(timeout=60)[0] for p in procs]
            answers = [json.loads(out) for out in outs]
            assert all(a == [200, '{"message": "OK"}'] for a in answers), answers
            assert store.get(sid) is None
        # Many threads: each session logged out by 2 at once while 2 more browse it.
        sessions = [store.create({"user": f"u{i}"}) for i in range(ROUNDS)]
        problems: list[Any] = []

        def hammer(i: int) -> None:
            client = Client("127.0.0.1", server.port)
            try:
                for sid in sessions:
                    if i < 2:
                        status, _, _, body = client.request("POST", LOGOUT, cookie=sid)
                        if not logout_ok(status, body):
                            problems.append((status, body))
                    else:
                        status, _, _, body = client.request("GET", "/me", cookie=sid)
                        if status != 200 or not body.startswith((b"u", b"anonymous")):
                            problems.append((status, body))
            finally:
                client.close()

        run_threads(hammer, 4)
        log = server.log()
    assert server.returncode == 0
    assert problems == []
    assert [s for s in sessions if store.get(s) is not None] == []
    assert log.count("Booting worker") == 2 and "Traceback" not in log
    report(f"concurrency[{store_kind}]", double_logouts=10 + ROUNDS, browsing=2 * ROUNDS,
           errors=0, records_left=0)
