"""Every bundled backend and revocation store against the one contract, on real stores.

Redis (one server and a three-node Cluster) and PostgreSQL are real servers
(``servers.py``); the records are written and checked with raw commands and raw SQL,
not through the backend under test. Round trips are counted on the client side: SQL
statements (SQLite's trace callback, SQLAlchemy's engine events) and Redis commands
and pipeline executions (a client wrapper).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from backend_contract import (
    BackendContract,
    FailureContract,
    PrefixContract,
    RevocationContract,
    SharedContract,
    TransactionContract,
)
from redis.cluster import RedisCluster
from servers import RedisServer, free_port

from logout_middleware.backends import (
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
    cookie_token,
)

# --- fixtures shared by the classes below -------------------------------------------


@pytest.fixture
def raw_redis(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A plain client on a flushed database, to write and read keys directly."""
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, db=0)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[sa.Engine]:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'sa.db'}")
    yield engine
    engine.dispose()


# --- session backends ---------------------------------------------------------------


class TestMemoryBackend(BackendContract):
    """MemoryBackend has no prefix and lives in one process: the core contract only."""

    @pytest.fixture
    def make(self) -> Callable[[str], Any]:
        return lambda prefix: MemoryBackend()

    def put(self, backend: Any, key: str) -> bool:
        backend._sessions[key] = {}  # no public way to store under a chosen id
        return True

    def has(self, backend: Any, key: str) -> bool:
        return key in backend


#: A trigger that makes SQLite refuse to delete one row (``{column}``, ``{key}``).
SQLITE_REFUSE = (
    "CREATE TRIGGER refuse BEFORE DELETE ON sessions WHEN old.{column} = '{key}' "
    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
)


class TestSQLiteBackend(PrefixContract, SharedContract, FailureContract, TransactionContract):
    @pytest.fixture
    def make(self, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
        made: list[SQLiteBackend] = []
        self.path = tmp_path / "sessions.db"

        def make(prefix: str) -> SQLiteBackend:
            made.append(SQLiteBackend(self.path, key_prefix=prefix))
            return made[-1]

        yield make
        for b in made:
            b.close()

    def _sql(self, query: str, *params: str) -> list[Any]:
        with sqlite3.connect(self.path) as conn:
            rows = conn.execute(query, params).fetchall()
        conn.close()
        return rows

    def put(self, backend: Any, key: str) -> bool:
        self._sql("INSERT OR REPLACE INTO sessions (id, data) VALUES (?, '{}')", key)
        return True

    def has(self, backend: Any, key: str) -> bool:
        return bool(self._sql("SELECT 1 FROM sessions WHERE id = ?", key))

    def put_ids(self, backend: Any, session_ids: list[str]) -> None:
        rows = [(self.key_of(backend, sid),) for sid in session_ids]
        with sqlite3.connect(self.path) as conn:
            conn.executemany("INSERT OR REPLACE INTO sessions (id, data) VALUES (?, '{}')", rows)
        conn.close()

    #: BEGIN, three DELETE ... IN (500, 500 and 200 ids), COMMIT.
    max_round_trips = 5

    @contextlib.contextmanager
    def round_trips(self, backend: Any) -> Iterator[list[str]]:
        trips: list[str] = []
        conn = backend.db.connection()  # this thread's, which delete_many uses
        conn.set_trace_callback(lambda sql: trips.append(sql.split(None, 1)[0].upper()))
        try:
            yield trips
        finally:
            conn.set_trace_callback(None)

    def refuse_deleting(self, backend: Any, key: str) -> None:
        self._sql(SQLITE_REFUSE.format(column="id", key=key))

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Any:
        # A directory is not a database: every statement fails.
        return SQLiteBackend(tmp_path, create_table=False)


class CountingClient:
    """A redis-py client that records each round trip: a command, or one pipeline's
    execution (however many commands it holds)."""

    def __init__(self, client: Any, trips: list[str]) -> None:
        self.client, self.trips = client, trips

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.client, name)
        if name != "pipeline":
            self.trips.append(name)
            return attr

        def pipeline(*args: Any, **kwargs: Any) -> Any:
            pipe = attr(*args, **kwargs)
            execute = pipe.execute

            def counted(*a: Any, **k: Any) -> Any:
                self.trips.append(f"pipeline of {len(pipe)}")
                return execute(*a, **k)

            pipe.execute = counted
            return pipe

        return pipeline


class _RedisStore:
    """Raw reads and writes, and round trip counts, for the Redis backends."""

    raw: Any
    #: One pipeline of 1 200 DEL.
    max_round_trips = 1

    def put(self, backend: Any, key: str) -> bool:
        self.raw.set(key, b"{}")
        return True

    def has(self, backend: Any, key: str) -> bool:
        return bool(self.raw.exists(key))

    def put_ids(self, backend: Any, session_ids: list[str]) -> None:
        pipe = self.raw.pipeline(transaction=False)
        for sid in session_ids:
            pipe.set(backend.key_prefix + sid, b"{}")
        pipe.execute()

    @contextlib.contextmanager
    def round_trips(self, backend: Any) -> Iterator[list[str]]:
        trips: list[str] = []
        real = backend.client
        backend.client = CountingClient(real, trips)
        try:
            yield trips
        finally:
            backend.client = real


class TestRedisBackend(_RedisStore, PrefixContract, SharedContract, FailureContract):
    @pytest.fixture
    def make(
        self, redis_server: RedisServer, raw_redis: redis.Redis
    ) -> Iterator[Callable[[str], Any]]:
        made: list[RedisBackend] = []
        self.raw = raw_redis

        def make(prefix: str) -> RedisBackend:
            made.append(RedisBackend(redis_server.url, key_prefix=prefix))
            return made[-1]

        yield make
        for b in made:
            b.close()

    @pytest.fixture
    def broken(self) -> Iterator[Any]:
        backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
        yield backend
        backend.close()


class TestRedisClusterBackend(_RedisStore, PrefixContract, SharedContract):
    """A ready RedisCluster client: a pipeline's commands go to the node of each key."""

    @pytest.fixture
    def make(self, redis_cluster: list[RedisServer]) -> Iterator[Callable[[str], Any]]:
        client = RedisCluster(host="127.0.0.1", port=redis_cluster[0].port, socket_timeout=2)
        client.flushall()
        self.raw = client
        self.nodes = redis_cluster
        yield lambda prefix: RedisBackend(client, key_prefix=prefix)
        client.flushall()
        client.close()

    def test_delete_many_reaches_every_node_in_one_pipeline(self, backend: Any) -> None:
        ids = [f"spread-{i}" for i in range(60)]
        self.put_ids(backend, ids)
        owners = {self.raw.get_node_from_key(backend.key_prefix + sid).port for sid in ids}
        assert owners == {node.port for node in self.nodes}, "ids land on every node"
        with self.round_trips(backend) as trips:
            backend.delete_many(ids)
        assert trips == ["pipeline of 60"]
        assert self.raw.exists(*(backend.key_prefix + sid for sid in ids[:1])) == 0
        assert not any(self.has_id(backend, sid) for sid in ids)


class _SQLAlchemyContract(PrefixContract, SharedContract, FailureContract, TransactionContract):
    #: Longest key the created table holds (VARCHAR(255)).
    max_key = 255
    nul_ok = True

    def _make_backend(self, engine: sa.Engine) -> Iterator[Callable[[str], Any]]:
        self.engine = engine
        yield lambda prefix: SQLAlchemyBackend(engine, key_prefix=prefix, create_table=True)

    def put(self, backend: Any, key: str) -> bool:
        if len(key) > self.max_key or ("\x00" in key and not self.nul_ok):
            return False  # such an id cannot exist in this table
        with self.engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO sessions (session_id, data) VALUES (:k, '{}')"), {"k": key}
            )
        return True

    def has(self, backend: Any, key: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.text("SELECT 1 FROM sessions WHERE session_id = :k"), {"k": key}
            ).first()
        return row is not None

    def put_ids(self, backend: Any, session_ids: list[str]) -> None:
        rows = [{"k": self.key_of(backend, sid)} for sid in session_ids]
        with self.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO sessions (session_id, data) VALUES (:k, '{}')"), rows)

    #: BEGIN, three DELETE ... IN (500, 500 and 200 ids), COMMIT.
    max_round_trips = 5

    @contextlib.contextmanager
    def round_trips(self, backend: Any) -> Iterator[list[str]]:
        trips: list[str] = []

        def statement(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
            trips.append(sql.split(None, 1)[0].upper())

        listeners: list[tuple[str, Callable[..., None]]] = [
            ("begin", lambda conn: trips.append("BEGIN")),
            ("before_cursor_execute", statement),
            ("commit", lambda conn: trips.append("COMMIT")),
        ]
        # The engine the backend's statements run on (an async engine's sync_engine).
        engine = getattr(self, "traced_engine", self.engine)
        for name, listener in listeners:
            sa.event.listen(engine, name, listener)
        try:
            yield trips
        finally:
            for name, listener in listeners:
                sa.event.remove(engine, name, listener)


class TestSQLAlchemyBackendOnSQLite(_SQLAlchemyContract):
    max_key = 10**6  # SQLite does not enforce VARCHAR lengths

    def refuse_deleting(self, backend: Any, key: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(sa.text(SQLITE_REFUSE.format(column="session_id", key=key)))

    @pytest.fixture
    def make(self, sqlite_engine: sa.Engine) -> Iterator[Callable[[str], Any]]:
        yield from self._make_backend(sqlite_engine)

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Iterator[Any]:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
        yield SQLAlchemyBackend(engine)  # no table, and none created
        engine.dispose()


@pytest.mark.postgres
class TestSQLAlchemyBackendOnPostgreSQL(_SQLAlchemyContract):
    nul_ok = False  # PostgreSQL text cannot hold NUL

    def refuse_deleting(self, backend: Any, key: str) -> None:
        with self.engine.begin() as conn:  # the trigger goes with the table's DROP
            conn.execute(
                sa.text(
                    "CREATE OR REPLACE FUNCTION refuse_delete() RETURNS trigger AS $$ BEGIN "
                    f"IF OLD.session_id = '{key}' THEN RAISE EXCEPTION 'refused'; END IF; "
                    "RETURN OLD; END $$ LANGUAGE plpgsql"
                )
            )
            conn.execute(
                sa.text(
                    "CREATE TRIGGER refuse BEFORE DELETE ON sessions "
                    "FOR EACH ROW EXECUTE FUNCTION refuse_delete()"
                )
            )

    @pytest.fixture
    def make(self, pg_engine: sa.Engine) -> Iterator[Callable[[str], Any]]:
        yield from self._make_backend(pg_engine)

    @pytest.fixture
    def broken(self) -> Iterator[Any]:
        engine = sa.create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing",
            connect_args={"connect_timeout": 2},
        )
        yield SQLAlchemyBackend(engine)
        engine.dispose()


class DeleteOnly:
    """A backend with ``delete`` alone, as a third-party one may be."""

    def __init__(self) -> None:
        self.deleted: list[str] = []

    def delete(self, session_id: str) -> None:
        if session_id == "fails":
            raise ConnectionError("store down")
        self.deleted.append(session_id)


def test_delete_sessions_falls_back_to_delete_one_id_at_a_time() -> None:
    backend = DeleteOnly()
    delete_sessions(backend, iter(["a", "b", "a"]))
    assert backend.deleted == ["a", "b", "a"]
    delete_sessions(backend, [])
    assert backend.deleted == ["a", "b", "a"]
    with pytest.raises(ConnectionError, match="store down"):
        delete_sessions(backend, ["c", "fails", "d"])
    assert backend.deleted[-1] == "c"


def test_every_bundled_backend_has_delete_many() -> None:
    for cls in (MemoryBackend, SQLiteBackend, RedisBackend, SQLAlchemyBackend):
        assert callable(getattr(cls, "delete_many", None)), cls


# --- revocation stores --------------------------------------------------------------


class TestMemoryRevocationStore(RevocationContract):
    shared = False

    @pytest.fixture
    def make(self) -> Callable[[str], Any]:
        return lambda namespace: MemoryRevocationStore()


class TestSQLiteRevocationStore(RevocationContract):
    @pytest.fixture
    def make(self, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
        made: list[SQLiteRevocationStore] = []

        def make(namespace: str) -> SQLiteRevocationStore:
            made.append(SQLiteRevocationStore(tmp_path / "rev.db", table=f"revoked_{namespace}"))
            return made[-1]

        yield make
        for s in made:
            s.close()

    def test_expired_rows_are_purged(self, store: Any) -> None:
        import time

        store.revoke(cookie_token("a"), 0.05)
        time.sleep(0.1)
        store.revoke(cookie_token("b"), 60)  # revoke purges what has expired
        assert store.purge() == 0
        with sqlite3.connect(store.path) as conn:
            count = conn.execute("SELECT COUNT(*) FROM revoked_ns1").fetchone()[0]
        conn.close()
        assert count == 1

    def test_failing_store_raises(self, tmp_path: Path) -> None:
        store = SQLiteRevocationStore(tmp_path / "rev.db")
        store.db.execute("DROP TABLE revoked_cookies")
        with pytest.raises(sqlite3.OperationalError):
            store.is_revoked(cookie_token("x"))
        with pytest.raises(sqlite3.OperationalError):
            store.revoke(cookie_token("x"), 60)
        store.close()


class TestRedisRevocationStore(RevocationContract):
    @pytest.fixture
    def make(
        self, redis_server: RedisServer, raw_redis: redis.Redis
    ) -> Iterator[Callable[[str], Any]]:
        made: list[RedisRevocationStore] = []
        self.raw = raw_redis

        def make(namespace: str) -> RedisRevocationStore:
            made.append(RedisRevocationStore(redis_server.url, key_prefix=f"{namespace}:"))
            return made[-1]

        yield make
        for s in made:
            s.close()

    def test_revocation_is_a_key_with_a_ttl(self, store: Any) -> None:
        token = cookie_token("value")
        store.revoke(token, 30)
        assert 29_000 < self.raw.pttl(f"ns1:{token}") <= 30_000

    def test_failing_store_raises(self) -> None:
        store = RedisRevocationStore(f"redis://127.0.0.1:{free_port()}/0")
        with pytest.raises(redis.ConnectionError):
            store.is_revoked(cookie_token("x"))
        with pytest.raises(redis.ConnectionError):
            store.revoke(cookie_token("x"), 60)
        store.close()
