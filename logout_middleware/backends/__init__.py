"""Session stores that :class:`~logout_middleware.LogoutMiddleware` can clear.

Every backend satisfies :class:`SessionBackend`: one method, ``delete(session_id)``;
the bundled ones also delete many sessions in a few round trips with ``delete_many``,
which :func:`delete_sessions` uses when a backend has it.
The stores that ship with the package also offer a small :class:`SessionStore` API
(``create``/``get``) so that demos and tests can log in for real.

:class:`AsyncRedisBackend` and :class:`AsyncSQLAlchemyBackend` are their asyncio
twins, for the ASGI middleware (:mod:`logout_middleware.asgi`): their methods are
coroutine functions.

The session index stores (:class:`SessionIndex`: which sessions belong to whom) and
the revocation stores (:class:`RevocationStore`) live here too, one module per store,
and :func:`backend_from_url`, :func:`index_from_url` and
:func:`revocation_store_from_url` build any of them from a URL. A store whose client
is an optional extra (Redis, SQLAlchemy) imports it in its constructor: importing this
package never imports ``redis`` or ``sqlalchemy``.
"""

from __future__ import annotations

from .base import (
    AsyncSessionBackend,
    RevocationStore,
    SessionBackend,
    SessionIndex,
    SessionStore,
    delete_sessions,
)
from .memory import MemoryBackend
from .memory_index import MemorySessionIndex
from .memory_revocation import MemoryRevocationStore
from .redis import RedisBackend
from .redis_async import AsyncRedisBackend
from .redis_index import RedisSessionIndex
from .redis_revocation import RedisRevocationStore
from .sqlalchemy import SQLAlchemyBackend
from .sqlalchemy_async import AsyncSQLAlchemyBackend
from .sqlalchemy_index import SQLAlchemySessionIndex
from .sqlite import SQLiteBackend
from .sqlite_index import SQLiteSessionIndex
from .sqlite_revocation import SQLiteRevocationStore
from .urls import backend_from_url, index_from_url, revocation_store_from_url

__all__ = [
    "AsyncRedisBackend",
    "AsyncSQLAlchemyBackend",
    "AsyncSessionBackend",
    "MemoryBackend",
    "MemoryRevocationStore",
    "MemorySessionIndex",
    "RedisBackend",
    "RedisRevocationStore",
    "RedisSessionIndex",
    "RevocationStore",
    "SQLAlchemyBackend",
    "SQLAlchemySessionIndex",
    "SQLiteBackend",
    "SQLiteRevocationStore",
    "SQLiteSessionIndex",
    "SessionBackend",
    "SessionIndex",
    "SessionStore",
    "backend_from_url",
    "delete_sessions",
    "index_from_url",
    "revocation_store_from_url",
]
