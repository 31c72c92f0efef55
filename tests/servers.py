"""Real servers for the tests: ``redis-server`` (alone or as a Redis Cluster) and a
throwaway PostgreSQL cluster, as session-wide pytest fixtures.

The servers themselves come from the harness the benchmarks share,
:mod:`benchmarks.harness` (free loopback ports, private directories, waiting until
they answer, stopping them); these fixtures only add the test policy: without the
binaries the tests that use them skip locally and fail under ``CI=true`` (see
:func:`conftest.unavailable`). No mock or fake stands in for either server.

The returned objects can also ``stop()``/``start()`` the server, and Redis can be
``pause()``-d (SIGSTOP: the port still accepts connections but nothing answers) and
``resume()``-d, for the fault tests. Use the ``stopped()``/``paused()`` context
managers so that a failing test never leaves the shared server down.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest

from benchmarks import harness
from benchmarks.harness import PostgresServer, RedisServer, free_port

__all__ = [
    "PostgresServer",
    "RedisServer",
    "free_port",
    "pg_engine",
    "postgres_server",
    "redis_cluster",
    "redis_server",
]

T = TypeVar("T")


def _run(server: contextlib.AbstractContextManager[T]) -> Iterator[T]:
    # Only the start can raise Unavailable; then the test skips (fails under CI).
    try:
        with server as running:
            yield running
    except harness.Unavailable as exc:
        from conftest import unavailable

        unavailable(str(exc))


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real ``redis-server`` for the whole test session."""
    yield from _run(harness.redis_server())


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[list[RedisServer]]:
    """A real three-node Redis Cluster (three masters, no replicas) on 127.0.0.1."""
    yield from _run(harness.redis_cluster(3))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL cluster for the whole test session; ``.url`` for SQLAlchemy."""
    yield from _run(harness.postgres_server())


@pytest.fixture
def pg_engine(postgres_server: PostgresServer) -> Iterator[Any]:
    """A SQLAlchemy engine on the test PostgreSQL, with no ``sessions`` table left over."""
    import sqlalchemy as sa

    engine = sa.create_engine(postgres_server.url, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(sa.text('DROP TABLE IF EXISTS "sessions"'))
    yield engine
    engine.dispose()
