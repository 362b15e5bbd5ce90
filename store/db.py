"""Engines and sessions for SQLite (default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlmodel import Session

from store.errors import ConfigError
from store.sqlite_writer import connection_class

DEFAULT_DATABASE_URL: Final = "sqlite:///claritybot.db"


def normalize_database_url(url: str) -> str:
    """Accept the URL forms users paste (Heroku's `postgres://`) and pick the psycopg 3 driver."""
    url = url.strip()
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url


def make_engine(url: str = DEFAULT_DATABASE_URL, **kwargs: Any) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys."""
    url = normalize_database_url(url)
    try:
        backend = make_url(url).get_backend_name()
    except Exception as exc:  # SQLAlchemy raises ArgumentError and friends
        raise ConfigError(
            "DATABASE_URL is not a valid database URL. Use e.g. sqlite:///claritybot.db or "
            "postgresql://user@host:5432/dbname."
        ) from exc
    if backend == "sqlite":
        # Writers queue for up to 30 s instead of failing at once with "database is locked";
        # this engine's threads queue on a lock of its own first (store/sqlite_writer.py).
        connect_args = {"check_same_thread": False, "timeout": 30, "factory": connection_class()}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers work while one writer writes; NORMAL is durable enough with WAL.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """Yield a session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
