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

from collections.abc import Callable

import pytest

from .assertion import assert_cookie_deleted, modelled, request_url, set_cookie_header
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
    out when the login sets one cookie. The login response also gives the login URL."""
    set_cookie = login if isinstance(login, str) else set_cookie_header(login, name)
    if login_url is None and not isinstance(login, str):
        seen = request_url(login)
        login_url = None if seen is None else modelled(seen, parse_set_cookie(set_cookie))
    assert_cookie_deleted(set_cookie, logout, url=url, login_url=login_url)


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
    ``name`` (by default the middleware's session cookie) that ``login`` set."""
    if name is None:
        name = core_of(middleware).cookie.name
    set_cookie = login if isinstance(login, str) else set_cookie_header(login, name)
    problems = cookie_problems(
        middleware, set_cookie, script_name=script_name, https=https, host=host
    )
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise AssertionError(f"the middleware would not delete {set_cookie!r}:\n{listed}")


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
