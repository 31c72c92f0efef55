"""The stores, their URLs and the ini factory: every refused URL hides its password,
every store validates a setting the way the others do, and ``none`` in an ini file
means ``None`` wherever the constructor allows it.

The classes of defect the settings/secrets audit found, over every store kind, every
factory and the asyncio twins (the audit pins one instance of each).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from logout_middleware import SQLiteBackend
from logout_middleware._masking import masked_url, url_secrets, without_url_secrets
from logout_middleware.backends import (
    AsyncRedisBackend,
    AsyncSQLAlchemyBackend,
    RedisBackend,
    RedisRevocationStore,
    RedisSessionIndex,
    SQLAlchemyBackend,
    SQLiteRevocationStore,
    SQLiteSessionIndex,
    backend_from_url,
    index_from_url,
    revocation_store_from_url,
)
from logout_middleware.oidc import OIDCLogout
from logout_middleware.paste import filter_app_factory

PASSWORD = "s3cretPW9x"
ISSUER = "https://idp.example.com"


def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"app"]


def fragments(secret: str, size: int = 6) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def refused(build: Callable[[], Any]) -> ValueError:
    with pytest.raises(ValueError) as info:
        build()
    return info.value


def assert_hidden(exc: BaseException, secret: str = PASSWORD) -> None:
    """Neither the message nor any chained exception shows 6 characters of ``secret``."""
    text = "".join(traceback.format_exception(exc))
    for piece in fragments(secret):
        assert piece not in text, f"{piece!r} of the password in {text!r}"


# -- masking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (f"redis://:{PASSWORD}@h:6379/0", "redis://:***@h:6379/0"),
        (f"postgresql://user:{PASSWORD}@db/app", "postgresql://user:***@db/app"),
        (f"postgresql://user:{PASSWORD[:4]}@/x@db/app", "postgresql://user:***@db/app"),
        (f"https://{PASSWORD}@github.com/x", "https://***@github.com/x"),
        (f"redis://h:6379/0?password={PASSWORD}&db=1", "redis://h:6379/0?password=***&db=1"),
        (f"user:{PASSWORD}@host/db", "user:***@host/db"),
        ("memory:", "memory:"),
        ("sqlite:///sessions.sqlite3", "sqlite:///sessions.sqlite3"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    ],
)
def test_masked_url_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert masked_url(url) == shown
    assert without_url_secrets(f"cannot read {url} at all", url) == f"cannot read {shown} at all"


def test_url_secrets_are_what_is_masked() -> None:
    assert url_secrets(f"redis://u:{PASSWORD}@h/0?token=t0k3n") == (PASSWORD, "t0k3n")
    assert url_secrets("redis://h/0") == ()


# -- every factory, every store kind: a refused URL hides its password -------------------

#: URLs refused by the store factories, each with the password in its user info.
REFUSED_URLS = [
    f"postgresql+nosuch://user:{PASSWORD}@db/x",  # no such dialect
    f"postgresql://user:{PASSWORD}@db:port/x",  # SQLAlchemy cannot read the port
    f"nosuch+x://user:{PASSWORD}@db/x",
    f"ftp://user:{PASSWORD}@db/x",
    f"redis://:{PASSWORD}@127.0.0.1:6379/x",  # a database that is not a number
    f"redis://user:{PASSWORD}@127.0.0.1:notaport/0",
    f"rediss://:{PASSWORD}@127.0.0.1:6379/sessions",
    f"redis://:{PASSWORD}@127.0.0.1:6379/0?db=x",  # redis-py cannot read ?db=
    f"redis://:{PASSWORD[:5]}/{PASSWORD[5:]}@127.0.0.1:6379/0",  # an unescaped /
    f"redis://:{PASSWORD[:5]}#{PASSWORD[5:]}@127.0.0.1:6379/0",  # an unescaped #
    f"redis://127.0.0.1:6379/x?password={PASSWORD}",
    f"user:{PASSWORD}@db/x",  # no scheme at all
]

FACTORIES: dict[str, Callable[[str], Any]] = {
    "backend_from_url": backend_from_url,
    "index_from_url": index_from_url,
    "revocation_store_from_url": revocation_store_from_url,
    "paste backend": lambda url: filter_app_factory(wsgi_app, {}, backend=url),
    "paste index": lambda url: filter_app_factory(wsgi_app, {}, backend="memory:", index=url),
    "paste revocation": lambda url: filter_app_factory(
        wsgi_app, {}, backend="memory:", revocation=url
    ),
    "paste oidc.replay_cache": lambda url: filter_app_factory(
        wsgi_app,
        {},
        backend="memory:",
        index="memory:",
        oidc=ISSUER,
        **{"oidc.client_id": "app", "oidc.replay_cache": url},
    ),
}


@pytest.mark.parametrize("url", REFUSED_URLS)
@pytest.mark.parametrize("factory", list(FACTORIES))
def test_a_refused_store_url_never_shows_its_password(factory: str, url: str) -> None:
    exc = refused(lambda: FACTORIES[factory](url))
    assert_hidden(exc)


def test_a_refused_url_is_shown_masked_with_the_key_it_was_given_under() -> None:
    replay_cache = FACTORIES["paste oidc.replay_cache"]
    exc = refused(lambda: replay_cache(f"postgresql://user:{PASSWORD}@db/x"))
    assert str(exc).startswith(
        "oidc.replay_cache = 'postgresql://user:***@db/x' is not a revocation store URL"
    )
    exc = refused(lambda: backend_from_url(f"postgresql+nosuch://user:{PASSWORD}@db/x"))
    assert str(exc).startswith("backend = 'postgresql+nosuch://user:***@db/x' is not a store URL")
    assert exc.__cause__ is None and exc.__suppress_context__


# -- Redis: a URL redis-py would misread, and retries --------------------------------------

REDIS_STORES: dict[str, Callable[..., Any]] = {
    "RedisBackend": RedisBackend,
    "AsyncRedisBackend": AsyncRedisBackend,
    "RedisSessionIndex": RedisSessionIndex,
    "RedisRevocationStore": RedisRevocationStore,
}


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://127.0.0.1:6379/x", "path is a database number"),
        ("redis://127.0.0.1:6379/0/1", "path is a database number"),
        ("rediss://127.0.0.1:notaport/0", "port is a number"),
        ("redis://127.0.0.1:99999/0", "port is a number"),
        ("redis://127.0.0.1:6379/0#x", "without '#'"),
        ("redis://127.0.0.1:6379/0?db=x", "redis-py can read"),
        ("redis://127.0.0.1:6379/ 0", "whitespace"),
    ],
)
@pytest.mark.parametrize("store", list(REDIS_STORES))
def test_every_redis_store_refuses_an_unusable_url_saying_what_to_write(
    store: str, url: str, problem: str
) -> None:
    message = str(refused(lambda: REDIS_STORES[store](url)))
    assert message.startswith("url_or_client must be a Redis URL")
    assert problem in message and "redis://host:6379/0" in message


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379",
        "redis://127.0.0.1:6379/",
        "redis://127.0.0.1:6379/15",
        "redis://",
        "rediss://:pw@127.0.0.1:6380/2",
        "unix:///tmp/redis.sock?db=3",
    ],
)
@pytest.mark.parametrize("store", list(REDIS_STORES))
def test_usable_redis_urls_are_still_accepted_without_connecting(store: str, url: str) -> None:
    REDIS_STORES[store](url)


@pytest.mark.parametrize("retries", [True, False, -1, 1.0, "1", None])
@pytest.mark.parametrize("store", list(REDIS_STORES))
def test_every_redis_store_refuses_retries_that_are_not_a_count(store: str, retries: Any) -> None:
    message = str(refused(lambda: REDIS_STORES[store]("redis://127.0.0.1:1/0", retries=retries)))
    assert message == f"retries must be a whole number >= 0 such as 1; got {retries!r}"


def test_a_bad_redis_url_from_an_ini_file_names_its_key() -> None:
    message = str(refused(lambda: filter_app_factory(wsgi_app, {}, backend="redis://h:6379/x")))
    assert message.startswith("backend must be a Redis URL whose path is a database number")
    message = str(refused(lambda: index_from_url("redis://h:nope/0")))
    assert message.startswith("index must be a Redis URL whose port is a number")


# -- SQL stores: paths, flags, prefixes and columns alike ----------------------------------


@pytest.mark.parametrize("path", [None, 3, b"x.sqlite3", "", "a\x00b", ["x"]])
@pytest.mark.parametrize("store", [SQLiteBackend, SQLiteSessionIndex, SQLiteRevocationStore])
def test_every_sqlite_store_refuses_a_path_that_is_not_a_file_path(store: Any, path: Any) -> None:
    message = str(refused(lambda: store(path)))
    assert message.startswith("path must be a file path, a str or pathlib.Path such as")


def test_a_path_like_is_still_a_path(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "s.sqlite3")
    assert backend.path == str(tmp_path / "s.sqlite3")
    backend.close()


def _sqlite(tmp_path: Path, **settings: Any) -> Any:
    return SQLiteBackend(tmp_path / "s.sqlite3", **settings)


def _sqlalchemy(tmp_path: Path, **settings: Any) -> Any:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'a.sqlite3'}")
    try:
        return SQLAlchemyBackend(engine, **settings)
    finally:
        engine.dispose()


def _async_sqlalchemy(tmp_path: Path, **settings: Any) -> Any:
    settings.pop("create_table", None)  # not a keyword of the asyncio twin
    engine = create_async_engine("postgresql+psycopg://app@127.0.0.1:1/app")
    return AsyncSQLAlchemyBackend(engine, **settings)


SQL_STORES = {"sqlite": _sqlite, "sqlalchemy": _sqlalchemy, "async-sqlalchemy": _async_sqlalchemy}


@pytest.mark.parametrize("value", ["no", 1, 0, None])
@pytest.mark.parametrize("store", ["sqlite", "sqlalchemy"])
def test_create_table_is_a_flag_everywhere(tmp_path: Path, store: str, value: Any) -> None:
    message = str(refused(lambda: SQL_STORES[store](tmp_path, create_table=value)))
    assert message == f"create_table must be True or False; got {value!r}"
    assert not (tmp_path / "s.sqlite3").exists()  # refused before any file is made


@pytest.mark.parametrize("prefix", ["a\n", "\x00", "x\x7f", 3, None])
@pytest.mark.parametrize("store", list(SQL_STORES))
def test_key_prefix_is_validated_alike_by_every_sql_store(
    tmp_path: Path, store: str, prefix: Any
) -> None:
    message = str(refused(lambda: SQL_STORES[store](tmp_path, key_prefix=prefix)))
    assert message.startswith("key_prefix must be a string without control characters")


@pytest.mark.parametrize(("id_column", "data_column"), [("x", "x"), ("data", "DATA")])
@pytest.mark.parametrize("store", list(SQL_STORES))
def test_the_id_and_data_columns_must_differ_in_every_sql_store(
    tmp_path: Path, store: str, id_column: str, data_column: str
) -> None:
    message = str(
        refused(lambda: SQL_STORES[store](tmp_path, id_column=id_column, data_column=data_column))
    )
    assert message == (
        "data_column and id_column must name two different columns, such as id_column='id' "
        f"and data_column='data'; got data_column={data_column!r} and id_column={id_column!r}"
    )


# -- OIDC URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://u:{PASSWORD}@idp.example.com/x",
        f"https://{PASSWORD}@idp.example.com/x",
        f"http://u:{PASSWORD}@idp.example.com/x",  # refused first for http
        f"https://u:{PASSWORD}@idp.example.com/x#frag",
        f"https://u:{PASSWORD}@idp.example.com:notaport/x",
        f"https://u:{PASSWORD}@idp.example.com/ x",
    ],
)
@pytest.mark.parametrize(
    "setting", ["issuer", "jwks_url", "end_session_endpoint", "post_logout_redirect_uri"]
)
def test_an_oidc_url_is_refused_without_its_password(setting: str, url: str) -> None:
    settings: dict[str, Any] = {"issuer": ISSUER, setting: url}
    exc = refused(lambda: OIDCLogout(settings.pop("issuer"), "app", **settings))
    assert_hidden(exc)
    assert str(exc).startswith(setting)


def test_an_oidc_issuer_with_a_password_in_an_ini_file_is_refused_masked() -> None:
    exc = refused(
        lambda: filter_app_factory(
            wsgi_app,
            {},
            backend="memory:",
            index="memory:",
            oidc=f"https://u:{PASSWORD}@idp.example.com",
            **{"oidc.client_id": "app"},
        )
    )
    assert str(exc) == (
        "issuer must not hold user info (user:password@); got 'https://u:***@idp.example.com'"
    )


# -- the ini factory: none means None ------------------------------------------------------


@pytest.mark.parametrize("word", ["none", "None", ""])
def test_none_means_none_for_every_store_url_and_the_replay_cache(word: str) -> None:
    middleware = filter_app_factory(
        wsgi_app, {}, backend=word, revocation="memory:", index=word, oidc=word
    )
    assert middleware.backend is None and middleware.index is None
    assert middleware.ender.oidc is None
    middleware = filter_app_factory(
        wsgi_app,
        {},
        backend="memory:",
        index="memory:",
        oidc=ISSUER,
        **{"oidc.client_id": "app", "oidc.replay_cache": word},
    )
    assert middleware.ender.oidc is not None
    # None: the constructor's default, an in-process cache
    assert type(middleware.ender.oidc.replay_cache).__name__ == "MemoryReplayCache"


@pytest.mark.parametrize("word", ["none", ""])
def test_none_clears_no_site_data(word: str) -> None:
    middleware = filter_app_factory(wsgi_app, {}, backend="memory:", clear_site_data=word)
    assert not any(h == "Clear-Site-Data" for h, _ in middleware.core.expiry.headers(True))


@pytest.mark.parametrize("store", ["revocation", "index", "backend"])
def test_store_options_with_a_none_store_are_refused(store: str) -> None:
    conf = {"backend": "memory:", store: "none", f"{store}.table": "x"}
    if store == "backend":
        conf["revocation"] = "memory:"
    message = str(refused(lambda: filter_app_factory(wsgi_app, {}, **conf)))
    assert f"{store}.* options are set but there is no '{store} = URL'" in message


def test_no_backend_and_no_revocation_is_still_refused() -> None:
    message = str(
        refused(lambda: filter_app_factory(wsgi_app, {}, backend="none", revocation="none"))
    )
    assert "needs 'backend = URL'" in message
