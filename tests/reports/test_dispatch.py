"""Scheduled delivery on demo history: sent once, waits for data, retries, gives up, resumes."""

from __future__ import annotations

import email
import socket
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from reports.delivery.dispatch import Dispatcher
from reports.delivery.outbox import OutboxSender
from reports.delivery.readiness import GRACE
from reports.delivery.subscriptions import NewSubscription, subscribe, unsubscribe
from reports.errors import DeliveryError
from reports.render.charts import ChartMaker
from store import ledger, ledger_rows
from store.db import make_engine
from store.models import Delivery

NOW = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)  # 10:00 in London: the 09:00 report is due
CREATED = NOW.replace(hour=8)  # subscriptions start just before today's report


@pytest.fixture
def history(demo_history):
    return demo_history


@pytest.fixture
def engine(history, tmp_path):
    # Each test gets its own copy of the demo database: the ledger starts empty.
    copy = tmp_path / "copy.db"
    copy.write_bytes(history.db_path.read_bytes())
    engine = make_engine(f"sqlite:///{copy}")
    with engine.begin() as conn:  # the demo's own digest subscription is not these tests' business
        conn.exec_driver_sql("DELETE FROM delivery")
        conn.exec_driver_sql("DELETE FROM subscription")
    yield engine
    engine.dispose()


class Recorder:
    """A destination that records what it was asked to send, or fails as told."""

    def __init__(self, failures=()):
        self.sent, self.failures = [], list(failures)

    def deliver(self, report, sub, now, unsubscribe_url):
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((sub.id, report.period, report))
        return f"msg-{len(self.sent)}"

    def check(self, sub, period):
        return None  # cannot tell, like Slack and email


class Notes:
    def __init__(self):
        self.failed = []

    def delivery_failed(self, *args):
        self.failed.append(args)


def dispatcher(engine, senders, owner="A", notes=None):
    return Dispatcher(engine=engine, senders=senders, owner=owner, charts=ChartMaker(),
                      notifier=notes or Notes())  # fmt: skip


def add(engine, history, kind="outbox", destination="", created=CREATED, **kw):
    metrics = kw.pop("metrics", ["sessions"])
    request = NewSubscription(source_id=history.source_id, metrics=metrics, kind=kind,
                              destination=destination, created_by="U9", **kw)  # fmt: skip
    return subscribe(engine, request, workspace_id=None, now=created)


def rows(engine):
    with Session(engine) as session:
        return list(session.exec(select(Delivery)).all())


def test_a_due_report_goes_to_the_outbox_once(engine, history, tmp_path):
    sub = add(engine, history, destination=str(tmp_path / "out"), metrics=["digest", "sessions"])
    first = dispatcher(engine, {"outbox": OutboxSender()}).tick(NOW)
    assert first == {"sent": 1}
    (row,) = rows(engine)
    assert (row.period, row.status, row.attempts) == ("2026-03-20", "sent", 1)
    eml = tmp_path / "out" / f"report-{sub.id}-2026-03-20.eml"
    assert row.message_id == str(eml)
    msg = email.message_from_bytes(eml.read_bytes())
    assert "Daily report" in msg["Subject"] and msg["Message-ID"].startswith("<claritybot.s")
    pngs = sorted(p.name for p in eml.parent.glob("*.png"))
    assert pngs == [f"report-{sub.id}-2026-03-20-1-digest.png",
                    f"report-{sub.id}-2026-03-20-2-sessions.png"]  # fmt: skip
    assert dispatcher(engine, {"outbox": OutboxSender()}).tick(NOW + timedelta(hours=1)) == {}


def test_nothing_before_the_send_time_and_no_replay_of_history(engine, history):
    recorder = Recorder()
    add(engine, history, kind="email", destination="a@example.com", created=NOW.replace(hour=8))
    assert dispatcher(engine, {"email": recorder}).tick(NOW.replace(hour=8, minute=59)) == {}
    assert dispatcher(engine, {"email": recorder}).tick(NOW) == {"sent": 1}
    assert [p for _, p, _ in recorder.sent] == ["2026-03-20"]  # not the three days before


def test_periods_missed_while_no_worker_ran_are_recorded_not_replayed(engine, history):
    recorder = Recorder()
    add(engine, history, kind="email", destination="a@example.com", created=NOW - timedelta(days=3))
    assert dispatcher(engine, {"email": recorder}).tick(NOW) == {"sent": 1}
    found = {r.period: (r.status, r.note or "") for r in rows(engine)}
    assert [p for _, p, _ in recorder.sent] == ["2026-03-20"]
    assert sorted(found) == ["2026-03-18", "2026-03-19", "2026-03-20"]
    assert found["2026-03-18"][0] == found["2026-03-19"][0] == "skipped"
    assert found["2026-03-19"][1].startswith("missed: no worker ran between 2026-03-19 09:00 UTC")


def test_concurrent_dispatchers_send_each_period_once(engine, history):
    recorder = Recorder()
    for n in range(3):
        add(engine, history, kind="email", destination=f"u{n}@example.com")
    workers = [dispatcher(engine, {"email": recorder}, owner=f"W{n}") for n in range(4)]
    threads = [threading.Thread(target=w.tick, args=(NOW,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s for s, _, _ in recorder.sent) == sorted(r.subscription_id for r in rows(engine))
    assert len(recorder.sent) == 3 and all(r.status == "sent" for r in rows(engine))


def test_transient_failures_are_retried_with_backoff_then_given_up(engine, history):
    notes = Notes()
    flaky = Recorder([DeliveryError("connection refused", transient=True)] * 5)
    add(engine, history, kind="email", destination="a@example.com")
    d = dispatcher(engine, {"email": flaky}, notes=notes)
    assert d.tick(NOW) == {"retrying": 1}
    (row,) = rows(engine)
    assert row.next_attempt_at == NOW + timedelta(minutes=1) and row.attempts == 1
    assert d.tick(NOW + timedelta(seconds=30)) == {}  # not yet
    moment = NOW
    for wait in (1, 5, 15):
        moment += timedelta(minutes=wait)
        assert d.tick(moment) == {"retrying": 1}
    assert d.tick(moment + timedelta(minutes=60)) == {"failed": 1}
    (row,) = rows(engine)
    assert (row.status, row.attempts, row.error) == ("failed", 5, "connection refused")
    assert notes.failed and notes.failed[0][-1] == "U9" and flaky.sent == []


def test_a_permanent_failure_stops_at_once_and_tells_the_owner(engine, history):
    notes = Notes()
    add(engine, history, kind="email", destination="gone@example.com")
    bounce = Recorder(
        [DeliveryError("The mail server refused the recipient (550).", transient=False)]
    )
    assert dispatcher(engine, {"email": bounce}, notes=notes).tick(NOW) == {"failed": 1}
    (args,) = notes.failed
    assert "550" in args[5] and args[4] == "gone@example.com"


def test_a_destination_without_settings_is_a_recorded_failure(engine, history):
    add(engine, history, kind="slack", destination="C0123")
    assert dispatcher(engine, {}).tick(NOW) == {"failed": 1}
    assert "SLACK_BOT_TOKEN" in rows(engine)[0].error


def test_a_report_waits_for_its_day_then_goes_with_a_note(engine, history):
    recorder = Recorder()
    add(engine, history, kind="email", destination="a@example.com")
    later = NOW + timedelta(days=1)  # 2026-03-21: the demo never stored 2026-03-20
    d = dispatcher(engine, {"email": recorder})
    assert d.tick(later) == {"waiting": 1}
    assert d.tick(later.replace(hour=9) + GRACE - timedelta(minutes=1)) == {"waiting": 1}
    assert d.tick(later.replace(hour=9) + GRACE) == {"sent": 1}
    (_, period, report) = recorder.sent[0]
    assert period == "2026-03-21" and "is not in yet" in report.notes[0]
    assert "is not in yet" in rows(engine)[-1].note


def test_skip_when_empty_records_a_skip(engine, history):
    recorder = Recorder()
    add(engine, history, kind="email", destination="a@example.com", skip_when_empty=True,
        frequency="monthly", month_day=1)  # fmt: skip
    much_later = datetime(2026, 9, 1, 12, tzinfo=UTC)  # months after the last stored day
    assert dispatcher(engine, {"email": recorder}).tick(much_later) == {"skipped": 1}
    assert recorder.sent == [] and rows(engine)[-1].note == "no data (skip-when-empty)"


def test_an_unsubscribed_report_is_not_sent(engine, history):
    sub = add(engine, history, kind="email", destination="a@example.com")
    unsubscribe(engine, sub.id, workspace_id=None, now=NOW)
    assert dispatcher(engine, {"email": Recorder()}).tick(NOW) == {}


def strand(engine, sub, status, owner="DEAD", at=NOW - ledger.LEASE - timedelta(seconds=1)):
    """Leave a row as a process killed mid-way would (by default its lease ran out at NOW)."""
    row = ledger.claim_new(engine, subscription_id=sub.id, period="2026-03-20",
                           due_at=NOW.replace(hour=9), owner=owner, now=at)  # fmt: skip
    if status == "sending":
        assert ledger.sending(engine, row, now=at)
    return row


def test_a_claim_is_left_alone_while_its_lease_runs_whatever_its_pid(engine, history):
    recorder = Recorder()
    sub = add(engine, history, kind="email", destination="a@example.com")
    # Same host, PID 1 (a restarted container's worker): only the lease counts.
    strand(engine, sub, "claimed", owner=f"{socket.gethostname()}:1:abc", at=NOW)
    d = dispatcher(engine, {"email": recorder}, owner="B")
    assert d.tick(NOW + ledger.LEASE - timedelta(seconds=1)) == {} and recorder.sent == []
    assert d.tick(NOW + ledger.LEASE) == {"sent": 1} and len(recorder.sent) == 1


def test_a_claim_left_by_a_dead_process_is_sent_by_the_next(engine, history):
    recorder = Recorder()
    sub = add(engine, history, kind="email", destination="a@example.com")
    strand(engine, sub, "claimed")
    d = dispatcher(engine, {"email": recorder}, owner="B")
    assert d.tick(NOW) == {"sent": 1} and len(recorder.sent) == 1


def test_a_send_cut_off_midway_is_never_repeated_blindly(engine, history):
    recorder = Recorder()
    sub = add(engine, history, kind="email", destination="a@example.com")
    strand(engine, sub, "sending")
    d = dispatcher(engine, {"email": recorder}, owner="B")
    assert d.tick(NOW) == {"unknown": 1} and recorder.sent == []
    assert "may or may not have arrived" in rows(engine)[0].error
    assert d.tick(NOW + timedelta(hours=1)) == {}


@pytest.mark.parametrize("written", [True, False])
def test_an_outbox_send_cut_off_midway_is_checked(engine, history, tmp_path, written):
    sub = add(engine, history, destination=str(tmp_path / "out"))
    strand(engine, sub, "sending")
    if written:
        (tmp_path / "out").mkdir()
        (tmp_path / "out" / f"report-{sub.id}-2026-03-20.eml").write_bytes(b"x")
    d = dispatcher(engine, {"outbox": OutboxSender()}, owner="B")
    result = d.tick(NOW)
    assert result == {"sent": 1}  # found in the folder, or provably missing and sent again
    (row,) = rows(engine)
    assert row.status == "sent"
    assert (row.note == "found complete after the sending process stopped") is written


def test_a_summary_is_written_when_asked_for(engine, history):
    from reports.render.ai import Summarizer, openai_client
    from reports.settings import AiSettings
    from tests.fakes.openai_api import FakeOpenAI

    recorder = Recorder()
    add(engine, history, kind="email", destination="a@example.com", summary=True,
        metrics=["rage_click_rate"])  # fmt: skip
    add(engine, history, kind="email", destination="b@example.com")  # no summary asked
    fake = FakeOpenAI(answer="Rage clicks eased on the week; checkout drives most of them.").start()
    try:
        d = dispatcher(engine, {"email": recorder})
        client = openai_client(AiSettings("sk-test", fake.url, "m", 5.0))
        d.summarizer = Summarizer(client, model="m")
        assert d.tick(NOW) == {"sent": 2}
    finally:
        fake.stop()
    asked, plain = (r for _, _, r in sorted(recorder.sent, key=lambda s: s[0]))
    assert (asked.summary, asked.summary_source) == (fake.answer, "ai")
    assert (plain.summary, plain.summary_source) == ("", "") and len(fake.requests) == 1
    sent = fake.requests[0]["json"]["messages"][1]["content"]
    assert "Rage clicks per 100 sessions" in sent and "eyJ" not in sent  # facts only, never a token


def test_a_sender_that_breaks_mid_send_is_not_repeated_and_others_go_on(engine, history):
    recorder = Recorder()
    add(engine, history, kind="slack", destination="C0BROKEN")
    add(engine, history, kind="email", destination="a@example.com")
    broken = Recorder([RuntimeError("bug")])
    d = dispatcher(engine, {"slack": broken, "email": recorder})
    assert d.tick(NOW) == {"unknown": 1, "sent": 1}
    assert d.tick(NOW + timedelta(hours=1)) == {}
    statuses = {r.status for r in rows(engine)}
    assert statuses == {"unknown", "sent"} and broken.sent == []


def test_an_outbox_write_failure_is_retried_and_leaves_no_temp_file(engine, history, tmp_path):
    out = tmp_path / "out"
    sub = add(engine, history, destination=str(out), metrics=["sessions"])
    out.mkdir()
    (out / f"report-{sub.id}-2026-03-20.eml").mkdir()  # the final rename fails, like a full disk
    d = dispatcher(engine, {"outbox": OutboxSender()})
    assert d.tick(NOW) == {"retrying": 1}
    assert not list(out.glob(".*.tmp"))  # the half-written temporary file was removed
    (out / f"report-{sub.id}-2026-03-20.eml").rmdir()  # space is back
    assert d.tick(NOW + timedelta(minutes=1)) == {"sent": 1}
    assert (out / f"report-{sub.id}-2026-03-20.eml").is_file()


def test_a_failed_report_stays_visible_and_can_be_sent_again_by_hand(engine, history):
    flaky = Recorder([DeliveryError("550 mailbox full", transient=False)])
    add(engine, history, kind="email", destination="a@example.com")
    d = dispatcher(engine, {"email": flaky})
    assert d.tick(NOW) == {"failed": 1}
    (row,) = rows(engine)
    assert row.status == "failed" and ledger_rows.open_rows(engine, [row.subscription_id]) == []
    assert ledger_rows.retry(engine, row.id or 0, now=NOW + timedelta(hours=2)) is not None
    assert ledger_rows.retry(engine, row.id or 0, now=NOW + timedelta(hours=2)) is None  # once
    assert d.tick(NOW + timedelta(hours=2)) == {"sent": 1} and len(flaky.sent) == 1
    (row,) = rows(engine)
    assert (row.status, row.attempts) == ("sent", 1)
