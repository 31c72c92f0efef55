"""Testing kit: prove in your own tests that logout really drops the cookie.

The commonest logout bug is a deletion header that does not match the cookie the
application set (another ``Path``, a missing ``Domain``, no ``Secure``, no
``Partitioned``): the browser then keeps the cookie, and a test that looks at the
server side, or at its test client's jar, does not notice. This kit applies the
browser's rules (RFC 6265bis as Chromium implements them, checked case by case
against a real Chromium):

* :func:`assert_cookie_deleted` -- in a test: the login's ``Set-Cookie`` and the
  logout's response (WebTest, WebOb, werkzeug, Django, or a list of headers);
* :func:`cookie_problems` -- without a request: what a
  :class:`~logout_middleware.LogoutMiddleware`'s configuration would fail to delete,
  for a test or the application's start-up;
* :class:`~logout_middleware.testing.store.CookieStore` -- the browser's cookie store
  itself;
* a pytest plugin, off until switched on, whose fixtures make both checks one line
  (:mod:`logout_middleware.testing.fixtures`).

Usage in a WebTest test::

    from logout_middleware.testing import assert_cookie_deleted, cookie_problems, set_cookie_header

    login = app.post("/login", {"username": "ada"})
    set_cookie = set_cookie_header(login, "session")
    logout = app.post("/api/1/services/api/1/security/logout.json")
    assert_cookie_deleted(set_cookie, logout)
    assert cookie_problems(middleware, set_cookie) == []

The kit imports no framework: it reads responses by their attributes.
"""

from __future__ import annotations

from .assertion import (
    assert_cookie_deleted,
    response_headers,
    set_cookie_header,
    set_cookie_headers,
)
from .parsing import SetCookie, parse_set_cookie
from .problems import cookie_problems
from .store import CookieStore, Received, StoredCookie

__all__ = [
    "CookieStore",
    "Received",
    "SetCookie",
    "StoredCookie",
    "assert_cookie_deleted",
    "cookie_problems",
    "parse_set_cookie",
    "response_headers",
    "set_cookie_header",
    "set_cookie_headers",
]
