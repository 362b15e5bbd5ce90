"""SQLite takes one writer at a time: threads of one process queue for it on a lock.

Left to SQLite, a writer that finds the database locked polls, sleeping up to 100 ms between
tries, so the lock sits idle while the next writer sleeps; with sixteen threads snapshotting at
once that was a quarter of their time. Here a thread waits on a lock that wakes it as soon as the
writer before it commits. Other processes still queue through SQLite's busy timeout.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any, Final

# As long as SQLite's own busy timeout: after it, the write goes on and SQLite decides.
LOCK_WAIT: Final = 30.0
_WRITES: Final = ("insert", "update", "delete", "replace")


class _Cursor(sqlite3.Cursor):
    def execute(self, sql: str, parameters: Any = (), /) -> _Cursor:
        _writer(self).before(sql)
        super().execute(sql, parameters)
        return self

    def executemany(self, sql: str, parameters: Any, /) -> _Cursor:
        _writer(self).before(sql)
        super().executemany(sql, parameters)
        return self


class WriterConnection(sqlite3.Connection):
    """A connection that holds its engine's write lock from its first write to commit/rollback."""

    write_lock: threading.Lock  # set per engine by `connection_class`
    _holding = False

    def cursor(self, factory: Any = _Cursor) -> Any:
        """A cursor that takes the write lock before the first write of a transaction."""
        return super().cursor(factory)

    def before(self, sql: str) -> None:
        """Take the write lock before the statement that makes SQLite begin a write transaction."""
        if not self._holding and sql.lstrip()[:7].lower().startswith(_WRITES):
            self._holding = self.write_lock.acquire(timeout=LOCK_WAIT)

    def commit(self) -> None:
        """Commit, then let the next writer in."""
        try:
            super().commit()
        finally:
            self._let_go()

    def rollback(self) -> None:
        """Roll back, then let the next writer in."""
        try:
            super().rollback()
        finally:
            self._let_go()

    def close(self) -> None:
        """Close (which rolls back), then let the next writer in."""
        try:
            super().close()
        finally:
            self._let_go()

    def _let_go(self) -> None:
        if self._holding:
            self._holding = False
            self.write_lock.release()


def _writer(cursor: sqlite3.Cursor) -> WriterConnection:
    connection = cursor.connection
    assert isinstance(connection, WriterConnection)
    return connection


def connection_class() -> type[WriterConnection]:
    """A connection class with a write lock of its own: one per engine."""
    return type("EngineWriterConnection", (WriterConnection,), {"write_lock": threading.Lock()})
