"""Every bundled session index store against the one contract, on real stores.

Redis (one server and a three-node Cluster) and PostgreSQL are real servers
(``servers.py``). The Redis classes also check, from the server's own command
statistics, that no ``KEYS`` or ``SCAN`` is ever sent, and the key layout and TTLs
with raw commands.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from index_contract import IndexContract, SharedIndexContract
from redis.cluster import RedisCluster
from servers import RedisServer

from logout_middleware import (
    MemorySessionIndex,
    RedisSessionIndex,
    SQLAlchemySessionIndex,
    SQLiteSessionIndex,
)
from logout_middleware import backends as backends_package

SQLITE_BAD = [({"table": "x y"}, "table"), ({"table": "1x"}, "table"), ({"timeout": 0}, "timeout")]


def test_the_stores_are_exported_from_both_packages() -> None:
    for name in ("SessionIndex", "MemorySessionIndex", "SQLiteSessionIndex",
                 "RedisSessionIndex", "SQLAlchemySessionIndex"):
        assert getattr(backends_package, name) is not None
        assert name in backends_package.__all__


class TestMemorySessionIndex(IndexContract):
    @pytest.fixture
    def make(self) -> Callable[[str], Any]:
        return lambda namespace: MemorySessionIndex()

    def test_expired_entries_are_dropped_on_writes(self) -> None:
        index = MemorySessionIndex()
        index.add("old", ttl=0.05, user="ada")
        import time

        time.sleep(0.1)
        index.add("new", ttl=60, user="ada")
        assert "old" not in index._entries
        assert ("user", "ada") in index._by_label


class TestSQLiteSessionIndex(SharedIndexContract):
    bad_settings = SQLITE_BAD

    @pytest.fixture
    def make(self, tmp_path: Path) -> Iterator[Callable[[str], Any]]:
        made: list[SQLiteSessionIndex] = []
        self.path = tmp_path / "index.db"

        def make(namespace: str) -> SQLiteSessionIndex:
            made.append(SQLiteSessionIndex(self.path, table=f"index_{namespace}"))
            return made[-1]

        yield make
        for s in made:
            s.close()

    def build(self, **settings: Any) -> Any:
        return SQLiteSessionIndex(self.path, **settings)

    def test_every_query_uses_an_index(self, index: Any) -> None:
        index.add("s1", ttl=60, user="ada")
        conn = sqlite3.connect(self.path)
        plans = []
        for sql, params in [
            (index._find_sql, ("user", "ada", 0)),
            (index._labels_sql, ("s1", 0)),
            (index._delete_sql, ("s1",)),
            (index._purge_sql, (0,)),
        ]:
            plans += [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        conn.close()
        assert plans and all("USING" in p and "SCAN" not in p for p in plans), plans

    def test_expired_rows_are_purged_by_writes(self, index: Any) -> None:
        index.add("old", ttl=0.05, user="ada")
        import time

        time.sleep(0.1)
        index.add("new", ttl=60, user="ada")
        with sqlite3.connect(self.path) as conn:
            rows = conn.execute("SELECT session_id FROM index_ns1").fetchall()
        conn.close()
        assert rows == [("new",)]
        assert index.purge() == 0

    def test_failing_store_raises(self, index: Any) -> None:
        index.db.execute("DROP TABLE index_ns1")
        for call in (
            lambda: index.add("s", ttl=60, user="ada"),
            lambda: index.find("user", "ada"),
            lambda: index.labels("s"),
            lambda: index.remove("s"),
        ):
            with pytest.raises(sqlite3.OperationalError):
                call()


# --- Redis ----------------------------------------------------------------------------


class _RedisIndexContract(SharedIndexContract):
    bad_settings = [({"key_prefix": "a\nb"}, "key_prefix"), ({"key_prefix": 3}, "key_prefix")]
    #: Raw clients, one per server, for the command statistics.
    nodes: list[redis.Redis]

    def build(self, **settings: Any) -> Any:
        return RedisSessionIndex("redis://127.0.0.1:1/0", **settings)

    @pytest.fixture(autouse=True)
    def no_scans(self, make: Callable[[str], Any]) -> Iterator[None]:
        for node in self.nodes:
            node.config_resetstat()
        yield
        for node in self.nodes:
            stats = node.info("commandstats")
            assert not {"cmdstat_keys", "cmdstat_scan"} & set(stats), sorted(stats)

    def test_every_key_has_a_ttl_as_long_as_its_members(self, index: Any) -> None:
        raw = self.raw
        index.add("s1", ttl=30, user="ada")
        assert 29_000 < raw.pttl("ns1:session:s1") <= 30_000
        assert 29_000 < raw.pttl("ns1:label:user:ada") <= 30_000
        index.add("s2", ttl=60, user="ada")
        assert 59_000 < raw.pttl("ns1:label:user:ada") <= 60_000
        index.add("s3", user="ada")  # no expiry: neither has the set
        assert raw.pttl("ns1:session:s3") == -1
        assert raw.pttl("ns1:label:user:ada") == -1
        index.remove("s3")
        assert 59_000 < raw.pttl("ns1:label:user:ada") <= 60_000
        index.remove_many(["s1", "s2"])
        assert raw.exists("ns1:label:user:ada", "ns1:session:s1") == 0

    def test_round_trips_do_not_grow_with_the_number_of_sessions(self, index: Any) -> None:
        calls: list[str] = []
        real = index.client

        class Counting:
            def __getattr__(self, name: str) -> Any:
                attr = getattr(real, name)
                if name != "pipeline":
                    calls.append(name)
                    return attr

                def pipeline(*args: Any, **kwargs: Any) -> Any:
                    pipe = attr(*args, **kwargs)
                    execute = pipe.execute

                    def counted(*a: Any, **k: Any) -> Any:
                        calls.append("pipeline")
                        return execute(*a, **k)

                    pipe.execute = counted
                    return pipe

                return pipeline

        for k in (3, 300):
            ids = [f"k{k}-{i}" for i in range(k)]
            for sid in ids:
                index.add(sid, ttl=60, user=f"user{k}", device="x")
            index.client = Counting()
            calls.clear()
            assert index.find("user", f"user{k}") == set(ids)
            assert len(calls) == 2, calls
            calls.clear()
            index.remove_many(ids)
            # One script on one server; on a cluster, read the labels, then unlink
            # and delete.
            assert len(calls) == self.remove_trips, calls
            calls.clear()
            index.remove("absent")
            assert len(calls) == self.remove_trips, calls
            calls.clear()
            index.add("one", ttl=60, user="ada", device="y")
            assert len(calls) <= 4, calls
            index.client = real
        assert index.find("user", "user300") == set()

    def test_a_stale_link_is_never_returned(self, index: Any) -> None:
        index.add("s1", ttl=60, user="ada")
        # A member whose hash no longer carries the label (as a crash between the
        # steps of a write would leave it) is not a live session of that user.
        self.raw.zadd("ns1:label:user:bob", {"s1": 10**15})
        assert index.find("user", "bob") == set()
        self.raw.delete("ns1:session:s1")
        assert index.find("user", "ada") == set()


class TestRedisSessionIndex(_RedisIndexContract):
    remove_trips = 1
    @pytest.fixture
    def make(self, redis_server: RedisServer) -> Iterator[Callable[[str], Any]]:
        raw = redis.Redis(host="127.0.0.1", port=redis_server.port, db=0)
        raw.flushdb()
        self.raw = raw
        self.nodes = [raw]
        made: list[RedisSessionIndex] = []

        def make(namespace: str) -> RedisSessionIndex:
            made.append(RedisSessionIndex(redis_server.url, key_prefix=f"{namespace}:"))
            return made[-1]

        yield make
        for s in made:
            s.close()
        raw.flushdb()
        raw.close()

    def test_failing_store_raises(self) -> None:
        from servers import free_port

        index = RedisSessionIndex(f"redis://127.0.0.1:{free_port()}/0")
        for call in (
            lambda: index.add("s", ttl=60, user="ada"),
            lambda: index.find("user", "ada"),
            lambda: index.labels("s"),
            lambda: index.remove_many(["s"]),
        ):
            with pytest.raises(redis.ConnectionError):
                call()
        index.close()


class TestRedisClusterSessionIndex(_RedisIndexContract):
    remove_trips = 2
    @pytest.fixture
    def make(self, redis_cluster: list[RedisServer]) -> Iterator[Callable[[str], Any]]:
        client = RedisCluster(host="127.0.0.1", port=redis_cluster[0].port, socket_timeout=2)
        client.flushall()
        self.raw = client
        self.nodes = [redis.Redis(host="127.0.0.1", port=n.port) for n in redis_cluster]
        yield lambda namespace: RedisSessionIndex(client, key_prefix=f"{namespace}:")
        client.flushall()
        client.close()
        for node in self.nodes:
            node.close()

    def test_a_users_sessions_spread_over_the_nodes(self, index: Any) -> None:
        ids = [f"s{i}" for i in range(60)]
        for sid in ids:
            index.add(sid, ttl=60, user="ada")
        owners = {self.raw.get_node_from_key(index.session_key(sid)).port for sid in ids}
        assert len(owners) == len(self.nodes)
        assert index.find("user", "ada") == set(ids)
        index.remove_many(ids)
        assert index.find("user", "ada") == set()


# --- SQLAlchemy -----------------------------------------------------------------------


class _SQLAlchemyIndexContract(SharedIndexContract):
    bad_settings = [({"table": "x y"}, "table"), ({"table": "1x"}, "table")]
    engine: sa.Engine

    @pytest.fixture
    def make(self, engine: sa.Engine) -> Callable[[str], Any]:
        self.engine = engine
        with engine.begin() as conn:
            for namespace in ("ns1", "ns2"):
                conn.execute(sa.text(f'DROP TABLE IF EXISTS "index_{namespace}"'))
        return lambda namespace: SQLAlchemySessionIndex(engine, table=f"index_{namespace}")

    def build(self, **settings: Any) -> Any:
        return SQLAlchemySessionIndex(self.engine, **settings)

    def test_an_engine_is_required(self) -> None:
        with pytest.raises(ValueError, match=r"^engine must be a SQLAlchemy Engine"):
            SQLAlchemySessionIndex("sqlite:///x.db")  # type: ignore[arg-type]

    def test_expired_rows_are_purged_by_writes(self, index: Any) -> None:
        index.add("old", ttl=0.05, user="ada")
        import time

        time.sleep(0.1)
        index.add("new", ttl=60, user="ada")
        with self.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT session_id FROM index_ns1")).fetchall()
        assert [tuple(r) for r in rows] == [("new",)]

    def test_the_table_has_its_indexes(self, index: Any) -> None:
        names = {i["name"] for i in sa.inspect(self.engine).get_indexes("index_ns1")}
        assert {"index_ns1_label", "index_ns1_expires_at"} <= names


class TestSQLAlchemySessionIndexOnSQLite(_SQLAlchemyIndexContract):
    @pytest.fixture
    def engine(self, tmp_path: Path) -> Iterator[sa.Engine]:
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'sa.db'}")
        self.engine = engine
        yield engine
        engine.dispose()


@pytest.mark.postgres
class TestSQLAlchemySessionIndexOnPostgreSQL(_SQLAlchemyIndexContract):
    @pytest.fixture
    def engine(self, pg_engine: sa.Engine) -> sa.Engine:
        self.engine = pg_engine
        return pg_engine
