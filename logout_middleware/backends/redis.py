"""Sessions in Redis, shared by every worker and every host that reaches the server.

Needs the ``redis`` extra: ``pip install logout-middleware[redis]`` (redis-py).

Each session is one Redis string at ``key_prefix + session_id``; the default prefix,
``"session:"``, is Flask-Session's ``SESSION_KEY_PREFIX``, so a backend built with
the defaults clears Flask-Session's Redis records as they are. :meth:`RedisBackend.delete`
is a single ``DEL`` of that exact key: the id is never used as a pattern, so ``*``,
``?`` or ``[`` in a cookie cannot reach any other record.

Nothing connects at construction, so an application starts while Redis is down. A
client built from a URL gets bounded timeouts (``socket_timeout`` and
``socket_connect_timeout``, 2 s each, unless the URL sets them) and at most
``retries`` retries without back-off, so a dead or frozen Redis makes ``delete``
raise after at most about ``(1 + retries) * socket_timeout`` seconds instead of
hanging a worker; the middleware answers that logout with ``500``. redis-py's pool
reconnects by itself, so logouts succeed again as soon as Redis is back, without
restarting the application.

Usage::

    from logout_middleware.backends import RedisBackend

    backend = RedisBackend("redis://127.0.0.1:6379/0")            # Flask-Session layout
    backend = RedisBackend(redis.Redis(...), key_prefix="myapp:")  # a ready client
    backend = RedisBackend(RedisCluster.from_url(...))             # Redis Cluster
    backend = RedisBackend(Sentinel([...]).master_for("mymaster")) # Sentinel master

A ready client is used as it is: its timeouts and retries are the caller's choice.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Iterable
from typing import Any

from .._masking import shown_url
from .._validation import count, positive_seconds, redis_url
from .._validation import key_prefix as valid_key_prefix
from .base import new_session_id

__all__ = ["RedisBackend", "RedisSessions", "redis_client"]

_MISSING_REDIS = (
    "RedisBackend needs redis-py: pip install logout-middleware[redis] (or pip install redis)"
)


def redis_client(
    url_or_client: Any,
    *,
    socket_timeout: float | None = 2.0,
    socket_connect_timeout: float | None = 2.0,
    retries: int = 1,
    asyncio: bool = False,
    **client_options: Any,
) -> Any:
    """Return a Redis client: ``url_or_client`` itself, or a lazy client for a URL.

    A URL (``redis://``, ``rediss://`` or ``unix://``) becomes
    ``redis.Redis.from_url(url, ...)`` (``redis.asyncio.Redis.from_url`` with
    ``asyncio=True``), which does not connect yet, with the given timeouts and
    ``retries`` immediate retries unless the URL's query string sets them. A URL
    redis-py would misread is refused first: a port or a database that is not a number
    (``redis://host:6379/x`` would silently be database 0), or a ``#``; the message
    shows the URL with its password masked (``redis://:***@host:6379/0``). Anything
    else must be a client object with redis-py's methods (``redis.Redis``,
    ``redis.cluster.RedisCluster``, a Sentinel master, or their ``redis.asyncio``
    twins with ``asyncio=True``) and is returned unchanged.

    :raises ImportError: for a URL when redis-py is not installed, naming the extra.
    :raises ValueError: for an unusable argument (``retries`` must be a whole number
        ``>= 0``, not a ``bool``), or a client of the other kind (an
        asyncio client's commands return coroutines: called without ``await`` they
        would do nothing, and a logout would look done).
    """
    if isinstance(url_or_client, str):
        try:
            if asyncio:
                import redis.asyncio as redis
                from redis.asyncio.retry import Retry
            else:
                import redis  # type: ignore[no-redef]
                from redis.retry import Retry  # type: ignore[assignment]
            from redis.backoff import NoBackoff
        except ImportError as exc:  # pragma: no cover - redis is a dev dependency
            raise ImportError(_MISSING_REDIS) from exc
        for name, value in (
            ("socket_timeout", socket_timeout),
            ("socket_connect_timeout", socket_connect_timeout),
        ):
            if value is not None:
                positive_seconds(value, f"{name} (or None)")
        count(retries, "retries")
        redis_url(url_or_client, "url_or_client")
        options: dict[str, Any] = {
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
            "retry": Retry(NoBackoff(), retries),
        }
        options.update(client_options)
        try:
            return redis.Redis.from_url(url_or_client, **options)
        except ValueError as exc:  # a query value redis-py cannot read (?db=x)
            raise ValueError(
                f"url_or_client must be a Redis URL that redis-py can read, such as "
                f"'redis://host:6379/0'; got {shown_url(url_or_client)} ({exc})"
            ) from None
    if isinstance(url_or_client, (bytes, bytearray)) or not callable(
        getattr(url_or_client, "delete", None)
    ):
        raise ValueError(
            "expected a Redis URL such as 'redis://127.0.0.1:6379/0' or a redis-py "
            f"client (redis.Redis, RedisCluster, a Sentinel master); got "
            f"{type(url_or_client).__name__}"
        )
    is_async = any(
        inspect.iscoroutinefunction(getattr(url_or_client, name, None))
        for name in ("execute_command", "delete")
    )
    if is_async != asyncio:
        raise ValueError(
            "this is a redis.asyncio client: use AsyncRedisBackend (under ASGI)"
            if not asyncio
            else "this is a blocking redis client: give AsyncRedisBackend a redis.asyncio one"
        )
    return url_or_client


class RedisSessions:
    """What the Redis session backends share: the client, built once and lazily; the
    key of each session; the lifetime of records made by ``create``."""

    #: Whether the client is redis-py's asyncio one.
    _asyncio = False

    def __init__(
        self,
        url_or_client: Any,
        *,
        key_prefix: str = "session:",
        socket_timeout: float | None = 2.0,
        socket_connect_timeout: float | None = 2.0,
        retries: int = 1,
        ttl: float | None = None,
        **client_options: Any,
    ) -> None:
        key_prefix = valid_key_prefix(key_prefix)
        if ttl is not None:
            positive_seconds(ttl, "ttl (or None)")
        #: The redis-py client every command goes through.
        self.client: Any = redis_client(
            url_or_client,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_connect_timeout,
            retries=retries,
            asyncio=self._asyncio,
            **client_options,
        )
        #: Whether :meth:`close` closes the client (only one built from a URL).
        self._owns_client = isinstance(url_or_client, str)
        #: Prepended to every session id.
        self.key_prefix = key_prefix
        #: Lifetime of records made by :meth:`create`, in milliseconds, or ``None``.
        self._ttl_ms = None if ttl is None else max(1, math.ceil(ttl * 1000))

    def _key(self, session_id: str) -> str:
        return self.key_prefix + session_id

    def _deleting(self, session_ids: Iterable[str]) -> Any:
        # A pipeline (not a transaction: MULTI cannot span a cluster's slots) with one
        # DEL per distinct key of ``session_ids``, not yet executed; None for no ids.
        keys = dict.fromkeys(map(self._key, session_ids))
        if not keys:
            return None
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.delete(key)
        return pipe

    def __repr__(self) -> str:
        return f"{type(self).__name__}(key_prefix={self.key_prefix!r})"


class RedisBackend(RedisSessions):
    """Sessions in Redis: ``DEL key_prefix + session_id`` on logout.

    :param url_or_client: a Redis URL, or a ready redis-py client (``redis.Redis``,
        ``RedisCluster``, ``Sentinel.master_for(...)``), used as it is.
    :param key_prefix: prepended to the session id to form the key; ``"session:"``
        is Flask-Session's default.
    :param socket_timeout: seconds to wait for an answer (URL only; the URL's own
        ``?socket_timeout=`` wins). ``None`` waits forever: not recommended.
    :param socket_connect_timeout: seconds to wait for a connection (URL only).
    :param retries: immediate retries of a command after a connection error or
        timeout (URL only).
    :param ttl: seconds to keep records made by :meth:`create`; ``None`` keeps them
        until deleted.
    :param client_options: more keyword arguments for ``redis.Redis.from_url``.

    :raises ImportError: when ``url_or_client`` is a URL and redis-py is missing.
    :raises ValueError: for an unusable setting.
    """

    def delete(self, session_id: str) -> None:
        """``DEL`` the record of ``session_id``; an unknown id is not an error.

        Raises redis-py's ``ConnectionError``/``TimeoutError`` (or another
        ``redis.RedisError``) when Redis could not be reached or did not answer.
        """
        self.client.delete(self._key(session_id))

    def delete_many(self, session_ids: Iterable[str]) -> int:
        """``DEL`` the record of every id in ``session_ids`` in one pipeline: one round
        trip (one per node on a cluster). Unknown and repeated ids are not errors; no
        ids, no round trip.

        The pipeline is not a transaction (``MULTI`` cannot span a cluster's slots), so
        on an error some records may be deleted already; the error is raised, as
        :meth:`delete` raises it, and deleting again is harmless. Returns how many
        records there were.
        """
        pipe = self._deleting(session_ids)
        return 0 if pipe is None else sum(pipe.execute())

    def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` as JSON under a new random id and return the id."""
        session_id = new_session_id()
        self.client.set(self._key(session_id), json.dumps(data), px=self._ttl_ms)
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data of ``session_id``, or ``None`` when there is no record."""
        raw = self.client.get(self._key(session_id))
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data

    def close(self) -> None:
        """Close the connections of a client this backend built from a URL."""
        if self._owns_client:
            self.client.close()
