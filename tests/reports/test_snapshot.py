from __future__ import annotations

import gzip
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from reports.clarity.client import ClarityClient
from reports.errors import ClaritybotError
from reports.ingest import sources
from reports.ingest.snapshot import Snapshotter
from store import quota, repository
from store.crypto import TokenCipher, generate_key
from store.models import MetricRow, QuotaCall, RankedRow, RawResponse, Snapshot, Source
from tests.fakes.clarity import FakeClarity
from tests.fakes.tokens import TOKEN

NOW = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)  # 5 minutes after midnight UTC
GROUPS = ["overall", "pages", "devices", "channels", "sources"]


@pytest.fixture
def cipher():
    return TokenCipher(generate_key())


@pytest.fixture
def fake():
    return FakeClarity(TOKEN)


@pytest.fixture
def source_id(engine, cipher):
    return sources.add_source(engine, cipher=cipher, label="Shop", raw_token=TOKEN, now=NOW)


@pytest.fixture
def snapshotter(engine, cipher, fake):
    with httpx.Client(transport=httpx.MockTransport(fake)) as http:
        client = ClarityClient(http=http, base_url="https://clarity.test/api")
        yield Snapshotter(engine=engine, client=client, cipher=cipher)


def count(engine, model, **where):
    with Session(engine) as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.exec(query).one()


def set_timezone(engine, name):
    with Session(engine) as session:
        workspace = repository.default_workspace(session=session)
        workspace.timezone = name
        session.add(workspace)
        session.commit()


def test_yesterday_is_taken_in_one_call_per_group_with_its_true_window(
    engine, snapshotter, fake, source_id
):
    result = snapshotter.take_yesterday(source_id, now=NOW)
    assert result.local_date == date(2026, 3, 9)
    assert [o.status for o in result.outcomes] == ["stored"] * 5
    assert result.calls_spent == 5 == len(fake.requests)
    with Session(engine) as session:
        snaps = session.exec(select(Snapshot).order_by(Snapshot.id)).all()
    assert [s.fetch_group for s in snaps] == GROUPS
    assert all(s.window_end == NOW and s.window_start == NOW - timedelta(hours=24) for s in snaps)
    assert all(s.due_at == datetime(2026, 3, 10, tzinfo=UTC) and not s.late for s in snaps)
    assert snaps[1].dimensions == ["url"] and snaps[0].dimensions == []
    overall = count(engine, MetricRow, fetch_group="overall")
    assert overall == 1 and count(engine, RankedRow) == 10 + 3 + 6 + 10 + 10 + 10 + 10
    assert count(engine, MetricRow, fetch_group="devices") == 4  # incl. the bots-only "Other"
    assert count(engine, QuotaCall, outcome="ok") == 5


def test_taking_it_again_spends_no_call_and_stores_nothing_twice(
    engine, snapshotter, fake, source_id
):
    snapshotter.take_yesterday(source_id, now=NOW)
    rows = count(engine, MetricRow)
    again = snapshotter.take_yesterday(source_id, now=NOW + timedelta(hours=3))
    assert [o.status for o in again.outcomes] == ["already_stored"] * 5
    assert again.calls_spent == 0 and len(fake.requests) == 5
    assert count(engine, MetricRow) == rows


def test_a_failure_keeps_what_was_stored_and_the_next_run_takes_only_the_rest(
    engine, snapshotter, fake, source_id
):
    fake.fail_on(2, 500)
    first = snapshotter.take_yesterday(source_id, now=NOW)
    assert [o.status for o in first.outcomes] == ["stored", "failed", *["not_attempted"] * 3]
    assert "server error (500)" in first.outcomes[1].message
    assert count(engine, MetricRow, fetch_group="overall") == 1
    with Session(engine) as session:
        assert session.get(Source, source_id).status == "failing"
    second = snapshotter.take_yesterday(source_id, now=NOW + timedelta(minutes=30))
    assert [o.status for o in second.outcomes] == ["already_stored"] + ["stored"] * 4
    assert second.calls_spent == 4 and len(fake.requests) == 6
    assert count(engine, MetricRow, fetch_group="overall") == 1
    with Session(engine) as session:
        assert session.get(Source, source_id).status == "connected"


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_token_disables_the_source_until_it_is_replaced(
    engine, snapshotter, fake, source_id, cipher, status
):
    fake.fail_next(status)
    result = snapshotter.take_yesterday(source_id, now=NOW)
    assert [o.status for o in result.outcomes] == ["failed"] + ["not_attempted"] * 4
    with Session(engine) as session:
        source = session.get(Source, source_id)
        assert (source.enabled, source.status) == (False, "token_rejected")
    with pytest.raises(ClaritybotError, match="set-token"):
        snapshotter.take_yesterday(source_id, now=NOW)
    assert len(fake.requests) == 1
    sources.set_token(engine, cipher=cipher, source_id=source_id, raw_token=TOKEN, now=NOW)
    assert snapshotter.take_yesterday(source_id, now=NOW).complete


def test_a_429_stops_the_day_and_nothing_is_retried_before_the_utc_reset(
    engine, snapshotter, fake, source_id
):
    fake.fail_next(429)
    first = snapshotter.take_yesterday(source_id, now=NOW)
    assert first.outcomes[0].error_kind == "quota_exceeded"
    later = snapshotter.take_yesterday(source_id, now=NOW + timedelta(hours=5))
    assert later.outcomes[0].status == "refused" and "429" in later.outcomes[0].message
    assert len(fake.requests) == 1
    with Session(engine) as session:
        assert session.get(Source, source_id).status == "quota_exhausted"
    next_day = snapshotter.take_yesterday(source_id, now=NOW + timedelta(days=1))
    assert next_day.complete and next_day.local_date == date(2026, 3, 10)


def test_the_ledger_cap_refuses_calls_without_sending_them(engine, cipher, fake, source_id):
    with httpx.Client(transport=httpx.MockTransport(fake)) as http:
        client = ClarityClient(http=http, base_url="https://clarity.test/api")
        snap = Snapshotter(engine=engine, client=client, cipher=cipher,
                           policy=quota.QuotaPolicy(daily_cap=4, manual_reserve=1))  # fmt: skip
        result = snap.take_yesterday(source_id, now=NOW)
    assert [o.status for o in result.outcomes] == ["stored"] * 3 + ["refused", "not_attempted"]
    assert "3 of 4 calls are used" in result.outcomes[3].message
    assert len(fake.requests) == 3


def test_a_late_run_is_marked_late_and_keeps_its_real_window(engine, snapshotter, source_id):
    late_now = NOW + timedelta(hours=9)
    snapshotter.take_yesterday(source_id, now=late_now)
    with Session(engine) as session:
        snap = session.exec(select(Snapshot)).first()
    assert snap.late and snap.local_date == date(2026, 3, 9)
    assert (snap.window_start, snap.window_end) == (late_now - timedelta(hours=24), late_now)


@pytest.mark.parametrize(
    ("zone", "now", "day", "due"),
    [
        # New York's first EDT day: midnight is 04:00 UTC, not 05:00.
        ("America/New_York", "2026-03-09T04:05Z", "2026-03-08", "2026-03-09T04:00Z"),
        ("America/New_York", "2026-03-09T03:59Z", "2026-03-07", "2026-03-08T05:00Z"),
        ("Europe/London", "2026-10-26T00:05Z", "2026-10-25", "2026-10-26T00:00Z"),
        ("Asia/Kathmandu", "2026-01-01T18:20Z", "2026-01-01", "2026-01-01T18:15Z"),
        # Santiago skips 00:00 on 2026-09-06: the day starts at 01:00 local (04:00 UTC).
        ("America/Santiago", "2026-09-06T04:10Z", "2026-09-05", "2026-09-06T04:00Z"),
    ],
)
def test_yesterday_and_its_due_time_follow_the_workspace_timezone(
    engine, snapshotter, source_id, zone, now, day, due
):
    set_timezone(engine, zone)
    result = snapshotter.take_yesterday(source_id, now=datetime.fromisoformat(now))
    assert result.local_date == date.fromisoformat(day)
    assert result.due_at == datetime.fromisoformat(due)


def test_naive_now_is_refused(snapshotter, source_id):
    with pytest.raises(ValueError, match="aware"):
        snapshotter.take_yesterday(source_id, now=datetime(2026, 3, 10))


def test_the_token_is_never_stored_in_clear_anywhere(engine, snapshotter, fake, source_id):
    fake.fail_next(401, f"echo {TOKEN}".encode())  # even a body echoing it
    snapshotter.take_yesterday(source_id, now=NOW)
    with Session(engine) as session:
        raws = session.exec(select(RawResponse)).all()
        dump = " ".join(
            str(value)
            for model in (Source, QuotaCall, Snapshot)
            for row in session.exec(select(model)).all()
            for value in row.model_dump().values()
        )
    assert TOKEN not in dump
    assert raws and all(TOKEN.encode() not in gzip.decompress(r.body_gz) for r in raws)


def test_raw_bodies_are_kept_per_call_for_reparsing(engine, snapshotter, fake, source_id):
    snapshotter.take_yesterday(source_id, now=NOW)
    with Session(engine) as session:
        raws = session.exec(select(RawResponse).order_by(RawResponse.id)).all()
    assert [r.fetch_group for r in raws] == GROUPS
    assert raws[2].params == {"numOfDays": "1", "dimension1": "Device"}
    assert gzip.decompress(raws[0].body_gz) == fake_body_of(fake, 0)


def fake_body_of(fake, index):
    return FakeClarity(TOKEN)(fake.requests[index]).content
