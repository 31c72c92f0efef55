"""Start a real gunicorn on 127.0.0.1 with a free port, for end-to-end and load tests.

::

    from gunicorn_util import start

    with start("demo:app", workers=2, worker_class="gthread", chdir=EXAMPLES,
               env={"LOGOUT_DEMO_DB": str(db)}, args=["--threads", "4"]) as server:
        urllib.request.urlopen(server.url + "/")
        ...
    assert server.returncode == 0

The server comes from the harness the benchmarks share
(:func:`benchmarks.harness.start_gunicorn`: it returns once gunicorn listens, every
worker has booted and one HTTP request got an answer; ``stop()`` sends SIGTERM and
returns the master's exit code; nothing outlives the test). This adds the test
policy: without gunicorn installed, :func:`start` calls ``conftest.unavailable`` (a
skip locally, a failure under ``CI=true``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from benchmarks.harness import GunicornServer, Unavailable, start_gunicorn

__all__ = ["GunicornServer", "start"]

P = ParamSpec("P")
T = TypeVar("T")


def _or_unavailable(function: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return function(*args, **kwargs)
        except Unavailable as exc:
            from conftest import unavailable

            unavailable(str(exc))

    return wrapper


#: :func:`benchmarks.harness.start_gunicorn`, with a skip (a failure under CI) where
#: gunicorn is not installed.
start = _or_unavailable(start_gunicorn)
