from __future__ import annotations

from sqlmodel import Session, select

from store.models import AlertRule
from tests.bot.slack.test_commands import connect


def said(slack, text, count, **kw):
    slack.command(text, **kw)
    return slack.responses(count)[-1]["text"]


def test_alert_add_list_remove_within_the_workspace(slack, engine):
    connect(slack)
    reply = said(slack, "alert add dead_clicks up 50% vs previous week for /checkout", 2)
    assert reply.startswith("Alert 1 set: Dead clicks up 50 % vs the previous 7 days on /checkout")
    with Session(engine) as session:
        rule = session.exec(select(AlertRule)).one()
    assert (rule.destination, rule.created_by, rule.page) == ("C1", "U1", "/checkout")
    listing = said(slack, "alert list", 3)
    assert "`1` Dead clicks up 50 % vs the previous 7 days on /checkout → <#C1> · *unknown*" in (
        listing)  # fmt: skip
    assert "There is no alert 1 here" in said(slack, "alert remove 1", 4, team="T2")
    assert "No alerts here yet" in said(slack, "alert list", 5, team="T2")
    assert said(slack, "alert remove 1", 6).startswith("Alert 1 removed")
    assert "No alerts here yet" in said(slack, "alert list", 7)


def test_a_rule_slack_cannot_read_gets_the_examples(slack, engine):
    connect(slack)
    reply = said(slack, "alert add sessions sideways 3%", 2)
    assert "I don't understand" in reply and "rage_click_rate above 2% over 7d" in reply
    reply = said(slack, "alert add sessions above 500", 3, team="T2")
    assert "No Clarity project is connected here yet" in reply
    with Session(engine) as session:
        assert session.exec(select(AlertRule)).all() == []


def test_the_list_says_until_when_a_rule_is_muted_in_local_time(slack, engine):
    from datetime import timedelta

    from reports.alerts.rules import mute_rule
    from tests.bot.slack.conftest import NOW

    connect(slack)
    slack.command("timezone Asia/Tokyo")  # UTC+9, no clock change: 09:00 UTC is 18:00 there
    said(slack, "alert add sessions below 100 over 7d", 3)
    said(slack, "alert add rage_click_rate above 2% over 7d", 4)
    until = NOW + timedelta(hours=24)
    mute_rule(engine, 1, workspace_id=None, until=until)
    mute_rule(engine, 2, workspace_id=None, until=NOW)  # a mute that has just ended
    first, second = said(slack, "alert list", 5).splitlines()
    stamp = int(until.timestamp())
    assert first == (
        "`1` Sessions below 100 over 7 days → <#C1> · muted until "
        f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|Wed 11 Mar 18:00 (Asia/Tokyo)>"
        " · *unknown*"
    )
    assert "muted" not in second and second.endswith("→ <#C1> · *unknown*")
