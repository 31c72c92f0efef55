"""Memory: nothing may accumulate per pass-through request.

With :mod:`tracemalloc` on, the app serves a warm-up, then a snapshot is taken,
then ``memory_requests`` more requests (a million in the full run), a collection,
and a second snapshot. The growth is the sum of the size differences between the
snapshots, tracemalloc's own bookkeeping excluded; the target allows a few
kilobytes of interpreter noise (free lists, caches), which is far below one byte
per request.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import Any

from logout_middleware import LogoutMiddleware, MemoryBackend

from .apps import bare_app, logout_environ, new_ids, page_environ, start_response
from .config import Config, log
from .report import Report, Row, Target

__all__ = ["LIMIT", "run"]

#: Bytes of growth tolerated over the whole run (interpreter noise).
LIMIT = 16 * 1024


def _growth(app: Callable[..., Iterable[bytes]], environ: dict[str, Any], n: int) -> int:
    sr = start_response
    gc.collect()
    tracemalloc.start()
    try:
        for _ in repeat(None, 10_000):
            app(environ, sr)
        gc.collect()
        before = tracemalloc.take_snapshot()
        for _ in repeat(None, n):
            app(environ, sr)
        gc.collect()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    ignore = [tracemalloc.Filter(False, tracemalloc.__file__)]
    stats = after.filter_traces(ignore).compare_to(before.filter_traces(ignore), "lineno")
    return sum(s.size_diff for s in stats)


def run(config: Config, report: Report) -> None:
    n = config.memory_requests
    cookie = new_ids(1)[0]
    cases: list[tuple[str, Callable[..., Iterable[bytes]], dict[str, Any]]] = [
        (
            "LogoutMiddleware, defaults",
            LogoutMiddleware(bare_app, MemoryBackend()),
            page_environ(cookie),
        ),
    ]
    try:
        from logout_middleware.revocation import MemoryRevocationStore
    except ImportError:
        report.notes.append("memory with revocation skipped: logout_middleware.revocation missing")
    else:
        revoking = LogoutMiddleware(bare_app, MemoryBackend(), revocation=MemoryRevocationStore())
        for sid in new_ids(1000):
            list(revoking(logout_environ(sid), start_response))
        cases.append(("LogoutMiddleware + revocation, cookie", revoking, page_environ(cookie)))
    results = {}
    for name, app, environ in cases:
        t0 = time.perf_counter()
        grown = _growth(app, environ, n)
        log(
            f"memory: {name}: {grown:+d} bytes over {n} requests ({time.perf_counter() - t0:.1f} s)"
        )
        results[name] = grown
        report.rows.append(
            Row(
                "memory (tracemalloc)",
                name,
                note=f"{grown:+d} bytes over {n:,} requests",
                extra={"bytes": grown, "requests": n},
            )
        )
    report.raw["memory"] = {"requests": n, "bytes": results}
    worst = max(results.values())
    report.targets.append(
        Target(
            f"memory growth over {n:,} pass-through requests (bytes)",
            worst,
            f"<= {LIMIT} (noise)",
            worst <= LIMIT,
            ", ".join(f"{k}: {v:+d}" for k, v in results.items()),
        )
    )
