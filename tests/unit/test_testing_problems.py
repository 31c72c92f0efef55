"""cookie_problems: what a middleware's configuration would fail to delete, without a
request (the check for a test or an application's start-up)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
import webtest
from flask import Flask

from logout_middleware import LogoutMiddleware, MemoryBackend, MemorySessionIndex
from logout_middleware.testing import cookie_problems
from logout_middleware.testing.problems import core_of


def middleware(**settings: Any) -> LogoutMiddleware:
    return LogoutMiddleware(lambda e, s: [b""], MemoryBackend(), **settings)


def test_all_is_well_when_the_settings_repeat_the_cookie() -> None:
    assert cookie_problems(middleware(), "session=a; Path=/; HttpOnly; SameSite=Lax") == []


@pytest.mark.parametrize(
    ("cookie_path", "script_name", "covered"),
    [
        ("/", "", True),
        ("/", "/studio", True),
        ("/studio", "/studio", True),
        ("/studio", "", False),
        ("/studio", "/studiox", False),
        ("/studio/web", "/studio", False),
        ("/studio/api", "/studio", True),
    ],
)
def test_a_cookie_path_that_does_not_cover_the_logout_is_reported(
    cookie_path: str, script_name: str, covered: bool
) -> None:
    problems = cookie_problems(
        middleware(cookie_path=cookie_path),
        f"session=a; Path={cookie_path}",
        script_name=script_name,
    )
    not_sent = [p for p in problems if "does not cover the logout URL path" in p]
    assert bool(not_sent) is not covered, problems
    if not covered:
        assert f"pass script_name={cookie_path!r}" in not_sent[0]


def test_the_csrf_cookie_must_reach_the_logout_too() -> None:
    mw = middleware(
        csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN", csrf_cookie_path="/app"
    )
    (problem,) = cookie_problems(mw, "XSRF-TOKEN=t; Path=/app")
    assert "does not cover the logout URL path" in problem
    assert "the double-submit check refuses the logout" in problem
    assert cookie_problems(mw, "XSRF-TOKEN=t; Path=/app", script_name="/app") == []


def test_the_everywhere_path_is_checked_as_well() -> None:
    mw = middleware(index=MemorySessionIndex(), everywhere_path="/logout/everywhere")
    assert cookie_problems(mw, "session=a; Path=/") == []
    problems = cookie_problems(
        middleware(path="/api/logout", index=MemorySessionIndex(), everywhere_path="/everywhere"),
        "session=a; Path=/api",
    )
    assert len(problems) == 2 and "/everywhere" in problems[0] and "Path=/api" in problems[1]


def test_companion_cookies_are_checked_by_name() -> None:
    mw = middleware(also_expire=["remember_token", {"name": "prefs", "path": "/prefs"}])
    assert cookie_problems(mw, "remember_token=x; Path=/") == []
    assert cookie_problems(mw, "prefs=x; Path=/prefs") == []  # not read: never needs to reach it
    (problem,) = cookie_problems(mw, "prefs=x; Path=/")
    assert problem.endswith("give 'prefs' path='/' in also_expire")
    (problem,) = cookie_problems(mw, "lang=en; Path=/")
    assert problem == (
        "the middleware expires only 'session', 'remember_token', 'prefs', not 'lang': "
        "set cookie_name='lang', or list 'lang' in also_expire"
    )


@pytest.mark.parametrize(("https", "problems"), [(None, 0), (True, 0), (False, 2)])
def test_a_secure_cookie_is_checked_over_https_unless_told_otherwise(
    https: bool | None, problems: int
) -> None:
    found = cookie_problems(middleware(), "session=a; Path=/; Secure", https=https)
    assert len(found) == problems, found
    if problems:
        assert "sends it to /api/1/services/api/1/security/logout.json over https only" in found[0]
        assert "plain http" in found[1]


def test_a_problem_on_one_scheme_only_says_which() -> None:
    (problem,) = cookie_problems(middleware(cookie_secure=True), "session=a; Path=/")
    assert problem.startswith("over plain http: the deletion has Secure but came over plain http")


def test_sweep_domains_delete_a_copy_on_the_parent_domain() -> None:
    mw = middleware(sweep_domains=["example.com"])
    assert cookie_problems(mw, "session=a; Path=/") == []
    assert cookie_problems(mw, "session=a; Path=/; Domain=example.com") == []
    (problem,) = cookie_problems(middleware(), "session=a; Path=/; Domain=example.com")
    assert problem.endswith("set cookie_domain='example.com'")


@pytest.mark.parametrize(
    ("set_cookie", "message"),
    [
        (
            "__Host-session=a; Path=/; Secure; Domain=example.com",
            "a browser refuses this cookie at login",
        ),
        ("session=a; Domain=co.uk", "Domain=co.uk is a public suffix"),
        ("session=; Max-Age=0", "is itself a deletion"),
        ("=", "is no cookie a browser keeps"),
    ],
)
def test_a_cookie_a_browser_would_not_keep(set_cookie: str, message: str) -> None:
    (problem,) = cookie_problems(middleware(), set_cookie)
    assert message in problem


@pytest.mark.parametrize(
    ("path", "domain", "partitioned", "samesite"),
    list(
        itertools.product(["/", "/studio"], [None, "example.com"], [False, True], ["Lax", "None"])
    ),
)
def test_each_identity_mismatch_is_one_problem(
    path: str, domain: str | None, partitioned: bool, samesite: str
) -> None:
    attributes = f"session=a; Path={path}; Secure; SameSite={samesite}"
    attributes += f"; Domain={domain}" if domain else ""
    attributes += "; Partitioned" if partitioned else ""
    right = middleware(
        cookie_path=path,
        cookie_domain=domain,
        cookie_partitioned=partitioned,
        cookie_samesite=samesite,
    )
    script = "" if path == "/" else path
    assert cookie_problems(right, attributes, script_name=script) == []
    wrong = middleware(cookie_samesite=samesite)  # path "/", no domain, not partitioned
    found = cookie_problems(wrong, attributes, script_name=script)
    expected = (path != "/") + (domain is not None) + partitioned
    assert len(found) == expected, found


def test_the_middleware_is_found_behind_the_usual_wrappers() -> None:
    mw = middleware()
    flask_app = Flask(__name__)
    flask_app.wsgi_app = mw  # type: ignore[method-assign]
    assert core_of(mw) is core_of(flask_app) is core_of(webtest.TestApp(mw)) is mw.core
    with pytest.raises(TypeError, match="expected a LogoutMiddleware"):
        cookie_problems(lambda e, s: [b""], "session=a")
    with pytest.raises(TypeError, match="got Flask"):
        cookie_problems(Flask(__name__), "session=a")


def test_script_name_must_be_a_path() -> None:
    for bad in ("studio", "/studio/"):
        with pytest.raises(ValueError, match="script_name must be"):
            cookie_problems(middleware(), "session=a", script_name=bad)


def test_the_host_can_be_named() -> None:
    (problem,) = cookie_problems(
        middleware(cookie_domain="example.org"),
        "session=a; Domain=example.org",
        host="www.example.com",
    )
    assert "a browser refuses this cookie at login" in problem


def test_each_cookie_gets_the_fix_of_its_own_setting() -> None:
    mw = middleware(
        cookie_domain="example.com",
        csrf_cookie_name="XSRF-TOKEN",
        csrf_header_name="X-XSRF-TOKEN",
        also_expire=["prefs"],
    )
    (token,) = cookie_problems(mw, "XSRF-TOKEN=t; Path=/x", script_name="/x")
    assert token.endswith("set csrf_cookie_path='/x'")
    # The token cookie is host-only by default, as Spring sets it: no problem.
    assert cookie_problems(mw, "XSRF-TOKEN=t; Path=/") == []
    (token,) = cookie_problems(mw, "XSRF-TOKEN=t; Path=/; Domain=example.com")
    assert token.endswith("set csrf_cookie_domain='example.com'")
    path, domain = cookie_problems(mw, "prefs=t; Path=/p")
    assert path.endswith("give 'prefs' path='/p' in also_expire")
    assert domain.endswith("give 'prefs' domain=None in also_expire")
    fixed = middleware(
        cookie_domain="example.com",
        csrf_cookie_name="XSRF-TOKEN",
        csrf_header_name="X-XSRF-TOKEN",
        csrf_cookie_domain="example.com",
    )
    assert cookie_problems(fixed, "XSRF-TOKEN=t; Path=/; Domain=example.com") == []
