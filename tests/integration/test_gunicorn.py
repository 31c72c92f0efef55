"""End to end under a real gunicorn: the demo on 2 workers, sync and gthread, over HTTP.

Sessions are created through the demo's login form on fresh connections and logged
out through other connections; the records must be gone from the store every worker
shares (SQLite, Redis), a logout answered by one worker must end a session created by
the other, no raw id may reach the log, and SIGTERM must stop the server cleanly.
"""

from __future__ import annotations

import http.client
import json
import re
import statistics
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

import pytest
from example_apps import EXAMPLES
from gunicorn_util import GunicornServer, start

from logout_middleware import DEFAULT_LOGOUT_PATH, SQLiteBackend, fingerprint

pytestmark = pytest.mark.gunicorn

LOGIN_LINE = re.compile(r"\[(\d+)\] \[INFO\] demo: login: session=([0-9a-f]{16})")
LOGOUT_LINE = re.compile(r"\[(\d+)\] \[INFO\] logout_middleware: logout ok: session=([0-9a-f]{16})")
PAGE_USER = re.compile(r'<strong id="user">([^<]*)</strong>')
PAGE_PID = re.compile(r'<span id="pid">(\d+)</span>')


@dataclass
class Login:
    username: str
    session: str
    xsrf: str


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def request(
    port: int,
    method: str,
    path: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Answer:
    """One request on its own, new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def login(port: int, username: str) -> Login:
    answer = request(
        port,
        "POST",
        "/login",
        urlencode({"username": username}).encode(),
        {"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert answer.status == 303, answer.body
    jar: SimpleCookie = SimpleCookie()
    for header in answer.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return Login(username, jar["session"].value, jar["XSRF-TOKEN"].value)


def page(port: int, cookie: str) -> tuple[str, int]:
    """The user the page shows for ``cookie``, and the pid of the worker that served it."""
    answer = request(port, "GET", "/", headers={"Cookie": cookie})
    text = answer.body.decode()
    user, pid = PAGE_USER.search(text), PAGE_PID.search(text)
    assert answer.status == 200 and user and pid, text
    return user.group(1), int(pid.group(1))


def logout(port: int, who: Login) -> Answer:
    """Log out the way Studio's UI does: POST JSON {} with the double-submit header."""
    return request(
        port,
        "POST",
        DEFAULT_LOGOUT_PATH,
        b"{}",
        {
            "Content-Type": "application/json",
            "X-XSRF-TOKEN": who.xsrf,
            "Cookie": f"session={who.session}; XSRF-TOKEN={who.xsrf}",
        },
    )


@dataclass
class Store:
    env: dict[str, str]
    exists: Callable[[str], bool]


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        db = tmp_path / "sessions.sqlite3"
        backend = SQLiteBackend(db)
        yield Store({"LOGOUT_DEMO_DB": str(db)}, lambda sid: backend.get(sid) is not None)
        backend.close()
    else:
        import redis

        server = request.getfixturevalue("redis_server")
        client = redis.Redis.from_url(server.url, socket_timeout=5)
        yield Store(
            {"LOGOUT_DEMO_STORE": server.url, "LOGOUT_DEMO_DB": str(tmp_path / "unused")},
            lambda sid: bool(client.exists(f"session:{sid}")),
        )
        client.close()


def start_demo(worker_class: str, env: dict[str, str]) -> GunicornServer:
    args = ["--threads", "4"] if worker_class == "gthread" else []
    return start(
        "demo:app",
        workers=2,
        worker_class=worker_class,
        env=env,
        chdir=EXAMPLES,
        config=EXAMPLES / "gunicorn.conf.py",
        args=args,
    )


def pids_by_fingerprint(pattern: re.Pattern[str], log: str) -> dict[str, int]:
    return {fp: int(pid) for pid, fp in pattern.findall(log)}


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_logout_through_gunicorn_removes_records_shared_by_both_workers(
    worker_class: str, store: Store
) -> None:
    server = start_demo(worker_class, store.env)
    with server:
        port = server.port
        logins: list[Login] = []
        crossed = False
        latencies: list[float] = []
        # Rounds of 8 until some session was logged out by the worker that did not
        # create it (bounded: the kernel spreads connections over both workers).
        for round_ in range(8):
            batch = [login(port, f"user{round_}-{i}") for i in range(8)]
            for who in batch:
                assert store.exists(who.session), "login did not create the record"
                assert page(port, f"session={who.session}")[0] == who.username
            for who in batch:
                began = time.perf_counter()
                answer = logout(port, who)
                latencies.append(time.perf_counter() - began)
                assert answer.status == 200, answer.body
                assert json.loads(answer.body) == {"message": "OK"}
                assert answer.headers["Cache-Control"] == "no-store"
                expired = answer.headers.get_all("Set-Cookie") or []
                assert any(h.startswith("session=;") and "Max-Age=0" in h for h in expired)
                assert not store.exists(who.session), "logout left the record behind"
                assert page(port, f"session={who.session}")[0] == "anonymous"
            logins += batch
            time.sleep(0.2)  # let the workers flush their log lines
            log = server.log()
            created = pids_by_fingerprint(LOGIN_LINE, log)
            ended = pids_by_fingerprint(LOGOUT_LINE, log)
            crossed = any(
                created[fingerprint(w.session)] != ended[fingerprint(w.session)] for w in logins
            )
            if crossed:
                break
        workers = set(server.worker_pids())
        assert len(workers) == 2
        assert set(created.values()) | set(ended.values()) <= workers
        assert crossed, "no session was logged out by another worker than its creator"
        print(
            f"\n{worker_class}/{len(logins)} logouts over HTTP: median "
            f"{statistics.median(latencies) * 1000:.2f} ms, max {max(latencies) * 1000:.2f} ms"
        )

    assert server.returncode == 0, server.log()[-3000:]
    log = server.log()
    assert "Shutting down: Master" in log
    assert "Traceback" not in log
    for who in logins:
        assert who.session not in log and who.xsrf not in log, "a raw id reached the log"


@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
def test_concurrent_logouts_of_many_sessions_all_succeed(
    worker_class: str, tmp_path: Path
) -> None:
    db = tmp_path / "sessions.sqlite3"
    backend = SQLiteBackend(db)
    with start_demo(worker_class, {"LOGOUT_DEMO_DB": str(db)}) as server:
        port = server.port
        with ThreadPoolExecutor(max_workers=8) as pool:
            logins = list(pool.map(lambda i: login(port, f"c{i}"), range(40)))
            assert backend.count() == 40
            # Every session logged out twice at once: idempotent, never an error.
            answers = list(pool.map(lambda w: logout(port, w).status, logins + logins))
        assert answers == [200] * 80
        assert backend.count() == 0
    assert server.returncode == 0
    backend.close()


def test_refused_cross_site_logout_keeps_the_session_under_gunicorn(tmp_path: Path) -> None:
    db = tmp_path / "sessions.sqlite3"
    backend = SQLiteBackend(db)
    with start_demo("sync", {"LOGOUT_DEMO_DB": str(db)}) as server:
        who = login(server.port, "victim")
        answer = request(
            server.port,
            "POST",
            DEFAULT_LOGOUT_PATH,
            b"",
            {
                "Origin": "http://evil.test",
                "Sec-Fetch-Site": "cross-site",
                "Cookie": f"session={who.session}; XSRF-TOKEN={who.xsrf}",
                "X-XSRF-TOKEN": who.xsrf,
            },
        )
        assert answer.status == 403
        assert "Set-Cookie" not in answer.headers
        assert backend.get(who.session) == {"username": "victim"}
    assert server.returncode == 0
    backend.close()


def test_gunicorn_util_reports_the_real_port_and_stops_cleanly(tmp_path: Path) -> None:
    server = start_demo("sync", {"LOGOUT_DEMO_DB": str(tmp_path / "s.sqlite3")})
    assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
    assert server.pid > 0 and len(server.worker_pids()) == 2
    assert server.stop() == 0
    with pytest.raises(OSError):
        request(server.port, "GET", "/")
