"""RevocationFilter: a revoked cookie never reaches the app and is expired; everything
else passes untouched, and a request without the cookie passes the very same environ."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from webtest import TestApp
from werkzeug.http import parse_cookie

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware
from logout_middleware.cookies import CookieSpec
from logout_middleware.revocation import (
    MemoryRevocationStore,
    RevocationFilter,
    SQLiteRevocationStore,
    cookie_token,
    cookie_tokens,
)

COOKIE = CookieSpec("session")
REVOKED = "eyJ1c2VyIjoiYWRhIn0.ZxYw.revoked-signature"
VALID = "eyJ1c2VyIjoiYm9iIn0.ZxYw.valid-signature"


class SeenApp:
    """Answers 200 and remembers the environ it was called with."""

    def __init__(self, set_cookie: str | None = None) -> None:
        self.environ: dict[str, Any] | None = None
        self.set_cookie = set_cookie

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.environ = environ
        headers = [("Content-Type", "text/plain")]
        if self.set_cookie:
            headers.append(("Set-Cookie", self.set_cookie))
        start_response("200 OK", headers)
        return [environ.get("HTTP_COOKIE", "<none>").encode("latin-1")]


class CountingStore(MemoryRevocationStore):
    """A real memory store that counts lookups."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups = 0

    def is_revoked(self, token: str) -> bool:
        self.lookups += 1
        return super().is_revoked(token)


@pytest.fixture
def store() -> CountingStore:
    s = CountingStore()
    s.revoke(cookie_token(REVOKED), 3600)
    return s


def call(app: Any, cookie: str | None, scheme: str = "http") -> tuple[dict[str, Any], list[Any]]:
    environ: dict[str, Any] = {}
    setup_testing_defaults(environ)
    environ["wsgi.url_scheme"] = scheme
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    started: list[Any] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        started[:] = [status, headers]
        return lambda data: None

    body = app(environ, start_response)
    b"".join(body)
    return environ, started


@pytest.mark.parametrize("cookie", [None, "", "other=1; theme=dark", "Session=x", "mysession_=1"])
def test_request_without_the_cookie_passes_the_same_environ(
    store: CountingStore, cookie: str | None
) -> None:
    app = SeenApp()
    environ, (_, headers) = call(RevocationFilter(app, store, COOKIE), cookie)
    assert app.environ is environ
    assert store.lookups == 0
    assert headers == [("Content-Type", "text/plain")]


def test_name_inside_another_cookies_value_is_not_the_cookie(store: CountingStore) -> None:
    app = SeenApp()
    environ, _ = call(RevocationFilter(app, store, COOKIE), f"other=xsession={REVOKED}")
    assert app.environ is environ
    assert store.lookups == 0


def test_valid_cookie_passes_the_same_environ(store: CountingStore) -> None:
    app = SeenApp()
    environ, (_, headers) = call(RevocationFilter(app, store, COOKIE), f"a=1; session={VALID}")
    assert app.environ is environ
    assert store.lookups == len(cookie_tokens(VALID))  # one per canonical identity
    assert not any(h == "Set-Cookie" for h, _ in headers)


def test_revoked_cookie_is_stripped_and_expired(store: CountingStore) -> None:
    app = SeenApp()
    environ, (status, headers) = call(
        RevocationFilter(app, store, COOKIE), f"a=1; session={REVOKED}; theme=dark"
    )
    assert app.environ is not environ and app.environ is not None
    assert app.environ["HTTP_COOKIE"] == "a=1; theme=dark"
    assert environ["HTTP_COOKIE"] == f"a=1; session={REVOKED}; theme=dark"  # caller's copy
    assert status == "200 OK"
    assert ("Set-Cookie", COOKIE.headers[0]) in headers
    assert "Secure" not in COOKIE.headers[0]


def test_on_https_the_secure_deletion_header_is_sent(store: CountingStore) -> None:
    app = SeenApp()
    _, (_, headers) = call(RevocationFilter(app, store, COOKIE), f"session={REVOKED}", "https")
    assert ("Set-Cookie", COOKIE.headers[1]) in headers
    assert "Secure" in COOKIE.headers[1]


def test_only_cookie_revoked_removes_the_header(store: CountingStore) -> None:
    app = SeenApp()
    call(RevocationFilter(app, store, COOKIE), f"session={REVOKED}")
    assert app.environ is not None and "HTTP_COOKIE" not in app.environ


def test_every_revoked_occurrence_goes_and_valid_ones_stay(store: CountingStore) -> None:
    app = SeenApp()
    call(
        RevocationFilter(app, store, COOKIE),
        f"session={REVOKED};session={VALID}; a=1;  session = {REVOKED} ",
    )
    assert app.environ is not None
    assert app.environ["HTTP_COOKIE"] == f"session={VALID}; a=1"
    # each distinct value once, by each of its canonical identities (the revoked
    # one stops at its first match)
    assert store.lookups == len(cookie_tokens(VALID)) + 1


def test_app_setting_the_cookie_itself_is_not_overridden(store: CountingStore) -> None:
    app = SeenApp(set_cookie="session=new-session; Path=/; HttpOnly")
    _, (_, headers) = call(RevocationFilter(app, store, COOKIE), f"session={REVOKED}")
    assert [v for h, v in headers if h == "Set-Cookie"] == ["session=new-session; Path=/; HttpOnly"]


def test_quoted_value_is_matched_like_the_middleware_reads_it() -> None:
    header = 'session="a b\\"c"; x=1'
    value = parse_cookie(header)["session"]  # how LogoutMiddleware reads the value
    store = MemoryRevocationStore()
    store.revoke(cookie_token(value), 60)
    app = SeenApp()
    call(RevocationFilter(app, store, COOKIE), header)
    assert app.environ is not None and app.environ["HTTP_COOKIE"] == "x=1"


def test_too_many_values_are_all_removed_without_lookups(store: CountingStore) -> None:
    app = SeenApp()
    header = "; ".join(f"session=v{i}" for i in range(5)) + "; a=1"
    _, (_, headers) = call(RevocationFilter(app, store, COOKIE, max_values=4), header)
    assert app.environ is not None and app.environ["HTTP_COOKIE"] == "a=1"
    assert store.lookups == 0
    assert ("Set-Cookie", COOKIE.headers[0]) in headers


def _broken_store(tmp_path: Path) -> SQLiteRevocationStore:
    # A real store whose table has gone: every lookup raises sqlite3.OperationalError.
    s = SQLiteRevocationStore(tmp_path / "rev.db")
    s.db.execute("DROP TABLE revoked_cookies")
    return s


def test_failing_store_fails_closed_by_default(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Default policy: the cookie is hidden from the app (no session while the store
    is down) but not expired, so it works again once the store is back."""
    store = _broken_store(tmp_path)
    app = SeenApp()
    with caplog.at_level(logging.ERROR, logger="logout_middleware.revocation"):
        _, (status, headers) = call(RevocationFilter(app, store, COOKIE), f"session={VALID}; a=1")
    assert status == "200 OK"
    assert app.environ is not None and app.environ["HTTP_COOKIE"] == "a=1"
    assert not any(h == "Set-Cookie" for h, _ in headers)
    assert "fail closed" in caplog.text
    assert VALID not in caplog.text and cookie_token(VALID) not in caplog.text
    store.close()


def test_failing_store_can_raise_instead(tmp_path: Path) -> None:
    store = _broken_store(tmp_path)
    app = SeenApp()
    with pytest.raises(sqlite3.OperationalError):
        call(RevocationFilter(app, store, COOKIE, on_error="raise"), f"session={VALID}")
    assert app.environ is None
    store.close()


def test_filter_is_pep3333_conformant(store: CountingStore) -> None:
    client = TestApp(validator(RevocationFilter(validator(SeenApp()), store, COOKIE)))
    client.set_cookie("session", REVOKED)
    response = client.get("/")
    assert response.text == "<none>"
    assert response.headers["Set-Cookie"] == COOKIE.headers[0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"store": object()}, "revoke"),
        ({"on_error": "ignore"}, "on_error"),
        ({"max_values": 0}, "max_values"),
    ],
)
def test_unusable_settings_are_refused(kwargs: dict[str, Any], match: str) -> None:
    args: dict[str, Any] = {"store": MemoryRevocationStore(), **kwargs}
    with pytest.raises(ValueError, match=match):
        RevocationFilter(SeenApp(), args.pop("store"), COOKIE, **args)


def test_cookie_tokens_are_digests_of_canonical_identities_never_the_value() -> None:
    tokens = cookie_tokens(VALID)
    assert len(tokens) == 2  # the value's text, and the signed payload + signature
    assert all(len(t) == 64 and int(t, 16) >= 0 for t in tokens)
    assert all(VALID not in t and "valid-signature" not in t for t in tokens)
    assert cookie_token(VALID) == tokens[0]
    # Spellings one application reads as the same session share a token...
    assert set(cookie_tokens(VALID + "=")) & set(tokens)
    assert set(cookie_tokens('"' + VALID + '"')) & set(tokens)
    # ...and different sessions do not.
    assert not set(cookie_tokens(REVOKED)) & set(tokens)


def test_copied_cookie_is_worthless_after_logout_through_the_middleware(
    tmp_path: Path,
) -> None:
    """End to end: LogoutMiddleware(revocation=...) revokes, the filter enforces."""
    store = SQLiteRevocationStore(tmp_path / "rev.db")
    app = SeenApp()
    client = TestApp(LogoutMiddleware(app, None, revocation=store, revocation_max_age=600))
    client.set_cookie("session", VALID)  # WebTest sends it quoted: "..."
    assert VALID in client.get("/").text
    client.post(DEFAULT_LOGOUT_PATH, status=200)

    thief = TestApp(client.app)
    thief.set_cookie("session", VALID)  # the copied cookie
    response = thief.get("/")
    assert response.text == "<none>"
    assert any(v.startswith("session=;") for v in response.headers.getall("Set-Cookie"))
    other = TestApp(client.app)
    other.set_cookie("session", REVOKED + "-other-user")
    assert f"{REVOKED}-other-user" in other.get("/").text
    store.close()
