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
import secrets
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from .backends.base import SessionBackend
from .cookies import (
    CookieLike,
    CookieSpec,
    parse_request_cookies,
    to_cookie_spec,
    validate_domain,
)
from .events import LogoutEvent, Outcome, fingerprint
from .guards import CsrfGuard, OriginGuard
from .redirects import is_valid_host, safe_next_url, validate_hosts
from .responses import Header, Response, json_response
from .revocation import RevocationFilter, RevocationStore, cookie_token

if TYPE_CHECKING:  # pragma: no cover
    from werkzeug.datastructures import MultiDict

    from ._wsgi import StartResponse, WSGIApplication, WSGIEnvironment

__all__ = ["DEFAULT_LOGOUT_PATH", "LogoutMiddleware"]

#: CrafterCMS Studio's logout endpoint.
DEFAULT_LOGOUT_PATH = "/api/1/services/api/1/security/logout.json"

logger = logging.getLogger("logout_middleware")

_CLEAR_SITE_DATA = frozenset(
    {
        "cache",
        "cookies",
        "storage",
        "executionContexts",
        "clientHints",
        "prefetchCache",
        "prerenderCache",
        "*",
    }
)
_METHOD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ-_")
#: At most this many distinct session cookies of the configured name are ended at once.
_MAX_SESSIONS = 8


def _strings(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or not all(isinstance(v, str) for v in items):
        raise ValueError(f"{what} must be a string or a non-empty list of strings; got {value!r}")
    return items


class LogoutMiddleware:
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
    :param trusted_origins: origins allowed to send a logout besides the app's own.
    :param csrf_cookie_name: with ``csrf_header_name``, require the double-submit
        token (Studio: ``"XSRF-TOKEN"``); the token cookie is expired on logout.
    :param csrf_header_name: the header that repeats it (Studio: ``"X-XSRF-TOKEN"``).
    :param csrf_cookie_path: the ``Path`` of the token cookie.
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
        record every logged-out cookie value there and strip it from later requests.
    :param revocation_max_age: how long a revoked value is remembered, in seconds
        (the session's maximum age).
    :param expose_errors: put the backend exception's text in the ``500`` body (for
        development); otherwise the body holds an opaque error reference, logged too.
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
        clear_site_data: Iterable[str] | None = None,
        redirect_to: str | None = None,
        next_param: str = "next",
        allowed_redirect_hosts: Iterable[str] = (),
        max_form_size: int = 8192,
        on_logout: Iterable[Callable[[LogoutEvent], Any]] = (),
        revocation: RevocationStore | None = None,
        revocation_max_age: float = 31 * 24 * 3600,
        expose_errors: bool = False,
    ) -> None:
        if not callable(app):
            raise ValueError(f"app must be a WSGI application (a callable); got {app!r}")
        if backend is None and revocation is None:
            raise ValueError(
                "backend is required: pass a SessionBackend such as SQLiteBackend(...); "
                "None is allowed only with revocation=... for cookie-only sessions"
            )
        if backend is not None and not isinstance(backend, SessionBackend):
            raise ValueError(
                "backend must have a delete(session_id) method (the SessionBackend "
                f"protocol); got {type(backend).__name__}"
            )
        #: The wrapped application.
        self.app = app
        #: The session store.
        self.backend = backend
        # The exact paths answered here; a tuple is the fastest ``in`` for a few items.
        self.paths: tuple[str, ...] = _strings(path, "path")
        for p in self.paths:
            if not p.startswith("/"):
                raise ValueError(f"logout path must start with '/'; got {p!r}")
        self.paths = tuple(dict.fromkeys(self.paths))
        # The methods that log out, upper case.
        self.methods: tuple[str, ...] = tuple(m.upper() for m in _strings(methods, "methods"))
        if not all(m and set(m) <= _METHOD_CHARS for m in self.methods):
            raise ValueError(f"methods must be HTTP method names such as 'POST'; got {methods!r}")
        # The session cookie as it was set: every attribute the browser matches on.
        self.cookie = CookieSpec(
            cookie_name,
            path=cookie_path,
            domain=cookie_domain,
            secure=cookie_secure,
            httponly=cookie_httponly,
            samesite=cookie_samesite,
            partitioned=cookie_partitioned,
        )
        if session_id_from_cookie is not None and not callable(session_id_from_cookie):
            raise ValueError("session_id_from_cookie must be a callable or None")
        # Cookie value -> session id (None: no session).
        self.session_id_from_cookie = session_id_from_cookie
        defaults = {
            "path": cookie_path,
            "domain": cookie_domain,
            "secure": cookie_secure,
            "httponly": cookie_httponly,
            "samesite": cookie_samesite,
            "partitioned": cookie_partitioned,
        }
        if isinstance(also_expire, (str, CookieSpec)):
            also_expire = [also_expire]
        companions = [to_cookie_spec(c, defaults) for c in also_expire]
        # Cross-site defence (None when switched off).
        self.origin_guard = OriginGuard(trusted_origins) if cross_site_protection else None
        # Double-submit token check (None unless configured).
        self.csrf_guard: CsrfGuard | None = None
        if (csrf_cookie_name is None) != (csrf_header_name is None):
            raise ValueError(
                "set both csrf_cookie_name and csrf_header_name (e.g. 'XSRF-TOKEN' and "
                "'X-XSRF-TOKEN'), or neither"
            )
        if csrf_cookie_name is not None and csrf_header_name is not None:
            csrf_cookie = to_cookie_spec(
                {"name": csrf_cookie_name, "path": csrf_cookie_path, "httponly": False},
                defaults,
            )
            self.csrf_guard = CsrfGuard(csrf_cookie.name, csrf_header_name)
            companions.append(csrf_cookie)
        # Every cookie expired on logout, session cookie first.
        self.expired_cookies: tuple[CookieSpec, ...] = (self.cookie, *companions)
        if isinstance(sweep_domains, str):
            sweep_domains = [sweep_domains]
        self.sweep_domains = tuple(validate_domain(d, "each sweep domain") for d in sweep_domains)
        set_cookie: tuple[list[Header], list[Header]] = ([], [])
        for spec in self.expired_cookies:
            plain, https = spec.deletion_headers(self.sweep_domains)
            set_cookie[0].extend(("Set-Cookie", v) for v in plain)
            set_cookie[1].extend(("Set-Cookie", v) for v in https)
        extra_https = list(set_cookie[1])
        if clear_site_data is not None:
            directives = _strings(clear_site_data, "clear_site_data")
            unknown = set(directives) - _CLEAR_SITE_DATA
            if unknown:
                raise ValueError(
                    f"unknown clear_site_data directive(s) {sorted(unknown)}; use "
                    f"{sorted(_CLEAR_SITE_DATA)}"
                )
            extra_https.append(("Clear-Site-Data", ", ".join(f'"{d}"' for d in directives)))
        # Headers that end the session on the client: (plain http, https).
        self._end_headers = (set_cookie[0], extra_https)
        if redirect_to is not None and not (
            isinstance(redirect_to, str)
            and (
                (redirect_to.startswith("/") and not redirect_to.startswith("//"))
                or redirect_to.startswith(("http://", "https://"))
            )
        ):
            raise ValueError(
                "redirect_to must be a path such as '/login?logout' or an absolute "
                f"http(s) URL; got {redirect_to!r}"
            )
        # Where to send the browser after logout (None: answer Studio's JSON).
        self.redirect_to: str | None = redirect_to
        if not isinstance(next_param, str) or not next_param:
            raise ValueError(f"next_param must be a non-empty string; got {next_param!r}")
        self.next_param = next_param
        self.allowed_redirect_hosts = validate_hosts(allowed_redirect_hosts)
        if not isinstance(max_form_size, int) or max_form_size < 0:
            raise ValueError(f"max_form_size must be a byte count >= 0; got {max_form_size!r}")
        self.max_form_size = max_form_size
        self.on_logout = tuple(on_logout)
        for callback in self.on_logout:
            if not callable(callback):
                raise ValueError(f"on_logout must hold callables; got {callback!r}")
        if not isinstance(expose_errors, bool):
            raise ValueError("expose_errors must be True or False")
        self.expose_errors = expose_errors
        if not isinstance(revocation_max_age, (int, float)) or revocation_max_age <= 0:
            raise ValueError(
                f"revocation_max_age must be a positive number of seconds; got "
                f"{revocation_max_age!r}"
            )
        self.revocation = revocation
        self.revocation_max_age = float(revocation_max_age)
        # What non-logout requests are handed to: the app, or the app behind the
        # filter that strips revoked cookies.
        self._downstream: WSGIApplication = app
        if revocation is not None:
            if not isinstance(revocation, RevocationStore):
                raise ValueError(
                    "revocation must be a RevocationStore (revoke and is_revoked "
                    f"methods); got {type(revocation).__name__}"
                )
            # A bound method: one call level less on every request.
            self._downstream = RevocationFilter(app, revocation, self.cookie).__call__
        allow = ", ".join(self.methods)
        self._ok = json_response(200, "OK")
        self._not_allowed = json_response(
            405, f"Method not allowed. Use {allow}.", [("Allow", allow)]
        )
        self._forbidden = json_response(403, "Forbidden. Cross-site logout request refused.")
        self._bad_token = json_response(403, "Forbidden. Missing or invalid CSRF token.")
        self._redirect = Response(
            303,
            [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store")],
            b"",
        )

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        # The pass-through path: one dict lookup, one comparison with the (one or few)
        # logout paths, one call. PATH_INFO may be absent when it is empty; the try
        # costs nothing when it is there.
        try:
            if environ["PATH_INFO"] in self.paths:
                return self._logout(environ, start_response)
        except KeyError:
            pass
        return self._downstream(environ, start_response)

    # -- the logout path ---------------------------------------------------------

    def _logout(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") not in self.methods:
            return self._not_allowed.send(start_response)
        cookies = parse_request_cookies(environ.get("HTTP_COOKIE"))
        cookie_values = self._cookie_values(cookies)
        if self.origin_guard is not None:
            reason = self.origin_guard.refuses(environ)
            if reason is not None:
                return self._refuse(environ, start_response, self._forbidden, reason, cookie_values)
        if self.csrf_guard is not None:
            reason = self.csrf_guard.refuses(environ, cookies)
            if reason is not None:
                return self._refuse(environ, start_response, self._bad_token, reason, cookie_values)
        https = environ.get("wsgi.url_scheme") == "https"
        end_headers = self._end_headers[https]
        # Where to redirect is settled before anything is deleted: reading a form body
        # for ``next`` may fail, and must not come between a deletion and its answer.
        location = None if self.redirect_to is None else self._redirect_location(environ)
        session: str | None = None
        try:
            session_ids = self._session_ids(cookie_values)
            if session_ids:
                session = fingerprint(session_ids[0])
            if self.backend is not None:
                for session_id in session_ids:
                    self.backend.delete(session_id)
            if self.revocation is not None:
                for value in cookie_values:
                    self.revocation.revoke(cookie_token(value), self.revocation_max_age)
                if session is None and cookie_values:
                    session = fingerprint(cookie_values[0])
        except Exception as exc:
            failure: Exception | None = exc
        else:
            failure = None
        if failure is not None:
            # Handled outside the except block, so that nothing raised later (an
            # on_logout callback) chains this exception, and its text, into a log.
            return self._fail(environ, start_response, failure, cookie_values, session, end_headers)
        outcome: Outcome = "ok" if session is not None else "anonymous"
        logger.info(
            "logout %s: session=%s remote=%s",
            outcome,
            session or "-",
            environ.get("REMOTE_ADDR", "-"),
        )
        if location is None:
            response = self._ok
            result = response.send(start_response, end_headers)
        else:
            response = self._redirect
            result = response.send(start_response, [("Location", location), *end_headers])
        self._emit(environ, outcome, int(response.status[:3]), None, session)
        return result

    def _cookie_values(self, cookies: MultiDict[str, str]) -> list[str]:
        """The distinct non-empty values of the session cookie in the request."""
        values: list[str] = []
        for value in cookies.getlist(self.cookie.name):
            if value and value not in values:
                values.append(value)
                if len(values) == _MAX_SESSIONS:
                    break
        return values

    def _session_ids(self, cookie_values: list[str]) -> list[str]:
        extract = self.session_id_from_cookie
        if extract is None:
            return cookie_values
        ids: list[str] = []
        for value in cookie_values:
            session_id = extract(value)
            if session_id and session_id not in ids:
                ids.append(session_id)
        return ids

    def _refuse(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        response: Response,
        reason: str,
        cookie_values: list[str],
    ) -> Iterable[bytes]:
        session = fingerprint(cookie_values[0]) if cookie_values else None
        logger.warning(
            "logout refused (%s): cookie=%s remote=%s origin=%s",
            reason,
            session or "-",
            environ.get("REMOTE_ADDR", "-"),
            _log_safe(environ.get("HTTP_ORIGIN", "-")),
        )
        result = response.send(start_response)
        self._emit(environ, "forbidden", 403, None, session)
        return result

    def _fail(
        self,
        environ: WSGIEnvironment,
        start_response: StartResponse,
        exc: Exception,
        cookie_values: list[str],
        session: str | None,
        end_headers: list[Header],
    ) -> Iterable[bytes]:
        reference = secrets.token_hex(6)
        # The traceback, with any raw cookie value or session id in it masked.
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        for value in self._secrets_of(cookie_values):
            text = text.replace(value, f"<{fingerprint(value)}>")
        logger.error(
            "logout failed: error reference %s, session=%s remote=%s\n%s",
            reference,
            session or "-",
            environ.get("REMOTE_ADDR", "-"),
            text.rstrip(),
        )
        if self.expose_errors:
            message = f"Internal server error. {type(exc).__name__}: {exc}"
        else:
            message = f"Internal server error. Error reference: {reference}"
        result = json_response(500, message).send(start_response, end_headers)
        self._emit(environ, "error", 500, reference, session)
        return result

    def _secrets_of(self, cookie_values: list[str]) -> list[str]:
        found = list(cookie_values)
        extract = self.session_id_from_cookie
        if extract is not None:
            for value in cookie_values:
                try:
                    session_id = extract(value)
                except Exception:  # noqa: S112 - the extractor already failed once
                    continue
                if session_id:
                    found.append(session_id)
        # Longest first, so that a value containing another is masked whole.
        return sorted((v for v in found if len(v) >= 4), key=len, reverse=True)

    def _redirect_location(self, environ: WSGIEnvironment) -> str | None:
        """The absolute URL to send the browser to, or ``None`` for the JSON answer
        (only when the request names no valid host to build a URL on)."""
        redirect_to = self.redirect_to or "/"
        scheme = "https" if environ.get("wsgi.url_scheme") == "https" else "http"
        host = environ.get("HTTP_HOST", "")
        if not is_valid_host(host):
            host = _server_host(environ)
            if not is_valid_host(host):
                return None if redirect_to.startswith("/") else redirect_to
        target = self._next_value(environ)
        if target is not None:
            url = safe_next_url(
                target, scheme=scheme, host=host, allowed_hosts=self.allowed_redirect_hosts
            )
            if url is not None:
                return url
        if redirect_to.startswith("/"):
            return f"{scheme}://{host}{redirect_to}"
        return redirect_to

    def _next_value(self, environ: WSGIEnvironment) -> str | None:
        """The ``next`` parameter from the query string, else from a small form body."""
        value = _param(environ.get("QUERY_STRING", ""), self.next_param)
        if value is not None:
            return value
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= self.max_form_size:
            return None
        try:
            body = environ["wsgi.input"].read(length)
        except Exception:  # a client that hung up, a broken input stream
            logger.warning("logout form body unreadable; next ignored", exc_info=True)
            return None
        if not isinstance(body, bytes):
            return None
        return _param(body.decode("latin-1"), self.next_param)

    def _emit(
        self,
        environ: WSGIEnvironment,
        outcome: Outcome,
        status: int,
        reference: str | None,
        session: str | None,
    ) -> None:
        if not self.on_logout:
            return
        event = LogoutEvent(
            session=session,
            remote_addr=environ.get("REMOTE_ADDR"),
            user_agent=environ.get("HTTP_USER_AGENT"),
            time=time.time(),
            outcome=outcome,
            status=status,
            error_reference=reference,
        )
        for callback in self.on_logout:
            try:
                callback(event)
            except Exception:
                logger.exception("on_logout callback %r raised; the answer is unchanged", callback)


def _server_host(environ: WSGIEnvironment) -> str:
    host = environ.get("SERVER_NAME", "localhost")
    port = environ.get("SERVER_PORT", "")
    scheme = environ.get("wsgi.url_scheme", "http")
    if port and (scheme, port) not in (("http", "80"), ("https", "443")):
        host = f"{host}:{port}"
    return str(host)


def _param(query: str, name: str) -> str | None:
    """The first value of ``name`` in an urlencoded string (bounded), or ``None``."""
    if len(query) > 65536:
        return None
    try:
        pairs = parse_qsl(query, max_num_fields=100, errors="replace")
    except ValueError:
        return None
    for key, value in pairs:
        if key == name:
            return value
    return None


def _log_safe(value: str) -> str:
    """Quote an untrusted header for a log line (no newlines, bounded length)."""
    return repr(value[:200])
