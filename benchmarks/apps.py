"""The WSGI pieces every section shares: the bare app, the null middleware, the
hand-written logout floors, ``environ`` builders and a no-op ``start_response``.

Nothing here prints or stores a raw session id: ids are random, live only in the
``environ`` dicts and stores of one measurement, and are never written out.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import dump_cookie, parse_cookie

from logout_middleware import DEFAULT_LOGOUT_PATH

__all__ = [
    "COOKIE",
    "LOGOUT_PATH",
    "PAGE_PATH",
    "NullMiddleware",
    "bare_app",
    "consume",
    "floor_logout",
    "floor_logout_prebuilt",
    "logout_environ",
    "new_ids",
    "page_environ",
    "start_response",
]

COOKIE = "session"
LOGOUT_PATH = DEFAULT_LOGOUT_PATH
PAGE_PATH = "/dashboard/projects"

_STATUS = "200 OK"
_HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")]
_BODY = [b"ok"]


def bare_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The application behind every middleware: a constant answer."""
    start_response(_STATUS, _HEADERS)
    return _BODY


class NullMiddleware:
    """The cheapest possible middleware: a class whose ``__call__`` only calls the app."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        return self.app(environ, start_response)


def _write(data: bytes) -> None:
    pass


def start_response(
    status: str, headers: list[tuple[str, str]], exc_info: object = None
) -> Callable[[bytes], None]:
    """What a server passes: accepts the status and headers, keeps nothing."""
    return _write


def consume(result: Iterable[bytes]) -> None:
    """Do what a server does with a response: iterate it, then ``close()`` it."""
    for _ in result:
        pass
    close = getattr(result, "close", None)
    if close is not None:
        close()


def new_ids(n: int) -> list[str]:
    """``n`` random session ids in the bundled stores' format (43 URL-safe characters).

    One ``os.urandom`` call for all of them, so that a million take well under a second.
    """
    raw = base64.urlsafe_b64encode(os.urandom(33 * n)).decode("ascii")
    return [raw[i * 44 : i * 44 + 43] for i in range(n)]


def _base_environ(method: str, path: str) -> dict[str, Any]:
    # What gunicorn puts in a request's environ, minus the socket objects.
    return {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "SERVER_SOFTWARE": "gunicorn/23.0.0",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "50000",
        "HTTP_HOST": "localhost:8000",
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "HTTP_ACCEPT": "application/json, text/plain, */*",
        "HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.5",
        "HTTP_ACCEPT_ENCODING": "gzip, deflate",
        "HTTP_CONNECTION": "keep-alive",
        "CONTENT_LENGTH": "0",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def page_environ(cookie: str | None = None) -> dict[str, Any]:
    """A GET for an ordinary page, with the session cookie ``cookie`` when given."""
    environ = _base_environ("GET", PAGE_PATH)
    if cookie is not None:
        environ["HTTP_COOKIE"] = f"{COOKIE}={cookie}; theme=dark; _ga=GA1.1.123456789.1700000000"
    return environ


def logout_environ(
    session_id: str,
    *,
    path: str = LOGOUT_PATH,
    cookie: str = COOKIE,
    extra_cookies: str = "",
    **headers: str,
) -> dict[str, Any]:
    """A POST to the logout path with the session cookie (and ``extra_cookies``)."""
    environ = _base_environ("POST", path)
    environ["HTTP_COOKIE"] = f"{cookie}={session_id}{extra_cookies}"
    environ.update(headers)
    return environ


_OK_BODY = json.dumps({"message": "OK"}).encode("utf-8")


def floor_logout(sessions: dict[str, Any]) -> Callable[..., Iterable[bytes]]:
    """The least a correct logout does, written by hand with werkzeug's helpers.

    Route on path and method, parse the cookie, delete the record from a dict, build
    the expiring ``Set-Cookie`` with ``dump_cookie`` and the JSON body: every request.
    """

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != LOGOUT_PATH:
            return bare_app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST")])
            return [b""]
        session_id = parse_cookie(environ).get(COOKIE)
        if session_id:
            sessions.pop(session_id, None)
        body = json.dumps({"message": "OK"}).encode("utf-8")
        start_response(
            "200 OK",
            [
                ("Content-Type", "application/json"),
                ("Cache-Control", "no-store"),
                ("Content-Length", str(len(body))),
                (
                    "Set-Cookie",
                    dump_cookie(
                        COOKIE, "", max_age=0, expires=0, path="/", httponly=True, samesite="Lax"
                    ),
                ),
            ],
        )
        return [body]

    return app


def floor_logout_prebuilt(sessions: dict[str, Any]) -> Callable[..., Iterable[bytes]]:
    """:func:`floor_logout` with the body and the ``Set-Cookie`` value built once."""
    headers = [
        ("Content-Type", "application/json"),
        ("Cache-Control", "no-store"),
        ("Content-Length", str(len(_OK_BODY))),
        (
            "Set-Cookie",
            dump_cookie(COOKIE, "", max_age=0, expires=0, path="/", httponly=True, samesite="Lax"),
        ),
    ]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != LOGOUT_PATH:
            return bare_app(environ, start_response)
        if environ.get("REQUEST_METHOD") != "POST":
            start_response("405 Method Not Allowed", [("Allow", "POST")])
            return [b""]
        session_id = parse_cookie(environ).get(COOKIE)
        if session_id:
            sessions.pop(session_id, None)
        start_response("200 OK", headers[:])
        return [_OK_BODY]

    return app
