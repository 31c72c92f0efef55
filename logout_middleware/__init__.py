"""logout-middleware: a correct, fast, hardened logout for any WSGI application.

The public names::

    from logout_middleware import (
        DEFAULT_LOGOUT_PATH, LogoutMiddleware, SessionBackend,
        MemoryBackend, SQLiteBackend, RedisBackend, SQLAlchemyBackend,
        CookieSpec, LogoutEvent, signed_session_id,
        RevocationStore, MemoryRevocationStore, SQLiteRevocationStore,
        RedisRevocationStore, RevocationFilter,
        SessionIndex, MemorySessionIndex, SQLiteSessionIndex,
        RedisSessionIndex, SQLAlchemySessionIndex,
    )

The package imports no framework and no backend client: ``RedisBackend`` and
``SQLAlchemyBackend`` import ``redis`` and ``sqlalchemy`` when they are built, so
those stay optional extras.
"""

from __future__ import annotations

from .backends import (
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
    RedisBackend,
    RedisRevocationStore,
    RedisSessionIndex,
    RevocationStore,
    SessionBackend,
    SessionIndex,
    SessionStore,
    SQLAlchemyBackend,
    SQLAlchemySessionIndex,
    SQLiteBackend,
    SQLiteRevocationStore,
    SQLiteSessionIndex,
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
    "MemorySessionIndex",
    "RedisBackend",
    "RedisRevocationStore",
    "RedisSessionIndex",
    "RevocationFilter",
    "RevocationStore",
    "SQLAlchemyBackend",
    "SQLAlchemySessionIndex",
    "SQLiteBackend",
    "SQLiteRevocationStore",
    "SQLiteSessionIndex",
    "SessionBackend",
    "SessionIndex",
    "SessionStore",
    "cookie_token",
    "cookie_tokens",
    "fingerprint",
    "signed_session_id",
]
