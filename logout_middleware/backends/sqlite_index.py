"""The session index in an SQLite file: every process on one host."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from .._validation import identifier
from .base import index_id, index_labels, index_ttl
from .sqlite_file import SQLiteFile

__all__ = ["SQLiteSessionIndex"]

#: Ids per ``DELETE ... IN (...)`` statement (well under SQLite's variable limit).
CHUNK = 500


class SQLiteSessionIndex:
    """Session ids by label in an SQLite file, shared by every process on the host.

    The table (created if missing) holds one row per label: ``session_id TEXT, name
    TEXT, value TEXT, expires_at REAL`` (Unix time, ``NULL`` for no expiry), primary
    key ``(session_id, name)``, with indexes on ``(name, value)`` and ``expires_at``:
    every statement is an index lookup, never a scan. Expired rows are ignored by the
    reads and deleted by every write. One connection per thread and process, WAL
    journal and a busy timeout, like :class:`~logout_middleware.SQLiteBackend`.

    :param path: the database file (created if missing); ``":memory:"`` is refused.
    :param table: the table name (a plain identifier).
    :param timeout: seconds to wait for a lock held by another connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table: str = "session_index",
        timeout: float = 5.0,
    ) -> None:
        self.table = identifier(table, "table")
        #: The database file and this thread's connection to it.
        self.db = SQLiteFile(
            path, timeout=timeout, owner="SQLiteSessionIndex", alternative="MemorySessionIndex"
        )
        self.path = self.db.path
        self.timeout = self.db.timeout
        t = self.table
        live = "(expires_at IS NULL OR expires_at > ?)"
        self._insert_sql = (
            f'INSERT INTO "{t}" (session_id, name, value, expires_at) VALUES (?, ?, ?, ?)'
        )
        self._delete_sql = f'DELETE FROM "{t}" WHERE session_id = ?'
        self._purge_sql = f'DELETE FROM "{t}" WHERE expires_at <= ?'
        self._find_sql = f'SELECT session_id FROM "{t}" WHERE name = ? AND value = ? AND {live}'
        self._labels_sql = f'SELECT name, value FROM "{t}" WHERE session_id = ? AND {live}'
        self.db.execute(
            f'CREATE TABLE IF NOT EXISTS "{t}" (session_id TEXT NOT NULL, name TEXT NOT NULL, '
            f"value TEXT NOT NULL, expires_at REAL, PRIMARY KEY (session_id, name))",
            create=True,
        )
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_label" ON "{t}" (name, value)')
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_expires_at" ON "{t}" (expires_at)')

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]], purge: bool = True) -> None:
        # One transaction; the expired rows go with the writes that add rows (a removal
        # only shrinks the table, and is on the logout's path).
        if not statements:
            return
        try:
            conn = self.db.connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in statements:
                    conn.execute(sql, params)
                if purge:
                    conn.execute(self._purge_sql, (time.time(),))
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
        except sqlite3.OperationalError:
            self.db.drop()
            raise

    def add(self, session_id: str, ttl: float | None = None, **labels: str) -> None:
        """Replace the rows of ``session_id`` with one per label, in one transaction."""
        seconds = index_ttl(ttl)
        labels = index_labels(labels)
        session_id = index_id(session_id)
        expires = None if seconds is None else time.time() + seconds
        statements: list[tuple[str, tuple[Any, ...]]] = [(self._delete_sql, (session_id,))]
        statements += [
            (self._insert_sql, (session_id, name, value, expires))
            for name, value in labels.items()
        ]
        self._write(statements)

    def find(self, name: str, value: str) -> set[str]:
        """The live session ids labelled ``name=value`` (one indexed query)."""
        rows = self.db.execute(self._find_sql, (name, value, time.time())).fetchall()
        return {row[0] for row in rows}

    def labels(self, session_id: str) -> dict[str, str]:
        """The labels of ``session_id``; ``{}`` when unknown or expired."""
        rows = self.db.execute(self._labels_sql, (session_id, time.time())).fetchall()
        return {name: value for name, value in rows}

    def remove(self, session_id: str) -> None:
        """Delete the rows of ``session_id`` (idempotent)."""
        self._write([(self._delete_sql, (session_id,))], purge=False)

    def remove_many(self, session_ids: Iterable[str]) -> None:
        """Delete the rows of every session in one transaction, ``DELETE ... IN`` by
        chunks of 500 ids."""
        ids = list(dict.fromkeys(session_ids))
        statements: list[tuple[str, tuple[Any, ...]]] = []
        for start in range(0, len(ids), CHUNK):
            chunk = tuple(ids[start : start + CHUNK])
            marks = ", ".join("?" * len(chunk))
            statements.append((f'DELETE FROM "{self.table}" WHERE session_id IN ({marks})', chunk))
        self._write(statements, purge=False)

    def purge(self) -> int:
        """Delete the expired rows now and return how many there were."""
        return self.db.execute(self._purge_sql, (time.time(),)).rowcount

    def close(self) -> None:
        """Close this thread's connection."""
        self.db.drop()
