"""Sessions in Redis through redis-py's asyncio client, for the ASGI middleware.

Needs the ``redis`` extra: ``pip install logout-middleware[redis]`` (redis-py).

The twin of :class:`~logout_middleware.backends.RedisBackend`: the same record layout
(one Redis string at ``key_prefix + session_id``; ``"session:"`` is Flask-Session's
and starsessions' default prefix), the same single ``DEL`` of that exact key, the same
bounded timeouts (2 s to connect, 2 s per answer, one immediate retry: a dead or
frozen Redis makes a logout fail in about 4 s instead of hanging), and nothing
connects at construction. Its methods are coroutine functions: the ASGI middleware
awaits them on the event loop, without a worker thread.

A redis-py asyncio client belongs to the event loop its connections were made in:
build the backend in the process that serves (at import of the application, or in
its lifespan), not before a ``fork()``.

Usage::

    from logout_middleware.asgi import LogoutMiddleware
    from logout_middleware.backends import AsyncRedisBackend

    app.add_middleware(LogoutMiddleware, backend=AsyncRedisBackend("redis://127.0.0.1:6379/0"))
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from .base import new_session_id
from .redis import RedisSessions

__all__ = ["AsyncRedisBackend"]


class AsyncRedisBackend(RedisSessions):
    """Sessions in Redis, awaited: ``DEL key_prefix + session_id`` on logout.

    :param url_or_client: a Redis URL, or a ready ``redis.asyncio`` client
        (``redis.asyncio.Redis``, ``redis.asyncio.RedisCluster``), used as it is.
    :param key_prefix: prepended to the session id to form the key.

    Also ``socket_timeout``, ``socket_connect_timeout``, ``retries``, ``ttl`` and
    more client options, as :class:`~logout_middleware.backends.RedisBackend` takes
    them.

    :raises ImportError: when ``url_or_client`` is a URL and redis-py is missing.
    :raises ValueError: for an unusable setting, or a blocking (not asyncio) client.
    """

    _asyncio = True

    async def delete(self, session_id: str) -> None:
        """``DEL`` the record of ``session_id``; an unknown id is not an error.

        Raises redis-py's ``ConnectionError``/``TimeoutError`` (or another
        ``redis.RedisError``) when Redis could not be reached or did not answer.
        """
        await self.client.delete(self._key(session_id))

    async def delete_many(self, session_ids: Iterable[str]) -> int:
        """``DEL`` the record of every id in ``session_ids`` in one pipeline (one round
        trip; not a transaction, as :meth:`RedisBackend.delete_many
        <logout_middleware.backends.RedisBackend.delete_many>`). No ids, no round trip.
        Returns how many records there were."""
        pipe = self._deleting(session_ids)
        return 0 if pipe is None else sum(await pipe.execute())

    async def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` as JSON under a new random id and return the id."""
        session_id = new_session_id()
        await self.client.set(self._key(session_id), json.dumps(data), px=self._ttl_ms)
        return session_id

    async def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data of ``session_id``, or ``None`` when there is no record."""
        raw = await self.client.get(self._key(session_id))
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    async def close(self) -> None:
        """Close the connections of a client this backend built from a URL."""
        if self._owns_client:
            await self.client.aclose()
