"""Edges of revocation (logout_middleware.revocation and the memory store): the app's
own cookies while the filter expires a revoked one, the cap on values per request,
store failures, the memory store's purge, and the constructor checks."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import pytest

from logout_middleware import MemoryRevocationStore
from logout_middleware.backends import memory_revocation
from logout_middleware.cookies import CookieSpec
from logout_middleware.revocation import Revocation, RevocationFilter, cookie_token, cookie_tokens
from logout_middleware.sessionref import read_cookie, session_tokens

COOKIE = CookieSpec("session")


def revoked_store(*values: str) -> MemoryRevocationStore:
    store = MemoryRevocationStore()
    for value in values:
        for token in session_tokens(value):
            store.revoke(token, 60)
    return store


class App:
    """Records the environ it saw; answers with the given headers."""

    def __init__(self, headers: Iterable[tuple[str, str]] = ()) -> None:
        self.headers = list(headers)
        self.environ: dict[str, Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.environ = environ
        start_response("200 OK", list(self.headers))
        return [b"ok"]


def call(app: Any, cookie: str | None, scheme: str = "http") -> tuple[list[tuple[str, str]], Any]:
    environ: dict[str, Any] = {"REQUEST_METHOD": "GET", "PATH_INFO": "/",
                               "wsgi.url_scheme": scheme}
    if cookie is not None:
        environ["HTTP_COOKIE"] = cookie
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["headers"], seen["exc_info"] = headers, exc_info
        return lambda data: None

    app(environ, start_response)
    return seen["headers"], seen["exc_info"]


def test_the_apps_own_cookies_are_kept_while_the_revoked_one_is_expired() -> None:
    app = App([("Content-Type", "text/plain"), ("Set-Cookie", "theme=dark; Path=/"),
               ("Set-Cookie", "lang=en; Path=/")])
    headers, _ = call(RevocationFilter(app, revoked_store("R"), COOKIE), "session=R; theme=x")
    assert headers[:3] == app.headers
    assert headers[3] == ("Set-Cookie", COOKIE.headers[0])
    assert len(headers) == 4
    assert app.environ is not None and app.environ["HTTP_COOKIE"] == "theme=x"


def test_the_expiry_is_the_secure_variant_on_https() -> None:
    headers, _ = call(RevocationFilter(App(), revoked_store("R"), COOKIE), "session=R", "https")
    assert headers == [("Set-Cookie", COOKIE.headers[1])]


def test_an_app_that_sets_the_session_cookie_itself_is_not_overridden() -> None:
    for name in ("Set-Cookie", "set-cookie", "SET-COOKIE"):
        app = App([(name, " session=new; Path=/")])
        headers, _ = call(RevocationFilter(app, revoked_store("R"), COOKIE), "session=R")
        assert headers == app.headers


def test_another_cookie_whose_value_starts_with_the_name_does_not_count() -> None:
    app = App([("Set-Cookie", "other=session=x"), ("X-Note", "session=y")])
    headers, _ = call(RevocationFilter(app, revoked_store("R"), COOKIE), "session=R")
    assert headers == [*app.headers, ("Set-Cookie", COOKIE.headers[0])]


def test_a_cookie_named_with_the_session_name_as_prefix_does_not_count() -> None:
    app = App([("Set-Cookie", "session_x=1")])
    headers, _ = call(RevocationFilter(app, revoked_store("R"), COOKIE), "session=R")
    assert headers[-1] == ("Set-Cookie", COOKIE.headers[0])


def test_exc_info_is_passed_through_the_expiring_start_response() -> None:
    marker = (ValueError, ValueError("x"), None)

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("500 Internal Server Error", [], marker)
        return []

    _, exc_info = call(RevocationFilter(app, revoked_store("R"), COOKIE), "session=R")
    assert exc_info is marker


def test_a_header_of_only_the_revoked_cookie_is_removed_entirely() -> None:
    app = App()
    call(RevocationFilter(app, revoked_store("R"), COOKIE), "session=R")
    assert app.environ is not None and "HTTP_COOKIE" not in app.environ


def test_a_live_cookie_passes_with_the_same_environ() -> None:
    app = App()
    environ = {"HTTP_COOKIE": "session=LIVE", "wsgi.url_scheme": "http"}
    RevocationFilter(app, revoked_store("R"), COOKIE)(environ, lambda s, h, e=None: None)
    assert app.environ is environ


def test_a_name_that_appears_only_inside_another_cookie_is_not_read() -> None:
    app = App()
    environ = {"HTTP_COOKIE": "xsession=R", "wsgi.url_scheme": "http"}
    RevocationFilter(app, revoked_store("R"), COOKIE)(environ, lambda s, h, e=None: None)
    assert app.environ is environ


def test_more_than_max_values_are_all_removed_and_expired(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()
    cookie = "; ".join(f"session=v{i}" for i in range(5)) + "; keep=1"
    with caplog.at_level(logging.WARNING):
        headers, _ = call(RevocationFilter(app, MemoryRevocationStore(), COOKIE), cookie)
    assert app.environ is not None and app.environ["HTTP_COOKIE"] == "keep=1"
    assert headers == [("Set-Cookie", COOKIE.headers[0])]
    assert "request carries 5 values of cookie 'session'; all removed" in caplog.text


def test_exactly_max_values_are_each_looked_up() -> None:
    app = App()
    cookie = "session=aaaa; session=bbbb; session=cccc; session=dddd"
    headers, _ = call(RevocationFilter(app, revoked_store("aaaa"), COOKIE), cookie)
    assert app.environ is not None
    assert app.environ["HTTP_COOKIE"] == "session=bbbb; session=cccc; session=dddd"
    assert headers == [("Set-Cookie", COOKIE.headers[0])]


def test_max_values_is_configurable() -> None:
    app = App()
    f = RevocationFilter(app, MemoryRevocationStore(), COOKIE, max_values=1)
    call(f, "session=a; session=b")
    assert app.environ is not None and "HTTP_COOKIE" not in app.environ
    assert Revocation(MemoryRevocationStore(), COOKIE).max_values == 4


class BrokenStore:
    def revoke(self, token: str, ttl: float) -> None:
        raise ConnectionError("down")

    def is_revoked(self, token: str) -> bool:
        raise ConnectionError("down")


def test_a_failing_store_strips_the_cookie_without_expiring_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App([("X", "1")])
    with caplog.at_level(logging.ERROR):
        headers, _ = call(RevocationFilter(app, BrokenStore(), COOKIE), "session=S; a=1")
    assert headers == [("X", "1")]
    assert app.environ is not None and app.environ["HTTP_COOKIE"] == "a=1"
    assert "revocation store failed" in caplog.text and "=S" not in caplog.text


def test_a_failing_store_with_on_error_raise_raises() -> None:
    with pytest.raises(ConnectionError):
        call(RevocationFilter(App(), BrokenStore(), COOKIE, on_error="raise"), "session=S")


def test_a_store_failure_for_one_value_keeps_the_revoked_others_unexpired() -> None:
    class HalfBroken(MemoryRevocationStore):
        def is_revoked(self, token: str) -> bool:
            if token in session_tokens("bad"):
                raise ConnectionError("down")
            return super().is_revoked(token)

    store = HalfBroken()
    for token in session_tokens("R"):
        store.revoke(token, 60)
    revocation = Revocation(store, COOKIE)
    reading = read_cookie("session=R; session=bad", "session")
    assert revocation.revoked(reading) == ({"R", "bad"}, False)
    assert revocation.revoked(read_cookie("session=R", "session")) == ({"R"}, True)
    assert revocation.revoked(read_cookie("session=L", "session")) == (set(), False)


def test_revoke_records_every_token_for_max_age() -> None:
    calls: list[tuple[str, float]] = []

    class Recording(MemoryRevocationStore):
        def revoke(self, token: str, ttl: float) -> None:
            calls.append((token, ttl))

    revocation = Revocation(Recording(), COOKIE, max_age=120)
    revocation.revoke(["t1", "t2"])
    assert calls == [("t1", 120.0), ("t2", 120.0)]


def test_tokens_skip_empty_values_and_duplicates() -> None:
    assert Revocation.tokens(["", "a", "a"]) == session_tokens("a")
    assert Revocation.tokens(["a.b", "a.b"]) == session_tokens("a.b")


def test_cookie_token_is_the_first_of_the_tokens() -> None:
    assert cookie_tokens("a.Zm9v") == session_tokens("a.Zm9v")
    assert cookie_token("a.Zm9v") == session_tokens("a.Zm9v")[0]


def test_expiry_picks_the_variant_of_the_scheme() -> None:
    revocation = Revocation(MemoryRevocationStore(), COOKIE)
    assert revocation.expiry(False) == ("Set-Cookie", COOKIE.headers[0])
    assert revocation.expiry(True) == ("Set-Cookie", COOKIE.headers[1])


def test_read_is_none_without_the_name() -> None:
    revocation = Revocation(MemoryRevocationStore(), COOKIE)
    assert revocation.read("other=1") is None
    assert revocation.read("sessionx=1") is None
    reading = revocation.read("a=1; session=v")
    assert reading is not None and reading.values == ["v"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"store": object()}, "the revocation store must have revoke"),
        ({"on_error": "ignore"}, "on_error must be 'strip' or 'raise'"),
        ({"max_values": 0}, "max_values must be a positive integer"),
        ({"max_values": -1}, "max_values must be a positive integer"),
        ({"max_values": True}, "max_values must be a positive integer"),
        ({"max_values": 2.0}, "max_values must be a positive integer"),
        ({"max_age": 0}, "revocation_max_age must be a positive"),
        ({"max_age": float("nan")}, "revocation_max_age must be a positive"),
    ],
)
def test_revocation_constructor_checks(options: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"store": MemoryRevocationStore(), "cookie": COOKIE, **options}
    with pytest.raises(ValueError, match=message):
        Revocation(**arguments)


def test_max_values_of_one_is_accepted() -> None:
    assert Revocation(MemoryRevocationStore(), COOKIE, max_values=1).max_values == 1


def test_the_filter_keeps_what_it_was_given() -> None:
    store = MemoryRevocationStore()
    app = App()
    f = RevocationFilter(app, store, COOKIE)
    assert (f.app, f.store, f.cookie) == (app, store, COOKIE)
    assert f.revocation.store is store and f.revocation.max_values == 4


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(memory_revocation.time, "monotonic", c)
    return c


def test_memory_store_forgets_a_token_when_its_ttl_runs_out(clock: Clock) -> None:
    store = MemoryRevocationStore()
    store.revoke("t", 10)
    assert store.is_revoked("t") and len(store) == 1
    clock.now += 9.999
    assert store.is_revoked("t")
    clock.now += 0.001
    assert not store.is_revoked("t") and len(store) == 0
    assert not store.is_revoked("never")


def test_memory_store_keeps_the_longest_ttl(clock: Clock) -> None:
    store = MemoryRevocationStore()
    store.revoke("t", 100)
    store.revoke("t", 10)
    clock.now += 50
    assert store.is_revoked("t")
    store.revoke("t", 100)
    clock.now += 99
    assert store.is_revoked("t")


def test_memory_store_purges_expired_tokens_at_most_once_a_minute(clock: Clock) -> None:
    store = MemoryRevocationStore()
    store.revoke("old", 5)  # the first revoke purges and schedules the next purge
    clock.now += 10
    store.revoke("new", 100)  # within the minute: "old" stays in memory, expired
    assert set(store._expiry) == {"old", "new"}
    clock.now += 50  # 60 s after the first purge: exactly due
    store.revoke("newer", 100)
    assert set(store._expiry) == {"new", "newer"}
    clock.now += 59.5
    store.revoke("x", 1)
    assert set(store._expiry) == {"new", "newer", "x"}


def test_memory_store_purge_keeps_tokens_expiring_later_than_now(clock: Clock) -> None:
    store = MemoryRevocationStore()
    store.revoke("a", 60)
    clock.now += 60  # "a" expires exactly now
    store.revoke("b", 1)
    assert set(store._expiry) == {"b"}


def test_memory_store_refuses_a_bad_ttl() -> None:
    with pytest.raises(ValueError, match=r"^ttl must be a positive"):
        MemoryRevocationStore().revoke("t", 0)


def test_a_request_without_a_cookie_header_passes_whatever_the_cookie_name() -> None:
    for name in ("X", "XX", "session"):
        app = App()
        environ = {"wsgi.url_scheme": "http"}
        RevocationFilter(app, revoked_store("R"), CookieSpec(name))(
            environ, lambda s, h, e=None: None)
        assert app.environ is environ
