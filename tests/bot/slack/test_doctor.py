from __future__ import annotations

from sqlmodel import Session, select

from store.models import Source
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
