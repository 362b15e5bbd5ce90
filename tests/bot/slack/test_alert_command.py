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
