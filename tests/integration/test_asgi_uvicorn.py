"""The ASGI twin under a real uvicorn with 2 workers: a real Chromium, Redis faults, a
bounded load.

* **Chromium** (headless Debian Chromium, driven by Playwright, as in
  ``test_browser.py``) against ``examples/starlette_app.py``: a page on another site
  (``evil.test``, another port, mapped to 127.0.0.1 by ``--host-resolver-rules``)
  auto-submits a form to the logout path: refused (``403``), and the session lives
  on; then the page's own "Log out" button: the cookie is gone from the browser, and
  the same cookie put back into a browser is refused.
* **Faults** against ``examples/fastapi_app.py`` on a private ``redis-server`` (so the
  shared one is not disturbed), with 1 s socket timeouts: Redis stopped (connections
  refused), then started again; frozen (SIGSTOP: connections accepted, nothing
  answers), then resumed. Every logout during a fault answers ``500`` with the cookie
  expired, within :data:`PROMPT` seconds (a frozen Redis costs at most 2 s: 1 s
  timeout, one retry); a page that does not need Redis is answered throughout; once
  Redis is back, logouts succeed again in the same workers.
* **Load** against the FastAPI example on the shared test Redis: :data:`CLIENTS`
  threads, :data:`USERS_PER_CLIENT` users each, every one logging in, reading its
  page, logging out and replaying its old cookie; one in five stays. Nothing is lost:
  every logout answered as a success ended its session in Redis (record and index
  link), the stayers' records are intact, no ``5xx``, every other request answered as
  expected.

Bounded by counts and events: the only clocks are the fault timeouts under test, with
several times their value as margin.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from conftest import unavailable
from example_apps import EXAMPLES
from servers import RedisServer
from test_browser import (  # the module-scoped Chromium of the browser tests
    Shots,
    attacker,  # noqa: F401 - a page on another origin that posts a form to the logout
    browser,  # noqa: F401 - the browser fixture
    cookies,
    new_page,
)
from uvicorn_util import UvicornServer, new_client, problems, start

from benchmarks import harness
from logout_middleware import DEFAULT_LOGOUT_PATH, RedisSessionIndex

WORKERS = 2

#: Redis socket timeouts in the fault test (seconds), and how long a logout may take
#: while Redis is down or frozen: a frozen Redis costs the timeout twice (one retry),
#: 2 s; the bound is four times that.
REDIS_TIMEOUT = 1.0
PROMPT = 8.0
#: Load: client threads, users per thread (one in five stays logged in).
CLIENTS = 4
USERS_PER_CLIENT = 50


# -- Chromium ---------------------------------------------------------------------------

@pytest.mark.browser
def test_chromium_refuses_a_cross_site_logout_and_drops_the_cookie_on_logout(
    browser: Any,  # noqa: F811 - the fixture imported above
    attacker: Any,  # noqa: F811 - the fixture imported above
    tmp_path: Path,
) -> None:
    from playwright.sync_api import expect

    revoked = tmp_path / "revoked.sqlite3"
    with start(
        "starlette_app:app",
        workers=WORKERS,
        app_dir=EXAMPLES,
        env={"STARLETTE_EXAMPLE_REVOKED": f"sqlite:///{revoked}"},
    ) as server:
        site = server.url  # http://127.0.0.1:PORT: a potentially trustworthy origin
        evil = f"http://evil.test:{attacker(site + DEFAULT_LOGOUT_PATH)}/"
        context, page = new_page(browser)
        shot = Shots(page, "asgi-uvicorn")
        try:
            page.goto(site + "/")
            page.fill("#username", "ada")
            with page.expect_navigation():
                page.click("#login")
            expect(page.locator("#user")).to_have_text("ada")
            shot("logged-in")
            (cookie,) = cookies(context, "session")
            assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
            assert cookie["path"] == "/"

            # Another site's form: refused, nothing expired, the session lives on.
            with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
                page.goto(evil)
            refused = info.value
            assert refused.request.method == "POST"
            assert refused.status == 403
            assert refused.header_value("set-cookie") is None
            expect(page.locator("body")).to_contain_text("Cross-site logout request refused")
            shot("cross-site-refused")
            assert [c["value"] for c in cookies(context, "session")] == [cookie["value"]]
            page.goto(site + "/")
            expect(page.locator("#user")).to_have_text("ada")

            # The page's own button: 303 back to the page, the cookie gone.
            with page.expect_response(lambda r: r.url.endswith(DEFAULT_LOGOUT_PATH)) as info:
                page.click("#logout")
            assert info.value.status == 303
            expect(page.locator("#user")).to_have_text("anonymous")
            shot("logged-out")
            assert cookies(context, "session") == [], "the browser kept the session cookie"

            # The same cookie, put back: anonymous, and dropped again.
            context.add_cookies([{**cookie, "expires": -1}])
            page.goto(site + "/")
            expect(page.locator("#user")).to_have_text("anonymous")
            shot("copied-cookie-refused")
            assert cookies(context, "session") == []
        finally:
            context.close()
    assert server.returncode == 0, server.log()[-3000:]
    assert problems(server, WORKERS) == []


# -- Redis faults -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def private_redis() -> Iterator[RedisServer]:
    """A redis-server of this module's own: stopped and frozen by the tests."""
    try:
        with harness.redis_server() as server:
            yield server
    except harness.Unavailable as exc:
        unavailable(str(exc))


@dataclass
class Outcome:
    status: int
    seconds: float
    expired: bool
    body: str


def log_in(server: UvicornServer, username: str) -> tuple[httpx.Client, str]:
    client = new_client(server)
    answer = client.post("/login", data={"username": username})
    assert answer.status_code == 303, answer.text
    return client, client.cookies["session_id"]


def log_out(server: UvicornServer, session_id: str) -> Outcome:
    """A logout with this session cookie, on a new connection: its answer and time."""
    with new_client(server, cookies={"session_id": session_id}) as client:
        started = time.monotonic()
        answer = client.post(DEFAULT_LOGOUT_PATH)
        seconds = time.monotonic() - started
    expired = any(
        h.startswith("session_id=;") and "Max-Age=0" in h
        for h in answer.headers.get_list("set-cookie")
    )
    return Outcome(answer.status_code, seconds, expired, answer.text)


def page_answers(server: UvicornServer, times: int) -> list[int]:
    """GET the page without a cookie (it needs no Redis) ``times`` times."""
    with new_client(server) as client:
        return [client.get("/").status_code for _ in range(times)]


@pytest.mark.redis
def test_redis_stopped_and_frozen_gives_prompt_500s_and_logouts_recover(
    private_redis: RedisServer,
) -> None:
    url = (
        f"{private_redis.url}?socket_timeout={REDIS_TIMEOUT:g}"
        f"&socket_connect_timeout={REDIS_TIMEOUT:g}"
    )
    raw = redis.Redis(host="127.0.0.1", port=private_redis.port, socket_timeout=5)
    with start(
        "fastapi_app:app", workers=WORKERS, app_dir=EXAMPLES, env={"FASTAPI_EXAMPLE_REDIS": url}
    ) as server:

        def sessions(n: int, name: str) -> list[str]:
            return [log_in(server, f"{name}{i}")[1] for i in range(n)]

        def recovered(name: str) -> None:
            # Both workers' pools held connections the fault broke: new sessions, and
            # logouts on new connections, until each worker has logged out again.
            ids = sessions(6, name)
            outcomes = [log_out(server, sid) for sid in ids]
            assert [o.status for o in outcomes] == [303] * 6, outcomes
            assert [raw.exists(f"session:{sid}") for sid in ids] == [0] * 6

        def failing(ids: list[str]) -> list[Outcome]:
            outcomes = [log_out(server, sid) for sid in ids]
            for o in outcomes:
                assert o.status == 500 and json.loads(o.body)["message"] != "OK", o
                assert o.expired, f"a failed logout must still expire the cookie: {o}"
                assert o.seconds < PROMPT, f"a logout took {o.seconds:.1f} s: {o}"
            assert page_answers(server, 4) == [200] * 4
            return outcomes

        recovered("before")
        # Stopped: connections refused.
        doomed = sessions(4, "stopped")
        with private_redis.stopped():
            failing(doomed)
        raw.connection_pool.disconnect()
        recovered("restarted")
        # Frozen: connections accepted, nothing answered; each logout gives up after
        # its socket timeouts.
        frozen = sessions(4, "frozen")
        with private_redis.paused():
            outcomes = failing(frozen)
        assert all(o.seconds >= REDIS_TIMEOUT * 0.9 for o in outcomes), outcomes
        recovered("resumed")
    raw.close()
    assert server.returncode == 0, server.log()[-3000:]
    assert problems(server, WORKERS) == []
    assert server.log().count("logout failed: error reference") == 8


# -- load ---------------------------------------------------------------------------------


@dataclass
class Tally:
    lock: threading.Lock = field(default_factory=threading.Lock)
    unexpected: list[str] = field(default_factory=list)
    logged_out: list[str] = field(default_factory=list)
    stayed: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def expect(self, ok: bool, what: str) -> None:
        with self.lock:
            self.requests += 1
            if not ok:
                self.unexpected.append(what)


def _user(client: httpx.Client, name: str, stays: bool, tally: Tally) -> None:
    client.cookies.clear()
    answer = client.post("/login", data={"username": name})
    tally.expect(answer.status_code == 303 and "session_id" in client.cookies, f"login {answer}")
    sid = client.cookies.get("session_id", "")
    for path in ("/me", "/", "/me"):
        answer = client.get(path)
        tally.expect(answer.status_code == 200 and name in answer.text, f"{path} {answer}")
    if stays:
        with tally.lock:
            tally.stayed[sid] = name
        return
    answer = client.post(DEFAULT_LOGOUT_PATH)
    expired = any(h.startswith("session_id=;") for h in answer.headers.get_list("set-cookie"))
    tally.expect(answer.status_code == 303 and expired, f"logout {answer}")
    answer = client.get("/me", headers={"Cookie": f"session_id={sid}"})  # the old cookie
    tally.expect(answer.status_code == 200 and answer.json() == {"user": None}, f"replay {answer}")
    with tally.lock:
        tally.logged_out.append(sid)


@pytest.mark.redis
def test_a_bounded_load_through_uvicorn_loses_nothing(redis_server: RedisServer) -> None:
    url = f"redis://127.0.0.1:{redis_server.port}/8"
    raw = redis.Redis.from_url(url)
    raw.flushdb()
    tally = Tally()
    errors: list[BaseException] = []
    with start(
        "fastapi_app:app",
        workers=WORKERS,
        app_dir=EXAMPLES,
        env={"FASTAPI_EXAMPLE_REDIS": url},
        access_log=False,
    ) as server:

        def client_loop(c: int) -> None:
            try:
                with httpx.Client(base_url=server.url, timeout=30) as client:  # keep-alive
                    for u in range(USERS_PER_CLIENT):
                        n = c * USERS_PER_CLIENT + u
                        _user(client, f"user{n}", n % 5 == 4, tally)
            except BaseException as exc:  # re-raised below
                errors.append(exc)

        threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(600)
        assert not any(t.is_alive() for t in threads), "a client hung"
    if errors:
        raise errors[0]
    assert server.returncode == 0, server.log()[-3000:]
    assert problems(server, WORKERS) == []
    assert tally.unexpected == [], f"{len(tally.unexpected)} unexpected: {tally.unexpected[:5]}"
    users = CLIENTS * USERS_PER_CLIENT
    assert len(tally.logged_out) == users * 4 // 5 and len(tally.stayed) == users // 5
    index = RedisSessionIndex(url)
    try:
        left = [sid for sid in tally.logged_out if raw.exists(f"session:{sid}")]
        linked = [sid for sid in tally.logged_out if index.labels(sid)]
        damaged = [
            sid
            for sid, name in tally.stayed.items()
            if json.loads(raw.get(f"session:{sid}") or "null") != {"user": name}
            or index.labels(sid) != {"user": name}
        ]
    finally:
        index.close()
        raw.close()
    assert left == [], f"{len(left)} records left after a successful logout"
    assert linked == [], f"{len(linked)} index links left after a successful logout"
    assert damaged == [], f"{len(damaged)} records of users who stayed were lost or changed"
