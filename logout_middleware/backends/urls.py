"""Stores named by URLs: the factories that PasteDeploy and the demo share.

======================================  ==============================================
URL                                     session store (:func:`backend_from_url`)
======================================  ==============================================
``sqlite:///relative/or/%(here)s/path`` :class:`~logout_middleware.SQLiteBackend`
``memory:``                             :class:`~logout_middleware.MemoryBackend`
                                        (one process only: tests and development)
``redis://``, ``rediss://``, ``unix://`` :class:`~logout_middleware.backends.RedisBackend`
any other SQLAlchemy URL                :class:`~logout_middleware.backends.SQLAlchemyBackend`
(``postgresql+psycopg://...``)          over ``sqlalchemy.create_engine(url)``
``call:package.module:factory``         ``factory(**options)``, your own store
======================================  ==============================================

:func:`index_from_url` builds a session index from the same URLs: ``memory:``,
``sqlite:///...``, Redis and other SQLAlchemy URLs give
:class:`~logout_middleware.MemorySessionIndex`,
:class:`~logout_middleware.SQLiteSessionIndex`,
:class:`~logout_middleware.RedisSessionIndex` and
:class:`~logout_middleware.SQLAlchemySessionIndex`, and ``call:`` your own.
:func:`revocation_store_from_url` takes ``memory:``, ``sqlite:///...`` and Redis URLs
the same way. ``sqlite:`` paths follow SQLAlchemy's spelling: three slashes and a
relative path, four for an absolute one. An engine built from an SQLAlchemy URL has
``pool_pre_ping=True``.

Options are strings (from an ini file) and are converted by one explicit table per
store (:data:`OPTIONS`); an unknown option raises :class:`ValueError` naming it and
listing the valid ones. A URL repeated in a message has its password masked
(``postgresql://user:***@db/app``), and a Redis URL whose port or database is not a
number is refused before any client is built. Nothing is imported for a store that is
not used: ``redis`` and ``sqlalchemy`` stay optional.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .._convert import (
    Converter,
    as_bool,
    as_callable,
    as_float,
    as_int,
    as_optional_float,
    as_optional_str,
    as_str,
)
from .._masking import shown_url, without_url_secrets
from .._validation import redis_url
from .base import SessionIndex

__all__ = ["backend_from_url", "index_from_url", "revocation_store_from_url"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

_SQL_TABLE: dict[str, Converter] = {
    "table": as_str,
    "id_column": as_str,
    "data_column": as_str,
    "key_prefix": as_str,
}
_REDIS_CLIENT: dict[str, Converter] = {
    "key_prefix": as_str,
    "socket_timeout": as_optional_float,
    "socket_connect_timeout": as_optional_float,
    "retries": as_int,
}
_TABLE_AND_TIMEOUT: dict[str, Converter] = {"table": as_str, "timeout": as_float}
#: The options of each store, and how each is read from a string.
OPTIONS: dict[str, dict[str, Converter]] = {
    "memory": {},
    "sqlite": {**_SQL_TABLE, "timeout": as_float, "create_table": as_bool},
    "redis": {**_REDIS_CLIENT, "ttl": as_optional_float},
    "sqlalchemy": {**_SQL_TABLE, "schema": as_optional_str, "create_table": as_bool},
    "memory-index": {},
    "sqlite-index": {**_TABLE_AND_TIMEOUT},
    "redis-index": {**_REDIS_CLIENT},
    "sqlalchemy-index": {"table": as_str},
    "memory-revocation": {},
    "sqlite-revocation": {**_TABLE_AND_TIMEOUT},
    "redis-revocation": {"key_prefix": as_str},
}

#: How each kind of URL is named in the message that lists the accepted ones.
_SPELLING = {
    "sqlite": "sqlite:///path",
    "memory": "memory:",
    "redis": "redis://host:port/db",
    "sqlalchemy": "an SQLAlchemy URL such as postgresql+psycopg://...",
    "call": "call:package.module:factory",
}


def convert_options(store: str, options: Mapping[str, str], what: str) -> dict[str, Any]:
    """Convert string ``options`` by the table of ``store``; unknown keys raise."""
    table = OPTIONS[store]
    converted = {}
    for key, value in options.items():
        converter = table.get(key)
        if converter is None:
            valid = ", ".join(sorted(table)) or "none"
            raise ValueError(f"unknown {what} option {key!r}; valid options: {valid}")
        converted[key] = converter(value, f"{what} option {key!r}")
    return converted


def sqlite_path(url: str, what: str) -> str:
    """The file of an ``sqlite:///path`` URL."""
    path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else ""
    if "?" in path:
        raise ValueError(
            f"{what} = {shown_url(url)}: an SQLite URL takes no query here; write its "
            f"options as {what}.<option> lines (e.g. {what}.timeout = 30)"
        )
    if not path:
        raise ValueError(
            f"{what} = {shown_url(url)}: an SQLite URL needs a file, 'sqlite:///relative/path' or "
            "'sqlite:////absolute/path' (or sqlite:///%(here)s/file.sqlite3)"
        )
    return path


def store_from_url(
    url: str,
    options: Mapping[str, str] | None,
    *,
    what: str,
    noun: str,
    stores: Mapping[str, Callable[..., Any]],
    suffix: str = "",
    call: bool = False,
) -> Any:
    """The one dispatch of the factories: build ``stores[kind]`` for the kind of
    ``url`` (``memory``, ``sqlite``, ``redis``; ``sqlalchemy`` if given) with its options
    converted by ``OPTIONS[kind + suffix]``, or, if ``call``, the factory that a
    ``call:`` URL names with the options as they are. ``what`` names the setting in
    messages, ``noun`` what its URL must name."""
    url, options = url.strip(), options or {}

    def build(kind: str, *args: Any) -> Any:
        converted = convert_options(kind + suffix, options, what)
        try:
            return stores[kind](*args, **converted)
        except ValueError as exc:  # the store refused an option: say which ini lines
            given = ", ".join(f"{what}.{name}" for name in converted) or f"{what} ="
            raise ValueError(f"{what} (from {given}): {exc}") from None

    if url == "memory:":
        return build("memory")
    if url.startswith("sqlite:"):
        return build("sqlite", sqlite_path(url, what))
    if url.startswith(_REDIS_SCHEMES):
        return build("redis", redis_url(url, what))
    if url.startswith("call:") and call:
        factory = as_callable(url[len("call:") :], what)
        if factory is None:
            raise ValueError(f"{what} = call: needs 'call:package.module:factory'")
        return factory(**options)
    accepted = [_SPELLING[kind] for kind in stores] + ([_SPELLING["call"]] if call else [])
    listed = f"{', '.join(accepted[:-1])} or {accepted[-1]}"
    refusal = f"{what} = {shown_url(url)} is not a {noun} URL; use {listed}"
    if "://" in url and "sqlalchemy" in stores:
        try:
            import sqlalchemy
        except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dev dependency
            raise ImportError(
                f"{what} = {shown_url(url)} needs SQLAlchemy: pip install logout-middleware[sql]"
            ) from exc
        try:
            engine = sqlalchemy.create_engine(url, pool_pre_ping=True)
        except (sqlalchemy.exc.ArgumentError, ValueError) as exc:  # unparsable, no dialect
            # Not chained: SQLAlchemy's own message may repeat the URL, password and all.
            reason = without_url_secrets(str(exc), url)
            raise ValueError(f"{refusal} (SQLAlchemy: {reason})") from None
        return build("sqlalchemy", engine)
    raise ValueError(refusal)


def backend_from_url(url: str, options: Mapping[str, str] | None = None) -> Any:
    """Build a session store from its URL and string options."""
    from .memory import MemoryBackend
    from .redis import RedisBackend
    from .sqlalchemy import SQLAlchemyBackend
    from .sqlite import SQLiteBackend

    stores = {
        "sqlite": SQLiteBackend,
        "memory": MemoryBackend,
        "redis": RedisBackend,
        "sqlalchemy": SQLAlchemyBackend,
    }
    return store_from_url(url, options, what="backend", noun="store", stores=stores, call=True)


def index_from_url(url: str, options: Mapping[str, str] | None = None) -> SessionIndex:
    """Build a session index from its URL and string options.

    ``memory:``, ``sqlite:///path``, a Redis URL (``redis://``, ``rediss://``,
    ``unix://``), any other SQLAlchemy URL, or ``call:package.module:factory``
    (``factory(**options)`` must return a
    :class:`~logout_middleware.backends.SessionIndex`). The options of each store:
    ``sqlite-index``, ``redis-index``... in :data:`OPTIONS`.

    :raises ValueError: for a URL that names no index, an unknown option (named, with
        the valid ones) or an unusable value.
    :raises ImportError: when the store's client (redis-py, SQLAlchemy) is missing.
    """
    from .memory_index import MemorySessionIndex
    from .redis_index import RedisSessionIndex
    from .sqlalchemy_index import SQLAlchemySessionIndex
    from .sqlite_index import SQLiteSessionIndex

    stores = {
        "memory": MemorySessionIndex,
        "sqlite": SQLiteSessionIndex,
        "redis": RedisSessionIndex,
        "sqlalchemy": SQLAlchemySessionIndex,
    }
    index = store_from_url(
        url,
        options,
        what="index",
        noun="session index",
        stores=stores,
        suffix="-index",
        call=True,
    )
    if not isinstance(index, SessionIndex):
        raise ValueError(
            f"index = {shown_url(url)} built a {type(index).__name__}, not a session index "
            "(add, find, labels and remove)"
        )
    return index


def revocation_store_from_url(
    url: str, options: Mapping[str, str] | None = None, *, what: str = "revocation"
) -> Any:
    """Build a revocation store from its URL and string options.

    ``what`` names the setting in messages (``oidc.replay_cache`` for the replay cache
    of the OpenID Connect logout)."""
    from .memory_revocation import MemoryRevocationStore
    from .redis_revocation import RedisRevocationStore
    from .sqlite_revocation import SQLiteRevocationStore

    stores = {
        "memory": MemoryRevocationStore,
        "sqlite": SQLiteRevocationStore,
        "redis": RedisRevocationStore,
    }
    return store_from_url(
        url,
        options,
        what=what,
        noun="revocation store",
        stores=stores,
        suffix="-revocation",
    )
