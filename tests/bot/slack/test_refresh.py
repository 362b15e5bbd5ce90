from __future__ import annotations

from sqlmodel import Session, select

from store.models import MetricRow, QuotaCall, Snapshot
from tests.bot.slack.test_commands import connect


def test_refresh_is_a_live_look_that_is_not_stored(slack, engine):
    connect(slack)
    with Session(engine) as session:
        rows_before = len(session.exec(select(MetricRow)).all())
    slack.command("refresh")
    reply = slack.responses(2)[-1]["text"]
    assert "last 24 hours, live from Clarity" in reply and "• Sessions: " in reply
    assert "Clarity calls today: 6 of 10" in reply and "not added to the history" in reply
    assert len(slack.sandbox.calls) == 6
    with Session(engine) as session:
        assert len(session.exec(select(MetricRow)).all()) == rows_before
        assert len(session.exec(select(Snapshot)).all()) == 5
        live = session.exec(select(QuotaCall).where(QuotaCall.fetch_group == "live")).one()
        assert live.purpose == "manual" and live.outcome == "ok"


def test_refresh_is_refused_with_numbers_when_tonight_needs_the_calls(slack):
    # 09:00 UTC is 23:00 in Kiritimati (UTC+14): tonight's snapshot runs at 10:00 UTC, today,
    # and needs 5 of the 8 automatic calls; yesterday is past the 12-hour rule, so connecting
    # spends nothing and 8 - 5 = 3 calls are left for live looks before the reset.
    slack.command("timezone Pacific/Kiritimati")
    slack.responses(1)
    connect(slack)
    for _ in range(3):
        slack.command("refresh")
    replies = [c.params["text"] for c in slack.fake.wait_for("respond", 5)[2:]]
    assert sum("live from Clarity" in r for r in replies) == 3
    slack.command("refresh")
    reply = slack.responses(6)[-1]["text"]
    assert "No live look now: 3 of 10 Clarity calls are used today" in reply
    assert "tonight's snapshot still needs 5 of the 8" in reply and "00:00 UTC" in reply
    assert len(slack.sandbox.calls) == 3  # the refused one spent nothing


def test_refresh_when_the_day_is_used_up_says_when_it_resets(slack, engine):
    connect(slack)
    for _ in range(5):
        slack.command("refresh")
    replies = [c.params["text"] for c in slack.fake.wait_for("respond", 6)[1:]]
    assert sum("live from Clarity" in r for r in replies) == 5
    slack.command("refresh")
    last = slack.responses(7)[-1]["text"]
    assert "all 10 Clarity calls of today are used" in last and "00:00 UTC" in last
    assert len(slack.sandbox.calls) == 10


def test_refresh_from_another_workspace_reaches_nothing(slack):
    connect(slack, team="T1")
    slack.command("refresh", team="T2")
    assert "No Clarity project is connected here yet" in slack.responses(2)[-1]["text"]
    assert len(slack.sandbox.calls) == 5
