"""Session stores that :class:`~logout_middleware.LogoutMiddleware` can clear.

Every backend satisfies :class:`SessionBackend`: one method, ``delete(session_id)``.
The stores that ship with the package also offer a small :class:`SessionStore` API
(``create``/``get``) so that demos and tests can log in for real.

The revocation stores (:class:`RevocationStore`) live here too, one module per store,
and :func:`backend_from_url` / :func:`revocation_store_from_url` build any of them
from a URL. A store whose client is an optional extra (Redis, SQLAlchemy) imports
it in its constructor: importing this package never imports ``redis`` or
``sqlalchemy``.
"""

from __future__ import annotations

from .base import RevocationStore, SessionBackend, SessionStore
from .memory import MemoryBackend
from .memory_revocation import MemoryRevocationStore
from .redis import RedisBackend
from .redis_revocation import RedisRevocationStore
from .sqlalchemy import SQLAlchemyBackend
from .sqlite import SQLiteBackend
from .sqlite_revocation import SQLiteRevocationStore
from .urls import backend_from_url, revocation_store_from_url

__all__ = [
    "MemoryBackend",
    "MemoryRevocationStore",
    "RedisBackend",
    "RedisRevocationStore",
    "RevocationStore",
    "SQLAlchemyBackend",
    "SQLiteBackend",
    "SQLiteRevocationStore",
    "SessionBackend",
    "SessionStore",
    "backend_from_url",
    "revocation_store_from_url",
]
