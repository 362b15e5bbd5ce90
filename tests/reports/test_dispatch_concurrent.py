"""Many reports due in one tick: sent on several threads, still once each, one failure alone."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from reports.delivery.dispatch import BULK_FROM, Dispatcher
from reports.delivery.subscriptions import NewSubscription, subscribe
from reports.errors import DeliveryError
from reports.render.charts import ChartMaker
from store.db import make_engine
from store.models import Delivery

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # the 09:00 (London) report is due
AT_ONCE = 4


@pytest.fixture
def engine(demo_history, tmp_path):
    copy = tmp_path / "copy.db"
    copy.write_bytes(demo_history.db_path.read_bytes())
    engine = make_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM delivery")
        conn.exec_driver_sql("DELETE FROM subscription")
    yield engine
    engine.dispose()


class Gate:
    """A destination whose first AT_ONCE sends wait for each other: it proves they overlap."""

    def __init__(self, fail_to=(), crash_to=()):
        self.fail_to, self.crash_to = set(fail_to), set(crash_to)
        self.barrier = threading.Barrier(AT_ONCE, timeout=30)  # only a broken pool waits it out
        self.lock, self.sent, self.tries = threading.Lock(), Counter[int](), Counter[int]()

    def deliver(self, report, sub, now, unsubscribe_url):
        with self.lock:
            self.tries[sub.id] += 1
            first = sum(self.tries.values()) <= AT_ONCE
        if first:
            self.barrier.wait()
        if sub.destination in self.fail_to:
            raise DeliveryError("channel_not_found", transient=False)
        if sub.destination in self.crash_to:
            raise RuntimeError("a bug while sending")
        with self.lock:
            self.sent[sub.id] += 1
        return f"msg-{sub.id}"

    def check(self, sub, period):
        return None


class CountingPool:
    """A RenderPool stand-in that draws in this process and counts what it drew."""

    def __init__(self):
        self.maker, self.lock, self.drawn = ChartMaker(), threading.Lock(), 0

    def draw(self, kind, data, **options):
        with self.lock:
            self.drawn += 1
        return self.maker.draw(kind, data, **options)

    def close(self):
        pass


class Notes:
    def delivery_failed(self, *args):
        pass


def add_many(engine, demo_history, n):
    requests = [
        NewSubscription(source_id=demo_history.source_id, metrics=["sessions"], kind="email",
                        destination=f"r{i}@example.com", created_by="U9")
        for i in range(n)
    ]  # fmt: skip
    created = NOW.replace(hour=8)
    return [subscribe(engine, r, workspace_id=None, now=created).id for r in requests]


def dispatcher(engine, gate, owner, bulk=None):
    return Dispatcher(engine=engine, senders={"email": gate}, owner=owner, charts=ChartMaker(),
                      notifier=Notes(), concurrency=AT_ONCE, bulk_charts=bulk)  # fmt: skip


def ledger(engine):
    with Session(engine) as session:
        return {(r.subscription_id, r.period): r.status for r in session.exec(select(Delivery))}


def test_n_due_reports_sent_at_once_give_n_sends_and_n_rows(engine, demo_history):
    n = BULK_FROM + 4
    ids = add_many(engine, demo_history, n)
    gate, pool, made = Gate(), CountingPool(), []

    def bulk():
        made.append(1)
        return ChartMaker(pool)

    assert dispatcher(engine, gate, "A", bulk).tick(NOW) == {"sent": n}
    assert gate.sent == dict.fromkeys(ids, 1)
    assert ledger(engine) == {(i, "2026-03-20"): "sent" for i in ids}
    assert (made, pool.drawn) == ([1], n)  # this many due: every chart drawn by the bulk maker
    assert dispatcher(engine, gate, "A", bulk).tick(NOW) == {}  # nothing twice


def test_a_failing_report_does_not_stop_the_others(engine, demo_history):
    ids = add_many(engine, demo_history, 8)
    gate = Gate(fail_to={"r2@example.com"}, crash_to={"r5@example.com"})
    outcome = dispatcher(engine, gate, "A").tick(NOW)
    assert outcome == {"sent": 6, "failed": 1, "unknown": 1}
    assert set(gate.sent) == set(ids) - {ids[2], ids[5]} and set(gate.sent.values()) == {1}
    rows = ledger(engine)
    assert len(rows) == 8
    assert (rows[ids[2], "2026-03-20"], rows[ids[5], "2026-03-20"]) == ("failed", "unknown")


def test_two_dispatchers_at_once_still_send_each_report_once(engine, demo_history):
    ids = add_many(engine, demo_history, 12)
    gate, results = Gate(), {}

    def run(owner):
        results[owner] = dispatcher(engine, gate, owner).tick(NOW)

    threads = [threading.Thread(target=run, args=(o,)) for o in "AB"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert gate.sent == dict.fromkeys(ids, 1)
    assert results["A"]["sent"] + results["B"]["sent"] == 12
    assert ledger(engine) == {(i, "2026-03-20"): "sent" for i in ids}


def test_few_due_reports_are_drawn_here(engine, demo_history):
    add_many(engine, demo_history, AT_ONCE)
    pool = CountingPool()
    assert dispatcher(engine, Gate(), "A", lambda: ChartMaker(pool)).tick(NOW) == {"sent": AT_ONCE}
    assert pool.drawn == 0  # too few to be worth starting render workers
