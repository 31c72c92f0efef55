"""The session index in this process's memory (tests, one process)."""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Iterable

from .base import index_id, index_labels, index_ttl

__all__ = ["MemorySessionIndex"]


class MemorySessionIndex:
    """Session ids by label, in this process's memory.

    Two dictionaries (session -> labels and expiry; label -> sessions) and a heap of
    expiries: expired entries are dropped on every write, oldest first, without
    looking at the live ones.

    .. warning:: Not shared between worker processes or hosts. Use
       :class:`SQLiteSessionIndex`, :class:`RedisSessionIndex` or
       :class:`SQLAlchemySessionIndex` there.
    """

    #: Its methods never block: the ASGI middleware calls them on the event loop.
    nonblocking = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[dict[str, str], float]] = {}
        self._by_label: dict[tuple[str, str], set[str]] = {}
        self._expiries: list[tuple[float, str]] = []

    def _forget(self, session_id: str) -> None:
        entry = self._entries.pop(session_id, None)
        if entry is None:
            return
        for pair in entry[0].items():
            members = self._by_label.get(pair)
            if members is not None:
                members.discard(session_id)
                if not members:
                    del self._by_label[pair]

    def _purge(self, now: float) -> None:
        heap = self._expiries
        while heap and heap[0][0] <= now:
            expires, session_id = heapq.heappop(heap)
            entry = self._entries.get(session_id)
            if entry is not None and entry[1] == expires:
                self._forget(session_id)

    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        """Remember ``session_id`` under ``labels`` for ``ttl`` seconds, replacing its
        previous labels."""
        seconds = index_ttl(ttl)
        labels = index_labels(labels)
        session_id = index_id(session_id)
        now = time.monotonic()
        expires = math.inf if seconds is None else now + seconds
        with self._lock:
            self._purge(now)
            self._forget(session_id)
            self._entries[session_id] = (labels, expires)
            for pair in labels.items():
                self._by_label.setdefault(pair, set()).add(session_id)
            if seconds is not None:
                heapq.heappush(self._expiries, (expires, session_id))

    def find(self, name: str, value: str) -> set[str]:
        """The live session ids labelled ``name=value``."""
        now = time.monotonic()
        with self._lock:
            members = self._by_label.get((name, value), ())
            return {sid for sid in members if self._entries[sid][1] > now}

    def labels(self, session_id: str) -> dict[str, str]:
        """The labels of ``session_id``; ``{}`` when unknown or expired."""
        with self._lock:
            entry = self._entries.get(session_id)
        if entry is None or entry[1] <= time.monotonic():
            return {}
        return dict(entry[0])

    def remove(self, session_id: str) -> None:
        """Forget ``session_id`` (idempotent)."""
        with self._lock:
            self._forget(session_id)

    def remove_many(self, session_ids: Iterable[str]) -> None:
        """Forget every session in ``session_ids`` at once."""
        ids = list(session_ids)  # before the lock: the iterable may read the index
        with self._lock:
            for session_id in ids:
                self._forget(session_id)
