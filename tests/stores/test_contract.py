"""Every bundled backend and revocation store against the one contract, on real stores.

Redis and PostgreSQL are real servers (``servers.py``); the records are written and
checked with raw commands and raw SQL, not through the backend under test.
"""

from __future__ import annotations

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
)
from servers import RedisServer, free_port

from logout_middleware.backends import (
    MemoryBackend,
    RedisBackend,
    SQLAlchemyBackend,
    SQLiteBackend,
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


class TestSQLiteBackend(PrefixContract, SharedContract, FailureContract):
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

    @pytest.fixture
    def broken(self, tmp_path: Path) -> Any:
        # A directory is not a database: every statement fails.
        return SQLiteBackend(tmp_path, create_table=False)


class TestRedisBackend(PrefixContract, SharedContract, FailureContract):
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

    def put(self, backend: Any, key: str) -> bool:
        self.raw.set(key, b"{}")
        return True

    def has(self, backend: Any, key: str) -> bool:
        return bool(self.raw.exists(key))

    @pytest.fixture
    def broken(self) -> Iterator[Any]:
        backend = RedisBackend(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
        yield backend
        backend.close()


class _SQLAlchemyContract(PrefixContract, SharedContract, FailureContract):
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


class TestSQLAlchemyBackendOnSQLite(_SQLAlchemyContract):
    max_key = 10**6  # SQLite does not enforce VARCHAR lengths

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
