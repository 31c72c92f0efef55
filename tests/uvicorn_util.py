"""Start a real uvicorn on 127.0.0.1 with a free port, for the ASGI end-to-end tests.

::

    from uvicorn_util import start

    with start("fastapi_app:app", workers=2, app_dir=EXAMPLES,
               env={"FASTAPI_EXAMPLE_REDIS": url}) as server:
        httpx.get(server.url + "/")
    assert server.returncode == 0

The server comes from the harness the benchmarks share
(:func:`benchmarks.harness.start_uvicorn`: uvicorn binds ``127.0.0.1:0`` and this
reads the port from its log; it returns once every worker has started and one HTTP
request got an answer; ``stop()`` sends SIGTERM and returns the exit code; nothing
outlives the test). This adds the test policy, as :mod:`gunicorn_util` does: without
uvicorn installed, :func:`start` calls ``conftest.unavailable``. And the clients the
tests drive it with: :func:`new_client` (``httpx``: a cookie jar, no redirect followed,
a connection per request) and :func:`websocket_greeting` (``websockets``' client);
both need only ``server.url``, so they drive any server of the harness (hypercorn,
daphne: :mod:`asgi_servers_util`).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from gunicorn_util import _or_unavailable

from benchmarks.harness import GunicornServer, UvicornServer, start_uvicorn

__all__ = ["UvicornServer", "new_client", "problems", "start", "websocket_greeting"]

#: :func:`benchmarks.harness.start_uvicorn`, with a skip (a failure under CI) where
#: uvicorn is not installed.
start = _or_unavailable(start_uvicorn)

#: What a healthy uvicorn never logs: an exception that escaped the application, a
#: worker that died (and was replaced). (A failed logout's own log line, with its
#: traceback, is the middleware's answer working, not trouble.)
_TROUBLE = re.compile(r"Exception in ASGI application|Child process \[\d+\] died")


def new_client(server: GunicornServer, **options: Any) -> httpx.Client:
    """A client with its own cookie jar, as one browser. It follows no redirect (the
    tests look at each answer) and opens a new connection for every request, so that
    any worker may answer any of them."""
    no_keepalive = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=server.url, timeout=30, limits=no_keepalive, **options)


def websocket_greeting(server: GunicornServer, path: str, cookie: str | None) -> str | int:
    """Open the websocket at ``path`` with this ``Cookie`` header: the first text
    message, or the HTTP status of a refused handshake."""
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    url = server.url.replace("http://", "ws://", 1) + path
    headers = {"Cookie": cookie} if cookie else {}
    try:
        with connect(url, additional_headers=headers, open_timeout=30) as socket:
            message = socket.recv(timeout=30)
    except InvalidStatus as refused:
        return int(refused.response.status_code)
    return str(message)


def problems(server: UvicornServer, workers: int) -> list[str]:
    """Exceptions that escaped the application and workers that died, from the log;
    more or fewer worker processes started than ``workers``."""
    log = server.log()
    found = [line for line in log.splitlines() if _TROUBLE.search(line)]
    started = len(server.booted.findall(log))
    if started != workers:
        found.append(f"{started} worker processes started for {workers}")
    return found
