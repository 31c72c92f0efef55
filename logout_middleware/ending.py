"""Ending sessions: the store calls that carry out a decision of the core.

:class:`SessionEnder` is the one place that decides which store calls delete sessions,
revoke cookies and keep the session index in step with them. Like the core, it does no
I/O itself: :meth:`SessionEnder.steps` is a generator that yields each store call as a
``(bound_method, args)`` pair and is sent back its result (see
:mod:`logout_middleware._steps`), so one sequence serves every server interface: the
WSGI middleware and :meth:`LogoutMiddleware.end_user_sessions
<logout_middleware.LogoutMiddleware.end_user_sessions>` run it synchronously; an
asynchronous driver awaits a coroutine method and runs a blocking one in a thread.

The order of the writes is what keeps the index right when a store fails part way:

1. the sessions are deleted from the backend (one ``DELETE ... IN`` per 500 ids or
   one pipeline where the backend has ``delete_many``);
2. the cookies are revoked (cookie-only sessions), and for a log out everywhere the
   user's *not before* time is written;
3. only then are the sessions removed from the index.

A failure in step 1 or 2 leaves every session that may still exist in the index, so a
retry finds it; the adapter answers ``500``. Each step costs a bounded number of round
trips whatever the number of sessions: :meth:`SessionIndex.find
<logout_middleware.SessionIndex.find>` once per user, one bulk deletion, one bulk
removal from the index.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

from ._steps import Call, bulk, drive, run
from .backends.base import SessionBackend, SessionIndex, deleted_count
from .oidc.errors import ProviderError

if TYPE_CHECKING:  # pragma: no cover
    from .core import EndSessions
    from .oidc import OIDCLogout
    from .revocation import Revocation

logger = logging.getLogger("logout_middleware")

__all__ = ["USER_LABEL", "SessionEnder"]

#: The index label that names a session's user.
USER_LABEL = "user"


class SessionEnder:
    """Decides the store calls that carry out the core's plans.

    :param backend: the session store, or ``None`` for cookie-only sessions.
    :param index: the session index, or ``None``.
    :param revocation: the revocation component, or ``None``.
    :param oidc: the OpenID Connect logout, or ``None``.
    """

    def __init__(
        self,
        backend: SessionBackend | None,
        index: SessionIndex | None,
        revocation: Revocation | None,
        oidc: OIDCLogout | None = None,
    ) -> None:
        self.backend = backend
        self.index = index
        self.revocation = revocation
        self.oidc = oidc
        # A plain logout makes its calls directly unless it must also read labels.
        self._direct = oidc is None

    def run(self, plan: EndSessions) -> int:
        """Carry out ``plan`` synchronously; return how many sessions ended. Raises
        when a store failed."""
        if plan.everywhere or plan.backchannel is not None or not self._direct:
            return drive(self.steps(plan))
        # The hot path: exactly the calls of :meth:`calls`, made without building the
        # list (that would cost a twentieth of a memory logout; a test pins the two).
        session_ids = plan.session_ids
        if self.backend is not None:
            for session_id in session_ids:
                self.backend.delete(session_id)
        if self.revocation is not None and plan.tokens:
            self.revocation.revoke(plan.tokens)
        if self.index is not None and session_ids:
            run(bulk(self.index, "remove_many", "remove", session_ids))
        return len(session_ids)

    def end_user(self, user: str, *, keep: str | None = None) -> int:
        """End every session of ``user`` except ``keep`` synchronously; return how many
        recorded sessions ended. Raises when a store failed."""
        return drive(self.user_steps(user, keep=keep))

    def steps(self, plan: EndSessions) -> Generator[Call, Any, int]:
        """The store calls of ``plan`` (see :mod:`logout_middleware._steps`); returns how
        many sessions ended.

        A plain logout ends the plan's sessions (:meth:`calls`); with OIDC, it reads
        the session's labels first and, once the session is ended, sets
        ``plan.logout_url`` to the provider's end-session URL. A log out everywhere
        (``plan.everywhere``) ends every session of the users of the plan's sessions,
        except ``plan.keep``. A back-channel logout (``plan.backchannel``) validates the
        token, ends the sessions it names, then remembers its ``jti``.
        """
        if plan.backchannel is not None:
            return (yield from self._backchannel(plan))
        if plan.everywhere:
            return (yield from self._everywhere(plan))
        labels: Mapping[str, str] = {}
        if self.oidc is not None and self.index is not None and plan.session_ids:
            labels = yield self.index.labels, (plan.session_ids[0],)
        yield from self.calls(plan)
        if labels:
            plan.logout_url = yield self._logout_url, (labels,)
        return len(plan.session_ids)

    def calls(self, plan: EndSessions) -> list[Call]:
        """The store calls of a plain logout, in order; none needs a result."""
        session_ids = plan.session_ids
        calls: list[Call] = []
        if self.backend is not None:  # the few ids of one request: delete() each
            delete = self.backend.delete
            for session_id in session_ids:
                calls.append((delete, (session_id,)))
        if self.revocation is not None and plan.tokens:
            calls += self.revocation.revoke_calls(plan.tokens)
        if self.index is not None and session_ids:
            calls += bulk(self.index, "remove_many", "remove", session_ids)
        return calls

    def user_steps(self, user: str, *, keep: str | None = None) -> Generator[Call, Any, int]:
        """The store calls that end every session of ``user`` but ``keep``."""
        ids = (yield from self._find({user})) - {keep}
        return (yield from self._end(ids, (user,), keep_value=keep))

    # -- OpenID Connect --------------------------------------------------------------

    def _backchannel(self, plan: EndSessions) -> Generator[Call, Any, int]:
        oidc, index = self.oidc, self.index
        assert oidc is not None and index is not None  # the settings ensure both
        claims = yield partial(oidc.validate_logout_token, remember=False), (plan.backchannel,)
        ids = set((yield index.find, claims.lookup))
        _hide(plan, claims.sid or "", *ids)
        ended = yield from self._end(ids, (), keep_value=None)
        # Remembered once the sessions are gone, so a retry after a failure is no replay.
        yield oidc.remember, (claims,)
        return ended

    def _logout_url(self, labels: Mapping[str, str]) -> str | None:
        # The local session is already ended: a provider that cannot be asked costs
        # the user only the trip to its logout page.
        assert self.oidc is not None
        try:
            return self.oidc.logout_url(labels)
        except ProviderError as exc:
            logger.warning("RP-initiated logout skipped: %s", exc)
            return None

    # -- log out everywhere ------------------------------------------------------

    def _everywhere(self, plan: EndSessions) -> Generator[Call, Any, int]:
        index = self.index
        assert index is not None  # the settings refuse everywhere_path without an index
        users = set(plan.users)
        for session_id in plan.session_ids:
            labels = yield index.labels, (session_id,)
            if labels.get(USER_LABEL):
                users.add(labels[USER_LABEL])
        ids = (yield from self._find(users)) | set(plan.session_ids)
        _hide(plan, *ids)
        ids.difference_update(plan.keep)
        keep_value = plan.keep_values[0] if plan.keep_values else None
        ended = yield from self._end(ids, tuple(users), keep_value=keep_value, tokens=plan.tokens)
        # A cookie-only session has no record: the one in the request counts once.
        cookie_only = self.backend is None and bool(plan.tokens)
        return ended + cookie_only

    def _find(self, users: Iterable[str]) -> Generator[Call, Any, set[str]]:
        found: set[str] = set()
        if self.index is not None:
            for user in users:
                found |= yield self.index.find, (USER_LABEL, user)
        return found

    def _end(
        self,
        ids: set[str],
        users: tuple[str, ...],
        *,
        keep_value: str | None,
        tokens: tuple[str, ...] = (),
    ) -> Generator[Call, Any, int]:
        # Delete, then revoke and write the not-before times, then forget: a failure
        # leaves every session that may still exist in the index. Returns how many
        # sessions ended: the records the backend says it deleted (a session whose
        # record had already gone, its index entry stale, does not count), else every
        # id (a backend without a count: delete() each, or a driver that cannot say).
        ordered = tuple(sorted(ids))
        ended: int | None = len(ordered)
        if self.backend is not None:
            results = []
            for call in bulk(self.backend, "delete_many", "delete", ordered):
                results.append((yield call))
            ended = deleted_count(results)
        revocation = self.revocation
        if revocation is not None:
            yield from revocation.revoke_calls(tokens)
            if users and revocation.ends_users:
                assert self.index is not None  # user_from_cookie needs an index
                for key, ttl, labels in revocation.not_before_entries(users, keep_value):
                    add: Any = self.index.add  # labels are keywords; mypy would match ttl
                    yield partial(add, **labels), (key, ttl)
        if self.index is not None:
            yield from bulk(self.index, "remove_many", "remove", ordered)
        return len(ordered) if ended is None else ended


def _hide(plan: EndSessions, *found: str) -> None:
    """Add the session ids (and the provider's session id) found while carrying out
    ``plan`` to the secrets its error texts are scrubbed of: a store's error that
    names another session of the user is logged, and shown, masked."""
    known = set(plan.secrets)
    plan.secrets = (*plan.secrets, *sorted({f for f in found if f and f not in known}))
