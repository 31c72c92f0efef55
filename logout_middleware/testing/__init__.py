"""Testing kit: prove in your own tests that logout really drops the cookie.

:class:`~logout_middleware.testing.store.CookieStore` is a browser's cookie store
(RFC 6265bis as Chromium implements it, checked case by case against a real Chromium);
:func:`~logout_middleware.testing.parsing.parse_set_cookie` reads a ``Set-Cookie``
value as a browser does.
"""

from __future__ import annotations

from .parsing import SetCookie, parse_set_cookie
from .store import CookieStore, Received, StoredCookie

__all__ = ["CookieStore", "Received", "SetCookie", "StoredCookie", "parse_set_cookie"]
