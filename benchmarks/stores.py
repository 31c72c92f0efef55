"""Filling session stores fast and building logout cases against them.

A logout case deletes sessions that exist: ``setup(n)`` stores ``n`` fresh
sessions (untimed) and builds one POST per session, ``run(n)`` sends them. The
stores are filled in bulk: ``executemany`` in one transaction for SQLite, ``MSET``
batches in a pipeline for Redis, so a million records take seconds.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable
from typing import Any

from .apps import consume, logout_environ, new_ids, start_response
from .timing import Case

__all__ = ["answer_of", "fill_redis", "fill_sqlite", "logout_case", "memory_store"]

WSGIApp = Callable[..., Iterable[bytes]]

_DATA = json.dumps({"user_id": 1, "roles": ["author"]})


def fill_sqlite(path: str, ids: list[str], table: str = "sessions", batch: int = 50_000) -> None:
    """Insert ``ids`` into the backend's table in a few big transactions."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        now = time.time()
        for i in range(0, len(ids), batch):
            conn.execute("BEGIN")
            conn.executemany(
                f'INSERT OR REPLACE INTO "{table}" (id, data, created_at) VALUES (?, ?, ?)',
                ((sid, _DATA, now) for sid in ids[i : i + batch]),
            )
            conn.execute("COMMIT")
    finally:
        conn.close()


def fill_redis(client: Any, ids: list[str], prefix: str = "session:", batch: int = 2_000) -> None:
    """``MSET`` the records of ``ids``, ``batch`` keys per command, pipelined."""
    pipe = client.pipeline(transaction=False)
    for i in range(0, len(ids), batch):
        pipe.mset({prefix + sid: _DATA for sid in ids[i : i + batch]})
        if (i // batch) % 50 == 49:
            pipe.execute()
    pipe.execute()


def answer_of(app: WSGIApp, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]]]:
    """Send one request and return its status line and headers (untimed)."""
    seen: list[tuple[str, list[tuple[str, str]]]] = []

    def sr(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> Any:
        seen.append((status, headers))
        return start_response(status, headers, exc_info)

    consume(app(environ, sr))
    return seen[0] if seen else ("(none)", [])


def logout_case(
    name: str,
    app: WSGIApp,
    store: Callable[[int], list[str]],
    *,
    environ: Callable[[str], dict[str, Any]] = logout_environ,
    max_number: int | None = None,
) -> Case:
    """A case that logs out ``n`` sessions that ``store(n)`` just created."""
    pending: list[dict[str, Any]] = []

    def setup(n: int) -> None:
        pending[:] = [environ(sid) for sid in store(n)]

    def run(n: int) -> None:
        sr = start_response
        for env in pending:
            consume(app(env, sr))

    def check() -> None:
        # One logout: it must answer 200 (or a redirect) and expire a cookie.
        status, headers = answer_of(app, environ(store(1)[0]))
        if status[:3] not in ("200", "302", "303") or not any(
            k.lower() == "set-cookie" for k, _ in headers
        ):
            raise RuntimeError(f"{name}: a logout answered {status} without expiring the cookie")

    return Case(name, run, setup=setup, max_number=max_number, check=check)


def memory_store(sessions: dict[str, Any]) -> Callable[[int], list[str]]:
    """``store(n)`` for a dict of sessions (MemoryBackend's or the floor's)."""

    def store(n: int) -> list[str]:
        ids = new_ids(n)
        for sid in ids:
            sessions[sid] = {"user_id": 1, "roles": ["author"]}
        return ids

    return store
