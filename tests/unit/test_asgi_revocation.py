"""Revocation under ASGI: a revoked session is removed from ``scope["headers"]`` of
``http`` requests and ``websocket`` handshakes and expired in their answer; the
lookups are the sync filter's, as a steps generator driven on the loop or awaited."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import pytest
from asgi_util import (
    LOGOUT,
    AsgiApp,
    Receive,
    Sent,
    call,
    http_scope,
    request,
    run,
    websocket_scope,
)

from logout_middleware import CookieSpec, MemoryRevocationStore
from logout_middleware._steps import drive, drive_async
from logout_middleware.asgi import LogoutMiddleware, RevocationFilter
from logout_middleware.revocation import cookie_tokens

REVOKED = "eyJ1c2VyIjoiYWRhIn0.ZxYw.revoked-signature"
LIVE = "eyJ1c2VyIjoiYm9iIn0.ZxYw.live-signature"
EXPIRY = (
    "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/; SameSite=Lax"
)


def revoked_store(*values: str) -> MemoryRevocationStore:
    store = MemoryRevocationStore()
    for value in values:
        for token in cookie_tokens(value):
            store.revoke(token, 600)
    return store


def test_a_copied_cookie_is_worthless_after_an_asgi_logout() -> None:
    app = AsgiApp()
    middleware = LogoutMiddleware(app, None, revocation=MemoryRevocationStore())
    cookie = [("cookie", f"theme=dark; session={REVOKED}")]
    assert request(middleware, http_scope("/page", headers=cookie)).status == 299
    assert app.cookie() == f"theme=dark; session={REVOKED}"
    logout = http_scope(LOGOUT, "POST", headers=cookie)
    assert request(middleware, logout).status == 200
    answer = request(middleware, http_scope("/page", headers=cookie))
    assert answer.status == 299 and app.cookie() == "theme=dark"
    assert answer.all("Set-Cookie") == [EXPIRY]


def test_only_the_revoked_pair_goes_and_the_other_headers_stay_in_place() -> None:
    app = AsgiApp()
    middleware = RevocationFilter(app, revoked_store(REVOKED), CookieSpec("session"))
    scope = http_scope(
        "/page",
        headers=[("host", "x"), ("cookie", f'a=1; session={REVOKED}; q="x y"'), ("accept", "*/*"),
                 ("cookie", f"session={LIVE}")],  # HTTP/2 may split the header
    )
    request(middleware, scope)
    seen = app.scopes[0]
    assert seen is not scope and scope["headers"][1][1].startswith(b"a=1")  # a copy
    assert seen["headers"] == [
        (b"host", b"x"), (b"cookie", f'a=1; q="x y"; session={LIVE}'.encode()), (b"accept", b"*/*")
    ]


def test_a_header_of_nothing_but_the_revoked_cookie_is_dropped() -> None:
    app = AsgiApp()
    middleware = RevocationFilter(app, revoked_store(REVOKED), CookieSpec("session"))
    answer = request(middleware, http_scope("/", headers=[("cookie", f"session={REVOKED}")]))
    assert app.cookie() is None and answer.all("Set-Cookie") == [EXPIRY]


def test_requests_without_the_cookie_reach_the_app_with_the_same_scope() -> None:
    app = AsgiApp()
    middleware = RevocationFilter(app, revoked_store(REVOKED), CookieSpec("session"))
    for scope in (
        http_scope("/", headers=[("cookie", "theme=dark")]),
        http_scope("/"),
        websocket_scope(headers=[("cookie", "other=session")]),
        {"type": "lifespan"},
    ):
        run(middleware(scope, Receive([{"type": "websocket.connect"}]), Sent()))
        assert app.scopes[-1] is scope


def test_an_app_that_sets_the_cookie_itself_keeps_its_own_header() -> None:
    app = AsgiApp()
    app.set_cookies = ["session=fresh; Path=/"]
    middleware = RevocationFilter(app, revoked_store(REVOKED), CookieSpec("session"))
    answer = request(middleware, http_scope("/", headers=[("cookie", f"session={REVOKED}")]))
    assert answer.all("Set-Cookie") == ["session=fresh; Path=/"]


def handshake(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent = Sent()
    run(app(scope, Receive([{"type": "websocket.connect"}]), sent))
    return sent.messages


def test_a_websocket_handshake_with_a_revoked_session_carries_no_session() -> None:
    app = AsgiApp()
    middleware = LogoutMiddleware(app, None, revocation=revoked_store(REVOKED))
    scope = websocket_scope(headers=[("cookie", f"session={REVOKED}; theme=dark")])
    scope["scheme"] = "wss"
    accept, _ = handshake(middleware, scope)
    assert app.cookie() == "theme=dark"
    # Expired in the handshake's answer too (the Secure variant: wss).
    assert accept["type"] == "websocket.accept"
    [(name, value)] = accept["headers"]
    assert name == b"set-cookie" and value.startswith(b"session=;") and b"Secure" in value


def test_a_websocket_header_name_in_capitals_is_read_too() -> None:
    app = AsgiApp()
    middleware = RevocationFilter(app, revoked_store(REVOKED), CookieSpec("session"))
    scope = websocket_scope()
    scope["headers"] = [(b"Cookie", f"session={REVOKED}".encode())]
    handshake(middleware, scope)
    assert app.scopes[0]["headers"] == []


def test_a_denied_websocket_still_gets_the_expiry() -> None:
    async def deny(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "websocket.http.response.start", "status": 403, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b""})

    middleware = RevocationFilter(deny, revoked_store(REVOKED), CookieSpec("session"))
    start, _ = handshake(middleware, websocket_scope(headers=[("cookie", f"session={REVOKED}")]))
    assert [name for name, _ in start["headers"]] == [b"set-cookie"]


def test_a_failing_store_strips_the_cookie_without_expiring_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Down(MemoryRevocationStore):
        def is_revoked(self, token: str) -> bool:
            raise ConnectionError("store down")

    app = AsgiApp()
    middleware = RevocationFilter(app, Down(), CookieSpec("session"))
    with caplog.at_level(logging.ERROR, "logout_middleware"):
        answer = request(middleware, http_scope("/", headers=[("cookie", f"session={LIVE}; a=1")]))
    assert app.cookie() == "a=1" and answer.all("Set-Cookie") == []
    assert "fail closed" in caplog.records[0].getMessage()
    raising = RevocationFilter(app, Down(), CookieSpec("session"), on_error="raise")
    with pytest.raises(ConnectionError):
        request(raising, http_scope("/", headers=[("cookie", f"session={LIVE}")]))


def test_an_async_revocation_store_is_awaited_and_a_blocking_one_runs_in_a_thread() -> None:
    places: list[str] = []

    class AsyncStore:
        async def revoke(self, token: str, ttl: float) -> None:
            pass

        async def is_revoked(self, token: str) -> bool:
            places.append("loop" if threading.get_ident() == loop_thread else "thread")
            return token in cookie_tokens(REVOKED)

    class BlockingStore(AsyncStore):
        def is_revoked(self, token: str) -> bool:  # type: ignore[override]
            places.append("loop" if threading.get_ident() == loop_thread else "thread")
            return token in cookie_tokens(REVOKED)

    loop_thread = 0

    async def go(store: Any) -> str | None:
        nonlocal loop_thread
        loop_thread = threading.get_ident()
        app = AsgiApp()
        middleware = RevocationFilter(app, store, CookieSpec("session"))
        await call(middleware, http_scope("/", headers=[("cookie", f"session={REVOKED}; a=1")]))
        return app.cookie()

    assert run(go(AsyncStore())) == "a=1" and set(places) == {"loop"}
    places.clear()
    assert run(go(BlockingStore())) == "a=1" and set(places) == {"thread"}


def test_the_filter_needs_a_store_and_a_cookie() -> None:
    with pytest.raises(ValueError, match="needs a store and a cookie"):
        RevocationFilter(AsgiApp())


# -- the steps protocol ----------------------------------------------------------------------


def test_a_failing_call_is_thrown_into_the_steps_which_may_catch_it() -> None:
    def fails(x: int) -> int:
        raise KeyError(x)

    def steps() -> Any:
        try:
            yield fails, (1,)
        except KeyError as exc:
            caught = exc.args[0]
        doubled = yield (lambda x: x * 2), (caught,)
        return doubled

    def uncaught() -> Any:
        yield fails, (2,)

    assert drive(steps()) == 2
    assert run(drive_async(steps())) == 2
    with pytest.raises(KeyError):
        drive(uncaught())
    with pytest.raises(KeyError):
        run(drive_async(uncaught()))


def test_the_sync_and_async_drivers_give_the_same_revocation_verdicts() -> None:
    store = revoked_store(REVOKED)
    middleware = LogoutMiddleware(AsgiApp(), None, revocation=store)
    revocation = middleware.core.revocation
    assert revocation is not None
    for header in (f"session={REVOKED}", f"session={LIVE}", f"session={REVOKED}; session={LIVE}",
                   "; ".join(f"session=v{i}" for i in range(6))):
        reading = revocation.read(header)
        assert reading is not None
        assert drive(revocation.revoked_steps(reading)) == revocation.revoked(reading)
        assert run(drive_async(revocation.revoked_steps(reading))) == revocation.revoked(reading)


def test_a_cancelled_lookup_is_not_taken_for_a_store_failure() -> None:
    class Hangs(MemoryRevocationStore):
        nonblocking = False

        async def is_revoked(self, token: str) -> bool:  # type: ignore[override]
            await asyncio.sleep(60)
            return False

    async def go() -> None:
        app = AsgiApp()
        middleware = RevocationFilter(app, Hangs(), CookieSpec("session"))
        task = asyncio.ensure_future(
            call(middleware, http_scope("/", headers=[("cookie", f"session={LIVE}")]))
        )
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert app.calls == 0

    run(go())
