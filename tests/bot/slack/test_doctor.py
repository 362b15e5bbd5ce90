from __future__ import annotations

from datetime import UTC, date, datetime

from sqlmodel import Session, select

from bot.slack.doctor import source_checks
from bot.slack.status import SourceStatus
from store.models import Source
from store.quota import QuotaUsage
from tests.bot.slack.test_commands import connect


def doctor(slack, count, **kw):
    slack.command("doctor", **kw)
    reply = slack.responses(count)[-1]
    return reply["text"], "\n".join(b["text"]["text"] for b in reply["blocks"])


def test_doctor_on_a_healthy_workspace(slack):
    connect(slack)
    head, report = doctor(slack, 2)
    assert head.startswith("All good"), report
    assert (
        "✅ *Slack token*: accepted." in report and "✅ *Slack permissions*: all granted." in report
    )
    assert "✅ *Channel <#C1>*: I'm a member" in report
    assert "✅ *Shop quota*: 5 of 10 Clarity calls used today" in report
    assert "✅ *Shop next snapshot*: " in report and "UTC" in report
    assert len(slack.sandbox.calls) == 5  # the doctor spends no Clarity quota


def test_doctor_names_each_problem_with_its_fix(slack, engine):
    connect(slack)
    with Session(engine) as session:
        source = session.exec(select(Source)).one()
        source.status, source.status_reason = "token_rejected", "Clarity answered 401."
        session.add(source)
        session.commit()
    slack.fake.scopes = "commands,chat:write"
    head, report = doctor(slack, 2, channel="CPRIV")
    assert head == "4 thing(s) to fix:", report
    assert "missing channels:join, channels:read, files:write, groups:read, im:write" in report
    assert "private and I'm not in it.\n      → Invite me with `/invite @claritybot`." in report
    assert "⚠️ *Shop token*: Clarity answered 401." in report and "`/clarity connect`" in report
    assert "⚠️ *Shop next snapshot*" in report


def test_doctor_with_a_dead_slack_token_says_reinstall(slack):
    slack.fake.fail("auth.test", "invalid_auth")
    head, report = doctor(slack, 1)
    assert "⚠️ *Slack token*: Slack says `invalid_auth`." in report and "reinstall" in report
    assert "⚠️ *Clarity*: no project connected." in report


def test_doctor_sees_only_the_calling_workspace(slack):
    connect(slack, team="T1")
    _, report = doctor(slack, 2, team="T2")
    assert "Shop" not in report and "no project connected" in report


def test_doctor_checks_every_subscribed_channel(slack):
    connect(slack)
    slack.command("subscribe sessions <#CPRIVATE|secret>")
    slack.fake.wait_for("respond", 2)
    head, report = doctor(slack, 3)
    assert "⚠️ *Channel <#CPRIVATE>*: private and I'm not in it." in report
    assert "✅ *Channel <#C1>*" in report and head == "1 thing(s) to fix:"


def test_doctor_names_clarity_daily_limit_and_when_calls_free_up(slack):
    slack.command("timezone Europe/Paris")
    slack.responses(1)
    slack.sandbox.fail_next(429)  # Clarity: this project's 10 calls of the day are spent
    connect(slack)
    head, report = doctor(slack, 3)
    assert head == "1 thing(s) to fix:", report
    assert "⚠️ *Shop quota*: Clarity answered that its daily limit is reached" in report
    # The next midnight UTC after Tue 10 Mar 09:00 UTC is 01:00 in Paris (CET, UTC+1).
    assert "Calls free up at midnight UTC: Wed 11 Mar 01:00 Europe/Paris (00:00 UTC)." in report
    assert "✅ *Shop token*: not the cause: Clarity's daily limit stops the calls." in report
    assert "✅ *Shop next snapshot*" in report and "waits for Clarity's calls" in report
    assert "Fix the token first" not in report and "accepted" not in report.split("Shop")[1]
    assert len(slack.sandbox.calls) == 1  # the doctor spent nothing


def test_doctor_names_clarity_or_the_network_being_down(slack):
    slack.sandbox.fail_next(503)
    connect(slack)
    head, report = doctor(slack, 2)
    assert head == "1 thing(s) to fix:", report
    assert "⚠️ *Shop Clarity*: the last calls failed, not because of the token" in report
    assert "the next run retries by itself" in report
    assert "✅ *Shop quota*: 1 of 10 Clarity calls used today" in report
    assert "daily limit" not in report and "Fix the token first" not in report
    assert "✅ *Shop next snapshot*" in report


def test_a_rejected_token_is_not_blamed_on_the_limit(slack, engine):
    connect(slack)
    with Session(engine) as session:
        source = session.exec(select(Source)).one()
        source.status, source.status_reason = "token_rejected", "Clarity answered 401."
        source.enabled = False
        session.add(source)
        session.commit()
    head, report = doctor(slack, 2)
    assert head == "2 thing(s) to fix:", report
    assert "⚠️ *Shop token*: Clarity answered 401." in report
    assert "⚠️ *Shop next snapshot*" in report and "Fix the token first." in report
    assert "daily limit" not in report and "✅ *Shop quota*" in report


def project(status: str, used: int, exhausted: bool = False):
    """One project's status as `/clarity status` reads it, on Tue 10 Mar 2026 in Tokyo."""
    now = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
    usage = QuotaUsage(now.date(), used, 0, 10, 2, exhausted, datetime(2026, 3, 11, tzinfo=UTC))
    source = Source(
        id=1,
        workspace_id=1,
        label="Shop",
        project_key="k",
        token_fingerprint="f",
        status=status,
        status_reason="Clarity's daily limit (429)",
    )
    next_run = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # midnight in Tokyo (UTC+9)
    return SourceStatus(source, "Asia/Tokyo", date(2026, 3, 9), usage, next_run, None, now.date())


def lines(item) -> str:
    return "\n".join(c.line() for c in source_checks(item))


def test_yesterdays_limit_is_over_once_calls_are_free_again():
    report = lines(project("quota_exhausted", used=0))
    token = "✅ *Shop token*: not the cause: the last run stopped at Clarity's daily limit"
    quota = (
        "✅ *Shop quota*: 0 of 10 Clarity calls used today; they reset at midnight UTC "
        "(Wed 11 Mar 09:00 Asia/Tokyo (00:00 UTC))."
    )
    assert token in report and quota in report
    assert "⚠️" not in report


def test_our_ledger_keeping_the_last_calls_for_refresh_is_the_limit_for_snapshots():
    report = lines(project("quota_exhausted", used=8))
    assert (
        "⚠️ *Shop quota*: Clarity's daily limit is reached for snapshots: 8 of 10 calls "
        "used, the last 2 kept for `/clarity refresh`. Calls free up at midnight UTC: "
        "Wed 11 Mar 09:00 Asia/Tokyo (00:00 UTC)."
    ) in report
    # Tokyo's midnight comes before UTC's: the run waits for the calls.
    assert "waits for Clarity's calls to free up" in report and "Fix the token" not in report
