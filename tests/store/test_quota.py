from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from store import quota
from store.db import make_engine
from store.models import QuotaCall

NOW = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)
POLICY = quota.QuotaPolicy(daily_cap=10, manual_reserve=2)


def _reserve(engine, purpose="scheduled", now=NOW, project="p1"):
    return quota.reserve(
        engine,
        project_key=project,
        now=now,
        source_id=1,
        fetch_group="overall",
        purpose=purpose,
        policy=POLICY,
    )


def test_scheduled_calls_leave_the_manual_reserve(engine):
    got = [_reserve(engine) for _ in range(10)]
    assert [r.slot for r in got if r] == list(range(1, 9))
    assert got[8:] == [None, None]
    manual = [_reserve(engine, purpose="manual") for _ in range(3)]
    assert [r.slot for r in manual if r] == [9, 10]
    assert manual[2] is None


def test_the_cap_is_per_project_and_per_utc_day(engine):
    for _ in range(8):
        assert _reserve(engine)
    assert _reserve(engine) is None
    assert _reserve(engine, project="p2").slot == 1
    # 23:59 UTC is still the same quota day; 00:00 UTC is a new one.
    assert _reserve(engine, now=NOW.replace(hour=23, minute=59)) is None
    tomorrow = (NOW + timedelta(days=1)).replace(hour=0, minute=0)
    assert _reserve(engine, now=tomorrow).slot == 1


def test_a_lower_configured_cap_is_honoured(engine):
    small = quota.QuotaPolicy(daily_cap=3, manual_reserve=1)
    got = [
        quota.reserve(engine, project_key="p", now=NOW, source_id=None, fetch_group="g",
                      purpose="scheduled", policy=small)
        for _ in range(4)
    ]  # fmt: skip
    assert [r is not None for r in got] == [True, True, False, False]


def _finish(engine, slot, **ended):
    with engine.begin() as conn:
        quota.close(conn, slot, **ended)


def test_a_429_blocks_the_rest_of_the_utc_day(engine):
    first = _reserve(engine)
    _finish(engine, first, now=NOW, outcome=quota.QUOTA_EXCEEDED, status_code=429)
    assert _reserve(engine) is None
    assert _reserve(engine, purpose="manual") is None
    usage = quota.usage(engine, project_key="p1", now=NOW, policy=POLICY)
    assert usage.exhausted and usage.left == 0
    assert _reserve(engine, now=NOW + timedelta(days=1)) is not None


def test_usage_counts_in_flight_and_finished_calls(engine):
    a, b, _ = _reserve(engine), _reserve(engine), _reserve(engine)
    _finish(engine, a, now=NOW, outcome="ok", status_code=200)
    _finish(engine, b, now=NOW, outcome="server_error", status_code=500)
    usage = quota.usage(engine, project_key="p1", now=NOW, policy=POLICY)
    assert (usage.used, usage.in_flight, usage.left, usage.left_for_automatic) == (2, 1, 7, 5)
    assert usage.resets_at == datetime(2026, 3, 11, tzinfo=UTC)


def test_policy_refuses_impossible_settings():
    with pytest.raises(ValueError):
        quota.QuotaPolicy(daily_cap=11)
    with pytest.raises(ValueError):
        quota.QuotaPolicy(daily_cap=3, manual_reserve=3)


def test_50_concurrent_threads_never_exceed_the_cap(engine):
    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(lambda _: _reserve(engine, purpose="manual"), range(50)))
    granted = [r for r in results if r is not None]
    assert len(granted) == 10
    assert sorted(r.slot for r in granted) == list(range(1, 11))
    with engine.connect() as conn:
        assert len(conn.execute(select(QuotaCall.id)).all()) == 10


def _process_worker(url: str, attempts: int, out) -> None:
    engine = make_engine(url)
    granted = 0
    for _ in range(attempts):
        if _reserve(engine, purpose="manual") is not None:
            granted += 1
    engine.dispose()
    out.put(granted)


@pytest.mark.slow
def test_concurrent_processes_never_exceed_the_cap(db_url, engine):
    # Forked from a fresh single-threaded server that imported this module once: four spawned
    # interpreters re-importing pytest and SQLAlchemy each cost seconds.
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([__name__])
    out = ctx.Queue()
    workers = [ctx.Process(target=_process_worker, args=(db_url, 6, out)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(w.exitcode == 0 for w in workers)
    assert sum(out.get(timeout=60) for _ in workers) == 10
    with engine.connect() as conn:
        slots = sorted(r.slot for r in conn.execute(select(QuotaCall.slot)).all())
    assert slots == list(range(1, 11))
