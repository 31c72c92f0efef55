"""The session index in any SQL database that SQLAlchemy reaches (``sql`` extra)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .._validation import identifier
from .base import index_id, index_labels, index_ttl
from .sqlalchemy import ForkSafeEngine, run_again_on_conflict

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Connection, Engine

__all__ = ["SQLAlchemySessionIndex"]

_MISSING_SQLALCHEMY = (
    "SQLAlchemySessionIndex needs SQLAlchemy 2: pip install logout-middleware[sql] "
    "(or pip install 'SQLAlchemy>=2')"
)

#: Ids per ``DELETE ... IN (...)`` statement.
CHUNK = 500

class SQLAlchemySessionIndex:
    """Session ids by label in an SQL table, through a SQLAlchemy engine.

    The table (created if missing; it belongs to the index) holds one row per label:
    ``session_id VARCHAR(255), name VARCHAR(63), value VARCHAR(255), expires_at
    DOUBLE`` (Unix time, ``NULL`` for no expiry), primary key ``(session_id, name)``,
    with indexes on ``(name, value)`` and ``expires_at``: every statement is an index
    lookup, never a scan. Expired rows are ignored by the reads and deleted by every
    write; :meth:`remove_many` is one ``DELETE ... IN`` per 500 ids, in one
    transaction. A write that collides with another (the same session's primary key,
    or a deadlock the database breaks) runs again, at most 5 times. On PostgreSQL,
    whose text cannot hold NUL, an id or a value with one has no rows: nothing to
    remove, ``{}`` and ``set()``, as :class:`~logout_middleware.backends.SQLAlchemyBackend`
    answers; :meth:`add` of one is refused by the database (``DataError``).

    :param engine: the application's engine (``sqlalchemy.create_engine(url)``).
    :param table: the table name (a plain identifier).

    :raises ImportError: when SQLAlchemy is not installed, naming the extra.
    :raises ValueError: for a name that is not a plain identifier or a bad engine.
    """

    def __init__(self, engine: Engine, *, table: str = "session_index") -> None:
        try:
            import sqlalchemy as sa
        except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dev dependency
            raise ImportError(_MISSING_SQLALCHEMY) from exc
        if not isinstance(engine, sa.engine.Engine):
            raise ValueError(
                "engine must be a SQLAlchemy Engine (sqlalchemy.create_engine(url)); "
                f"got {type(engine).__name__}"
            )
        #: The engine every statement runs on.
        self.engine = engine
        self.table_name = identifier(table, "table")
        self.table = sa.Table(
            table,
            sa.MetaData(),
            sa.Column("session_id", sa.String(255), primary_key=True),
            sa.Column("name", sa.String(63), primary_key=True),
            sa.Column("value", sa.String(255), nullable=False),
            sa.Column("expires_at", sa.Double, nullable=True),
            sa.Index(f"{table}_label", "name", "value"),
            sa.Index(f"{table}_expires_at", "expires_at"),
        )
        c = self.table.c
        live = sa.or_(c.expires_at.is_(None), c.expires_at > sa.bindparam("now"))
        self._delete = sa.delete(self.table).where(c.session_id == sa.bindparam("sid"))
        self._delete_many = sa.delete(self.table).where(
            c.session_id.in_(sa.bindparam("sids", expanding=True))
        )
        self._purge = sa.delete(self.table).where(c.expires_at <= sa.bindparam("now"))
        self._insert = sa.insert(self.table)
        self._find = sa.select(c.session_id).where(
            c.name == sa.bindparam("name"), c.value == sa.bindparam("value"), live
        )
        self._labels = sa.select(c.name, c.value).where(c.session_id == sa.bindparam("sid"), live)
        self._integrity_error = sa.exc.IntegrityError
        # PostgreSQL text cannot hold NUL: an id or a value with one has no rows there.
        self._no_nul = engine.dialect.name == "postgresql"
        self._engine = ForkSafeEngine(engine)
        self.table.create(self._engine(), checkfirst=True)

    def _write(self, work: Any) -> None:
        # One transaction; the expired rows go with it. Two transactions replacing the
        # same session at once may collide on the primary key, and two overlapping
        # ones may deadlock (the database rolls one back): the loser runs again.
        def transaction() -> None:
            with self._engine().begin() as conn:
                work(conn)
                conn.execute(self._purge, {"now": time.time()})

        run_again_on_conflict(transaction, also=(self._integrity_error,))

    def _absent(self, text: str) -> bool:
        # Text the database cannot hold: no row has it (NUL, on PostgreSQL).
        return self._no_nul and "\x00" in text

    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        """Replace the rows of ``session_id`` with one per label, in one transaction."""
        seconds = index_ttl(ttl)
        labels = index_labels(labels)
        session_id = index_id(session_id)
        expires = None if seconds is None else time.time() + seconds
        rows = [
            {"session_id": session_id, "name": n, "value": v, "expires_at": expires}
            for n, v in labels.items()
        ]

        def work(conn: Connection) -> None:
            conn.execute(self._delete, {"sid": session_id})
            if rows:
                conn.execute(self._insert, rows)

        self._write(work)

    def find(self, name: str, value: str) -> set[str]:
        """The live session ids labelled ``name=value`` (one indexed query)."""
        if self._absent(name) or self._absent(value):
            return set()
        with self._engine().connect() as conn:
            result = conn.execute(self._find, {"name": name, "value": value, "now": time.time()})
            return {row[0] for row in result}

    def labels(self, session_id: str) -> dict[str, str]:
        """The labels of ``session_id``; ``{}`` when unknown or expired."""
        if self._absent(session_id):
            return {}
        with self._engine().connect() as conn:
            result = conn.execute(self._labels, {"sid": session_id, "now": time.time()})
            return {name: value for name, value in result}

    def remove(self, session_id: str) -> None:
        """Delete the rows of ``session_id`` (idempotent)."""
        if self._absent(session_id):
            return
        self._write(lambda conn: conn.execute(self._delete, {"sid": session_id}))

    def remove_many(self, session_ids: Iterable[str]) -> None:
        """Delete the rows of every session in one transaction (``DELETE ... IN`` by
        chunks of 500 ids, sorted: overlapping calls lock rows in one order). Ids the
        database cannot hold (a NUL, on PostgreSQL) have no rows: skipped."""
        ids = sorted({sid for sid in session_ids if not self._absent(sid)})

        def work(conn: Connection) -> None:
            for start in range(0, len(ids), CHUNK):
                conn.execute(self._delete_many, {"sids": ids[start : start + CHUNK]})

        if ids:
            self._write(work)

    def purge(self) -> None:
        """Delete the expired rows now."""
        with self._engine().begin() as conn:
            conn.execute(self._purge, {"now": time.time()})

    def __repr__(self) -> str:
        return f"SQLAlchemySessionIndex(table={self.table_name!r})"
