"""Per-thread connections to one SQLite file, shared by the SQLite stores.

:class:`SQLiteFile` is what :class:`~logout_middleware.SQLiteBackend` and
:class:`~logout_middleware.revocation.SQLiteRevocationStore` run their statements
through:

* one connection per thread and per process: a connection inherited over ``fork()``
  (gunicorn's ``--preload``) is never used by the child;
* WAL journal and a busy timeout, so writers in several workers wait for each other
  instead of failing at once;
* the connection is replaced when the path names another file than the one it opened
  (the file was removed, or restored from a backup: a delete must never land in an
  unlinked copy and be reported done), and after an operational error (a connection
  SQLite opened read-only stays read-only even once the file is writable again);
* a missing file is an error, not a new empty database: only a caller that asks
  (``create=True``, the stores' constructors) may create it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any
from urllib.parse import quote

from .._validation import file_path, positive_seconds

__all__ = ["SQLiteFile"]


class SQLiteFile:
    """The SQLite database at ``path``, reached through per-thread connections.

    :param path: the database file, a ``str`` or ``os.PathLike[str]`` (anything else,
        ``bytes`` included, is refused with a :class:`ValueError`). ``":memory:"`` is
        refused (each thread would see its own empty database): ``alternative`` names
        what to use instead.
    :param timeout: seconds to wait for a lock held by another connection.
    :param owner: the class name used in error messages.
    :param alternative: the in-process store to suggest instead of ``":memory:"``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        owner: str = "SQLiteFile",
        alternative: str = "MemoryBackend",
    ) -> None:
        path = file_path(path, "path")
        if path == ":memory:" or path.startswith("file::memory:"):
            raise ValueError(
                f"{owner} needs a database file path; for an in-process store use {alternative}"
            )
        #: The database file.
        self.path = path
        #: Seconds a statement waits for another connection's lock.
        self.timeout = positive_seconds(timeout, "timeout")
        self._local = threading.local()

    def connection(self, create: bool = False) -> sqlite3.Connection:
        """This thread's connection to the file now at :attr:`path`.

        Raises :class:`sqlite3.OperationalError` when the file is missing (unless
        ``create``) or cannot be opened.
        """
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            if not create:
                self.drop()
                raise sqlite3.OperationalError(
                    f"SQLite database file is missing: {self.path}"
                ) from None
            stat = None
        identity = None if stat is None else (stat.st_dev, stat.st_ino)
        if conn is not None and local.pid == os.getpid() and local.identity == identity:
            return conn
        self.drop()
        conn = sqlite3.connect(
            f"file:{quote(self.path)}?mode={'rwc' if create else 'rw'}",
            uri=True,
            timeout=self.timeout,
            isolation_level=None,  # autocommit: each statement is its own transaction
            check_same_thread=True,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            self._use_wal(conn)
            stat = os.stat(self.path)
        except BaseException:
            conn.close()
            raise
        local.conn, local.pid, local.identity = conn, os.getpid(), (stat.st_dev, stat.st_ino)
        return conn

    def _use_wal(self, conn: sqlite3.Connection) -> None:
        # Turning WAL on needs the file to itself, and SQLite answers "locked" at once
        # instead of waiting (workers starting together all open a new file): ask
        # again until the timeout; another process may well have turned it on.
        deadline = time.monotonic() + self.timeout
        while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)

    def execute(
        self, sql: str, params: tuple[Any, ...] = (), *, create: bool = False
    ) -> sqlite3.Cursor:
        """Run one statement in autocommit mode; after an operational error the next
        call opens a new connection."""
        try:
            return self.connection(create).execute(sql, params)
        except sqlite3.OperationalError:
            self.drop()
            raise

    def drop(self) -> None:
        """Forget this thread's connection, closing it if this process opened it."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            conn.close()
        local.conn = None
