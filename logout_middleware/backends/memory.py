"""An in-process session store: for tests and single-process apps.

.. warning::
   The records live in the memory of one Python process. They are **not shared
   between gunicorn workers** (each worker has its own copy) nor between hosts: a
   logout handled by one worker would not end a session created by another. Use
   :class:`~logout_middleware.SQLiteBackend` on one host, or Redis or SQL across hosts.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable
from typing import Any

from .base import new_session_id

__all__ = ["MemoryBackend"]


class MemoryBackend:
    """A thread-safe dictionary of sessions.

    :param sessions: initial records, ``{session_id: data}``; copied.
    """

    #: Its methods never block (a dictionary under a lock held for microseconds): the
    #: ASGI middleware calls them on the event loop, without a worker thread.
    nonblocking = True

    def __init__(self, sessions: dict[str, dict[str, Any]] | None = None) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, dict[str, Any]] = dict(sessions or {})

    def delete(self, session_id: str) -> None:
        """Remove ``session_id``; an unknown id is not an error."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def delete_many(self, session_ids: Iterable[str]) -> int:
        """Remove every id in ``session_ids`` under one lock; unknown ids are not
        errors. Returns how many records there were."""
        ids = list(session_ids)  # read before locking: a lazy iterable may use the store
        missing = object()
        with self._lock:
            return sum(self._sessions.pop(i, missing) is not missing for i in set(ids))

    def create(self, data: dict[str, Any]) -> str:
        """Store a copy of ``data`` under a new random id and return the id."""
        session_id = new_session_id()
        with self._lock:
            self._sessions[session_id] = copy.deepcopy(data)
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """Return a copy of the data of ``session_id``, or ``None``."""
        with self._lock:
            data = self._sessions.get(session_id)
        return None if data is None else copy.deepcopy(data)

    def __contains__(self, session_id: object) -> bool:
        with self._lock:
            return session_id in self._sessions

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)
