"""The session index in Redis or Redis Cluster: every host (``redis`` extra).

The layout (``P`` is ``key_prefix``)::

    P + "session:" + session_id        hash  label name -> value
    P + "label:" + name + ":" + value  zset  session_id scored by its expiry (Unix ms,
                                             +inf for no expiry)

Every key has a time to live: a session's hash expires with the session, and a
label's sorted set expires with its longest-lived member (``PERSIST`` while one has
no expiry). :meth:`RedisSessionIndex.find` reads the members scored in the future
(``ZRANGEBYSCORE now +inf``, after ``ZREMRANGEBYSCORE -inf now`` purges the expired
ones) and keeps those whose hash still carries the label, so an expired, removed or
relabelled session is never returned even while a stale member waits for its purge.

Redis Cluster: every command names exactly one key (the few multi-step writes are
single-key Lua scripts, sent with ``EVAL``), so no command can cross slots and no
hash tag is added: a user's sessions spread over the nodes like any keys, and a
``{...}`` in the prefix, an id or a value only chooses a slot. The steps that touch several keys are
pipelines, in an order that keeps the index right under concurrent writes of the
same session: links to old labels are removed before the hash is written, links to
new labels added after it. Never ``KEYS`` or ``SCAN``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from typing import Any

from .._validation import key_prefix as valid_key_prefix
from .base import index_id, index_labels, index_ttl

__all__ = ["RedisSessionIndex"]

# KEYS[1] a session's hash; ARGV[1] its expiry (Unix ms, or "inf"), then name, value...
_WRITE_SESSION = """
redis.call('DEL', KEYS[1])
if #ARGV > 1 then
  redis.call('HSET', KEYS[1], unpack(ARGV, 2))
  if ARGV[1] ~= 'inf' then redis.call('PEXPIREAT', KEYS[1], ARGV[1]) end
end
return 1
"""

# KEYS[1] a label's sorted set; ARGV[1] now (Unix ms); ARGV[2] score; ARGV[3] id.
# The set lives as long as its last member.
_LINK = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] == nil then return 0 end
if top[2] == 'inf' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], top[2])
end
return 1
"""


# KEYS[1] a label's sorted set; ARGV[1] now (Unix ms); ARGV[2...] ids to remove. The
# set lives as long as its last member.
_UNLINK = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREM', KEYS[1], unpack(ARGV, 2))
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if top[2] == nil then return 0 end
if top[2] == 'inf' then
  redis.call('PERSIST', KEYS[1])
else
  redis.call('PEXPIREAT', KEYS[1], top[2])
end
return 1
"""


# Ids per unlink script: well under Lua's limit on unpacked arguments (about 8 000).
_UNLINK_CHUNK = 1000

# One server only (the label sets are keys it was not given, which a cluster refuses).
# KEYS: sessions' hashes; ARGV[1] now (Unix ms); ARGV[2] the key prefix; ARGV[3...]
# the sessions' ids, in the order of KEYS. Unlinks each session from the sets of its
# labels, deletes its hash, then gives each set touched the life of its last member:
# one round trip, and atomic.
_REMOVE = """
local touched = {}
for i, key in ipairs(KEYS) do
  local fields = redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    local label = ARGV[2] .. 'label:' .. fields[j] .. ':' .. fields[j + 1]
    redis.call('ZREM', label, ARGV[i + 2])
    touched[label] = true
  end
  redis.call('DEL', key)
end
for label in pairs(touched) do
  redis.call('ZREMRANGEBYSCORE', label, '-inf', ARGV[1])
  local top = redis.call('ZRANGE', label, -1, -1, 'WITHSCORES')
  if top[2] ~= nil then
    if top[2] == 'inf' then
      redis.call('PERSIST', label)
    else
      redis.call('PEXPIREAT', label, top[2])
    end
  end
end
return 1
"""


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisSessionIndex:
    """Session ids by label in Redis (one server, Sentinel or Cluster).

    Round trips, whatever the number of sessions: :meth:`find` 2, :meth:`add` at
    most 4, :meth:`remove` and :meth:`remove_many` 1 on one server (a script) and 2
    on a cluster (pipelines; each pipeline step goes to the nodes in parallel). Built
    from a URL, the client gets the bounded timeouts of
    :class:`~logout_middleware.backends.RedisBackend` and does not connect before the
    first command.

    :param url_or_client: a Redis URL or a ready redis-py client (``redis.Redis``,
        ``RedisCluster``, a Sentinel master).
    :param key_prefix: prepended to every key.
    :param client_options: ``socket_timeout``, ``socket_connect_timeout``,
        ``retries`` and other keyword arguments for ``redis.Redis.from_url``.
    """

    def __init__(
        self, url_or_client: Any, *, key_prefix: str = "session-index:", **client_options: Any
    ) -> None:
        from .redis import redis_client

        #: Prepended to every key.
        self.key_prefix = valid_key_prefix(key_prefix)
        #: The redis-py client.
        self.client: Any = redis_client(url_or_client, **client_options)
        self._owns_client = isinstance(url_or_client, str)
        # A cluster spreads a session's hash and its labels' sets over slots that no
        # one script may cross; one server (or a Sentinel master) removes in one.
        from redis.cluster import RedisCluster

        self._one_server = not isinstance(self.client, RedisCluster)

    def session_key(self, session_id: str) -> str:
        """The hash of a session's labels."""
        return f"{self.key_prefix}session:{session_id}"

    def label_key(self, name: str, value: str) -> str:
        """The sorted set of the sessions labelled ``name=value``."""
        return f"{self.key_prefix}label:{name}:{value}"

    @staticmethod
    def _now() -> int:
        return int(time.time() * 1000)

    def _run(self, steps: list[tuple[str, tuple[Any, ...]]]) -> list[Any]:
        # One pipeline (not a transaction: the commands may belong to several slots).
        if not steps:
            return []
        pipe = self.client.pipeline(transaction=False)
        for method, args in steps:
            if method == "link":  # EVAL, not EVALSHA: a cluster pipeline refuses EVALSHA
                pipe.execute_command("EVAL", _LINK, 1, *args)
            elif method == "unlink":
                pipe.execute_command("EVAL", _UNLINK, 1, *args)
            else:
                getattr(pipe, method)(*args)
        return list(pipe.execute())

    def _unlinks(self, links: Iterable[tuple[str, str, str]]) -> list[tuple[str, tuple[Any, ...]]]:
        # One script per label, whatever the number of its sessions.
        by_label: dict[str, list[str]] = {}
        for sid, name, value in links:
            by_label.setdefault(self.label_key(name, value), []).append(sid)
        now = self._now()
        return [
            ("unlink", (key, now, *ids[start : start + _UNLINK_CHUNK]))
            for key, ids in by_label.items()
            for start in range(0, len(ids), _UNLINK_CHUNK)
        ]

    def _unlink(self, links: Iterable[tuple[str, str, str]]) -> None:
        self._run(self._unlinks(links))

    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        """Remember ``session_id`` under ``labels``, replacing its previous labels."""
        seconds = index_ttl(ttl)
        labels = index_labels(labels)
        session_id = index_id(session_id)
        now = self._now()
        score: float = math.inf if seconds is None else now + max(1, math.ceil(seconds * 1000))
        old = self.labels(session_id)
        self._unlink((session_id, n, v) for n, v in old.items() if labels.get(n) != v)
        fields = [item for pair in labels.items() for item in pair]
        expiry = "inf" if score == math.inf else score
        self.client.eval(_WRITE_SESSION, 1, self.session_key(session_id), expiry, *fields)
        wire = "+inf" if score == math.inf else score
        self._run(
            [("link", (self.label_key(n, v), now, wire, session_id)) for n, v in labels.items()]
        )

    def find(self, name: str, value: str) -> set[str]:
        """The live session ids labelled ``name=value``."""
        key, now = self.label_key(name, value), self._now()
        _, members = self._run(
            [("zremrangebyscore", (key, "-inf", now)), ("zrangebyscore", (key, f"({now}", "+inf"))]
        )
        candidates = [_text(m) for m in members]
        current = self._run([("hget", (self.session_key(sid), name)) for sid in candidates])
        return {
            sid
            for sid, got in zip(candidates, current, strict=True)
            if got is not None and _text(got) == value
        }

    def labels(self, session_id: str) -> dict[str, str]:
        """The labels of ``session_id``; ``{}`` when unknown or expired."""
        raw = self.client.hgetall(self.session_key(session_id))
        return {_text(k): _text(v) for k, v in raw.items()}

    def remove(self, session_id: str) -> None:
        """Forget ``session_id`` (idempotent)."""
        self.remove_many([session_id])

    def remove_many(self, session_ids: Iterable[str]) -> None:
        """Forget every session in ``session_ids``. On one server, in one round trip: a
        script per 1 000 sessions reads their labels, unlinks them and deletes their
        hashes. On a cluster, in two pipelined round trips: read their labels, then
        unlink them (one script per label) and delete their hashes; either order of the
        second trip's commands leaves :meth:`find` right, as a label's member whose
        hash is gone is never returned."""
        ids = list(dict.fromkeys(session_ids))
        if not ids:
            return
        if self._one_server:
            now = self._now()
            pipe = self.client.pipeline(transaction=False)
            for start in range(0, len(ids), _UNLINK_CHUNK):
                chunk = ids[start : start + _UNLINK_CHUNK]
                keys = [self.session_key(sid) for sid in chunk]
                args = (*keys, now, self.key_prefix, *chunk)
                pipe.execute_command("EVAL", _REMOVE, len(keys), *args)
            pipe.execute()
            return
        found = self._run([("hgetall", (self.session_key(sid),)) for sid in ids])
        pairs = zip(ids, found, strict=True)
        links = [(sid, _text(n), _text(v)) for sid, raw in pairs for n, v in raw.items()]
        deletes = [("delete", (self.session_key(sid),)) for sid in ids]
        self._run([*self._unlinks(links), *deletes])

    def close(self) -> None:
        """Close the connections of a client built from a URL."""
        if self._owns_client:
            self.client.close()
