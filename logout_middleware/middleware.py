"""LogoutMiddleware: a correct, fast, hardened logout in front of any WSGI app.

The middleware answers one path (by default CrafterCMS Studio's
``/api/1/services/api/1/security/logout.json``) itself and hands every other request
to the wrapped application untouched: the same ``environ``, the same
``start_response``, and the application's own iterable returned.

On the logout path:

==============================================  =========================================
request                                         answer
==============================================  =========================================
``POST`` with a session cookie                  ``backend.delete(session_id)``; ``200``
                                                ``{"message": "OK"}``, the cookie expired
``POST`` without a session (no cookie, empty)   the same ``200``: logout is idempotent
backend raises                                  ``500`` ``{"message": "Internal server
                                                error. ..."}``, the cookie still expired
another method (``HEAD`` and ``OPTIONS`` too)   ``405`` with ``Allow``, JSON body
cross-site, or a bad double-submit token        ``403``, JSON body, nothing deleted
==============================================  =========================================

With ``index=`` and ``everywhere_path=``, ``POST everywhere_path`` ends every session
of the current session's user (its ``user`` label in the index) and answers ``200``
``{"message": "OK", "ended": N}``; ``?keep_current=1`` spares the current session and
its cookie. :meth:`LogoutMiddleware.end_user_sessions` does the same from Python.

Every answer carries ``Cache-Control: no-store``. The request path is ``PATH_INFO``,
so an app mounted under a ``SCRIPT_NAME`` works unchanged.

Usage::

    from logout_middleware import LogoutMiddleware, SQLiteBackend

    app = LogoutMiddleware(app, SQLiteBackend("sessions.sqlite3"), cookie_name="sid")

Every setting is validated once, here; a bad one raises :class:`ValueError` that says
what to change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from .backends.base import RevocationStore, SessionBackend, SessionIndex
from .cookies import CookieLike
from .core import EndSessions, ReadBody, Respond
from .ending import SessionEnder
from .events import LogoutEvent
from .request import Request, text_to_wsgi
from .revocation import RevocationFilter, UserFromCookie
from .settings import build_core, refuse_coroutine_stores
from .view import SettingsView

if TYPE_CHECKING:  # pragma: no cover
    from ._wsgi import StartResponse, WSGIApplication, WSGIEnvironment
    from .oidc import OIDCLogout

__all__ = ["DEFAULT_LOGOUT_PATH", "LogoutMiddleware"]

#: CrafterCMS Studio's logout endpoint.
DEFAULT_LOGOUT_PATH = "/api/1/services/api/1/security/logout.json"

logger = logging.getLogger("logout_middleware")


class LogoutMiddleware(SettingsView):
    """Wrap ``app`` so that the logout path ends the session.

    :param app: the WSGI application to wrap.
    :param backend: the session store, any object with ``delete(session_id)``
        (:class:`~logout_middleware.SessionBackend`). ``None`` only together with
        ``revocation`` (cookie-only sessions have no server-side record).
    :param path: the logout path, or several; compared with ``PATH_INFO`` exactly.
    :param methods: the methods that log out; others get ``405`` with ``Allow``.
    :param cookie_name: the session cookie.
    :param cookie_path: the ``Path`` the session cookie was set with.
    :param cookie_domain: its ``Domain``, or ``None`` for a host-only cookie.
    :param cookie_secure: ``None``: Secure on https, for ``__Secure-``/``__Host-``
        names, with SameSite None or Partitioned; ``True``/``False`` to force it.
    :param cookie_httponly: ``HttpOnly`` on the deletion header.
    :param cookie_samesite: ``"Lax"``, ``"Strict"``, ``"None"``, or ``None`` for none.
    :param cookie_partitioned: the cookie is partitioned (CHIPS).
    :param session_id_from_cookie: turns the cookie value into the session id;
        ``None`` means the id is the value itself. Returning ``None`` means "no
        session" (e.g. a bad signature): nothing is deleted, the cookie is expired.
    :param also_expire: more cookies to expire on logout: names (which take the
        session cookie's path, domain and flags), mappings of
        :class:`~logout_middleware.CookieSpec` arguments, or ``CookieSpec`` objects.
    :param sweep_domains: parent domains (``"example.com"``) on which to expire every
        cookie too, besides its own domain and host-only: one header per domain.
    :param cross_site_protection: refuse cross-site logouts (see
        :mod:`logout_middleware.guards`).
    :param trusted_origins: origins allowed to send a logout besides the app's own,
        even from another site (``https://admin.example.com``); ``https://*.example.com``
        trusts every subdomain of ``example.com`` (not the parent itself).
    :param csrf_cookie_name: with ``csrf_header_name``, require the double-submit
        token (Studio: ``"XSRF-TOKEN"``); the token cookie is expired on logout.
    :param csrf_header_name: the header that repeats it (Studio: ``"X-XSRF-TOKEN"``).
    :param csrf_cookie_path: the ``Path`` of the token cookie.
    :param csrf_cookie_domain: its ``Domain``; ``None``: host-only (as Studio's Spring
        sets it), whatever the session cookie's.
    :param csrf_field_name: an urlencoded form field that may carry the token instead
        of the header (a plain HTML ``<form>``: ``"_csrf"``, ``"csrfmiddlewaretoken"``);
        the body is read (at most ``max_form_size``) only when the header is absent.
    :param clear_site_data: ``Clear-Site-Data`` directives, e.g.
        ``("cache", "cookies", "storage")``; sent on https requests only.
    :param redirect_to: answer ``303 See Other`` to this URL (a path or an absolute
        http(s) URL) instead of Studio's JSON; a safe ``next`` parameter wins.
    :param next_param: the query or form parameter that names where to go next.
    :param allowed_redirect_hosts: hosts besides the request's own that ``next`` may
        point to.
    :param max_form_size: the largest urlencoded body read for ``next``, in bytes.
    :param on_logout: callables that receive a
        :class:`~logout_middleware.LogoutEvent` after each logout; one that raises
        is logged and changes nothing.
    :param revocation: a :class:`~logout_middleware.revocation.RevocationStore`:
        record the canonical identities of every logged-out session there and strip
        that session, in any spelling an application accepts, from later requests.
    :param revocation_max_age: how long a revoked session is remembered, in seconds
        (the session's maximum age); positive and finite.
    :param expose_errors: put the backend exception's text in the ``500`` body (for
        development; fragments of cookie values and session ids masked); otherwise the
        body holds an opaque error reference, logged too.
    :param index: a :class:`~logout_middleware.SessionIndex`: which sessions belong to
        whom. The application links a session at login with
        ``index.add(session_id, ttl, user=...)``; every logout then forgets its
        session there too.
    :param everywhere_path: with ``index``, the path that logs the current session's
        user out everywhere (``?keep_current=1``: out of every *other* session). Same
        methods, guards and answers as the logout path, with ``"ended": N``.
    :param user_from_cookie: cookie-only sessions (``revocation``): returns
        ``(user, signed_at)`` for a cookie value, so that log out everywhere refuses
        every cookie of the user signed before it (see
        :class:`~logout_middleware.revocation.Revocation`). Needs ``index``.
    :param oidc: a :class:`logout_middleware.oidc.OIDCLogout`: answer the identity
        provider's back-channel logouts at its ``backchannel_path`` (ending the sessions
        of the token's ``sid``, or of its ``sub``), and send a logged-out browser on to
        the provider's end-session endpoint (``"logoutUrl"`` in the JSON answer, or the
        ``303``). Needs ``index``, where the login linked each session with
        ``oidc.session_labels(...)``.
    """

    def __init__(
        self,
        app: WSGIApplication,
        backend: SessionBackend | None,
        *,
        path: str | Iterable[str] = DEFAULT_LOGOUT_PATH,
        methods: str | Iterable[str] = ("POST",),
        cookie_name: str = "session",
        cookie_path: str = "/",
        cookie_domain: str | None = None,
        cookie_secure: bool | None = None,
        cookie_httponly: bool = True,
        cookie_samesite: str | None = "Lax",
        cookie_partitioned: bool = False,
        session_id_from_cookie: Callable[[str], str | None] | None = None,
        also_expire: Iterable[CookieLike] = (),
        sweep_domains: Iterable[str] = (),
        cross_site_protection: bool = True,
        trusted_origins: Iterable[str] = (),
        csrf_cookie_name: str | None = None,
        csrf_header_name: str | None = None,
        csrf_cookie_path: str = "/",
        csrf_cookie_domain: str | None = None,
        csrf_field_name: str | None = None,
        clear_site_data: Iterable[str] | None = None,
        redirect_to: str | None = None,
        next_param: str = "next",
        allowed_redirect_hosts: Iterable[str] = (),
        max_form_size: int = 8192,
        on_logout: Iterable[Callable[[LogoutEvent], Any]] = (),
        revocation: RevocationStore | None = None,
        revocation_max_age: float = 31 * 24 * 3600,
        expose_errors: bool = False,
        index: SessionIndex | None = None,
        everywhere_path: str | None = None,
        user_from_cookie: UserFromCookie | None = None,
        oidc: OIDCLogout | None = None,
    ) -> None:
        if not callable(app):
            raise ValueError(f"app must be a WSGI application (a callable); got {app!r}")
        # Every setting but the app goes to the one place that validates settings.
        settings = {k: v for k, v in locals().items() if k not in ("self", "app")}
        refuse_coroutine_stores(backend=backend, index=index, revocation=revocation)
        core = build_core(**settings)
        #: The decision core, built from the settings.
        self.core = core
        #: The wrapped application.
        self.app = app
        #: Carries out the core's plans against the stores (backend, index, revocation).
        self.ender = SessionEnder(backend, index, core.revocation, oidc)
        # Every path the middleware answers itself.
        self._paths = tuple(map(text_to_wsgi, core.routes))  # as PATH_INFO spells them
        # What other requests are handed to: the app, or the app behind the filter
        # that hides revoked cookies (a bound method: one call level less).
        self._downstream: WSGIApplication = app
        if core.revocation is not None:
            revocation_filter = RevocationFilter(
                app, core.revocation.store, core.cookie, revocation=core.revocation
            )
            self._downstream = revocation_filter.__call__

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # The pass-through path: one dict lookup, one comparison with the (one or few)
        # logout paths, one call. PATH_INFO may be absent when it is empty; the try
        # costs nothing when it is there.
        try:
            if environ["PATH_INFO"] in self._paths:
                return self._logout(environ, start_response)
        except KeyError:
            pass
        return self._downstream(environ, start_response)

    # -- the WSGI adapter of the decision core -------------------------------------

    def _logout(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        decision = self.core.decide(request)
        if isinstance(decision, ReadBody):
            request = request.with_body(_read_body(environ, decision.limit))
            decision = self.core.decide(request)
            assert not isinstance(decision, ReadBody)  # the body is there now
        if isinstance(decision, EndSessions):
            decision = self._end_sessions(decision)
        response = decision.response
        start_response(response.status_line, list(response.headers))
        if decision.report is not None:
            self.core.reporter.report(decision.report, request)
        return [response.body]

    def _end_sessions(self, plan: EndSessions) -> Respond:
        failure: Exception | None = None
        try:
            ended = self.ender.run(plan)
        except Exception as exc:
            failure = exc
        # Answered outside the except block, so that nothing raised later (an
        # on_logout callback) chains this exception, and its text, into a log.
        if failure is not None:
            return self.core.failed(plan, failure)
        return self.core.done(plan, ended)

    def end_user_sessions(self, user: str, *, keep: str | None = None) -> int:
        """End every session of ``user`` (its ``user`` label in the index) but ``keep``.

        For a password change or an account disabled by an administrator: each session
        is deleted through the backend and forgotten in the index; with
        ``user_from_cookie``, every cookie-only session of the user signed before now is
        refused from now on (``keep``, a cookie value, excepted). Returns how many
        recorded sessions ended (cookie-only sessions have no record to count). Raises
        when a store failed; the sessions that may still exist stay in the index, so
        calling again finishes the work.
        """
        return self.ender.end_user(self._user_to_end(user), keep=keep)


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """At most ``limit`` bytes of the body; ``b""`` when the stream fails."""
    try:
        body = environ["wsgi.input"].read(limit)
    except Exception:  # a client that hung up, a broken input stream
        logger.warning("logout form body unreadable; next ignored", exc_info=True)
        return b""
    return body if isinstance(body, bytes) else b""
