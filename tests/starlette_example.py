"""examples/starlette_app.py driven as a browser drives it, whichever ASGI server serves
it: log in, read the page, and the two scenarios its tests run under uvicorn
(``test_example_starlette.py``) and under hypercorn and daphne
(``test_asgi_servers.py``).

``prefix`` is the path on the wire in front of the application's own paths: ``""``,
or a server's root path where the server expects the proxy to leave it there.
"""

from __future__ import annotations

import httpx
from uvicorn_util import new_client, websocket_greeting

from benchmarks.harness import GunicornServer
from logout_middleware import DEFAULT_LOGOUT_PATH

__all__ = [
    "check_a_copied_cookie_is_refused",
    "check_a_cross_site_logout_is_refused",
    "log_in",
    "shown_user",
]


def log_in(server: GunicornServer, username: str, prefix: str = "") -> tuple[httpx.Client, str]:
    """A browser logged in through the example's form; its ``session`` cookie."""
    client = new_client(server)
    answer = client.post(prefix + "/login", data={"username": username})
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    assert shown_user(client, prefix=prefix) == username
    return client, client.cookies["session"]


def shown_user(client: httpx.Client, cookie: str | None = None, prefix: str = "") -> str:
    """The user the page shows to this browser, or with this ``session`` cookie."""
    headers = {} if cookie is None else {"Cookie": f"session={cookie}"}
    page = client.get(prefix + "/", headers=headers).text
    return page.split('<strong id="user">', 1)[1].split("<", 1)[0]


def check_a_copied_cookie_is_refused(server: GunicornServer, prefix: str = "") -> None:
    """Two users log in; one logs out: the answer (``303`` back to the page) expires
    the cookie, and a copy of it taken before is anonymous over http, each time on a
    new connection (any worker may answer), and refused on the websocket; the other
    user's session lives on."""
    alice, cookie = log_in(server, "alice", prefix)
    bob, bob_cookie = log_in(server, "bob", prefix)
    ws = prefix + "/ws"
    assert websocket_greeting(server, ws, f"session={cookie}") == "hello alice"

    answer = alice.post(prefix + DEFAULT_LOGOUT_PATH)
    assert answer.status_code == 303  # redirect_to="/": back to the page
    [expiry] = answer.headers.get_list("set-cookie")
    assert expiry.startswith("session=;") and "Max-Age=0" in expiry and "Path=/" in expiry
    assert "session" not in alice.cookies
    assert shown_user(alice, prefix=prefix) == "anonymous"

    # The copy, replayed, each time on a new connection: any worker may answer, and
    # the ones that did not log it out read the revocation from the shared file.
    with new_client(server) as thief:
        for _ in range(6):
            page = thief.get(prefix + "/", headers={"Cookie": f"session={cookie}"})
            assert '<strong id="user">anonymous</strong>' in page.text
            assert page.headers["set-cookie"].startswith("session=;")
    for _ in range(6):
        assert websocket_greeting(server, ws, f"session={cookie}") == 403

    assert shown_user(bob, prefix=prefix) == "bob"
    assert websocket_greeting(server, ws, f"session={bob_cookie}") == "hello bob"


def check_a_cross_site_logout_is_refused(server: GunicornServer, prefix: str = "") -> None:
    """A logout posted from another site is refused (``403``, nothing expired) and the
    session lives on, over http and on the websocket."""
    carol, cookie = log_in(server, "carol", prefix)
    answer = carol.post(
        prefix + DEFAULT_LOGOUT_PATH,
        headers={"Origin": "http://evil.test", "Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden. Cross-site logout request refused."}
    assert "set-cookie" not in answer.headers
    assert shown_user(carol, prefix=prefix) == "carol"
    assert websocket_greeting(server, prefix + "/ws", f"session={cookie}") == "hello carol"
