"""Workers that open the same fresh SQLite file at the same moment all start.

gunicorn, uvicorn and hypercorn start their workers together, and each opens the
stores the application builds at import. The first connection to a new file turns on
WAL, which needs the file to itself: a second process doing the same at that moment
got ``database is locked`` at once (SQLite does not wait for that lock), and its
worker died at start (seen once under hypercorn on a loaded machine). Bounded by
counts: rounds of processes released together by a barrier, each building every
SQLite store on the round's new file.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

PROCESSES = 6
ROUNDS = 15


def _open_all(path: str, barrier: object, errors: object) -> None:
    from logout_middleware.backends import (
        SQLiteBackend,
        SQLiteRevocationStore,
        SQLiteSessionIndex,
    )

    try:
        barrier.wait(30)  # type: ignore[attr-defined]
        for make in (SQLiteSessionIndex, SQLiteBackend, SQLiteRevocationStore):
            make(path)
    except Exception as exc:  # reported to the parent, which fails the test
        errors.put(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]


def test_workers_opening_a_fresh_file_together_all_start(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    for round_ in range(ROUNDS):
        path = str(tmp_path / f"round-{round_}.sqlite3")
        barrier = context.Barrier(PROCESSES)
        workers = [
            context.Process(target=_open_all, args=(path, barrier, errors))
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
            assert worker.exitcode == 0, worker.exitcode
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == [], found
