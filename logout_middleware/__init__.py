"""logout-middleware: a correct, fast, hardened logout for any WSGI application.

The public names::

    from logout_middleware import (
        DEFAULT_LOGOUT_PATH, LogoutMiddleware, SessionBackend,
        MemoryBackend, SQLiteBackend, RedisBackend, SQLAlchemyBackend,
        CookieSpec, LogoutEvent, signed_session_id,
        RevocationStore, MemoryRevocationStore, SQLiteRevocationStore,
        RedisRevocationStore, RevocationFilter,
    )

The package imports no framework and no backend client: ``RedisBackend`` and
``SQLAlchemyBackend`` import ``redis`` and ``sqlalchemy`` when they are built, so
those stay optional extras.
"""

from __future__ import annotations

from .backends import (
    MemoryBackend,
    MemoryRevocationStore,
    RedisBackend,
    RedisRevocationStore,
    RevocationStore,
    SessionBackend,
    SessionStore,
    SQLAlchemyBackend,
    SQLiteBackend,
    SQLiteRevocationStore,
)
from .cookies import CookieSpec
from .events import LogoutEvent, fingerprint
from .middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware
from .revocation import RevocationFilter, cookie_token, cookie_tokens
from .signing import signed_session_id

__all__ = [
    "DEFAULT_LOGOUT_PATH",
    "CookieSpec",
    "LogoutEvent",
    "LogoutMiddleware",
    "MemoryBackend",
    "MemoryRevocationStore",
    "RedisBackend",
    "RedisRevocationStore",
    "RevocationFilter",
    "RevocationStore",
    "SQLAlchemyBackend",
    "SQLiteBackend",
    "SQLiteRevocationStore",
    "SessionBackend",
    "SessionStore",
    "cookie_token",
    "cookie_tokens",
    "fingerprint",
    "signed_session_id",
]
