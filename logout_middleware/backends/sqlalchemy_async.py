"""Sessions in an SQL table through SQLAlchemy's asyncio extension, for the ASGI
middleware.

Needs the ``sql`` extra (SQLAlchemy 2, which brings greenlet) and an async driver:
psycopg 3 (``postgresql+psycopg://``, the same driver as the blocking backend),
asyncpg (``postgresql+asyncpg://``), aiomysql, aiosqlite...

The twin of :class:`~logout_middleware.backends.SQLAlchemyBackend`: the same row (the
one whose ``id_column`` equals ``key_prefix + session_id``), the same statements with
bound parameters, the same ``DELETE ... IN`` per 500 ids in one transaction for many
sessions, the same tables of other libraries (Flask-Session's, Django's
``django_session``). Its methods are coroutine functions: the ASGI middleware awaits
them on the event loop, without a worker thread. Nothing connects at construction;
the table is created only by :meth:`AsyncSQLAlchemyBackend.create_table`.

Usage::

    from sqlalchemy.ext.asyncio import create_async_engine
    from logout_middleware.backends import AsyncSQLAlchemyBackend

    engine = create_async_engine("postgresql+psycopg://app@db/app", pool_pre_ping=True)
    backend = AsyncSQLAlchemyBackend(engine, table="sessions", id_column="session_id")
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .sqlalchemy import (
    _MISSING_SQLALCHEMY,
    ATTEMPTS,
    ForkSafeEngine,
    SQLSessions,
    rolled_back_by_conflict,
    rows_deleted,
)

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["AsyncSQLAlchemyBackend"]


class AsyncSQLAlchemyBackend(SQLSessions):
    """Sessions in an SQL table, awaited, through a SQLAlchemy
    :class:`~sqlalchemy.ext.asyncio.AsyncEngine`.

    :param async_engine: the application's engine
        (``sqlalchemy.ext.asyncio.create_async_engine(url)``).
    :param table: the table name; Flask-Session's default, ``"sessions"``.
    :param id_column: the column that holds ``key_prefix + session_id``.
    :param key_prefix: prepended to the session id.
    :param data_column: the JSON text column of :meth:`create` and :meth:`get`;
        another column than ``id_column`` (case ignored).
    :param schema: the table's schema, or ``None`` for the default one.

    :raises ImportError: when SQLAlchemy is not installed, naming the extra.
    :raises ValueError: for a name that is not a plain identifier or a bad setting.
    """

    def __init__(
        self,
        async_engine: AsyncEngine,
        *,
        table: str = "sessions",
        id_column: str = "session_id",
        key_prefix: str = "",
        data_column: str = "data",
        schema: str | None = None,
    ) -> None:
        try:
            from sqlalchemy.ext.asyncio import AsyncEngine
        except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dev dependency
            raise ImportError(_MISSING_SQLALCHEMY) from exc
        if not isinstance(async_engine, AsyncEngine):
            raise ValueError(
                "async_engine must be a SQLAlchemy AsyncEngine "
                "(sqlalchemy.ext.asyncio.create_async_engine(url)); got "
                f"{type(async_engine).__name__}"
            )
        super().__init__(
            async_engine.dialect.name,
            table=table,
            id_column=id_column,
            key_prefix=key_prefix,
            data_column=data_column,
            schema=schema,
        )
        #: The engine every statement runs on.
        self.engine = async_engine
        # A pool inherited over fork() is dropped, unused, by the first call in the child.
        self._fork_guard = ForkSafeEngine(async_engine.sync_engine)

    def _engine(self) -> AsyncEngine:
        self._fork_guard()
        return self.engine

    async def create_table(self) -> None:
        """Create the table if it is missing (a ``VARCHAR(255)`` primary key and a
        text data column): for demos and tests; a misspelt name should make a logout
        fail loudly, not clear an empty table that was just made."""
        async with self._engine().begin() as conn:
            await conn.run_sync(self.table.create, checkfirst=True)

    async def delete(self, session_id: str) -> None:
        """Delete the row of ``session_id`` and commit; an unknown id is not an error.

        Raises :class:`sqlalchemy.exc.SQLAlchemyError` when the database cannot be
        reached, refuses, or the table is missing.
        """
        key = self._key(session_id)
        if key is None:
            return
        async with self._engine().begin() as conn:
            await conn.execute(self._delete, {"key": key})

    async def delete_many(self, session_ids: Iterable[str]) -> int | None:
        """Delete the rows of every id in ``session_ids`` in one transaction: one
        ``DELETE ... WHERE id_column IN (...)`` per 500 ids, sorted, run again (at most
        5 times) when the database rolls it back to break a deadlock, as
        :meth:`SQLAlchemyBackend.delete_many`. No ids, no connection.
        Returns how many rows there were (``None`` from a driver that does not say)."""
        chunks = self._chunks(session_ids)
        if not chunks:
            return 0
        for attempt in range(ATTEMPTS):
            try:
                async with self._engine().begin() as conn:
                    counts = [
                        (await conn.execute(self._delete_in, {"keys": keys})).rowcount
                        for keys in chunks
                    ]
                return rows_deleted(counts)
            except Exception as exc:  # a deadlock victim, rolled back whole: again
                if attempt == ATTEMPTS - 1 or not rolled_back_by_conflict(exc):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` as JSON text under a new random id and return the id."""
        session_id, row = self._new_row(data)
        async with self._engine().begin() as conn:
            await conn.execute(self._insert, row)
        return session_id

    async def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data of ``session_id``, or ``None`` when there is no row."""
        key = self._key(session_id)
        if key is None:
            return None
        async with self._engine().connect() as conn:
            raw = (await conn.execute(self._select, {"key": key})).scalar_one_or_none()
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data
