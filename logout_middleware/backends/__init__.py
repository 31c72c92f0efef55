"""Session stores that :class:`~logout_middleware.LogoutMiddleware` can clear.

Every backend satisfies :class:`SessionBackend`: one method, ``delete(session_id)``.
The stores that ship with the package also offer a small :class:`SessionStore` API
(``create``/``get``) so that demos and tests can log in for real.

Backends whose client is an optional extra (Redis, SQLAlchemy) are imported lazily:
importing this package never imports ``redis`` or ``sqlalchemy``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import SessionBackend, SessionStore
from .memory import MemoryBackend
from .sqlite import SQLiteBackend

if TYPE_CHECKING:  # pragma: no cover
    from .redis import RedisBackend
    from .sqlalchemy import SQLAlchemyBackend

__all__ = [
    "MemoryBackend",
    "RedisBackend",
    "SQLAlchemyBackend",
    "SQLiteBackend",
    "SessionBackend",
    "SessionStore",
]


def __getattr__(name: str) -> Any:
    # Lazy imports keep optional clients out of ``import logout_middleware``.
    if name == "RedisBackend":
        from .redis import RedisBackend

        return RedisBackend
    if name == "SQLAlchemyBackend":
        from .sqlalchemy import SQLAlchemyBackend

        return SQLAlchemyBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
