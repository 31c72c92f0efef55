"""LogoutMiddleware for ASGI: the same logout in front of Starlette, FastAPI, Django's
ASGI handler or any ASGI application.

The twin of :class:`logout_middleware.LogoutMiddleware`: the same options, validated
the same way, the same decision core (:mod:`logout_middleware.core`), so the same
answers byte for byte, the same events and the same log lines. Only the I/O differs:

* ``http`` requests on the logout paths are answered here; every other ``http``
  request, every ``websocket`` and ``lifespan`` scope goes to the application
  untouched (the same ``scope``, ``receive`` and ``send``). The path compared is
  ``path`` relative to ``root_path``, as WSGI's ``PATH_INFO``, so an app mounted under
  a prefix works unchanged.
* The body is read through ``receive`` only when the core asks for it (a form in
  redirect mode, a ``keep_current`` form) and only up to its ``Content-Length``, at
  most ``max_form_size`` bytes.
* Store calls: a coroutine method (``async def delete``) is awaited; a method of a
  store that declares ``nonblocking = True`` (the memory stores) is called on the
  event loop; any other runs in a worker thread, never on the loop. When every store
  is non-blocking the ending is one synchronous call, with no task and no thread.
* A request cancelled while its sessions are being ended (a server that cancels the
  application when the client goes away, a shutdown) does not cut the ending short:
  it goes on, shielded, and its log line and event are written when it finishes,
  after a warning that says the request went away.
* With ``revocation``, every ``http`` request and ``websocket`` handshake that carries
  the session cookie goes through :class:`RevocationFilter`: a revoked session is
  removed from ``scope["headers"]`` (the application, and Starlette's
  ``SessionMiddleware`` inside it, sees no session) and expired in the response.

Usage, in Starlette or FastAPI (add it after ``SessionMiddleware``, so that it runs
before it)::

    from logout_middleware.asgi import LogoutMiddleware
    from logout_middleware.backends import AsyncRedisBackend

    app.add_middleware(LogoutMiddleware, backend=AsyncRedisBackend("redis://..."))

or around any ASGI application: ``app = LogoutMiddleware(app, backend, ...)``. It
needs an asyncio event loop (uvicorn, hypercorn's asyncio worker, daphne).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from ._steps import drive, drive_async, nonblocking
from .backends.base import AsyncSessionBackend, RevocationStore, SessionBackend, SessionIndex
from .cookies import CookieLike, CookieSpec
from .core import EndSessions, ReadBody, Respond
from .ending import SessionEnder
from .events import LogoutEvent
from .middleware import DEFAULT_LOGOUT_PATH
from .request import Request
from .responses import Header
from .revocation import Revocation, UserFromCookie
from .settings import build_core
from .view import SettingsView

if TYPE_CHECKING:  # pragma: no cover
    from .oidc import OIDCLogout

__all__ = ["ASGIApp", "LogoutMiddleware", "Receive", "RevocationFilter", "Scope", "Send"]

#: An ASGI connection scope, message, and the callables of the ASGI 3 interface.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

logger = logging.getLogger("logout_middleware")


class LogoutMiddleware(SettingsView):
    """Wrap the ASGI application ``app`` so that the logout path ends the session.

    Every parameter has the meaning, the default and the validation of
    :class:`logout_middleware.LogoutMiddleware`'s (see there, and
    :doc:`configuration`); ``backend``, ``index`` and ``revocation`` may also be
    asynchronous stores (:class:`~logout_middleware.backends.AsyncRedisBackend`,
    :class:`~logout_middleware.backends.AsyncSQLAlchemyBackend`, or any whose methods
    are coroutine functions). ``on_logout`` callbacks run on the event loop: keep them
    quick.
    """

    def __init__(
        self,
        app: ASGIApp,
        backend: SessionBackend | AsyncSessionBackend | None,
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
            raise ValueError(f"app must be an ASGI application (an async callable); got {app!r}")
        # Every setting but the app goes to the one place that validates settings,
        # which the WSGI middleware shares: an option cannot mean something else here.
        settings = {k: v for k, v in locals().items() if k not in ("self", "app")}
        core = build_core(**settings)
        #: The decision core, built from the settings.
        self.core = core
        #: The wrapped application.
        self.app = app
        #: Decides the store calls that carry out the core's plans.
        self.ender = SessionEnder(settings["backend"], index, core.revocation, oidc)
        # Every path answered here.
        self._paths = (*core.paths, *core.everywhere_paths, *core.backchannel_paths)
        self._last = frozenset(path[-1] for path in self._paths)
        # Every store declares it never blocks: end sessions in one synchronous call.
        revocation_store = None if core.revocation is None else core.revocation.store
        stores = (backend, index, revocation_store, oidc)
        self._inline = all(nonblocking(store) for store in stores if store is not None)
        # Endings that outlived their cancelled request (a strong reference each).
        self._orphans: set[asyncio.Future[int]] = set()
        self._downstream: ASGIApp = app
        if core.revocation is not None:
            self._downstream = RevocationFilter(app, revocation=core.revocation).__call__

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The pass-through path: the path's last character against the logout paths'
        # (most paths stop there), then the scope type and a suffix test against the
        # (one or few) logout paths, which a path under any root_path still ends with.
        # A lifespan scope has no path, an empty path no last character: both pass on.
        try:
            answered = (
                scope["path"][-1] in self._last
                and scope["type"] == "http"
                and scope["path"].endswith(self._paths)
            )
        except (KeyError, IndexError):
            answered = False
        if answered:
            request = Request.from_scope(scope)
            if request.path in self._paths:
                decision = self.core.decide(request)
                # A logout on stores that never block awaits nothing but send.
                if isinstance(decision, EndSessions) and self._inline:
                    decision = self._end(decision)
                elif not isinstance(decision, Respond):  # a body to read, a store to await
                    request, decision = await self._carry_out(request, decision, receive)
                # Reported before sending: a client gone by now still gets its log line.
                if decision.report is not None:
                    self.core.reporter.report(decision.report, request)
                await send(decision.response.start_message())
                await send({"type": "http.response.body", "body": decision.response.body})
                return
        await self._downstream(scope, receive, send)

    # -- the ASGI adapter of the decision core -----------------------------------------

    def _end(self, plan: EndSessions) -> Respond:
        """End ``plan``'s sessions on stores that never block: one synchronous call."""
        try:
            ended = self.ender.run(plan)
        except Exception as exc:
            failure = exc
        else:
            return self.core.done(plan, ended)
        # Answered outside the except block, as the WSGI adapter does: nothing raised
        # later (an on_logout callback) chains this exception into a log.
        return self.core.failed(plan, failure)

    async def _carry_out(
        self, request: Request, decision: ReadBody | EndSessions, receive: Receive
    ) -> tuple[Request, Respond]:
        """Read the body the core asked for, end the sessions it planned: the request
        (with its body, if read) and the answer."""
        core = self.core
        if isinstance(decision, ReadBody):
            request = request.with_body(await read_body(receive, decision.limit))
            decided = core.decide(request)
            if not isinstance(decided, EndSessions):
                assert isinstance(decided, Respond)  # the body is there now
                return request, decided
            decision = decided
        if self._inline:
            return request, self._end(decision)
        try:
            ended = await self._shielded(decision, request)
        except Exception as exc:
            failure = exc
        else:
            return request, core.done(decision, ended)
        return request, core.failed(decision, failure)

    async def _shielded(self, plan: EndSessions, request: Request) -> int:
        ending = asyncio.ensure_future(drive_async(self.ender.steps(plan)))
        try:
            return await asyncio.shield(ending)
        except asyncio.CancelledError:
            # Python 3.11+ tells whether this request's task is being cancelled.
            cancelling = getattr(asyncio.current_task(), "cancelling", None)
            if ending.cancelled() and not (cancelling is not None and cancelling()):
                # Not this request: a store call raised CancelledError itself. A
                # failing store, answered 500 with the cookie expired.
                raise StoreCancelled("a store call raised CancelledError") from None
            # The request is cancelled; its ending is not: it finishes, then logs.
            self._orphans.add(ending)
            ending.add_done_callback(partial(self._orphan_done, plan, request))
            raise

    def _orphan_done(
        self, plan: EndSessions, request: Request, ending: asyncio.Future[int]
    ) -> None:
        self._orphans.discard(ending)
        logger.warning(
            "logout request cancelled (the client went away?) while its sessions were "
            "being ended; the ending went on to its end, reported next"
        )
        if ending.cancelled():  # the event loop itself is closing
            decision = self.core.failed(plan, asyncio.CancelledError("event loop closing"))
        elif ending.exception() is not None:
            decision = self.core.failed(plan, ending.exception())  # type: ignore[arg-type]
        else:
            decision = self.core.done(plan, ending.result())
        assert decision.report is not None
        self.core.reporter.report(decision.report, request)

    async def end_user_sessions(self, user: str, *, keep: str | None = None) -> int:
        """End every session of ``user`` but ``keep``, from a coroutine: the same as
        :meth:`logout_middleware.LogoutMiddleware.end_user_sessions`, each store call
        awaited, or made in a worker thread, or on the loop, as on the logout path."""
        return await drive_async(self.ender.user_steps(self._user_to_end(user), keep=keep))


class StoreCancelled(Exception):
    """A store coroutine raised :class:`asyncio.CancelledError` though its request was
    not cancelled: the logout failed, and is answered and logged as a failing store."""


_UNREADABLE = "logout form body unreadable; next ignored"


async def read_body(receive: Receive, limit: int) -> bytes:
    """At most ``limit`` bytes of the request body, read through ``receive``: what
    arrived before a disconnect, ``b""`` when nothing did or ``receive`` raised."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < limit:
            message = await receive()
            if message["type"] != "http.request":  # http.disconnect
                if not chunks:  # the WSGI adapter's line for an unreadable body
                    logger.warning(_UNREADABLE)
                break
            chunk = message.get("body") or b""
            if not isinstance(chunk, bytes):  # not ASGI: read as no body, as WSGI does
                chunk = b""
            chunks.append(chunk)
            size += len(chunk)
            if not message.get("more_body"):
                break
    except Exception:  # a server whose receive raises when the client hung up
        logger.warning(_UNREADABLE, exc_info=True)
        return b""
    return b"".join(chunks)[:limit]


def encode_headers(headers: Iterable[Header]) -> list[tuple[bytes, bytes]]:
    """ASGI header pairs: lower-case names, both sides latin-1 bytes."""
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers]


def _is_cookie(name: bytes) -> bool:
    # ASGI servers lower-case header names; a websocket scope need not.
    return name == b"cookie" or (len(name) == 6 and name.lower() == b"cookie")


class RevocationFilter:
    """An ASGI wrapper that hides revoked session cookies from ``app``: the twin of
    :class:`logout_middleware.revocation.RevocationFilter`, with the same parameters.

    ``http`` requests and ``websocket`` handshakes whose ``Cookie`` header does not
    hold the cookie's name go to ``app`` untouched. Otherwise each value of the cookie
    is looked up (store calls made as the middleware makes them); revoked pairs are
    removed from the ``cookie`` header of a copy of the scope (every other cookie
    byte for byte as it was), and the deletion ``Set-Cookie`` is added to the
    response -- ``http.response.start``, or the ``websocket.accept`` (or denial
    response) of a websocket -- unless the application sets that cookie itself.

    A websocket with a revoked session is not refused here: the application sees a
    handshake without a session, as an ``http`` request without one, and refuses it
    if it needs one (Starlette's ``SessionMiddleware`` gives it an empty session).
    """

    def __init__(
        self,
        app: ASGIApp,
        store: RevocationStore | None = None,
        cookie: CookieSpec | None = None,
        *,
        on_error: Literal["strip", "raise"] = "strip",
        max_values: int = 4,
        revocation: Revocation | None = None,
    ) -> None:
        if revocation is None:
            if store is None or cookie is None:
                raise ValueError("RevocationFilter needs a store and a cookie (a CookieSpec)")
            revocation = Revocation(store, cookie, on_error=on_error, max_values=max_values)
        #: The wrapped application.
        self.app = app
        #: The revocation component.
        self.revocation = revocation
        self._name = revocation.cookie.name.encode("latin-1")
        self._set_cookie_prefix = self._name + b"="
        index = revocation.index if revocation.user_from_cookie is not None else None
        # Every store it reads never blocks: look up synchronously, on the loop.
        self._inline = nonblocking(revocation.store) and (index is None or nonblocking(index))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" or scope["type"] == "websocket":
            headers = scope.get("headers")
            if type(headers) is not list and not isinstance(headers, tuple):
                headers = list(headers or ())  # one pass of any iterable, kept for the app
                scope = {**scope, "headers": headers}
            for name, value in headers:
                if self._name in value and _is_cookie(name):
                    await self._filter(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _filter(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        text = "; ".join(v.decode("latin-1") for n, v in headers if _is_cookie(n))
        revocation = self.revocation
        reading = revocation.read(text)
        if reading is None:
            await self.app(scope, receive, send)
            return
        steps = revocation.revoked_steps(reading)
        revoked, expire = drive(steps) if self._inline else await drive_async(steps)
        if not revoked:
            await self.app(scope, receive, send)
            return
        kept = reading.without(revoked).encode("latin-1")
        rebuilt: list[tuple[bytes, bytes]] = []
        placed = False
        for name, value in headers:
            if not _is_cookie(name):
                rebuilt.append((name, value))
            elif not placed:  # the one remaining cookie header, where the first was
                placed = True
                if kept:
                    rebuilt.append((b"cookie", kept))
        scope = {**scope, "headers": rebuilt}
        if expire:
            deletion = revocation.expiry(scope.get("scheme") in ("https", "wss"))
            send = partial(self._send_expiring, send, encode_headers([deletion])[0])
        await self.app(scope, receive, send)

    async def _send_expiring(
        self, send: Send, deletion: tuple[bytes, bytes], message: Message
    ) -> None:
        if message["type"] in _STARTS:
            headers = list(message.get("headers") or ())
            prefix = self._set_cookie_prefix
            if not any(
                n.lower() == b"set-cookie" and v.lstrip().startswith(prefix) for n, v in headers
            ):
                message = {**message, "headers": [*headers, deletion]}
        await send(message)


# The messages that carry a response's headers.
_STARTS = frozenset({"http.response.start", "websocket.accept", "websocket.http.response.start"})
