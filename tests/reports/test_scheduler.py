from __future__ import annotations

import socket
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.ingest import sources
from reports.ingest.due import LATE_LIMIT
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import Snapshotter
from store import quota, repository, runs
from store.crypto import TokenCipher, generate_key
from store.models import DayGap, MetricRow, QuotaCall, RunLog, Snapshot, SnapshotClaim, Source
from tests.fakes.loopback import http_client

CREATED = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
MIDNIGHT_9 = datetime(2026, 3, 9, tzinfo=UTC)  # the snapshot of 2026-03-08 is due
GROUPS = {"overall", "pages", "devices", "channels", "sources"}


class RecordingNotifier:
    def __init__(self):
        self.disabled, self.lost = [], []

    def source_disabled(self, source_id, label, reason):
        self.disabled.append((source_id, reason))

    def day_lost(self, source_id, label, day, groups, reason):
        self.lost.append((source_id, day, groups, reason))


@pytest.fixture
def sandbox():
    with ClaritySandbox() as box:
        yield box


@pytest.fixture
def cipher():
    return TokenCipher(generate_key())


@pytest.fixture
def http():
    with http_client(timeout=60) as client:
        yield client


def make_source(engine, cipher, sandbox, tz="UTC", created=CREATED, project="shop"):
    with Session(engine) as session:
        workspace = repository.default_workspace(session=session)
        workspace.timezone = tz
        session.add(workspace)
        session.commit()
    token = sandbox.issue_token(project)
    return sources.add_source(engine, cipher=cipher, label="Shop", raw_token=token, now=created)


def make_scheduler(engine, cipher, sandbox, http, owner="host-a:1:x", notifier=None):
    client = ClarityClient(http=http, base_url=sandbox.url)
    snap = Snapshotter(engine=engine, client=client, cipher=cipher, owner=owner)
    return Scheduler(
        engine=engine,
        snapshotter=snap,
        policy=quota.QuotaPolicy(),
        owner=owner,
        notifier=notifier or RecordingNotifier(),
    )


def tick(scheduler, sandbox, now):
    sandbox.set_now(now)
    return scheduler.tick(now)


def stored(engine, source_id):
    with Session(engine) as session:
        rows = session.exec(select(Snapshot).where(Snapshot.source_id == source_id)).all()
    return {(s.local_date, s.fetch_group): s for s in rows}


def test_nothing_before_midnight_then_yesterday_once(engine, cipher, sandbox, http):
    sid = make_source(engine, cipher, sandbox)
    sched = make_scheduler(engine, cipher, sandbox, http)
    assert tick(sched, sandbox, MIDNIGHT_9 - timedelta(minutes=1)).calls == 0
    report = tick(sched, sandbox, MIDNIGHT_9 + timedelta(minutes=5))
    assert report.calls == 5 and [r.local_date for r in report.results] == [date(2026, 3, 8)]
    for minutes in (6, 30, 600):
        assert tick(sched, sandbox, MIDNIGHT_9 + timedelta(minutes=minutes)).calls == 0
    assert set(stored(engine, sid)) == {(date(2026, 3, 8), g) for g in GROUPS}
    assert len(sandbox.calls) == 5
    with Session(engine) as session:
        assert session.get(Source, sid).complete_through == date(2026, 3, 8)
        assert session.exec(select(SnapshotClaim)).all() == []  # released


def test_no_day_before_the_source_existed_is_taken_or_rebuilt(engine, cipher, sandbox, http):
    sid = make_source(engine, cipher, sandbox)  # created 2026-03-08 15:00 UTC
    sched = make_scheduler(engine, cipher, sandbox, http)
    report = tick(sched, sandbox, MIDNIGHT_9 + timedelta(days=1, minutes=5))
    days = {d for d, _ in stored(engine, sid)}
    # 03-09 on time; 03-08 (missed) has its totals rebuilt; 03-07 was before the source.
    assert days == {date(2026, 3, 8), date(2026, 3, 9)}
    assert [x.day for x in report.results[0].recovered] == [date(2026, 3, 8)]
    assert len(sandbox.calls) == 6


def test_two_schedulers_ticking_at_once_call_each_group_once(engine, cipher, sandbox, http):
    make_source(engine, cipher, sandbox)
    make_source(engine, cipher, sandbox, project="blog")
    a = make_scheduler(engine, cipher, sandbox, http, owner="host-a:1:a")
    b = make_scheduler(engine, cipher, sandbox, http, owner="host-b:2:b")
    now = MIDNIGHT_9 + timedelta(minutes=5)
    sandbox.set_now(now)
    threads = [threading.Thread(target=s.tick, args=(now,)) for s in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(sandbox.calls) == 10
    assert len(sandbox.calls_for("shop")) == 5 and len(sandbox.calls_for("blog")) == 5


def test_a_claim_is_taken_over_when_its_lease_expires_never_for_its_pid(
    engine, cipher, sandbox, http
):
    sid = make_source(engine, cipher, sandbox)
    now = MIDNIGHT_9 + timedelta(minutes=5)
    runs.claim(engine, source_id=sid, local_date=date(2026, 3, 8), owner="host-z:9:live",
               now=now, timeout=timedelta(minutes=5))  # fmt: skip
    sched = make_scheduler(engine, cipher, sandbox, http)
    assert tick(sched, sandbox, now).calls == 0  # someone alive is working on it
    assert tick(sched, sandbox, now + timedelta(minutes=11)).calls == 5  # expired: taken over
    sid2 = make_source(engine, cipher, sandbox, project="blog")
    with Session(engine) as session:
        session.add(
            QuotaCall(
                project_key=session.get(Source, sid2).project_key,
                utc_day=now.date(),
                slot=1,
                source_id=sid2,
                fetch_group="overall",
                purpose="scheduled",
                reserved_at=now,
                owner=f"{socket.gethostname()}:999999999:dead",
            )
        )
        session.commit()  # fmt: skip
    dead = f"{socket.gethostname()}:999999999:dead"  # a PID no process has: still, the lease
    runs.claim(engine, source_id=sid2, local_date=date(2026, 3, 8), owner=dead,
               now=now, timeout=timedelta(hours=1))  # fmt: skip
    assert tick(sched, sandbox, now + timedelta(minutes=12)).calls == 0  # its lease still runs
    assert tick(sched, sandbox, now + timedelta(minutes=61)).calls == 5  # expired: taken over
    with Session(engine) as session:
        abandoned = session.exec(select(QuotaCall).where(QuotaCall.owner.contains(":dead"))).one()
    assert abandoned.outcome == "abandoned"


def test_our_own_claim_left_by_an_outage_is_retaken_when_its_lease_expires(
    engine, cipher, sandbox, http
):
    sid = make_source(engine, cipher, sandbox)
    now = MIDNIGHT_9 + timedelta(minutes=5)
    sched = make_scheduler(engine, cipher, sandbox, http)
    # The database went away before the run could release its claim: the claim is still ours.
    runs.claim(
        engine,
        source_id=sid,
        local_date=date(2026, 3, 8),
        owner=sched.owner,
        now=now,
        timeout=timedelta(minutes=10),
    )
    assert tick(sched, sandbox, now + timedelta(minutes=9)).calls == 0  # our lease still runs
    assert tick(sched, sandbox, now + timedelta(minutes=10)).calls == 5  # expired: retaken


def test_a_rejected_token_disables_the_source_tells_the_owner_and_stops_calls(
    engine, cipher, sandbox, http
):
    sid = make_source(engine, cipher, sandbox)
    notifier = RecordingNotifier()
    sched = make_scheduler(engine, cipher, sandbox, http, notifier=notifier)
    sandbox.revoke("shop")
    report = tick(sched, sandbox, MIDNIGHT_9 + timedelta(minutes=5))
    assert report.calls == 1 and notifier.disabled and "401" in notifier.disabled[0][1]
    for hours in (1, 5, 30):
        assert tick(sched, sandbox, MIDNIGHT_9 + timedelta(hours=hours)).calls == 0
    with Session(engine) as session:
        source = session.get(Source, sid)
    assert (source.enabled, source.status) == (False, "token_rejected")


def test_a_429_waits_for_the_utc_reset_and_the_day_is_still_taken(engine, cipher, sandbox, http):
    # Tokyo's midnight is 15:00 UTC, so the UTC reset comes 9 h later, inside the late limit.
    sid = make_source(engine, cipher, sandbox, tz="Asia/Tokyo")
    sched = make_scheduler(engine, cipher, sandbox, http)
    due = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)  # the snapshot of 2026-03-09 (Tokyo)
    sandbox.fail_next(429)
    assert tick(sched, sandbox, due + timedelta(minutes=3)).calls == 1
    for minutes in (10, 120, 500):
        assert tick(sched, sandbox, due + timedelta(minutes=minutes)).calls == 0
    with Session(engine) as session:
        assert session.get(Source, sid).status == "quota_exhausted"
        (entry,) = session.exec(select(RunLog).where(RunLog.source_id == sid)).all()
    assert entry.outcome == "quota_exhausted" and "00:00 UTC" in entry.error
    after_reset = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)
    report = tick(sched, sandbox, after_reset)
    assert report.calls == 5 and report.results[0].complete
    day = stored(engine, sid)
    assert all(day[(date(2026, 3, 9), g)].late for g in GROUPS)
    assert day[(date(2026, 3, 9), "overall")].window_end == after_reset


def test_server_errors_are_retried_with_backoff_and_logged(engine, cipher, sandbox, http):
    sid = make_source(engine, cipher, sandbox)
    sched = make_scheduler(engine, cipher, sandbox, http)
    sandbox.fail_next(500)
    first = MIDNIGHT_9 + timedelta(minutes=3)
    assert tick(sched, sandbox, first).calls == 1
    assert tick(sched, sandbox, first + timedelta(minutes=4)).calls == 0  # backing off (5 min)
    assert tick(sched, sandbox, first + timedelta(minutes=5)).calls == 5
    with Session(engine) as session:
        log = session.exec(select(RunLog).where(RunLog.source_id == sid).order_by(RunLog.id)).all()
    assert [(r.fetch_group, r.outcome) for r in log][:2] == [
        ("overall", "failed"),
        ("overall", "stored"),
    ]
    assert "server error" in log[0].error and log[0].calls == 1


def test_a_missed_day_is_rebuilt_exactly_by_subtraction_and_marked_estimated(
    engine, cipher, sandbox, http
):
    sid = make_source(engine, cipher, sandbox)
    notifier = RecordingNotifier()
    sched = make_scheduler(engine, cipher, sandbox, http, notifier=notifier)
    tick(sched, sandbox, MIDNIGHT_9 + timedelta(minutes=5))  # 03-08 on time
    # The worker is down from then until just after midnight of 03-11: 03-09 is missed.
    now = MIDNIGHT_9 + timedelta(days=2, minutes=5)
    report = tick(sched, sandbox, now)
    assert [r.local_date for r in report.results] == [date(2026, 3, 10)]
    (rebuilt,) = report.results[0].recovered
    assert (rebuilt.day, rebuilt.status) == (date(2026, 3, 9), "recovered")
    snaps = stored(engine, sid)
    estimate = snaps[(date(2026, 3, 9), "overall")]
    assert estimate.estimated and not snaps[(date(2026, 3, 10), "overall")].estimated
    assert (estimate.window_start, estimate.window_end) == (now - timedelta(hours=48),
                                                             now - timedelta(hours=24))  # fmt: skip
    with Session(engine) as session:
        row = session.exec(select(MetricRow).where(MetricRow.snapshot_id == estimate.id)).one()
    # The sandbox's own 24 h answer for that window is the truth the estimate must equal.
    sandbox.set_now(now - timedelta(hours=24))
    auth = {"Authorization": f"Bearer {sandbox.issue_token('shop')}"}
    url = sandbox.url + "/project-live-insights"
    truth = http.get(url, params={"numOfDays": "1"}, headers=auth).json()
    traffic = next(b for b in truth if b["metricName"] == "Traffic")["information"][0]
    rage = next(b for b in truth if b["metricName"] == "RageClickCount")["information"][0]
    assert row.sessions == int(traffic["totalSessionCount"]) > 0
    assert row.bot_sessions == int(traffic["totalBotSessionCount"])
    assert row.rage_clicks == int(rage["subTotal"]) and row.rage_clicks_pages == int(
        rage["pagesViews"]
    )
    assert (row.distinct_users, row.scroll_depth, row.pages_per_session) == (None, None, None)
    assert row.rage_clicks_sessions_pct is None
    # The breakdowns of 03-09 cannot be rebuilt: recorded as gaps, with the reason, and told.
    with Session(engine) as session:
        gaps = session.exec(select(DayGap).where(DayGap.local_date == date(2026, 3, 9))).all()
    assert {g.fetch_group for g in gaps} == GROUPS - {"overall"}
    assert notifier.lost and notifier.lost[0][1] == date(2026, 3, 9)
    with Session(engine) as session:
        assert session.get(Source, sid).complete_through == date(2026, 3, 10)


def test_a_long_outage_leaves_gaps_with_reasons_never_silence(engine, cipher, sandbox, http):
    sid = make_source(engine, cipher, sandbox)
    sched = make_scheduler(engine, cipher, sandbox, http)
    tick(sched, sandbox, MIDNIGHT_9 + timedelta(minutes=5))
    back = MIDNIGHT_9 + timedelta(days=6, hours=3)  # down for almost a week
    report = tick(sched, sandbox, back)
    lost = {day: set(groups) for _, day, groups, _ in report.lost}
    assert {d: lost[d] for d in lost if d.day < 13} == {
        date(2026, 3, d): GROUPS for d in (9, 10, 11, 12)
    }
    assert all("no run happened" in why for *_, why in report.lost)
    snaps = stored(engine, sid)
    assert {d for d, _ in snaps} == {date(2026, 3, 8), date(2026, 3, 14)}
    assert all(snaps[(date(2026, 3, 14), g)].late for g in GROUPS)  # 3 h after midnight
    # 03-13 could still be rebuilt tomorrow night (its totals), so it is not a gap yet
    with Session(engine) as session:
        open_13 = session.exec(select(DayGap).where(DayGap.local_date == date(2026, 3, 13))).all()
    assert {g.fetch_group for g in open_13} == GROUPS - {"overall"}


def test_the_late_limit_is_where_a_day_stops_being_taken_directly(engine, cipher, sandbox, http):
    sid = make_source(engine, cipher, sandbox)
    sched = make_scheduler(engine, cipher, sandbox, http)
    tick(sched, sandbox, MIDNIGHT_9 + LATE_LIMIT)
    assert stored(engine, sid)[(date(2026, 3, 8), "overall")].late


def test_gap_reasons_say_what_really_happened(engine, cipher, sandbox, http):
    shop = make_source(engine, cipher, sandbox)
    blog = make_source(engine, cipher, sandbox, project="blog")
    sched = make_scheduler(engine, cipher, sandbox, http)
    sandbox.fail_next(429, times=1)  # the first call of the night, shop's: Clarity's limit
    runs.claim(
        engine,
        source_id=blog,
        local_date=date(2026, 3, 8),
        owner="host-h:1:hung",
        now=MIDNIGHT_9,
        timeout=timedelta(days=3),
    )
    tick(sched, sandbox, MIDNIGHT_9 + timedelta(minutes=5))
    report = tick(sched, sandbox, MIDNIGHT_9 + LATE_LIMIT + timedelta(minutes=1))
    reasons = {source: why for source, _, _, why in report.lost}
    assert reasons[shop].startswith("Clarity's daily limit (429) was reached"), reasons
    assert reasons[blog].startswith("a claim on it was never released"), reasons
    with Session(engine) as session:
        gaps = {(g.source_id, g.reason) for g in session.exec(select(DayGap))}
    assert {source for source, _ in gaps} == {shop, blog}
    assert all("no run happened" not in why for _, why in gaps)
