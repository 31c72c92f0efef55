"""The store protocols (sessions, revoked cookies) and the helpers shared by the bundled stores.

A backend is any object with ``delete(session_id: str) -> None``. The method must be
idempotent (deleting an unknown id is not an error) and must raise when the store
could not be reached or did not confirm the deletion, so that the middleware never
reports a logout as done when the record may still exist.
"""

from __future__ import annotations

import secrets
from typing import Any, Protocol, runtime_checkable

from .._validation import identifier as validate_identifier

__all__ = [
    "RevocationStore",
    "SessionBackend",
    "SessionStore",
    "new_session_id",
    "validate_identifier",
]


@runtime_checkable
class SessionBackend(Protocol):
    """What :class:`~logout_middleware.LogoutMiddleware` needs from a session store."""

    def delete(self, session_id: str) -> None:
        """Delete the record of ``session_id``.

        Idempotent: an unknown id is not an error. Raises when the store failed, so
        that the logout is answered with ``500`` instead of a false ``OK``.
        """


@runtime_checkable
class SessionStore(SessionBackend, Protocol):
    """The small store API of the bundled backends, used by demos and tests to log in."""

    def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` (JSON-serialisable) under a new random id and return the id."""

    def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data stored under ``session_id``, or ``None`` when there is none."""


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
