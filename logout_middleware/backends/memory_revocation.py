"""Revoked cookie fingerprints in this process's memory (tests, one process)."""

from __future__ import annotations

import threading
import time

from .._validation import positive_seconds

__all__ = ["MemoryRevocationStore"]


class MemoryRevocationStore:
    """Revoked tokens in this process's memory.

    .. warning:: Not shared between worker processes or hosts: a cookie revoked by
       one gunicorn worker stays valid in the others. Use
       :class:`SQLiteRevocationStore` or :class:`RedisRevocationStore` there.
    """

    #: Its methods never block: the ASGI middleware calls them on the event loop.
    nonblocking = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._next_purge = 0.0

    def revoke(self, token: str, ttl: float) -> None:
        """Remember ``token`` for ``ttl`` seconds; expired tokens are purged now and then."""
        now = time.monotonic()
        expires = now + positive_seconds(ttl, "ttl")
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
