"""What the fixtures do, called directly (importing the module registers nothing; the
plugin's switching on is tested in test_testing_plugin.py)."""

from __future__ import annotations

from typing import Any

import pytest
import webtest
from werkzeug.http import dump_cookie

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, MemoryBackend
from logout_middleware.testing.fixtures import logout_deletes_cookie, no_cookie_problems


def site(**cookie: Any) -> LogoutMiddleware:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        headers = [("Set-Cookie", dump_cookie("session", "abc", **{"path": None, **cookie}))]
        headers.append(("Set-Cookie", dump_cookie("lang", "en")))
        start_response("200 OK", headers)
        return [b""]

    return LogoutMiddleware(app, MemoryBackend(), cross_site_protection=False)


def test_the_login_response_gives_the_cookie_and_where_it_was_set() -> None:
    """A cookie set without Path at /account/login belongs to /account: the login
    response says so, and the middleware's Path=/ deletion misses it."""
    client = webtest.TestApp(site())
    login = client.get("/account/login")
    logout = client.post(DEFAULT_LOGOUT_PATH)
    with pytest.raises(AssertionError, match="Path=/account; the deletion has Path=/"):
        logout_deletes_cookie(login, logout, "session")
    with pytest.raises(AssertionError, match="sets 2 cookies"):
        logout_deletes_cookie(login, logout)
    logout_deletes_cookie(client.get("/login"), logout, "session")
    logout_deletes_cookie("session=abc; Path=/", logout)


def test_a_secure_cookie_set_over_plain_http_says_to_use_https() -> None:
    client = webtest.TestApp(site(secure=True, path="/"))
    with pytest.raises(AssertionError, match=r"would not even store.*wsgi.url_scheme"):
        logout_deletes_cookie(client.get("/login"), client.post(DEFAULT_LOGOUT_PATH), "session")
    https = webtest.TestApp(site(secure=True, path="/"), extra_environ={"wsgi.url_scheme": "https"})
    logout_deletes_cookie(https.get("/login"), https.post(DEFAULT_LOGOUT_PATH), "session")


def test_no_cookie_problems_lists_them_all_for_the_session_cookie_by_default() -> None:
    middleware = site(path="/studio", domain="example.com")
    login = webtest.TestApp(middleware).get("/login")
    with pytest.raises(AssertionError) as error:
        no_cookie_problems(middleware, login)
    message = str(error.value)
    assert message.startswith("the middleware would not delete 'session=abc; Domain=example.com;")
    assert message.count("\n- ") == 3  # not sent to the logout; Path; Domain
    with pytest.raises(AssertionError, match="expires only 'session', not 'lang'"):
        no_cookie_problems(middleware, login, "lang")
    no_cookie_problems(site(), webtest.TestApp(site()).get("/login"))


def test_no_cookie_problems_checks_every_cookie_of_the_name() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        cookies = ["session=; Path=/old; Max-Age=0", "session=abc; Path=/", "session=abc; Path=/x"]
        start_response("200 OK", [("Set-Cookie", c) for c in cookies])
        return [b""]

    middleware = LogoutMiddleware(app, MemoryBackend(), cross_site_protection=False)
    login = webtest.TestApp(middleware).get("/login")
    with pytest.raises(AssertionError, match="would not delete 'session=abc; Path=/x'") as raised:
        no_cookie_problems(middleware, login)
    assert "'session=abc; Path=/'" not in str(raised.value)
    assert "Path=/old" not in str(raised.value)
