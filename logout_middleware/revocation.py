"""Revocation for cookie-only sessions: a copied cookie is worthless after logout.

A signed cookie session (Flask's default, Starlette's ``SessionMiddleware``) has no
server-side record to delete: a copy of the cookie stays valid until it expires. With
revocation on, the logout records the fingerprints of the session's *canonical
identities* (:func:`cookie_tokens`; never the value itself) in a
:class:`RevocationStore` for the session's maximum age, and :class:`RevocationFilter`
checks every later request that carries the cookie: a revoked session is removed from
the ``Cookie`` header before the application sees it, and the cookie is expired in
the response.

The cookie is read by the package's one cookie reader
(:mod:`logout_middleware.sessionref`), which finds it wherever any framework would,
and names the session the way the frameworks do: logging out with any spelling of a
session revokes every spelling an application would accept (extra base64 padding,
characters outside the alphabet, whitespace around it, quoting...).

Stores (in :mod:`logout_middleware.backends`):

* :class:`MemoryRevocationStore` -- one process only (tests, single-process servers).
* :class:`SQLiteRevocationStore` -- every process on one host.
* :class:`RedisRevocationStore` -- every host (``redis`` extra).

Any object with ``revoke(token, ttl)`` and ``is_revoked(token)`` will do.

:class:`~logout_middleware.LogoutMiddleware` wires it up with ``revocation=store`` and
``revocation_max_age=seconds``; the filter can also be used on its own::

    app = RevocationFilter(app, store, CookieSpec("session"))
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Generator, Iterable
from typing import TYPE_CHECKING, Any, Literal

from ._steps import Call, drive, run
from ._validation import positive_seconds, store_instance
from .backends.base import RevocationStore, SessionIndex
from .backends.memory_revocation import MemoryRevocationStore
from .backends.redis_revocation import RedisRevocationStore
from .backends.sqlite_revocation import SQLiteRevocationStore
from .request import environ_text, wsgi_https
from .sessionref import (
    CookieReading,
    decode_value,
    read_cookie,
    recorded_tokens,
    session_tokens,
)

if TYPE_CHECKING:  # pragma: no cover
    from ._wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from .cookies import CookieSpec
    from .responses import Header

__all__ = [
    "MemoryRevocationStore",
    "RedisRevocationStore",
    "Revocation",
    "RevocationFilter",
    "RevocationStore",
    "SQLiteRevocationStore",
    "UserFromCookie",
    "cookie_token",
    "cookie_tokens",
    "not_before_key",
]

#: ``user_from_cookie``: the user a cookie-only session belongs to and the Unix time
#: its cookie was signed, or ``None`` (no user, a bad signature).
UserFromCookie = Callable[[str], "tuple[str, float] | None"]


def not_before_key(user: str) -> str:
    """The session index entry that holds ``user``'s *not before* time."""
    return f"logout-middleware:not-before:{user}"

logger = logging.getLogger("logout_middleware.revocation")


def cookie_tokens(value: str) -> tuple[str, ...]:
    """The fingerprints recorded for a revoked cookie value: one per canonical
    identity of the session it names (see
    :func:`~logout_middleware.sessionref.recorded_tokens`).

    ``value`` is the cookie's value as it appears in the header (a WSGI string).
    """
    return recorded_tokens(value)


def cookie_token(value: str) -> str:
    """The first of :func:`cookie_tokens`: a hex SHA-256 digest, never the value."""
    return recorded_tokens(value)[0]


class Revocation:
    """The revocation component: what the logout records and what requests are
    checked against.

    :param store: the :class:`RevocationStore`.
    :param cookie: the session cookie (its name, and the deletion headers sent when a
        revoked session shows up).
    :param max_age: how long a revoked session is remembered, in seconds.
    :param on_error: ``"strip"`` or ``"raise"``; see :class:`RevocationFilter`.
    :param max_values: most distinct values of the cookie looked up per request.
    :param index: the session index that keeps each user's *not before* time, for
        log out everywhere with cookie-only sessions (with ``user_from_cookie``).
    :param user_from_cookie: reads a cookie value (decoded, as the application's
        session library reads it) and returns ``(user, signed_at)``: the user the
        session belongs to and the Unix time its signature was made (itsdangerous'
        ``loads(..., return_timestamp=True)``, Django's ``TimestampSigner``), or
        ``None`` for no user or a bad signature. Log out everywhere then refuses
        every cookie of that user signed before it happened.
    """

    def __init__(
        self,
        store: RevocationStore,
        cookie: CookieSpec,
        *,
        max_age: float = 31 * 24 * 3600,
        on_error: Literal["strip", "raise"] = "strip",
        max_values: int = 4,
        index: SessionIndex | None = None,
        user_from_cookie: UserFromCookie | None = None,
    ) -> None:
        store_instance(store, "revocation")
        if not isinstance(store, RevocationStore):
            raise ValueError(
                "the revocation store must have revoke(token, ttl) and is_revoked(token), "
                f"such as MemoryRevocationStore; got {type(store).__name__}"
            )
        if on_error not in ("strip", "raise"):
            raise ValueError(f"on_error must be 'strip' or 'raise'; got {on_error!r}")
        if isinstance(max_values, bool) or not isinstance(max_values, int) or max_values < 1:
            raise ValueError(f"max_values must be a positive integer; got {max_values!r}")
        #: Where revoked tokens live.
        self.store = store
        #: The session cookie.
        self.cookie = cookie
        #: Seconds a revoked session is remembered.
        self.max_age = positive_seconds(max_age, "revocation_max_age")
        #: Store failure policy.
        self.on_error = on_error
        #: Most distinct values looked up per request.
        self.max_values = max_values
        if user_from_cookie is not None and not callable(user_from_cookie):
            raise ValueError("user_from_cookie must be a callable or None")
        if user_from_cookie is not None and index is None:
            raise ValueError(
                "user_from_cookie needs index=... (a SessionIndex such as "
                "SQLiteSessionIndex(path)): it keeps each user's not-before time"
            )
        #: The index that keeps each user's not-before time, if any.
        self.index = index
        #: ``(user, signed_at)`` of a cookie value, if log out everywhere is on.
        self.user_from_cookie = user_from_cookie
        # A browser repeats its cookie: each value is verified once (bounded), and the
        # store lookups of its tokens are made once, as calls (see revoked_steps).
        self._identify = functools.lru_cache(maxsize=4096)(self._user_of)
        self._lookups = functools.lru_cache(maxsize=4096)(self._lookup_calls)

    @property
    def ends_users(self) -> bool:
        """Whether log out everywhere reaches cookie-only sessions (``user_from_cookie``)."""
        return self.user_from_cookie is not None

    # -- at logout -------------------------------------------------------------

    @staticmethod
    def tokens(values: Iterable[str]) -> tuple[str, ...]:
        """The tokens to record for the cookie values of a logout (sans I/O)."""
        return tuple(dict.fromkeys(t for v in values if v for t in recorded_tokens(v)))

    def revoke(self, tokens: Iterable[str]) -> None:
        """Record ``tokens`` in the store for ``max_age``; raises when the store fails."""
        run(self.revoke_calls(tokens))

    def revoke_calls(self, tokens: Iterable[str]) -> list[Call]:
        """The store calls of :meth:`revoke` (see :mod:`logout_middleware._steps`)."""
        revoke, max_age = self.store.revoke, self.max_age
        return [(revoke, (token, max_age)) for token in tokens]

    def not_before_entries(
        self, users: Iterable[str], keep_value: str | None = None
    ) -> list[tuple[str, float, dict[str, str]]]:
        """The index entries ``(key, ttl, labels)`` that refuse, from now on, every
        cookie of ``users`` signed before now, except ``keep_value`` (the cookie value
        of the session kept); written by :class:`~logout_middleware.ending.SessionEnder`."""
        # The kept session's most particular identity: the signed one when it has one
        # (a Starlette cookie's data alone is every same-data session's).
        keep = recorded_tokens(keep_value)[-1] if keep_value else ""
        labels = {"not_before": repr(time.time()), "keep": keep}
        return [(not_before_key(user), self.max_age, labels) for user in users]

    # -- on every other request ------------------------------------------------

    def read(self, header: str) -> CookieReading | None:
        """The session cookie's reading of a ``Cookie`` header, or ``None`` when the
        header cannot hold it (the cheap test: the name is not in it)."""
        if self.cookie.name not in header:
            return None
        return _read(header, self.cookie.name)

    def revoked(self, reading: CookieReading) -> tuple[set[str], bool]:
        """Which values of the reading are revoked, and whether to expire the cookie.

        Looks each value up in the store (I/O, made here synchronously: see
        :meth:`revoked_steps`). A request carrying more than ``max_values`` distinct
        values has all of them removed. A store failure removes the value without
        expiring it (``on_error="strip"``) or raises.
        """
        return drive(self.revoked_steps(reading))

    def revoked_steps(
        self, reading: CookieReading
    ) -> Generator[Call, Any, tuple[set[str], bool]]:
        """The store lookups of :meth:`revoked` as a steps generator (see
        :mod:`logout_middleware._steps`), for a driver of its own (the ASGI filter)."""
        # The distinct non-empty values, first seen first (``reading.values`` without
        # its generator: this runs on every request that carries the cookie).
        values = dict.fromkeys([value for _, value in reading.pairs if value])
        if len(values) > self.max_values:
            logger.warning(
                "request carries %d values of cookie %r; all removed",
                len(values),
                self.cookie.name,
            )
            return set(values), True
        revoked: set[str] = set()
        failed = False
        by_user = self.user_from_cookie is not None
        for value in values:
            try:
                for lookup in self._lookups(value):
                    if (yield lookup):
                        revoked.add(value)
                        break
                else:
                    if by_user and (yield from self._signed_too_early(value)):
                        revoked.add(value)
            except Exception:
                if self.on_error == "raise":
                    raise
                logger.exception(
                    "revocation store failed; cookie %r removed from the request (fail closed)",
                    self.cookie.name,
                )
                revoked.add(value)
                failed = True
        return revoked, bool(revoked) and not failed

    def _lookup_calls(self, value: str) -> tuple[Call, ...]:
        is_revoked = self.store.is_revoked
        return tuple((is_revoked, (token,)) for token in _tokens(value))

    def identify(self, value: str) -> tuple[str, float] | None:
        """``user_from_cookie`` of a cookie value as it appears in the header (cached:
        each value is verified once); ``None`` when it names no user or raised."""
        return self._identify(value)

    def _user_of(self, value: str) -> tuple[str, float] | None:
        assert self.user_from_cookie is not None
        try:
            found = self.user_from_cookie(decode_value(value))
        except Exception:  # a hook that raises on a forged cookie: no user
            logger.warning("user_from_cookie raised; the cookie is taken as no user's")
            return None
        if found is None:
            return None
        user, signed_at = found
        return str(user), float(signed_at)

    def _signed_too_early(self, value: str) -> Generator[Call, Any, bool]:
        # A cookie of a user who logged out everywhere after it was signed (I/O).
        assert self.index is not None
        found = self._identify(value)
        if found is None:
            return False
        user, signed_at = found
        entry = yield self.index.labels, (not_before_key(user),)
        not_before = entry.get("not_before")
        if not not_before or signed_at >= float(not_before):
            return False
        keep = entry.get("keep")
        return not keep or keep not in _tokens(value)

    def expiry(self, https: bool) -> Header:
        """The ``Set-Cookie`` header that expires the session cookie."""
        return ("Set-Cookie", self.cookie.headers[1 if https else 0])


# A browser sends the same header with every request: its reading and its tokens are
# computed once (bounded caches; the readings hold no secret beyond the header).
@functools.lru_cache(maxsize=1024)
def _read(header: str, name: str) -> CookieReading | None:
    reading = read_cookie(header, name)
    return reading if reading.pairs else None


_tokens = functools.lru_cache(maxsize=4096)(session_tokens)


class RevocationFilter:
    """A WSGI wrapper that hides revoked session cookies from ``app``.

    :param app: the WSGI application to protect.
    :param store: the :class:`RevocationStore` written on logout.
    :param cookie: the session cookie (:class:`~logout_middleware.cookies.CookieSpec`):
        its name, and the prebuilt deletion headers sent when a revoked value shows up.
    :param on_error: what to do when the store raises. ``"strip"`` (default) fails
        closed without failing the request: the cookie is removed from the request as
        if revoked (the user is anonymous while the store is down), it is *not*
        expired in the response (so it works again once the store is back), and the
        error is logged without the cookie's value. ``"raise"`` lets the exception
        propagate (the server answers ``500``). Failing open is not offered: a copied
        cookie would work again whenever the store is unreachable.
    :param max_values: at most this many distinct values of the cookie are looked up
        in one request; a request carrying more has all of them removed (a browser
        sends one or two; more is an attempt to multiply store lookups).

    A request whose ``Cookie`` header does not contain the cookie's name goes to
    ``app`` untouched, with the very same ``environ``. Otherwise each value of the
    cookie, found by every reading (:mod:`~logout_middleware.sessionref`), is looked
    up by its tokens; revoked pairs are removed from ``HTTP_COOKIE`` in a copy of
    ``environ`` -- every other cookie stays byte for byte as it was -- and the
    deletion ``Set-Cookie`` (the ``Secure`` variant on https) is added to the response
    unless the application sets that cookie itself.
    """

    def __init__(
        self,
        app: WSGIApplication,
        store: RevocationStore,
        cookie: CookieSpec,
        *,
        on_error: Literal["strip", "raise"] = "strip",
        max_values: int = 4,
        revocation: Revocation | None = None,
    ) -> None:
        #: The wrapped application.
        self.app = app
        #: The revocation component.
        self.revocation = revocation or Revocation(
            store, cookie, on_error=on_error, max_values=max_values
        )
        #: Where revoked tokens are looked up.
        self.store = store
        #: The session cookie.
        self.cookie = cookie
        self._name = cookie.name
        self._set_cookie_prefix = cookie.name + "="

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        try:
            if self._name not in environ.get("HTTP_COOKIE", ""):
                return self.app(environ, start_response)
        except TypeError:  # not a string, against PEP 3333: read as one
            if self._name not in environ_text(environ["HTTP_COOKIE"]):
                return self.app(environ, start_response)
        return self._filter(environ, start_response)

    def _filter(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        reading = self.revocation.read(environ_text(environ["HTTP_COOKIE"]))
        if reading is None:
            return self.app(environ, start_response)
        revoked, expire = drive(self.revocation.revoked_steps(reading))
        if not revoked:
            return self.app(environ, start_response)
        environ = dict(environ)
        header = reading.without(revoked)
        if header:
            environ["HTTP_COOKIE"] = header
        else:
            del environ["HTTP_COOKIE"]
        if not expire:
            return self.app(environ, start_response)
        deletion = self.revocation.expiry(wsgi_https(environ))
        prefix = self._set_cookie_prefix

        def start_expiring(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if not any(
                h.lower() == "set-cookie" and v.lstrip().startswith(prefix) for h, v in headers
            ):
                headers = [*headers, deletion]
            return start_response(status, headers, exc_info)

        return self.app(environ, start_expiring)
