"""Slack speaks Slack: no reply on the help and error paths gives a terminal command as advice."""

from __future__ import annotations

import argparse
import json
import re

from bot.cli import build_parser
from tests.bot.slack.test_commands import connect
from tests.bot.slack.test_subscribe import submit


def cli_advice() -> re.Pattern[str]:
    """`claritybot <any CLI subcommand>`: what a Slack user cannot type."""
    (commands,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    names = "|".join(sorted(map(re.escape, commands.choices), key=len, reverse=True))
    return re.compile(rf"claritybot ({names})\b")


ERRORS = [
    "chart",
    "chart sessionz",
    "chart sessions 12",
    "chart digest 7",
    "subscribe sessionz",
    "subscribe digest ann@example.com",
    "unsubscribe x",
    "unsubscribe 99",
    "alert add sessionz above 3",
    "alert add sessions sideways 3%",
    "alert add top_pages_by_sessions above 3",
    "alert remove 9",
    "alert",
    "timezone Mars/Base",
    "refresh nope",
    "disconnect nope",
    "status",
    "doctor",
]


def test_help_and_error_replies_give_slack_commands_not_terminal_ones(slack):
    acks = [slack.command(text).body for text in ("help", "frobnicate", "metrics")]
    acks.append(slack.command("chart sessions").body)  # nothing connected yet
    slack.fake.wait_for("respond")
    connect(slack)
    acks += [slack.command(text).body for text in ERRORS]
    slack.command("subscribe")
    acks.append(submit(slack, metrics=[]).body)  # the form's own error
    slack.settle()
    said = [json.dumps(c.params) for c in slack.fake.calls] + [str(a) for a in acks]
    replies = [c.params["text"] for c in slack.fake.called("respond")]
    assert len(replies) == len(ERRORS) + 2  # each answered (and the connect, the first chart)
    advice = cli_advice()
    assert advice.search("`claritybot metrics` lists them")  # the scan can see it
    assert [text for text in said if advice.search(text)] == []
    # The advice they give instead is Slack's.
    joined = "\n".join(replies)
    assert "`/clarity metrics` lists them" in joined and "Unknown metric 'sessionz'" in joined
    assert "`/clarity unsubscribe [id]`" in joined and "SMTP_URL" in joined
    assert "`/clarity metrics` lists them" in str(acks[-1])  # the form's "name a metric"


def test_alert_replies_name_metrics_as_the_catalogue_does(slack):
    connect(slack)
    slack.command("alert add rage_click_rate above 2 over 14d")
    added = slack.responses(2)[-1]["text"]
    assert added.startswith("Alert 1 set: Rage clicks per 100 sessions above 2 over 14 days")
    slack.command("alert list")
    listed = slack.responses(3)[-1]["text"]
    assert "`1` Rage clicks per 100 sessions above 2 over 14 days → <#C1>" in listed
    assert "rage_click_rate" not in added + listed
