"""Start uvicorn, hypercorn or daphne on 127.0.0.1 with a free port, for the tests that
run the ASGI twin under each of the servers users deploy it on.

::

    from asgi_servers_util import start

    with start("daphne", "starlette_app:app", app_dir=EXAMPLES, root_path="/sub") as server:
        httpx.get(server.url + "/sub/")
    assert server.returncode == 0 and problems(server) == []

The servers come from the harness the benchmarks share
(:func:`benchmarks.harness.start_uvicorn`, :func:`~benchmarks.harness.start_hypercorn`,
:func:`~benchmarks.harness.start_daphne`: each binds ``127.0.0.1:0`` and this reads the
port from its log; it returns once every worker serves and one HTTP request got an
answer; ``stop()`` sends SIGTERM, waits at most 20 s, then kills the process group).
This adds the test policy of :mod:`uvicorn_util`: a server that is not installed skips
the test, and fails it under ``CI=true``. The clients are :mod:`uvicorn_util`'s
(``new_client``, ``websocket_greeting``), which need only ``server.url``.

The servers differ where the middleware can notice:

* **detection**: uvicorn and hypercorn take an object whose ``__call__`` is a coroutine
  function as ASGI 3 (hypercorn would serve anything else as WSGI); daphne passes it
  through asgiref's ``guarantee_single_callable`` (a class, or a callable whose
  ``__call__`` is not a coroutine function, would be called as ASGI 2);
* **root_path**: uvicorn's ``--root-path`` is a prefix the proxy stripped: uvicorn puts
  it back in front of ``path``. hypercorn's and daphne's is only reported: ``path`` is
  the path on the wire, which carries the prefix;
* **lifespan**: daphne sends no ``lifespan`` scope; hypercorn goes on without it when
  the application refuses it (Django's handler), uvicorn with ``--lifespan off``.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn_util import _or_unavailable
from uvicorn_util import problems as uvicorn_problems

from benchmarks.harness import (
    GunicornServer,
    UvicornServer,
    start_daphne,
    start_hypercorn,
    start_uvicorn,
)

__all__ = ["KINDS", "WORKERS", "problems", "start"]

#: The servers, by the name their command has.
KINDS = ("uvicorn", "hypercorn", "daphne")
#: Worker processes each serves with: two where it can (a revocation must reach the
#: other worker through the shared store); daphne serves in one process.
WORKERS = {"uvicorn": 2, "hypercorn": 2, "daphne": 1}

_START = {
    "uvicorn": _or_unavailable(start_uvicorn),
    "hypercorn": _or_unavailable(start_hypercorn),
    "daphne": _or_unavailable(start_daphne),
}

#: What a healthy hypercorn or daphne never logs: an exception that escaped the
#: application (daphne logs it within a second, from its periodic check, or a
#: traceback of its own).
_TROUBLE = {
    "hypercorn": re.compile(r"Error in ASGI Framework|Traceback \(most recent call last\)"),
    "daphne": re.compile(
        r"Exception inside application|took too long to shut down|"
        r"Traceback \(most recent call last\)"
    ),
}


def start(
    kind: str,
    app_spec: str,
    *,
    root_path: str | None = None,
    args: tuple[str, ...] = (),
    **options: Any,
) -> GunicornServer:
    """Start the server ``kind`` (one of :data:`KINDS`) serving ``app_spec`` with
    :data:`WORKERS` workers; ``root_path``: with ``--root-path``. ``options`` are the
    harness's (``app_dir``, ``env``...)."""
    if root_path is not None:
        args = ("--root-path", root_path, *args)
    if kind != "daphne":
        options.setdefault("workers", WORKERS[kind])
    server: GunicornServer = _START[kind](app_spec, args=args, **options)
    return server


def problems(server: GunicornServer) -> list[str]:
    """Exceptions that escaped the application, from the log; for uvicorn, also
    workers that died, and a count of started workers other than :data:`WORKERS`."""
    if isinstance(server, UvicornServer):
        return uvicorn_problems(server, WORKERS["uvicorn"])
    log = server.log()
    found = [line for line in log.splitlines() if _TROUBLE[server.name].search(line)]
    started = len(server.booted.findall(log))
    if started != WORKERS[server.name]:
        found.append(f"{started} worker processes serving for {WORKERS[server.name]}")
    return found
