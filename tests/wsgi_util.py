"""Helpers shared by the middleware's tests: tiny WSGI apps and a validated client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from wsgiref.validate import validator

from webtest import TestApp

from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware, MemoryBackend

LOGOUT = DEFAULT_LOGOUT_PATH


def hello_app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
    """Answers 200 with the cookie header it saw, and sets two cookies of its own."""
    body = f"hello {environ.get('HTTP_COOKIE', '')}".encode("latin-1")
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(body))),
            ("Set-Cookie", "a=1; Path=/"),
            ("Set-Cookie", "b=2; Path=/"),
        ],
    )
    return [body]


def login_app(backend: Any, **cookie: Any) -> Any:
    """An app whose ``/login`` creates a session and sets its cookie the way a real
    app would (``dump_cookie`` with ``cookie`` attributes); other paths say hello."""
    from werkzeug.http import dump_cookie

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/login":
            return hello_app(environ, start_response)
        sid = backend.create({"user": "ada"})
        header = dump_cookie("session", sid, **{"httponly": True, "samesite": "Lax", **cookie})
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", header)])
        return [sid.encode()]

    return app


class RecordingBackend(MemoryBackend):
    """A MemoryBackend that remembers every delete call."""

    def __init__(self) -> None:
        super().__init__()
        self.deleted: list[str] = []

    def delete(self, session_id: str) -> None:
        self.deleted.append(session_id)
        super().delete(session_id)


class FailingBackend:
    """A backend whose store is broken: delete raises with a recognisable text."""

    def __init__(self, message: str = "store unreachable") -> None:
        self.message = message
        self.calls: list[str] = []

    def delete(self, session_id: str) -> None:
        self.calls.append(session_id)
        raise ConnectionError(self.message)


def client(
    backend: Any = None, app: Any = hello_app, **options: Any
) -> tuple[TestApp, LogoutMiddleware]:
    """A WebTest client for ``LogoutMiddleware(app, backend, **options)``; every
    response is checked by ``wsgiref.validate.validator``."""
    middleware = LogoutMiddleware(app, backend if backend is not None else MemoryBackend(),
                                  **options)
    return TestApp(validator(middleware)), middleware


def set_cookies(response: Any) -> list[str]:
    """All Set-Cookie header values of a WebTest response."""
    return [v for k, v in response.headerlist if k.lower() == "set-cookie"]


def cookie_attrs(header: str) -> tuple[str, dict[str, str]]:
    """Split a Set-Cookie value into ``"name=value"`` and ``{attr-lower: value}``."""
    first, *rest = [p.strip() for p in header.split(";")]
    attrs = {}
    for part in rest:
        key, _, value = part.partition("=")
        attrs[key.lower()] = value
    return first, attrs


class ClosingBody:
    """A streaming body that records whether the server called ``close()``."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.chunks)

    def close(self) -> None:
        self.closed = True
