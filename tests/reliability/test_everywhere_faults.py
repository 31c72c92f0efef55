"""Log out everywhere when a store fails part way, on real stores.

The promise under test (issue 12, "nothing is lost"): if a deletion fails part way, the
answer is ``500`` (the cookie still expired) and every session that may still exist
stays in the index, so that a retry finds it; the retry -- the same ``POST`` again,
even with a cookie whose record is already gone, or ``end_user_sessions`` -- finishes
the work and leaves the index exactly in step with the store. And when the index
store is down, a plain logout answers ``500``, never ``200``.

The faults: a Redis pipeline of ``DEL``-s cut off after some of them ran; Redis frozen
(SIGSTOP) between the everywhere's ``find`` and its deletion; a PostgreSQL statement
failing on the second ``DELETE ... IN`` chunk (a SQLAlchemy event points it at a
table that does not exist) and a row lock held by another connection past
``lock_timeout``; the SQLite file locked by another process; and the index on a
frozen Redis or a stopped PostgreSQL under a plain logout.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_util import (
    EVERYWHERE,
    INDEX_TTL,
    LOGOUT,
    EverywhereStores,
    check_index_matches_sessions,
    logout_ok,
    report,
)

from logout_middleware import LogoutMiddleware, SQLiteBackend, SQLiteSessionIndex

#: An answer slower than this has hung (the stores below give up within about 1 s).
HANG_BOUND = 15.0
#: Quick failures for the frozen-Redis tests: 0.5 s per attempt, one retry.
REDIS_FAST = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5, "retries": 1}


def hello(environ: Any, start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def ending(backend: Any, index: Any) -> LogoutMiddleware:
    """The middleware under test, with log out everywhere, over ``backend`` and ``index``."""
    return LogoutMiddleware(hello, backend, index=index, everywhere_path=EVERYWHERE)


def call(app: Any, target: str, sid: str) -> tuple[int, list[str], bytes, float]:
    """``POST target`` with the session cookie: status, Set-Cookie headers, body, seconds."""
    path, _, query = target.partition("?")
    environ = {
        "REQUEST_METHOD": "POST", "PATH_INFO": path, "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_LENGTH": "0", "wsgi.input": io.BytesIO(b""), "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(), "HTTP_COOKIE": f"session={sid}",
    }
    seen: list[tuple[str, list[tuple[str, str]]]] = []
    began = time.monotonic()
    body = b"".join(app(environ, lambda s, h, exc_info=None: seen.append((s, h))))
    elapsed = time.monotonic() - began
    status, headers = seen[0]
    return int(status[:3]), [v for k, v in headers if k.lower() == "set-cookie"], body, elapsed


def assert_500(answer: tuple[int, list[str], bytes, float]) -> None:
    status, cookies, body, elapsed = answer
    assert status == 500, (status, body)
    assert json.loads(body)["message"].startswith("Internal server error."), body
    assert any(c.startswith("session=;") and "Max-Age=0" in c for c in cookies), cookies
    assert elapsed < HANG_BOUND


def login(stores: EverywhereStores, user: str) -> str:
    sid: str = stores.backend.create({"user": user})
    stores.index.add(sid, INDEX_TTL, user=user)
    return sid


def sessions(stores: EverywhereStores, users: dict[str, int]) -> dict[str, list[str]]:
    return {user: [login(stores, user) for _ in range(n)] for user, n in users.items()}


def assert_still_findable(stores: EverywhereStores, user: str) -> set[str]:
    """Every session of ``user`` still in the store is found in the index; returns them."""
    live = {sid for sid, owner in stores.live().items() if owner == user}
    assert live <= stores.index.find("user", user), "a session that may exist left the index"
    return live


def assert_finished(stores: EverywhereStores, made: dict[str, list[str]]) -> None:
    """After the retry: alice is gone everywhere, bob untouched, the index exact."""
    seen = [sid for ids in made.values() for sid in ids]
    live = check_index_matches_sessions(stores, made, seen)
    assert live == {sid: "bob" for sid in made["bob"]}


@contextlib.contextmanager
def opened(spec: str, index_spec: str | None = None, **options: Any) -> Iterator[EverywhereStores]:
    stores = EverywhereStores.open(spec, index_spec, **options)
    stores.clear()
    try:
        yield stores
    finally:
        stores.clear()
        stores.close()


class Wrapped:
    """A store whose every method is the real store's, unless this class has its own."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class IndexWrapper(Wrapped):
    # The SessionIndex protocol is checked with isinstance: name its methods here.
    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        self.inner.add(session_id, ttl, **labels)

    def find(self, name: str, value: str) -> set[str]:
        found: set[str] = self.inner.find(name, value)
        return found

    def labels(self, session_id: str) -> dict[str, str]:
        labels: dict[str, str] = self.inner.labels(session_id)
        return labels

    def remove(self, session_id: str) -> None:
        self.inner.remove(session_id)


# -- Redis ---------------------------------------------------------------------------------


class CutOffPipeline(Wrapped):
    """A Redis backend whose first ``delete_many`` runs the ``DEL``-s of half the ids
    (the cookie's own session among them) and then loses the connection."""

    def __init__(self, inner: Any, first: str) -> None:
        super().__init__(inner)
        self.first = first
        self.cut: list[str] = []

    def delete(self, session_id: str) -> None:
        self.inner.delete(session_id)

    def delete_many(self, session_ids: Any) -> int:
        import redis

        ids = sorted(session_ids, key=lambda sid: sid != self.first)
        if not self.cut:
            self.cut = ids[: len(ids) // 2]
            self.inner.delete_many(self.cut)
            raise redis.ConnectionError("Connection closed by server.")
        return int(self.inner.delete_many(ids))


@pytest.mark.redis
@pytest.mark.parametrize("retry", ["post_again", "end_user_sessions"])
def test_redis_deletion_cut_off_part_way_keeps_every_session_findable_and_a_retry_finishes(
    redis_server: Any, retry: str
) -> None:
    with opened(f"redis:{redis_server.url}") as stores:
        made = sessions(stores, {"alice": 6, "bob": 3})
        current = made["alice"][0]
        backend = CutOffPipeline(stores.backend, current)
        middleware = ending(backend, stores.index)
        assert_500(call(middleware, EVERYWHERE, current))
        # Half the DELs ran, the cookie's own record among them; the rest still exist.
        assert current in backend.cut and len(backend.cut) == 3
        live = assert_still_findable(stores, "alice")
        assert live == set(made["alice"]) - set(backend.cut)
        # Nothing was removed from the index: a retry finds the deleted ones too.
        assert stores.index.find("user", "alice") == set(made["alice"])
        # The retry counts the records it deleted: the three the cut-off left.
        if retry == "post_again":
            # The cookie's record is gone, but the index still knows whose it was.
            status, _, body, _ = call(middleware, EVERYWHERE, current)
            assert (status, json.loads(body)) == (200, {"message": "OK", "ended": len(live)})
        else:
            assert middleware.end_user_sessions("alice") == len(live) == 3
        assert_finished(stores, made)


class FreezeAfterFind(IndexWrapper):
    """The index's ``find`` answers, then the Redis server is frozen (SIGSTOP)."""

    def __init__(self, inner: Any, server: Any) -> None:
        super().__init__(inner)
        self.server = server
        self.frozen = False

    def find(self, name: str, value: str) -> set[str]:
        found = super().find(name, value)
        if not self.frozen:
            self.frozen = True
            self.server.pause()
        return found


@pytest.mark.redis
def test_redis_frozen_between_find_and_delete_answers_500_and_a_retry_finishes(
    redis_server: Any,
) -> None:
    with opened(f"redis:{redis_server.url}", redis_options=REDIS_FAST) as stores:
        made = sessions(stores, {"alice": 5, "bob": 2})
        current = made["alice"][0]
        index = FreezeAfterFind(stores.index, redis_server)
        middleware = ending(stores.backend, index)
        try:
            answer = call(middleware, EVERYWHERE, current)
        finally:
            redis_server.resume()
        assert index.frozen
        assert_500(answer)
        # The DELs the client sent before giving up may run once Redis wakes: the
        # records may or may not exist, and every one that does is still indexed.
        assert stores.index.find("user", "alice") == set(made["alice"])
        live = assert_still_findable(stores, "alice")
        status, _, body, _ = call(middleware, EVERYWHERE, current)
        # The retry counts the records it deleted: those the frozen DELs left.
        assert (status, json.loads(body)) == (200, {"message": "OK", "ended": len(live)})
        assert_finished(stores, made)
        report("everywhere_faults[redis frozen]", seconds_to_500=round(answer[3], 2))


# -- PostgreSQL --------------------------------------------------------------------------------


@pytest.mark.postgres
def test_postgresql_statement_failing_on_a_later_chunk_ends_nothing_and_a_retry_finishes(
    postgres_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa

    from logout_middleware.backends import sqlalchemy as sqlalchemy_backend

    # Two ids per DELETE ... IN: alice's five sessions take three statements.
    monkeypatch.setattr(sqlalchemy_backend, "CHUNK", 2)
    with opened(f"postgresql:{postgres_server.url}") as stores:
        made = sessions(stores, {"alice": 5, "bob": 2})
        deletes: list[str] = []

        def second_chunk_fails(
            conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
        ) -> tuple[str, Any]:
            if statement.startswith("DELETE FROM everywhere_sessions") and " IN " in statement:
                deletes.append(statement)
                if len(deletes) == 2:  # PostgreSQL itself refuses the statement
                    statement = statement.replace("everywhere_sessions", "no_such_table")
            return statement, params

        sa.event.listen(stores.engine, "before_cursor_execute", second_chunk_fails, retval=True)
        try:
            middleware = ending(stores.backend, stores.index)
            assert_500(call(middleware, EVERYWHERE, made["alice"][0]))
            assert len(deletes) == 2  # the first chunk ran before the second failed
            # One transaction: the first chunk's deletions were rolled back with it.
            assert assert_still_findable(stores, "alice") == set(made["alice"])
            assert stores.index.find("user", "alice") == set(made["alice"])
            assert middleware.end_user_sessions("alice") == 5
            assert len(deletes) == 5
        finally:
            sa.event.remove(stores.engine, "before_cursor_execute", second_chunk_fails)
        assert_finished(stores, made)


@pytest.mark.postgres
def test_postgresql_row_locked_past_lock_timeout_answers_500_and_a_retry_finishes(
    postgres_server: Any,
) -> None:
    import sqlalchemy as sa

    options = {"connect_args": {"options": "-c lock_timeout=300"}}
    with opened(f"postgresql:{postgres_server.url}", engine_options=options) as stores:
        made = sessions(stores, {"alice": 4, "bob": 2})
        middleware = ending(stores.backend, stores.index)
        # Another connection holds one of alice's rows (an application mid-write).
        holder = sa.create_engine(postgres_server.url)
        try:
            with holder.connect() as conn:
                conn.execute(
                    sa.text("SELECT 1 FROM everywhere_sessions WHERE session_id = :sid FOR UPDATE"),
                    {"sid": made["alice"][2]},
                )
                answer = call(middleware, EVERYWHERE, made["alice"][0])
                conn.rollback()
        finally:
            holder.dispose()
        assert_500(answer)
        assert assert_still_findable(stores, "alice") == set(made["alice"])
        status, _, body, _ = call(middleware, EVERYWHERE, made["alice"][0])
        assert (status, json.loads(body)) == (200, {"message": "OK", "ended": 4})
        assert_finished(stores, made)


# -- SQLite ------------------------------------------------------------------------------------

_LOCKER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


def test_sqlite_locked_by_another_process_answers_500_and_a_retry_finishes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sessions.sqlite3"
    spec = f"sqlite:{path}"
    # The deletion gives up after half a second of waiting for the lock.
    backend, index = SQLiteBackend(path, timeout=0.5), SQLiteSessionIndex(path)
    stores = EverywhereStores(backend, index, spec, spec)
    made = sessions(stores, {"alice": 4, "bob": 2})
    middleware = ending(stores.backend, stores.index)
    locker = subprocess.Popen(
        [sys.executable, "-c", _LOCKER, str(path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert locker.stdout is not None and locker.stdout.readline() == "locked\n"
        answer = call(middleware, EVERYWHERE, made["alice"][0])
    finally:
        locker.communicate("", timeout=30)
    assert_500(answer)
    assert assert_still_findable(stores, "alice") == set(made["alice"])
    status, _, body, _ = call(middleware, EVERYWHERE, made["alice"][0])
    assert (status, json.loads(body)) == (200, {"message": "OK", "ended": 4})
    assert_finished(stores, made)
    stores.close()


# -- the index down under a plain logout ------------------------------------------------------


def _index_down_then_up(stores: EverywhereStores, down: Any) -> None:
    """Plain logouts (and an everywhere) while ``down`` keeps the index unreachable:
    every one answers 500; once it is back, the same logouts answer 200 and the index
    is exact again."""
    made = sessions(stores, {"alice": 4, "bob": 2})
    a0, a1, a2, a3 = made["alice"]
    middleware = ending(stores.backend, stores.index)
    with down():
        answers = [call(middleware, LOGOUT, sid) for sid in (a1, a2, a3)]
        everywhere = call(middleware, EVERYWHERE, a0)
    for answer in [*answers, everywhere]:
        assert_500(answer)
    # The plain logouts deleted their records, then their unindexing failed: a
    # retry (or a log out everywhere) must still find whatever may exist. A frozen
    # Redis may run the removal scripts it received once it wakes (the records are
    # gone, so that is right); a stopped PostgreSQL runs nothing. Either way every
    # live session is listed. The everywhere could not read the index: it deleted
    # nothing.
    assert {a0} <= stores.index.find("user", "alice") <= set(made["alice"])
    assert set(stores.live()) == {a0, *made["bob"]}
    for sid in (a1, a2, a3):
        status, _, body, _ = call(middleware, LOGOUT, sid)
        assert logout_ok(status, body)
    check_index_matches_sessions(stores, made, seen=[*made["alice"], *made["bob"]])
    status, _, body, _ = call(middleware, EVERYWHERE, a0)
    assert (status, json.loads(body)) == (200, {"message": "OK", "ended": 1})
    assert_finished(stores, made)


@pytest.mark.redis
def test_plain_logout_with_the_redis_index_frozen_answers_500_never_200(
    redis_server: Any, tmp_path: Path
) -> None:
    sqlite = f"sqlite:{tmp_path / 'sessions.sqlite3'}"
    with opened(sqlite, f"redis:{redis_server.url}", redis_options=REDIS_FAST) as stores:
        _index_down_then_up(stores, redis_server.paused)


@pytest.mark.postgres
def test_plain_logout_with_the_postgresql_index_stopped_answers_500_never_200(
    postgres_server: Any, tmp_path: Path
) -> None:
    sqlite = f"sqlite:{tmp_path / 'sessions.sqlite3'}"
    options = {"connect_args": {"connect_timeout": 2}}
    with opened(sqlite, f"postgresql:{postgres_server.url}", engine_options=options) as stores:
        _index_down_then_up(stores, postgres_server.stopped)
