"""The delivery ledger on SQLite and PostgreSQL: one row per period, whoever races for it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from store import ledger, ledger_rows, repository
from store.models import Source, Subscription

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def a_subscription(engine) -> int:
    with Session(engine) as session:
        ws = repository.default_workspace(session=session)
        source = Source(workspace_id=ws.id, label="s", project_key="p", token_fingerprint="f")
        session.add(source)
        session.flush()
        sub = Subscription(workspace_id=ws.id, source_id=source.id, metrics=["sessions"],
                           destination_kind="email", destination="a@b.co",
                           frequency="daily")  # fmt: skip
        session.add(sub)
        session.commit()
        return sub.id


def test_many_threads_racing_for_a_period_get_one_row(engine):
    sub_id = a_subscription(engine)
    won, barrier = [], threading.Barrier(12)

    def race(n):
        barrier.wait()
        row = ledger.claim_new(engine, subscription_id=sub_id, period="2026-03-10", due_at=NOW,
                               owner=f"w{n}", now=NOW)  # fmt: skip
        if row is not None:
            won.append(row.owner)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    assert ledger.get(engine, subscription_id=sub_id, period="2026-03-10").owner == won[0]


def test_a_retry_is_taken_over_by_exactly_one_worker(engine):
    sub_id = a_subscription(engine)
    row = ledger.claim_new(engine, subscription_id=sub_id, period="p", due_at=NOW, owner="A",
                           now=NOW)  # fmt: skip
    assert ledger.sending(engine, row, now=NOW)
    assert ledger.failed(engine, row, now=NOW, error="421 busy", transient=True) == "retrying"
    stale = ledger.get(engine, subscription_id=sub_id, period="p")
    assert stale.next_attempt_at == NOW + timedelta(minutes=1)
    early = ledger.take_over(engine, stale, owner="B", now=NOW)
    assert early is None  # not before its time
    later = NOW + timedelta(minutes=2)
    results = []
    barrier = threading.Barrier(6)

    def race(n):
        barrier.wait()
        results.append(ledger.take_over(engine, stale, owner=f"W{n}", now=later))

    threads = [threading.Thread(target=race, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(winners) == 1 and winners[0].status == "claimed" and winners[0].attempts == 1


def test_final_states_are_never_taken_over(engine):
    sub_id = a_subscription(engine)
    row = ledger.claim_new(engine, subscription_id=sub_id, period="p", due_at=NOW, owner="A",
                           now=NOW)  # fmt: skip
    assert ledger.sending(engine, row, now=NOW)
    ledger.sent(engine, row, now=NOW, message_id="<m@x>", note=None)
    done = ledger.get(engine, subscription_id=sub_id, period="p")
    assert (done.status, done.message_id) == ("sent", "<m@x>")
    assert ledger.take_over(engine, done, owner="B", now=NOW + timedelta(days=1)) is None
    assert ledger_rows.open_rows(engine, [sub_id]) == []


def test_a_live_lease_is_kept_and_an_expired_one_is_taken(engine):
    sub_id = a_subscription(engine)
    row = ledger.claim_new(engine, subscription_id=sub_id, period="p", due_at=NOW, owner="A",
                           now=NOW)  # fmt: skip
    assert ledger.take_over(engine, row, owner="B", now=NOW) is None
    assert ledger.renew(engine, row, until=NOW + timedelta(minutes=15))
    assert ledger.take_over(engine, row, owner="B", now=NOW + ledger.LEASE) is None  # renewed
    expired = NOW + timedelta(minutes=15)
    taken = ledger.take_over(engine, row, owner="B", now=expired)
    assert taken is not None and taken.owner == "B"
    assert ledger.sending(engine, row, now=NOW) is False  # A's stale handle can no longer send
