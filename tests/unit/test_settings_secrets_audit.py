"""Audit: bad settings fail at construction with a message that says what to write (and
the WSGI middleware, its ASGI twin and the PasteDeploy factory agree), and no secret --
a session id, a cookie value, a store password -- nor a run of 6 of its characters
reaches a log line, an exception message, an HTTP body or an event.

Tests marked ``xfail(strict=True)`` pin a defect found by this audit; each reason says
what happens and what should.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from asgi_util import Receive, http_scope, request
from webtest import TestApp

from logout_middleware import (
    LogoutMiddleware,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
    SQLiteBackend,
)
from logout_middleware.asgi import LogoutMiddleware as AsgiLogoutMiddleware
from logout_middleware.backends import (
    RedisBackend,
    RedisRevocationStore,
    RedisSessionIndex,
    SQLAlchemyBackend,
)
from logout_middleware.oidc import OIDCLogout
from logout_middleware.oidc.claims import LogoutClaims, check_claims
from logout_middleware.paste import filter_app_factory

ISSUER = "https://idp.example.com"
EVENT = "http://schemas.openid.net/event/backchannel-logout"
PASSWORD = "s3cretPW9x"


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


async def asgi_app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def fragments(secret: str, size: int = 6) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def assert_no_fragment(text: str, *secrets: str) -> None:
    for secret in secrets:
        for piece in fragments(secret):
            assert piece not in text, f"{piece!r} of a secret in {text!r}"


def both_adapters(backend: Any, **settings: Any) -> list[Callable[[], Any]]:
    return [
        lambda: LogoutMiddleware(wsgi_app, backend, **settings),
        lambda: AsgiLogoutMiddleware(asgi_app, backend, **settings),
    ]


def refusal(build: Callable[[], Any]) -> BaseException:
    try:
        build()
    except (ValueError, TypeError) as exc:
        return exc
    pytest.fail("accepted")


# --- 1. settings: each adapter refuses alike, with what to write -------------------

#: Bad values that both adapters already refuse with a ValueError naming the fix.
REFUSED = [
    ({"methods": "POST,GET"}, "HTTP method names"),
    ({"methods": ""}, "HTTP method names"),
    ({"trusted_origins": "https://a.example https://b.example"}, "each trusted origin"),
    ({"max_form_size": True}, "byte count"),
    ({"max_form_size": -1}, "byte count"),
    ({"path": "logout"}, "start with '/'"),
    ({"path": ""}, "start with '/'"),
    ({"cookie_name": "a;b"}, "separator"),
    ({"cookie_name": ""}, "non-empty string"),
    ({"cookie_samesite": "None", "cookie_secure": False}, "needs Secure"),
    ({"cookie_samesite": ""}, "'Lax', 'Strict', 'None' or None"),
    ({"cookie_partitioned": True, "cookie_secure": False}, "needs Secure"),
    ({"cookie_name": "__Secure-s", "cookie_secure": False}, "needs Secure"),
    ({"cookie_secure": 1}, "True, False or None"),
    ({"cookie_domain": "example.com:443"}, "host name such as"),
    ({"sweep_domains": "a.example,b.example"}, "host name such as"),
    ({"clear_site_data": "cache,cookies"}, "unknown clear_site_data"),
    ({"clear_site_data": []}, "non-empty list"),
    ({"redirect_to": "login"}, "redirect_to must be a path"),
    ({"allowed_redirect_hosts": "a.example,b.example"}, "each allowed_redirect_hosts entry"),
    ({"revocation_max_age": True}, "positive, finite"),
    ({"expose_errors": "no"}, "True or False"),
    ({"cross_site_protection": 0}, "True or False"),
    ({"csrf_cookie_name": "X", "csrf_header_name": "X T"}, "header name such as"),
    ({"everywhere_path": ["/e"], "index": MemorySessionIndex()}, "one path such as"),
]


@pytest.mark.parametrize(("settings", "message"), REFUSED)
def test_both_adapters_refuse_a_bad_setting_with_the_same_message(
    settings: dict[str, Any], message: str
) -> None:
    wsgi, asgi = (refusal(b) for b in both_adapters(MemoryBackend(), **settings))
    assert isinstance(wsgi, ValueError)
    assert message in str(wsgi)
    assert (type(wsgi), str(wsgi)) == (type(asgi), str(asgi))


@pytest.mark.parametrize(
    ("conf", "message"),
    [
        ({"methods": "POST,GET"}, None),  # an ini list: accepted
        ({"max_form_size": "true"}, "must be an integer"),
        ({"revocation_max_age": "inf"}, "positive, finite"),
        ({"cookie_samesite": "None", "cookie_secure": "false"}, "needs Secure"),
        ({"cookie_httponly": ""}, "true or false"),
        ({"trusted_origins": "none"}, "each trusted origin"),
    ],
)
def test_paste_converts_then_validates_like_the_constructor(
    conf: dict[str, str], message: str | None
) -> None:
    build = lambda: filter_app_factory(wsgi_app, {}, backend="memory:", **conf)  # noqa: E731
    if message is None:
        build()
    else:
        assert message in str(refusal(build))


@pytest.mark.parametrize("value", [None, 5])
def test_also_expire_not_a_list_says_what_to_write(value: Any) -> None:
    for build in both_adapters(MemoryBackend(), also_expire=value):
        exc = refusal(build)
        assert isinstance(exc, ValueError) and "also_expire" in str(exc)


@pytest.mark.parametrize("value", [None, 5])
def test_allowed_redirect_hosts_not_a_list_says_what_to_write(value: Any) -> None:
    for build in both_adapters(MemoryBackend(), allowed_redirect_hosts=value):
        exc = refusal(build)
        assert isinstance(exc, ValueError) and "allowed_redirect_hosts" in str(exc)


def test_on_logout_as_a_string_is_refused_naming_the_string() -> None:
    exc = refusal(both_adapters(MemoryBackend(), on_logout="pkg.mod:func")[0])
    assert "pkg.mod:func" in str(exc)


@pytest.mark.parametrize(
    "settings",
    [
        {"backend": MemoryBackend},
        {"backend": MemoryBackend(), "index": MemorySessionIndex},
        {"backend": MemoryBackend(), "revocation": MemoryRevocationStore},
    ],
    ids=["backend", "index", "revocation"],
)
def test_a_store_class_instead_of_an_instance_is_refused(settings: dict[str, Any]) -> None:
    backend = settings.pop("backend")
    for build in both_adapters(backend, **settings):
        assert "instance" in str(refusal(build)) or "()" in str(refusal(build))


def test_oidc_replay_cache_class_is_refused() -> None:
    with pytest.raises(ValueError):
        OIDCLogout(ISSUER, "app", jwks_url=ISSUER + "/jwks", replay_cache=MemoryRevocationStore)  # type: ignore[arg-type]


def test_csrf_field_name_with_max_form_size_zero_is_refused() -> None:
    settings = dict(csrf_cookie_name="XSRF", csrf_header_name="X-XSRF", csrf_field_name="_csrf")
    for build in both_adapters(MemoryBackend(), max_form_size=0, **settings):
        assert "max_form_size" in str(refusal(build))


def test_csrf_cookie_name_equal_to_the_session_cookie_is_refused() -> None:
    for build in both_adapters(
        MemoryBackend(), csrf_cookie_name="session", csrf_header_name="X-XSRF"
    ):
        refusal(build)


@pytest.mark.parametrize(
    "settings", [{"csrf_cookie_path": "relative"}, {"csrf_cookie_domain": "example.com"}]
)
def test_csrf_cookie_attributes_without_the_token_cookie_are_refused(
    settings: dict[str, Any],
) -> None:
    for build in both_adapters(MemoryBackend(), **settings):
        refusal(build)


# --- 1. the ini factory: 'none' means None where the constructor allows None ------


@pytest.mark.parametrize("key", ["clear_site_data", "index", "revocation", "oidc"])
@pytest.mark.parametrize("word", ["none", ""])
def test_paste_none_word_means_none_for_every_option_that_allows_none(key: str, word: str) -> None:
    middleware = filter_app_factory(wsgi_app, {}, backend="memory:", **{key: word})
    if key == "clear_site_data":
        assert not any(h == "Clear-Site-Data" for h, _ in middleware.core.expiry.headers(True))
    else:
        assert getattr(middleware, key) is None


def test_a_bad_oidc_replay_cache_url_names_its_own_key() -> None:
    exc = refusal(
        lambda: filter_app_factory(
            wsgi_app,
            {},
            backend="memory:",
            index="memory:",
            oidc=ISSUER,
            **{"oidc.client_id": "app", "oidc.replay_cache": "ftp://x"},
        )
    )
    assert "oidc.replay_cache" in str(exc)


# --- 1. backend constructors --------------------------------------------------------


@pytest.mark.parametrize("path", [None, 3, b"x.sqlite3"])
def test_sqlite_backend_bad_path_says_what_to_write(path: Any) -> None:
    exc = refusal(lambda: SQLiteBackend(path))
    assert isinstance(exc, ValueError) and "path" in str(exc)


@pytest.mark.parametrize("store", ["sqlite", "sqlalchemy"])
def test_create_table_must_be_a_bool(store: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="create_table"):
        if store == "sqlite":
            SQLiteBackend(tmp_path / "s.sqlite3", create_table="no")  # type: ignore[arg-type]
        else:
            engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
            try:
                SQLAlchemyBackend(engine, create_table="no")  # type: ignore[arg-type]
            finally:
                engine.dispose()


def test_sqlite_key_prefix_is_validated_like_the_other_backends(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without control characters"):
        SQLiteBackend(tmp_path / "s.sqlite3", key_prefix="a\n")


def test_same_id_and_data_column_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="data_column"):
        SQLiteBackend(tmp_path / "s.sqlite3", id_column="x", data_column="x")


def test_redis_retries_refuses_a_bool() -> None:
    with pytest.raises(ValueError, match="retries"):
        RedisBackend("redis://127.0.0.1:6379/0", retries=True)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/x", "redis://127.0.0.1:notaport/0"])
def test_an_unusable_redis_url_is_refused_saying_what_to_write(url: str) -> None:
    exc = refusal(lambda: RedisBackend(url))
    assert "redis://" in str(exc) and "host" in str(exc)


# --- 2. no secret in an exception message or a repr -----------------------------------


@pytest.mark.parametrize(
    "conf",
    [
        {"backend": f"postgresql+nosuch://user:{PASSWORD}@db/x"},
        {"backend": "memory:", "revocation": f"postgresql://user:{PASSWORD}@db/x"},
        {"backend": "memory:", "index": f"nosuch+x://user:{PASSWORD}@db/x"},
        {
            "backend": "memory:",
            "index": "memory:",
            "oidc": ISSUER,
            "oidc.client_id": "app",
            "oidc.replay_cache": f"postgresql://user:{PASSWORD}@db/x",
        },
    ],
    ids=["backend", "revocation", "index", "oidc.replay_cache"],
)
def test_a_refused_store_url_does_not_show_its_password(conf: dict[str, str]) -> None:
    exc = refusal(lambda: filter_app_factory(wsgi_app, {}, **conf))
    assert_no_fragment(str(exc), PASSWORD)


@pytest.mark.parametrize("setting", ["issuer", "jwks_url", "end_session_endpoint"])
def test_an_oidc_url_with_a_password_is_refused_without_showing_it(setting: str) -> None:
    url = f"https://u:{PASSWORD}@idp.example.com/x"
    settings: dict[str, Any] = {"issuer": ISSUER, setting: url}
    exc = refusal(lambda: OIDCLogout(settings.pop("issuer"), "app", **settings))
    assert_no_fragment(str(exc), PASSWORD)


@pytest.mark.parametrize("store", [RedisBackend, RedisRevocationStore, RedisSessionIndex])
def test_the_repr_of_a_redis_store_and_its_middleware_hides_the_password(store: Any) -> None:
    built = store(f"redis://:{PASSWORD}@127.0.0.1:6379/0")
    texts = [repr(built), str(built)]
    if store is RedisBackend:
        middleware = LogoutMiddleware(wsgi_app, built)
        texts += [repr(middleware), repr(vars(middleware.core.expiry)), repr(middleware.backend)]
    for text in texts:
        assert_no_fragment(text, PASSWORD)


# --- 2. no session id or cookie value in a log, a body or an event --------------------

COOKIE = "Zq8vK3nW5tY7pL2xR9sD4fG6"  # the cookie value
SESSION = "sid-" + COOKIE[::-1]  # the session id session_id_from_cookie makes of it
OTHER = "q7Rw2Zp9Lk4Xv8Nt3Bm6hJ1c"  # another session of the same user


def to_session(value: str) -> str:
    return "sid-" + value[::-1]


class LeakyBackend(MemoryBackend):
    """delete raises with the id it was given, as a driver error would."""

    def delete(self, session_id: str) -> None:
        raise RuntimeError(f"DEL session:{session_id} failed ({session_id!r})")

    def delete_many(self, session_ids: Iterable[str]) -> int:
        raise RuntimeError(f"DEL failed for {sorted(session_ids)!r}")


class LeakyIndex(MemorySessionIndex):
    def remove(self, session_id: str) -> None:
        raise RuntimeError(f"index remove {session_id} failed")

    def remove_many(self, session_ids: Iterable[str]) -> None:
        raise RuntimeError(f"index remove {list(session_ids)} failed")


class LeakyRevocation(MemoryRevocationStore):
    """Raises with what it is given (a token: a fingerprint, which may be shown)."""

    def revoke(self, token: str, ttl: float) -> None:
        raise RuntimeError(f"revoke {token} failed")

    def is_revoked(self, token: str) -> bool:
        raise RuntimeError(f"lookup {token} failed")


def raising_extractor(value: str) -> str:
    raise ValueError(f"cannot read cookie {value!r} (value {value})")


def raising_callback(event: Any) -> None:
    raise RuntimeError(f"callback failed on {event!r}")


#: The ways a plain logout fails: settings (besides the backend) and the backend.
FAILURES: dict[str, tuple[Any, dict[str, Any]]] = {
    "backend raises": (LeakyBackend(), {"session_id_from_cookie": to_session}),
    "extractor raises": (MemoryBackend(), {"session_id_from_cookie": raising_extractor}),
    "index raises": (
        MemoryBackend(),
        {"session_id_from_cookie": to_session, "index": LeakyIndex()},
    ),
    "revocation raises": (None, {"revocation": LeakyRevocation()}),
    "callback raises": (
        MemoryBackend(),
        {"session_id_from_cookie": to_session, "on_logout": raising_callback},
    ),
}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="logout_middleware")
    return caplog


def log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = []
    for record in caplog.records:
        parts.append(record.getMessage())
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(parts)


@pytest.mark.parametrize("expose", [False, True])
@pytest.mark.parametrize("failure", list(FAILURES))
@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_a_failing_logout_shows_no_fragment_of_the_cookie_or_session_id(
    logs: pytest.LogCaptureFixture, adapter: str, failure: str, expose: bool
) -> None:
    backend, settings = FAILURES[failure]
    events: list[Any] = []
    extra = settings.get("on_logout", ())
    settings = {**settings, "on_logout": [events.append, extra] if extra else [events.append]}
    cookie = f"session={COOKIE}; other=1"
    if adapter == "wsgi":
        client = TestApp(
            LogoutMiddleware(wsgi_app, backend, path="/logout", expose_errors=expose, **settings)
        )
        answer = client.post("/logout", headers={"Cookie": cookie}, status="*")
        status, body, headers = answer.status_int, answer.text, str(answer.headerlist)
        # a later request through the revocation filter, whose store fails too
        client.get("/page", headers={"Cookie": cookie}, status="*")
    else:
        middleware = AsgiLogoutMiddleware(
            asgi_app, backend, path="/logout", expose_errors=expose, **settings
        )
        got = request(middleware, http_scope("/logout", "POST", headers=[("Cookie", cookie)]))
        status, body, headers = got.status, got.body.decode("latin-1"), str(got.headers)
        request(middleware, http_scope("/page", headers=[("Cookie", cookie)]))
    assert status in (200, 500)
    assert events, "no event"
    for text in (body, headers.replace("session=;", ""), log_text(logs), repr(events)):
        assert_no_fragment(text, COOKIE, SESSION)


def _ada_index(index: MemorySessionIndex) -> MemorySessionIndex:
    index.add(SESSION, 3600, user="ada")
    index.add(OTHER, 3600, user="ada")
    return index


@pytest.mark.parametrize("expose", [False, True])
@pytest.mark.parametrize("adapter", ["wsgi", "asgi"])
def test_log_out_everywhere_failure_shows_no_fragment_of_another_session(
    logs: pytest.LogCaptureFixture, adapter: str, expose: bool
) -> None:
    settings: dict[str, Any] = dict(
        path="/logout",
        everywhere_path="/e",
        index=_ada_index(MemorySessionIndex()),
        session_id_from_cookie=to_session,
        expose_errors=expose,
    )
    cookie = f"session={COOKIE}"
    if adapter == "wsgi":
        answer = TestApp(LogoutMiddleware(wsgi_app, LeakyBackend(), **settings)).post(
            "/e", headers={"Cookie": cookie}, status="*"
        )
        status, body = answer.status_int, answer.text
    else:
        middleware = AsgiLogoutMiddleware(asgi_app, LeakyBackend(), **settings)
        got = request(middleware, http_scope("/e", "POST", headers=[("Cookie", cookie)]))
        status, body = got.status, got.body.decode("latin-1")
    assert status == 500
    for text in (body, log_text(logs)):
        assert_no_fragment(text, COOKIE, SESSION, OTHER)


class StubOIDC(OIDCLogout):
    """Takes any token as a valid logout token for the OP session ``op-1``."""

    def validate_logout_token(self, token: str, *, remember: bool = True) -> LogoutClaims:
        now = time.time()
        payload = {"iss": ISSUER, "aud": "app", "iat": now, "jti": "j1", "sid": "op-1"}
        payload["events"] = {EVENT: {}}
        return check_claims(payload, issuer=ISSUER, client_id="app", now=now, skew=60, max_age=600)


@pytest.mark.parametrize("expose", [False, True])
def test_back_channel_failure_shows_no_fragment_of_the_session_id(
    logs: pytest.LogCaptureFixture, expose: bool
) -> None:
    oidc = StubOIDC(ISSUER, "app", jwks_url=ISSUER + "/jwks")
    index = MemorySessionIndex()
    labels = oidc.session_labels({"iss": ISSUER, "sub": "u1", "sid": "op-1"})
    index.add(OTHER, 3600, user="ada", **labels)
    middleware = LogoutMiddleware(
        wsgi_app, LeakyBackend(), path="/logout", index=index, oidc=oidc, expose_errors=expose
    )
    answer = TestApp(middleware).post(
        "/oidc/backchannel-logout", {"logout_token": "a.b.c"}, status="*"
    )
    assert answer.status_int == 500
    for text in (answer.text, log_text(logs)):
        assert_no_fragment(text, OTHER)


@pytest.mark.parametrize("expose", [False, True])
def test_invalid_logout_tokens_are_answered_400_without_any_of_the_token(
    logs: pytest.LogCaptureFixture, expose: bool
) -> None:
    # A real OIDCLogout (nothing fetched: every token is refused before the key set).
    oidc = OIDCLogout(ISSUER, "app", jwks_url=ISSUER + "/jwks")
    middleware = AsgiLogoutMiddleware(
        asgi_app,
        MemoryBackend(),
        path="/logout",
        index=MemorySessionIndex(),
        oidc=oidc,
        expose_errors=expose,
    )
    header = "eyJhbGciOiJIUzI1NiJ9"  # {"alg":"HS256"}: refused by the allow-list
    tokens = [
        f"{header}.eyJzaWQiOiJzZWNyZXRTaWQxMjM0In0.c2lnbmF0dXJlMTIzNDU2",
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4eHh4eHgxMjM0NTYifQ.",
        "notajwtatall1234567890",
        "a.b.c.d.e-jwe-like-token-0987654321",
        "eyJhbGciOiJSUzI1NiJ9.!!!bad-payload-123456.sig4567890",
    ]
    for token in tokens:
        body = f"logout_token={token}".encode()
        scope = http_scope(
            "/oidc/backchannel-logout",
            "POST",
            headers=[
                ("content-type", "application/x-www-form-urlencoded"),
                ("content-length", str(len(body))),
            ],
        )
        got = request(middleware, scope, Receive.body(body))
        assert got.status == 400, got
        for part in token.split("."):
            if len(part) >= 6:
                assert_no_fragment(got.body.decode() + log_text(logs), part)
