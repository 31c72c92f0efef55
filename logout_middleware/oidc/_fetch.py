"""One bounded HTTP GET of a JSON object from the provider (urllib, no new dependency)."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ._urls import is_loopback
from .errors import ProviderError

__all__ = ["MAX_DOCUMENT", "fetch_json"]

#: The largest discovery document or key set read, in bytes.
MAX_DOCUMENT = 1 << 20


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead off https or to another host: the URLs are configured,
    # or come from the issuer's own discovery document, and must answer directly.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _until(base: type[http.client.HTTPConnection], deadline: float) -> Any:
    """``base`` whose socket is shut once ``deadline`` passes: a per-read timeout
    alone lets a provider that drips its answer, a byte at a time, hold a worker."""

    class Connection(base):  # type: ignore[valid-type, misc]
        _timer: threading.Timer | None = None

        def connect(self) -> None:
            super().connect()
            self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._expire)
            self._timer.daemon = True
            self._timer.start()

        def _expire(self) -> None:
            try:
                if self.sock is not None:
                    self.sock.shutdown(socket.SHUT_RDWR)  # the blocked read returns at once
            except OSError:  # already closed
                pass

        def close(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
            super().close()

    return Connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, deadline: float) -> None:
        super().__init__()
        self._connection = _until(http.client.HTTPConnection, deadline)

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, deadline: float, context: ssl.SSLContext | None) -> None:
        super().__init__(context=context)
        self._connection = _until(http.client.HTTPSConnection, deadline)

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(self._connection, req, context=self._context)  # type: ignore[attr-defined]


def _opener(
    url: str, ssl_context: ssl.SSLContext | None, deadline: float
) -> urllib.request.OpenerDirector:
    handlers: list[Any] = [
        _NoRedirects(),
        _HTTPHandler(deadline),
        _HTTPSHandler(deadline, ssl_context),
    ]
    if is_loopback(urlsplit(url).hostname or ""):
        handlers.append(urllib.request.ProxyHandler({}))  # loopback never goes through a proxy
    return urllib.request.build_opener(*handlers)


def fetch_json(
    url: str,
    what: str,
    *,
    timeout: float,
    ssl_context: ssl.SSLContext | None = None,
    deadline: float | None = None,
) -> dict[str, Any]:
    """GET ``url`` and return its body, a JSON object.

    Connecting and each wait for data are bounded by ``timeout`` seconds, and the whole
    answer, headers and body, by ``timeout`` after the start: the connection is shut
    then, however slowly the provider keeps sending. A provider that is down fails at
    once (connection refused), one that accepts but never answers fails after
    ``timeout``. ``deadline`` (``time.monotonic()``), when sooner, ends it earlier: a
    fetch that follows another shares its time. Redirects are not followed; bodies
    over :data:`MAX_DOCUMENT` bytes are refused.

    :raises ProviderError: naming ``what`` and ``url``, for any failure.
    """
    deadline = min(time.monotonic() + timeout, deadline or float("inf"))
    # The URL is https, or http on a loopback host: checked where it was configured or read.
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        with _opener(url, ssl_context, deadline).open(request, timeout=timeout) as response:
            body = bytearray()
            while chunk := response.read1(65536):
                body += chunk
                if len(body) > MAX_DOCUMENT:
                    raise ProviderError(f"{what} at {url} is over {MAX_DOCUMENT} bytes")
                if time.monotonic() > deadline:
                    raise ProviderError(f"{what} at {url} took over {timeout:g} s to arrive")
    except urllib.error.HTTPError as exc:
        exc.close()
        moved = " (redirects are not followed)" if 300 <= exc.code < 400 else ""
        raise ProviderError(f"{what} at {url} answered HTTP {exc.code}{moved}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        timed_out = isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError)
        if timed_out or time.monotonic() >= deadline:  # a read's timeout, or the deadline
            reason = f"no answer within {timeout:g} s"
        raise ProviderError(f"{what} at {url} could not be fetched: {reason}") from None
    try:
        document = json.loads(bytes(body))
    except ValueError:
        raise ProviderError(f"{what} at {url} is not JSON") from None
    if not isinstance(document, dict):
        raise ProviderError(f"{what} at {url} is not a JSON object")
    return document
