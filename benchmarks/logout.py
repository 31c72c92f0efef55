"""Logout: what one logout costs, here and in the peers, side by side.

Every case logs out sessions that exist (created untimed before each loop) with the
POST a browser sends, and consumes the response as a server would. The floor is a
hand-written WSGI logout with werkzeug's helpers; "floor, prebuilt" is the same with
its body and ``Set-Cookie`` built once. Ratios: ours against the floor; the peers
against the middleware on the memory backend (how many times slower they are).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import Any

from logout_middleware import LogoutMiddleware, MemoryBackend, SQLiteBackend

from . import peers
from .apps import (
    LOGOUT_PATH,
    bare_app,
    floor_logout,
    floor_logout_prebuilt,
    logout_environ,
    new_ids,
)
from .config import Config, log
from .report import Report, Row, Target
from .servers import optional_redis
from .stores import fill_redis, fill_sqlite, logout_case, memory_store
from .timing import Case, interleave

__all__ = ["run"]

MEMORY = "LogoutMiddleware, memory"
FLOOR = "hand-written floor"
FLASK = "Flask + Flask-Login + Flask-Session"
DJANGO = "Django LogoutView"
FLASK_REDIS = "Flask + Flask-Login + Flask-Session, Redis"


def _memory_backend_store(backend: MemoryBackend) -> Any:
    data = {"user_id": 1, "roles": ["author"]}
    return lambda n: [backend.create(data) for _ in range(n)]


@contextlib.contextmanager
def _redis_case(config: Config, report: Report) -> Iterator[tuple[Case, Case, Case] | None]:
    with optional_redis(config.strict_tools, report.notes, "logout") as url:
        if url is None:
            yield None
            return
        from logout_middleware.backends import RedisBackend

        backend = RedisBackend(url)
        client = backend.client

        def store(n: int) -> list[str]:
            ids = new_ids(n)
            fill_redis(client, ids)
            return ids

        app = LogoutMiddleware(bare_app, backend)
        flask_app, flask_login = peers.flask_logout(LOGOUT_PATH, client)
        yield (
            logout_case("LogoutMiddleware, Redis", app, store),
            _store_only("redis-py DEL alone", store, lambda sid: client.delete("session:" + sid)),
            logout_case(FLASK_REDIS, flask_app, lambda n: [flask_login() for _ in range(n)]),
        )
        backend.close()


def _store_only(name: str, store: Any, delete: Any) -> Case:
    """The store's delete by itself, with no WSGI around it: the backend's floor."""
    pending: list[str] = []

    def setup(n: int) -> None:
        pending[:] = store(n)

    def run(n: int) -> None:
        for sid in pending:
            delete(sid)

    return Case(name, run, setup=setup)


def run(config: Config, report: Report) -> None:
    log("logout: setting up Flask and Django ...")
    workdir = tempfile.mkdtemp(prefix="bench-logout-")
    try:
        _run(config, report, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(config: Config, report: Report, workdir: str) -> None:
    floor_sessions: dict[str, Any] = {}
    prebuilt_sessions: dict[str, Any] = {}
    memory = MemoryBackend()
    browser = MemoryBackend()
    sqlite_path = os.path.join(workdir, "sessions.sqlite3")
    sqlite_backend = SQLiteBackend(sqlite_path)

    def sqlite_store(n: int) -> list[str]:
        ids = new_ids(n)
        fill_sqlite(sqlite_path, ids)
        return ids

    flask_app, flask_login = peers.flask_logout(LOGOUT_PATH)
    django_app, django_login, django_path = peers.django_logout()
    csrf = peers.DJANGO_CSRF

    def django_environ(session_key: str) -> dict[str, Any]:
        return logout_environ(
            session_key,
            path=django_path,
            cookie="sessionid",
            extra_cookies=f"; csrftoken={csrf}",
            HTTP_X_CSRFTOKEN=csrf,
        )

    def browser_environ(session_id: str) -> dict[str, Any]:
        return logout_environ(
            session_id,
            extra_cookies="; theme=dark; _ga=GA1.1.123456789.1700000000",
            HTTP_ORIGIN="http://localhost:8000",
            HTTP_SEC_FETCH_SITE="same-origin",
            HTTP_SEC_FETCH_MODE="cors",
        )

    cases = [
        logout_case(FLOOR, floor_logout(floor_sessions), memory_store(floor_sessions)),
        logout_case(
            "hand-written floor, prebuilt",
            floor_logout_prebuilt(prebuilt_sessions),
            memory_store(prebuilt_sessions),
        ),
        logout_case(MEMORY, LogoutMiddleware(bare_app, memory), _memory_backend_store(memory)),
        logout_case(
            "LogoutMiddleware, memory, browser headers",
            LogoutMiddleware(bare_app, browser),
            _memory_backend_store(browser),
            environ=browser_environ,
        ),
        logout_case(
            "LogoutMiddleware, SQLite", LogoutMiddleware(bare_app, sqlite_backend), sqlite_store
        ),
        logout_case(FLASK, flask_app, lambda n: [flask_login() for _ in range(n)]),
        logout_case(
            DJANGO, django_app, lambda n: [django_login() for _ in range(n)], environ=django_environ
        ),
    ]
    notes = {
        FLOOR: "parse_cookie, dict.pop, dump_cookie, json.dumps",
        "hand-written floor, prebuilt": "body and Set-Cookie built once",
        MEMORY: "POST with the session cookie only",
        "LogoutMiddleware, memory, browser headers": "Origin, Sec-Fetch-*, 3 cookies",
        "LogoutMiddleware, SQLite": "WAL file on local disk",
        FLASK: "cachelib SimpleCache sessions",
        DJANGO: "cache sessions (LocMemCache), CSRF checked",
    }
    sqlite_conn = sqlite3.connect(sqlite_path, isolation_level=None)
    cases.insert(
        5,
        _store_only(
            "SQLite DELETE alone",
            sqlite_store,
            lambda sid: sqlite_conn.execute("DELETE FROM sessions WHERE id = ?", (sid,)),
        ),
    )
    notes["SQLite DELETE alone"] = "the store's own cost: same file, autocommit"
    with _redis_case(config, report) as redis_cases:
        if redis_cases is not None:
            cases[6:6] = redis_cases[:2]
            cases.append(redis_cases[2])
            notes[redis_cases[0].name] = "redis-server on loopback TCP"
            notes[redis_cases[1].name] = "the store's own cost: one DEL"
            notes[FLASK_REDIS] = "Flask-Session on the same redis-server"
        # Sanity: every case answers a logout and the record is gone.
        for case in cases:
            if case.check is not None:
                case.check()
        log("logout: interleaved rounds ...")
        results = interleave(cases, rounds=config.rounds, loop_time=config.loop_time, progress=log)
    sqlite_backend.close()
    sqlite_conn.close()

    ours = results[MEMORY].median
    floor = results[FLOOR].median
    raw = {}
    for case in cases:
        m = results[case.name]
        row = Row("logout", case.name, m.median, 1 / m.median, note=notes.get(case.name, ""))
        if case.name.startswith("LogoutMiddleware"):
            row.ratio, row.ratio_to = m.median / floor, "floor"
        elif case.name in (FLASK, DJANGO):
            row.ratio, row.ratio_to = m.median / ours, "ours"
        elif case.name == FLASK_REDIS:
            row.ratio = m.median / results["LogoutMiddleware, Redis"].median
            row.ratio_to = "ours on Redis"
        elif case.name.endswith("alone"):
            pass
        elif case.name != FLOOR:
            row.ratio, row.ratio_to = m.median / floor, "floor"
        report.rows.append(row)
        raw[case.name] = {"median_s": m.median, "number": m.number, "samples": m.samples}
    report.raw["logout"] = raw
    report.targets.append(
        Target(
            "memory-backend logout / hand-written floor",
            ours / floor,
            "<= 1.00",
            ours <= floor,
            f"({ours * 1e6:.2f} us vs {floor * 1e6:.2f} us)",
        )
    )
    for peer in (FLASK, DJANGO):
        speedup = results[peer].median / ours
        report.targets.append(
            Target(
                f"{peer} / memory-backend logout",
                speedup,
                ">= 20",
                speedup >= 20,
                f"({results[peer].median * 1e6:.0f} us vs {ours * 1e6:.2f} us)",
            )
        )
