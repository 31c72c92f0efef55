"""Revoked cookie fingerprints in Redis: every host (``redis`` extra)."""

from __future__ import annotations

import math
from typing import Any

from .._validation import key_prefix as valid_key_prefix
from .._validation import positive_seconds

__all__ = ["RedisRevocationStore"]

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
        from .redis import redis_client

        #: The redis-py client.
        self.client: Any = redis_client(url_or_client, **client_options)
        self._owns_client = isinstance(url_or_client, str)
        #: Prepended to every token.
        self.key_prefix = valid_key_prefix(key_prefix)

    def revoke(self, token: str, ttl: float) -> None:
        """Set the token's key with a time to live; a later expiry is never shortened."""
        ms = max(1, math.ceil(positive_seconds(ttl, "ttl") * 1000))
        key = self.key_prefix + token
        self.client.eval(_REVOKE_SCRIPT, 1, key, ms)

    def is_revoked(self, token: str) -> bool:
        """Whether the token's key exists (Redis drops it when its TTL runs out)."""
        return bool(self.client.exists(self.key_prefix + token))

    def close(self) -> None:
        """Close the connections of a client built from a URL."""
        if self._owns_client:
            self.client.close()
