"""The ASGI twin (logout_middleware.asgi): the WSGI class's options and answers, pure
ASGI pass-through, the body read only when the core asks and only up to its limit,
each store call made where it belongs (awaited, on the loop, in a thread), and a
logout cancelled half way that still finishes and logs."""

from __future__ import annotations

import asyncio
import inspect
import json
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
from hypothesis import given, settings
from hypothesis import strategies as st

from logout_middleware import (
    LogoutMiddleware as WSGILogoutMiddleware,
)
from logout_middleware import (
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)
from logout_middleware.asgi import LogoutMiddleware
from logout_middleware.request import Request
from logout_middleware.view import SettingsView

EVERYWHERE = "/logout/everywhere"
FORM = "application/x-www-form-urlencoded"


def post(path: str = LOGOUT, *, cookie: str | None = None, **kw: Any) -> dict[str, Any]:
    headers = list(kw.pop("headers", []))
    if cookie is not None:
        headers.append(("cookie", cookie))
    return http_scope(path, "POST", headers=[("host", "localhost"), *headers], **kw)


# -- the options ------------------------------------------------------------------------


def test_the_asgi_class_takes_exactly_the_keywords_of_the_wsgi_class() -> None:
    def keywords(cls: type) -> list[tuple[str, Any, Any]]:
        params = inspect.signature(cls).parameters.values()
        return [(p.name, p.kind, p.default) for p in params if p.name != "app"]

    assert keywords(LogoutMiddleware) == keywords(WSGILogoutMiddleware)


BAD_SETTINGS = [
    {"path": "logout"},
    {"methods": ["P O S T"]},
    {"cookie_samesite": "Sometimes"},
    {"cookie_name": "bad name"},
    {"max_form_size": -1},
    {"redirect_to": "//evil.example"},
    {"everywhere_path": "/everywhere"},
    {"csrf_cookie_name": "XSRF-TOKEN"},
    {"trusted_origins": ["not an origin"]},
    {"revocation_max_age": 0, "revocation": MemoryRevocationStore()},
    {"on_logout": [42]},
    {"backend": None},
    {"backend": object()},
]


@pytest.mark.parametrize("bad", BAD_SETTINGS, ids=lambda b: ",".join(b))
def test_a_bad_setting_is_refused_with_the_wsgi_class_message(bad: dict[str, Any]) -> None:
    options = {"backend": MemoryBackend(), **bad}
    with pytest.raises(ValueError) as wsgi:
        WSGILogoutMiddleware(AsgiApp(), **options)
    with pytest.raises(ValueError) as asgi:
        LogoutMiddleware(AsgiApp(), **options)
    assert str(asgi.value) == str(wsgi.value)


def test_an_app_that_is_not_callable_is_refused() -> None:
    with pytest.raises(ValueError, match="ASGI application"):
        LogoutMiddleware("app", MemoryBackend())  # type: ignore[arg-type]


# -- pass-through -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "scope",
    [
        http_scope("/other", "POST", headers=[("cookie", "session=abc")]),
        http_scope(LOGOUT + "/x", "POST"),
        websocket_scope(LOGOUT, headers=[("cookie", "session=abc")]),
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        http_scope("", "POST", headers=[("cookie", "session=abc")]),
        http_scope("/x.json", "POST", headers=[("cookie", "session=abc")]),
        http_scope("/x" + LOGOUT[1:], "POST", headers=[("cookie", "session=abc")]),
        {**http_scope(LOGOUT, "POST"), "type": "webtransport"},
    ],
    ids=[
        "http",
        "http-below-the-path",
        "websocket-on-the-logout-path",
        "lifespan",
        "empty-path",
        "same-last-character",
        "same-suffix-but-not-the-path",
        "another-scope-type-on-the-logout-path",
    ],
)
def test_other_requests_reach_the_app_with_the_same_scope_receive_and_send(
    scope: dict[str, Any],
) -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append((scope, receive, send))

    backend = MemoryBackend()
    sid = backend.create({})
    receive, send = Receive(), Sent()
    before = dict(scope)
    run(LogoutMiddleware(app, backend)(scope, receive, send))
    assert seen == [(scope, receive, send)]
    assert seen[0][0] is scope and scope == before
    assert receive.calls == 0 and send.messages == []
    assert sid in backend


def test_pass_through_builds_no_request_description(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(cls: Any, scope: Any) -> None:
        raise AssertionError("pass-through must not describe the request")

    monkeypatch.setattr(Request, "from_scope", classmethod(refuse))
    app = AsgiApp()
    answer = request(LogoutMiddleware(app, MemoryBackend()), http_scope("/page"))
    assert answer.status == 299 and app.calls == 1


def test_the_path_is_compared_relative_to_root_path() -> None:
    backend = MemoryBackend()
    sid = backend.create({})
    app = AsgiApp()
    middleware = LogoutMiddleware(app, backend)
    # Mounted at /app: the logout path is /app + LOGOUT, as PATH_INFO is under SCRIPT_NAME.
    mounted = request(middleware, post(cookie=f"session={sid}", root_path="/app"))
    assert mounted.status == 200 and sid not in backend
    # A path that only ends with the logout path is someone else's, and a root path
    # is a whole number of segments ("/ap" is not the mount point of "/app/...").
    half_segment = post("/p" + LOGOUT, root_path="/ap")
    for scope in (post("/x" + LOGOUT), post("/p" + LOGOUT), half_segment):
        assert request(middleware, scope).status == 299
    # The root path itself, and a path outside it (an old server's path without it).
    at_root = LogoutMiddleware(app, backend, path="/")
    assert request(at_root, post("", root_path="/app")).status == 299
    outside = post(LOGOUT)
    outside["root_path"] = "/elsewhere"
    assert request(middleware, outside).status == 200


def test_request_from_scope_describes_what_the_core_reads() -> None:
    scope = http_scope(
        "/p",
        "POST",
        headers=[("Host", "example.com"), ("Cookie", "a=1"), ("cookie", "b=2"), ("X-A", "1"),
                 ("x-a", "2"), ("Content-Type", "text/plain")],
        query="next=%2Fx&\xe9",
        root_path="/app",
        scheme="https",
    )
    described = Request.from_scope(scope)
    assert described.method == "POST" and described.path == "/p"
    assert described.https and described.query == "next=%2Fx&\xe9"
    assert described.headers == {
        "host": "example.com", "cookie": "a=1; b=2", "x-a": "1, 2", "content-type": "text/plain"
    }
    assert (described.server_name, described.server_port) == ("localhost", "80")
    assert described.remote_addr == "127.0.0.1" and described.body is None
    bare = Request.from_scope({"type": "http", "path": "/", "headers": []})
    assert (bare.method, bare.scheme, bare.server_name, bare.server_port, bare.remote_addr) == (
        "GET", "http", "", "", None
    )
    unix = Request.from_scope({"type": "http", "path": "/", "server": ("/sock", None)})
    assert unix.server_port == ""


def _reference_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The rule, written plainly: lower-case names; a repeated header joined, the
    cookie with "; ", any other with ", "."""
    joined: dict[str, str] = {}
    for name, value in raw:
        key, text = name.decode("latin-1").lower(), value.decode("latin-1")
        if key in joined:
            text = joined[key] + ("; " if key == "cookie" else ", ") + text
        joined[key] = text
    return joined


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([b"cookie", b"Cookie", b"origin", b"ORIGIN", b"host", b"x-csrf-token",
                             b"sec-fetch-site", b"content-type", b"x-\xe9", b"x-\xc9", b"X-A"]),
            st.binary(max_size=12),
        ),
        max_size=8,
    ),
    st.booleans(),
)
def test_scope_headers_read_as_the_rule_says_whatever_their_spelling(
    raw: list[tuple[bytes, bytes]], as_tuple: bool
) -> None:
    # Lower-case distinct names are read in place; any other list is joined first:
    # both give every header the rule gives, by every name.
    scope = {"type": "http", "path": "/", "headers": tuple(raw) if as_tuple else raw}
    described = Request.from_scope(scope).headers
    expected = _reference_headers(raw)
    assert dict(described) == expected and len(described) == len(expected)
    for name in ("cookie", "origin", "host", "x-csrf-token", "sec-fetch-site", "content-type",
                 "x-\xe9", "x-a", "absent"):
        assert described.get(name) == expected.get(name)
        assert described.get(name, "") == expected.get(name, "")


def test_the_names_remembered_as_lower_case_are_bounded_and_never_mixed_case() -> None:
    # Names seen lower-case are remembered so later scopes skip the check; a client
    # sending endless new names fills the memory to its bound, no further, and every
    # scope is still read by the rule, remembered names or not.
    from logout_middleware import request as module

    for i in range(module._MAX_LOWER_NAMES + 50):
        lower = [(f"x-{i}".encode(), b"1"), (b"cookie", b"a=1")]
        mixed = [(f"x-{i}".encode(), b"2"), (b"Cookie", b"b=2"), (b"cookie", b"c=3")]
        twice = [(f"x-{i}".encode(), b"3"), (b"cookie", b"d=4"), (b"cookie", b"e=5")]
        for raw in (lower, mixed, twice):
            described = Request.from_scope({"type": "http", "path": "/", "headers": raw})
            assert dict(described.headers) == _reference_headers(raw)
            assert described.headers.get("cookie") == _reference_headers(raw)["cookie"]
    assert len(module._LOWER_NAMES) == module._MAX_LOWER_NAMES  # filled, not past
    assert all(name == name.lower() and name.isascii() for name in module._LOWER_NAMES)


# -- the logout path ----------------------------------------------------------------------


def test_a_logout_answers_studios_ok_and_deletes_the_session() -> None:
    backend, app = MemoryBackend(), AsgiApp()
    sid, other = backend.create({}), backend.create({})
    sent = Sent()
    run(LogoutMiddleware(app, backend)(post(cookie=f"session={sid}"), Receive(), sent))
    start, body = sent.messages
    assert start["type"] == "http.response.start" and start["status"] == 200
    assert start["headers"] == [
        (b"content-type", b"application/json"),
        (b"cache-control", b"no-store"),
        (b"content-length", b"17"),
        (b"set-cookie", b"session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; "
                        b"HttpOnly; Path=/; SameSite=Lax"),
    ]
    assert body == {"type": "http.response.body", "body": b'{"message": "OK"}'}
    assert sid not in backend and other in backend and app.calls == 0


def test_other_methods_get_405_and_a_failing_store_500_with_the_cookie_expired() -> None:
    class Down:
        def delete(self, session_id: str) -> None:
            raise ConnectionError("store down")

    answer = request(LogoutMiddleware(AsgiApp(), MemoryBackend()), http_scope(LOGOUT, "GET"))
    assert answer.status == 405 and answer.header("Allow") == "POST"
    failed = request(LogoutMiddleware(AsgiApp(), Down()), post(cookie="session=abc"))
    assert failed.status == 500
    assert json.loads(failed.body)["message"].startswith("Internal server error. Error reference")
    assert failed.header("Set-Cookie", ).startswith("session=;")  # type: ignore[union-attr]


def test_a_cross_site_logout_is_refused_and_deletes_nothing() -> None:
    backend = MemoryBackend()
    sid = backend.create({})
    scope = post(cookie=f"session={sid}", headers=[("sec-fetch-site", "cross-site")])
    answer = request(LogoutMiddleware(AsgiApp(), backend), scope)
    assert answer.status == 403 and sid in backend


# -- the body ------------------------------------------------------------------------------


def test_the_body_is_not_read_when_the_answer_does_not_need_it() -> None:
    receive = Receive.body(b"next=/elsewhere")
    for middleware, scope in [
        (LogoutMiddleware(AsgiApp(), MemoryBackend()), post(headers=[("content-type", FORM)])),
        # Redirect mode, but next is in the query, or the body is not a small form.
        (LogoutMiddleware(AsgiApp(), MemoryBackend(), redirect_to="/"),
         post(headers=[("content-type", FORM), ("content-length", "15")], query="next=/x")),
        (LogoutMiddleware(AsgiApp(), MemoryBackend(), redirect_to="/", max_form_size=10),
         post(headers=[("content-type", FORM), ("content-length", "15")])),
        (LogoutMiddleware(AsgiApp(), MemoryBackend(), redirect_to="/"),
         post(headers=[("content-type", "application/json"), ("content-length", "15")])),
    ]:
        run(call(middleware, scope, receive))
    assert receive.calls == 0


def test_a_redirect_form_is_read_up_to_its_length_only() -> None:
    form = b"next=%2Fdone&x=" + b"a" * 30
    receive = Receive.body(form + b"TRAILING-GARBAGE" * 10, chunk=8)
    middleware = LogoutMiddleware(AsgiApp(), MemoryBackend(), redirect_to="/")
    scope = post(headers=[("content-type", FORM), ("content-length", str(len(form)))])
    answer = run(call(middleware, scope, receive))
    assert answer.status == 303 and answer.header("Location") == "http://localhost/done"
    assert receive.calls == -(-len(form) // 8)  # the chunks that hold the form, no more


def test_a_client_gone_before_its_body_is_logged_and_logged_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = MemoryBackend()
    sid = backend.create({})
    middleware = LogoutMiddleware(AsgiApp(), backend, redirect_to="/")
    scope = post(cookie=f"session={sid}", headers=[("content-type", FORM), ("content-length", "9")])
    with caplog.at_level(logging.WARNING, "logout_middleware"):
        for receive in (Receive(), Receive(raises=OSError("reset"))):
            answer = run(call(middleware, scope, receive))
            assert answer.status == 303 and answer.header("Location") == "http://localhost/"
    assert [r.getMessage() for r in caplog.records] == [
        "logout form body unreadable; next ignored"
    ] * 2
    assert sid not in backend
    # What arrived before a disconnect is what there is, as a short WSGI read.
    partial = Receive([{"type": "http.request", "body": b"next=/a", "more_body": True}])
    answer = run(call(middleware, scope, partial))
    assert answer.header("Location") == "http://localhost/a" and partial.calls == 2


def test_log_out_everywhere_reads_keep_current_from_a_form() -> None:
    backend, index = MemoryBackend(), MemorySessionIndex()
    alice = [backend.create({}) for _ in range(3)]
    for sid in alice:
        index.add(sid, 3600, user="alice")
    middleware = LogoutMiddleware(AsgiApp(), backend, index=index, everywhere_path=EVERYWHERE)
    form = b"keep_current=1"
    scope = post(EVERYWHERE, cookie=f"session={alice[0]}",
                 headers=[("content-type", FORM), ("content-length", str(len(form)))])
    answer = run(call(middleware, scope, Receive.body(form)))
    assert answer.status == 200 and json.loads(answer.body) == {"message": "OK", "ended": 2}
    assert answer.all("Set-Cookie") == []
    assert alice[0] in backend and not any(sid in backend for sid in alice[1:])
    assert index.find("user", "alice") == {alice[0]}


def test_end_user_sessions_is_a_coroutine_with_the_wsgi_checks() -> None:
    backend, index = MemoryBackend(), MemorySessionIndex()
    sids = [backend.create({}) for _ in range(3)]
    for sid in sids:
        index.add(sid, 3600, user="bob")
    middleware = LogoutMiddleware(AsgiApp(), backend, index=index)
    assert run(middleware.end_user_sessions("bob", keep=sids[0])) == 2
    assert index.find("user", "bob") == {sids[0]} and sids[0] in backend
    with pytest.raises(ValueError, match="non-empty string"):
        run(middleware.end_user_sessions(""))
    with pytest.raises(ValueError, match="needs index"):
        run(LogoutMiddleware(AsgiApp(), backend).end_user_sessions("bob"))


# -- where each store call is made ---------------------------------------------------------


class Threads:
    """Records the thread of each store call; the loop's thread is ``loop``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.loop: int | None = None

    def note(self, what: str) -> None:
        self.seen.append((what, threading.get_ident()))

    def places(self) -> list[tuple[str, str]]:
        return [(w, "loop" if t == self.loop else "thread") for w, t in self.seen]


def logout_from_loop(middleware: Any, threads: Threads, scope: dict[str, Any]) -> Any:
    async def go() -> Any:
        threads.loop = threading.get_ident()
        return await call(middleware, scope)

    return run(go())


def test_a_coroutine_backend_is_awaited_on_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = Threads()

    class AsyncBackend:
        async def delete(self, session_id: str) -> None:
            await asyncio.sleep(0)
            threads.note(f"delete {session_id}")

    async def no_thread(*args: Any) -> None:
        raise AssertionError("a coroutine store call went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_thread)
    answer = logout_from_loop(LogoutMiddleware(AsgiApp(), AsyncBackend()), threads,
                              post(cookie="session=s1"))
    assert answer.status == 200
    assert threads.places() == [("delete s1", "loop")]


def test_a_plain_backend_runs_in_a_worker_thread_never_on_the_loop() -> None:
    threads = Threads()

    class PlainBackend:
        def delete(self, session_id: str) -> None:
            threads.note(f"delete {session_id}")

    class PlainIndex(MemorySessionIndex):
        nonblocking = False  # a store of one's own that says nothing runs in a thread

        def remove_many(self, session_ids: Any) -> None:
            threads.note("remove_many")
            super().remove_many(session_ids)

    middleware = LogoutMiddleware(AsgiApp(), PlainBackend(), index=PlainIndex())
    answer = logout_from_loop(middleware, threads, post(cookie="session=s1"))
    assert answer.status == 200
    assert threads.places() == [("delete s1", "thread"), ("remove_many", "thread")]


def test_the_memory_stores_are_called_on_the_loop_without_a_thread_hop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads = Threads()

    class Backend(MemoryBackend):
        def delete(self, session_id: str) -> None:
            threads.note("delete")
            super().delete(session_id)

    class Index(MemorySessionIndex):
        def remove_many(self, session_ids: Any) -> None:
            threads.note("remove_many")
            super().remove_many(session_ids)

    class Revoked(MemoryRevocationStore):
        def revoke(self, token: str, ttl: float) -> None:
            threads.note("revoke")
            super().revoke(token, ttl)

    def no_hop(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a memory store call left the event loop")

    monkeypatch.setattr(asyncio, "to_thread", no_hop)
    monkeypatch.setattr(asyncio, "ensure_future", no_hop)  # not even a task of its own
    middleware = LogoutMiddleware(AsgiApp(), Backend(), index=Index(), revocation=Revoked())
    answer = logout_from_loop(middleware, threads, post(cookie="session=s1"))
    assert answer.status == 200
    places = threads.places()
    assert places[0] == ("delete", "loop") and places[-1] == ("remove_many", "loop")
    assert {place for _, place in places} == {"loop"} and ("revoke", "loop") in places


def test_mixed_stores_each_go_where_they_belong() -> None:
    threads = Threads()

    class AsyncBackend:
        async def delete(self, session_id: str) -> None:
            threads.note("delete")

    class Index(MemorySessionIndex):
        def remove_many(self, session_ids: Any) -> None:
            threads.note("remove_many")

    class SlowRevocations(MemoryRevocationStore):
        nonblocking = False

        def revoke(self, token: str, ttl: float) -> None:
            threads.note("revoke")

    middleware = LogoutMiddleware(AsgiApp(), AsyncBackend(), index=Index(),
                                  revocation=SlowRevocations())
    logout_from_loop(middleware, threads, post(cookie="session=s1"))
    places = dict(threads.places())
    assert places == {"delete": "loop", "revoke": "thread", "remove_many": "loop"}


# -- a request cancelled half way -------------------------------------------------------------


class Gate:
    """An async backend whose ``delete`` waits at a gate, so a test can cancel the
    request in the middle of the ending."""

    def __init__(self, fail: bool = False) -> None:
        self.entered = asyncio.Event()
        self.open = asyncio.Event()
        self.deleted: list[str] = []
        self.fail = fail

    async def delete(self, session_id: str) -> None:
        self.entered.set()
        await self.open.wait()
        if self.fail:
            raise ConnectionError("store down")
        self.deleted.append(session_id)


@pytest.mark.parametrize("fail", [False, True])
def test_a_logout_cancelled_mid_ending_finishes_it_and_logs(
    fail: bool, caplog: pytest.LogCaptureFixture
) -> None:
    events: list[Any] = []

    async def go() -> tuple[Gate, Sent, Any]:
        gate = Gate(fail)
        index = MemorySessionIndex()
        index.add("s1", 3600, user="ada")
        middleware = LogoutMiddleware(AsgiApp(), gate, index=index, on_logout=[events.append])
        sent = Sent()
        task = asyncio.ensure_future(middleware(post(cookie="session=s1"), Receive(), sent))
        await gate.entered.wait()
        task.cancel()  # the server gives up on the request: the client went away
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.deleted == [] and events == []  # not done yet, not reported yet
        gate.open.set()
        for _ in range(20):
            await asyncio.sleep(0)
        assert not middleware._orphans
        return gate, sent, index

    with caplog.at_level(logging.INFO, "logout_middleware"):
        gate, sent, index = run(go())
    assert sent.messages == []  # nobody to answer
    messages = [r.getMessage().splitlines()[0] for r in caplog.records]
    assert messages[0].startswith("logout request cancelled (the client went away?)")
    if fail:
        assert gate.deleted == [] and index.find("user", "ada") == {"s1"}
        assert messages[1].startswith("logout failed: error reference")
        assert [e.outcome for e in events] == ["error"]
    else:
        assert gate.deleted == ["s1"] and index.find("user", "ada") == set()
        assert messages[1:] == ["logout ok: session=" + events[0].session + " remote=127.0.0.1"]
        assert [(e.outcome, e.status) for e in events] == [("ok", 200)]


class CancellingStore:
    """An async backend whose ``delete`` raises CancelledError by itself (a store
    client that cancels its own call), while nobody cancelled the request."""

    async def delete(self, session_id: str) -> None:
        await asyncio.sleep(0)
        raise asyncio.CancelledError


def test_a_store_that_raises_cancelled_error_is_a_failing_store(
    caplog: pytest.LogCaptureFixture,
) -> None:
    events: list[Any] = []
    middleware = LogoutMiddleware(AsgiApp(), CancellingStore(), on_logout=[events.append])
    sent = Sent()
    with caplog.at_level(logging.INFO, "logout_middleware"):
        run(middleware(post(cookie="session=s1"), Receive(), sent))
    start, _body = sent.messages
    assert start["status"] == 500
    assert any(n == b"set-cookie" and v.startswith(b"session=;") for n, v in start["headers"])
    assert [(e.outcome, e.status) for e in events] == [("error", 500)]
    messages = [r.getMessage() for r in caplog.records]
    assert not any("cancelled (the client went away?)" in m for m in messages)
    assert any("StoreCancelled" in m for m in messages)
    assert not middleware._orphans


def test_each_answer_gets_a_header_list_of_its_own() -> None:
    """The prebuilt answers are encoded for ASGI once; a wrapper that adds a header to
    the list it is sent (as Starlette's middlewares do) changes that answer only."""
    backend = MemoryBackend()
    middleware = LogoutMiddleware(AsgiApp(), backend)

    async def adding(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message["headers"].append((b"x-added", b"1"))

    def log_out(send: Any) -> None:
        scope = post(cookie=f"session={backend.create({})}")
        run(middleware(scope, Receive(), send))

    log_out(adding)
    sent = Sent()
    log_out(sent)
    [start] = [m for m in sent.messages if m["type"] == "http.response.start"]
    names = [name for name, _ in start["headers"]]
    assert b"x-added" not in names and names[0] == b"content-type"
    fresh = LogoutMiddleware(AsgiApp(), backend)
    assert sent.answer() == request(fresh, post(cookie=f"session={backend.create({})}"))


def test_the_twin_shows_the_same_settings_as_the_wsgi_class() -> None:
    # Every read-only property of the WSGI class, on the twin built with the same
    # options, says the same thing.
    names = [n for n, v in vars(SettingsView).items() if isinstance(v, property)]
    assert len(names) >= 12
    index, revocation = MemorySessionIndex(), MemoryRevocationStore()
    options: dict[str, Any] = {
        "path": ["/out", "/bye"],
        "methods": ("POST", "DELETE"),
        "cookie_name": "sid",
        "also_expire": ["remember"],
        "csrf_cookie_name": "XSRF-TOKEN",
        "csrf_header_name": "X-XSRF-TOKEN",
        "redirect_to": "/login",
        "revocation": revocation,
        "index": index,
        "everywhere_path": EVERYWHERE,
        "session_id_from_cookie": str.strip,
    }
    backend = MemoryBackend()
    wsgi = WSGILogoutMiddleware(lambda e, s: [], backend, **options)
    twin = LogoutMiddleware(AsgiApp(), backend, **options)
    for name in names:
        assert getattr(twin, name) == getattr(wsgi, name) or name in ("origin_guard", "csrf_guard")
    assert (twin.backend, twin.index, twin.revocation) == (backend, index, revocation)
    assert twin.paths == ("/out", "/bye") and twin.everywhere_path == EVERYWHERE
    assert twin.redirect_to == "/login" and twin.methods == ("POST", "DELETE")
    assert type(twin.origin_guard) is type(wsgi.origin_guard)
    assert twin.csrf_guard is not None and twin.csrf_guard.header_name == "X-XSRF-TOKEN"
    with pytest.raises(AttributeError):
        twin.paths = ("/x",)  # type: ignore[misc]
