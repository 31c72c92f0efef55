"""A real OpenID Provider on loopback, for the OIDC logout tests.

:class:`OpenIDProvider` serves over real HTTP, on 127.0.0.1 and a free port, from a
threaded ``http.server``:

* ``/.well-known/openid-configuration`` under the issuer (any trailing ``/`` of the
  issuer dropped, as Discovery 1.0 says): the discovery document (``issuer``,
  ``jwks_uri``, ``end_session_endpoint``; ``discovery_overrides`` changes members);
* ``/jwks`` (or ``jwks_path``): the public half of its signing keys, real RSA, EC
  (P-256, P-384, P-521) and Ed25519 keys made by ``cryptography``;
  :meth:`~OpenIDProvider.add_key` and :meth:`~OpenIDProvider.remove_key` rotate them;
* ``/end-session`` (or ``end_session_path``): a page that records the query of every
  visit in ``end_sessions``;
* ``/authorize`` and ``/token``: a minimal authorization-code flow. The authorization
  endpoint signs in one fixed test user (``login_sub``) without asking and sends the
  browser back to the ``redirect_uri`` with a one-time ``code`` and the ``state``; the
  token endpoint exchanges the code (same ``redirect_uri``, the client's secret when
  ``client_secret`` is set) for an ID token signed with the provider's key: ``sub``, a
  new ``sid`` per login, the request's ``nonce``. Every ID token it issues is kept in
  ``issued``.

It counts every request by endpoint (``requests["jwks"]``...), can answer an endpoint
with any status and body (``responses``), be taken down (:meth:`down`: the port refuses
connections) and frozen (:meth:`frozen`: it accepts connections and never answers).
:meth:`~OpenIDProvider.logout_token` and :meth:`~OpenIDProvider.id_token` mint tokens
signed by PyJWT's own algorithm classes, with claims and headers that can be
overridden or dropped to break any rule; :func:`compact` assembles any token at all.

The ``oidc_provider`` fixture (import ``oidc_provider_fixture``) starts one per test
and stops it.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import get_default_algorithms

__all__ = [
    "ACCEPTED",
    "BREACHES",
    "EVENT",
    "FAMILY",
    "SIGNED_OUT",
    "Breach",
    "Grant",
    "OpenIDProvider",
    "Reply",
    "SigningKey",
    "b64",
    "compact",
    "new_key",
    "oidc_provider_fixture",
]

EVENT = "http://schemas.openid.net/event/backchannel-logout"

#: The kind of key each algorithm is signed with.
FAMILY = {
    **{alg: "RSA" for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")},
    "ES256": "P-256",
    "ES384": "P-384",
    "ES512": "P-521",
    "EdDSA": "Ed25519",
}

_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
# Private keys are slow to make (RSA above all): every provider of the run draws from
# one pool, the n-th key of a family being the same object for all of them.
_POOL: dict[str, list[Any]] = {}
_POOL_LOCK = threading.Lock()


def new_key(family: str) -> Any:
    """A new private key of ``family`` (``"RSA"``, ``"P-256"``, ``"P-384"``...)."""
    if family == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if family == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(_CURVES[family])


def pooled_key(family: str, n: int) -> Any:
    """The ``n``-th private key of ``family`` (``"RSA"``, ``"P-256"``...), made once."""
    with _POOL_LOCK:
        keys = _POOL.setdefault(family, [])
        while len(keys) <= n:
            keys.append(new_key(family))
        return keys[n]


def b64(data: bytes) -> str:
    """base64url without padding, as JOSE writes it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def compact(header: Mapping[str, Any], payload: Any, sign: Callable[[bytes], bytes]) -> str:
    """A JWS in compact form: ``header`` and ``payload`` as JSON (``payload`` may be
    ``bytes`` already), signed by ``sign(signing_input)``."""
    body = payload if isinstance(payload, bytes) else _json(payload)
    signing_input = f"{b64(_json(dict(header)))}.{b64(body)}".encode("ascii")
    return f"{signing_input.decode()}.{b64(sign(signing_input))}"


@dataclass
class SigningKey:
    """One of the provider's keys: its ``kid``, the algorithm it signs with, the
    private key, and how it is published."""

    kid: str
    alg: str
    private_key: Any
    #: Whether the JWKS entry carries ``"alg"`` (most providers do; Entra ID does not).
    declare_alg: bool = True
    #: Extra members of the JWKS entry (``{"use": "enc"}``...); ``None`` removes one
    #: (``{"key_ops": None}``: PyJWT writes it, most providers do not).
    extra: Mapping[str, Any] | None = None

    def sign(self, signing_input: bytes, alg: str | None = None) -> bytes:
        algorithm = get_default_algorithms()[alg or self.alg]
        return algorithm.sign(signing_input, self.private_key)

    def jwk(self) -> dict[str, Any]:
        algorithm = get_default_algorithms()[self.alg]
        entry: dict[str, Any] = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        entry.update({"kid": self.kid, "use": "sig"})
        if self.declare_alg:
            entry["alg"] = self.alg
        for name, value in (self.extra or {}).items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        return entry


class Reply(NamedTuple):
    """An answer of the provider: status, content type, body and more headers."""

    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Grant:
    """What an authorization code stands for, until the token endpoint redeems it."""

    redirect_uri: str
    nonce: str | None
    sid: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    provider: OpenIDProvider

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that gave up on a frozen provider: nothing to report


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._serve(lambda provider: provider.answer(self.path))

    def do_POST(self) -> None:
        length = min(int(self.headers.get("Content-Length") or 0), 65536)
        form = self.rfile.read(length).decode("utf-8", "replace")
        authorization = self.headers.get("Authorization")
        self._serve(lambda provider: provider.answer_post(self.path, form, authorization))

    def _serve(self, answer: Callable[[OpenIDProvider], Reply]) -> None:
        provider = self.server.provider
        if not provider.thawed.is_set():
            with provider._lock:
                provider.requests["held"] += 1
        provider.thawed.wait()  # frozen: the connection is accepted and never answered
        if provider.stopping:
            self.close_connection = True
            return
        reply = answer(provider)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


SIGNED_OUT = b"<!doctype html><title>Signed out</title><h1 id=signed-out>Signed out</h1>"


class OpenIDProvider:
    """A running OpenID Provider on ``http://127.0.0.1:<port>``.

    :param algorithms: one signing key is made for each, in order; the first signs
        by default.
    :param issuer_path: appended to the base URL to make the issuer
        (``"/realms/test"``).
    :param client_id: the audience of the tokens it mints.
    :param client_secret: the secret the token endpoint asks of the client
        (``client_secret_post`` or ``client_secret_basic``); ``None``: a public client.
    :param redirect_uris: the redirect URIs registered for the client; empty: any
        loopback ``http`` URI.
    :param jwks_path: where the key set is served (a real provider's own path, such
        as Keycloak's ``/realms/test/protocol/openid-connect/certs``).
    :param end_session_path: where the end-session page is served.
    """

    def __init__(
        self,
        algorithms: tuple[str, ...] = ("RS256",),
        *,
        issuer_path: str = "",
        client_id: str = "app",
        client_secret: str | None = None,
        redirect_uris: tuple[str, ...] = (),
        jwks_path: str = "/jwks",
        end_session_path: str = "/end-session",
    ) -> None:
        self.client_id = client_id
        self.jwks_path = jwks_path
        self.end_session_path = end_session_path
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris
        #: The user the authorization endpoint signs in, without asking.
        self.login_sub = "user-1"
        #: Authorization codes not redeemed yet.
        self.grants: dict[str, Grant] = {}
        #: Every ID token the token endpoint issued, in order.
        self.issued: list[str] = []
        self.issuer_path = issuer_path
        self.keys: dict[str, SigningKey] = {}
        #: Keys no longer published.
        self.retired: dict[str, SigningKey] = {}
        #: The kid that signs by default.
        self.signing_kid = ""
        self._drawn: Counter[str] = Counter()
        #: Requests answered, by endpoint (discovery, jwks, end_session, other), and
        #: "held": requests received while frozen.
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()
        #: The query of every visit to the end-session page, parsed.
        self.end_sessions: list[dict[str, list[str]]] = []
        #: Members replacing (or, with ``None``, removing) those of the discovery document.
        self.discovery_overrides: dict[str, Any] = {}
        #: ``endpoint -> (status, body)`` answered instead of the real thing.
        self.responses: dict[str, tuple[int, bytes]] = {}
        #: Seconds an endpoint ("discovery", "jwks"...) waits before it answers.
        self.delays: dict[str, float] = {}
        self.thawed = threading.Event()
        self.thawed.set()
        self.stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        for alg in algorithms:
            self.add_key(alg)

    # --- running ----------------------------------------------------------------

    def start(self) -> OpenIDProvider:
        """Listen (on a free port the first time, the same port afterwards) and serve."""
        server = _Server(("127.0.0.1", self.port), _Handler)
        server.provider = self
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port; held requests are let go unanswered."""
        self.stopping = True
        self.thawed.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join(10)
        self._server = None
        self.stopping = False

    def __enter__(self) -> OpenIDProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @contextlib.contextmanager
    def down(self) -> Iterator[None]:
        """The provider is down inside the block: connections to its port are refused."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        """Inside the block, connections are accepted and requests never answered."""
        self.thawed.clear()
        try:
            yield
        finally:
            self.thawed.set()

    # --- what it serves -----------------------------------------------------------

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return self.base + self.issuer_path

    @property
    def jwks_url(self) -> str:
        return self.base + self.jwks_path

    @property
    def end_session_endpoint(self) -> str:
        return self.base + self.end_session_path

    @property
    def authorization_endpoint(self) -> str:
        return self.base + "/authorize"

    @property
    def token_endpoint(self) -> str:
        return self.base + "/token"

    def discovery(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "end_session_endpoint": self.end_session_endpoint,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "backchannel_logout_supported": True,
            "backchannel_logout_session_supported": True,
            "id_token_signing_alg_values_supported": sorted({k.alg for k in self.keys.values()}),
        }
        for name, value in self.discovery_overrides.items():
            if value is None:
                document.pop(name, None)
            else:
                document[name] = value
        return document

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.jwk() for key in list(self.keys.values())]}

    def _endpoint(self, path: str) -> str:
        return {
            self.issuer_path.rstrip("/") + "/.well-known/openid-configuration": "discovery",
            self.jwks_path: "jwks",
            self.end_session_path: "end_session",
            "/authorize": "authorize",
            "/token": "token",
        }.get(path, "other")

    def answer(self, target: str) -> Reply:
        """The answer to a GET of ``target``."""
        parts = urlsplit(target)
        endpoint = self._endpoint(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        with self._lock:
            self.requests[endpoint] += 1
            if endpoint == "end_session":
                self.end_sessions.append(query)
        time.sleep(self.delays.get(endpoint, 0.0))
        if endpoint in self.responses:
            status, body = self.responses[endpoint]
            return Reply(status, "application/json", body)
        if endpoint == "discovery":
            return Reply(200, "application/json", _json(self.discovery()))
        if endpoint == "jwks":
            return Reply(200, "application/jwk-set+json", _json(self.jwks()))
        if endpoint == "end_session":
            return Reply(200, "text/html; charset=utf-8", SIGNED_OUT)
        if endpoint == "authorize":
            return self.authorize(query)
        return Reply(404, "text/plain", b"not found")

    def answer_post(self, target: str, form: str, authorization: str | None) -> Reply:
        """The answer to a POST of the urlencoded ``form`` to ``target``."""
        endpoint = self._endpoint(urlsplit(target).path)
        with self._lock:
            self.requests[endpoint] += 1
        if endpoint != "token":
            return Reply(405, "text/plain", b"method not allowed")
        return self.token(parse_qs(form, keep_blank_values=True), authorization)

    # --- the authorization-code flow -------------------------------------------------

    def _redirect_uri_allowed(self, uri: str) -> bool:
        if self.redirect_uris:
            return uri in self.redirect_uris
        parts = urlsplit(uri)
        host = parts.hostname or ""
        return parts.scheme == "http" and (
            host in ("127.0.0.1", "localhost") or host.endswith(".test")
        )

    def authorize(self, query: Mapping[str, list[str]]) -> Reply:
        """Sign in :attr:`login_sub` at once and send the browser back with a code."""
        one = {name: values[0] for name, values in query.items() if len(values) == 1}
        redirect_uri = one.get("redirect_uri", "")
        if (
            one.get("client_id") != self.client_id
            or not self._redirect_uri_allowed(redirect_uri)
            or one.get("response_type") != "code"
            or "openid" not in one.get("scope", "").split()
        ):
            # Never redirect to an unchecked URI: the error is shown here.
            return Reply(400, "text/plain", b"invalid authorization request")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self.grants[code] = Grant(redirect_uri, one.get("nonce"), "op-" + secrets.token_hex(8))
        answer = {"code": code}
        if "state" in one:
            answer["state"] = one["state"]
        separator = "&" if "?" in redirect_uri else "?"
        location = redirect_uri + separator + urlencode(answer)
        return Reply(302, "text/plain", b"", (("Location", location),))

    def _client_authenticated(self, one: Mapping[str, str], authorization: str | None) -> bool:
        if authorization is not None and authorization.startswith("Basic "):
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode()
            except ValueError:
                return False
            client, _, secret = decoded.partition(":")
            return unquote(client) == self.client_id and (
                self.client_secret is None or unquote(secret) == self.client_secret
            )
        if one.get("client_id") != self.client_id:
            return False
        return self.client_secret is None or one.get("client_secret") == self.client_secret

    def token(self, form: Mapping[str, list[str]], authorization: str | None) -> Reply:
        """Redeem a code once for an ID token of :attr:`login_sub`."""
        one = {name: values[0] for name, values in form.items() if len(values) == 1}
        if not self._client_authenticated(one, authorization):
            return Reply(401, "application/json", _json({"error": "invalid_client"}))
        with self._lock:
            grant = self.grants.pop(one.get("code", ""), None)
        if (
            one.get("grant_type") != "authorization_code"
            or grant is None
            or one.get("redirect_uri") != grant.redirect_uri
        ):
            return Reply(400, "application/json", _json({"error": "invalid_grant"}))
        id_token, _ = self.id_token(
            sub=self.login_sub,
            sid=grant.sid,
            claims={"nonce": grant.nonce} if grant.nonce is not None else None,
            drop=() if grant.nonce is not None else ("nonce",),
        )
        with self._lock:
            self.issued.append(id_token)
        body = {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
        }
        return Reply(200, "application/json", _json(body))

    # --- keys ----------------------------------------------------------------------

    def add_key(
        self,
        alg: str = "RS256",
        *,
        kid: str | None = None,
        declare_alg: bool = True,
        extra: Mapping[str, Any] | None = None,
        sign: bool = True,
    ) -> str:
        """Make (draw) a new key for ``alg`` and publish it; with ``sign``, it signs by
        default from now on. Returns its ``kid``."""
        family = FAMILY[alg]
        private_key = pooled_key(family, self._drawn[family])
        self._drawn[family] += 1
        kid = kid or f"{alg.lower()}-{secrets.token_hex(4)}"
        self.keys[kid] = SigningKey(kid, alg, private_key, declare_alg, extra)
        if sign or not self.signing_kid:
            self.signing_kid = kid
        return kid

    def remove_key(self, kid: str) -> None:
        """Stop publishing ``kid`` (it still signs when asked to)."""
        self.retired[kid] = self.keys.pop(kid)

    # --- tokens --------------------------------------------------------------------

    def sign(
        self,
        payload: Any,
        *,
        kid: str | None = None,
        alg: str | None = None,
        headers: Mapping[str, Any] | None = None,
        key: SigningKey | None = None,
    ) -> str:
        """``payload`` signed by the key ``kid`` (the signing key by default) with
        ``alg`` (the key's by default), header ``{"alg", "typ": "logout+jwt", "kid"}``
        updated with ``headers`` (a ``None`` value removes the member)."""
        wanted = kid or self.signing_kid
        signer = key or self.keys.get(wanted) or self.retired[wanted]
        used = alg or signer.alg
        header: dict[str, Any] = {"alg": used, "typ": "logout+jwt", "kid": signer.kid}
        for name, value in (headers or {}).items():
            if value is None:
                header.pop(name, None)
            else:
                header[name] = value
        return compact(header, payload, lambda data: signer.sign(data, used))

    def logout_claims(
        self,
        *,
        sid: str | None = "op-session-1",
        sub: str | None = "user-1",
        claims: Mapping[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> dict[str, Any]:
        """The claims of a valid logout token, updated with ``claims``, minus ``drop``."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 120,
            "jti": secrets.token_urlsafe(16),
            "events": {EVENT: {}},
        }
        if sid is not None:
            payload["sid"] = sid
        if sub is not None:
            payload["sub"] = sub
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
        return payload

    def logout_token(
        self,
        *,
        sid: str | None = "op-session-1",
        sub: str | None = "user-1",
        claims: Mapping[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        **signing: Any,
    ) -> str:
        """A signed logout token; see :meth:`logout_claims` and :meth:`sign`."""
        payload = self.logout_claims(sid=sid, sub=sub, claims=claims, drop=drop)
        return self.sign(payload, **signing)

    def id_token(
        self,
        *,
        sub: str = "user-1",
        sid: str | None = "op-session-1",
        claims: Mapping[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        **signing: Any,
    ) -> tuple[str, dict[str, Any]]:
        """A signed ID token and its claims (updated with ``claims``, minus ``drop``)."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": secrets.token_urlsafe(8),
        }
        if sid is not None:
            payload["sid"] = sid
        payload.update(claims or {})
        for name in drop:
            payload.pop(name, None)
        headers = {"typ": "JWT", **signing.pop("headers", {})}
        return self.sign(payload, headers=headers, **signing), payload


# --- tokens that break one rule each -------------------------------------------------

Change = Callable[[dict[str, Any]], None]


def _set(**claims: Any) -> Change:
    return lambda payload: payload.update(claims)


def _drop(*names: str) -> Change:
    def change(payload: dict[str, Any]) -> None:
        for name in names:
            payload.pop(name, None)

    return change


def _shift(name: str, seconds: int, *, drop: tuple[str, ...] = ()) -> Change:
    """``name`` moved by ``seconds`` from the token's ``iat`` (minted now)."""

    def change(payload: dict[str, Any]) -> None:
        payload[name] = payload["iat"] + seconds
        for other in drop:
            payload.pop(other, None)

    return change


def _both(*changes: Change) -> Change:
    def change(payload: dict[str, Any]) -> None:
        for one in changes:
            one(payload)

    return change


@dataclass(frozen=True)
class Breach:
    """A change of a valid logout token's claims that breaks one rule, and the words
    of the refusal (the validator's clock skew is 60 s, its max token age 600 s)."""

    id: str
    change: Change
    message: str


BREACHES = [
    Breach("iss-missing", _drop("iss"), "iss claim is missing"),
    Breach("iss-null", _set(iss=None), "iss claim is missing"),
    Breach("iss-other", _set(iss="https://evil.example"), "not the configured issuer"),
    Breach("iss-number", _set(iss=5), "not the configured issuer"),
    Breach("iss-list", _set(iss=["x"]), "not the configured issuer"),
    Breach("aud-missing", _drop("aud"), "aud claim is missing"),
    Breach("aud-other", _set(aud="other-app"), "does not hold this client"),
    Breach("aud-list-without", _set(aud=["other", "third"]), "does not hold this client"),
    Breach("aud-empty-list", _set(aud=[]), "does not hold this client"),
    Breach("aud-prefix", _set(aud="ap"), "does not hold this client"),
    Breach("aud-case", _set(aud="APP"), "does not hold this client"),
    Breach("aud-number", _set(aud=5), "a string or a list of strings"),
    Breach("aud-object", _set(aud={"app": 1}), "a string or a list of strings"),
    Breach("aud-list-number", _set(aud=["app", 5]), "a string or a list of strings"),
    Breach("iat-missing", _drop("iat"), "iat claim is missing"),
    Breach("iat-null", _set(iat=None), "iat claim must be a number"),
    Breach("iat-string", _set(iat="1700000000"), "iat claim must be a number"),
    Breach("iat-bool", _set(iat=True), "iat claim must be a number"),
    Breach("iat-future", _shift("iat", 3600), "iat claim is in the future"),
    Breach("iat-future-beyond-skew", _shift("iat", 90), "iat claim is in the future"),
    Breach("iat-too-old", _shift("iat", -700), "issued too long ago"),
    Breach("iat-too-old-no-exp", _shift("iat", -700, drop=("exp",)), "issued too long ago"),
    Breach("exp-expired", _shift("exp", -3000), "has expired"),
    Breach("exp-beyond-skew", _shift("exp", -90), "has expired"),
    Breach("exp-string", _set(exp="soon"), "exp claim must be a number"),
    Breach("exp-null", _set(exp=None), "exp claim must be a number"),
    Breach("nbf-future", _shift("nbf", 3600), "not valid yet"),
    Breach("nbf-string", _set(nbf="x"), "nbf claim must be a number"),
    Breach("jti-missing", _drop("jti"), "jti claim is missing"),
    Breach("jti-empty", _set(jti=""), "jti claim must be a non-empty string"),
    Breach("jti-number", _set(jti=12345), "jti claim must be a non-empty string"),
    Breach("events-missing", _drop("events"), "events claim is missing or not a JSON object"),
    Breach("events-list", _set(events=[EVENT]), "events claim is missing or not a JSON object"),
    Breach("events-string", _set(events=EVENT), "events claim is missing or not a JSON object"),
    Breach("events-empty", _set(events={}), "events claim does not hold"),
    Breach("events-other", _set(events={EVENT + "x": {}}), "events claim does not hold"),
    Breach("events-http-s", _set(events={EVENT.replace("http:", "https:"): {}}), "does not hold"),
    Breach("event-string", _set(events={EVENT: "logout"}), "must be a JSON object"),
    Breach("event-list", _set(events={EVENT: []}), "must be a JSON object"),
    Breach("event-null", _set(events={EVENT: None}), "must be a JSON object"),
    Breach("event-true", _set(events={EVENT: True}), "must be a JSON object"),
    Breach("no-sid-no-sub", _drop("sid", "sub"), "neither a sid nor a sub"),
    Breach("sid-empty-no-sub", _both(_drop("sub"), _set(sid="")), "sid claim must be"),
    Breach("sid-number", _set(sid=7), "sid claim must be a non-empty string"),
    Breach("sub-number-no-sid", _both(_drop("sid"), _set(sub=7)), "sub claim must be"),
    Breach("sub-null", _set(sub=None), "sub claim must be a non-empty string"),
    Breach("nonce", _set(nonce="n-0S6_WzA2Mj"), "must not hold a nonce"),
    Breach("nonce-null", _set(nonce=None), "must not hold a nonce"),
    Breach("nonce-empty", _set(nonce=""), "must not hold a nonce"),
]

#: Changes that keep a logout token valid.
ACCEPTED: dict[str, Change] = {
    "as-minted": _set(),
    "aud-list-with-client": _set(aud=["other", "app"]),
    "aud-list-alone": _set(aud=["app"]),
    "exp-absent": _drop("exp"),
    "exp-within-skew": _shift("exp", -30),
    "iat-within-skew": _shift("iat", 30),
    "iat-old-within-max-age": _shift("iat", -500),
    "nbf-past": _shift("nbf", -10),
    "sid-only": _drop("sub"),
    "sub-only": _drop("sid"),
    "event-with-members": _set(events={EVENT: {"reason": "admin"}}),
    "other-events-too": _set(events={EVENT: {}, "urn:other": {"a": 1}}),
    "unknown-claims": _set(azp="app", acr="1", custom={"x": [1, 2]}),
    "float-times": lambda p: p.update(iat=p["iat"] + 0.5, exp=p["exp"] + 0.25),
}


@pytest.fixture(name="oidc_provider")
def oidc_provider_fixture() -> Iterator[OpenIDProvider]:
    """``oidc_provider``: a running :class:`OpenIDProvider` with one RS256 key, stopped
    after the test. A test module imports ``oidc_provider_fixture`` to use it."""
    with OpenIDProvider() as provider:
        yield provider
