"""The store protocols (sessions, revoked cookies, the session index) and the helpers shared
by the bundled stores.

A backend is any object with ``delete(session_id: str) -> None``. The method must be
idempotent (deleting an unknown id is not an error) and must raise when the store
could not be reached or did not confirm the deletion, so that the middleware never
reports a logout as done when the record may still exist.

A backend may also offer ``delete_many(session_ids: Iterable[str]) -> int | None``:
the same as ``delete`` for each id (idempotent, raising when the store failed or did
not confirm), in a bounded number of round trips whatever the number of ids, returning
how many of the records existed (``None``: it cannot say). Every bundled backend has
it (one Redis pipeline; one ``DELETE ... IN`` per 500 ids, all in one transaction) and
counts: a log out everywhere reports as ``ended`` the records really deleted, not
index entries whose session had already gone. It is optional, not part of
:class:`SessionBackend`: a caller checks ``getattr(backend, "delete_many", None)`` and
otherwise calls ``delete`` once per id, which is what :func:`delete_sessions` does.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from .._steps import bulk
from .._validation import encodable_text, positive_seconds
from .._validation import identifier as validate_identifier

__all__ = [
    "AsyncSessionBackend",
    "RevocationStore",
    "SessionBackend",
    "SessionIndex",
    "SessionStore",
    "delete_sessions",
    "deleted_count",
    "index_id",
    "index_labels",
    "index_ttl",
    "new_session_id",
    "validate_identifier",
]


@runtime_checkable
class SessionBackend(Protocol):
    """What :class:`~logout_middleware.LogoutMiddleware` needs from a session store.

    ``delete_many(session_ids)``, which deletes many sessions in a bounded number of
    round trips, is optional and so not declared here: a backend without it satisfies
    this protocol, and :func:`delete_sessions` falls back to :meth:`delete`.

    Under ASGI (:class:`logout_middleware.asgi.LogoutMiddleware`) a method that is a
    coroutine function (``async def delete``) is awaited on the event loop, and any
    other runs in a worker thread, so that a blocking store never stalls the loop. A
    store whose methods never block (they touch only this process's memory) declares
    it with a class attribute, as :class:`~logout_middleware.MemoryBackend` does::

        class MyBackend:
            nonblocking = True  # called on the event loop, without a thread hop

            def delete(self, session_id: str) -> None: ...

    The same holds for session indexes and revocation stores.
    """

    def delete(self, session_id: str) -> None:
        """Delete the record of ``session_id``.

        Idempotent: an unknown id is not an error. Raises when the store failed, so
        that the logout is answered with ``500`` instead of a false ``OK``.
        """


@runtime_checkable
class AsyncSessionBackend(Protocol):
    """A session store whose ``delete`` is a coroutine function, for the ASGI
    middleware (:class:`~logout_middleware.backends.AsyncRedisBackend`,
    :class:`~logout_middleware.backends.AsyncSQLAlchemyBackend`): the same promises as
    :meth:`SessionBackend.delete`, awaited. ``delete_many``, when it has one, is a
    coroutine function too."""

    async def delete(self, session_id: str) -> None:
        """Delete the record of ``session_id``; idempotent; raises when the store failed."""


@runtime_checkable
class SessionStore(SessionBackend, Protocol):
    """The small store API of the bundled backends, used by demos and tests to log in."""

    def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` (JSON-serialisable) under a new random id and return the id."""

    def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data stored under ``session_id``, or ``None`` when there is none."""


def delete_sessions(backend: SessionBackend, session_ids: Iterable[str]) -> int | None:
    """Delete every session in ``session_ids`` through ``backend``: with its
    ``delete_many`` when it has one (a bounded number of round trips), else with
    ``delete`` once per id. Returns how many records there were when the backend's
    ``delete_many`` says (every bundled backend does), else ``None``. Raises what the
    backend raises.
    """
    calls = bulk(backend, "delete_many", "delete", tuple(session_ids))
    return deleted_count([method(*args) for method, args in calls])


def deleted_count(results: Iterable[Any]) -> int | None:
    """How many records the deletion calls that returned ``results`` removed: their sum
    when every one is a count (``delete_many``'s), else ``None`` (a ``delete``, or a
    ``delete_many`` that cannot say)."""
    total = 0
    for result in results:
        if not isinstance(result, int) or isinstance(result, bool):
            return None
        total += result
    return total


def new_session_id() -> str:
    """Return a new session id: 32 random bytes, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


@runtime_checkable
class RevocationStore(Protocol):
    """Where revoked cookie fingerprints are kept until they expire."""

    def revoke(self, token: str, ttl: float) -> None:
        """Remember ``token`` as revoked for ``ttl`` seconds (``ttl > 0``).

        Revoking again keeps the later expiry. Raises when the store failed.
        """

    def is_revoked(self, token: str) -> bool:
        """Whether ``token`` is revoked and not yet expired. Raises when the store failed."""


@runtime_checkable
class SessionIndex(Protocol):
    """Which sessions belong to whom: session ids remembered under labels.

    A label is a name and a string value (``user="alice"``; other names are free).
    Every method raises when the store failed. Entries live ``ttl`` seconds.

    The bundled stores also offer ``remove_many(session_ids: Iterable[str]) -> None``,
    which forgets many sessions in a bounded number of round trips (one pipeline, one
    ``DELETE ... IN``) whatever their number. It is optional: not part of this
    protocol's required methods, so a caller checks for it and falls back to
    :meth:`remove` one by one.
    """

    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        """Remember ``session_id`` under each label for ``ttl`` seconds (``None``: until
        removed). Adding again replaces its labels: the old ones no longer find it."""

    def find(self, name: str, value: str) -> set[str]:
        """The live session ids labelled ``name=value``."""

    def labels(self, session_id: str) -> dict[str, str]:
        """The labels of ``session_id``; ``{}`` when it is unknown or expired."""

    def remove(self, session_id: str) -> None:
        """Forget ``session_id``. Idempotent: an unknown id is not an error."""


def index_ttl(ttl: Any) -> float | None:
    """A session index entry's time to live: positive seconds, at most 100 years
    (:data:`~logout_middleware._validation.MAX_SECONDS`), or ``None`` (no expiry)."""
    if ttl is None:
        return None
    return positive_seconds(ttl, "ttl (or None)")


def index_labels(labels: dict[str, Any]) -> dict[str, str]:
    """Validated labels: plain identifiers as names, strings that UTF-8 can encode as
    values. Every index checks them all before it writes anything, so a value that no
    store can hold (a lone surrogate) is refused with the index unchanged."""
    for name, value in labels.items():
        validate_identifier(name, "label name")
        if not isinstance(value, str):
            raise ValueError(f"label {name} must be a string such as 'alice'; got {value!r}")
        encodable_text(value, f"label {name}")
    return dict(labels)


def index_id(session_id: str) -> str:
    """A session id to add to an index: text that UTF-8 can encode (checked before
    any write, as the labels are)."""
    return encodable_text(session_id, "session_id")
