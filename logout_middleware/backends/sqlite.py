"""The embedded default store: a table in an SQLite database file.

Uses only the standard library's :mod:`sqlite3`. Safe across threads (one connection
per thread) and across processes such as gunicorn workers (connections are never
shared over a ``fork``; WAL journal and a busy timeout let writers wait for each other
instead of failing); a file removed, replaced or made read-only and repaired is
handled without a restart (see :mod:`logout_middleware.backends.sqlite_file`).
Every value is a query parameter; the table and column names are validated as
plain identifiers and quoted.

The table is created if missing::

    CREATE TABLE IF NOT EXISTS sessions (
        id TEXT PRIMARY KEY, data TEXT NOT NULL, created_at REAL NOT NULL)

An existing table works as it is as long as it has the id column (for ``delete``) and,
for the store API, the data column: for example Django's ``django_session`` with
``table="django_session", id_column="session_key", data_column="session_data"``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from .._validation import distinct_name, flag
from .._validation import key_prefix as valid_key_prefix
from .base import new_session_id, validate_identifier
from .sqlite_file import SQLiteFile

__all__ = ["SQLiteBackend"]

#: Ids per ``DELETE ... IN (...)`` statement of :meth:`SQLiteBackend.delete_many`: far
#: below SQLite's limit on bound variables (999 before SQLite 3.32).
CHUNK = 500


class SQLiteBackend:
    """Sessions in an SQLite file.

    :param path: the database file (created if missing), a ``str`` or
        ``os.PathLike[str]`` such as :class:`pathlib.Path`. ``":memory:"`` is refused:
        each thread would see its own empty database; use
        :class:`~logout_middleware.MemoryBackend` instead.
    :param table: table name (a plain identifier).
    :param id_column: the column that holds the record key.
    :param data_column: the column that holds the JSON data (store API only); another
        column than ``id_column``.
    :param key_prefix: prepended to the session id to form the record key; a string
        without control characters.
    :param timeout: seconds to wait for a lock held by another connection.
    :param create_table: create the table when it does not exist (``True`` or
        ``False``).

    :raises ValueError: for a bad setting, naming it and saying what to write.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table: str = "sessions",
        id_column: str = "id",
        data_column: str = "data",
        key_prefix: str = "",
        timeout: float = 5.0,
        create_table: bool = True,
    ) -> None:
        key_prefix = valid_key_prefix(key_prefix)
        create_table = flag(create_table, "create_table")
        #: The database file and this thread's connection to it.
        self.db = SQLiteFile(path, timeout=timeout, owner="SQLiteBackend")
        self.path = self.db.path
        self.timeout = self.db.timeout
        self.table = validate_identifier(table, "table")
        self.id_column = validate_identifier(id_column, "id_column")
        self.data_column = distinct_name(
            validate_identifier(data_column, "data_column"), "data_column", id_column, "id_column"
        )
        self.key_prefix = key_prefix
        self._execute = self.db.execute
        t, i, d = self.table, self.id_column, self.data_column
        self._delete_sql = f'DELETE FROM "{t}" WHERE "{i}" = ?'
        self._delete_in_sql = f'DELETE FROM "{t}" WHERE "{i}" IN ({{}})'
        self._insert_sql = f'INSERT INTO "{t}" ("{i}", "{d}") VALUES (?, ?)'
        self._select_sql = f'SELECT "{d}" FROM "{t}" WHERE "{i}" = ?'
        if create_table:
            self._execute(
                f'CREATE TABLE IF NOT EXISTS "{t}" ("{i}" TEXT PRIMARY KEY, '
                f'"{d}" TEXT NOT NULL, '
                f"\"created_at\" REAL NOT NULL DEFAULT (strftime('%s', 'now')))",
                (),
                create=True,
            )

    def delete(self, session_id: str) -> None:
        """Delete the record of ``session_id``; an unknown id is not an error.

        Raises :class:`sqlite3.Error` when the database is locked past the timeout,
        read-only, missing, or otherwise unusable.
        """
        self._execute(self._delete_sql, (self._key(session_id),))

    def delete_many(self, session_ids: Iterable[str]) -> int:
        """Delete the records of every id in ``session_ids`` in one transaction: one
        ``DELETE ... WHERE id IN (...)`` per 500 ids. Unknown and repeated ids are not
        errors; no ids, no statement. Returns how many records there were.

        Raises :class:`sqlite3.Error` as :meth:`delete` does; then nothing is deleted.
        """
        keys = list(dict.fromkeys(map(self._key, session_ids)))
        if not keys:
            return 0
        conn = self.db.connection()
        deleted = 0
        try:
            conn.execute("BEGIN IMMEDIATE")
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                sql = self._delete_in_sql.format(", ".join("?" * len(chunk)))
                deleted += conn.execute(sql, chunk).rowcount
            conn.execute("COMMIT")
        except BaseException:
            self.db.drop()  # closing the connection rolls back what it began
            raise
        return deleted

    def _key(self, session_id: str) -> str:
        return self.key_prefix + session_id

    def create(self, data: dict[str, Any]) -> str:
        """Store ``data`` as JSON under a new random id and return the id."""
        session_id = new_session_id()
        self._execute(self._insert_sql, (self._key(session_id), json.dumps(data)))
        return session_id

    def get(self, session_id: str) -> dict[str, Any] | None:
        """Return the data of ``session_id``, or ``None`` when there is no record."""
        row = self._execute(self._select_sql, (self._key(session_id),)).fetchone()
        if row is None:
            return None
        data: dict[str, Any] = json.loads(row[0])
        return data

    def count(self) -> int:
        """Return the number of records in the table (all prefixes)."""
        row = self._execute(f'SELECT COUNT(*) FROM "{self.table}"', ()).fetchone()
        return int(row[0])

    def close(self) -> None:
        """Close this thread's connection (others close when their thread ends)."""
        self.db.drop()
