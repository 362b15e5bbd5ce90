"""SQLite writers of one process queue on a lock held from the first write to commit or rollback."""

from __future__ import annotations

import threading

from sqlalchemy import text

from store.db import make_engine


def write_lock(engine):
    """The engine's write lock, as its connections hold it."""
    raw = engine.raw_connection()
    try:
        return raw.driver_connection.write_lock
    finally:
        raw.close()


def test_the_lock_is_held_from_the_first_write_until_the_transaction_ends(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/w.db")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    lock = write_lock(engine)
    assert not lock.locked()
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM t"))
        assert not lock.locked()  # reading takes no lock
        conn.execute(text("INSERT INTO t VALUES (1)"))
        assert lock.locked()
        conn.commit()
        assert not lock.locked()
        conn.execute(text("UPDATE t SET n = 2"))
        assert lock.locked()
        conn.rollback()
        assert not lock.locked()
        conn.execute(text("DELETE FROM t"))
    assert not lock.locked()  # returned to the pool: rolled back, lock let go
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM t")).scalar_one() == 1
    engine.dispose()


def test_many_threads_write_at_once_and_none_is_lost(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/w.db", pool_size=8)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (thread INTEGER, n INTEGER)"))
    errors: list[BaseException] = []

    def writer(thread: int) -> None:
        try:
            for n in range(25):
                with engine.begin() as conn:
                    conn.execute(text("INSERT INTO t VALUES (:t, :n)"), {"t": thread, "n": n})
                    conn.execute(text("UPDATE t SET n = n + 1 WHERE thread = :t"), {"t": thread})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 8 * 25
        # Row n of a thread was bumped by its own later updates: 25 - n times.
        assert conn.execute(text("SELECT sum(n) FROM t")).scalar_one() == 8 * 25 * 25
    assert not write_lock(engine).locked()
    engine.dispose()
