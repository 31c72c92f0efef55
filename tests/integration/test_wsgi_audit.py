"""WSGI audit: PEP 3333 compliance and "every other request passes through untouched".

* ``validator(LogoutMiddleware(validator(app), ...))`` with every feature on
  (revocation, double-submit token with a form field, redirect mode, log out
  everywhere with an index, ``Clear-Site-Data``): pass-through, revoked pass-through,
  logout, log out everywhere, ``405``/``403``, ``HEAD``, https.
* Pass-through hands back the app's own iterable, ``write()`` callable and
  ``exc_info`` second call, with generators that raise and lazy ``start_response``,
  with and without the revocation filter's wrapped ``start_response`` (a request with
  no cookie, a valid one, a revoked one).
* Odd environs a server may produce, one by one and in seeded random combinations:
  a documented status, never an exception out of the middleware.
* A real gunicorn (sync and gthread): ``HEAD`` on the logout path, ``Expect:
  100-continue`` with a form body in redirect mode, pipelined keep-alive requests
  after logouts whose body was not read (a body that is itself a request must never
  be answered), chunked bodies.

The gunicorn app is :data:`gunicorn_app` below (this module, imported by gunicorn).
"""

from __future__ import annotations

import io
import logging
import os
import random
import socket
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import WSGIWarning, validator

import pytest
from webtest import TestApp

from logout_middleware import (
    LogoutMiddleware,
    MemoryBackend,
    MemoryRevocationStore,
    MemorySessionIndex,
)

LOGOUT = "/logout"
EVERYWHERE = "/logout/everywhere"
UNICODE_LOGOUT = "/d\u00e9connexion"  # PATH_INFO spells it "/d\xc3\xa9connexion"
DOCUMENTED = frozenset({200, 303, 400, 403, 405, 500})
TOKEN = "tok"


# -- the full-featured middleware ---------------------------------------------------


def every_feature(**extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {
        "path": [LOGOUT, UNICODE_LOGOUT],
        "revocation": MemoryRevocationStore(),
        "revocation_max_age": 60,
        "csrf_cookie_name": "XSRF-TOKEN",
        "csrf_header_name": "X-XSRF-TOKEN",
        "csrf_field_name": "_csrf",
        "redirect_to": "/bye",
        "clear_site_data": ("cache", "cookies", "storage"),
        "index": MemorySessionIndex(),
        "everywhere_path": EVERYWHERE,
        "also_expire": ["remember"],
    }
    options.update(extra)
    return options


def text_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = f"app {environ['PATH_INFO']} cookie={environ.get('HTTP_COOKIE', '-')}".encode(
        "latin-1", "replace"
    )
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _validated(app: Any, **options: Any) -> tuple[TestApp, LogoutMiddleware, MemoryBackend]:
    backend = MemoryBackend()
    middleware = LogoutMiddleware(validator(app), backend, **every_feature(**options))
    return TestApp(validator(middleware)), middleware, backend


def _login(backend: MemoryBackend, middleware: LogoutMiddleware, user: str = "ada") -> str:
    sid = backend.create({"user": user})
    middleware.index.add(sid, 60, user=user)  # type: ignore[union-attr]
    return sid


def _cookie(sid: str) -> str:
    return f"session={sid}; XSRF-TOKEN={TOKEN}; remember=1"


def _revoke(test_app: TestApp, sid: str) -> None:
    response = test_app.post(LOGOUT, headers={"Cookie": _cookie(sid), "X-XSRF-TOKEN": TOKEN})
    assert response.status_int == 303


# -- 1. validator on both sides, every feature on -----------------------------------


def test_validated_pass_through_without_valid_and_revoked_cookie() -> None:
    test_app, middleware, backend = _validated(text_app)
    assert test_app.get("/page").text == "app /page cookie=-"
    valid = _login(backend, middleware)
    response = test_app.get("/page", headers={"Cookie": _cookie(valid)})
    assert response.text == f"app /page cookie={_cookie(valid)}"
    assert "Set-Cookie" not in response.headers
    revoked = _login(backend, middleware)
    _revoke(test_app, revoked)
    response = test_app.get("/page", headers={"Cookie": _cookie(revoked)})
    assert response.text == "app /page cookie=XSRF-TOKEN=tok; remember=1"
    assert any(h.startswith("session=;") for h in response.headers.getall("Set-Cookie"))
    # POST with a body on another path: the app reads it, untouched.
    assert test_app.post("/page", {"a": "b"}).text == "app /page cookie=-"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_validated_logout_paths_every_answer(scheme: str) -> None:
    test_app, middleware, backend = _validated(text_app)
    base = {"wsgi.url_scheme": scheme}
    sid = _login(backend, middleware)
    headers = {"Cookie": _cookie(sid), "X-XSRF-TOKEN": TOKEN}
    answer = test_app.post(LOGOUT + "?next=/after", headers=headers, extra_environ=base)
    assert answer.status_int == 303
    assert answer.headers["Location"].startswith(scheme + "://")
    assert answer.headers["Location"].endswith("/after")
    assert ("Clear-Site-Data" in answer.headers) == (scheme == "https")
    # the form field carries the token, the form names next
    sid = _login(backend, middleware)
    answer = test_app.post(
        LOGOUT, {"_csrf": TOKEN, "next": "/form"}, headers={"Cookie": _cookie(sid)},
        extra_environ=base,
    )
    assert answer.status_int == 303 and answer.headers["Location"].endswith("/form")
    assert sid not in backend._sessions  # type: ignore[attr-defined]
    # the unicode path, as a server spells it in PATH_INFO
    sid = _login(backend, middleware)
    answer = test_app.post(
        "/d%C3%A9connexion", headers={"Cookie": _cookie(sid), "X-XSRF-TOKEN": TOKEN},
        extra_environ=base,
    )
    assert answer.status_int == 303
    # log out everywhere, keep_current in the form
    a, b = _login(backend, middleware, "bob"), _login(backend, middleware, "bob")
    answer = test_app.post(
        EVERYWHERE, {"keep_current": "1", "_csrf": TOKEN}, headers={"Cookie": _cookie(a)},
        extra_environ=base,
    )
    assert answer.status_int == 303
    assert a in backend._sessions and b not in backend._sessions  # type: ignore[attr-defined]
    assert test_app.post(
        EVERYWHERE + "?keep_current=maybe", headers=headers, extra_environ=base, status=400
    ).status_int == 400
    # refusals and other methods
    test_app.post(LOGOUT, headers={"Cookie": _cookie(sid)}, extra_environ=base, status=403)
    test_app.post(
        LOGOUT, headers={**headers, "Origin": "https://evil.example"}, extra_environ=base,
        status=403,
    )
    for method in ("get", "head", "options", "put", "delete"):
        response = getattr(test_app, method)(
            LOGOUT, headers=headers, extra_environ=base, status=405
        )
        assert response.headers["Allow"] == "POST"


def test_validated_logout_when_the_store_fails_is_500() -> None:
    class Failing(MemoryBackend):
        def delete(self, session_id: str) -> None:
            raise ConnectionError("down")

    middleware = LogoutMiddleware(validator(text_app), Failing(), **every_feature())
    test_app = TestApp(validator(middleware))
    headers = {"Cookie": _cookie("abc"), "X-XSRF-TOKEN": TOKEN}
    logging.disable(logging.CRITICAL)
    try:
        response = test_app.post(LOGOUT, headers=headers, status=500)
    finally:
        logging.disable(logging.NOTSET)
    assert response.json["message"].startswith("Internal server error.")


# -- 2. pass-through: the app's own objects, through the filter too ------------------


class Body:
    """An iterable with close(), recording it."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = list(chunks)
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True


class Server:
    """A minimal PEP 3333 server side: records start_response calls, re-raises
    exc_info once headers are "sent", returns its own write callable."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[tuple[str, str]], Any]] = []
        self.sent = False
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent = True
        self.written.append(data)

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        if exc_info is not None and self.sent:
            raise exc_info[1].with_traceback(exc_info[2])
        self.calls.append((status, headers, exc_info))
        return self.write


COOKIE_STATES = ["none", "valid", "revoked"]


def _environ(path: str = "/page", method: str = "GET", **extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "PATH_INFO": path, "SCRIPT_NAME": "", "REQUEST_METHOD": method, **extra
    }
    setup_testing_defaults(environ)
    return environ


def _through(app: Any, state: str) -> tuple[LogoutMiddleware, dict[str, Any]]:
    """The full-featured middleware around ``app``, and a GET environ whose cookie is
    absent, valid or revoked."""
    backend = MemoryBackend()
    middleware = LogoutMiddleware(app, backend, **every_feature())
    if state == "none":
        return middleware, _environ()
    sid = _login(backend, middleware)
    if state == "revoked":
        _revoke(TestApp(middleware), sid)
    return middleware, _environ(HTTP_COOKIE=_cookie(sid))


def _deletion_added(state: str, headers: list[tuple[str, str]]) -> bool:
    added = any(h == "Set-Cookie" and v.startswith("session=;") for h, v in headers)
    return added == (state == "revoked")


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_returns_the_apps_iterable_and_close_reaches_it(state: str) -> None:
    body = Body([b"a", b"b"])

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body

    middleware, environ = _through(app, state)
    server = Server()
    result = middleware(environ, server.start_response)
    assert result is body
    assert b"".join(result) == b"ab"
    result.close()  # type: ignore[attr-defined]
    assert body.closed
    assert _deletion_added(state, server.calls[0][1])


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_keeps_the_file_wrapper_result(state: str) -> None:
    class Wrapped(Body):
        pass

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return environ["wsgi.file_wrapper"](io.BytesIO(b"data"), 4096)

    middleware, environ = _through(app, state)
    environ["wsgi.file_wrapper"] = lambda filelike, blksize=8192: Wrapped([filelike.read()])
    result = middleware(environ, Server().start_response)
    assert type(result) is Wrapped  # what the server would sendfile


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_hands_back_the_servers_write_callable(state: str) -> None:
    seen: dict[str, Any] = {}

    def app(environ: Any, start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        seen["write"] = write
        write(b"written ")
        return [b"returned"]

    middleware, environ = _through(app, state)
    server = Server()
    result = middleware(environ, server.start_response)
    assert seen["write"] == server.write  # the bound method of this very server
    assert server.written == [b"written "] and list(result) == [b"returned"]


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_forwards_exc_info_before_headers_are_sent(state: str) -> None:
    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("in app")
        except ValueError:
            info = sys.exc_info()
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], info)
            seen.append(info)
        return [b"error page"]

    seen: list[Any] = []
    middleware, environ = _through(app, state)
    server = Server()
    assert list(middleware(environ, server.start_response)) == [b"error page"]
    (status1, headers1, info1), (status2, headers2, info2) = server.calls
    assert (status1, info1) == ("200 OK", None)
    assert status2 == "500 Internal Server Error" and info2 is seen[0]
    assert _deletion_added(state, headers1) and _deletion_added(state, headers2)


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_lets_the_servers_reraise_of_exc_info_out(state: str) -> None:
    # Headers already sent: start_response(..., exc_info) re-raises; the app lets it out.
    def app(environ: Any, start_response: Any) -> Any:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial")
        try:
            raise KeyError("late")
        except KeyError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                           sys.exc_info())
        return [b"never"]

    middleware, environ = _through(app, state)
    with pytest.raises(KeyError, match="late"):
        middleware(environ, Server().start_response)


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_generator_that_raises_mid_iteration(state: str) -> None:
    closed: list[bool] = []

    def app(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Type", "text/plain")])

        def chunks() -> Iterator[bytes]:
            try:
                yield b"one"
                raise RuntimeError("mid-stream")
            finally:
                closed.append(True)

        return chunks()

    middleware, environ = _through(app, state)
    result = middleware(environ, Server().start_response)
    iterator = iter(result)
    assert next(iterator) == b"one"
    with pytest.raises(RuntimeError, match="mid-stream"):
        next(iterator)
    assert closed == [True]


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_pass_through_lazy_start_response_inside_the_first_iteration(state: str) -> None:
    def app(environ: Any, start_response: Any) -> Any:
        def chunks() -> Iterator[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"lazy"

        return chunks()

    middleware, environ = _through(app, state)
    server = Server()
    result = middleware(environ, server.start_response)
    assert server.calls == []  # nothing called before the iteration
    assert list(result) == [b"lazy"]
    assert _deletion_added(state, server.calls[0][1])


@pytest.mark.parametrize("state", COOKIE_STATES)
def test_validated_lazy_start_exc_info_and_write_through_both_validators(state: str) -> None:
    # The same app behaviours, with wsgiref's validator on both sides (via WebTest).
    def app(environ: Any, start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        if path == "/lazy":
            def chunks() -> Iterator[bytes]:
                start_response("200 OK", [("Content-Type", "text/plain")])
                yield b"lazy"
            return chunks()
        if path == "/exc":
            start_response("200 OK", [("Content-Type", "text/plain")])
            try:
                raise ValueError("x")
            except ValueError:
                start_response("500 Internal Server Error", [("Content-Type", "text/plain")],
                               sys.exc_info())
            return [b"err"]
        start_response("200 OK", [("Content-Type", "text/plain")])("via write ")
        return [b"and iterable"]

    def write_bytes_app(environ: Any, start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/write":
            write = start_response("200 OK", [("Content-Type", "text/plain")])
            write(b"via write ")
            return [b"and iterable"]
        return app(environ, start_response)

    test_app, middleware, backend = _validated(write_bytes_app)
    headers = {}
    if state != "none":
        sid = _login(backend, middleware)
        if state == "revoked":
            _revoke(test_app, sid)
        headers = {"Cookie": _cookie(sid)}
    assert test_app.get("/lazy", headers=headers).text == "lazy"
    assert test_app.get("/exc", headers=headers, status=500).text == "err"
    assert test_app.get("/write", headers=headers).text == "via write and iterable"


# -- 3. odd environs ------------------------------------------------------------------


def _post(**extra: Any) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT, "SCRIPT_NAME": "", "QUERY_STRING": "",
        "SERVER_NAME": "app.example", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "app.example", "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(), "wsgi.version": (1, 0), "wsgi.multithread": False,
        "wsgi.multiprocess": False, "wsgi.run_once": False,
        "HTTP_COOKIE": _cookie("abc"), "HTTP_X_XSRF_TOKEN": TOKEN,
    }
    for key, value in extra.items():
        if value is _ABSENT:
            environ.pop(key, None)
        else:
            environ[key] = value
    return environ


_ABSENT = object()
_FORM = {"CONTENT_TYPE": "application/x-www-form-urlencoded"}


class RaisingInput:
    def read(self, *args: Any) -> bytes:
        raise OSError("client hung up")


class TextInput:
    def read(self, *args: Any) -> str:
        return "next=/x&_csrf=tok"


def _body(data: bytes) -> dict[str, Any]:
    return {"wsgi.input": io.BytesIO(data)}


ODD: dict[str, dict[str, Any]] = {
    "path mojibake of utf-8": {"PATH_INFO": "/d\u00c3\u00a9connexion"},
    "path mojibake, everywhere": {"PATH_INFO": EVERYWHERE},
    "script name prefix": {"SCRIPT_NAME": "/studio"},
    "script name mojibake": {"SCRIPT_NAME": "/\u00c3\u00a9"},
    "method lower case": {"REQUEST_METHOD": "post"},
    "method absent": {"REQUEST_METHOD": _ABSENT},
    "no query string": {"QUERY_STRING": _ABSENT},
    "no content type/length": {"CONTENT_TYPE": _ABSENT, "CONTENT_LENGTH": _ABSENT},
    "no SERVER_*": {"SERVER_NAME": _ABSENT, "SERVER_PORT": _ABSENT, "SERVER_PROTOCOL": _ABSENT},
    "no SERVER_*, no Host": {"SERVER_NAME": _ABSENT, "SERVER_PORT": _ABSENT, "HTTP_HOST": _ABSENT},
    "no wsgi.input, form": {**_FORM, "CONTENT_LENGTH": "7", "wsgi.input": _ABSENT},
    "no wsgi.input, csrf form": {
        **_FORM, "CONTENT_LENGTH": "7", "wsgi.input": _ABSENT, "HTTP_X_XSRF_TOKEN": _ABSENT,
    },
    "content-length empty": {**_FORM, "CONTENT_LENGTH": "", **_body(b"next=/x")},
    "content-length ' 7'": {**_FORM, "CONTENT_LENGTH": " 7", **_body(b"next=/x")},
    "content-length '-1'": {**_FORM, "CONTENT_LENGTH": "-1", **_body(b"next=/x")},
    "content-length '-1', terminated": {
        **_FORM, "CONTENT_LENGTH": "-1", "wsgi.input_terminated": True, **_body(b"next=/x"),
    },
    "content-length '+7'": {**_FORM, "CONTENT_LENGTH": "+7", **_body(b"next=/x")},
    "content-length huge": {**_FORM, "CONTENT_LENGTH": "9" * 5000, **_body(b"next=/x")},
    "content-length arabic digits": {**_FORM, "CONTENT_LENGTH": "\u0667", **_body(b"next=/x")},
    "content-length > body": {**_FORM, "CONTENT_LENGTH": "100", **_body(b"next=/x")},
    "csrf form, length '-1'": {
        **_FORM, "CONTENT_LENGTH": "-1", "HTTP_X_XSRF_TOKEN": _ABSENT, **_body(b"_csrf=tok"),
    },
    "cookie non-latin-1": {"HTTP_COOKIE": "session=\u20ac\u4e2d; XSRF-TOKEN=tok"},
    "cookie lone surrogate": {"HTTP_COOKIE": "session=\udcff; XSRF-TOKEN=tok"},
    "token cookie non-latin-1": {
        "HTTP_COOKIE": "session=a; XSRF-TOKEN=\u20ac", "HTTP_X_XSRF_TOKEN": "\u20ac",
    },
    "host non-latin-1": {"HTTP_HOST": "app\u20ac.example"},
    "origin non-latin-1": {"HTTP_ORIGIN": "http://app\u20ac.example"},
    "query non-latin-1": {"QUERY_STRING": "next=/\u20ac"},
    "port non-ascii digits": {"HTTP_HOST": _ABSENT, "SERVER_PORT": "\u0667\u0660"},
    "url_scheme HTTPS": {"wsgi.url_scheme": "HTTPS"},
    "url_scheme absent": {"wsgi.url_scheme": _ABSENT},
    "input raises": {**_FORM, "CONTENT_LENGTH": "7", "wsgi.input": RaisingInput()},
    "input returns str": {**_FORM, "CONTENT_LENGTH": "17", "wsgi.input": TextInput()},
    "csrf form, input raises": {
        **_FORM, "CONTENT_LENGTH": "7", "HTTP_X_XSRF_TOKEN": _ABSENT, "wsgi.input": RaisingInput(),
    },
    "csrf form, input returns str": {
        **_FORM, "CONTENT_LENGTH": "17", "HTTP_X_XSRF_TOKEN": _ABSENT, "wsgi.input": TextInput(),
    },
    "everywhere, input raises": {
        "PATH_INFO": EVERYWHERE, **_FORM, "CONTENT_LENGTH": "7", "wsgi.input": RaisingInput(),
    },
    "chunked form, terminated": {
        **_FORM, "wsgi.input_terminated": True, **_body(b"next=/x&_csrf=tok"),
    },
    "chunked form too long": {
        **_FORM, "wsgi.input_terminated": True, **_body(b"next=/x&" + b"a" * 9000),
    },
}


class CountingApp:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        self.calls += 1
        return text_app(environ, start_response)


def _answer(middleware: Any, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    calls: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        calls.append((status, headers))
        return lambda data: None

    body = b"".join(middleware(environ, start_response))
    (status, headers), = calls
    assert isinstance(status, str) and isinstance(headers, list)
    assert all(isinstance(n, str) and isinstance(v, str) for n, v in headers)
    return int(status[:3]), headers, body


@pytest.fixture(autouse=True)
def _quiet_logs() -> Iterator[None]:
    logging.disable(logging.CRITICAL)  # expected warnings (unreadable bodies, refusals)
    yield
    logging.disable(logging.NOTSET)


@pytest.mark.parametrize("mode", ["json", "redirect"])
@pytest.mark.parametrize("case", list(ODD), ids=list(ODD))
def test_odd_environ_gets_a_documented_answer(case: str, mode: str) -> None:
    app = CountingApp()
    options = every_feature() if mode == "redirect" else every_feature(redirect_to=None)
    middleware = LogoutMiddleware(app, MemoryBackend(), **options)
    status, headers, body = _answer(middleware, _post(**ODD[case]))
    assert status in DOCUMENTED, (case, status)
    assert app.calls == 0
    assert ("Cache-Control", "no-store") in headers
    assert ("Content-Length", str(len(body))) in headers


def test_odd_environs_in_random_combinations() -> None:
    rng = random.Random(3333)
    names = list(ODD)
    middlewares = [
        LogoutMiddleware(CountingApp(), MemoryBackend(), **every_feature()),
        LogoutMiddleware(CountingApp(), MemoryBackend(), **every_feature(redirect_to=None)),
    ]
    failures: dict[str, list[str]] = {}
    for _ in range(600):
        picked = rng.sample(names, rng.randint(2, 5))
        extra: dict[str, Any] = {}
        for name in picked:
            extra.update(ODD[name])
        for key, value in extra.items():  # fresh streams per request
            if isinstance(value, io.BytesIO):
                extra[key] = io.BytesIO(value.getvalue())
        if rng.random() < 0.3:
            extra["QUERY_STRING"] = rng.choice(
                ["keep_current=1", "keep_current=x", "next=//evil.example",
                 "next=/ok&keep_current=0"]
            )
        try:
            status, _, _ = _answer(rng.choice(middlewares), _post(**extra))
        except Exception as exc:  # pragma: no cover - reported below
            failures.setdefault(f"{type(exc).__name__}: {exc}", picked)
            continue
        if status not in DOCUMENTED:  # pragma: no cover
            failures.setdefault(f"status {status}", picked)
    assert not failures, failures


def test_odd_pass_through_environs_reach_the_app_untouched() -> None:
    app = CountingApp()
    middleware = LogoutMiddleware(app, MemoryBackend(), **every_feature())
    for extra in (
        {"PATH_INFO": "/page", "HTTP_COOKIE": "session=\u20ac"},
        {"PATH_INFO": "/page", "HTTP_COOKIE": "session=\udcff"},
        {"PATH_INFO": "/d\u00e9connexion"},  # latin-1 bytes, not the UTF-8 path
        {"PATH_INFO": LOGOUT.upper()},
        {"PATH_INFO": "/page", "REQUEST_METHOD": "post", "wsgi.input": _ABSENT},
    ):
        environ = _post(**extra)
        status, _, _ = _answer(middleware, environ)
        assert status == 200
    assert app.calls == 5


def test_lower_case_method_under_the_validator_is_only_a_warning_then_405() -> None:
    middleware = LogoutMiddleware(validator(text_app), MemoryBackend(), **every_feature())
    environ = _environ(LOGOUT, "post", HTTP_COOKIE=_cookie("abc"), HTTP_X_XSRF_TOKEN=TOKEN)
    seen: list[Any] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", WSGIWarning)
        result = validator(middleware)(environ, lambda s, h, e=None: seen.append((s, h)))
        body = b"".join(result)
        result.close()
    assert any("REQUEST_METHOD" in str(w.message) for w in caught)
    (status, headers), = seen
    assert status.startswith("405") and ("Allow", "POST") in headers and body


# Non-str environ values: PEP 3333 says CGI variables are native strings, but
# EnvironHeaders.__getitem__ (request.py:264-266) turns a non-str into str, and
# Request.from_environ promises "never raises for odd values"; the readers that go
# through EnvironHeaders.get (request.py:268-271) get the raw object instead.


def test_non_str_content_length_gets_a_documented_answer() -> None:
    middleware = LogoutMiddleware(CountingApp(), MemoryBackend(), **every_feature())
    status, _, _ = _answer(middleware, _post(**_FORM, CONTENT_LENGTH=7, **_body(b"next=/x")))
    assert status in DOCUMENTED


def test_bytes_cookie_header_passes_through_with_revocation_on() -> None:
    app = CountingApp()
    middleware = LogoutMiddleware(app, MemoryBackend(), **every_feature())
    status, _, _ = _answer(middleware, _post(PATH_INFO="/page", HTTP_COOKIE=b"session=abc"))
    assert status == 200 and app.calls == 1


# -- 4. a real gunicorn -----------------------------------------------------------------


def _gunicorn_inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    body = environ["wsgi.input"].read()
    text = (
        f"app {environ['REQUEST_METHOD']} {environ['PATH_INFO']} body={len(body)} "
        f"cookie={environ.get('HTTP_COOKIE', '-')}"
    ).encode("latin-1")
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(text)))])
    return [text]


#: What gunicorn serves: a redirect-mode logout at /rlogout (token in a header or a
#: form field) behind a JSON logout at /logout with revocation and a header token.
gunicorn_app = LogoutMiddleware(
    LogoutMiddleware(
        _gunicorn_inner, MemoryBackend(), path="/rlogout", redirect_to="/bye",
        csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN", csrf_field_name="_csrf",
    ),
    MemoryBackend(), path=LOGOUT, revocation=MemoryRevocationStore(),
    csrf_cookie_name="XSRF-TOKEN", csrf_header_name="X-XSRF-TOKEN",
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
NEXT_GET = b"GET /next HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


@pytest.fixture(scope="module", params=["sync", "gthread"])
def gunicorn(request: pytest.FixtureRequest) -> Iterator[Any]:
    from gunicorn_util import start

    path = os.pathsep.join([str(ROOT), str(ROOT / "tests")])
    args = ["--threads", "2", "--keep-alive", "5"] if request.param == "gthread" else []
    with start(
        "test_wsgi_audit:gunicorn_app", workers=1, worker_class=request.param, chdir=HERE,
        env={"PYTHONPATH": path}, args=args, timeout=20,
    ) as server:
        server.kind = request.param
        yield server
    assert "/smuggled" not in server.log()


def _exchange(port: int, *parts: bytes, pause: float = 0.0) -> bytes:
    """Send ``parts`` on one connection (pausing between them) and read until the
    server closes it."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        for i, part in enumerate(parts):
            if i and pause:
                time.sleep(pause)
            sock.sendall(part)
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks)


def _responses(raw: bytes, heads: Iterable[bool] = ()) -> list[tuple[int, dict[str, str], bytes]]:
    """Split pipelined responses; ``heads`` says which requests were HEAD (no body)."""
    head_flags = list(heads)
    out: list[tuple[int, dict[str, str], bytes]] = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep, raw
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        if status == 100:
            raw = rest
            continue
        is_head = head_flags[len(out)] if len(out) < len(head_flags) else False
        length = 0 if is_head else int(headers.get("content-length", "0"))
        out.append((status, headers, rest[:length]))
        raw = rest[length:]
    return out


def _logout_request(path: bytes, body: bytes, *, form: bool = True, extra: bytes = b"") -> bytes:
    headers = (
        b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Cookie: session=abc; XSRF-TOKEN=tok\r\nX-XSRF-TOKEN: tok\r\n" + extra
    )
    if form:
        headers += b"Content-Type: application/x-www-form-urlencoded\r\n"
    return headers + b"Content-Length: %d\r\n\r\n" % len(body) + body


def _after_logout_ok(gunicorn: Any, answers: list[tuple[int, dict[str, str], bytes]],
                     first: int) -> None:
    assert answers[0][0] == first
    if gunicorn.kind == "sync":  # no keep-alive: the connection closes after one answer
        assert len(answers) == 1
        return
    # keep-alive: the next request is answered as itself, or the connection closed
    assert len(answers) in (1, 2), answers
    if len(answers) == 2:
        assert answers[1][0] == 200 and answers[1][2].startswith(b"app GET /next body=0"), answers
    for _, _, body in answers:
        assert b"/smuggled" not in body


@pytest.mark.gunicorn
@pytest.mark.parametrize("size", [0, 100, 9000, 200_000])
@pytest.mark.parametrize(
    "path, first", [(b"/logout", 200), (b"/rlogout", 303)], ids=["json", "redirect"]
)
def test_gunicorn_pipelined_request_after_a_logout_body_not_read(
    gunicorn: Any, path: bytes, first: int, size: int
) -> None:
    # The body is itself a request: were it left unread, it would be answered.
    body = (SMUGGLED * (size // len(SMUGGLED) + 1))[: max(size, len(SMUGGLED))]
    raw = _exchange(gunicorn.port, _logout_request(path, body, form=False) + NEXT_GET)
    _after_logout_ok(gunicorn, _responses(raw), first)


@pytest.mark.gunicorn
@pytest.mark.parametrize("method", [b"GET", b"PUT", b"HEAD"])
def test_gunicorn_refusals_with_a_body_keep_the_connection_sane(
    gunicorn: Any, method: bytes
) -> None:
    request = _logout_request(b"/logout", SMUGGLED).replace(b"POST", method, 1)
    raw = _exchange(gunicorn.port, request + NEXT_GET)
    answers = _responses(raw, heads=[method == b"HEAD"])
    _after_logout_ok(gunicorn, answers, 405)
    if method == b"HEAD":
        assert answers[0][1]["content-length"] != "0" and answers[0][2] == b""
    assert answers[0][1]["allow"] == "POST"


@pytest.mark.gunicorn
def test_gunicorn_cross_site_refusal_with_a_body(gunicorn: Any) -> None:
    request = _logout_request(b"/logout", SMUGGLED, extra=b"Origin: https://evil.example\r\n")
    _after_logout_ok(gunicorn, _responses(_exchange(gunicorn.port, request + NEXT_GET)), 403)


@pytest.mark.gunicorn
def test_gunicorn_head_on_the_logout_path(gunicorn: Any) -> None:
    head = b"HEAD /logout HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    answers = _responses(_exchange(gunicorn.port, head + NEXT_GET), heads=[True])
    _after_logout_ok(gunicorn, answers, 405)
    if gunicorn.kind == "gthread":
        assert len(answers) == 2


@pytest.mark.gunicorn
def test_gunicorn_expect_100_continue_form_in_redirect_mode(gunicorn: Any) -> None:
    body = b"next=%2Fafter&_csrf=tok"
    request = (
        b"POST /rlogout HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session=abc; XSRF-TOKEN=tok\r\n"
        b"Expect: 100-continue\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    )
    raw = _exchange(gunicorn.port, request, body + NEXT_GET, pause=0.2)
    assert raw.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    answers = _responses(raw)
    _after_logout_ok(gunicorn, answers, 303)
    assert answers[0][1]["location"] == "http://127.0.0.1/after"
    assert "session=;" in raw.decode("latin-1")


@pytest.mark.gunicorn
@pytest.mark.parametrize(
    "chunks, location, first",
    [
        ([b"next=", b"%2Fchunked", b"&_csrf=tok"], "http://127.0.0.1/chunked", 303),
        # longer than max_form_size: not a form, so no token either
        ([b"next=%2Fx&_csrf=tok&", b"a" * 9000], None, 403),
        ([b"_csrf=tok&", b"a" * 100, b"&next=%2Fy"], "http://127.0.0.1/y", 303),
    ],
    ids=["next", "too-long", "split"],
)
def test_gunicorn_chunked_form_in_redirect_mode(
    gunicorn: Any, chunks: list[bytes], location: str | None, first: int
) -> None:
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    request = (
        b"POST /rlogout HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session=abc; XSRF-TOKEN=tok\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n"
        + encoded
    )
    answers = _responses(_exchange(gunicorn.port, request + NEXT_GET))
    _after_logout_ok(gunicorn, answers, first)
    if location is not None:
        assert answers[0][1]["location"] == location


@pytest.mark.gunicorn
def test_gunicorn_revoked_cookie_then_pass_through_on_one_connection(gunicorn: Any) -> None:
    logout = _logout_request(b"/logout", b"", form=False)
    page = b"GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: session=abc; XSRF-TOKEN=tok\r\n\r\n"
    answers = _responses(_exchange(gunicorn.port, logout + page + NEXT_GET))
    if gunicorn.kind == "sync":  # no keep-alive: one answer, then the close
        assert [a[0] for a in answers] == [200]
        answers = [answers[0], *_responses(_exchange(gunicorn.port, page + NEXT_GET))]
        assert len(answers) == 2
        answers.append(answers[-1])
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[1][2] == b"app GET /page body=0 cookie=XSRF-TOKEN=tok"
    assert answers[1][1]["set-cookie"].startswith("session=;")
