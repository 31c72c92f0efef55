"""Adversarial tests of the session stores, the session indexes and the revocation
stores on the real servers: what the contract suites (``backend_contract.py``,
``index_contract.py``) do not cover.

* awkward ids and label values (empty, whitespace, NUL, LIKE/GLOB metacharacters,
  quotes, Redis Cluster hash tags, 10 KB, case variants, lone surrogates), each
  deleted one at a time with every other record checked after each delete;
* ``delete_many``/``remove_many`` over SQLite's and PostgreSQL's bound-variable
  limits, with duplicates and unknown ids, and their counts;
* huge time-to-live values;
* overlapping log-outs-everywhere from threads and from asyncio tasks;
* a PostgreSQL connection terminated mid-transaction and a Redis frozen mid-pipeline:
  an exception, then a retry that finishes the job.

The defects it found are fixed, each test now pinning the fix; a new one is pinned by
``xfail(strict=True)`` whose reason names the input, the behaviour, what is expected
and where.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from redis.cluster import RedisCluster

from logout_middleware import (
    MemorySessionIndex,
    RedisSessionIndex,
    SQLAlchemySessionIndex,
    SQLiteSessionIndex,
)
from logout_middleware.backends import (
    AsyncRedisBackend,
    AsyncSQLAlchemyBackend,
    MemoryBackend,
    RedisBackend,
    SQLAlchemyBackend,
    SQLiteBackend,
    delete_sessions,
)
from logout_middleware.revocation import (
    MemoryRevocationStore,
    RedisRevocationStore,
    SQLiteRevocationStore,
)

#: Ids (and label values) that a store must hold as they are or refuse cleanly.
AWKWARD = [
    "", " ", "  ", "\t", "\n", "\x00", "a\x00b", "\x00a",
    "%", "%%", "a%", "_", "a_c", "abc_", "*", "a*", "?", "a?c", "[", "]", "[a]c", "[!a]",
    "\\", "a\\", "\\%", "\\_", "'", "''", '"', ";", "--", "x'; DROP TABLE sessions; --",
    "{x}", "{x}y", "y{x}", "{}", "{", "}", "}{x}", "{{x}}", "x",
    "Abc", "abc", "ABC", "aBc", "ß", "SS", "ss", "İ", "i", "ﬁ", "fi",
    "séssion-ключ-🍪", "\u00e9", "e\u0301", "\u200b", "\ufeff",
    "session:x", "ession:x", "label:user:ada", "session:", ":",
    "x" * 10240, "y" * 255, "y" * 256,
]

#: Who cannot hold what: PostgreSQL text has no NUL, the tables are VARCHAR(255).
PG_LIMIT = 255


def pg_holds(key: str) -> bool:
    return "\x00" not in key and len(key) <= PG_LIMIT


# --- session backends, with raw access to their records ------------------------------


class Store:
    """A session backend and raw access to its records (written and listed without
    the backend), for one store kind."""

    def __init__(
        self,
        backend: Any,
        put: Callable[[list[str]], None],
        keys: Callable[[], set[str]],
        holds: Callable[[str], bool] = lambda key: True,
    ) -> None:
        self.backend, self._put, self.keys, self.holds = backend, put, keys, holds

    def key(self, sid: str) -> str:
        return str(getattr(self.backend, "key_prefix", "")) + sid

    def put(self, sids: list[str]) -> list[str]:
        """Write a record for each id the store can hold; return those ids."""
        held = [sid for sid in dict.fromkeys(sids) if self.holds(self.key(sid))]
        self._put([self.key(sid) for sid in held])
        return held


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


BACKENDS = ["memory", "sqlite", "sa-sqlite", "postgresql", "redis", "cluster"]


def _marks(kind: str) -> list[Any]:
    if kind in ("postgresql",):
        return [pytest.mark.postgres]
    if kind in ("redis", "cluster"):
        return [pytest.mark.redis]
    return []


@pytest.fixture
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[..., Store]]:
    closers: list[Callable[[], None]] = []

    def make(kind: str, prefix: str = "p:") -> Store:
        if kind == "memory":
            mem = MemoryBackend()

            def mem_put(keys: list[str]) -> None:
                for key in keys:
                    mem._sessions[key] = {}

            return Store(mem, mem_put, lambda: set(mem._sessions))
        if kind == "sqlite":
            path = tmp_path / "audit.db"
            lite = SQLiteBackend(path, key_prefix=prefix)
            closers.append(lite.close)

            def lite_sql(sql: str, rows: list[tuple[str, ...]] | None = None) -> list[Any]:
                conn = sqlite3.connect(path)
                try:
                    with conn:
                        if rows is not None:
                            conn.executemany(sql, rows)
                            return []
                        return conn.execute(sql).fetchall()
                finally:
                    conn.close()

            return Store(
                lite,
                lambda keys: lite_sql(
                    "INSERT INTO sessions (id, data) VALUES (?, '{}')", [(k,) for k in keys]
                ),
                lambda: {row[0] for row in lite_sql("SELECT id FROM sessions")},
            )
        if kind in ("sa-sqlite", "postgresql"):
            if kind == "postgresql":
                engine = request.getfixturevalue("pg_engine")
                holds = pg_holds
            else:
                engine = sa.create_engine(f"sqlite:///{tmp_path / 'sa.db'}")
                closers.append(engine.dispose)
                holds = lambda key: True  # noqa: E731 - SQLite ignores VARCHAR lengths
            alchemy = SQLAlchemyBackend(engine, key_prefix=prefix, create_table=True)

            def sa_put(keys: list[str]) -> None:
                if keys:
                    with engine.begin() as conn:
                        conn.execute(
                            sa.text("INSERT INTO sessions (session_id, data) VALUES (:k, '{}')"),
                            [{"k": k} for k in keys],
                        )

            def sa_keys() -> set[str]:
                with engine.connect() as conn:
                    rows = conn.execute(sa.text("SELECT session_id FROM sessions")).fetchall()
                return {row[0] for row in rows}

            return Store(alchemy, sa_put, sa_keys, holds)
        if kind == "redis":
            server = request.getfixturevalue("redis_server")
            raw: Any = redis.Redis(host="127.0.0.1", port=server.port)
            raw.flushdb()
            closers.append(raw.close)
            backend = RedisBackend(server.url, key_prefix=prefix)
            closers.append(backend.close)
            return Store(backend, lambda keys: _redis_put(raw, keys),
                         lambda: {_text(k) for k in raw.keys("*")})
        if kind == "cluster":
            nodes = request.getfixturevalue("redis_cluster")
            client = RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=2)
            client.flushall()
            closers.append(client.close)
            closers.append(client.flushall)
            return Store(
                RedisBackend(client, key_prefix=prefix),
                lambda keys: _redis_put(client, keys),
                lambda: {_text(k) for k in client.keys(target_nodes=RedisCluster.ALL_NODES)},
            )
        raise AssertionError(kind)  # pragma: no cover

    yield make
    for close in reversed(closers):
        close()


def _redis_put(client: Any, keys: list[str]) -> None:
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.set(key, b"{}")
    pipe.execute()


BACKEND_PARAMS = [pytest.param(kind, marks=_marks(kind)) for kind in BACKENDS]


@pytest.mark.parametrize("kind", BACKEND_PARAMS)
def test_awkward_ids_each_delete_exactly_their_own_record(
    make_store: Callable[..., Store], kind: str
) -> None:
    store = make_store(kind)
    backend = store.backend
    held = store.put(AWKWARD)
    assert store.keys() == {store.key(sid) for sid in held}
    # Half at once, with duplicates, unknown ids and ids the store cannot hold.
    first, rest = held[::2], held[1::2]
    given = [*first, *first[:5], "never-existed", "\x00never", "z" * 300, *first[-3:]]
    assert backend.delete_many(given) == len(first)
    remaining = {store.key(sid) for sid in rest}
    assert store.keys() == remaining
    # The rest one at a time: after each delete every other record is still there.
    for sid in rest:
        backend.delete(sid)
        remaining.discard(store.key(sid))
        assert store.keys() == remaining, repr(sid)
    for sid in AWKWARD:  # deleting what is gone, or never was, is harmless
        backend.delete(sid)
    assert backend.delete_many(AWKWARD) == 0


@pytest.mark.parametrize("kind", [pytest.param("cluster", marks=pytest.mark.redis)])
def test_hash_tags_in_the_prefix_and_the_ids_on_a_cluster(
    make_store: Callable[..., Store], kind: str
) -> None:
    # "{app}:" pins every key to one slot; ids with tags of their own change nothing.
    tagged = make_store(kind, prefix="{app}:")
    plain = RedisBackend(tagged.backend.client, key_prefix="app:")
    ids = ["{x}", "x", "{app}", "}{", "{x}y", "{}", "{app}:x"]
    tagged.put(ids)
    _redis_put(tagged.backend.client, [plain.key_prefix + sid for sid in ids])
    assert tagged.backend.delete_many([*ids, *ids]) == len(ids)
    assert tagged.keys() == {plain.key_prefix + sid for sid in ids}
    assert plain.delete_many(ids[::-1]) == len(ids)
    assert tagged.keys() == set()


@pytest.mark.parametrize("kind", BACKEND_PARAMS)
def test_lone_surrogates_are_refused_or_stored_and_nothing_else_is_lost(
    make_store: Callable[..., Store], kind: str
) -> None:
    store = make_store(kind)
    backend = store.backend
    store.put(["bystander", "doomed", "doomed2"])
    for call in (
        lambda: backend.delete("\ud800"),
        lambda: backend.delete("x\udfff"),
        lambda: backend.delete_many(["doomed", "\ud800", "doomed"]),
    ):
        try:
            call()
        except (UnicodeEncodeError, sa.exc.StatementError):
            pass  # refused: acceptable, as long as nothing was half done
    assert store.key("bystander") in store.keys()
    # A retry without the id no store can hold finishes the job.
    backend.delete_many(["doomed", "doomed2"])
    assert store.keys() == {store.key("bystander")}


#: Ids per store in the bulk test: past SQLite's 32 766 variables and PostgreSQL's
#: 65 535 bind parameters, had the chunking been forgotten.
BULK = {"memory": 70_000, "sqlite": 33_000, "sa-sqlite": 33_000, "postgresql": 70_000,
        "redis": 70_000, "cluster": 20_000}


@pytest.mark.parametrize("kind", BACKEND_PARAMS)
def test_delete_many_of_tens_of_thousands_counts_exactly(
    make_store: Callable[..., Store], kind: str
) -> None:
    store = make_store(kind)
    n = BULK[kind]
    ids = [f"bulk-{i}" for i in range(n)]
    store.put([*ids[::2], "Bulk-0", "bulk-", "bulk-0 "])
    given = [*ids, *ids[: n // 10], "unknown"]  # duplicates and unknown ids
    assert store.backend.delete_many(given) == n // 2
    assert store.keys() == {store.key(s) for s in ("Bulk-0", "bulk-", "bulk-0 ")}
    assert store.backend.delete_many(given) == 0
    assert delete_sessions(store.backend, []) == 0


@pytest.mark.parametrize("kind", BACKEND_PARAMS)
def test_overlapping_everywhere_deletes_from_threads_count_each_record_once(
    make_store: Callable[..., Store], kind: str
) -> None:
    # Six log-outs-everywhere at once, overlapping, each over its ids sorted (as the
    # middleware does); more than one chunk of 500 each.
    store = make_store(kind)
    ids = [f"e{i:05d}" for i in range(3000)]
    existing = store.put([*ids[::3], "survivor"])
    sets = [sorted(ids[k * 300 : k * 300 + 1500]) for k in range(6)]
    counts, errors = _race([lambda s=s: store.backend.delete_many(s) for s in sets])
    assert errors == []
    assert sum(counts) == len([sid for sid in existing if sid in set().union(*sets)])
    assert store.keys() == {store.key("survivor")}


def _race(calls: list[Callable[[], Any]], timeout: float = 30) -> tuple[list[Any], list[Any]]:
    """Run the calls in threads released together; their results and exceptions."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            result = call()
            with lock:
                results.append(result)
        except BaseException as exc:  # returned to the test
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,), daemon=True) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results, errors


# --- PostgreSQL: lock order, and a connection dropped mid-transaction ----------------


def _after_first_delete(engine: sa.Engine, barrier: threading.Barrier) -> Callable[..., None]:
    """An engine listener that holds each thread, after its first DELETE, until the
    other thread has run its own: both have then locked their first chunk. When the
    other's first DELETE waits on the rows this one locked (sorted chunks that start
    alike), it never runs: after 3 s this thread goes on and releases them."""
    local = threading.local()

    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE") and not getattr(local, "held", 0):
            local.held = 1
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(3)

    sa.event.listen(engine, "after_cursor_execute", after)
    return after


@pytest.mark.postgres
def test_pg_sorted_overlapping_delete_many_interleaved_counts_each_record_once(
    pg_engine: sa.Engine,
) -> None:
    backend = SQLAlchemyBackend(pg_engine, create_table=True)
    ids = [f"d{i:04d}" for i in range(1500)]
    _pg_put(pg_engine, ids)
    listener = _after_first_delete(pg_engine, threading.Barrier(2, timeout=20))
    try:
        counts, errors = _race(
            [lambda: backend.delete_many(ids[:1000]), lambda: backend.delete_many(ids[500:])]
        )
    finally:
        sa.event.remove(pg_engine, "after_cursor_execute", listener)
    assert errors == []
    assert sorted(counts) == [500, 1000]


def _pg_put(engine: sa.Engine, keys: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO sessions (session_id, data) VALUES (:k, '{}')"),
            [{"k": k} for k in keys],
        )


@pytest.mark.postgres
def test_pg_delete_many_in_opposite_orders_does_not_deadlock(pg_engine: sa.Engine) -> None:
    backend = SQLAlchemyBackend(pg_engine, create_table=True)
    ids = [f"d{i:04d}" for i in range(1000)]
    _pg_put(pg_engine, ids)
    listener = _after_first_delete(pg_engine, threading.Barrier(2, timeout=20))
    try:
        counts, errors = _race(
            [lambda: delete_sessions(backend, ids), lambda: delete_sessions(backend, ids[::-1])]
        )
    finally:
        sa.event.remove(pg_engine, "after_cursor_execute", listener)
    assert errors == []
    assert sum(counts) == 1000


@pytest.mark.postgres
def test_pg_index_remove_many_in_opposite_orders_does_not_deadlock(pg_engine: sa.Engine) -> None:
    index = _pg_index(pg_engine)
    ids = [f"d{i:04d}" for i in range(1000)]
    with pg_engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO audit_index VALUES (:s, 'user', 'ada', NULL)"),
            [{"s": s} for s in ids],
        )
    listener = _after_first_delete(pg_engine, threading.Barrier(2, timeout=20))
    try:
        _, errors = _race([lambda: index.remove_many(ids), lambda: index.remove_many(ids[::-1])])
    finally:
        sa.event.remove(pg_engine, "after_cursor_execute", listener)
    assert errors == []
    assert index.find("user", "ada") == set()


def _pg_index(engine: sa.Engine) -> SQLAlchemySessionIndex:
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE IF EXISTS audit_index"))
    return SQLAlchemySessionIndex(engine, table="audit_index")


def _terminate_when_waiting(engine: sa.Engine, worker: threading.Thread) -> int:
    """Wait until another backend waits on a lock, then terminate it; its pid."""
    deadline = time.monotonic() + 15
    with engine.connect() as conn:
        while time.monotonic() < deadline and worker.is_alive():
            pid = conn.execute(
                sa.text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND query LIKE 'DELETE%' AND pid <> pg_backend_pid()"
                )
            ).scalar()
            conn.rollback()  # a new snapshot of pg_stat_activity next time
            if pid is not None:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
                return int(pid)
            time.sleep(0.02)
    raise AssertionError("the DELETE never waited on the lock")


@pytest.mark.postgres
def test_pg_connection_dropped_mid_delete_many_raises_and_a_retry_finishes(
    pg_engine: sa.Engine,
) -> None:
    backend = SQLAlchemyBackend(pg_engine, create_table=True)
    ids = [f"tx-{i:04d}" for i in range(1200)]
    _pg_put(pg_engine, [*ids, "survivor"])
    locker = pg_engine.connect()
    tx = locker.begin()  # holds a row of the third chunk: the delete waits there
    locker.execute(sa.text("SELECT 1 FROM sessions WHERE session_id = 'tx-1100' FOR UPDATE"))
    results, errors = [], []

    def run() -> None:
        try:
            results.append(backend.delete_many(ids))
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        _terminate_when_waiting(pg_engine, worker)
        worker.join(20)
    finally:
        tx.rollback()
        locker.close()
    assert results == [] and len(errors) == 1
    assert isinstance(errors[0], sa.exc.OperationalError)  # surfaces: the logout is a 500
    with pg_engine.connect() as conn:  # the first two chunks were rolled back
        assert conn.execute(sa.text("SELECT count(*) FROM sessions")).scalar() == 1201
    assert backend.delete_many(ids) == 1200  # the retry, on a fresh connection
    assert backend.delete_many(ids) == 0


@pytest.mark.postgres
def test_pg_connection_dropped_mid_index_remove_many_raises_and_a_retry_finishes(
    pg_engine: sa.Engine,
) -> None:
    index = _pg_index(pg_engine)
    ids = [f"tx-{i:04d}" for i in range(1200)]
    with pg_engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO audit_index VALUES (:s, 'user', 'ada', NULL)"),
            [{"s": s} for s in [*ids, "keep"]],
        )
    locker = pg_engine.connect()
    tx = locker.begin()
    locker.execute(sa.text("SELECT 1 FROM audit_index WHERE session_id = 'tx-1100' FOR UPDATE"))
    errors: list[Exception] = []

    def run() -> None:
        try:
            index.remove_many(ids)
        except Exception as exc:
            errors.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    try:
        _terminate_when_waiting(pg_engine, worker)
        worker.join(20)
    finally:
        tx.rollback()
        locker.close()
    assert len(errors) == 1 and isinstance(errors[0], sa.exc.OperationalError)
    assert len(index.find("user", "ada")) == 1201  # nothing half done
    index.remove_many(ids)
    assert index.find("user", "ada") == {"keep"}


# --- asyncio backends: overlapping deletes from tasks -------------------------------


async def _tasks_delete(backend: Any, sets: list[list[str]]) -> list[Any]:
    return await asyncio.gather(*(backend.delete_many(s) for s in sets), return_exceptions=True)


@pytest.mark.redis
def test_async_redis_overlapping_delete_many_from_tasks(redis_server: Any) -> None:
    raw = redis.Redis(host="127.0.0.1", port=redis_server.port)
    raw.flushdb()
    ids = [f"a{i:05d}" for i in range(3000)]
    _redis_put(raw, [f"session:{s}" for s in ids[::2]])
    sets = [sorted(ids[k * 300 : k * 300 + 1500]) for k in range(6)]

    async def main() -> list[Any]:
        backend = AsyncRedisBackend(redis_server.url)
        try:
            return await _tasks_delete(backend, sets)
        finally:
            await backend.close()

    counts = asyncio.run(main())
    assert all(isinstance(c, int) for c in counts), counts
    assert sum(counts) == len({s for group in sets for s in group} & set(ids[::2]))
    raw.close()


@pytest.mark.postgres
def test_async_sqlalchemy_overlapping_delete_many_from_tasks(
    pg_engine: sa.Engine, postgres_server: Any
) -> None:
    from sqlalchemy.ext.asyncio import create_async_engine

    ids = [f"a{i:05d}" for i in range(3000)]
    sets = [sorted(ids[k * 300 : k * 300 + 1500]) for k in range(6)]

    async def main() -> list[Any]:
        engine = create_async_engine(postgres_server.url)
        backend = AsyncSQLAlchemyBackend(engine)
        await backend.create_table()
        _pg_put(pg_engine, ids[::2])
        try:
            return await _tasks_delete(backend, sets)
        finally:
            await engine.dispose()

    counts = asyncio.run(main())
    assert all(isinstance(c, int) for c in counts), counts
    assert sum(counts) == len({s for group in sets for s in group} & set(ids[::2]))


# --- session indexes -----------------------------------------------------------------

INDEXES = ["memory", "sqlite", "sa-sqlite", "postgresql", "redis", "cluster"]


@pytest.fixture
def make_index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
    closers: list[Callable[[], None]] = []

    def make(kind: str) -> Any:
        if kind == "memory":
            return MemorySessionIndex()
        if kind == "sqlite":
            lite = SQLiteSessionIndex(tmp_path / "index.db", table="audit_index")
            closers.append(lite.close)
            return lite
        if kind == "sa-sqlite":
            engine = sa.create_engine(f"sqlite:///{tmp_path / 'sa-index.db'}")
            closers.append(engine.dispose)
            return SQLAlchemySessionIndex(engine, table="audit_index")
        if kind == "postgresql":
            return _pg_index(request.getfixturevalue("pg_engine"))
        if kind == "redis":
            server = request.getfixturevalue("redis_server")
            raw = redis.Redis(host="127.0.0.1", port=server.port)
            raw.flushdb()
            raw.close()
            index = RedisSessionIndex(server.url, key_prefix="audit:")
            closers.append(index.close)
            return index
        if kind == "cluster":
            nodes = request.getfixturevalue("redis_cluster")
            client = RedisCluster(host="127.0.0.1", port=nodes[0].port, socket_timeout=2)
            client.flushall()
            closers.append(client.close)
            closers.append(client.flushall)
            return RedisSessionIndex(client, key_prefix="audit:")
        raise AssertionError(kind)  # pragma: no cover

    yield make
    for close in reversed(closers):
        close()


def _index_holds(kind: str, text: str) -> bool:
    return pg_holds(text) if kind == "postgresql" else True


INDEX_PARAMS = [pytest.param(kind, marks=_marks(kind)) for kind in INDEXES]


@pytest.mark.parametrize("kind", INDEX_PARAMS)
def test_index_awkward_ids_and_values_are_exact(
    make_index: Callable[[str], Any], kind: str
) -> None:
    index = make_index(kind)
    held = [sid for sid in dict.fromkeys(AWKWARD) if _index_holds(kind, sid)]
    for sid in held:
        index.add(sid, ttl=60, user=sid)  # the value is as awkward as the id
    index.add("bystander", ttl=60, user="ada")
    for sid in held:
        assert index.find("user", sid) == ({sid, "bystander"} if sid == "ada" else {sid}), sid
        assert index.labels(sid) == {"user": sid}, repr(sid)
    for sid in [s for s in AWKWARD if not _index_holds(kind, s) and "\x00" not in s]:
        with pytest.raises(sa.exc.DataError):  # too long for VARCHAR(255): refused
            index.add(sid, ttl=60, user="ada")
    assert index.find("user", "ada") == {"bystander"}
    first, rest = held[::2], held[1::2]
    index.remove_many([*first, *first[:4], "never-added", *first[-2:]])
    for sid in first:
        assert index.find("user", sid) == set() and index.labels(sid) == {}, repr(sid)
    for sid in rest:
        assert index.find("user", sid) == {sid} and index.labels(sid) == {"user": sid}, sid
    for sid in rest:
        index.remove(sid)
    assert all(index.find("user", sid) == set() for sid in held)
    assert index.find("user", "ada") == {"bystander"}


@pytest.mark.parametrize("kind", INDEX_PARAMS)
def test_index_add_of_an_unencodable_label_loses_nothing(
    make_index: Callable[[str], Any], kind: str
) -> None:
    # Every index refuses a label value (or an id) that UTF-8 cannot encode, before it
    # writes anything: the Redis index once unlinked the old labels first.
    index = make_index(kind)
    index.add("s1", ttl=60, user="alice", device="phone")
    for call in (
        lambda: index.add("s1", ttl=60, user="bob\ud800", device="phone"),
        lambda: index.add("s1", ttl=60, device="phone", user="bob\udfff"),
        lambda: index.add("s1", ttl=60, user="bob", device="\ud800"),
        lambda: index.add("s\ud800", ttl=60, user="alice"),
    ):
        with pytest.raises(ValueError, match="UTF-8"):
            call()
        assert index.labels("s1") == {"user": "alice", "device": "phone"}
        assert index.find("user", "alice") == {"s1"}
        assert index.find("device", "phone") == {"s1"}
        assert index.find("user", "bob") == set()


@pytest.mark.parametrize("kind", INDEX_PARAMS)
def test_index_lone_surrogate_ids_are_refused_or_held(
    make_index: Callable[[str], Any], kind: str
) -> None:
    index = make_index(kind)
    index.add("keep", ttl=60, user="ada")
    for call in (
        lambda: index.add("\ud800", ttl=60, user="ada"),
        lambda: index.remove("\ud800"),
        lambda: index.remove_many(["keep2", "\udfff"]),
    ):
        try:
            call()
        except (ValueError, sa.exc.StatementError):  # add refuses it: "UTF-8 can encode"
            pass
    assert "keep" in index.find("user", "ada")
    index.remove_many(["\ud800"] if kind == "memory" else [])
    assert index.find("user", "ada") == {"keep"}


@pytest.mark.postgres
def test_pg_index_nul_ids_are_nothing_to_remove(pg_engine: sa.Engine) -> None:
    from webtest import TestApp

    from logout_middleware import DEFAULT_LOGOUT_PATH, LogoutMiddleware

    index = _pg_index(pg_engine)
    backend = SQLAlchemyBackend(pg_engine, create_table=True)
    app = TestApp(LogoutMiddleware(lambda environ, start: [], backend, index=index))
    response = app.post(
        DEFAULT_LOGOUT_PATH,
        headers={"Cookie": 'session="a\\000b"'},  # the session id is 'a', NUL, 'b'
        expect_errors=True,
    )
    assert response.status_int == 200
    index.add("ok", ttl=60, user="ada")
    index.remove("a\x00b")
    assert index.labels("a\x00b") == {}
    assert index.find("user", "a\x00b") == set()
    index.remove_many(["ok", "a\x00b"])
    assert index.find("user", "ada") == set()


@pytest.mark.postgres
def test_pg_index_refuses_a_nul_label_without_losing_the_old_one(pg_engine: sa.Engine) -> None:
    index = _pg_index(pg_engine)
    index.add("s1", ttl=60, user="ada")
    with pytest.raises(sa.exc.DataError):
        index.add("s1", ttl=60, user="a\x00b")
    assert index.labels("s1") == {"user": "ada"}
    assert index.find("user", "ada") == {"s1"}


#: The longest ttl any store keeps (100 years): every store refuses more, alike.
MAX_TTL = 3_155_760_000


@pytest.mark.parametrize("ttl", [MAX_TTL + 1, 1e14, 1e16])
@pytest.mark.parametrize("kind", INDEX_PARAMS)
def test_index_huge_ttl(make_index: Callable[[str], Any], kind: str, ttl: float) -> None:
    # Refused before any write (Redis once failed half way: PEXPIREAT overflows).
    index = make_index(kind)
    index.add("s1", ttl=60, user="ada")
    with pytest.raises(ValueError, match="at most 3155760000"):
        index.add("s1", ttl=ttl, user="bob")
    assert index.labels("s1") == {"user": "ada"}
    assert index.find("user", "ada") == {"s1"} and index.find("user", "bob") == set()
    index.add("s1", ttl=MAX_TTL, user="bob")  # the longest is kept
    index.add("s2", ttl=60, user="bob")  # another session of the same user
    index.remove("s2")
    assert index.find("user", "ada") == set() and index.find("user", "bob") == {"s1"}
    assert index.labels("s1") == {"user": "bob"}
    index.remove_many(["s1"])
    assert index.find("user", "bob") == set() and index.labels("s1") == {}


@pytest.mark.parametrize("kind", INDEX_PARAMS)
def test_index_tiny_and_float_ttls_expire_and_never_resurrect(
    make_index: Callable[[str], Any], kind: str
) -> None:
    index = make_index(kind)
    index.add("tiny", ttl=1e-9, user="ada")  # rounded up to a millisecond or so
    index.add("short", ttl=0.15, user="ada")
    index.add("long", ttl=60.5, user="ada")
    time.sleep(0.3)
    assert index.find("user", "ada") == {"long"}
    assert index.labels("tiny") == {} and index.labels("short") == {}
    index.remove_many(["tiny", "short"])  # removing what expired is harmless
    index.add("other", ttl=60, user="ada")  # a write purges: the expired stay gone
    assert index.find("user", "ada") == {"long", "other"}


def test_memory_index_remove_many_of_a_lazy_iterable_that_reads_the_index() -> None:
    index = MemorySessionIndex()
    index.add("a", ttl=60, user="ada")
    index.add("b", ttl=60, user="bob")
    done = threading.Event()

    def run() -> None:
        index.remove_many(s for s in ("a", "b") if index.labels(s).get("user") == "ada")
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(2), "remove_many deadlocked"
    assert index.find("user", "ada") == set() and index.find("user", "bob") == {"b"}


def test_memory_backend_delete_many_of_a_lazy_iterable_that_reads_the_store() -> None:
    backend = MemoryBackend({"a": {"u": "ada"}, "b": {"u": "bob"}})
    ended = backend.delete_many(s for s in ("a", "b") if (backend.get(s) or {}).get("u") == "ada")
    assert ended == 1 and "b" in backend and "a" not in backend


# --- Redis frozen mid-pipeline / mid-script -----------------------------------------


@pytest.mark.redis
def test_redis_index_frozen_mid_remove_many_raises_and_a_retry_finishes(redis_server: Any) -> None:
    raw = redis.Redis(host="127.0.0.1", port=redis_server.port)
    raw.flushdb()
    index = RedisSessionIndex(redis_server.url, key_prefix="frz:", socket_timeout=0.5, retries=0)
    ids = [f"f{i}" for i in range(1500)]  # two remove scripts in one pipeline
    for sid in [*ids, "keep"]:
        index.add(sid, ttl=60, user="ada")
    with redis_server.paused(), pytest.raises(redis.TimeoutError):
        index.remove_many(ids)
    index.remove_many(ids)  # the retry: whatever ran, it completes
    assert index.find("user", "ada") == {"keep"}
    assert raw.zcard("frz:label:user:ada") == 1
    assert raw.exists(*(index.session_key(s) for s in ids[::100])) == 0
    assert 0 < raw.pttl("frz:label:user:ada") <= 60_000
    index.close()
    raw.close()


@pytest.mark.redis
def test_redis_backend_frozen_mid_pipeline_raises_and_a_retry_finishes(redis_server: Any) -> None:
    raw = redis.Redis(host="127.0.0.1", port=redis_server.port)
    raw.flushdb()
    backend = RedisBackend(redis_server.url, socket_timeout=0.5, retries=0)
    ids = [f"f{i}" for i in range(5000)]
    _redis_put(raw, [f"session:{s}" for s in [*ids, "keep"]])
    with redis_server.paused(), pytest.raises(redis.TimeoutError):
        backend.delete_many(ids)
    backend.delete_many(ids)
    assert [_text(k) for k in raw.keys("*")] == ["session:keep"]
    backend.close()
    raw.close()


# --- revocation stores and session-store TTLs ----------------------------------------


def _redis_revocation(request: pytest.FixtureRequest, tmp_path: Path, kind: str) -> Any:
    if kind == "memory":
        return MemoryRevocationStore()
    if kind == "sqlite":
        return SQLiteRevocationStore(tmp_path / "rev.db")
    server = request.getfixturevalue("redis_server")
    return RedisRevocationStore(server.url, key_prefix="audit-rev:")


@pytest.mark.parametrize(
    "kind", ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.redis)]
)
def test_revocation_of_a_huge_ttl(
    request: pytest.FixtureRequest, tmp_path: Path, kind: str
) -> None:
    # Every store refuses more than 100 years alike (Redis's SET PX once overflowed at
    # 1e16 s while the others accepted it), and keeps 100 years.
    store = _redis_revocation(request, tmp_path, kind)
    for ttl in (1e16, MAX_TTL + 1):
        with pytest.raises(ValueError, match="at most 3155760000"):
            store.revoke("a" * 64, ttl)
    assert not store.is_revoked("a" * 64)
    store.revoke("a" * 64, MAX_TTL)
    assert store.is_revoked("a" * 64)


def test_a_huge_revocation_max_age_is_refused_at_configuration() -> None:
    from logout_middleware import LogoutMiddleware

    with pytest.raises(ValueError, match=r"revocation_max_age .* at most 3155760000"):
        LogoutMiddleware(
            lambda environ, start: [], None, revocation=MemoryRevocationStore(),
            revocation_max_age=1e16,
        )


@pytest.mark.redis
def test_redis_backend_huge_ttl_is_refused_or_works(redis_server: Any) -> None:
    for ttl in (1e16, MAX_TTL + 1):  # refused at construction, as every ttl setting
        with pytest.raises(ValueError, match=r"ttl .* at most 3155760000"):
            RedisBackend(redis_server.url, ttl=ttl)
        with pytest.raises(ValueError, match=r"ttl .* at most 3155760000"):
            AsyncRedisBackend(redis_server.url, ttl=ttl)
    backend = RedisBackend(redis_server.url, ttl=MAX_TTL)
    sid = backend.create({"u": "ada"})
    assert backend.get(sid) == {"u": "ada"}
    backend.delete(sid)
    backend.close()


def test_only_deadlock_and_serialization_victims_are_run_again() -> None:
    from logout_middleware.backends.sqlalchemy import rolled_back_by_conflict

    class Orig(Exception):
        def __init__(self, sqlstate: str | None = None, *args: Any) -> None:
            super().__init__(*args)
            self.sqlstate = sqlstate

    def wrapped(orig: BaseException) -> sa.exc.OperationalError:
        return sa.exc.OperationalError("DELETE", {}, orig)

    assert rolled_back_by_conflict(wrapped(Orig("40P01")))  # PostgreSQL deadlock
    assert rolled_back_by_conflict(wrapped(Orig("40001")))  # serialization failure
    assert rolled_back_by_conflict(wrapped(Orig(None, 1213, "Deadlock found")))  # MySQL
    assert not rolled_back_by_conflict(wrapped(Orig("57P01")))  # terminated: surfaces
    assert not rolled_back_by_conflict(wrapped(Orig("22P05")))  # NUL: a DataError
    assert not rolled_back_by_conflict(ValueError("no orig"))
