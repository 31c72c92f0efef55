"""The servers the benchmark starts for itself, through the shared harness
(:mod:`benchmarks.harness`, which the tests use too): on 127.0.0.1 only, and always
stopped. This module adds only what measuring needs: CPU pinning, gunicorn options
for a production-like keep-alive setup without an access log, and the benchmark's
policy for a missing ``redis-server`` (a note, or an error under ``CI=true``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

from .harness import GunicornServer, Unavailable, redis_server, start_gunicorn

__all__ = ["gunicorn", "optional_redis", "pin"]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pin(cpu: int) -> list[str]:
    """A ``taskset`` prefix that keeps a process on one CPU, so that the HTTP
    benchmark's server and load generator do not take turns on the same core (on a
    2-core machine that turn-taking made round-to-round noise of +-20%). Empty where
    ``taskset`` is missing or there is only one CPU."""
    if shutil.which("taskset") is None or (os.cpu_count() or 1) < 2:
        return []
    return ["taskset", "-c", str(cpu % (os.cpu_count() or 1))]


@contextlib.contextmanager
def gunicorn(app: str, *, workers: int = 1, threads: int = 4) -> Iterator[GunicornServer]:
    """Run ``gunicorn app`` (a ``module:callable`` importable from the repository root)
    on a free loopback port, pinned to CPU 0.

    The gthread worker keeps connections alive, as a production setup behind a proxy
    would; the access log is off.
    """
    server = start_gunicorn(
        app,
        workers=workers,
        worker_class="gthread",
        env={"PYTHONPATH": _ROOT},
        chdir=_ROOT,
        args=["--threads", str(threads), "--keep-alive", "30", "--backlog", "2048"],
        timeout=20.0,
        ready_path="/__ready",
        access_log=False,
        prefix=pin(0),
    )
    with server:
        yield server


@contextlib.contextmanager
def optional_redis(strict: bool, notes: list[str], what: str) -> Iterator[str | None]:
    """A private ``redis-server``'s URL for the ``with`` block, or ``None`` where
    redis-py or the server binary is missing (a note says so in ``notes``). With
    ``strict`` (under CI) a missing server is an error instead."""
    try:
        import redis  # noqa: F401  (the client the Redis rows need)
    except ImportError as exc:
        notes.append(f"{what} on Redis skipped: {exc}")
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(redis_server())
        except Unavailable as exc:
            if strict:
                raise
            notes.append(f"{what} on Redis skipped: {exc}")
            yield None
            return
        yield server.url
