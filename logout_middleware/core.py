"""The decision core: what to do with a request on a logout path, without any I/O.

:class:`LogoutCore` reads a plain :class:`~logout_middleware.request.Request` and
returns what to do, as h11 and wsproto do for their protocols: it never touches a
socket, a store or a server interface, so one core serves the WSGI middleware and the
ASGI twin, and its tests need no server. A decision is one of:

* :class:`Respond` -- answer now (``405``, ``403``), or the final answer;
* :class:`ReadBody` -- read at most ``limit`` bytes of the body and decide again with
  :meth:`Request.with_body <logout_middleware.request.Request.with_body>` (redirect
  mode, for a ``next`` field in a form);
* :class:`EndSessions` -- a plan: end these sessions (delete them through the backend,
  record these revocation tokens, forget them in the session index) or, on a log out
  everywhere path, every session of their users; then answer :meth:`LogoutCore.done`
  or, when a store raised, :meth:`LogoutCore.failed`. The plan is carried out by
  :class:`~logout_middleware.ending.SessionEnder`, the one owner of that I/O.

The adapter's loop::

    decision = core.decide(request)
    if isinstance(decision, ReadBody):
        decision = core.decide(request.with_body(read(decision.limit)))
    if isinstance(decision, EndSessions):
        try:
            ended = ender.run(decision)
        except Exception as exc:
            decision = core.failed(decision, exc)
        else:
            decision = core.done(decision, ended)
    send(decision.response); report(decision.report)
"""

from __future__ import annotations

import secrets
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from .cookies import CookieSpec
from .events import Kind, Outcome, Report, Reporter, scrub
from .expiry import CookieExpiry
from .guards import CsrfGuard, OriginGuard
from .oidc.errors import InvalidLogoutToken, ProviderError
from .redirects import RedirectPolicy, form_length
from .request import Request
from .responses import Answers, Header, Response, oauth_error
from .revocation import Revocation
from .sessionref import cookie_values, decode_value

__all__ = ["MAX_SESSIONS", "EndSessions", "LogoutCore", "ReadBody", "Respond"]

#: At most this many distinct session cookies of the configured name are ended at once.
MAX_SESSIONS = 8


@dataclass(slots=True)
class Respond:
    """Send ``response``; log and emit ``report`` when there is one (a successful
    logout has none when nothing would read it: see :meth:`Reporter.wants
    <logout_middleware.events.Reporter.wants>`)."""

    response: Response
    report: Report | None = None


@dataclass(slots=True)
class ReadBody:
    """Read at most ``limit`` bytes of the request body, then decide again."""

    limit: int


@dataclass(slots=True)
class EndSessions:
    """End ``session_ids`` (delete them, forget them in the index) and revoke
    ``tokens``; with ``everywhere``, every session of their users; then answer."""

    session_ids: tuple[str, ...]
    tokens: tuple[str, ...]
    #: The answer once every deletion succeeded; ``None``: built by :meth:`LogoutCore.done`
    #: (it carries the number of sessions ended).
    success: Response | None
    #: The cookie expiry headers, sent with the success and the failure alike.
    end_headers: tuple[Header, ...]
    #: The session (its id, or the cookie value) named by the log and the event, by
    #: fingerprint only: see :class:`~logout_middleware.events.Report`.
    subject: str | None
    #: Every raw value and id of the request, masked in error texts.
    secrets: tuple[str, ...]
    #: Log out everywhere: end every session of the users of ``session_ids``.
    everywhere: bool = False
    #: Users named by the cookie itself (``user_from_cookie``, cookie-only sessions).
    users: tuple[str, ...] = ()
    #: Session ids that stay (``?keep_current=1``).
    keep: tuple[str, ...] = ()
    #: The cookie values (decoded) of the sessions that stay.
    keep_values: tuple[str, ...] = ()
    #: A back-channel logout: the logout token to validate, then end its sessions.
    backchannel: str | None = None
    #: The identity provider's end-session URL, filled in by the ender once the
    #: session is ended (RP-initiated logout); the answer sends the browser there.
    logout_url: str | None = None


Decision = Respond | ReadBody | EndSessions


class LogoutCore:
    """Decides, for a request on a logout path, what to delete and what to answer.

    Built once by :class:`~logout_middleware.LogoutMiddleware` from its collaborators,
    each validated by its own constructor.
    """

    def __init__(
        self,
        *,
        paths: tuple[str, ...],
        everywhere_paths: tuple[str, ...] = (),
        backchannel_paths: tuple[str, ...] = (),
        max_form_size: int = 8192,
        methods: tuple[str, ...],
        cookie: CookieSpec,
        expiry: CookieExpiry,
        answers: Answers,
        origin_guard: OriginGuard | None,
        csrf_guard: CsrfGuard | None,
        redirects: RedirectPolicy | None,
        revocation: Revocation | None,
        session_id_from_cookie: Callable[[str], str | None] | None,
        deletes_sessions: bool,
        expose_errors: bool,
        reporter: Reporter,
    ) -> None:
        self.paths = paths
        self.everywhere_paths = everywhere_paths
        self.backchannel_paths = backchannel_paths
        #: Every path the core answers: logout, log out everywhere, back-channel.
        self.routes = (*paths, *everywhere_paths, *backchannel_paths)
        self.max_form_size = max_form_size
        self.methods = methods
        self.cookie = cookie
        self.expiry = expiry
        self.answers = answers
        self.origin_guard = origin_guard
        self.csrf_guard = csrf_guard
        self.redirects = redirects
        self.revocation = revocation
        self.session_id_from_cookie = session_id_from_cookie
        self.deletes_sessions = deletes_sessions
        self.expose_errors = expose_errors
        self.reporter = reporter
        # Studio's OK with the cookie expiry, prebuilt for plain http and https.
        self._ok = tuple(answers.ok.with_headers(expiry.headers(h)) for h in (False, True))

    def cookie_values(self, request: Request) -> list[str]:
        """The distinct non-empty values of the session cookie (at most
        :data:`MAX_SESSIONS`), as the one cookie reader finds them."""
        header = request.headers.get("cookie")
        if not header or self.cookie.name not in header:
            return []
        values = cookie_values(header, self.cookie.name)
        return values if len(values) <= MAX_SESSIONS else values[:MAX_SESSIONS]

    def decide(self, request: Request) -> Decision:
        """What to do with ``request`` (a request on a logout or log out everywhere path)."""
        if request.body is not None and len(request.body) > self.max_form_size:
            request = request.with_body(b"")  # a body of no stated length, too long
        if request.path in self.backchannel_paths:
            return self._backchannel(request)
        if request.method not in self.methods:
            return Respond(self.answers.not_allowed)
        everywhere = request.path in self.everywhere_paths
        values = self.cookie_values(request)
        refusal = self._refusal(request, values)
        if refusal is not None:
            return refusal
        if request.body is None and (everywhere or self.redirects is not None):
            limit = self._body_limit(request, everywhere)
            if limit:
                return ReadBody(limit)
        keep_current: bool | None = False
        if everywhere:
            keep_current = _keep_current(request.query, request.body)
            if keep_current is None:
                return Respond(self.answers.bad_keep_current)
        location = None if self.redirects is None else self.redirects.location(request)
        https = request.https
        end_headers = () if keep_current else self.expiry.headers(https)
        texts = (decode_value(values[0]),) if len(values) == 1 else tuple(map(decode_value, values))
        try:
            session_ids = self._session_ids(texts)
            users = self._users(values) if everywhere else ()
        except Exception as exc:
            plan = EndSessions((), (), self.answers.ok, end_headers, None, texts)
            return self.failed(plan, exc)
        tokens = self.revocation.tokens(values) if self.revocation is not None else ()
        subject = session_ids[0] if session_ids else texts[0] if tokens else None
        success: Response | None
        if location is not None:
            success = self.answers.redirect(location).with_headers(end_headers)
        else:
            success = None if everywhere else self._ok[https]
        if not self.deletes_sessions:  # cookie-only sessions: no record to delete
            session_ids = ()
        return EndSessions(
            session_ids,
            () if keep_current else tokens,
            success,
            end_headers,
            subject,
            texts if session_ids is texts else (*texts, *session_ids),
            everywhere,
            users,
            session_ids if keep_current else (),
            texts if keep_current else (),
        )

    def done(self, plan: EndSessions, ended: int = 0) -> Respond:
        """The answer once ``plan`` was carried out and ended ``ended`` sessions; its
        report only when something reads it (an ``on_logout`` callback, or the log
        line's level enabled)."""
        success, subject = plan.success, plan.subject
        if plan.logout_url is not None:  # on to the identity provider's logout
            if success is not None and success.status == 303:
                success = self.answers.redirect(plan.logout_url)
            else:
                success = self.answers.provider_logout(plan.logout_url)
            success = success.with_headers(plan.end_headers)
        elif success is None:
            success = self.answers.ended(ended).with_headers(plan.end_headers)
        kind = _kind(plan)
        outcome: Outcome = "ok" if subject is not None or kind == "backchannel" else "anonymous"
        if not self.reporter.wants(outcome):  # no callback, the log line's level off
            return Respond(success)
        count = None if kind == "logout" else ended
        report = Report(outcome, success.status, None, ended=count, subject=subject, kind=kind)
        return Respond(success, report)

    def failed(self, plan: EndSessions, exc: BaseException) -> Respond:
        """The ``500`` answer when a store (or the id extractor) raised ``exc``.

        The cookie is still expired; the traceback and, with ``expose_errors``, the
        body carry no fragment of a cookie value or session id.
        """
        if plan.backchannel is not None and isinstance(exc, InvalidLogoutToken):
            response = oauth_error(400, "invalid_request", exc.description)
            report = Report("forbidden", 400, None, exc.description, kind="backchannel")
            return Respond(response, report)
        reference = secrets.token_hex(6)
        try:
            details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        except Exception:  # an exception whose text cannot be made
            details = f"{type(exc).__name__} (its traceback could not be formatted)"
        details = scrub(details, plan.secrets).rstrip()
        if self.expose_errors:
            message = scrub(_describe(exc), plan.secrets)
        else:
            message = f"Error reference: {reference}"
        if plan.backchannel is None:
            response = self.answers.error(message).with_headers(plan.end_headers)
        elif isinstance(exc, ProviderError):  # not the sender's fault: it may retry
            response = oauth_error(503, "temporarily_unavailable", message)
        else:
            response = oauth_error(500, "server_error", message)
        status = response.status
        report = Report(
            "error", status, None, None, reference, details, subject=plan.subject, kind=_kind(plan)
        )
        return Respond(response, report)

    def _refusal(self, request: Request, values: list[str]) -> Respond | ReadBody | None:
        reason, response = None, self.answers.forbidden
        if self.origin_guard is not None:
            reason = self.origin_guard.refuses(request)
        if reason is None and self.csrf_guard is not None:
            if self.csrf_guard.wants_form(request):  # the token in a form field
                limit = form_length(request, self.max_form_size)
                if limit:
                    return ReadBody(limit)
            reason, response = self.csrf_guard.refuses(request), self.answers.bad_token
        if reason is None:
            return None
        subject = decode_value(values[0]) if values else None
        return Respond(response, Report("forbidden", 403, None, reason, subject=subject))

    def _backchannel(self, request: Request) -> Respond | ReadBody | EndSessions:
        # Server to server: no cookie, no browser guards; the token is the credential.
        if request.method != "POST":
            return Respond(self.answers.backchannel_not_allowed)
        if request.body is None:
            limit = form_length(request, self.max_form_size)
            if limit:
                return ReadBody(limit)
            return Respond(_BAD_BACKCHANNEL_FORM)
        found = _raw_fields(request.body, "logout_token")
        token = unquote_plus(found[0].decode("latin-1")).strip() if len(found) == 1 else ""
        if not token:
            return Respond(_NO_LOGOUT_TOKEN)
        return EndSessions((), (), None, (), None, (token,), backchannel=token)

    def _body_limit(self, request: Request, everywhere: bool) -> int:
        # The form body holds ``next`` (redirect mode) or ``keep_current`` (a button).
        if everywhere:
            return form_length(request, self.max_form_size)
        return 0 if self.redirects is None else self.redirects.body_limit(request)

    def _session_ids(self, texts: tuple[str, ...]) -> tuple[str, ...]:
        extract = self.session_id_from_cookie
        if extract is None:
            return texts
        ids = (extract(text) for text in texts)
        return tuple(dict.fromkeys(i for i in ids if i))

    def _users(self, values: list[str]) -> tuple[str, ...]:
        # Cookie-only sessions name their user in the signed cookie itself.
        revocation = self.revocation
        if revocation is None or not revocation.ends_users:
            return ()
        found = (revocation.identify(value) for value in values)
        return tuple(dict.fromkeys(f[0] for f in found if f is not None))


def _keep_current(query: str, body: bytes | None) -> bool | None:
    """``keep_current=1`` in the query or the form: ``True``; absent or ``0``:
    ``False``; ``None``: unreadable, or given twice with different values."""
    form = body.decode("latin-1") if body else ""
    if not any("keep_current" in text or "%" in text for text in (query, form)):
        return False  # the name is in neither, not even escaped (keep%5Fcurrent)
    answers = {
        _FLAGS.get(value.strip().lower())
        for text in (query, form)
        for name, value in parse_qsl(text, keep_blank_values=True)
        if name == "keep_current"
    }
    if len(answers) != 1:
        return None if answers else False
    return answers.pop()


def _raw_fields(body: bytes, name: str) -> list[bytes]:
    """The still-encoded values of the form field ``name``, split by hand (parse_qsl
    would decode every value, a whole logout token); a field's name is decoded only
    when it holds an escape (``logout%5Ftoken`` is ``logout_token`` too)."""
    encoded = name.encode("latin-1")
    found = []
    for field in body.split(b"&"):
        key, _, value = field.partition(b"=")
        if key == encoded or (
            (b"%" in key or b"+" in key) and unquote_plus(key.decode("latin-1")) == name
        ):
            found.append(value)
    return found


def _kind(plan: EndSessions) -> Kind:
    if plan.backchannel is not None:
        return "backchannel"
    return "everywhere" if plan.everywhere else "logout"


_BAD_BACKCHANNEL_FORM = oauth_error(
    400,
    "invalid_request",
    "the back-channel logout request must be an application/x-www-form-urlencoded "
    "form with a logout_token field",
)
_NO_LOGOUT_TOKEN = oauth_error(
    400, "invalid_request", "the form must have exactly one non-empty logout_token field"
)

# The values of ``keep_current``; empty is absent.
_FLAGS = {"1": True, "true": True, "yes": True, "on": True}
_FLAGS.update({"0": False, "false": False, "no": False, "off": False, "": False})


def _describe(exc: BaseException) -> str:
    try:
        return f"{type(exc).__name__}: {exc}"
    except Exception:  # an exception whose __str__ raises
        return type(exc).__name__
