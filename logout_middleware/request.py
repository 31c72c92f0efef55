"""The plain description of a request that the decision core reads.

A server adapter (the WSGI middleware; the ASGI twin) builds one :class:`Request`
per request on a path the core answers; the core never sees ``environ`` or an ASGI
``scope``. Header values are strings with one character per byte (latin-1), as both
WSGI and ASGI (``bytes.decode("latin-1")``) give them, so every byte a client can
send is representable and nothing here can fail to decode.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ._wsgi import WSGIEnvironment

__all__ = [
    "EnvironHeaders",
    "Request",
    "ScopeHeaders",
    "environ_text",
    "text_to_wsgi",
    "wsgi_https",
    "wsgi_to_text",
]

_EMPTY: Mapping[str, str] = {}
# The environ keys of the headers the core reads, computed once.
_KEYS = {
    name: "HTTP_" + name.upper().replace("-", "_")
    for name in ("cookie", "origin", "host", "sec-fetch-site", "user-agent", "referer")
}
_KEYS.update({"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"})


@dataclass(slots=True)
class Request:
    """What the core needs to know of one request.

    :ivar method: the request method, as sent.
    :ivar path: the path, relative to the application's mount point.
    :ivar scheme: ``"http"`` or ``"https"``.
    :ivar headers: the request headers by lower-case name (``"cookie"``, ``"origin"``,
        ``"host"``, ``"content-type"``...), latin-1 strings.
    :ivar query: the raw query string.
    :ivar server_name: the server's own name, used when there is no ``Host``.
    :ivar server_port: the server's port, as a string, likewise.
    :ivar remote_addr: the peer's address, for logs and events.
    :ivar body: the request body when the core asked for it, else ``None``.
    :ivar body_terminated: whether the body can be read to its end without a
        ``Content-Length`` (a chunked or HTTP/2 body): always under ASGI; under WSGI
        when the server says so (``wsgi.input_terminated``, as gunicorn, waitress and
        mod_wsgi do).
    """

    method: str
    path: str
    scheme: str = "http"
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    query: str = ""
    server_name: str = ""
    server_port: str = ""
    remote_addr: str | None = None
    body: bytes | None = None
    body_terminated: bool = False

    def header(self, name: str) -> str:
        """The header ``name`` (lower case), or ``""`` when it was not sent."""
        return self.headers.get(name) or ""

    @property
    def https(self) -> bool:
        """Whether the request came over https."""
        return self.scheme == "https"

    def with_body(self, body: bytes) -> Request:
        """The same request, with the body the core asked for."""
        # Built directly: dataclasses.replace costs four times as much.
        return Request(
            self.method,
            self.path,
            self.scheme,
            self.headers,
            self.query,
            self.server_name,
            self.server_port,
            self.remote_addr,
            body,
            self.body_terminated,
        )

    @classmethod
    def from_environ(cls, environ: WSGIEnvironment) -> Request:
        """Describe a WSGI request (PEP 3333); never raises for odd values.

        The path is text, as ASGI gives it: ``PATH_INFO``'s bytes (a latin-1 string
        under PEP 3333) read as UTF-8.
        """
        get = environ.get
        return cls(
            get("REQUEST_METHOD", ""),
            wsgi_to_text(get("PATH_INFO", "")),
            "https" if wsgi_https(environ) else "http",
            EnvironHeaders(environ),
            get("QUERY_STRING", ""),
            get("SERVER_NAME", ""),
            get("SERVER_PORT", ""),
            get("REMOTE_ADDR"),
            None,
            get("wsgi.input_terminated") is True,
        )

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> Request:
        """Describe an ASGI ``http`` (or ``websocket``) connection scope.

        The path is relative to the mount point, as WSGI's ``PATH_INFO``: ``path``
        less a leading ``root_path`` (the ASGI rule: ``path`` includes ``root_path``;
        a ``path`` that does not start with it is taken as it is). Header names are
        lower-cased; a header sent more than once is joined, ``Cookie`` with ``"; "``
        (as HTTP/2 asks), any other with ``", "``.
        """
        path: str = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):
            if len(path) == len(root):
                path = ""
            elif path[len(root)] == "/":
                path = path[len(root) :]
        raw = scope.get("headers") or ()
        if not isinstance(raw, list):
            raw = list(raw)
        table = dict(raw)
        # What servers send: lower-case ASCII names, none repeated. Read where needed.
        headers: Mapping[str, str]
        if len(table) == len(raw) and (table.keys() <= _LOWER_NAMES or _lower_names(table)):
            headers = ScopeHeaders(table)
        else:
            headers = _joined(raw)
        server, client = scope.get("server"), scope.get("client")
        return cls(
            scope.get("method", "GET"),
            path,
            "https" if scope.get("scheme") in ("https", "wss") else "http",
            headers,
            (scope.get("query_string") or b"").decode("latin-1"),
            server[0] if server else "",
            _port_text(server[1]) if server else "",
            client[0] if client else None,
            None,
            True,  # receive says where the body ends
        )


# Header names seen to be lower-case ASCII (a few hundred at most: a client may send
# any name; past the bound, new names are checked on each request instead).
_LOWER_NAMES: set[bytes] = set()
_MAX_LOWER_NAMES = 512


def _lower_names(table: Mapping[bytes, Any]) -> bool:
    """Whether every name of ``table`` is lower-case ASCII; the names are remembered."""
    names = b"".join(table)
    if not (names.isascii() and (names.islower() or not names)):
        return False
    if len(_LOWER_NAMES) < _MAX_LOWER_NAMES:
        _LOWER_NAMES.update(table)
    return True


# The text of the few ports a server listens on.
_PORTS: dict[Any, str] = {}


def _port_text(port: Any) -> str:
    if type(port) is not int:  # None: a Unix socket
        return "" if port is None else str(port)
    text = _PORTS.get(port)
    if text is None:
        text = str(port)
        if len(_PORTS) < 16:
            _PORTS[port] = text
    return text


def _joined(raw: list[Any]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in raw:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name in headers:
            value = headers[name] + ("; " if name == "cookie" else ", ") + value
        headers[name] = value
    return headers


def wsgi_https(environ: WSGIEnvironment) -> bool:
    """Whether a WSGI request came over https: ``wsgi.url_scheme`` is ``"https"``, as
    PEP 3333 spells it (any other spelling is no scheme PEP 3333 knows: http, as the
    ASGI twin reads a ``scheme`` other than ``https`` and ``wss``)."""
    return environ.get("wsgi.url_scheme") == "https"


def environ_text(value: Any) -> str:
    """An ``environ`` value as the string PEP 3333 says it is: bytes (a server that
    breaks the rule) read as latin-1, anything else through ``str``."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def wsgi_to_text(value: str) -> str:
    """A PEP 3333 string (bytes as latin-1) as the UTF-8 text it encodes; unchanged
    when it is ASCII or not UTF-8."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:  # not latin-1 (not from a server), or not UTF-8
        return value


def text_to_wsgi(value: str) -> str:
    """Text as a PEP 3333 string: its UTF-8 bytes as latin-1 (what ``PATH_INFO`` holds)."""
    return value if value.isascii() else value.encode("utf-8").decode("latin-1")


# The names the core reads, encoded once (a few dozen at most: the core's own and the
# configured token header; any other name is encoded when asked for).
_NAME_BYTES: dict[str, bytes] = {}


def _name_bytes(name: str) -> bytes:
    encoded = _NAME_BYTES.get(name)
    if encoded is None:
        encoded = name.encode("latin-1")
        if len(_NAME_BYTES) < 64:
            _NAME_BYTES[name] = encoded
    return encoded


class ScopeHeaders(Mapping[str, str]):
    """The headers of an ASGI scope as a read-only mapping by lower-case name, each
    value decoded (latin-1) when read: for a scope whose header names are all lower
    case and distinct, as servers send them (:meth:`Request.from_scope` joins the
    others into a plain dict)."""

    __slots__ = ("_table",)

    def __init__(self, table: Mapping[bytes, bytes]) -> None:
        self._table = table

    def __getitem__(self, name: str) -> str:
        return self._table[_name_bytes(name)].decode("latin-1")

    def get(self, name: str, default: Any = None) -> Any:
        """The header ``name`` (lower case), or ``default``."""
        value = self._table.get(_NAME_BYTES.get(name) or _name_bytes(name))
        return default if value is None else value.decode("latin-1")

    def __iter__(self) -> Iterator[str]:
        return (name.decode("latin-1") for name in self._table)

    def __len__(self) -> int:
        return len(self._table)


class EnvironHeaders(Mapping[str, str]):
    """The headers of a WSGI ``environ`` as a read-only mapping by lower-case name."""

    __slots__ = ("environ",)

    def __init__(self, environ: WSGIEnvironment) -> None:
        self.environ = environ

    @staticmethod
    def _key(name: str) -> str:
        key = _KEYS.get(name)
        if key is None:
            key = name.upper().replace("-", "_")
            if key not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                key = "HTTP_" + key
        return key

    def __getitem__(self, name: str) -> str:
        return environ_text(self.environ[self._key(name)])

    def get(self, name: str, default: Any = None) -> Any:
        """The header ``name`` (lower case), or ``default``; never raises."""
        key = _KEYS.get(name)
        value = self.environ.get(key or self._key(name))
        if value is None:
            return default
        return value if type(value) is str else environ_text(value)

    def __iter__(self) -> Iterator[str]:
        for key in self.environ:
            if key.startswith("HTTP_"):
                yield key[5:].lower().replace("_", "-")
            elif key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                yield key.lower().replace("_", "-")

    def __len__(self) -> int:
        return sum(1 for _ in self)
