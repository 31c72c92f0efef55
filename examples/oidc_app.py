"""Sign in through an OpenID Provider, and log out of it too: a bare WSGI app (no
framework) behind ``LogoutMiddleware(..., index=..., oidc=OIDCLogout(...))``.

* ``GET /``: who is logged in (or "anonymous") and which worker process answered; a
  "Log in" link when anonymous, a "Log out" button when logged in.
* ``GET /login``: to the provider's authorization endpoint (the authorization-code
  flow), with a new ``state`` and ``nonce`` kept in a short-lived cookie.
* ``GET /callback``: checks the ``state``, exchanges the ``code`` at the token
  endpoint, validates the ID token with PyJWT against the provider's key set
  (signature, ``iss``, ``aud``, ``exp``, ``iat``, the ``nonce``), creates the session,
  **links it in the session index with** ``oidc.session_labels(claims,
  id_token=...)`` and sets the ``session`` cookie.
* "Log out" calls the middleware the way CrafterCMS Studio's UI does (``fetch`` POST,
  JSON ``{}``); the middleware ends the session and answers ``"logoutUrl"``, the
  provider's end-session URL, and the page goes there.
* The provider's back-channel logouts (``POST /oidc/backchannel-logout``) are
  answered by the middleware: they end the sessions of the provider's session
  (``sid``) or user (``sub``), whichever worker or host created them.

Register at the provider: the redirect URI ``BASE/callback``, the post-logout
redirect URI ``BASE/`` and the back-channel logout URL ``BASE/oidc/backchannel-logout``.
Run it with gunicorn, from ``examples/``::

    OIDC_EXAMPLE_ISSUER=https://login.example.com/realms/main \\
    OIDC_EXAMPLE_CLIENT_ID=studio OIDC_EXAMPLE_BASE_URL=http://127.0.0.1:8000 \\
    gunicorn --workers 2 --bind 127.0.0.1:8000 oidc_app:app

Settings come from the environment:

``OIDC_EXAMPLE_ISSUER``
    the provider's issuer, exactly as in its tokens (required).
``OIDC_EXAMPLE_CLIENT_ID``, ``OIDC_EXAMPLE_CLIENT_SECRET``
    this app's client at the provider (default ``app``); the secret, when the client
    is confidential, is sent with HTTP Basic (``client_secret_basic``).
``OIDC_EXAMPLE_BASE_URL``
    this app's public origin (default ``http://127.0.0.1:8000``).
``OIDC_EXAMPLE_STORE``
    the sessions and their index, named by a URL as in the PasteDeploy filter
    (default: ``sqlite:///`` the file ``oidc_example.sqlite3`` next to this file).
``OIDC_EXAMPLE_REPLAY``
    the revocation store that keeps the ``jti`` of the logout tokens received, shared
    by every worker (default: the same SQLite file).
"""

from __future__ import annotations

import base64
import hmac
import html
import json
import logging
import os
import secrets
import threading
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jwt
from werkzeug.http import dump_cookie, parse_cookie

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutMiddleware,
    SessionIndex,
    SessionStore,
    fingerprint,
)
from logout_middleware.backends import (
    RevocationStore,
    backend_from_url,
    index_from_url,
    revocation_store_from_url,
)
from logout_middleware.oidc import OIDCLogout

StartResponse = Callable[..., Any]
logger = logging.getLogger("oidc_example")

DEFAULT_DB = Path(__file__).with_name("oidc_example.sqlite3")
SESSION_COOKIE = "session"
# The state and nonce of a login under way, for the callback to check.
LOGIN_COOKIE = "oidc-login"
# How long a session (and its index entry) lives.
SESSION_TTL = 8 * 3600
# Every request to the provider is bounded.
TIMEOUT = 5.0

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>logout-middleware OIDC example</title>
<style>
  body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; }}
  .pid {{ color: #666; }}
</style>
</head>
<body>
<h1>logout-middleware OIDC example</h1>
<p>Logged in as <strong id="user">{user}</strong></p>
<p>Provider: <code id="issuer">{issuer}</code></p>
{body}
<p class="pid">Served by worker pid <span id="pid">{pid}</span>.</p>
</body>
</html>
"""

LOGIN_LINK = '<p><a id="login" href="{href}">Log in</a></p>'

# Studio's UI: POST JSON {}; then on to the provider's end-session page when the
# middleware names one (the session had OIDC labels), else back to this page.
LOGOUT_BUTTON = """<button type="button" id="logout" data-url="{logout}">Log out</button>
<script>
document.getElementById("logout").addEventListener("click", async (event) => {{
  let next = location.href;
  try {{
    const response = await fetch(event.target.dataset.url, {{
      method: "POST",
      credentials: "same-origin",
      headers: {{"Content-Type": "application/json"}},
      body: "{{}}",
    }});
    const answer = await response.json();
    if (answer.logoutUrl) next = answer.logoutUrl;
  }} finally {{
    location.assign(next);
  }}
}});
</script>"""


class Provider:
    """The provider's endpoints for the login (from its discovery document, fetched
    once) and the ID token check."""

    def __init__(self, oidc: OIDCLogout, client_secret: str | None) -> None:
        self.oidc = oidc
        self.client_secret = client_secret
        self._lock = threading.Lock()
        self._document: Mapping[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    def document(self) -> Mapping[str, Any]:
        with self._lock:
            if self._document is None:
                url = self.oidc.issuer.rstrip("/") + "/.well-known/openid-configuration"
                with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
                    document = json.load(response)
                if document.get("issuer") != self.oidc.issuer:
                    raise ValueError(f"{url} describes another issuer")
                self._document = document
                self._keys = jwt.PyJWKClient(document["jwks_uri"], timeout=int(TIMEOUT))
            return self._document

    def authorization_url(self, redirect_uri: str, state: str, nonce: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.oidc.client_id,
            "redirect_uri": redirect_uri,
            "scope": "openid",
            "state": state,
            "nonce": nonce,
        }
        return str(self.document()["authorization_endpoint"]) + "?" + urlencode(query)

    def redeem(self, code: str, redirect_uri: str) -> str:
        """The ID token the token endpoint gives for ``code``."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.client_secret is None:
            form["client_id"] = self.oidc.client_id
        else:  # client_secret_basic: both parts form-encoded first (RFC 6749, 2.3.1)
            pair = f"{quote(self.oidc.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        request = urllib.request.Request(
            str(self.document()["token_endpoint"]), urlencode(form).encode(), headers
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return str(json.load(response)["id_token"])

    def validated_claims(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims, once PyJWT has checked its signature against the
        provider's key set, ``iss``, ``aud``, ``exp`` and ``iat``; then the nonce."""
        self.document()
        assert self._keys is not None
        key = self._keys.get_signing_key_from_jwt(id_token)
        claims: dict[str, Any] = jwt.decode(
            id_token,
            key,
            algorithms=sorted(self.oidc.algorithms),
            audience=self.oidc.client_id,
            issuer=self.oidc.issuer,
            leeway=60,
            options={"require": ["iss", "aud", "exp", "iat", "sub"]},
        )
        if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise jwt.InvalidTokenError("the ID token's nonce is not this login's")
        return claims


class OIDCExampleApp:
    """The application itself: it logs in through the provider; logging out is the
    middleware's."""

    def __init__(
        self,
        sessions: SessionStore,
        index: SessionIndex,
        oidc: OIDCLogout,
        *,
        base_url: str,
        client_secret: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.index = index
        self.oidc = oidc
        self.base_url = base_url.rstrip("/")
        self.provider = Provider(oidc, client_secret)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if environ.get("REQUEST_METHOD", "GET") not in ("GET", "HEAD"):
            return respond(start_response, "405 Method Not Allowed", b"method not allowed\n")
        if path == "/":
            return self.page(environ, start_response)
        if path == "/login":
            return self.login(start_response)
        if path == "/callback":
            return self.callback(environ, start_response)
        return respond(start_response, "404 Not Found", b"not found\n")

    def page(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        session_id = parse_cookie(environ).get(SESSION_COOKIE)
        data = self.sessions.get(session_id) if session_id else None
        if data is None:
            user, body = "anonymous", LOGIN_LINK.format(href="/login")
        else:
            user, body = str(data["username"]), LOGOUT_BUTTON.format(logout=DEFAULT_LOGOUT_PATH)
        text = PAGE.format(
            issuer=html.escape(self.oidc.issuer), user=html.escape(user), body=body,
            pid=os.getpid(),
        )  # fmt: skip
        return respond(start_response, "200 OK", text.encode(), "text/html; charset=utf-8")

    def login(self, start_response: StartResponse) -> Iterable[bytes]:
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        location = self.provider.authorization_url(self.base_url + "/callback", state, nonce)
        pending = dump_cookie(
            LOGIN_COOKIE, f"{state}.{nonce}", max_age=600, httponly=True, samesite="Lax"
        )
        return respond(
            start_response, "303 See Other", b"",
            extra=[("Location", location), ("Set-Cookie", pending)],
        )  # fmt: skip

    def callback(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        state, _, nonce = (parse_cookie(environ).get(LOGIN_COOKIE) or "").partition(".")
        if not state or not hmac.compare_digest(query.get("state", ""), state):
            return respond(start_response, "400 Bad Request", b"not the login under way\n")
        if "code" not in query:
            return respond(start_response, "400 Bad Request", b"the provider sent no code\n")
        try:
            id_token = self.provider.redeem(query["code"], self.base_url + "/callback")
            claims = self.provider.validated_claims(id_token, nonce)
        except jwt.InvalidTokenError:
            return respond(start_response, "400 Bad Request", b"the ID token is not valid\n")
        except (OSError, ValueError, KeyError, jwt.PyJWKClientError):
            # The provider is down, refused the code, or answered nonsense.
            logger.exception("login: the provider's answer is unusable")
            return respond(start_response, "502 Bad Gateway", b"the provider failed\n")
        username = str(claims.get("preferred_username") or claims["sub"])
        session_id = self.sessions.create({"username": username, "sub": claims["sub"]})
        # The one line OIDC logout needs: the provider's user and session (and the ID
        # token, for the id_token_hint of the logout) become the session's labels.
        # Linked before the cookie is sent: if this raises, no browser holds the session.
        labels = self.oidc.session_labels(claims, id_token=id_token)
        self.index.add(session_id, SESSION_TTL, user=username, **labels)
        logger.info("login: session=%s", fingerprint(session_id))
        return respond(
            start_response, "303 See Other", b"",
            extra=[
                ("Location", "/"),
                ("Set-Cookie", dump_cookie(
                    SESSION_COOKIE, session_id, max_age=SESSION_TTL, httponly=True,
                    samesite="Lax",
                )),
                ("Set-Cookie", dump_cookie(LOGIN_COOKIE, "", max_age=0, httponly=True)),
            ],
        )  # fmt: skip


def respond(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str = "text/plain; charset=utf-8",
    extra: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Cache-Control", "no-store"),
        *(extra or []),
    ]
    start_response(status, headers)
    return [body]


def make_app(
    issuer: str,
    client_id: str = "app",
    *,
    base_url: str = "http://127.0.0.1:8000",
    client_secret: str | None = None,
    store: SessionStore,
    index: SessionIndex,
    replay_cache: RevocationStore,
) -> LogoutMiddleware:
    """Build the example: the app, wrapped by the middleware (the lines a user adds).

    ``store`` holds the sessions, ``index`` links each to its user and its provider
    session, ``replay_cache`` keeps the ``jti`` of the logout tokens received: all three
    shared by every worker and host.
    """
    oidc = OIDCLogout(
        issuer,
        client_id,
        post_logout_redirect_uri=base_url.rstrip("/") + "/",
        replay_cache=replay_cache,
    )
    app = OIDCExampleApp(store, index, oidc, base_url=base_url, client_secret=client_secret)
    # --- what a user adds: wrap the app, with the index and the OIDC logout ---
    return LogoutMiddleware(app, store, cookie_name=SESSION_COOKIE, index=index, oidc=oidc)


def app_from_environment() -> LogoutMiddleware:
    """Build the example from the ``OIDC_EXAMPLE_*`` environment variables."""
    default = f"sqlite:///{DEFAULT_DB.resolve()}"
    store = os.environ.get("OIDC_EXAMPLE_STORE") or default
    return make_app(
        os.environ["OIDC_EXAMPLE_ISSUER"],
        os.environ.get("OIDC_EXAMPLE_CLIENT_ID") or "app",
        base_url=os.environ.get("OIDC_EXAMPLE_BASE_URL") or "http://127.0.0.1:8000",
        client_secret=os.environ.get("OIDC_EXAMPLE_CLIENT_SECRET") or None,
        store=backend_from_url(store),
        index=index_from_url(store),
        replay_cache=revocation_store_from_url(os.environ.get("OIDC_EXAMPLE_REPLAY") or default),
    )


def __getattr__(name: str) -> Any:
    # ``oidc_app:app`` (gunicorn) builds the app on first use, so importing this module
    # for make_app() needs no environment.
    if name == "app":
        globals()["app"] = built = app_from_environment()
        return built
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
