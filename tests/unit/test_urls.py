"""Stores named by URLs: ``index_from_url`` for each scheme, the option tables, and the
messages for bad URLs and unknown options that the three factories share."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from logout_middleware import backends
from logout_middleware.backends import (
    MemorySessionIndex,
    RedisSessionIndex,
    SQLAlchemySessionIndex,
    SQLiteSessionIndex,
    backend_from_url,
    index_from_url,
    revocation_store_from_url,
)
from logout_middleware.backends.redis import redis_client
from logout_middleware.backends.urls import OPTIONS

#: Nothing listens here: building a Redis store never connects.
NOWHERE = "redis://127.0.0.1:1/0"

#: A valid string for every option of the index tables.
INDEX_STRINGS = {
    "table": "my_index",
    "timeout": "2.5",
    "key_prefix": "app-index:",
    "socket_timeout": "1.5",
    "socket_connect_timeout": "none",
    "retries": "0",
}


def test_index_from_url_is_exported_beside_the_other_factories() -> None:
    assert backends.index_from_url is index_from_url
    assert "index_from_url" in backends.__all__
    assert "index_from_url" in backends.urls.__all__


# -- each scheme ------------------------------------------------------------------------


def test_memory_url_builds_a_memory_index() -> None:
    index = index_from_url("  memory:  ")
    assert isinstance(index, MemorySessionIndex)
    index.add("s1", user="ada")
    assert index.find("user", "ada") == {"s1"}


def test_sqlite_url_builds_an_sqlite_index_with_converted_options(tmp_path: Path) -> None:
    index = index_from_url(
        f"sqlite:///{tmp_path}/index.sqlite3", {"table": "my_index", "timeout": "2.5"}
    )
    assert isinstance(index, SQLiteSessionIndex)
    assert (index.path, index.table, index.timeout) == (
        f"{tmp_path}/index.sqlite3",
        "my_index",
        2.5,
    )
    index.add("s1", ttl=60, user="ada")
    assert index.find("user", "ada") == {"s1"}
    index.close()


def test_sqlite_url_with_three_slashes_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    index = index_from_url("sqlite:///rel.sqlite3")
    assert isinstance(index, SQLiteSessionIndex)
    assert index.path == "rel.sqlite3" and (tmp_path / "rel.sqlite3").exists()
    index.close()


@pytest.mark.parametrize("url", [NOWHERE, "rediss://127.0.0.1:1/0", "unix:///nowhere.sock"])
def test_redis_urls_build_a_redis_index_without_connecting(url: str) -> None:
    index = index_from_url(
        url, {"key_prefix": "app-index:", "socket_timeout": "1.5", "retries": "0"}
    )
    assert isinstance(index, RedisSessionIndex)
    assert index.key_prefix == "app-index:"
    assert index.client.connection_pool.connection_kwargs["socket_timeout"] == 1.5
    assert index.client.get_retry().get_retries() == 0
    index.close()


def test_redis_url_without_options_gets_the_bounded_timeouts() -> None:
    index = index_from_url(NOWHERE)
    assert isinstance(index, RedisSessionIndex)
    kwargs = index.client.connection_pool.connection_kwargs
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (2.0, 2.0)
    assert index.key_prefix == "session-index:"
    index.close()


@pytest.mark.redis
def test_redis_url_builds_an_index_that_works_on_a_real_server(redis_server: Any) -> None:
    index = index_from_url(redis_server.url, {"key_prefix": "urls-test:"})
    assert isinstance(index, RedisSessionIndex)
    index.add("s1", ttl=60, user="ada")
    assert index.find("user", "ada") == {"s1"}
    assert index.client.exists("urls-test:session:s1") == 1
    index.remove("s1")
    index.close()


def test_other_sqlalchemy_urls_build_an_sqlalchemy_index(tmp_path: Path) -> None:
    index = index_from_url(f"sqlite+pysqlite:///{tmp_path}/sa.sqlite3", {"table": "idx"})
    assert isinstance(index, SQLAlchemySessionIndex)
    assert index.table_name == "idx"
    assert index.engine.pool._pre_ping  # a connection cut by a restart is replaced
    index.add("s1", ttl=60, user="ada")
    assert index.find("user", "ada") == {"s1"}
    index.engine.dispose()


@pytest.mark.postgres
def test_postgresql_url_builds_an_sqlalchemy_index(postgres_server: Any) -> None:
    index = index_from_url(postgres_server.url, {"table": "urls_test_index"})
    assert isinstance(index, SQLAlchemySessionIndex)
    assert index.engine.dialect.name == "postgresql"
    index.add("s1", ttl=60, user="ada")
    assert index.find("user", "ada") == {"s1"}
    index.remove("s1")
    index.engine.dispose()


CALLS: list[dict[str, str]] = []


def custom_index(**options: str) -> MemorySessionIndex:
    CALLS.append(options)
    return MemorySessionIndex()


def not_an_index(**options: str) -> object:
    return object()


def test_call_url_passes_the_options_as_they_are_to_the_factory() -> None:
    CALLS.clear()  # the suite may run twice in one process (make mutate)
    index = index_from_url(f"call:{__name__}:custom_index", {"shards": "3"})
    assert isinstance(index, MemorySessionIndex)
    assert CALLS == [{"shards": "3"}]


def test_call_factory_must_return_a_session_index() -> None:
    with pytest.raises(ValueError, match=r"built a object, not a session index"):
        index_from_url(f"call:{__name__}:not_an_index")


# -- options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "store"),
    [
        ("memory-index", MemorySessionIndex),
        ("sqlite-index", SQLiteSessionIndex),
        ("redis-index", RedisSessionIndex),
        ("sqlalchemy-index", SQLAlchemySessionIndex),
    ],
)
def test_every_index_option_is_a_keyword_of_its_store(table: str, store: type) -> None:
    accepted = set(inspect.signature(store).parameters)
    if table == "redis-index":  # the client options go to redis_client
        accepted |= set(inspect.signature(redis_client).parameters)
    assert set(OPTIONS[table]) <= accepted - {"url_or_client", "path", "engine"}


@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("memory:", "memory-index"),
        ("sqlite:///{tmp}/all.sqlite3", "sqlite-index"),
        (NOWHERE, "redis-index"),
        ("sqlite+pysqlite:///{tmp}/all-sa.sqlite3", "sqlalchemy-index"),
    ],
)
def test_every_index_option_can_be_written_as_a_string(
    tmp_path: Path, url: str, table: str
) -> None:
    options = {key: INDEX_STRINGS[key] for key in OPTIONS[table]}
    index: Any = index_from_url(url.format(tmp=tmp_path), options)
    if table == "sqlite-index":
        assert (index.table, index.timeout) == ("my_index", 2.5)
        index.close()
    elif table == "redis-index":
        kwargs = index.client.connection_pool.connection_kwargs
        assert index.key_prefix == "app-index:"
        assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (1.5, None)
        assert index.client.get_retry().get_retries() == 0
        index.close()
    elif table == "sqlalchemy-index":
        assert index.table_name == "my_index"
        index.engine.dispose()
    else:
        assert options == {}


@pytest.mark.parametrize(
    ("url", "valid"),
    [
        ("memory:", "none"),
        ("sqlite:///{tmp}/s.sqlite3", "table, timeout"),
        (NOWHERE, "key_prefix, retries, socket_connect_timeout, socket_timeout"),
        ("sqlite+pysqlite:///{tmp}/sa.sqlite3", "table"),
    ],
)
def test_unknown_index_option_is_named_and_the_valid_ones_listed(
    tmp_path: Path, url: str, valid: str
) -> None:
    with pytest.raises(ValueError) as info:
        index_from_url(url.format(tmp=tmp_path), {"tabel": "x"})
    assert str(info.value) == f"unknown index option 'tabel'; valid options: {valid}"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"timeout": "soon"}, r"^index option 'timeout' must be a number; got 'soon'$"),
        ({"timeout": "0"}, "timeout"),  # converted, then refused by the store
        ({"table": "x y"}, "table"),
    ],
)
def test_bad_index_option_values_say_what_to_write(
    tmp_path: Path, options: dict[str, str], expected: str
) -> None:
    with pytest.raises(ValueError, match=expected):
        index_from_url(f"sqlite:///{tmp_path}/s.sqlite3", options)


def test_bad_redis_index_option_values_say_what_to_write() -> None:
    with pytest.raises(ValueError, match=r"^index option 'retries' must be an integer"):
        index_from_url(NOWHERE, {"retries": "once"})
    with pytest.raises(ValueError, match="key_prefix"):
        index_from_url(NOWHERE, {"key_prefix": "a\nb"})


# -- bad URLs ---------------------------------------------------------------------------

INDEX_URLS = (
    "use memory:, sqlite:///path, redis://host:port/db, an SQLAlchemy URL such as "
    "postgresql+psycopg://... or call:package.module:factory"
)


@pytest.mark.parametrize("url", ["mysql", "", "memory", "sessions.sqlite3", "call"])
def test_a_url_that_names_no_index_lists_the_accepted_ones(url: str) -> None:
    with pytest.raises(ValueError) as info:
        index_from_url(url)
    assert str(info.value) == f"index = {url!r} is not a session index URL; {INDEX_URLS}"


@pytest.mark.parametrize("url", ["ftp://host/x", "postgresql+nodriver://h/db", "://x"])
def test_a_url_sqlalchemy_cannot_read_is_refused_with_its_reason(url: str) -> None:
    with pytest.raises(ValueError, match=r"is not a session index URL; use .* \(SQLAlchemy: "):
        index_from_url(url)


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:", "sqlite:///"])
def test_an_sqlite_url_needs_a_file(url: str) -> None:
    with pytest.raises(ValueError, match=r"^index = .*: an SQLite URL needs a file"):
        index_from_url(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("call:", "index = call: needs 'call:package.module:factory'"),
        ("call:print", "must name an object as 'package.module:name'"),
        ("call:nowhere.at_all:x", "cannot import"),
    ],
)
def test_a_bad_call_url_says_what_to_write(url: str, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        index_from_url(url)


# -- the other factories share the dispatch ---------------------------------------------


def test_backend_and_revocation_urls_list_what_each_accepts() -> None:
    with pytest.raises(ValueError) as info:
        backend_from_url("mysql")
    assert str(info.value) == (
        "backend = 'mysql' is not a store URL; use sqlite:///path, memory:, "
        "redis://host:port/db, an SQLAlchemy URL such as postgresql+psycopg://... or "
        "call:package.module:factory"
    )
    with pytest.raises(ValueError) as info:
        revocation_store_from_url("postgresql+psycopg://h/db")
    assert str(info.value) == (
        "revocation = 'postgresql+psycopg://h/db' is not a revocation store URL; use "
        "memory:, sqlite:///path or redis://host:port/db"
    )
    with pytest.raises(ValueError, match="is not a revocation store URL"):
        revocation_store_from_url("call:logout_middleware:MemoryRevocationStore")


def test_the_three_factories_read_separate_option_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.sqlite3"
    with pytest.raises(ValueError, match="unknown index option 'id_column'"):
        index_from_url(url, {"id_column": "sid"})
    assert backend_from_url(url, {"id_column": "sid"}).id_column == "sid"
    with pytest.raises(ValueError, match="unknown revocation option 'id_column'"):
        revocation_store_from_url(url, {"id_column": "sid"})


def test_memory_and_sqlite_indexes_import_neither_redis_nor_sqlalchemy(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from logout_middleware.backends import index_from_url
        index_from_url("memory:")
        index_from_url("sqlite:///{tmp_path}/i.sqlite3").close()
        loaded = sorted(m for m in ("redis", "sqlalchemy") if m in sys.modules)
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
