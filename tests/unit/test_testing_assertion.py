"""assert_cookie_deleted and set_cookie_header: the check a WebTest test makes.

Generated over the middleware's cookie settings: every valid combination of path,
domain, Secure, prefix, Partitioned and SameSite is deleted when the middleware is
configured as the application sets the cookie, and each single misconfiguration is
named with the setting that fixes it.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from typing import Any

import pytest
import webtest
from werkzeug.http import dump_cookie
from werkzeug.test import Client
from werkzeug.wrappers import Response

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, MemoryBackend
from logout_middleware.testing import (
    assert_cookie_deleted,
    cookie_problems,
    response_headers,
    set_cookie_header,
    set_cookie_headers,
)
from logout_middleware.testing.assertion import request_url

HTTPS = {"wsgi.url_scheme": "https"}


def site(cookie: dict[str, Any], **settings: Any) -> LogoutMiddleware:
    """A middleware in front of an app whose /login sets ``cookie`` (dump_cookie's
    arguments); ``settings`` configure the middleware."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", dump_cookie(value="abc", **cookie))])
        return [b"in"]

    return LogoutMiddleware(app, MemoryBackend(), cross_site_protection=False, **settings)


def log_in_and_out(
    middleware: LogoutMiddleware, https: bool, script_name: str = ""
) -> tuple[str, Any]:
    client = webtest.TestApp(
        middleware, extra_environ={"SCRIPT_NAME": script_name, **(HTTPS if https else {})}
    )
    set_cookie = set_cookie_header(client.get("/login"))
    return set_cookie, client.post(DEFAULT_LOGOUT_PATH)


def variants() -> list[dict[str, Any]]:
    found = []
    for prefix, path, domain, secure, partitioned, samesite in itertools.product(
        ["", "__Secure-", "__Host-"],
        ["/", "/studio"],
        [None, "example.com"],
        [None, True],
        [False, True],
        ["Lax", "Strict", "None", None],
    ):
        settings = {
            "cookie_name": prefix + "sid",
            "cookie_path": path,
            "cookie_domain": domain,
            "cookie_secure": secure,
            "cookie_partitioned": partitioned,
            "cookie_samesite": samesite,
        }
        try:
            spec = site({"key": "x"}, **settings).cookie
        except ValueError:
            continue  # a combination the middleware refuses (and a browser would)
        cookie = {
            "key": spec.name,
            "path": spec.path,
            "domain": spec.domain,
            "secure": spec.secure_by_scheme[1],
            "partitioned": spec.partitioned,
            "samesite": spec.samesite,
            "httponly": True,
        }
        found.append({"settings": settings, "cookie": cookie})
    return found


VARIANTS = variants()


def variant_id(variant: dict[str, Any]) -> str:
    return ",".join(f"{k[7:]}={v}" for k, v in variant["settings"].items())


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_a_middleware_configured_as_the_cookie_is_set_deletes_it(variant: dict[str, Any]) -> None:
    middleware = site(variant["cookie"], **variant["settings"])
    script_name = "" if variant["cookie"]["path"] == "/" else "/studio"
    schemes = [True] if variant["cookie"]["secure"] else [False, True]
    for https in schemes:
        set_cookie, logout = log_in_and_out(middleware, https, script_name)
        assert_cookie_deleted(set_cookie, logout)
    assert cookie_problems(middleware, set_cookie, script_name=script_name) == []


MISTAKES = {
    # setting: (wrong value, what the message says)
    "cookie_path": (lambda v: "/" if v != "/" else "/studio", "set cookie_path="),
    "cookie_domain": (lambda v: None if v else "example.com", "set cookie_domain="),
    "cookie_partitioned": (lambda v: not v, "set cookie_partitioned="),
}


@pytest.mark.parametrize(
    ("variant", "setting"),
    [
        (v, s)
        for v in VARIANTS
        for s in MISTAKES
        if not (s == "cookie_partitioned" and not v["cookie"]["secure"])
        and not (v["settings"]["cookie_name"].startswith("__Host-") and s != "cookie_partitioned")
    ],
    ids=lambda x: x if isinstance(x, str) else variant_id(x),
)
def test_each_misconfiguration_is_named_with_the_setting_that_fixes_it(
    variant: dict[str, Any], setting: str
) -> None:
    wrong, says = MISTAKES[setting]
    settings = {**variant["settings"], setting: wrong(variant["settings"][setting])}
    middleware = site(variant["cookie"], **settings)
    https = bool(variant["cookie"]["secure"])
    set_cookie, logout = log_in_and_out(middleware, https)
    expected = {
        "cookie_path": f"set cookie_path={variant['cookie']['path']!r}",
        "cookie_domain": f"set cookie_domain={variant['cookie']['domain']!r}",
        "cookie_partitioned": f"set cookie_partitioned={variant['cookie']['partitioned']!r}",
    }[setting]
    assert expected.startswith(says)
    with pytest.raises(AssertionError, match="the browser keeps the cookie") as error:
        assert_cookie_deleted(set_cookie, logout)
    assert expected in str(error.value)
    assert any(expected in p for p in cookie_problems(middleware, set_cookie, https=https))


def test_the_issues_example_message() -> None:
    middleware = site(
        {"key": "session", "path": "/studio", "httponly": True}, cookie_name="session"
    )
    set_cookie, logout = log_in_and_out(middleware, https=False)
    with pytest.raises(AssertionError) as error:
        assert_cookie_deleted(set_cookie, logout)
    assert str(error.value) == (
        "the browser keeps the cookie session (Path=/studio, host-only on www.example.com) after "
        "the logout: the cookie was set with Path=/studio; the deletion has Path=/: set "
        "cookie_path='/studio'"
    )


def test_a_secure_cookie_logged_out_over_plain_http_fails_with_the_https_hint() -> None:
    """WebTest's default request is http://localhost, where Chromium would take the
    Secure cookie; the kit models a real host, where the deletion cannot work."""
    middleware = site({"key": "session", "secure": True})
    set_cookie, logout = log_in_and_out(middleware, https=False)
    with pytest.raises(AssertionError, match=r"plain http.*extra_environ=\{'wsgi.url_scheme'"):
        assert_cookie_deleted(set_cookie, logout)
    assert_cookie_deleted(set_cookie, log_in_and_out(middleware, https=True)[1])
    # Asked for localhost itself, the kit does what Chromium does there.
    assert_cookie_deleted(set_cookie, logout, url="http://localhost" + DEFAULT_LOGOUT_PATH)


HEADERS = [("Content-Type", "application/json")]


@pytest.mark.parametrize(
    ("deletion", "message"),
    [
        (
            "sid=; Path=/; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
            "the deletion has Max-Age=60, which wins over Expires: the browser keeps the "
            "cookie, with the value '': send Max-Age=0",
        ),
        ("sid=; Path=/; Expires=0", "the deletion's Expires=0 is not a date a browser can read"),
        ("sid=; Path=/", "the deletion has neither Max-Age nor Expires"),
        ("sid=; Path=/; Expires=Thu, 01 Jan 2099 00:00:00 GMT", "Expires=Thu, 01 Jan 2099"),
        (
            "SID=; Path=/; Max-Age=0",
            "expires 'SID', but cookie names are case-sensitive: set cookie_name='sid'",
        ),
        ("other=; Path=/; Max-Age=0", "expires only 'other', not 'sid': set cookie_name='sid'"),
        ("sid=; Path=/; Max-Age=0; SameSite=None", "give the deletion Secure"),
        ("sid=; Path=/; Max-Age=0; Secure", "has Secure but came over plain http"),
        (
            "sid=; Domain=example.com; Path=/; Max-Age=0",
            "the cookie was set without Domain (host-only); the deletion has "
            "Domain=example.com: set cookie_domain=None",
        ),
        ("sid=; Path=studio; Max-Age=0", "Path=studio, which does not start with '/',"),
    ],
)
def test_deletions_that_miss_say_why(deletion: str, message: str) -> None:
    with pytest.raises(AssertionError) as error:
        assert_cookie_deleted(
            "sid=1; Path=/",
            [*HEADERS, ("Set-Cookie", deletion)],
            url="http://www.example.com/api/logout",
        )
    assert message in str(error.value)


def test_a_deletion_without_path_lands_in_the_logout_urls_directory() -> None:
    app = webtest.TestApp(lambda e, s: (s("200 OK", [("Set-Cookie", "sid=; Max-Age=0")]), [b""])[1])
    logout = app.post(DEFAULT_LOGOUT_PATH)
    with pytest.raises(AssertionError) as error:
        assert_cookie_deleted("sid=1; Path=/", logout)
    assert (
        "the deletion has no Path so the browser gives it the directory of the logout URL, "
        "/api/1/services/api/1/security: set cookie_path='/'"
    ) in str(error.value)
    with pytest.raises(AssertionError, match="a list of headers does not give: pass url="):
        assert_cookie_deleted("sid=1; Path=/", [("Set-Cookie", "sid=; Max-Age=0")])
    assert_cookie_deleted(
        "sid=1; Path=/", [("Set-Cookie", "sid=; Max-Age=0")], url="http://h.example/x"
    )


def test_a_cookie_set_without_path_takes_the_login_urls_directory() -> None:
    deletion = [("Set-Cookie", "sid=; Path=/; Max-Age=0")]
    assert_cookie_deleted("sid=1", deletion)  # login at / by default
    with pytest.raises(AssertionError, match="Path=/studio; the deletion has Path=/"):
        assert_cookie_deleted("sid=1", deletion, login_url="http://www.example.com/studio/login")


def test_several_deletions_one_right_is_enough() -> None:
    headers = [
        ("Set-Cookie", f"sid=; Domain={d}; Path=/; Max-Age=0")
        for d in ("a.example.com", "example.com")
    ]
    assert_cookie_deleted("sid=1; Domain=example.com; Path=/", headers)


@pytest.mark.parametrize(
    ("set_cookie", "message"),
    [
        ("sid=1; Secure; Domain=com", "would not even store the login cookie"),
        ("sid=; Max-Age=0", "is itself a deletion"),
        ("=", "is no cookie a browser keeps"),
    ],
)
def test_a_login_cookie_a_browser_would_not_keep_is_reported(set_cookie: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_cookie_deleted(set_cookie, [("Set-Cookie", "sid=; Max-Age=0; Path=/")])


def wsgi(headers: list[tuple[str, str]]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [b""]

    return app


DELETION = [("Set-Cookie", "sid=; Path=/; Max-Age=0"), ("Set-Cookie", "other=; Path=/; Max-Age=0")]


@pytest.mark.parametrize(
    "response",
    [
        lambda: webtest.TestApp(wsgi(list(DELETION))).get("/logout"),
        lambda: Client(wsgi(list(DELETION))).get("/logout"),
        lambda: Response(headers=list(DELETION)),
        lambda: webtest.TestResponse(headerlist=list(DELETION)),
        lambda: list(DELETION),
    ],
    ids=["webtest", "werkzeug-test-client", "werkzeug", "webob", "list"],
)
def test_every_kind_of_response_is_read(response: Any) -> None:
    read = response()
    assert [v for k, v in response_headers(read) if k == "Set-Cookie"] == [v for _, v in DELETION]
    assert_cookie_deleted("sid=1; Path=/", read)
    assert set_cookie_header(read, "other") == "other=; Path=/; Max-Age=0"


def test_a_django_http_response_is_read() -> None:
    code = (
        "from django.conf import settings; settings.configure()\n"
        "from django.http import HttpResponse\n"
        "from logout_middleware.testing import assert_cookie_deleted, response_headers\n"
        "r = HttpResponse()\n"
        "r.delete_cookie('sessionid', path='/', samesite='Lax')\n"
        "assert_cookie_deleted('sessionid=1; Path=/; HttpOnly; SameSite=Lax', r)\n"
        "print(response_headers(r))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "sessionid=" in out.stdout and "Max-Age=0" in out.stdout


def test_an_unknown_response_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="expected a WebTest TestResponse"):
        response_headers(object())
    with pytest.raises(TypeError):
        response_headers([("Set-Cookie", 1)])


def test_set_cookie_header_names_what_the_response_does_set() -> None:
    login = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=1"), ("Set-Cookie", "b=2")]
    assert set_cookie_header(login, "b") == "b=2"
    with pytest.raises(AssertionError, match="sets 2 cookies \\('a', 'b'\\): pass the name"):
        set_cookie_header(login)
    with pytest.raises(AssertionError, match="no cookie named 'c': it sets 'a', 'b'"):
        set_cookie_header(login, "c")
    with pytest.raises(AssertionError, match="it sets no cookie"):
        set_cookie_header([], "c")
    assert set_cookie_header([("Set-Cookie", "a=1")]) == "a=1"


def test_set_cookie_headers_gives_every_value_of_the_name() -> None:
    login = [("Set-Cookie", "a=1"), ("Set-Cookie", "b=1; Path=/"), ("Set-Cookie", "b=2")]
    assert set_cookie_headers(login, "b") == ["b=1; Path=/", "b=2"]
    assert set_cookie_headers([("Set-Cookie", "a=1; Path=/x"), ("Set-Cookie", "a=2")]) == [
        "a=1; Path=/x",
        "a=2",
    ]


def test_every_cookie_of_several_login_values_must_be_dropped() -> None:
    login = ["sid=1; Path=/", "sid=1; Path=/app"]
    only_app = [("Set-Cookie", "sid=; Path=/app; Max-Age=0")]
    with pytest.raises(AssertionError, match="2 cookies named 'sid'") as raised:
        assert_cookie_deleted(login, only_app)
    assert "Path=/; the deletion has Path=/app" in str(raised.value)
    both = [*only_app, ("Set-Cookie", "sid=; Path=/; Max-Age=0")]
    assert_cookie_deleted(login, both)
    assert_cookie_deleted(["sid=; Path=/old; Max-Age=0", "sid=1; Path=/"], both)
    with pytest.raises(AssertionError, match="is itself a deletion"):
        assert_cookie_deleted(["sid=; Max-Age=0"], both)
    with pytest.raises(AssertionError, match="would not even store"):
        assert_cookie_deleted(["sid=1; Path=/", "sid=1; Domain=com"], both)


def test_the_request_url_is_the_one_the_browser_wrote() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    client = webtest.TestApp(app)
    assert request_url(client.get("/@studio/a:b;c")) == "http://localhost:80/@studio/a:b;c"
    assert request_url(client.get("/a%20b/%25/%3F")) == "http://localhost:80/a%20b/%25/%3F"
    raw = client.get("/x", extra_environ={"RAW_URI": "/x/%2e/y?q=1"})
    assert request_url(raw) == "http://localhost:80/x/%2e/y"
    assert request_url([("Set-Cookie", "a=1")]) is None


@pytest.mark.parametrize(
    ("deletion", "message"),
    [
        ("sid=; Path=/; Max-Age=0; Max-Age=abc", "last Max-Age=abc is not a number"),
        (
            "sid=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Expires=garbage",
            "last Expires=garbage is not a date",
        ),
        ("sid=; Path=/; Domain=.; Max-Age=0", r"the deletion has Domain=\.:"),
    ],
)
def test_an_unreadable_last_attribute_is_named(deletion: str, message: str) -> None:
    with pytest.raises(AssertionError, match=message):
        assert_cookie_deleted("sid=1; Path=/", [("Set-Cookie", deletion)])
