"""logout-middleware: a correct, fast, hardened logout for any WSGI application.

The public names::

    from logout_middleware import (
        DEFAULT_LOGOUT_PATH, LogoutMiddleware, SessionBackend,
        MemoryBackend, SQLiteBackend, RedisBackend, SQLAlchemyBackend,
        CookieSpec, LogoutEvent, signed_session_id,
        RevocationStore, MemoryRevocationStore, SQLiteRevocationStore,
        RedisRevocationStore, RevocationFilter,
    )

The WSGI core imports no framework and no backend client: ``RedisBackend`` and
``SQLAlchemyBackend`` are imported on first use, so ``redis`` and ``sqlalchemy``
stay optional extras.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .backends.base import SessionBackend, SessionStore
from .backends.memory import MemoryBackend
from .backends.sqlite import SQLiteBackend
from .cookies import CookieSpec
from .events import LogoutEvent, fingerprint
from .middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware
from .revocation import (
    MemoryRevocationStore,
    RedisRevocationStore,
    RevocationFilter,
    RevocationStore,
    SQLiteRevocationStore,
    cookie_token,
)
from .signing import signed_session_id

if TYPE_CHECKING:  # pragma: no cover
    from .backends.redis import RedisBackend
    from .backends.sqlalchemy import SQLAlchemyBackend

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
    "fingerprint",
    "signed_session_id",
]


def __getattr__(name: str) -> Any:
    if name in ("RedisBackend", "SQLAlchemyBackend"):
        from . import backends

        return getattr(backends, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
