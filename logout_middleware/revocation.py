"""Revocation for cookie-only sessions: a copied cookie is worthless after logout.

A signed cookie session (Flask's default, Starlette's ``SessionMiddleware``) has no
server-side record to delete: a copy of the cookie stays valid until it expires. With
revocation on, the logout records a fingerprint of the cookie's value -- the hex
SHA-256 from :func:`cookie_token`, never the value itself -- in a
:class:`RevocationStore` for the session's maximum age, and :class:`RevocationFilter`
checks every later request that carries the cookie: a revoked value is removed from
``HTTP_COOKIE`` before the application sees it, and the cookie is expired in the
response.

Stores:

* :class:`MemoryRevocationStore` -- one process only (tests, single-process servers).
* :class:`SQLiteRevocationStore` -- every process on one host.
* :class:`RedisRevocationStore` -- every host (``redis`` extra).

Any object with ``revoke(token, ttl)`` and ``is_revoked(token)`` will do.

:class:`~logout_middleware.LogoutMiddleware` wires it up with ``revocation=store`` and
``revocation_max_age=seconds``; the filter can also be used on its own::

    app = RevocationFilter(app, store, CookieSpec("session"))
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from .backends.base import validate_identifier
from .backends.sqlite_file import SQLiteFile
from .cookies import parse_request_cookies

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable

    from ._wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from .cookies import CookieSpec

__all__ = [
    "MemoryRevocationStore",
    "RedisRevocationStore",
    "RevocationFilter",
    "RevocationStore",
    "SQLiteRevocationStore",
    "cookie_token",
]

logger = logging.getLogger("logout_middleware.revocation")


def cookie_token(value: str) -> str:
    """Return the fingerprint stored for a revoked cookie value: its hex SHA-256.

    ``value`` is the cookie's value as it appears in ``HTTP_COOKIE`` (a WSGI string),
    unquoted if it was a quoted string. The value itself is never stored or logged.
    """
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def _check_ttl(ttl: float) -> float:
    if isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or not 0 < ttl < math.inf:
        raise ValueError(f"ttl must be a positive, finite number of seconds; got {ttl!r}")
    return float(ttl)


@runtime_checkable
class RevocationStore(Protocol):
    """Where revoked cookie fingerprints are kept until they expire."""

    def revoke(self, token: str, ttl: float) -> None:
        """Remember ``token`` as revoked for ``ttl`` seconds (``ttl > 0``).

        Revoking again keeps the later expiry. Raises when the store failed.
        """

    def is_revoked(self, token: str) -> bool:
        """Whether ``token`` is revoked and not yet expired. Raises when the store failed."""


class MemoryRevocationStore:
    """Revoked tokens in this process's memory.

    .. warning:: Not shared between worker processes or hosts: a cookie revoked by
       one gunicorn worker stays valid in the others. Use
       :class:`SQLiteRevocationStore` or :class:`RedisRevocationStore` there.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._next_purge = 0.0

    def revoke(self, token: str, ttl: float) -> None:
        """Remember ``token`` for ``ttl`` seconds; expired tokens are purged now and then."""
        now = time.monotonic()
        expires = now + _check_ttl(ttl)
        with self._lock:
            if expires > self._expiry.get(token, 0.0):
                self._expiry[token] = expires
            if now >= self._next_purge:
                self._expiry = {t: e for t, e in self._expiry.items() if e > now}
                self._next_purge = now + 60.0

    def is_revoked(self, token: str) -> bool:
        """Whether ``token`` was revoked and its time to live has not run out."""
        expires = self._expiry.get(token)
        return expires is not None and expires > time.monotonic()

    def __len__(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for e in self._expiry.values() if e > now)


class SQLiteRevocationStore:
    """Revoked tokens in an SQLite file, shared by every process on the host.

    The table (created if missing) holds ``token TEXT PRIMARY KEY, expires_at REAL``
    (Unix time). Expired rows are ignored by :meth:`is_revoked` and deleted by
    :meth:`revoke` and :meth:`purge`. One connection per thread and process, WAL
    journal and a busy timeout, like :class:`~logout_middleware.SQLiteBackend`.

    :param path: the database file (created if missing); ``":memory:"`` is refused.
    :param table: the table name (a plain identifier).
    :param timeout: seconds to wait for a lock held by another connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table: str = "revoked_cookies",
        timeout: float = 5.0,
    ) -> None:
        #: The database file and this thread's connection to it.
        self.db = SQLiteFile(
            path,
            timeout=timeout,
            owner="SQLiteRevocationStore",
            alternative="MemoryRevocationStore",
        )
        self.path = self.db.path
        self.table = validate_identifier(table, "table")
        self.timeout = self.db.timeout
        t = self.table
        self._revoke_sql = (
            f'INSERT INTO "{t}" (token, expires_at) VALUES (?, ?) ON CONFLICT (token) '
            f"DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)"
        )
        self._check_sql = f'SELECT 1 FROM "{t}" WHERE token = ? AND expires_at > ?'
        self._purge_sql = f'DELETE FROM "{t}" WHERE expires_at <= ?'
        self.db.execute(
            f'CREATE TABLE IF NOT EXISTS "{t}" (token TEXT PRIMARY KEY, expires_at REAL NOT NULL)',
            create=True,
        )
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_expires_at" ON "{t}" (expires_at)')

    def revoke(self, token: str, ttl: float) -> None:
        """Remember ``token`` until ``now + ttl`` and delete the expired rows."""
        now = time.time()
        expires = now + _check_ttl(ttl)
        self.db.execute(self._revoke_sql, (token, expires))
        self.db.execute(self._purge_sql, (now,))

    def is_revoked(self, token: str) -> bool:
        """Whether ``token`` has a row that has not expired."""
        row = self.db.execute(self._check_sql, (token, time.time())).fetchone()
        return row is not None

    def purge(self) -> int:
        """Delete the expired rows now and return how many there were."""
        return self.db.execute(self._purge_sql, (time.time(),)).rowcount

    def close(self) -> None:
        """Close this thread's connection."""
        self.db.drop()


# Set the key with a TTL unless it already lives longer (one atomic step, any Redis).
_REVOKE_SCRIPT = (
    "if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then "
    "redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end return 1"
)


class RedisRevocationStore:
    """Revoked tokens in Redis, shared by every host: ``SET key_prefix+token 1 PX ttl``.

    Redis expires the keys by itself. Built from a URL, the client gets the same
    bounded timeouts as :class:`~logout_middleware.backends.RedisBackend` and does not
    connect before the first request.

    :param url_or_client: a Redis URL or a ready redis-py client.
    :param key_prefix: prepended to every token.
    :param client_options: ``socket_timeout``, ``socket_connect_timeout``,
        ``retries`` and other keyword arguments for ``redis.Redis.from_url``.
    """

    def __init__(
        self, url_or_client: Any, *, key_prefix: str = "revoked:", **client_options: Any
    ) -> None:
        from .backends.redis import redis_client

        if not isinstance(key_prefix, str):
            raise ValueError(f"key_prefix must be a string; got {key_prefix!r}")
        #: The redis-py client.
        self.client: Any = redis_client(url_or_client, **client_options)
        self._owns_client = isinstance(url_or_client, str)
        #: Prepended to every token.
        self.key_prefix = key_prefix

    def revoke(self, token: str, ttl: float) -> None:
        """Set the token's key with a time to live; a later expiry is never shortened."""
        ms = max(1, math.ceil(_check_ttl(ttl) * 1000))
        key = self.key_prefix + token
        self.client.eval(_REVOKE_SCRIPT, 1, key, ms)

    def is_revoked(self, token: str) -> bool:
        """Whether the token's key exists (Redis drops it when its TTL runs out)."""
        return bool(self.client.exists(self.key_prefix + token))

    def close(self) -> None:
        """Close the connections of a client built from a URL."""
        if self._owns_client:
            self.client.close()


def _unquote(raw: str) -> str:
    # A quoted cookie value: decode it the way werkzeug does for the middleware.
    if len(raw) >= 2 and raw[0] == raw[-1] == '"':
        return parse_request_cookies("x=" + raw).get("x", raw)
    return raw


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

    A request whose ``HTTP_COOKIE`` does not contain ``name=`` goes to ``app``
    untouched, with the very same ``environ``. Otherwise each value of the cookie is
    looked up by its :func:`cookie_token`; revoked ones are removed from
    ``HTTP_COOKIE`` in a copy of ``environ`` (other cookies and other values are kept
    as they were) and the deletion ``Set-Cookie`` (the ``Secure`` variant on https) is
    added to the response unless the application sets that cookie itself.
    """

    def __init__(
        self,
        app: WSGIApplication,
        store: RevocationStore,
        cookie: CookieSpec,
        *,
        on_error: Literal["strip", "raise"] = "strip",
        max_values: int = 4,
    ) -> None:
        if not isinstance(store, RevocationStore):
            raise ValueError(
                "store must have revoke(token, ttl) and is_revoked(token), such as "
                f"MemoryRevocationStore; got {type(store).__name__}"
            )
        if on_error not in ("strip", "raise"):
            raise ValueError(f"on_error must be 'strip' or 'raise'; got {on_error!r}")
        if not isinstance(max_values, int) or max_values < 1:
            raise ValueError(f"max_values must be a positive integer; got {max_values!r}")
        #: The wrapped application.
        self.app = app
        #: Where revoked tokens are looked up.
        self.store = store
        #: The session cookie.
        self.cookie = cookie
        #: Store failure policy.
        self.on_error = on_error
        #: Most distinct values looked up per request.
        self.max_values = max_values
        # The cheap test: a substring of the raw header.
        self._needle = cookie.name + "="
        self._set_cookie_prefix = cookie.name + "="

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if self._needle not in environ.get("HTTP_COOKIE", ""):
            return self.app(environ, start_response)
        return self._filter(environ, start_response)

    def _revoked_values(self, values: list[str]) -> tuple[set[str], bool]:
        # Which raw values are revoked, and whether to send the deletion header.
        distinct = list(dict.fromkeys(values))
        if len(distinct) > self.max_values:
            logger.warning(
                "request carries %d values of cookie %r; all removed",
                len(distinct),
                self.cookie.name,
            )
            return set(distinct), True
        revoked: set[str] = set()
        failed = False
        for raw in distinct:
            try:
                if self.store.is_revoked(cookie_token(_unquote(raw))):
                    revoked.add(raw)
            except Exception:
                if self.on_error == "raise":
                    raise
                logger.exception(
                    "revocation store failed; cookie %r removed from the request (fail closed)",
                    self.cookie.name,
                )
                revoked.add(raw)
                failed = True
        return revoked, bool(revoked) and not failed

    def _filter(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        name = self.cookie.name
        parts = environ["HTTP_COOKIE"].split(";")
        values = []
        for part in parts:
            key, sep, value = part.partition("=")
            if sep and key.strip() == name:
                values.append(value.strip())
        if not values:  # "name=" appeared only inside another cookie's value
            return self.app(environ, start_response)
        revoked, expire = self._revoked_values(values)
        if not revoked:
            return self.app(environ, start_response)
        kept = []
        for part in parts:
            key, sep, value = part.partition("=")
            if sep and key.strip() == name and value.strip() in revoked:
                continue
            if part.strip():
                kept.append(part.strip())
        environ = dict(environ)
        if kept:
            environ["HTTP_COOKIE"] = "; ".join(kept)
        else:
            del environ["HTTP_COOKIE"]
        if not expire:
            return self.app(environ, start_response)
        https = environ.get("wsgi.url_scheme") == "https"
        deletion = self.cookie.headers[1 if https else 0]
        prefix = self._set_cookie_prefix

        def start_expiring(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            if not any(
                h.lower() == "set-cookie" and v.lstrip().startswith(prefix) for h, v in headers
            ):
                headers = [*headers, ("Set-Cookie", deletion)]
            return start_response(status, headers, exc_info)

        return self.app(environ, start_expiring)
