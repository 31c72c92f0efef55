"""Load: a real gunicorn with concurrent clients that log in, browse and log out.

Each simulated user, on its own keep-alive connection: logs in (``POST /login``),
checks who it is (``GET /me``), browses (``GET /page`` twice), checks again, logs out
through the middleware, and checks that its old cookie is now anonymous. One user in
five stays logged in. Afterwards, straight from the store: no record left for any user
who logged out, every record intact for those who stayed. Any status, body or header
that is not the expected one is counted and fails the test; so does any worker crash
(gunicorn logs "Booting worker" again, "Worker exiting", "WORKER TIMEOUT" or a
traceback).

Normal run: sync and gthread workers, SQLite and Redis, 500 logouts and 3 600 other
requests each (2 000 and 14 400 in all). ``make soak``: 5 000 and 36 000 each.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from gunicorn_util import start
from reliability_util import LOGOUT, Client, report, run_threads

from logout_middleware import SQLiteBackend

SOAK = os.environ.get("LOGOUT_MIDDLEWARE_SOAK") == "1"
TESTS = Path(__file__).resolve().parents[1]  # where reliability_util.py lives
CLIENTS = 8
WORKERS = 2


class Tally:
    """Counts requests and collects anything unexpected, from many threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.logouts = 0
        self.others = 0
        self.unexpected: list[str] = []
        self.logged_out: list[str] = []
        self.stayed: dict[str, str] = {}

    def expect(self, ok: bool, what: str) -> None:
        if not ok:
            with self.lock:
                self.unexpected.append(what)


def _user_session(client: Client, name: str, tally: Tally, log_out: bool) -> None:
    status, _, cookies, body = client.request("POST", f"/login?user={name}")
    sid = body.decode()
    tally.expect(status == 200 and any(c.startswith(f"session={sid}") for c in cookies),
                 f"login {status}")
    client.cookie = sid
    status, _, _, body = client.request("GET", "/me")
    tally.expect((status, body) == (200, name.encode()), f"/me {status} {body[:40]!r}")
    for _ in range(2):
        status, _, _, body = client.request("GET", "/page")
        tally.expect((status, body) == (200, b"hello"), f"/page {status}")
    status, _, _, body = client.request("GET", "/me")
    tally.expect((status, body) == (200, name.encode()), f"/me again {status}")
    others = 5
    if log_out:
        status, headers, cookies, body = client.request("POST", LOGOUT)
        tally.expect(
            status == 200
            and json.loads(body) == {"message": "OK"}
            and headers.get("cache-control") == "no-store"
            and any(c.startswith("session=;") and "Max-Age=0" in c for c in cookies),
            f"logout {status} {body[:80]!r}",
        )
        status, _, _, body = client.request("GET", "/me")  # the old cookie, replayed
        tally.expect((status, body) == (200, b"anonymous"), f"/me after logout {body[:40]!r}")
        others += 1
    with tally.lock:
        tally.others += others
        if log_out:
            tally.logouts += 1
            tally.logged_out.append(sid)
        else:
            tally.stayed[sid] = name
    client.cookie = None


def _run_load(server: Any, users: int, tally: Tally) -> float:
    per_client = users // CLIENTS

    def client_loop(i: int) -> None:
        client = Client("127.0.0.1", server.port)
        try:
            for j in range(per_client):
                n = i * per_client + j
                _user_session(client, f"user{n}", tally, log_out=n % 5 != 4)
        finally:
            client.close()

    started = time.monotonic()
    run_threads(client_loop, CLIENTS, timeout=1800 if SOAK else 240)
    return time.monotonic() - started


def _crashes(log: str) -> list[str]:
    booted = re.findall(r"Booting worker with pid", log)
    problems = [
        line
        for line in log.splitlines()
        if re.search(r"Worker exiting|WORKER TIMEOUT|Traceback|Worker \(pid:\d+\) was", line)
    ]
    if len(booted) != WORKERS:
        problems.append(f"{len(booted)} workers booted for {WORKERS}")
    return problems


@pytest.mark.gunicorn
@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
@pytest.mark.parametrize("store_kind", ["sqlite", "redis"])
def test_load_through_gunicorn_loses_nothing(
    store_kind: str, worker_class: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _load(store_kind, worker_class, tmp_path, request, 500)


@pytest.mark.soak
@pytest.mark.gunicorn
@pytest.mark.skipif(not SOAK, reason="long load campaign: run `make soak`")
@pytest.mark.parametrize("worker_class", ["sync", "gthread"])
@pytest.mark.parametrize("store_kind", ["sqlite", "redis"])
def test_soak_load_through_gunicorn_loses_nothing(
    store_kind: str, worker_class: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _load(store_kind, worker_class, tmp_path, request, 5000)


def _load(
    store_kind: str, worker_class: str, tmp_path: Path, request: pytest.FixtureRequest,
    logouts: int,
) -> None:
    users = logouts * 5 // 4  # one in five stays logged in
    if store_kind == "sqlite":
        location = str(tmp_path / "sessions.sqlite3")
        store: Any = SQLiteBackend(location)
    else:
        from logout_middleware.backends import RedisBackend

        redis_server = request.getfixturevalue("redis_server")
        location = redis_server.url
        store = RedisBackend(location)
        store.client.flushdb()
    args = ["--access-logfile", "/dev/null"]
    if worker_class == "gthread":
        args += ["--threads", "4"]
    tally = Tally()
    with start(
        "reliability_util:build_app()",
        workers=WORKERS,
        worker_class=worker_class,
        chdir=TESTS,
        env={"RELIABILITY_STORE": f"{store_kind}:{location}"},
        args=args,
    ) as server:
        elapsed = _run_load(server, users, tally)
        crashes = _crashes(server.log())
    assert server.returncode == 0, server.log()[-3000:]
    assert tally.unexpected == [], f"{len(tally.unexpected)} unexpected: {tally.unexpected[:10]}"
    assert crashes == [], crashes
    assert tally.logouts == sum(1 for n in range(users // CLIENTS * CLIENTS) if n % 5 != 4)
    left = [sid for sid in tally.logged_out if store.get(sid) is not None]
    damaged = [sid for sid, name in tally.stayed.items() if store.get(sid) != {"user": name}]
    assert left == [], f"{len(left)} records left after logout"
    assert damaged == [], f"{len(damaged)} records of users who stayed were lost or changed"
    report(
        f"load[{store_kind}-{worker_class}]",
        logouts=tally.logouts,
        other_requests=tally.others,
        seconds=round(elapsed, 1),
        unexpected=len(tally.unexpected),
        worker_crashes=len(crashes),
        records_left_after_logout=len(left),
        records_lost_of_stayers=len(damaged),
    )
