"""pytest fixtures that make the kit's two checks one line in a WebTest test.

Switch them on with ``-p logout_middleware.testing.fixtures``, with
``pytest_plugins = ["logout_middleware.testing.fixtures"]`` in the root
``conftest.py``, or with ``logout_middleware_fixtures = true`` in the pytest
configuration (see :mod:`logout_middleware.testing.plugin`). Then::

    def test_logout_drops_the_cookie(assert_logout_deletes_cookie):
        app = webtest.TestApp(wsgi_app)
        login = app.post("/login", {"username": "ada"})
        logout = app.post("/api/1/services/api/1/security/logout.json")
        assert_logout_deletes_cookie(login, logout, "session")

    def test_the_middleware_matches_the_cookie(assert_no_cookie_problems):
        app = webtest.TestApp(wsgi_app)
        assert_no_cookie_problems(wsgi_app, app.post("/login", {"username": "ada"}))
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from .assertion import (
    assert_cookie_deleted,
    model_cookie,
    modelled,
    request_url,
    set_cookie_headers,
)
from .parsing import parse_set_cookie
from .problems import cookie_problems, core_of

__all__ = [
    "assert_logout_deletes_cookie",
    "assert_no_cookie_problems",
    "logout_deletes_cookie",
    "no_cookie_problems",
]


def logout_deletes_cookie(
    login: object,
    logout: object,
    name: str | None = None,
    *,
    url: str | None = None,
    login_url: str | None = None,
) -> None:
    """:func:`~logout_middleware.testing.assert_cookie_deleted` for the cookie ``name``
    that the ``login`` response set (or a ``Set-Cookie`` value); ``name`` may be left
    out when the login sets one cookie name. When the login sets that name several
    times (other paths, other domains), every cookie it leaves in the browser must be
    dropped. The login response also gives the login URL."""
    values = [login] if isinstance(login, str) else set_cookie_headers(login, name)
    if login_url is None and not isinstance(login, str):
        seen = request_url(login)
        if seen is not None:
            readable = []
            for value in values:
                try:
                    readable.append(parse_set_cookie(value))
                except ValueError:
                    continue  # assert_cookie_deleted says why
            login_url = modelled(seen, model_cookie(readable)) if readable else seen
    assert_cookie_deleted(values, logout, url=url, login_url=login_url)


def no_cookie_problems(
    middleware: object,
    login: object,
    name: str | None = None,
    *,
    script_name: str = "",
    https: bool | None = None,
    host: str | None = None,
) -> None:
    """Raise :class:`AssertionError` listing every
    :func:`~logout_middleware.testing.cookie_problems` of ``middleware`` for the cookie
    ``name`` (by default the middleware's session cookie) that ``login`` set; for each
    of them when the login sets the name several times (a value that is itself a
    deletion, such as the clearing of an old path, is not checked then)."""
    if name is None:
        name = core_of(middleware).cookie.name
    values = [login] if isinstance(login, str) else set_cookie_headers(login, name)
    if len(values) > 1:
        values = [v for v in values if not _is_deletion(v)] or values
    failures = []
    for set_cookie in dict.fromkeys(values):
        problems = cookie_problems(
            middleware, set_cookie, script_name=script_name, https=https, host=host
        )
        if problems:
            listed = "\n".join(f"- {p}" for p in problems)
            failures.append(f"the middleware would not delete {set_cookie!r}:\n{listed}")
    if failures:
        raise AssertionError("\n".join(failures))


def _is_deletion(set_cookie: str) -> bool:
    try:
        expiry = parse_set_cookie(set_cookie).expiry(time.time())
    except ValueError:
        return False
    return expiry is not None and expiry <= time.time()


@pytest.fixture
def assert_logout_deletes_cookie() -> Callable[..., None]:
    """``assert_logout_deletes_cookie(login, logout, name=None, *, url=None,
    login_url=None)``: see :func:`logout_deletes_cookie`."""
    return logout_deletes_cookie


@pytest.fixture
def assert_no_cookie_problems() -> Callable[..., None]:
    """``assert_no_cookie_problems(middleware, login, name=None, *, script_name="",
    https=None, host=None)``: see :func:`no_cookie_problems`."""
    return no_cookie_problems
