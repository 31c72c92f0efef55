"""Ending sessions: the store I/O that carries out a decision of the core.

:class:`SessionEnder` is the one place that deletes sessions, revokes cookies and keeps
the session index in step with them. Every server adapter hands it the
:class:`~logout_middleware.core.EndSessions` plan the core made (the WSGI middleware
calls it directly, the ASGI twin from a worker thread), and
:meth:`LogoutMiddleware.end_user_sessions
<logout_middleware.LogoutMiddleware.end_user_sessions>` calls it from Python.

The order of the writes is what keeps the index right when a store fails part way:

1. the sessions are deleted from the backend
   (:func:`~logout_middleware.backends.base.delete_sessions`: one ``DELETE ... IN``
   or one pipeline where the backend has ``delete_many``);
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

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .backends.base import SessionBackend, SessionIndex, delete_sessions

if TYPE_CHECKING:  # pragma: no cover
    from .core import EndSessions
    from .revocation import Revocation

__all__ = ["USER_LABEL", "SessionEnder", "remove_from_index"]

#: The index label that names a session's user.
USER_LABEL = "user"


def remove_from_index(index: SessionIndex, session_ids: Iterable[str]) -> None:
    """Forget ``session_ids`` in ``index``: its ``remove_many`` (a bounded number of
    round trips) where it has one, else :meth:`~SessionIndex.remove` one by one."""
    ids = tuple(dict.fromkeys(session_ids))
    if not ids:
        return
    remove_many = getattr(index, "remove_many", None)
    if remove_many is not None:
        remove_many(ids)
    else:
        for session_id in ids:
            index.remove(session_id)


class SessionEnder:
    """Carries out the core's plans against the stores.

    :param backend: the session store, or ``None`` for cookie-only sessions.
    :param index: the session index, or ``None``.
    :param revocation: the revocation component, or ``None``.
    """

    def __init__(
        self,
        backend: SessionBackend | None,
        index: SessionIndex | None,
        revocation: Revocation | None,
    ) -> None:
        self.backend = backend
        self.index = index
        self.revocation = revocation

    def run(self, plan: EndSessions) -> int:
        """Carry out ``plan``; return how many sessions ended. Raises when a store failed.

        A plain logout ends the plan's sessions. A log out everywhere (``plan.everywhere``)
        ends every session of the users of the plan's sessions, except ``plan.keep``.
        """
        if plan.everywhere:
            return self._everywhere(plan)
        session_ids = plan.session_ids
        if self.backend is not None:  # the few ids of one request: delete() each
            for session_id in session_ids:
                self.backend.delete(session_id)
        if self.revocation is not None and plan.tokens:
            self.revocation.revoke(plan.tokens)
        if self.index is not None and session_ids:
            remove_from_index(self.index, session_ids)
        return len(session_ids)

    def end_user(self, user: str, *, keep: str | None = None) -> int:
        """End every session of ``user`` except ``keep``; return how many recorded
        sessions ended. Raises when a store failed."""
        ids = self._find({user}) - {keep}
        self._end(ids, (user,), keep_value=keep)
        return len(ids)

    # -- log out everywhere ------------------------------------------------------

    def _everywhere(self, plan: EndSessions) -> int:
        index = self.index
        assert index is not None  # the settings refuse everywhere_path without an index
        users = set(plan.users)
        for session_id in plan.session_ids:
            user = index.labels(session_id).get(USER_LABEL)
            if user:
                users.add(user)
        ids = self._find(users) | set(plan.session_ids)
        ids.difference_update(plan.keep)
        keep_value = plan.keep_values[0] if plan.keep_values else None
        self._end(ids, tuple(users), keep_value=keep_value, tokens=plan.tokens)
        # A cookie-only session has no record: the one in the request counts once.
        cookie_only = self.backend is None and bool(plan.tokens)
        return len(ids) + cookie_only

    def _find(self, users: Iterable[str]) -> set[str]:
        found: set[str] = set()
        if self.index is not None:
            for user in users:
                found |= self.index.find(USER_LABEL, user)
        return found

    def _end(
        self,
        ids: set[str],
        users: tuple[str, ...],
        *,
        keep_value: str | None,
        tokens: tuple[str, ...] = (),
    ) -> None:
        if self.backend is not None:
            delete_sessions(self.backend, ids)
        revocation = self.revocation
        if revocation is not None:
            if tokens:
                revocation.revoke(tokens)
            if users and revocation.ends_users:
                revocation.end_users(users, keep_value=keep_value)
        if self.index is not None:
            remove_from_index(self.index, ids)
