"""Logout events: what ``on_logout`` callbacks receive and what is logged.

Neither carries a raw session id or cookie value: sessions are named by a
*fingerprint*, the first 16 hex digits of ``SHA-256("logout-middleware:" + id)``,
enough to correlate log lines and events across workers, useless to hijack a session.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # pragma: no cover
    from .request import Request

__all__ = ["Kind", "LogoutEvent", "Outcome", "Report", "Reporter", "fingerprint", "scrub"]

logger = logging.getLogger("logout_middleware")

#: ``"ok"``: a session was deleted; ``"anonymous"``: there was no session to delete
#: (no cookie, an empty one, or an invalid signature); ``"error"``: the backend failed;
#: ``"forbidden"``: a cross-site or token check refused the request.
Outcome = Literal["ok", "anonymous", "error", "forbidden"]
#: Which endpoint handled the request.
Kind = Literal["logout", "everywhere", "backchannel"]


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
    #: A log out everywhere or a back-channel logout: how many sessions it ended;
    #: ``None`` for a plain logout.
    ended: int | None = None
    #: ``"logout"``, ``"everywhere"`` (log out everywhere) or ``"backchannel"`` (an
    #: identity provider's back-channel logout).
    kind: Kind = "logout"


#: A run of this many characters shared with a secret is masked wherever it appears.
FRAGMENT = 6


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Mask every fragment of a secret (a cookie value, a session id) in ``text``.

    Any run of :data:`FRAGMENT` or more characters that also occurs in a secret is
    replaced by ``<fingerprint>`` of that secret, and so is every whole secret of 4
    or more characters: error texts that shorten long values (SQLAlchemy's
    ``'AAAA... (N characters truncated) ...ZZZZ'``) leak no part of them either.
    """
    grams: dict[str, str] = {}
    short: list[str] = []
    for secret in secrets:
        if len(secret) >= FRAGMENT:
            for i in range(len(secret) - FRAGMENT + 1):
                grams.setdefault(secret[i : i + FRAGMENT], secret)
        elif len(secret) >= 4:
            short.append(secret)
    owner: list[str | None] = [None] * len(text)
    for i in range(len(text) - FRAGMENT + 1):
        found = grams.get(text[i : i + FRAGMENT])
        if found is not None:
            for j in range(i, i + FRAGMENT):
                owner[j] = owner[j] or found
    for secret in short:
        start = text.find(secret)
        while start != -1:
            for j in range(start, start + len(secret)):
                owner[j] = owner[j] or secret
            start = text.find(secret, start + 1)
    if not any(owner):
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        masked = owner[i]
        if masked is None:
            out.append(text[i])
            i += 1
            continue
        while i < len(text) and owner[i] is not None:
            i += 1
        out.append(f"<{fingerprint(masked)}>")
    return "".join(out)


class Report:
    """What the core decided about one logout request, for the log and the events.

    The session's fingerprint is computed when something reads :attr:`session` (a log
    line at its level, a callback), not on every logout: pass the raw id as
    ``subject`` and it is never logged, only fingerprinted.
    """

    __slots__ = ("_session", "_subject", "details", "ended", "kind", "outcome", "reason",
                 "reference", "status")

    def __init__(
        self,
        outcome: Outcome,
        status: int,
        session: str | None = None,
        reason: str | None = None,
        reference: str | None = None,
        details: str = "",
        ended: int | None = None,
        *,
        subject: str | None = None,
        kind: Kind = "logout",
    ) -> None:
        self.outcome = outcome
        self.status = status
        #: Why a request was refused.
        self.reason = reason
        #: The opaque reference of a ``500``.
        self.reference = reference
        #: The scrubbed traceback of a ``500``.
        self.details = details
        #: How many sessions a log out everywhere ended (``None``: a plain logout).
        self.ended = ended
        #: Which endpoint handled the request (see :class:`LogoutEvent`).
        self.kind = kind
        self._session = session
        self._subject = subject

    @property
    def session(self) -> str | None:
        """Fingerprint of the session (or of the cookie, when refused), if any."""
        if self._session is None and self._subject is not None:
            self._session = fingerprint(self._subject)
        return self._session


#: The level of each outcome's log line.
_LEVELS = {
    "ok": logging.INFO,
    "anonymous": logging.INFO,
    "forbidden": logging.WARNING,
    "error": logging.ERROR,
}


_TITLES = {
    "logout": "logout",
    "everywhere": "logout everywhere",
    "backchannel": "back-channel logout",
}


def log_safe(value: str) -> str:
    """Quote an untrusted header for a log line (no newlines, bounded length)."""
    return repr(value[:200])


class Reporter:
    """Writes the log line of each handled logout and calls the ``on_logout`` callbacks.

    :param callbacks: callables that receive a :class:`LogoutEvent`; one that raises
        is logged and changes nothing.
    """

    def __init__(self, callbacks: tuple[Callable[[LogoutEvent], Any], ...]) -> None:
        self.callbacks = callbacks

    def wants(self, outcome: Outcome) -> bool:
        """Whether a report of ``outcome`` would be read: an ``on_logout`` callback,
        or the log line's level enabled (checked on each call: logging may change)."""
        return bool(self.callbacks) or logger.isEnabledFor(_LEVELS[outcome])

    def report(self, report: Report, request: Request) -> None:
        """Log ``report`` about ``request`` and emit its event."""
        if not self.wants(report.outcome):
            return  # nothing reads it: no fingerprint, no formatting
        remote = request.remote_addr or "-"
        if report.outcome == "forbidden":
            logger.warning(
                "logout refused (%s): cookie=%s remote=%s origin=%s",
                report.reason,
                report.session or "-",
                remote,
                log_safe(request.header("origin") or "-"),
            )
        elif report.outcome == "error":
            logger.error(
                "logout failed: error reference %s, session=%s remote=%s\n%s",
                report.reference,
                report.session or "-",
                remote,
                report.details,
            )
        elif report.ended is not None:
            logger.info(
                "%s %s: session=%s ended=%d remote=%s",
                _TITLES[report.kind],
                report.outcome,
                report.session or "-",
                report.ended,
                remote,
            )
        else:
            logger.info(
                "logout %s: session=%s remote=%s", report.outcome, report.session or "-", remote
            )
        if not self.callbacks:
            return
        event = LogoutEvent(
            session=report.session,
            remote_addr=request.remote_addr,
            user_agent=request.headers.get("user-agent"),
            time=time.time(),
            outcome=report.outcome,
            status=report.status,
            error_reference=report.reference,
            ended=report.ended,
            kind=report.kind,
        )
        for callback in self.callbacks:
            try:
                callback(event)
            except Exception:
                logger.exception("on_logout callback %r raised; the answer is unchanged", callback)
