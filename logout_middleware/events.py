"""Logout events: what ``on_logout`` callbacks receive and what is logged.

Neither carries a raw session id or cookie value: sessions are named by a
*fingerprint*, the first 16 hex digits of ``SHA-256("logout-middleware:" + id)``,
enough to correlate log lines and events across workers, useless to hijack a session.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

__all__ = ["LogoutEvent", "Outcome", "fingerprint"]

#: ``"ok"``: a session was deleted; ``"anonymous"``: there was no session to delete
#: (no cookie, an empty one, or an invalid signature); ``"error"``: the backend failed;
#: ``"forbidden"``: a cross-site or token check refused the request.
Outcome = Literal["ok", "anonymous", "error", "forbidden"]


def fingerprint(value: str) -> str:
    """Return the log-safe fingerprint of a session id or cookie value."""
    digest = hashlib.sha256(
        b"logout-middleware:" + value.encode("utf-8", "surrogatepass")
    ).hexdigest()
    return digest[:16]


@dataclass(frozen=True)
class LogoutEvent:
    """One handled logout request, as passed to each ``on_logout`` callback."""

    #: Fingerprint of the session id (see :func:`fingerprint`), ``None`` if anonymous.
    session: str | None
    #: ``REMOTE_ADDR`` as the server gave it (put ProxyFix in front for the client's).
    remote_addr: str | None
    #: The ``User-Agent`` header, if any.
    user_agent: str | None
    #: Unix time at which the request was handled.
    time: float
    #: What happened; see :data:`Outcome`.
    outcome: Outcome
    #: The HTTP status answered.
    status: int
    #: The opaque error reference of a ``500`` (also in the log line), else ``None``.
    error_reference: str | None = None
