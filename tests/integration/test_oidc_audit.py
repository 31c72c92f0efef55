"""Audit of the OIDC logout against Back-Channel Logout 1.0, RP-Initiated Logout 1.0 and
docs/oidc.rst: generated claim, header, transport, provider and end-session variants,
against the real loopback OpenID Provider (real keys, real HTTP). Defects found are
``xfail(strict=True)`` with the input, the behaviour and the rule they break."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from oidc_provider import (
    EVENT,
    OpenIDProvider,
    Reply,
    b64,
    oidc_provider_fixture,  # noqa: F401 - the oidc_provider fixture
)
from webtest import TestApp

from logout_middleware import (
    LogoutMiddleware,
    MemoryBackend,
    MemorySessionIndex,
    SQLiteSessionIndex,
)
from logout_middleware.asgi import LogoutMiddleware as ASGILogoutMiddleware
from logout_middleware.oidc import InvalidLogoutToken, OIDCLogout, ProviderError

BACKCHANNEL = "/oidc/backchannel-logout"
FORM = "application/x-www-form-urlencoded"
MARGIN = 0.5


def logout_for(provider: OpenIDProvider, **settings: Any) -> OIDCLogout:
    settings.setdefault("timeout", 2)
    return OIDCLogout(provider.issuer, provider.client_id, **settings)


def refused(oidc: OIDCLogout, token: str, message: str | None = None) -> None:
    with pytest.raises(InvalidLogoutToken, match=message):
        oidc.validate_logout_token(token)


def raw_token(provider: OpenIDProvider, header: bytes, payload: bytes) -> str:
    """A token whose header and payload are these exact bytes, signed by the provider."""
    signer = provider.keys[provider.signing_kid]
    signing_input = f"{b64(header)}.{b64(payload)}".encode("ascii")
    return f"{signing_input.decode()}.{b64(signer.sign(signing_input))}"


def pyjwt_reading(provider: OpenIDProvider, token: str) -> dict[str, Any] | None:
    """The claims PyJWT's own ``jwt.decode`` accepts, or ``None`` when it refuses."""
    key = provider.keys[provider.signing_kid].private_key.public_key()
    try:
        return jwt.decode(
            token, key, algorithms=["RS256"], audience=provider.client_id,
            issuer=provider.issuer, leeway=60,
        )  # fmt: skip
    except jwt.PyJWTError:
        return None


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


class World:
    """The WSGI middleware with OIDC on a memory store, labelled as the docs label."""

    def __init__(self, provider: OpenIDProvider, index: Any = None, **options: Any) -> None:
        self.provider = provider
        self.backend = MemoryBackend()
        self.index = index if index is not None else MemorySessionIndex()
        self.oidc = logout_for(provider, post_logout_redirect_uri="http://127.0.0.1/after")
        self.app = TestApp(
            LogoutMiddleware(hello, self.backend, index=self.index, oidc=self.oidc, **options)
        )

    def login(self, *, sub: str = "user-1", sid: str | None = "op-session-1") -> str:
        id_token, claims = self.provider.id_token(sub=sub, sid=sid)
        session_id = self.backend.create({"sub": sub})
        self.index.add(
            session_id, 3600, user=sub, **self.oidc.session_labels(claims, id_token=id_token)
        )
        return session_id

    def post(self, body: str, *, status: int = 200, content_type: str = FORM, **kw: Any) -> Any:
        return self.app.post(BACKCHANNEL, body, content_type=content_type, status=status, **kw)


@pytest.fixture
def world(oidc_provider: OpenIDProvider) -> World:
    return World(oidc_provider)


# -- claims: variants beyond BREACHES / ACCEPTED --------------------------------------

ACCEPTED_MORE = {
    "aud-list-client-among-many": {"aud": ["a", "b", "app", "c"]},
    "aud-list-client-twice": {"aud": ["app", "app"]},
    "events-extra-members-deep": {"events": {EVENT: {"a": {"b": [1, None]}}, "x": [1], "y": None}},
    "unicode-sid-sub": {"sid": "séance-会话-🙂", "sub": "ü-用户"},
    "exp-far-future-iat-now": {"exp": int(time.time()) + 10 * 365 * 86400},
    "cty-json-object-payload": {},  # see the header below
    "azp-other-client": {"azp": "another-client"},  # 2.6 step 3 names iss, aud, iat, exp
}


@pytest.mark.parametrize("claims", ACCEPTED_MORE.values(), ids=list(ACCEPTED_MORE))
def test_more_valid_claim_variants_are_accepted(
    oidc_provider: OpenIDProvider, claims: dict[str, Any]
) -> None:
    token = oidc_provider.logout_token(claims=claims, headers={"cty": "json"})
    found = logout_for(oidc_provider).validate_logout_token(token)
    assert found.sid == claims.get("sid", "op-session-1")


REFUSED_MORE = {
    "aud-list-without-client": ({"aud": ["x", "appx", "APP"]}, "does not hold"),
    "aud-nested-list": ({"aud": [["app"]]}, "string or a list"),
    "aud-null": ({"aud": None}, "aud claim is missing"),
    "iss-trailing-slash": ({"iss": "__ISS__/"}, "not the configured issuer"),
    "iat-far-past": ({"iat": 1}, "too long ago"),
    "iat-far-future": ({"iat": 4102444800}, "in the future"),
    "iat-list": ({"iat": [1]}, "must be a number"),
    "exp-bool": ({"exp": False}, "exp claim must be a number"),
    "events-null": ({"events": None}, "not a JSON object"),
    "events-list-of-objects": ({"events": [{EVENT: {}}]}, "not a JSON object"),
    "event-member-number": ({"events": {EVENT: 0}}, "must be a JSON object"),
    "sid-empty-with-sub": ({"sid": ""}, "sid claim must be a non-empty string"),
    "sub-empty-with-sid": ({"sub": ""}, "sub claim must be a non-empty string"),
    "jti-float": ({"jti": 1.5}, "jti claim must be"),
    "jti-list": ({"jti": ["a"]}, "jti claim must be"),
    "nonce-object": ({"nonce": {}}, "must not hold a nonce"),
}


@pytest.mark.parametrize(("claims", "message"), REFUSED_MORE.values(), ids=list(REFUSED_MORE))
def test_more_invalid_claim_variants_are_refused(
    oidc_provider: OpenIDProvider, claims: dict[str, Any], message: str
) -> None:
    claims = {k: (oidc_provider.issuer + "/" if v == "__ISS__/" else v) for k, v in claims.items()}
    refused(logout_for(oidc_provider), oidc_provider.logout_token(claims=claims), message)


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
@pytest.mark.parametrize("name", ["iat", "exp", "nbf"])
def test_non_finite_times_in_raw_json_are_refused(
    oidc_provider: OpenIDProvider, name: str, literal: bytes
) -> None:
    claims = oidc_provider.logout_claims()
    claims[name] = "__T__"
    payload = json.dumps(claims).encode().replace(b'"__T__"', literal)
    header = json.dumps({"alg": "RS256", "kid": oidc_provider.signing_kid}).encode()
    refused(logout_for(oidc_provider), raw_token(oidc_provider, header, payload), f"{name} claim")


@pytest.mark.parametrize("name", ["iat", "exp", "nbf"])
def test_a_huge_integer_time_is_an_invalid_token_not_a_crash(world: World, name: str) -> None:
    session = world.login()
    token = world.provider.logout_token(claims={name: 10**400})
    response = world.post("logout_token=" + token, status="*")
    assert response.status_int == 400, response.body
    assert session in world.backend
    with pytest.raises(InvalidLogoutToken, match=name):
        logout_for(world.provider).validate_logout_token(token)


def test_sid_and_sub_both_end_the_sid_sessions_only(world: World) -> None:
    this_device, other_device = world.login(sid="op-a"), world.login(sid="op-b")
    response = world.post("logout_token=" + world.provider.logout_token(sid="op-a"))
    assert response.json == {"message": "OK", "ended": 1}
    assert this_device not in world.backend and other_device in world.backend


def test_a_sid_that_is_not_unicode_is_400_on_the_sqlite_index(
    oidc_provider: OpenIDProvider, tmp_path: Any
) -> None:
    world = World(oidc_provider, index=SQLiteSessionIndex(str(tmp_path / "index.sqlite3")))
    world.login()
    response = world.post("logout_token=" + oidc_provider.logout_token(sid="\ud800"), status="*")
    assert response.status_int in (200, 400), response.body


# -- duplicate JSON members: the same reading as PyJWT's ------------------------------


def _payload_with(provider: OpenIDProvider, first: Any, last: Any, name: str) -> bytes:
    claims = provider.logout_claims()
    claims.pop(name, None)
    body = json.dumps(claims)[:-1]
    return f'{body},"{name}":{json.dumps(first)},"{name}":{json.dumps(last)}}}'.encode()


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("iss", "https://evil.example", "__ISS__"),
        ("iss", "__ISS__", "https://evil.example"),
        ("aud", "other", "app"),
        ("aud", "app", "other"),
        ("sid", "victim-session", "op-session-1"),
        ("events", {EVENT: {}}, {}),
        ("nonce", "n", "n"),
    ],
)
def test_duplicate_payload_members_read_as_pyjwt_reads_them(
    oidc_provider: OpenIDProvider, name: str, first: Any, last: Any
) -> None:
    first, last = (oidc_provider.issuer if v == "__ISS__" else v for v in (first, last))
    header = json.dumps({"alg": "RS256", "typ": "logout+jwt", "kid": oidc_provider.signing_kid})
    token = raw_token(
        oidc_provider, header.encode(), _payload_with(oidc_provider, first, last, name)
    )
    theirs = pyjwt_reading(oidc_provider, token)
    try:
        ours: Any = dict(logout_for(oidc_provider).validate_logout_token(token).claims)
    except InvalidLogoutToken:
        ours = None
    if theirs is not None and ours is not None:
        assert ours == theirs
    elif name in ("iss", "aud"):  # both checks decide on the member's last value
        assert ours is None and theirs is None


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"HS256","alg":"RS256","kid":"__KID__"}',
        b'{"alg":"RS256","kid":"nope","kid":"__KID__"}',
        b'{"alg":"RS256","typ":"at+jwt","typ":"logout+jwt","kid":"__KID__"}',
    ],
)
def test_duplicate_header_members_take_the_last_as_pyjwt_does(
    oidc_provider: OpenIDProvider, header: bytes
) -> None:
    header = header.replace(b"__KID__", oidc_provider.signing_kid.encode())
    token = raw_token(oidc_provider, header, json.dumps(oidc_provider.logout_claims()).encode())
    assert pyjwt_reading(oidc_provider, token) is not None
    logout_for(oidc_provider).validate_logout_token(token)


@pytest.mark.parametrize(
    "header",
    [
        b'{"alg":"RS256","alg":"none","kid":"__KID__"}',
        b'{"alg":"RS256","alg":"HS256","kid":"__KID__"}',
        b'{"alg":"RS256","typ":"logout+jwt","typ":"at+jwt","kid":"__KID__"}',
    ],
)
def test_a_refused_last_header_member_is_refused(
    oidc_provider: OpenIDProvider, header: bytes
) -> None:
    header = header.replace(b"__KID__", oidc_provider.signing_kid.encode())
    token = raw_token(oidc_provider, header, json.dumps(oidc_provider.logout_claims()).encode())
    refused(logout_for(oidc_provider), token)


# -- headers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{"crit": []}, {"crit": ["exp"]}, {"crit": ["b64"], "b64": False}, {"crit": None}],
    ids=["empty", "exp", "b64", "null"],
)
def test_any_crit_header_is_refused(oidc_provider: OpenIDProvider, headers: dict[str, Any]) -> None:
    if headers["crit"] is None:
        headers = {"crit": "x"}
    refused(logout_for(oidc_provider), oidc_provider.logout_token(headers=headers), "crit")


@pytest.mark.parametrize("typ", ["logout+jwt; charset=utf-8", "logout+jwt ", "logout-jwt",
                                 "application/jwt+logout", "text/logout+jwt"])  # fmt: skip
def test_typ_with_parameters_or_other_media_types_is_refused(
    oidc_provider: OpenIDProvider, typ: str
) -> None:
    refused(logout_for(oidc_provider), oidc_provider.logout_token(headers={"typ": typ}), "typ")


def test_a_nested_jwt_payload_is_refused(oidc_provider: OpenIDProvider) -> None:
    inner = oidc_provider.logout_token()
    token = oidc_provider.sign(inner.encode(), headers={"cty": "JWT"})
    refused(logout_for(oidc_provider), token, "well-formed")


def test_key_urls_in_a_provider_signed_header_are_never_fetched(
    oidc_provider: OpenIDProvider,
) -> None:
    with OpenIDProvider() as elsewhere:
        offered = {"jku": elsewhere.jwks_url, "x5u": elsewhere.jwks_url + "/x5u",
                   "jwk": elsewhere.jwks()["keys"][0], "x5c": ["AAAA"]}  # fmt: skip
        token = oidc_provider.logout_token(headers=offered)
        assert logout_for(oidc_provider).validate_logout_token(token).sid == "op-session-1"
        time.sleep(0.05)
        assert sum(elsewhere.requests.values()) == 0


def test_a_token_near_max_token_is_accepted_and_one_over_refused(
    oidc_provider: OpenIDProvider,
) -> None:
    oidc = logout_for(oidc_provider)
    big = oidc_provider.logout_token(claims={"pad": "x" * 11000})
    assert 15000 < len(big) <= 16384
    oidc.validate_logout_token(big)
    refused(oidc, oidc_provider.logout_token(claims={"pad": "x" * 13000}), "too long")


# -- transport ------------------------------------------------------------------------


def test_the_200_answer_is_json_no_store(world: World) -> None:
    response = world.post("logout_token=" + world.provider.logout_token())
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=UTF-8",
        "Application/X-WWW-Form-URLEncoded",
        "application/x-www-form-urlencoded;charset=ISO-8859-1",
    ],
)
def test_form_content_type_parameters_and_case_are_accepted(
    world: World, content_type: str
) -> None:
    world.post("logout_token=" + world.provider.logout_token(), content_type=content_type)


def test_the_token_in_the_query_string_is_not_read(world: World) -> None:
    token = world.provider.logout_token()
    response = world.app.post(BACKCHANNEL + "?logout_token=" + token, "", content_type=FORM,
                              status=400)  # fmt: skip
    assert response.json["error"] == "invalid_request"
    world.app.post(BACKCHANNEL + "?logout_token=x", "logout_token=" + token, content_type=FORM)


def test_the_same_token_twice_in_the_form_is_400(world: World) -> None:
    token = world.provider.logout_token()
    response = world.post(f"logout_token={token}&logout_token={token}", status=400)
    assert set(response.json) == {"error", "error_description"}
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("name", ["logout%5Ftoken", "logout%5ftoken", "%6Cogout_token"])
def test_the_field_name_is_read_as_a_form_decoder_reads_it(world: World, name: str) -> None:
    token = world.provider.logout_token()
    world.post(f"{name}={token}")  # an escaped name is the same field
    other = world.provider.logout_token()
    world.post(f"logout_token={other}&{name}={other}", status=400)  # given twice


def test_other_form_fields_and_padding_around_the_token_are_fine(world: World) -> None:
    token = world.provider.logout_token()
    world.post(f"a=1&logout_token=%20{token}%0D%0A&b=&c")


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_other_methods_are_405_json_no_store(world: World, method: str) -> None:
    response = world.app.request(BACKCHANNEL, method=method, status=405)
    assert response.json["error"] == "invalid_request"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Allow"] == "POST"


def test_a_body_over_max_form_size_is_400_json(oidc_provider: OpenIDProvider) -> None:
    world = World(oidc_provider, max_form_size=200)
    response = world.post("logout_token=" + oidc_provider.logout_token(), status=400)
    assert response.json["error"] == "invalid_request"


async def _asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


def _asgi_post(app: Any, chunks: list[bytes], headers: list[tuple[bytes, bytes]]) -> int:
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": BACKCHANNEL, "raw_path": BACKCHANNEL.encode(),
        "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
    }  # fmt: skip
    asyncio.run(app(scope, receive, send))
    return sent[0]["status"]


def test_asgi_with_content_length_in_two_chunks_is_200(oidc_provider: OpenIDProvider) -> None:
    app = ASGILogoutMiddleware(
        _asgi_app, MemoryBackend(), index=MemorySessionIndex(), oidc=logout_for(oidc_provider)
    )
    body = ("logout_token=" + oidc_provider.logout_token()).encode()
    headers = [(b"content-type", FORM.encode()), (b"content-length", str(len(body)).encode())]
    assert _asgi_post(app, [body[:40], body[40:]], headers) == 200


def test_asgi_chunked_body_without_content_length_is_read(oidc_provider: OpenIDProvider) -> None:
    app = ASGILogoutMiddleware(
        _asgi_app, MemoryBackend(), index=MemorySessionIndex(), oidc=logout_for(oidc_provider)
    )
    body = ("logout_token=" + oidc_provider.logout_token()).encode()
    headers = [(b"content-type", FORM.encode()), (b"transfer-encoding", b"chunked")]
    assert _asgi_post(app, [body[:40], body[40:]], headers) == 200


# -- the provider misbehaving ---------------------------------------------------------


def test_a_jwks_redirect_is_not_followed_to_another_host(oidc_provider: OpenIDProvider) -> None:
    with OpenIDProvider() as elsewhere:
        served = oidc_provider.answer

        def answer(target: str) -> Reply:
            if urlsplit(target).path == oidc_provider.jwks_path:
                return Reply(302, "text/plain", b"", (("Location", elsewhere.jwks_url),))
            return served(target)

        oidc_provider.answer = answer  # type: ignore[method-assign]
        with pytest.raises(ProviderError, match="redirects are not followed"):
            logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token())
        assert elsewhere.requests["jwks"] == 0


def test_a_jwks_over_one_mebibyte_is_refused(oidc_provider: OpenIDProvider) -> None:
    keys = oidc_provider.jwks()["keys"]
    keys += [{"kty": "oct", "k": "A" * 1000, "kid": str(i)} for i in range(1100)]
    oidc_provider.responses["jwks"] = (200, json.dumps({"keys": keys}).encode())
    with pytest.raises(ProviderError, match="over 1048576 bytes"):
        logout_for(oidc_provider).validate_logout_token(oidc_provider.logout_token())


def test_a_jwks_with_a_duplicate_kid_refuses_cleanly(oidc_provider: OpenIDProvider) -> None:
    first = oidc_provider.signing_kid
    second = oidc_provider.add_key("RS256", kid=first + "-2")
    oidc_provider.keys[second].kid = first  # the same kid published twice
    token = oidc_provider.logout_token(kid=second)
    oidc = logout_for(oidc_provider)
    refused(oidc, token, "signature does not verify")
    assert oidc.validate_logout_token(oidc_provider.logout_token(kid=first)).sid


def test_keys_marked_for_encryption_never_verify(oidc_provider: OpenIDProvider) -> None:
    enc = oidc_provider.add_key("RS256", extra={"use": "enc"}, sign=False)
    oidc = logout_for(oidc_provider)
    with pytest.raises((InvalidLogoutToken, ProviderError)):
        oidc.validate_logout_token(oidc_provider.logout_token(kid=enc))
    oidc.validate_logout_token(oidc_provider.logout_token())


def test_a_jwks_uri_on_another_loopback_port_is_used(oidc_provider: OpenIDProvider) -> None:
    with OpenIDProvider() as keys_host:
        oidc_provider.discovery_overrides["jwks_uri"] = keys_host.jwks_url
        token = keys_host.sign(oidc_provider.logout_claims())
        assert logout_for(oidc_provider).validate_logout_token(token).sid
        assert keys_host.requests["jwks"] == 1 and oidc_provider.requests["jwks"] == 0


@pytest.mark.parametrize(
    "endpoint",
    ["javascript:alert(1)", "/logout", "http://op.example/logout", "https://op.example/l#f"],
)
def test_an_unusable_end_session_endpoint_in_discovery_gives_no_redirect(
    world: World, endpoint: str
) -> None:
    world.provider.discovery_overrides["end_session_endpoint"] = endpoint
    session = world.login()
    assert world.oidc.logout_url(world.index.labels(session)) is None
    world.app.set_cookie("session", session)
    answer = world.app.post("/api/1/services/api/1/security/logout.json")
    assert answer.json == {"message": "OK"}


def _dripping_server(seconds: float) -> tuple[socket.socket, int, list[threading.Thread]]:
    """An HTTP server on 127.0.0.1 that sends a status line, then one header byte every
    0.1 s for ``seconds``: each wait for data is short, the whole answer never comes."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    threads: list[threading.Thread] = []

    def serve(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Drip: ")
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    conn.sendall(b"a")
                    time.sleep(0.1)
            except OSError:
                pass

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=serve, args=(conn,), daemon=True)
            thread.start()
            threads.append(thread)

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    threads.append(acceptor)
    return listener, listener.getsockname()[1], threads


@pytest.fixture
def dripping() -> Iterator[int]:
    listener, port, threads = _dripping_server(2.0)
    yield port
    listener.close()
    for thread in threads:
        thread.join(3)


def test_a_provider_dripping_its_headers_is_cut_off_at_the_timeout(dripping: int) -> None:
    oidc = OIDCLogout(f"http://127.0.0.1:{dripping}", "app", timeout=0.5)
    start = time.monotonic()
    with pytest.raises(ProviderError):
        oidc.end_session_endpoint()
    assert time.monotonic() - start < 0.5 + MARGIN


# -- RP-initiated logout --------------------------------------------------------------


def _visit(url: str) -> None:
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=5) as r:
        r.read()


@pytest.mark.parametrize(
    ("redirect", "state"),
    [
        ("https://studio.example.com/after?x=a+b&y=%2F&z=&w=%C3%A4", "s p/a&c=e+%"),
        ("http://127.0.0.1:8080/é/?q=1;2", "☃"),
        ("https://studio.example.com", "-_.~"),
    ],
)
def test_the_end_session_page_receives_the_exact_parameters(
    oidc_provider: OpenIDProvider, redirect: str, state: str
) -> None:
    oidc = logout_for(oidc_provider, post_logout_redirect_uri=redirect)
    id_token, claims = oidc_provider.id_token()
    _visit(oidc.logout_url(oidc.session_labels(claims, id_token=id_token), state=state) or "")
    assert oidc_provider.end_sessions[-1] == {
        "client_id": [oidc_provider.client_id], "post_logout_redirect_uri": [redirect],
        "id_token_hint": [id_token], "state": [state],
    }  # fmt: skip


def test_no_id_token_hint_and_no_redirect_uri_unless_known(oidc_provider: OpenIDProvider) -> None:
    oidc = logout_for(oidc_provider)
    _, claims = oidc_provider.id_token()
    _visit(oidc.logout_url(oidc.session_labels(claims)) or "")
    seen = oidc_provider.end_sessions[-1]
    assert set(seen) == {"client_id", "state"} and len(seen["state"][0]) >= 16


def test_an_endpoint_query_is_kept_and_our_names_replaced(oidc_provider: OpenIDProvider) -> None:
    endpoint = oidc_provider.end_session_endpoint + "?p=B2C_1_signin&client_id=evil&state=old"
    oidc = logout_for(oidc_provider, end_session_endpoint=endpoint)
    _, claims = oidc_provider.id_token()
    url = oidc.logout_url(oidc.session_labels(claims), state="s") or ""
    assert parse_qs(urlsplit(url).query) == {
        "p": ["B2C_1_signin"], "client_id": [oidc_provider.client_id], "state": ["s"]
    }  # fmt: skip


def test_a_valueless_endpoint_parameter_is_kept_as_written(oidc_provider: OpenIDProvider) -> None:
    endpoint = oidc_provider.end_session_endpoint + "?flag&a=1"
    oidc = logout_for(oidc_provider, end_session_endpoint=endpoint)
    _, claims = oidc_provider.id_token()
    url = oidc.logout_url(oidc.session_labels(claims), state="s") or ""
    assert urlsplit(url).query.startswith("flag&a=1&")


@pytest.mark.parametrize("endpoint", ["javascript:alert(1)", "/logout", "//op.example/logout",
                                      "data:text/html,x", "https://op.example/l#f"])  # fmt: skip
def test_an_unusable_configured_end_session_endpoint_is_refused(
    oidc_provider: OpenIDProvider, endpoint: str
) -> None:
    with pytest.raises(ValueError, match="end_session_endpoint"):
        logout_for(oidc_provider, end_session_endpoint=endpoint)


def test_a_hashed_label_of_another_issuer_gives_no_logout_url() -> None:
    with OpenIDProvider() as mine, OpenIDProvider() as other:
        here = logout_for(mine, end_session_endpoint=mine.end_session_endpoint)
        there = logout_for(other, end_session_endpoint=other.end_session_endpoint)
        id_token, claims = other.id_token(sub="u" * 300, sid="s" * 300)
        labels = there.session_labels(claims, id_token=id_token)
        assert labels["oidc_sub"].startswith("sha256:")
        assert here.logout_url(labels) is None
