"""examples/oidc_app.py under a real gunicorn, for the OIDC tests: :func:`serve` starts
it (2 sync workers), and this module is also what gunicorn imports
(``--chdir tests --pythonpath examples oidc_example_server:app``), the example with two
additions that let a test know and steer which worker answers:

* every answer, the middleware's included, names its worker: ``X-Worker-Pid``;
* ``POST /hold`` (``Content-Length: 1``) answers its headers and a first line at once,
  then waits for the one byte of its body: until the test sends it, that worker serves
  nothing else, so with two sync workers the next request is the other worker's
  (:class:`Workers` does the steering).

The app is built on first request from ``OIDC_TEST_*`` variables (see :func:`serve`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from logout_middleware.backends import backend_from_url, index_from_url, revocation_store_from_url

__all__ = ["PID_HEADER", "Hold", "Workers", "app", "open_stores", "serve", "stores"]

PID_HEADER = "X-Worker-Pid"
HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(os.path.dirname(HERE), "examples")


def stores(environ: Mapping[str, str]) -> tuple[Any, Any, Any]:
    """The session store, the index and the replay cache's revocation store that
    ``environ`` names (``OIDC_TEST_STORE``, ``OIDC_TEST_REPLAY``: URLs), under names of
    their own (``OIDC_TEST_NAME``: a key prefix, or the tables' names)."""
    url, name = environ["OIDC_TEST_STORE"], environ["OIDC_TEST_NAME"]
    if url.startswith("redis"):
        backend_options = {"key_prefix": f"{name}:session:"}
        index_options = {"key_prefix": f"{name}:index:"}
    else:
        backend_options = {"table": f"{name}_sessions", "create_table": "true"}
        index_options = {"table": f"{name}_index"}
    replay_url = environ["OIDC_TEST_REPLAY"]
    replay_options = {"key_prefix": f"{name}:replay:"} if replay_url.startswith("redis") else {}
    return (
        backend_from_url(url, backend_options),
        index_from_url(url, index_options),
        revocation_store_from_url(replay_url, replay_options),
    )


@contextlib.contextmanager
def open_stores(environ: Mapping[str, str]) -> Iterator[tuple[Any, Any, Any]]:
    """:func:`stores`, closed (connections, engines) after the block."""
    opened = stores(environ)
    try:
        yield opened
    finally:
        for store in opened:
            if hasattr(store, "close"):
                store.close()
            else:  # the SQLAlchemy ones: the engine the URL made
                store.engine.dispose()


@functools.cache
def _example() -> Callable[..., Iterable[bytes]]:
    from oidc_app import make_app

    store, index, replay = stores(os.environ)
    return make_app(
        os.environ["OIDC_TEST_ISSUER"],
        base_url=os.environ["OIDC_TEST_BASE_URL"],
        store=store,
        index=index,
        replay_cache=replay,
    )


def _hold(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain"), (PID_HEADER, str(os.getpid()))])
    yield b"held\n"
    environ["wsgi.input"].read(1)  # the test sends it to let the worker go
    yield b"released\n"


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The example, every answer naming its worker; and ``POST /hold``."""
    if environ.get("PATH_INFO") == "/hold":
        return _hold(environ, start_response)

    def named(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        return start_response(status, [*headers, (PID_HEADER, str(os.getpid()))], exc_info)

    return _example()(environ, named)


def serve(
    issuer: str, base_url: str, environ: Mapping[str, str], *, bind_port: int | None = None
) -> Any:
    """Start the example under gunicorn with 2 sync workers (a
    :class:`gunicorn_util.GunicornServer`, to use in a ``with``).

    :param issuer: the provider's issuer.
    :param base_url: the example's public origin (its redirect URI is ``/callback``).
    :param environ: ``OIDC_TEST_STORE``, ``OIDC_TEST_REPLAY`` and ``OIDC_TEST_NAME``.
    :param bind_port: a port to listen on as well, when ``base_url`` must be reachable
        (gunicorn listens on a free port of its own choosing too).
    """
    from gunicorn_util import start

    with open_stores(environ):  # the tables exist before two workers race to create them
        pass
    args = ["--pythonpath", EXAMPLES]
    if bind_port is not None:
        args += ["--bind", f"127.0.0.1:{bind_port}"]
    env = {"OIDC_TEST_ISSUER": issuer, "OIDC_TEST_BASE_URL": base_url, **environ}
    return start("oidc_example_server:app", workers=2, env=env, chdir=HERE, args=args)


_PID = re.compile(rb"\r\n" + PID_HEADER.encode() + rb": (\d+)\r\n", re.IGNORECASE)


class Hold:
    """One worker kept busy by ``POST /hold`` until :meth:`release`."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(
            b"POST /hold HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n"
            b"Connection: close\r\n\r\n"
        )
        self.received = b""
        while b"held\n" not in self.received:
            chunk = self.sock.recv(4096)
            assert chunk, f"the server closed /hold early: {self.received!r}"
            self.received += chunk
        found = _PID.search(self.received)
        assert found, self.received
        #: The worker held.
        self.pid = int(found.group(1))

    def release(self) -> None:
        """Let the worker go, and wait until it has finished the request."""
        try:
            self.sock.sendall(b"x")
            while chunk := self.sock.recv(4096):
                self.received += chunk
            assert b"released\n" in self.received, self.received
        finally:
            self.sock.close()


class Workers:
    """Steers requests to one of the two sync workers of a server on ``port``."""

    def __init__(self, port: int, pids: Iterable[int]) -> None:
        self.port = port
        self.pids = sorted(pids)
        assert len(self.pids) == 2, self.pids

    def other(self, pid: int) -> int:
        (found,) = (p for p in self.pids if p != pid)
        return found

    @contextlib.contextmanager
    def only(self, pid: int) -> Iterator[None]:
        """Inside the block, worker ``pid`` is the only one free, so it answers every
        request: the other is held (at most two holds; nothing is left to timing)."""
        holds = [Hold(self.port)]
        try:
            if holds[0].pid == pid:
                holds.append(Hold(self.port))  # the other worker: the first is busy
                assert holds[1].pid == self.other(pid), (holds[1].pid, self.pids)
                holds.pop(0).release()
            yield
        finally:
            for hold in holds:
                hold.release()
