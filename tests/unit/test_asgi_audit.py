"""An adversarial audit of the ASGI twin (logout_middleware.asgi) by generated inputs:
scopes and message sequences that real servers, wrapping middleware or odd clients
can produce, checked against the answers the twin gives to the plain scope (the one
the parity test compares with the WSGI class) and against the docs' behaviour table.

* equivalent spellings of one request (header container, name case, HTTP/2 cookie
  crumbs, optional keys left out, the body in any chunking, ``more_body`` never false
  then ``http.disconnect``) get the same answer, store and application call;
* odd scopes and message sequences (any header bytes, any root_path/path pair,
  garbage or raising ``receive``, ``send`` raising) give a documented status, and no
  exception leaves the middleware but the one ``send`` raised;
* the path is matched as Starlette's router reads ``path`` under ``root_path``;
* a ``send`` that raises comes after the sessions are ended and the logout reported.

The defects found here (one-shot header iterables through the revocation filter, a
non-bytes body chunk) are fixed; their tests stay, at the end.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import re
from collections.abc import Callable
from typing import Any

import pytest
import reliability.test_fuzz as fuzz
from asgi_util import AsgiApp, Receive, Sent, http_scope, scope_from_environ
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from reliability.test_fuzz import APP_BODY, MODES, SESSION_IDS, Mode, requests
from reliability_util import BrokenInput, SeededBackend, checked_call

from logout_middleware import (
    DEFAULT_LOGOUT_PATH,
    LogoutEvent,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)
from logout_middleware import LogoutMiddleware as WSGILogoutMiddleware
from logout_middleware.asgi import LogoutMiddleware

LOGOUT = DEFAULT_LOGOUT_PATH
EVERYWHERE = "/logout/everywhere"
FORM = "application/x-www-form-urlencoded"
EXAMPLES = int(os.environ.get("ASGI_AUDIT_EXAMPLES", "150"))

#: Every status the logout paths answer (docs/configuration: 200, 303, 400 for a bad
#: keep_current, 403, 405, 500) and the test application's own.
DOCUMENTED = frozenset({200, 303, 400, 403, 405, 500})
APP_STATUS = 299

_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


@dataclasses.dataclass
class Twin:
    mode: Mode
    asgi: LogoutMiddleware
    app: AsgiApp


def twin(name: str) -> Twin:
    """The fuzzer's mode ``name`` and an ASGI twin built with its very arguments."""
    built: list[tuple[Any, dict[str, Any]]] = []
    wsgi_class = fuzz.LogoutMiddleware

    def record(app: Any, backend: Any, **options: Any) -> Any:
        built.append((backend, options))
        return wsgi_class(app, backend, **options)

    fuzz.LogoutMiddleware = record  # type: ignore[misc]
    try:
        mode = MODES[name]()
    finally:
        fuzz.LogoutMiddleware = wsgi_class  # type: ignore[misc]
    [(backend, options)] = built
    app = AsgiApp(status=APP_STATUS, body=APP_BODY)
    return Twin(mode, LogoutMiddleware(app, backend, **options), app)


def _latin1(environ: dict[str, Any]) -> bool:
    try:
        for value in environ.values():
            if isinstance(value, str):
                value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return True


def _outcome(tw: Twin, scope: dict[str, Any], receive: Any) -> tuple[Any, ...]:
    """What the twin did: answer (error reference masked), app calls and the cookie the
    app saw (however many headers carried it), the store afterwards."""
    tw.mode.backend.seed(SESSION_IDS)
    calls, sent = tw.app.calls, Sent()
    asyncio.run(tw.asgi(scope, receive, sent))
    answer = sent.answer()
    cookie = None
    if tw.app.calls > calls:
        seen = tw.app.scopes[-1]["headers"]
        cookie = "; ".join(v.decode("latin-1") for k, v in seen if k.lower() == b"cookie")
    body = re.sub(rb"[0-9a-f]{12}", b"<ref>", answer.body)
    headers = [(k.lower(), re.sub(r"[0-9a-f]{12}", "<ref>", v)) for k, v in answer.headers]
    store = dict(getattr(tw.mode.backend, "records", {}))
    return answer.status, headers, body, tw.app.calls - calls, cookie, store


def _receive(body: Any, split: Callable[[bytes], list[dict[str, Any]]]) -> Receive:
    """The body as ``split`` sends it; a client gone after ``n`` bytes as those bytes
    and ``http.disconnect`` (the parity test's mapping)."""
    if isinstance(body, BrokenInput):
        data, good = body._data, body._good
        if not good:
            return Receive()
        return Receive([{"type": "http.request", "body": data[:good], "more_body": True}])
    return Receive(split(body))


def _whole(body: bytes) -> list[dict[str, Any]]:
    return [{"type": "http.request", "body": body, "more_body": False}]


@st.composite
def _splits(draw: st.DrawFn) -> Callable[[bytes], list[dict[str, Any]]]:
    """The same body in chunks of ``size`` bytes, ended by ``more_body: false`` on the
    last chunk, by an empty last message, or never (``http.disconnect`` follows)."""
    size = draw(st.integers(1, 9))
    ending = draw(st.sampled_from(["last", "empty", "disconnect"]))

    def split(body: bytes) -> list[dict[str, Any]]:
        parts = [body[i : i + size] for i in range(0, len(body), size)] or [b""]
        messages = [{"type": "http.request", "body": p, "more_body": True} for p in parts]
        if ending == "empty":
            messages.append({"type": "http.request", "body": b"", "more_body": False})
        elif ending == "last":
            messages[-1]["more_body"] = False
        return messages

    return split


def _recase(draw: st.DrawFn, name: bytes) -> bytes:
    how = draw(st.sampled_from(["lower", "upper", "title", "mixed"]))
    if how == "lower":
        return name
    if how == "upper":
        return name.upper()
    if how == "title":
        return name.title()
    flips = draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return bytes(c ^ 0x20 if 97 <= c <= 122 and f else c for c, f in zip(name, flips, strict=True))


@st.composite
def _respelt(draw: st.DrawFn, scope: dict[str, Any]) -> dict[str, Any]:
    """``scope`` spelt another way that means the same request."""
    scope = dict(scope)
    headers: list[tuple[bytes, bytes]] = []
    for name, value in scope["headers"]:
        if name == b"cookie" and b"; " in value and draw(st.booleans()):
            headers += [(name, crumb) for crumb in value.split(b"; ")]  # HTTP/2 crumbs
        else:
            headers.append((name, value))
    headers = [(_recase(draw, n), v) for n, v in headers]
    shape = draw(st.sampled_from(["tuples", "lists", "tuple"]))
    scope["headers"] = (
        [[n, v] for n, v in headers]
        if shape == "lists"
        else tuple(headers)
        if shape == "tuple"
        else headers
    )
    # Optional keys at their default may be left out (ASGI 3 http scope).
    for key, default in (
        ("root_path", ""),
        ("query_string", b""),
        ("scheme", "http"),
        ("client", None),
    ):
        if scope.get(key) == default and draw(st.booleans()):
            del scope[key]
    return scope


# -- equivalent spellings -----------------------------------------------------------------


@pytest.mark.parametrize("mode_name", sorted(MODES))
def test_equivalent_scope_spellings_and_body_chunkings_answer_alike(mode_name: str) -> None:
    """Header containers, name case, cookie crumbs, left-out optional keys and any
    chunking of the body change nothing: answer, store, app call and app cookie are
    those of the plain scope (which the parity test holds equal to the WSGI class's)."""
    tw = twin(mode_name)

    @_SETTINGS
    @given(requests(tw.mode), st.data())
    def check(request: tuple[dict[str, Any], Any], data: st.DataObject) -> None:
        environ, body = request
        assume(_latin1(environ))
        plain = scope_from_environ(environ)
        reference = _outcome(tw, plain, _receive(body, _whole))
        respelt = data.draw(_respelt(plain))
        split = data.draw(_splits())
        assert _outcome(tw, respelt, _receive(body, split)) == reference, respelt

    check()


_FORMS = st.sampled_from(
    [
        b"next=/done",
        b"next=%2Fdone&a=1",
        b"a=1&next=/x",
        b"next=http://evil.example/",
        b"next=http://accounts.example.com/bye",
        b"keep_current=1",
        b"keep_current=0&next=/k",
        b"_csrf=t0k",
        b"_csrf=t0k&next=/c",
        b"_csrf=bad",
        b"next=",
        b"",
    ]
) | st.binary(max_size=40)
_LENGTHS = st.sampled_from(
    [
        "exact",
        "exact",
        "exact",
        "missing",
        "",
        "-1",
        "+5",
        "1_0",
        "abc",
        " 12",
        "0",
        "shorter",
        "longer",
        "huge",
    ]
)


def _wsgi_and_asgi(name: str) -> tuple[Any, LogoutMiddleware, Callable[[], Any]]:
    """(WSGI middleware, its ASGI twin, a function that reseeds the stores both use and
    returns the session store) for a body-reading mode."""
    if name != "everywhere":
        tw = twin(name)

        def reseed_mode() -> Any:
            tw.mode.backend.seed(SESSION_IDS)
            return tw.mode.backend

        return tw.mode.middleware, tw.asgi, reseed_mode
    backend, index = SeededBackend(), MemorySessionIndex()
    options = {
        "index": index,
        "everywhere_path": EVERYWHERE,
        "redirect_to": "/",
        "max_form_size": 64,
    }
    wsgi = WSGILogoutMiddleware(fuzz.App(), backend, **options)

    def reseed() -> Any:
        backend.seed(SESSION_IDS)
        for sid in SESSION_IDS:
            index.add(sid, 3600, user="u")
        return backend

    return wsgi, LogoutMiddleware(AsgiApp(status=APP_STATUS), backend, **options), reseed


@pytest.mark.parametrize("mode_name", ["redirect", "csrf_form", "everywhere"])
def test_form_bodies_in_any_chunking_answer_as_the_wsgi_class(mode_name: str) -> None:
    """Redirect mode, a CSRF token in a form field and a keep_current form read the
    body: any chunking, ``more_body`` never false then ``http.disconnect``, a client
    gone after ``n`` bytes, a body longer or shorter than its Content-Length, and a
    Content-Length missing, invalid or negative give the WSGI class's answer and store
    (the WSGI body is a stream of the same bytes, or one that breaks after ``n``)."""
    wsgi, asgi, reseed = _wsgi_and_asgi(mode_name)
    path = EVERYWHERE if mode_name == "everywhere" else LOGOUT

    @_SETTINGS
    @given(
        _FORMS,
        _LENGTHS,
        st.sampled_from([FORM, FORM + "; charset=UTF-8", "text/plain"]),
        st.one_of(st.none(), st.integers(0, 40)),
        _splits(),
        st.data(),
    )
    def check(
        form: bytes,
        length: str,
        content_type: str,
        gone_after: int | None,
        split: Callable[[bytes], list[dict[str, Any]]],
        data: st.DataObject,
    ) -> None:
        body = form + (b"&tail=" + b"z" * 20 if length == "longer" else b"")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": "POST",
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "HTTP_HOST": "localhost",
            "HTTP_COOKIE": "session=s1; XSRF-TOKEN=t0k",
            "CONTENT_TYPE": content_type,
            # A server that marks the body's end, as gunicorn does and ASGI always
            # does: a form without a Content-Length is read too.
            "wsgi.input_terminated": True,
        }
        declared = {
            "exact": str(len(form)),
            "longer": str(len(form)),
            "shorter": str(len(form) + 7),
            "huge": "99999999",
        }.get(length, length)
        if length != "missing":
            environ["CONTENT_LENGTH"] = declared
        wsgi_body: Any = body
        if gone_after is not None:
            wsgi_body = BrokenInput(body, min(gone_after, len(body)))
        backend = reseed()
        answer = checked_call(wsgi, environ, wsgi_body)
        expected = (
            answer.status,
            [(k.lower(), re.sub(r"[0-9a-f]{12}", "<ref>", v)) for k, v in answer.headers],
            re.sub(rb"[0-9a-f]{12}", b"<ref>", answer.body),
            dict(backend.records),
        )
        scope = data.draw(_respelt(scope_from_environ(environ)))
        got = _outcome_of(asgi, reseed, scope, _receive(wsgi_body, split))
        assert got == expected, (environ, scope)

    check()


def _outcome_of(
    asgi: LogoutMiddleware, reseed: Callable[[], Any], scope: dict[str, Any], receive: Receive
) -> tuple[Any, ...]:
    backend = reseed()
    sent = Sent()
    asyncio.run(asgi(scope, receive, sent))
    answer = sent.answer()
    return (
        answer.status,
        [(k.lower(), re.sub(r"[0-9a-f]{12}", "<ref>", v)) for k, v in answer.headers],
        re.sub(rb"[0-9a-f]{12}", b"<ref>", answer.body),
        dict(backend.records),
    )


# -- odd scopes and message sequences -------------------------------------------------


class SendGone(Exception):
    """The client went away: ``send`` raises."""


class ReceiveGone(Exception):
    """The client went away: ``receive`` raises."""


def _everywhere_twin() -> LogoutMiddleware:
    backend, index = MemoryBackend({"s1": {}, "s2": {}}), MemorySessionIndex()
    for sid in ("s1", "s2"):
        index.add(sid, 3600, user="u")
    return LogoutMiddleware(
        AsgiApp(status=APP_STATUS),
        backend,
        index=index,
        everywhere_path=EVERYWHERE,
        redirect_to="/",
    )


_NAMES = st.sampled_from(
    [
        b"cookie",
        b"Cookie",
        b"COOKIE",
        b"host",
        b"Host",
        b"origin",
        b"content-type",
        b"Content-Type",
        b"content-length",
        b"Content-Length",
        b"sec-fetch-site",
        b"x-xsrf-token",
        b"X-XSRF-Token",
        b"referer",
        b"user-agent",
        b"x-\xe9",
        b"\xff",
        b"",
    ]
) | st.binary(max_size=6)
_VALUES = st.sampled_from(
    [
        b"session=s1",
        b"session=s1; XSRF-TOKEN=t0k",
        b"XSRF-TOKEN=t0k",
        b"t0k",
        b"localhost",
        FORM.encode(),
        b"5",
        b"10",
        b"14",
        b"-1",
        b"",
        b"\xff\xfe",
        b"same-origin",
        b"cross-site",
        b"http://localhost",
    ]
) | st.binary(max_size=12)
_MESSAGES = st.one_of(
    st.builds(
        lambda b, m: {"type": "http.request", "body": b, "more_body": m},
        st.sampled_from([b"next=/x", b"keep_current=1", b"_csrf=t0k"]) | st.binary(max_size=9),
        st.booleans(),
    ),
    st.just({"type": "http.disconnect"}),
    st.just({"type": "http.request"}),
    st.just({}),
    st.just({"type": "websocket.receive", "bytes": b"x"}),
    st.just("raise"),
)
_PATHS = st.sampled_from(
    [
        ("", LOGOUT),
        ("/app", "/app" + LOGOUT),
        ("/app/", "/app/" + LOGOUT[1:]),
        ("/app/", "/app/" + LOGOUT),
        ("/app", LOGOUT),
        ("/app", "/app"),
        ("", ""),
        ("", "/"),
        ("/", LOGOUT),
        (None, LOGOUT),
        ("", "/logout"),
        ("", EVERYWHERE),
        ("/x", "/x" + EVERYWHERE),
        ("", LOGOUT + "/"),
        ("", "/\xe9" + LOGOUT),
        (LOGOUT, LOGOUT),
    ]
)
_OPTIONAL = st.fixed_dictionaries(
    {},
    optional={
        "server": st.sampled_from([None, ("h", 80), ("::1", 8000), ["x", 1], ("/sock", None)]),
        "client": st.sampled_from([None, ("127.0.0.1", 5), ["::1", 0]]),
        "scheme": st.sampled_from(["http", "https", "HTTPS"]),
        "query_string": st.sampled_from([b"", b"next=/x", b"keep_current=1", b"\xff=\xfe"]),
        "method": st.sampled_from(["POST", "GET", "post", "DELETE", "HEAD"]),
    },
)


@pytest.mark.parametrize(
    "mode_name",
    ["defaults", "csrf_form", "redirect", "revocation", "failing", "signed", "everywhere"],
)
def test_odd_scopes_and_message_sequences_give_a_documented_status(mode_name: str) -> None:
    """Any header bytes, spelling or repetition, any root_path/path pair, optional keys
    left out, a ``receive`` that returns garbage or raises, a ``send`` that raises: the
    logout paths answer once with a documented status, every other request reaches the
    application, and only the exception ``send`` raised leaves the middleware."""
    if mode_name == "everywhere":
        middleware = _everywhere_twin()
        backend: Any = None
    else:
        tw = twin(mode_name)
        middleware, backend = tw.asgi, tw.mode.backend

    @_SETTINGS
    @given(
        st.lists(st.tuples(_NAMES, _VALUES), max_size=8),
        st.sampled_from(["tuples", "lists", "tuple"]),
        _PATHS,
        _OPTIONAL,
        st.lists(_MESSAGES, max_size=6),
        st.integers(0, 2),
    )
    def check(
        headers: list[tuple[bytes, bytes]],
        shape: str,
        paths: tuple[str | None, str],
        optional: dict[str, Any],
        messages: list[Any],
        send_fails_at: int,
    ) -> None:
        if backend is not None:
            backend.seed(SESSION_IDS)
        root, path = paths
        scope: dict[str, Any] = {"type": "http", "path": path, "method": "POST", **optional}
        scope["headers"] = (
            [[n, v] for n, v in headers]
            if shape == "lists"
            else tuple(headers)
            if shape == "tuple"
            else headers
        )
        if root is not None:
            scope["root_path"] = root
        pending = iter(messages)

        async def receive() -> Any:
            message = next(pending, {"type": "http.disconnect"})
            if message == "raise":
                raise ReceiveGone
            return dict(message)

        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if len(sent) == send_fails_at:
                raise SendGone

        try:
            asyncio.run(middleware(scope, receive, send))
        except SendGone:
            assert len(sent) == send_fails_at
            return
        assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
        assert sent[0]["status"] in DOCUMENTED | {APP_STATUS}

    check()


def test_websocket_lifespan_and_unknown_scopes_reach_the_app_with_revocation_on() -> None:
    """With ``revocation`` the scopes go through the revocation filter: a lifespan, an
    unknown type and a websocket on the logout path still reach the application as
    they are (the existing pass-through test covers the twin without revocation)."""
    seen: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)

    middleware = LogoutMiddleware(app, MemoryBackend(), revocation=MemoryRevocationStore())
    scopes = [
        {"type": "lifespan", "asgi": {"version": "3.0"}},
        {"type": "webtransport", "path": LOGOUT, "headers": [(b"cookie", b"session=s1")]},
        {"type": "websocket", "path": LOGOUT, "headers": [(b"cookie", b"other=1")]},
        {"type": "http", "path": LOGOUT, "method": "GET", "headers": []},
    ]
    for scope in scopes[:3]:
        asyncio.run(middleware(scope, Receive(), Sent()))
    assert [s is o for s, o in zip(seen, scopes[:3], strict=True)] == [True] * 3
    sent = Sent()
    asyncio.run(middleware(scopes[3], Receive(), sent))
    assert sent.answer().status == 405 and len(seen) == 3


# -- the path under root_path ---------------------------------------------------------------


_SEGMENTS = st.sampled_from(
    [
        "",
        "/",
        "/app",
        "/app/",
        "/ap",
        "/x",
        LOGOUT,
        LOGOUT + "/",
        "/logout",
        "/logout/",
        "/\xe9",
        "/%2F",
        "//",
    ]
)


@_SETTINGS
@given(
    st.lists(_SEGMENTS, max_size=3).map("".join),
    st.lists(_SEGMENTS, max_size=3).map("".join),
    st.booleans(),
)
def test_the_logout_answers_exactly_where_starlettes_router_would_route(
    root: str, rest: str, prefixed: bool
) -> None:
    """The twin answers when ``path`` relative to ``root_path`` is a logout path, as
    Starlette's own ``get_route_path`` computes it (uvicorn's ``root + path``,
    hypercorn's wire path, an old server's path without its prefix, a trailing slash,
    ``root_path == path``), and hands the request on otherwise."""
    get_route_path = pytest.importorskip("starlette._utils").get_route_path
    path = (root + rest) if prefixed else rest
    app = AsgiApp(status=APP_STATUS)
    middleware = LogoutMiddleware(app, MemoryBackend(), path=[LOGOUT, "/logout"])
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "root_path": root,
        "headers": [(b"host", b"localhost")],
    }
    sent = Sent()
    asyncio.run(middleware(scope, Receive(), sent))
    expected = 200 if get_route_path(scope) in (LOGOUT, "/logout") else APP_STATUS
    assert sent.answer().status == expected


# -- send raising -------------------------------------------------------------------------------


class _ThreadedBackend(MemoryBackend):
    nonblocking = False  # called in a worker thread


class _AsyncBackend:
    def __init__(self, sessions: dict[str, Any]) -> None:
        self.sessions = dict(sessions)

    async def delete(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

    def __contains__(self, session_id: object) -> bool:
        return session_id in self.sessions


@pytest.mark.parametrize("fails_at", [1, 2], ids=["on-start", "on-body"])
@pytest.mark.parametrize("kind", ["on-the-loop", "threaded", "async"])
def test_a_send_that_raises_comes_after_the_session_is_ended_and_reported(
    kind: str, fails_at: int, caplog: pytest.LogCaptureFixture
) -> None:
    """A client gone while the answer is sent: the exception of ``send`` propagates
    (as a WSGI server's failed write is the server's), but the session is already
    ended and the logout already logged and emitted, whatever store the ending used."""
    backend: Any = {
        "on-the-loop": MemoryBackend,
        "threaded": _ThreadedBackend,
        "async": _AsyncBackend,
    }[kind]({"s1": {}})
    events: list[LogoutEvent] = []
    middleware = LogoutMiddleware(AsgiApp(), backend, on_logout=[events.append])
    scope = http_scope(LOGOUT, "POST", headers=[("host", "localhost"), ("cookie", "session=s1")])
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if len(sent) == fails_at:
            raise ConnectionResetError("client gone")

    with caplog.at_level(logging.INFO, "logout_middleware"), pytest.raises(ConnectionResetError):
        asyncio.run(middleware(scope, Receive(), send))
    assert "s1" not in backend and len(sent) == fails_at
    assert [e.outcome for e in events] == ["ok"]
    assert [r.getMessage().split(":")[0] for r in caplog.records] == ["logout ok"]


# -- defects found by this audit, fixed ------------------------------------------------


_ONE_SHOT_HEADERS = [
    [(b"host", b"localhost"), (b"cookie", b"other=1"), (b"x-a", b"1")],
    [(b"host", b"localhost"), (b"cookie", b"session=never-revoked"), (b"x-a", b"1")],
    [(b"x-a", b"1")],
]


@pytest.mark.parametrize(
    "headers", _ONE_SHOT_HEADERS, ids=["other-cookie", "live-session", "no-cookie"]
)
def test_revocation_hands_a_one_shot_header_iterable_on_intact(
    headers: list[tuple[bytes, bytes]],
) -> None:
    app = AsgiApp(status=APP_STATUS)
    middleware = LogoutMiddleware(app, MemoryBackend(), revocation=MemoryRevocationStore())
    scope = {"type": "http", "method": "GET", "path": "/page", "headers": iter(headers)}
    sent = Sent()
    asyncio.run(middleware(scope, Receive(), sent))
    assert sent.answer().status == APP_STATUS
    assert list(app.scopes[-1]["headers"]) == headers


@pytest.mark.parametrize("body", ["next=/x", [b"next=/x"]], ids=["str", "list"])
def test_a_body_message_that_is_not_bytes_is_read_as_no_body(body: Any) -> None:
    backend = MemoryBackend({"s1": {}})
    middleware = LogoutMiddleware(AsgiApp(), backend, redirect_to="/")
    scope = http_scope(
        LOGOUT,
        "POST",
        headers=[
            ("host", "localhost"),
            ("cookie", "session=s1"),
            ("content-type", FORM),
            ("content-length", "7"),
        ],
    )
    receive = Receive([{"type": "http.request", "body": body, "more_body": False}])
    sent = Sent()
    asyncio.run(middleware(scope, receive, sent))
    assert sent.answer().status == 303 and "s1" not in backend
