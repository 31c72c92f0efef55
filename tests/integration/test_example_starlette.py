"""examples/starlette_app.py under a real uvicorn with 2 workers: Starlette's cookie
sessions, logged out by the ASGI middleware with revocation.

The login goes through Starlette's own ``SessionMiddleware`` (the whole session in a
signed cookie); the logout through the middleware, which records the session as
revoked in the SQLite store both workers share. A copy of the cookie taken before the
logout must then be worthless over http (the page is anonymous and the answer expires
the cookie) and on the websocket (the handshake is refused), whichever worker serves
it; another user's session must live on.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from example_apps import EXAMPLES
from uvicorn_util import UvicornServer, new_client, problems, start, websocket_greeting

from logout_middleware import DEFAULT_LOGOUT_PATH

WORKERS = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornServer]:
    revoked = tmp_path_factory.mktemp("starlette") / "revoked.sqlite3"
    with start(
        "starlette_app:app",
        workers=WORKERS,
        app_dir=EXAMPLES,
        env={"STARLETTE_EXAMPLE_REVOKED": f"sqlite:///{revoked}"},
    ) as running:
        yield running
    assert running.returncode == 0, running.log()[-3000:]
    assert problems(running, WORKERS) == []


def log_in(server: UvicornServer, username: str) -> tuple[httpx.Client, str]:
    """A browser logged in through the example's form; its ``session`` cookie."""
    client = new_client(server)
    answer = client.post("/login", data={"username": username})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert shown_user(client) == username
    return client, client.cookies["session"]


def shown_user(client: httpx.Client, cookie: str | None = None) -> str:
    """The user the page shows to this browser, or with this ``session`` cookie."""
    headers = {} if cookie is None else {"Cookie": f"session={cookie}"}
    page = client.get("/", headers=headers).text
    return page.split('<strong id="user">', 1)[1].split("<", 1)[0]


def test_a_copied_cookie_is_refused_after_logout_over_http_and_websocket(
    server: UvicornServer,
) -> None:
    alice, cookie = log_in(server, "alice")
    bob, bob_cookie = log_in(server, "bob")
    assert websocket_greeting(server, "/ws", f"session={cookie}") == "hello alice"

    answer = alice.post(DEFAULT_LOGOUT_PATH)
    assert answer.status_code == 303  # redirect_to="/": back to the page
    [expiry] = answer.headers.get_list("set-cookie")
    assert expiry.startswith("session=;") and "Max-Age=0" in expiry and "Path=/" in expiry
    assert "session" not in alice.cookies
    assert shown_user(alice) == "anonymous"

    # The copy, replayed, each time on a new connection: either worker may answer, and
    # the one that did not log it out reads the revocation from the shared file.
    with new_client(server) as thief:
        for _ in range(6):
            page = thief.get("/", headers={"Cookie": f"session={cookie}"})
            assert '<strong id="user">anonymous</strong>' in page.text
            assert page.headers["set-cookie"].startswith("session=;")
    for _ in range(6):
        assert websocket_greeting(server, "/ws", f"session={cookie}") == 403

    assert shown_user(bob) == "bob"
    assert websocket_greeting(server, "/ws", f"session={bob_cookie}") == "hello bob"


def test_a_cross_site_logout_is_refused_and_the_session_lives_on(
    server: UvicornServer,
) -> None:
    carol, cookie = log_in(server, "carol")
    answer = carol.post(
        DEFAULT_LOGOUT_PATH,
        headers={"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403
    assert "set-cookie" not in answer.headers
    assert shown_user(carol) == "carol"
    assert websocket_greeting(server, "/ws", f"session={cookie}") == "hello carol"
