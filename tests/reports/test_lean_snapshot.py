"""A nightly snapshot stays lean: two short transactions per Clarity call, and still exactly once.

Before, a call cost ~7 commits and ~13 statements: the claim renewed, the slot reserved, closed,
the raw body kept, the rows stored and the attempt logged, each in a transaction of its own, and
the source read three times a day. Now the claim is renewed inside the reservation, and the slot's
close, the raw body, the rows and the run log share one transaction after the call.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import event, func, update
from sqlmodel import Session, select

from reports.clarity.client import ClarityClient
from reports.ingest import sources
from reports.ingest.calls import GuardedCaller, Request
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import LEASE_LOST, SOURCE_CHANGED, Snapshotter
from store import quota, runs
from store.crypto import TokenCipher, generate_key
from store.models import (
    MetricRow,
    QuotaCall,
    RawResponse,
    RunLog,
    Snapshot,
    SnapshotClaim,
    Source,
)
from tests.fakes.clarity import FakeClarity
from tests.fakes.tokens import TOKEN

CREATED = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)  # 2026-03-09 is due
CALLS = 5  # one per fetch group
BETWEEN_CALLS = 2  # commits from one answer to the next call: its record, the next reservation
STATEMENTS_BETWEEN_CALLS = 8  # close, raw, snapshot, rows, ranked, run log; renew, reserve


@pytest.fixture
def cipher():
    return TokenCipher(generate_key())


@pytest.fixture
def source_id(engine, cipher):
    return sources.add_source(engine, cipher=cipher, label="Shop", raw_token=TOKEN, now=CREATED)


class Recorder:
    """The order of Clarity calls, commits and SQL statements, as they happen."""

    def __init__(self, engine, fake):
        self.engine, self.fake, self.events = engine, fake, []

    def __call__(self, request):
        self.events.append("call")
        return self.fake(request)

    def __enter__(self):
        event.listen(self.engine, "commit", self._commit)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "commit", self._commit)
        event.remove(self.engine, "before_cursor_execute", self._statement)

    def _commit(self, _conn):
        self.events.append("commit")

    def _statement(self, _conn, _cursor, statement, *_args):
        self.events.append(statement.split(None, 1)[0].upper())

    def between_calls(self):
        """The events from each answer to the next call."""
        segments, current = [], None
        for item in self.events:
            if item == "call":
                if current is not None:
                    segments.append(current)
                current = []
            elif current is not None:
                current.append(item)
        return segments


def scheduler(engine, cipher, transport, owner="host-a:1:x"):
    http = httpx.Client(transport=httpx.MockTransport(transport))
    client = ClarityClient(http=http, base_url="https://clarity.test/api")
    snap = Snapshotter(engine=engine, client=client, cipher=cipher, owner=owner)
    policy = quota.QuotaPolicy()
    return Scheduler(engine=engine, snapshotter=snap, policy=policy, owner=owner, concurrency=1)


def count(engine, model, *where):
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def test_a_nightly_day_costs_two_short_transactions_per_call(engine, cipher, source_id):
    fake = FakeClarity(TOKEN)
    with Recorder(engine, fake) as recorder:
        report = scheduler(engine, cipher, recorder).tick(NOW)
    assert report.calls == CALLS == len(fake.requests) and report.results[0].complete
    gaps = recorder.between_calls()
    assert len(gaps) == CALLS - 1
    assert [gap.count("commit") for gap in gaps] == [BETWEEN_CALLS] * (CALLS - 1)
    assert all(len(gap) - BETWEEN_CALLS <= STATEMENTS_BETWEEN_CALLS for gap in gaps), gaps
    # The whole day, claim, health and watermark included: at most three commits a call.
    assert recorder.events.count("commit") <= 3 * CALLS
    assert count(engine, QuotaCall, QuotaCall.outcome == "ok") == CALLS
    assert count(engine, RawResponse) == count(engine, RunLog) == count(engine, Snapshot) == CALLS


def test_a_group_stored_meanwhile_by_another_run_is_kept_once_and_its_call_recorded(
    engine, cipher, source_id
):
    fake = FakeClarity(TOKEN)
    other_run = Snapshotter(
        engine=engine,
        client=ClarityClient(
            http=httpx.Client(transport=httpx.MockTransport(FakeClarity(TOKEN))),
            base_url="https://clarity.test/api",
        ),
        cipher=cipher,
    )

    def stored_by_another_run_first(request):
        # Between our check of what is stored and our call, another run stores the group.
        other_run.take_day(source_id, date(2026, 3, 9), now=NOW, groups=["pages"])
        return FakeClarity(TOKEN)(request)

    fake.scripted[2] = stored_by_another_run_first
    ours = scheduler(engine, cipher, fake).tick(NOW).results[0]
    outcomes = {o.group: (o.status, o.message) for o in ours.outcomes}
    assert outcomes["pages"] == ("already_stored", "stored meanwhile by another run")
    assert ours.complete and ours.calls_spent == CALLS
    assert count(engine, Snapshot, Snapshot.fetch_group == "pages") == 1
    rows = count(engine, MetricRow, MetricRow.fetch_group == "pages")
    assert rows == 2  # the synthetic URL body's two pages, once
    # Our call cost quota all the same: its slot is closed, its body kept, its attempt logged.
    assert count(engine, QuotaCall, QuotaCall.fetch_group == "pages") == 2
    assert count(engine, QuotaCall, QuotaCall.outcome.is_(None)) == 0
    assert count(engine, RawResponse, RawResponse.fetch_group == "pages") == 2
    assert count(engine, RunLog, RunLog.outcome == "already_stored") == 1


def test_when_storing_fails_the_slot_is_still_closed_and_the_body_kept(engine, source_id):
    fake = FakeClarity(TOKEN)
    http = httpx.Client(transport=httpx.MockTransport(fake))
    client = ClarityClient(http=http, base_url="https://clarity.test/api")
    caller = GuardedCaller(engine=engine, client=client, policy=quota.QuotaPolicy())
    with Session(engine) as session:
        source = session.get(Source, source_id)

    def keep(conn, result):
        day = date(2026, 3, 9)
        run = {"started_at": NOW, "finished_at": NOW, "outcome": "stored", "fetch_group": "x"}
        runs.add_run(conn, source_id=source_id, local_date=day, **run)
        raise RuntimeError("the disk is full")

    request = Request(source, client.prepare(TOKEN, 1, ()), "overall", "scheduled", NOW)
    with pytest.raises(RuntimeError, match="disk is full"):
        caller.call_keeping(request, keep=keep)
    assert len(fake.requests) == 1
    assert count(engine, QuotaCall, QuotaCall.outcome == "ok") == 1
    assert count(engine, RawResponse) == 1
    assert count(engine, RunLog) == 0  # what `keep` wrote went with it


def test_a_claim_taken_over_mid_day_stops_before_the_next_call_reserves(engine, cipher, source_id):
    fake = FakeClarity(TOKEN)

    def taken_over(request):
        # Our lease ran out while this call hung; another process took the day over.
        with engine.begin() as conn:
            conn.execute(update(SnapshotClaim).values(owner="host-b:2:y"))
        return FakeClarity(TOKEN)(request)

    fake.scripted[2] = taken_over
    result = scheduler(engine, cipher, fake).tick(NOW).results[0]
    statuses = [o.status for o in result.outcomes]
    assert statuses == ["stored", "stored", "not_attempted", "not_attempted", "not_attempted"]
    assert result.outcomes[2].message == LEASE_LOST
    assert len(fake.requests) == 2
    assert count(engine, QuotaCall) == 2  # no slot was reserved for a call not sent
    assert count(engine, SnapshotClaim, SnapshotClaim.owner == "host-b:2:y") == 1  # still theirs


def test_a_source_removed_mid_day_gets_no_more_calls_and_stays_removed(engine, cipher, source_id):
    fake = FakeClarity(TOKEN)

    def removed(request):
        # The tick loaded the source at its start; a user removes it while a call is out.
        sources.remove_source(engine, source_id=source_id, purge=False, now=NOW)
        return FakeClarity(TOKEN)(request)

    fake.scripted[2] = removed
    result = scheduler(engine, cipher, fake).tick(NOW).results[0]
    assert [o.status for o in result.outcomes][2:] == ["not_attempted"] * 3
    assert result.outcomes[2].message == SOURCE_CHANGED
    assert len(fake.requests) == 2 and count(engine, QuotaCall) == 2
    with Session(engine) as session:
        source = session.get(Source, source_id)
        # The run's "connected" was about the wiped token: it does not bring the source back.
        assert (source.status, source.enabled, source.token_encrypted) == ("removed", False, "")
