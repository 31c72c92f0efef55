"""Sessions in any SQL database that SQLAlchemy reaches (PostgreSQL, MySQL, SQLite...).

Needs the ``sql`` extra: ``pip install logout-middleware[sql]`` (SQLAlchemy Core 2.x)
plus the database's driver (``psycopg``, ``mysqlclient``...).

A session is the row whose ``id_column`` equals ``key_prefix + session_id``.
:meth:`SQLAlchemyBackend.delete` runs ``DELETE FROM table WHERE id_column = :key``
with the key as a bound parameter; the table and column names are validated as plain
identifiers at construction. The backend describes only the columns it uses (the id,
and the data column for the store API), so it works unchanged on tables that other
libraries made:

* Flask-Session's SQLAlchemy store: table ``sessions``, column ``session_id`` holding
  ``SESSION_KEY_PREFIX + sid`` -- ``SQLAlchemyBackend(engine, key_prefix="session:")``.
* Django's database sessions: ``SQLAlchemyBackend(engine, table="django_session",
  id_column="session_key")``.

An id that cannot exist in the store is nothing to delete, not an error: PostgreSQL
text cannot contain NUL, so such an id is answered without a query.

The application's own engine settings apply. Recommended: ``pool_pre_ping=True`` (a
connection cut by a database restart is replaced instead of failing one logout) and a
connect timeout (``connect_args={"connect_timeout": 2}`` for psycopg), so a dead
database turns into a prompt error and the middleware's ``500``. The engine's pool is
reset in a process that inherits it over ``fork()`` (gunicorn ``--preload``).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from .._validation import distinct_name, flag
from .._validation import key_prefix as valid_key_prefix
from .base import new_session_id, validate_identifier

if TYPE_CHECKING:  # pragma: no cover
    from sqlalchemy.engine import Engine

__all__ = [
    "ForkSafeEngine",
    "SQLAlchemyBackend",
    "SQLSessions",
    "rolled_back_by_conflict",
    "run_again_on_conflict",
]

T = TypeVar("T")

#: Ids per ``DELETE ... IN (...)`` statement of :meth:`SQLAlchemyBackend.delete_many`.
CHUNK = 500

#: Attempts of a transaction that the database rolled back to break a deadlock or a
#: serialization conflict (:func:`rolled_back_by_conflict`): it runs again, whole.
ATTEMPTS = 5

# SQLSTATEs of a transaction ended by the database to let another go on:
# serialization_failure and deadlock_detected (PostgreSQL; also other SQL databases).
_CONFLICT_STATES = frozenset({"40001", "40P01"})
# MySQL's deadlock error (ER_LOCK_DEADLOCK): the transaction was rolled back.
_MYSQL_CONFLICTS = frozenset({1213})

_MISSING_SQLALCHEMY = (
    "SQLAlchemyBackend needs SQLAlchemy 2: pip install logout-middleware[sql] "
    "(or pip install 'SQLAlchemy>=2')"
)


def rows_deleted(counts: Iterable[int]) -> int | None:
    """The rows the ``DELETE`` statements of one call removed, from their ``rowcount``s;
    ``None`` when a driver did not say (a negative count)."""
    total = 0
    for count in counts:
        if count < 0:
            return None
        total += count
    return total


def rolled_back_by_conflict(exc: BaseException) -> bool:
    """Whether ``exc`` (a SQLAlchemy ``DBAPIError``) says that the database rolled the
    transaction back to break a deadlock or a serialization conflict: running it
    again is safe, and the other transaction has gone on."""
    orig = getattr(exc, "orig", None)
    for error in (orig, getattr(orig, "__cause__", None)):
        if error is None:
            continue
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if state in _CONFLICT_STATES:
            return True
        args = getattr(error, "args", ())
        if args and isinstance(args[0], int) and args[0] in _MYSQL_CONFLICTS:
            return True
    return False


def run_again_on_conflict(
    transaction: Callable[[], T], also: tuple[type[BaseException], ...] = ()
) -> T:
    """``transaction()``, run again (at most :data:`ATTEMPTS` times in all) when the
    database rolled it back to break a deadlock or a serialization conflict
    (:func:`rolled_back_by_conflict`), or it raised one of ``also``."""
    for attempt in range(ATTEMPTS):
        try:
            return transaction()
        except Exception as exc:
            retry = isinstance(exc, also) or rolled_back_by_conflict(exc)
            if attempt == ATTEMPTS - 1 or not retry:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


class SQLSessions:
    """What the SQLAlchemy session backends share: the table as they describe it (only
    the columns they use), the statements they run, and the key of each session.

    :param dialect: the engine's dialect name (``engine.dialect.name``).

    The other parameters are :class:`SQLAlchemyBackend`'s.
    """

    def __init__(
        self,
        dialect: str,
        *,
        table: str,
        id_column: str,
        key_prefix: str,
        data_column: str,
        schema: str | None,
    ) -> None:
        import sqlalchemy as sa

        key_prefix = valid_key_prefix(key_prefix)
        #: Prepended to every session id.
        self.key_prefix = key_prefix
        self.table_name = validate_identifier(table, "table")
        self.id_column = validate_identifier(id_column, "id_column")
        self.data_column = distinct_name(
            validate_identifier(data_column, "data_column"), "data_column", id_column, "id_column"
        )
        if schema is not None:
            validate_identifier(schema, "schema")
        # Only the columns used here: enough for Flask-Session's and Django's tables.
        self.table = sa.Table(
            table,
            sa.MetaData(),
            sa.Column(id_column, sa.String(255), primary_key=True),
            sa.Column(data_column, sa.Text),
            schema=schema,
        )
        key = self.table.c[id_column]
        self._delete = sa.delete(self.table).where(key == sa.bindparam("key"))
        self._delete_in = sa.delete(self.table).where(key.in_(sa.bindparam("keys", expanding=True)))
        self._select = sa.select(self.table.c[data_column]).where(key == sa.bindparam("key"))
        self._insert = sa.insert(self.table)
        # PostgreSQL text cannot hold NUL: such an id has no record there.
        self._no_nul = dialect == "postgresql"

    def _key(self, session_id: str) -> str | None:
        key = self.key_prefix + session_id
        if self._no_nul and "\x00" in key:
            return None
        return key

    def _chunks(self, session_ids: Iterable[str]) -> list[list[str]]:
        # The distinct keys that can exist, sorted, in statements of CHUNK ids each:
        # two overlapping deletes lock their rows in the same order, so neither waits
        # for a row the other holds while holding one the other waits for.
        keys = sorted({key for key in map(self._key, session_ids) if key is not None})
        return [keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK)]

    def _new_row(self, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        session_id = new_session_id()
        row = {self.id_column: self._key(session_id), self.data_column: json.dumps(data)}
        return session_id, row

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(table={self.table_name!r}, id_column={self.id_column!r}, "
            f"key_prefix={self.key_prefix!r})"
        )


class SQLAlchemyBackend(SQLSessions):
    """Sessions in an SQL table, through a SQLAlchemy :class:`~sqlalchemy.engine.Engine`.

    :param engine: the application's engine (``sqlalchemy.create_engine(url)``).
    :param table: the table name; Flask-Session's default, ``"sessions"``.
    :param id_column: the column that holds ``key_prefix + session_id``.
    :param key_prefix: prepended to the session id; Flask-Session's is ``"session:"``,
        Django's is ``""``.
    :param data_column: the column of the JSON text used by :meth:`create` and
        :meth:`get` (the store API, for demos and tests; ``delete`` never touches it);
        another column than ``id_column`` (case ignored).
    :param schema: the table's schema, or ``None`` for the default one.
    :param create_table: ``True`` creates the table if missing, with a ``VARCHAR(255)``
        primary key and a text data column (``True`` or ``False``). Off by default: a
        misspelt name should make the logout fail loudly, not clear an empty table
        that was just made.

    :raises ImportError: when SQLAlchemy is not installed, naming the extra.
    :raises ValueError: for a name that is not a plain identifier or a bad setting.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        table: str = "sessions",
        id_column: str = "session_id",
        key_prefix: str = "",
        data_column: str = "data",
        schema: str | None = None,
        create_table: bool = False,
    ) -> None:
        try:
            import sqlalchemy as sa
        except ImportError as exc:  # pragma: no cover - SQLAlchemy is a dev dependency
            raise ImportError(_MISSING_SQLALCHEMY) from exc
        create_table = flag(create_table, "create_table")
        if not isinstance(engine, sa.engine.Engine):
            raise ValueError(
                "engine must be a SQLAlchemy Engine (sqlalchemy.create_engine(url)); "
                f"got {type(engine).__name__}"
            )
        super().__init__(
            engine.dialect.name,
            table=table,
            id_column=id_column,
            key_prefix=key_prefix,
            data_column=data_column,
            schema=schema,
        )
        #: The engine every statement runs on.
        self.engine = engine
        self._engine = ForkSafeEngine(engine)
        if create_table:
            self.table.create(self._engine(), checkfirst=True)

    def delete(self, session_id: str) -> None:
        """Delete the row of ``session_id`` and commit; an unknown id is not an error.

        Raises :class:`sqlalchemy.exc.SQLAlchemyError` (for instance
        ``OperationalError`` when the database cannot be reached or the table is
        missing).
        """
        key = self._key(session_id)
        if key is None:
            return
        with self._engine().begin() as conn:
            conn.execute(self._delete, {"key": key})

    def delete_many(self, session_ids: Iterable[str]) -> int | None:
        """Delete the rows of every id in ``session_ids`` in one transaction: one
        ``DELETE ... WHERE id_column IN (...)`` per 500 ids, sorted (overlapping calls
        lock rows in one order); a transaction the database rolls back to break a
        deadlock runs again (at most 5 times). Unknown and repeated ids are not
        errors; no ids, no connection. Returns how many rows there were
        (``None`` from a driver that does not say).

        Raises :class:`sqlalchemy.exc.SQLAlchemyError` as :meth:`delete` does.
        """
        chunks = self._chunks(session_ids)
        if not chunks:
            return 0
        def transaction() -> int | None:
            with self._engine().begin() as conn:
                counts = [conn.execute(self._delete_in, {"keys": keys}).rowcount for keys in chunks]
            return rows_deleted(counts)

        return run_again_on_conflict(transaction)

    def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` as JSON text under a new random id and return the id."""
        session_id, row = self._new_row(data)
        with self._engine().begin() as conn:
            conn.execute(self._insert, row)
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data of ``session_id``, or ``None`` when there is no row."""
        key = self._key(session_id)
        if key is None:
            return None
        with self._engine().connect() as conn:
            raw = conn.execute(self._select, {"key": key}).scalar_one_or_none()
        if raw is None:
            return None
        data: dict[str, Any] = json.loads(raw)
        return data


class ForkSafeEngine:
    """Calls to an engine whose pooled connections, made before a ``fork()``, belong to
    the parent: the first call in a child drops them, unused, and pools anew."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pid = os.getpid()
        self._lock = threading.Lock()

    def __call__(self) -> Engine:
        if self._pid != os.getpid():
            with self._lock:
                if self._pid != os.getpid():
                    self.engine.dispose(close=False)
                    self._pid = os.getpid()
        return self.engine
