"""The asyncio backends (AsyncRedisBackend, AsyncSQLAlchemyBackend) against the one
backend contract, on the real servers of the blocking ones.

The contract is written for blocking calls (and calls them from threads, too); an
adapter runs each coroutine of the backend on one event loop in a thread of its own,
the loop its client's connections belong to. The forked-process contract does not
apply: an asyncio client belongs to the event loop of the process that made it (a
worker builds its own).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from backend_contract import FailureContract, PrefixContract, TransactionContract
from servers import PostgresServer, RedisServer, free_port
from sqlalchemy.ext.asyncio import create_async_engine
from stores.test_contract import (
    TestSQLAlchemyBackendOnPostgreSQL as _PostgreSQL,
)
from stores.test_contract import _RedisStore, _SQLAlchemyContract
from stores.test_contract import raw_redis as raw_redis  # the fixture, for this module

from logout_middleware.backends import (
    AsyncRedisBackend,
    AsyncSessionBackend,
    AsyncSQLAlchemyBackend,
    RedisBackend,
)


class Loop:
    """An event loop running in a thread of its own, for blocking callers."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


class Blocking:
    """A blocking view of an asyncio backend: each method's coroutine, run on ``loop``.
    Other attributes (``key_prefix``, ``client``) are the backend's, read and set."""

    def __init__(self, backend: Any, loop: Loop) -> None:
        object.__setattr__(self, "backend", backend)
        object.__setattr__(self, "loop", loop)

    def delete(self, session_id: str) -> None:
        self.loop.run(self.backend.delete(session_id))

    def delete_many(self, session_ids: Any) -> Any:
        return self.loop.run(self.backend.delete_many(session_ids))

    def create(self, data: dict[str, Any]) -> str:
        return str(self.loop.run(self.backend.create(data)))

    def get(self, session_id: str) -> Any:
        return self.loop.run(self.backend.get(session_id))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.backend, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.backend, name, value)


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


class TestAsyncRedisBackend(_RedisStore, PrefixContract, FailureContract):
    @pytest.fixture
    def make(
        self, redis_server: RedisServer, raw_redis: redis.Redis, loop: Loop
    ) -> Iterator[Callable[[str], Any]]:
        made: list[AsyncRedisBackend] = []
        self.raw = raw_redis

        def make(prefix: str) -> Blocking:
            made.append(AsyncRedisBackend(redis_server.url, key_prefix=prefix))
            return Blocking(made[-1], loop)

        yield make
        for backend in made:
            loop.run(backend.close())

    @pytest.fixture
    def broken(self, loop: Loop) -> Iterator[Any]:
        backend = AsyncRedisBackend(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
        yield Blocking(backend, loop)
        loop.run(backend.close())

    def test_its_methods_are_coroutines(self, backend: Any) -> None:
        assert isinstance(backend.backend, AsyncSessionBackend)
        assert repr(backend.backend) == "AsyncRedisBackend(key_prefix='t:')"

    def test_a_client_of_the_other_kind_is_refused(self, redis_server: RedisServer) -> None:
        import redis.asyncio

        blocking, aio = redis.Redis(port=redis_server.port), redis.asyncio.Redis()
        with pytest.raises(ValueError, match=r"give AsyncRedisBackend a redis\.asyncio one"):
            AsyncRedisBackend(blocking)
        with pytest.raises(ValueError, match="use AsyncRedisBackend"):
            RedisBackend(aio)  # its commands, unawaited, would delete nothing
        blocking.close()

    def test_a_ready_client_is_used_as_it_is(
        self, redis_server: RedisServer, raw_redis: redis.Redis, loop: Loop
    ) -> None:
        import redis.asyncio

        client = redis.asyncio.Redis(port=redis_server.port)
        backend = Blocking(AsyncRedisBackend(client, key_prefix="ready:"), loop)
        raw_redis.set("ready:x", b"{}")
        backend.delete("x")
        assert not raw_redis.exists("ready:x")
        loop.run(backend.close())  # not its own: left open
        assert loop.run(client.ping())
        loop.run(client.aclose())


@pytest.mark.postgres
class TestAsyncSQLAlchemyBackendOnPostgreSQL(
    _SQLAlchemyContract, PrefixContract, FailureContract, TransactionContract
):
    nul_ok = False  # PostgreSQL text cannot hold NUL
    refuse_deleting = _PostgreSQL.refuse_deleting
    # Not for an asyncio client (see the module's docstring).
    test_concurrent_deletes_from_processes = None

    @pytest.fixture
    def make(
        self, pg_engine: sa.Engine, postgres_server: PostgresServer, loop: Loop
    ) -> Iterator[Callable[[str], Any]]:
        # psycopg 3 is a blocking and an asyncio driver: the same URL serves both engines.
        async_engine = create_async_engine(postgres_server.url, pool_pre_ping=True)
        self.engine = pg_engine  # raw reads and writes
        self.traced_engine = async_engine.sync_engine

        def make(prefix: str) -> Blocking:
            backend = AsyncSQLAlchemyBackend(async_engine, key_prefix=prefix)
            loop.run(backend.create_table())
            return Blocking(backend, loop)

        yield make
        loop.run(async_engine.dispose())

    @pytest.fixture
    def broken(self, loop: Loop) -> Iterator[Any]:
        engine = create_async_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nothing",
            connect_args={"connect_timeout": 2},
        )
        yield Blocking(AsyncSQLAlchemyBackend(engine), loop)
        loop.run(engine.dispose())

    def test_its_methods_are_coroutines(self, backend: Any) -> None:
        assert isinstance(backend.backend, AsyncSessionBackend)
        assert repr(backend.backend) == (
            "AsyncSQLAlchemyBackend(table='sessions', id_column='session_id', key_prefix='t:')"
        )

    def test_a_blocking_engine_is_refused(self, pg_engine: sa.Engine) -> None:
        with pytest.raises(ValueError, match="must be a SQLAlchemy AsyncEngine"):
            AsyncSQLAlchemyBackend(pg_engine)  # type: ignore[arg-type]
