"""The replay cache: the ``jti`` of every logout token received, kept as long as the
token could be accepted, so that the same token is refused the second time.

A cache is anything with ``seen(key)`` and ``remember(key, ttl)``
(:class:`ReplayCache`). :class:`MemoryReplayCache` serves one process;
:class:`RevocationReplayCache` keeps the keys in any
:class:`~logout_middleware.backends.RevocationStore` (the bundled memory, SQLite and
Redis ones), so every worker and host sharing that store shares the cache.

The keys are ``"oidc-jti:"`` and the hex SHA-256 of the issuer and the ``jti``: a
store never holds a token's ``jti``, and the keys never collide with the revoked
cookie fingerprints (bare hex digests) kept in the same store.

**The race.** Checking and remembering are two steps (a revocation store has no
"set if absent"), so two deliveries of one token that are checked at the same moment,
before either is remembered, both pass. Both then end the same sessions: a replay in
that window achieves nothing the first delivery did not. The window is one store round
trip, or, when the caller remembers the token only after its sessions ended (see
:meth:`OIDCLogout.validate_logout_token`), the time it took to end them.
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Protocol, runtime_checkable

from ..backends.base import RevocationStore

__all__ = ["MemoryReplayCache", "ReplayCache", "RevocationReplayCache", "replay_key"]


@runtime_checkable
class ReplayCache(Protocol):
    """Where the keys of the logout tokens received are kept until they expire."""

    def seen(self, key: str) -> bool:
        """Whether ``key`` was remembered and has not expired. Raises when the store failed."""

    def remember(self, key: str, ttl: float) -> None:
        """Remember ``key`` for ``ttl`` seconds (``ttl > 0``). Raises when the store failed."""


def replay_key(issuer: str, jti: str) -> str:
    """The cache key of a token: ``"oidc-jti:"`` and the hex SHA-256 of ``issuer`` and ``jti``."""
    # The issuer's length first: unambiguous whatever either holds.
    pair = f"{len(issuer)}:{issuer}{jti}".encode("utf-8", "surrogatepass")
    digest = hashlib.sha256(pair).hexdigest()
    return "oidc-jti:" + digest


class MemoryReplayCache:
    """Keys in this process's memory; expired keys are purged now and then.

    .. warning:: Not shared between worker processes or hosts: a token received by one
       gunicorn worker can be replayed to another. Use :class:`RevocationReplayCache`
       over a shared store there.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._expiry: dict[str, float] = {}
        self._next_purge = 0.0

    def seen(self, key: str) -> bool:
        """Whether ``key`` was remembered and its time to live has not run out."""
        expires = self._expiry.get(key)
        return expires is not None and expires > time.monotonic()

    def remember(self, key: str, ttl: float) -> None:
        """Remember ``key`` for ``ttl`` seconds (a later expiry is kept)."""
        now = time.monotonic()
        with self._lock:
            self._expiry[key] = max(self._expiry.get(key, 0.0), now + ttl)
            if now >= self._next_purge:
                self._expiry = {k: e for k, e in self._expiry.items() if e > now}
                self._next_purge = now + 60.0

    def __len__(self) -> int:
        now = time.monotonic()
        with self._lock:
            return sum(1 for e in self._expiry.values() if e > now)


class RevocationReplayCache:
    """Keys in a :class:`~logout_middleware.backends.RevocationStore`:
    ``seen`` is ``is_revoked``, ``remember`` is ``revoke``.

    :param store: the shared store, such as the middleware's revocation store.
    """

    def __init__(self, store: RevocationStore) -> None:
        if not isinstance(store, RevocationStore):
            raise ValueError(
                "store must have revoke(token, ttl) and is_revoked(token), such as "
                f"RedisRevocationStore; got {type(store).__name__}"
            )
        #: The revocation store holding the keys.
        self.store = store

    def seen(self, key: str) -> bool:
        """Whether the store holds ``key``."""
        return self.store.is_revoked(key)

    def remember(self, key: str, ttl: float) -> None:
        """Keep ``key`` in the store for ``ttl`` seconds."""
        self.store.revoke(key, ttl)
