"""Revoked cookie fingerprints in an SQLite file: every process on one host."""

from __future__ import annotations

import os
import time

from .._validation import identifier, positive_seconds
from .sqlite_file import SQLiteFile

__all__ = ["SQLiteRevocationStore"]


class SQLiteRevocationStore:
    """Revoked tokens in an SQLite file, shared by every process on the host.

    The table (created if missing) holds ``token TEXT PRIMARY KEY, expires_at REAL``
    (Unix time). Expired rows are ignored by :meth:`is_revoked` and deleted by
    :meth:`revoke` and :meth:`purge`. One connection per thread and process, WAL
    journal and a busy timeout, like :class:`~logout_middleware.SQLiteBackend`.

    :param path: the database file (created if missing); ``":memory:"`` is refused.
    :param table: the table name (a plain identifier).
    :param timeout: seconds to wait for a lock held by another connection.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        table: str = "revoked_cookies",
        timeout: float = 5.0,
    ) -> None:
        #: The database file and this thread's connection to it.
        self.db = SQLiteFile(
            path,
            timeout=timeout,
            owner="SQLiteRevocationStore",
            alternative="MemoryRevocationStore",
        )
        self.path = self.db.path
        self.table = identifier(table, "table")
        self.timeout = self.db.timeout
        t = self.table
        self._revoke_sql = (
            f'INSERT INTO "{t}" (token, expires_at) VALUES (?, ?) ON CONFLICT (token) '
            f"DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)"
        )
        self._check_sql = f'SELECT 1 FROM "{t}" WHERE token = ? AND expires_at > ?'
        self._purge_sql = f'DELETE FROM "{t}" WHERE expires_at <= ?'
        self.db.execute(
            f'CREATE TABLE IF NOT EXISTS "{t}" (token TEXT PRIMARY KEY, expires_at REAL NOT NULL)',
            create=True,
        )
        self.db.execute(f'CREATE INDEX IF NOT EXISTS "{t}_expires_at" ON "{t}" (expires_at)')

    def revoke(self, token: str, ttl: float) -> None:
        """Remember ``token`` until ``now + ttl`` and delete the expired rows."""
        now = time.time()
        expires = now + positive_seconds(ttl, "ttl")
        self.db.execute(self._revoke_sql, (token, expires))
        self.db.execute(self._purge_sql, (now,))

    def is_revoked(self, token: str) -> bool:
        """Whether ``token`` has a row that has not expired."""
        row = self.db.execute(self._check_sql, (token, time.time())).fetchone()
        return row is not None

    def purge(self) -> int:
        """Delete the expired rows now and return how many there were."""
        return self.db.execute(self._purge_sql, (time.time(),)).rowcount

    def close(self) -> None:
        """Close this thread's connection."""
        self.db.drop()
