"""The WSGI adapter (logout_middleware.middleware): what it reads from the environ and
hands to the core, the form body it reads, and what it keeps."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest

from logout_middleware import LogoutMiddleware, MemoryBackend, MemoryRevocationStore
from logout_middleware.events import LogoutEvent

LOGOUT = "/logout"


def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def call(mw: Any, **environ: Any) -> tuple[str, list[tuple[str, str]], bytes]:
    env: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": LOGOUT,
                           "wsgi.url_scheme": "http", "HTTP_HOST": "app.example",
                           "wsgi.input": io.BytesIO(b""), **environ}
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    body = b"".join(mw(env, start_response))
    return seen["status"], seen["headers"], body


def form(body: bytes, length: int | None = None) -> dict[str, Any]:
    return {"CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body) if length is None else length),
            "wsgi.input": io.BytesIO(body)}


def test_the_middleware_keeps_the_app_backend_and_store() -> None:
    backend, store = MemoryBackend(), MemoryRevocationStore()
    mw = LogoutMiddleware(app, backend, path=LOGOUT, revocation=store)
    assert mw.app is app and mw.backend is backend and mw.revocation is store
    assert mw.paths == (LOGOUT,)


def test_only_content_length_bytes_of_the_form_are_read() -> None:
    mw = LogoutMiddleware(app, MemoryBackend(), path=LOGOUT, redirect_to="/bye")
    status, headers, _ = call(mw, **form(b"next=%2Fabc&next=/x", length=10))
    assert status == "303 See Other"
    assert ("Location", "http://app.example/ab") in headers  # "next=%2Fab": 10 bytes


def test_an_unreadable_body_is_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        def read(self, size: int = -1) -> bytes:
            raise OSError("client hung up")

    mw = LogoutMiddleware(app, MemoryBackend(), path=LOGOUT, redirect_to="/bye")
    with caplog.at_level(logging.WARNING, logger="logout_middleware"):
        status, headers, _ = call(mw, **{**form(b"next=/x"), "wsgi.input": Broken()})
    assert status == "303 See Other" and ("Location", "http://app.example/bye") in headers
    [record] = [r for r in caplog.records if "unreadable" in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is OSError


def test_a_body_that_is_not_bytes_is_ignored() -> None:
    class Text:
        def read(self, size: int = -1) -> str:
            return "next=/x"

    mw = LogoutMiddleware(app, MemoryBackend(), path=LOGOUT, redirect_to="/bye")
    status, headers, _ = call(mw, **{**form(b"next=/x"), "wsgi.input": Text()})
    assert status == "303 See Other" and ("Location", "http://app.example/bye") in headers


def test_the_event_carries_the_remote_address_and_user_agent_from_the_environ() -> None:
    events: list[LogoutEvent] = []
    mw = LogoutMiddleware(app, MemoryBackend(), path=LOGOUT, on_logout=[events.append])
    call(mw, REMOTE_ADDR="192.0.2.1", HTTP_USER_AGENT="UA/2", HTTP_COOKIE="session=x")
    [event] = events
    assert (event.remote_addr, event.user_agent, event.outcome) == ("192.0.2.1", "UA/2", "ok")


def test_a_request_without_path_info_goes_to_the_app() -> None:
    mw = LogoutMiddleware(app, MemoryBackend(), path=LOGOUT)
    env = {"REQUEST_METHOD": "POST", "wsgi.url_scheme": "http"}
    assert b"".join(mw(env, lambda s, h, e=None: None)) == b"app"


def test_a_revoked_cookie_is_hidden_from_the_app_behind_the_middleware() -> None:
    seen: list[str | None] = []

    def recording(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(environ.get("HTTP_COOKIE"))
        return app(environ, start_response)

    mw = LogoutMiddleware(recording, None, path=LOGOUT, revocation=MemoryRevocationStore(),
                          revocation_max_age=60)
    assert call(mw, HTTP_COOKIE="session=abc")[0] == "200 OK"
    _, headers, _ = call(mw, PATH_INFO="/page", REQUEST_METHOD="GET",
                              HTTP_COOKIE="session=abc; a=1")
    assert seen == ["a=1"]
    assert any(v.startswith("session=;") for k, v in headers if k == "Set-Cookie")


@pytest.mark.parametrize("path", ["/déconnexion", "/выход", "/登出", "/a b/ß"])
def test_a_non_ascii_logout_path_matches_as_the_server_sends_it(path: str) -> None:
    from urllib.parse import quote

    from webtest import TestApp

    backend = MemoryBackend()
    sid = backend.create({})
    app = TestApp(LogoutMiddleware(lambda e, s: [], backend, path=path))
    app.set_cookie("session", sid)
    # The URL is percent-encoded UTF-8; WebTest, like every WSGI server, puts its
    # bytes in PATH_INFO as latin-1.
    response = app.post(quote(path))
    assert response.json == {"message": "OK"}
    assert backend.get(sid) is None
