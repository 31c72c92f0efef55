"""OIDC logout across gunicorn workers (issue 13): examples/oidc_app.py served by two
sync workers that share the sessions and the index on Redis or on PostgreSQL, and the
replay cache in a Redis or an SQLite revocation store, against a real OpenID Provider
on loopback.

Every answer names its worker (``X-Worker-Pid``), and a test decides which worker
answers by keeping the other one busy (``POST /hold``, see ``oidc_example_server``):
so a back-channel logout is *made* to reach the worker that did not create the
session, instead of hoping the kernel spreads the connections that way.
"""

from __future__ import annotations

import base64
import http.client
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from oidc_example_server import PID_HEADER, Workers, open_stores, serve
from oidc_provider import OpenIDProvider

pytestmark = [pytest.mark.gunicorn]

BACKCHANNEL = "/oidc/backchannel-logout"
BASE_URL = "http://localhost:8000"  # the redirect URI's origin: never visited here


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def pid(self) -> int:
        return int(self.headers[PID_HEADER])

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> Answer:
    """One request on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, target, body=body or None, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def claims_of(token: str) -> dict[str, Any]:
    """The payload of a JWT, unchecked (the provider's own token, read back)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "==="))
    return decoded


@dataclass
class Login:
    session_id: str
    #: The worker that created the session.
    pid: int
    #: The provider's session (the ID token's sid).
    sid: str


@dataclass
class Served:
    provider: OpenIDProvider
    port: int
    workers: Workers
    #: The session store, the index and the replay store, as the workers have them.
    backend: Any
    index: Any
    replay: Any

    def log_in(self) -> Login:
        """The authorization-code flow, as a browser follows it: the example's /login,
        the provider's authorization endpoint, the example's /callback."""
        start = request(self.port, "GET", "/login")
        assert start.status == 303, start.body
        pending = start.headers["Set-Cookie"].split(";")[0]
        authorize = urlsplit(start.headers["Location"])
        assert authorize.port == self.provider.port
        granted = request(self.provider.port, "GET", f"{authorize.path}?{authorize.query}")
        assert granted.status == 302, granted.body
        callback = urlsplit(granted.headers["Location"])
        assert f"{callback.scheme}://{callback.netloc}{callback.path}" == BASE_URL + "/callback"
        done = request(self.port, "GET", f"/callback?{callback.query}", headers={"Cookie": pending})
        assert done.status == 303, done.body
        cookies = done.headers.get_all("Set-Cookie") or []
        (session,) = (c for c in cookies if c.startswith("session="))
        session_id = session.split(";")[0].removeprefix("session=")
        sid = claims_of(self.provider.issued[-1])["sid"]
        return Login(session_id, done.pid, sid)

    def backchannel(self, token: str) -> Answer:
        return request(
            self.port,
            "POST",
            BACKCHANNEL,
            urlencode({"logout_token": token}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def user_on_page(self, session_id: str) -> str:
        page = request(self.port, "GET", "/", headers={"Cookie": f"session={session_id}"})
        text = page.body.decode()
        return text.split('<strong id="user">', 1)[1].split("<", 1)[0]

    def alive(self, login: Login) -> bool:
        """Whether the session's record is in the store, and its index entry."""
        record = self.backend.get(login.session_id) is not None
        labels = bool(self.index.labels(login.session_id))
        assert record == labels, "the store and the index disagree"
        return record


@pytest.fixture(scope="module")
def provider() -> Iterator[OpenIDProvider]:
    with OpenIDProvider() as running:
        yield running


@pytest.fixture(scope="module", params=["redis", "postgresql"])
def served(request: pytest.FixtureRequest, provider: OpenIDProvider) -> Iterator[Served]:
    """The example on 2 workers: sessions and index on Redis with the replay cache in
    Redis, or on PostgreSQL with the replay cache in an SQLite file."""
    name = f"oidc_{secrets.token_hex(4)}"
    if request.param == "redis":
        url = request.getfixturevalue("redis_server").url
        environ = {"OIDC_TEST_STORE": url, "OIDC_TEST_REPLAY": url}
    else:
        url = request.getfixturevalue("postgres_server").url
        replay = request.getfixturevalue("tmp_path_factory").mktemp("replay") / "replay.sqlite3"
        environ = {"OIDC_TEST_STORE": url, "OIDC_TEST_REPLAY": f"sqlite:///{replay}"}
    environ["OIDC_TEST_NAME"] = name
    with serve(provider.issuer, BASE_URL, environ) as server, open_stores(environ) as opened:
        workers = Workers(server.port, server.worker_pids())
        yield Served(provider, server.port, workers, *opened)
        log = server.log()
    assert server.returncode == 0, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
    if request.param == "postgresql":
        drop_tables(url, name)


def drop_tables(url: str, name: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for table in (f"{name}_sessions", f"{name}_index"):
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table}"'))
    finally:
        engine.dispose()


@pytest.fixture
def world(served: Served) -> Served:
    served.provider.login_sub = f"user-{secrets.token_hex(4)}"  # a user of this test's own
    return served


def test_a_backchannel_logout_answered_by_one_worker_ends_a_session_the_other_created(
    world: Served,
) -> None:
    a, b = world.workers.pids
    with world.workers.only(a):
        by_a = world.log_in()
    with world.workers.only(b):
        by_b = world.log_in()
    assert (by_a.pid, by_b.pid) == (a, b)
    assert world.alive(by_a) and world.alive(by_b)
    assert world.user_on_page(by_a.session_id) == world.provider.login_sub

    with world.workers.only(b):  # b ends the session a created, by its sid
        answer = world.backchannel(world.provider.logout_token(sid=by_a.sid, sub=None))
    assert answer.pid == b
    assert (answer.status, answer.json()) == (200, {"message": "OK", "ended": 1})
    assert answer.headers["Cache-Control"] == "no-store"
    assert not world.alive(by_a)
    assert world.user_on_page(by_a.session_id) == "anonymous"
    assert world.alive(by_b)  # another provider session of the same user

    with world.workers.only(a):  # and a ends the one b created
        answer = world.backchannel(world.provider.logout_token(sid=by_b.sid, sub=None))
    assert (answer.pid, answer.status, answer.json()["ended"]) == (a, 200, 1)
    assert not world.alive(by_b)


def test_a_sub_logout_ends_the_users_sessions_made_by_both_workers(world: Served) -> None:
    a, b = world.workers.pids
    logins = []
    for pid in (a, b, a, b):
        with world.workers.only(pid):
            logins.append(world.log_in())
    assert [login.pid for login in logins] == [a, b, a, b]
    assert len({login.sid for login in logins}) == 4  # four provider sessions
    with world.workers.only(b):
        answer = world.backchannel(
            world.provider.logout_token(sid=None, sub=world.provider.login_sub)
        )
    assert (answer.pid, answer.status, answer.json()) == (b, 200, {"message": "OK", "ended": 4})
    assert not any(world.alive(login) for login in logins)


def test_the_same_logout_token_sent_to_both_workers_is_accepted_once(world: Served) -> None:
    a, b = world.workers.pids
    login = world.log_in()
    token = world.provider.logout_token(sid=login.sid, sub=None)
    first_worker = world.workers.other(login.pid)
    with world.workers.only(first_worker):
        first = world.backchannel(token)
    assert (first.pid, first.status, first.json()["ended"]) == (first_worker, 200, 1)

    with world.workers.only(login.pid):  # the same token, to the other worker
        again = world.backchannel(token)
    assert (again.pid, again.status) == (login.pid, 400)
    assert again.json()["error"] == "invalid_request"
    assert "received before" in again.json()["error_description"]
    # Refused as a replay, not as a bad token: a new token for the same provider
    # session is accepted by that worker (and finds nothing left to end).
    with world.workers.only(login.pid):
        fresh = world.backchannel(world.provider.logout_token(sid=login.sid, sub=None))
    assert (fresh.status, fresh.json()) == (200, {"message": "OK", "ended": 0})
    assert {a, b} == {first.pid, again.pid}
