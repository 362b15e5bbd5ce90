"""Hostile page titles, URLs and labels through chart, report, alert, status, App Home, email
and AI prompt: no mention or link markup in any Slack field, no live HTML, no header injection.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from email import message_from_bytes, policy
from typing import Any

from bot.slack.clients import WorkspaceClients
from bot.slack.deliver import SlackSender
from reports.clarity.parser import clean_text
from reports.delivery.compose import Report, ReportChart
from reports.delivery.email import build_message
from reports.history.catalogue import get_metric
from reports.history.load import load
from reports.ingest.sources import add_source
from reports.render.ai import facts_payload
from reports.render.facts import compute, needs
from store.models import Subscription
from tests.bot.slack.conftest import NOW
from tests.fakes.history import store_day

MARKUP = ["<!channel>", "<!here>", "<@U1>", "<https://x|y>", "*b*", "_i_", "~s~", "<script"]
INVISIBLE = ["\u202e", "\u200b", "\x00"]
HOSTILE = " ".join(MARKUP) + " \u202eevil\u200b\x00 </b><script>alert(1)</script>"
TITLE = "/deals/<!channel>-sale " + HOSTILE
LONG = "/" + "<!here>" * 1500  # 10.5 kB
LABEL = "Shop <!here> *b* _i_ \u202e<https://x|y>\u200b"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def strings(value: Any) -> list[str]:
    """Every string in a payload, JSON-encoded fields (blocks, views) opened too."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list | tuple):
        return [s for v in value for s in strings(v)]
    if isinstance(value, str):
        if value[:1] in "[{":
            try:
                return strings(json.loads(value))
            except ValueError:
                pass
        return [value]
    return []


def assert_inert(texts: list[str]) -> None:
    assert texts
    for text in texts:
        for bad in MARKUP + INVISIBLE:
            assert bad not in text, (bad, text[:300])


def seeded(slack) -> int:
    services = slack.services
    source = add_source(
        services.engine,
        cipher=services.cipher,
        label=LABEL,
        raw_token=slack.sandbox.issue_token("shop"),
        now=NOW,
        workspace_id=services.workspace_id("T1"),
    )
    for n in range(1, 36):  # what a snapshot stores: the parser's clean_text on each URL
        # the hostile page's dead clicks jump in the last week: a mover with enough volume
        pages = {clean_text(TITLE): (120, 30 if n <= 7 else 9), clean_text(LONG): (80, 4)}
        pages["/ok"] = (10, 1)
        store_day(services.engine, source, NOW.date() - timedelta(days=n), pages=pages)
    return source


def hostile_report() -> Report:
    chart = ReportChart("sessions", f"Sessions {HOSTILE}", PNG, f"alt {HOSTILE}", f"line {HOSTILE}")
    return Report(
        3,
        "2026-03-10",
        LABEL,
        f"Daily {HOSTILE}",
        "Mon 9 Mar 2026",
        date(2026, 3, 9),
        (chart,),
        f"head {HOSTILE}",
        (f"note {HOSTILE}",),
        True,
        summary=f"summary {HOSTILE}",
    )


def test_hostile_text_reaches_slack_only_as_plain_text(slack):
    seeded(slack)
    slack.command("chart top_pages_by_sessions 7")
    slack.command("chart sessions 7")
    slack.fake.wait_for("chat.postMessage", 2)
    slack.command("status")
    slack.command("alert add dead_clicks above 1 for /deals/<!channel>-sale*b*")
    slack.responses(2)  # status and alert (a chart that posts answers nothing)
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    slack.fake.wait_for("views.publish")
    sub = Subscription(
        id=3,
        workspace_id=1,
        source_id=1,
        metrics=["sessions"],
        destination_kind="slack",
        destination="C1",
        frequency="daily",
    )
    clients = WorkspaceClients(slack.services.engine, api_url=slack.fake.url, bot_token="xoxb")
    SlackSender(clients).deliver(hostile_report(), sub, NOW, None)
    calls = slack.fake.calls
    assert {"chat.postMessage", "views.publish", "respond"} <= {c.method for c in calls}
    assert_inert([s for c in calls for s in strings(c.params)])


def test_hostile_text_in_email_is_inert(slack):
    msg = build_message(
        hostile_report(),
        mail_from="bot@example.com",
        to="ann@example.com",
        now=NOW,
        unsubscribe_url=None,
    )
    parsed = message_from_bytes(msg.as_bytes(), policy=policy.default)  # headers unfolded
    subject = str(parsed["Subject"])
    assert "\n" not in subject and "\r" not in subject and len(subject) <= 200
    assert not any(ch in subject for ch in INVISIBLE)
    assert set(parsed.keys()) == set(msg.keys())  # no header smuggled in through the subject
    html = next(p for p in msg.walk() if p.get_content_type() == "text/html").get_content()
    text = next(p for p in msg.walk() if p.get_content_type() == "text/plain").get_content()
    assert "<script" not in html and "&lt;script&gt;" in html and "<!channel>" not in html
    assert not any(ch in html + text for ch in INVISIBLE)


def test_hostile_text_in_the_ai_prompt_is_visible_and_bounded(slack):
    source = seeded(slack)
    metric = get_metric("dead_clicks")
    history = load(slack.services.engine, source, needs(metric), days=60, now=NOW)
    payload = facts_payload([compute(history, metric, source_label=LABEL)])
    texts = strings(payload)
    assert any(t.startswith("/deals/") for t in texts)  # the page is a mover: it is in the prompt
    assert not any(ch in t for t in texts for ch in INVISIBLE)
    assert max(len(t) for t in texts) <= 200
