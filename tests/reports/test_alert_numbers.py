"""One fired rule of each kind says the same number in its Slack post, its email and its chart's
big figure; each expected number is worked out here from the nights stored, by hand.

The window's days differ in traffic, so a plain mean of the daily shares or rates, or the last
day's value, would each give another number than the session-weighted one the rule uses.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from bot.slack.clients import WorkspaceClients
from bot.slack.deliver import SlackSender
from reports.alerts.evaluate import AlertEvaluator
from reports.render.charts import ChartMaker
from tests.fakes.slack_api import FakeSlack
from tests.reports.test_alert_explain import NOW, YESTERDAY, mail_of, rule_on

# Yesterday first: the rule's 7-day window, then the 7 days before it; older nights are flat.
SESSIONS = [1300, 900, 1100, 1250, 950, 1000, 1200]
RAGE = [70, 20, 30, 55, 25, 35, 40]
RAGE_PCT = [6.0, 2.0, 3.0, 4.5, 2.5, 3.5, 4.0]  # share of sessions with a rage click
DEAD = [60, 45, 50, 40, 55, 65, 35]
BEFORE = {"sessions": 1000, "rage": 10, "rage_clicks_sessions_pct": 1.0, "dead": 20}


def night(day: date) -> dict:
    i = (YESTERDAY - day).days
    if i >= 7:
        return dict(BEFORE)
    return {
        "sessions": SESSIONS[i],
        "rage": RAGE[i],
        "rage_clicks_sessions_pct": RAGE_PCT[i],
        "dead": DEAD[i],
    }


def total(values):
    """A count as people read it: 350, 7.7k."""
    n = sum(values)
    return f"{n / 1000:.1f}k".replace(".0k", "k") if n >= 1000 else str(n)


# (7,800 + 1,800 + 3,300 + 5,625 + 2,375 + 3,500 + 4,800) / 7,700 sessions = 3.79 %
WEIGHTED = f"{sum(p * s for p, s in zip(RAGE_PCT, SESSIONS, strict=True)) / sum(SESSIONS):.1f} %"
RATE = f"{100 * sum(RAGE) / sum(SESSIONS):.1f}"  # 100 × 275 / 7,700 = 3.57 per 100 sessions
WEEK = "is {} over the last 7 days"
CASES = [
    ("sessions above 7000 over 7d", total(SESSIONS), WEEK),
    ("dead_clicks below 400 over 7d", total(DEAD), WEEK),
    ("sessions_with_rage_clicks above 3% over 7d", WEIGHTED, WEEK),
    ("sessions_with_rage_clicks below 5% over 7d", WEIGHTED, WEEK),
    ("rage_click_rate above 3 over 7d", RATE, WEEK),
    ("rage_click_rate below 4 over 7d", RATE, WEEK),
    ("dead_clicks up 50% vs previous week", total(DEAD), WEEK),  # 350 against 140
    ("rage_click_rate up 50% vs previous week", RATE, WEEK),  # 3.6 against 1.0
    ("sessions up 20% vs same weekday", total(SESSIONS[:1]), "was {}, up 30 %"),
]


def test_the_expected_numbers_are_not_what_a_careless_average_gives():
    assert (WEIGHTED, RATE, total(SESSIONS), total(DEAD)) == ("3.8 %", "3.6", "7.7k", "350")
    assert f"{sum(RAGE_PCT) / 7:.1f} %" != WEIGHTED and f"{RAGE[0] / 13:.1f}" != RATE


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


class Forward:
    """Posts through the real Slack sender, keeping the report to mail it too."""

    def __init__(self, slack):
        self.slack, self.reports = slack, []

    def deliver(self, report, sub, now, url):
        self.reports.append(report)
        return self.slack.deliver(report, sub, now, url)


@pytest.mark.parametrize(("rule_text", "expected", "phrase"), CASES)
def test_slack_post_email_and_chart_say_the_same_number(
    engine, fake_slack, rule_text, expected, phrase
):
    rule_on(engine, rule_text, fn=night, days=40)
    clients = WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb-test")
    sender, charts = Forward(SlackSender(clients)), ChartMaker()
    evaluator = AlertEvaluator(engine=engine, senders={"slack": sender}, charts=charts)
    assert evaluator.tick(NOW) == {"fired": 1}
    # The chart's big figure, as drawn on the figure the alert's PNG was made from.
    assert charts._renderer("line").value.get_text() == expected
    # The post the loopback Slack received ...
    (message,) = fake_slack.called("chat.postMessage")
    blocks = message.params["blocks"]
    head = (json.loads(blocks) if isinstance(blocks, str) else blocks)[0]["text"]["text"]
    assert phrase.format(expected) in head, head
    # ... and the same report mailed: subject, plain text and HTML.
    (report,) = sender.reports
    msg, text = mail_of(report)
    assert expected in str(msg["Subject"])
    assert f"Value:      {expected} (" in text
    assert f"<strong>{expected}</strong>" in msg.get_body(("html",)).get_content()
    # The chart's text alternative names the rule's days and the same number.
    first = YESTERDAY - timedelta(days=0 if "weekday" in rule_text else 6)
    assert f"Rule window {first:%-d %b}" in report.charts[0].alt_text
    assert f": {expected} (" in report.charts[0].alt_text
