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

:func:`revocation_store_from_url` takes ``memory:``, ``sqlite:///...`` and Redis URLs
the same way. ``sqlite:`` paths follow SQLAlchemy's spelling: three slashes and a
relative path, four for an absolute one.

Options are strings (from an ini file) and are converted by one explicit table per
store; an unknown option raises :class:`ValueError` naming it and listing the valid
ones. Nothing is imported for a store that is not used: ``redis`` and ``sqlalchemy``
stay optional.
"""

from __future__ import annotations

from collections.abc import Mapping
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

__all__ = ["backend_from_url", "revocation_store_from_url"]

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

_SQL_TABLE: dict[str, Converter] = {
    "table": as_str,
    "id_column": as_str,
    "data_column": as_str,
    "key_prefix": as_str,
}
#: The options of each store, and how each is read from a string.
OPTIONS: dict[str, dict[str, Converter]] = {
    "memory": {},
    "sqlite": {**_SQL_TABLE, "timeout": as_float, "create_table": as_bool},
    "redis": {
        "key_prefix": as_str,
        "socket_timeout": as_optional_float,
        "socket_connect_timeout": as_optional_float,
        "retries": as_int,
        "ttl": as_optional_float,
    },
    "sqlalchemy": {**_SQL_TABLE, "schema": as_optional_str, "create_table": as_bool},
    "memory-revocation": {},
    "sqlite-revocation": {"table": as_str, "timeout": as_float},
    "redis-revocation": {"key_prefix": as_str},
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
    if not path:
        raise ValueError(
            f"{what} = {url!r}: an SQLite URL needs a file, 'sqlite:///relative/path' or "
            "'sqlite:////absolute/path' (or sqlite:///%(here)s/file.sqlite3)"
        )
    return path


def backend_from_url(url: str, options: Mapping[str, str] | None = None) -> Any:
    """Build a session store from its URL and string options."""
    from .memory import MemoryBackend
    from .redis import RedisBackend
    from .sqlalchemy import SQLAlchemyBackend
    from .sqlite import SQLiteBackend

    url, options = url.strip(), options or {}
    if url == "memory:":
        return MemoryBackend(**convert_options("memory", options, "backend"))
    if url.startswith("sqlite:"):
        path = sqlite_path(url, "backend")
        return SQLiteBackend(path, **convert_options("sqlite", options, "backend"))
    if url.startswith(_REDIS_SCHEMES):
        return RedisBackend(url, **convert_options("redis", options, "backend"))
    if url.startswith("call:"):
        factory = as_callable(url[len("call:") :], "backend")
        if factory is None:
            raise ValueError("backend = call: needs 'call:package.module:factory'")
        return factory(**options)
    if "://" in url:
        try:
            from sqlalchemy import create_engine
        except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dev dependency
            raise ImportError(
                f"backend = {url!r} needs SQLAlchemy: pip install logout-middleware[sql]"
            ) from exc
        converted = convert_options("sqlalchemy", options, "backend")
        return SQLAlchemyBackend(create_engine(url, pool_pre_ping=True), **converted)
    raise ValueError(
        f"backend = {url!r} is not a store URL; use sqlite:///path, memory:, "
        "redis://host:port/db, an SQLAlchemy URL such as postgresql+psycopg://..., or "
        "call:package.module:factory"
    )


def revocation_store_from_url(url: str, options: Mapping[str, str] | None = None) -> Any:
    """Build a revocation store from its URL and string options."""
    from .memory_revocation import MemoryRevocationStore
    from .redis_revocation import RedisRevocationStore
    from .sqlite_revocation import SQLiteRevocationStore

    url, options = url.strip(), options or {}
    if url == "memory:":
        return MemoryRevocationStore(**convert_options("memory-revocation", options, "revocation"))
    if url.startswith("sqlite:"):
        path = sqlite_path(url, "revocation")
        converted = convert_options("sqlite-revocation", options, "revocation")
        return SQLiteRevocationStore(path, **converted)
    if url.startswith(_REDIS_SCHEMES):
        converted = convert_options("redis-revocation", options, "revocation")
        return RedisRevocationStore(url, **converted)
    raise ValueError(
        f"revocation = {url!r} is not a revocation store URL; use memory:, "
        "sqlite:///path or redis://host:port/db"
    )
