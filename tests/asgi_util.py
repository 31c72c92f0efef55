"""Raw ASGI calls for the tests of the ASGI middleware: scopes made by hand (or from a
WSGI environ, for the parity tests), a ``receive`` that records what was asked of it,
and the answer collected from ``send`` -- no test client between the test and the
middleware.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from reliability_util import Answer

from logout_middleware import DEFAULT_LOGOUT_PATH

LOGOUT = DEFAULT_LOGOUT_PATH
T = TypeVar("T")

#: The environ keys of the headers that have no ``HTTP_`` prefix.
_PLAIN = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on a fresh event loop."""
    return asyncio.run(coro)


def http_scope(
    path: str = "/",
    method: str = "GET",
    *,
    headers: Iterable[tuple[str, str]] = (),
    query: str = "",
    root_path: str = "",
    scheme: str = "http",
    **extra: Any,
) -> dict[str, Any]:
    """An ``http`` scope as uvicorn makes it (``path`` includes ``root_path``)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": root_path + path,
        "raw_path": (root_path + path).encode("utf-8", "surrogateescape"),
        "root_path": root_path,
        "query_string": query.encode("latin-1"),
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "server": ("localhost", 80),
        "client": ("127.0.0.1", 50000),
        **extra,
    }


def websocket_scope(
    path: str = "/ws", *, headers: Iterable[tuple[str, str]] = ()
) -> dict[str, Any]:
    """A ``websocket`` handshake scope."""
    scope = http_scope(path, headers=headers, scheme="ws")
    scope["type"] = "websocket"
    del scope["method"]
    scope["subprotocols"] = []
    return scope


def scope_from_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """The ``http`` scope of the request a WSGI ``environ`` describes, as an ASGI server
    would make it from the same bytes: ``path`` is ``SCRIPT_NAME + PATH_INFO`` under
    ``root_path = SCRIPT_NAME``, headers are the ``HTTP_*`` keys (and the two plain
    ones) as latin-1 bytes. ``SERVER_PORT`` is kept as the string it is, so that the
    core sees the very same text through both adapters."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:].lower().replace("_", "-")
        elif key in _PLAIN:
            name = _PLAIN[key]
        else:
            continue
        headers.append((name.encode("latin-1"), value.encode("latin-1")))
    script = environ.get("SCRIPT_NAME", "")
    remote = environ.get("REMOTE_ADDR")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": environ.get("REQUEST_METHOD", "GET"),
        "scheme": environ.get("wsgi.url_scheme", "http"),
        "path": script + environ.get("PATH_INFO", ""),
        "root_path": script,
        "query_string": environ.get("QUERY_STRING", "").encode("latin-1"),
        "headers": headers,
        "server": (environ.get("SERVER_NAME", ""), environ.get("SERVER_PORT", "")),
        "client": None if remote is None else (remote, 50000),
    }


@dataclass
class Receive:
    """``receive``: the given messages in order, then ``http.disconnect`` for ever.
    Counts the calls, and can raise instead (a server whose client hung up)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    raises: BaseException | None = None
    calls: int = 0

    @classmethod
    def body(cls, data: bytes, *, chunk: int = 0) -> Receive:
        """The body in one message, or in messages of ``chunk`` bytes."""
        if not chunk or not data:
            return cls([{"type": "http.request", "body": data, "more_body": False}])
        parts = [data[i : i + chunk] for i in range(0, len(data), chunk)]
        return cls(
            [
                {"type": "http.request", "body": part, "more_body": i < len(parts) - 1}
                for i, part in enumerate(parts)
            ]
        )

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.raises is not None:
            raise self.raises
        if self.calls <= len(self.messages):
            return self.messages[self.calls - 1]
        return {"type": "http.disconnect"}


@dataclass
class Sent:
    """``send``: every message the application sent."""

    messages: list[dict[str, Any]] = field(default_factory=list)

    async def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def answer(self) -> Answer:
        """The ``http`` answer: status, headers (latin-1 strings), the whole body."""
        start = [m for m in self.messages if m["type"] == "http.response.start"]
        assert len(start) == 1, self.messages
        parts = [m.get("body", b"") for m in self.messages if m["type"] == "http.response.body"]
        raw = start[0].get("headers", [])
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in raw]
        body = b"".join(parts)
        return Answer(start[0]["status"], headers, body)


async def call(app: Any, scope: dict[str, Any], receive: Receive | None = None) -> Answer:
    """Call ``app`` with ``scope`` and return its ``http`` answer."""
    sent = Sent()
    await app(scope, receive or Receive.body(b""), sent)
    return sent.answer()


def request(app: Any, scope: dict[str, Any], receive: Receive | None = None) -> Answer:
    """:func:`call` on a fresh event loop."""
    return run(call(app, scope, receive))


class AsgiApp:
    """An ASGI application that answers ``299 From App`` to ``http`` requests (and
    accepts websockets) and records the scopes it saw."""

    def __init__(self, status: int = 299, body: bytes = b"from the app") -> None:
        self.scopes: list[dict[str, Any]] = []
        self.status, self.body = status, body
        self.set_cookies: list[str] = []

    @property
    def calls(self) -> int:
        return len(self.scopes)

    def cookie(self, index: int = -1) -> str | None:
        """The ``cookie`` header the ``index``-th call saw (``None``: no such header)."""
        found = [v for k, v in self.scopes[index]["headers"] if k == b"cookie"]
        assert len(found) <= 1, found
        return found[0].decode("latin-1") if found else None

    async def __call__(self, scope: dict[str, Any], receive: Callable[..., Any], send: Any) -> None:
        self.scopes.append(scope)
        extra = [(b"set-cookie", c.encode("latin-1")) for c in self.set_cookies]
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            await send({"type": "websocket.accept", "headers": extra})
            await send({"type": "websocket.close", "code": 1000})
            return
        if scope["type"] != "http":
            return
        headers = [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(self.body)).encode()),
            *extra,
        ]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": self.body})
