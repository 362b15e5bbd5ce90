"""Reports now: `/clarity chart digest`, "Send a test", and email only with a mail server."""

from __future__ import annotations

import json

from sqlmodel import Session, func, select

from store.models import Delivery, Subscription
from tests.bot.slack.test_commands import connect
from tests.bot.slack.test_subscribe import submit


def click(slack, button, *, response_url=True, team="T1", user="U1"):
    """Click a button of an ephemeral reply (or, without a response_url, of the App Home)."""
    payload = {
        "type": "block_actions",
        "team": {"id": team},
        "user": {"id": user},
        "api_app_id": "A1",
        "trigger_id": "t",
        "container": {"type": "message", "channel_id": "C1", "is_ephemeral": True},
        "channel": {"id": "C1"},
        "actions": [{"action_id": button["action_id"], "value": button["value"], "type": "button"}],
    }
    if response_url:
        payload["response_url"] = slack.fake.response_url
    else:
        payload["container"] = {"type": "view", "view_id": "VHOME"}
        del payload["channel"]
    return slack.interaction(payload)


def ledger_rows(engine) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Delivery)).one()


def subscriptions(engine) -> list[Subscription]:
    with Session(engine) as session:
        return list(session.exec(select(Subscription)))


def test_chart_digest_posts_the_digest_report_from_stored_history(slack):
    connect(slack)
    slack.command("chart digest")
    (message,) = slack.fake.wait_for("chat.postMessage")
    head = message.params["blocks"][0]["text"]["text"]
    # Connected at Tue 10 Mar 09:00 UTC: the newest stored day is Mon 9 Mar.
    assert head.startswith("*Shop* · Digest · Mon 9 Mar 2026\nSessions: "), head
    images = [b for b in message.params["blocks"] if b["type"] == "image"]
    assert [i["title"]["text"] for i in images] == ["Key metrics"]
    assert slack.fake.uploads["F1"][:8] == b"\x89PNG\r\n\x1a\n"
    assert len(slack.sandbox.calls) == 5  # the connect's calls only: none for the digest
    slack.command("chart digest 7")
    reply = slack.responses(2)[-1]["text"]
    assert "The digest covers 30 or 90 days" in reply and "/clarity chart digest 90" in reply


def test_chart_digest_with_two_projects_asks_then_remembers(slack):
    connect(slack)
    connect(slack, project="blog", label="Blog")
    slack.command("chart digest")
    buttons = slack.responses(3)[-1]["blocks"][1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Shop", "Blog"]
    click(slack, buttons[1])
    (first,) = slack.fake.wait_for("chat.postMessage")
    assert first.params["blocks"][0]["text"]["text"].startswith("*Blog* · Digest")
    slack.command("chart digest 90")
    (_, second) = slack.fake.wait_for("chat.postMessage", 2)
    assert second.params["blocks"][0]["text"]["text"].startswith("*Blog* · Digest")
    assert "90 days" in json.dumps(second.params["blocks"])


def test_send_a_test_from_the_confirmation_posts_once_outside_the_ledger(delivering, engine):
    slack, _ = delivering
    connect(slack)
    slack.command("subscribe sessions weekly <#C0UX123|ux>")
    reply = slack.responses(2)[-1]
    assert reply["text"].startswith("Subscribed: Sessions of *Shop*")
    (button,) = reply["blocks"][1]["elements"]
    assert button["text"]["text"] == "Send a test"
    before = ledger_rows(engine)
    assert click(slack, button).status == 200
    answer = slack.responses(3)[-1]["text"]
    assert answer.startswith("Sent a test of subscription 1 to <#C0UX123>."), answer
    (post,) = slack.fake.called("chat.postMessage")
    assert post.params["channel"] == "C0UX123" and "Weekly report" in json.dumps(post.params)
    assert "A test send" in json.dumps(post.params)
    assert ledger_rows(engine) == before
    assert len(slack.sandbox.calls) == 5  # built from stored history


def test_send_a_test_from_the_app_home_mails_once_and_dms_the_clicker(delivering, engine):
    slack, inbox = delivering
    connect(slack)
    slack.command("subscribe digest ann@example.com")
    slack.responses(2)
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    (published,) = slack.fake.wait_for("views.publish")
    (row,) = [b for b in published.params["view"]["blocks"] if "accessory" in b]
    assert "Digest (six key metrics) → ann@example.com" in row["text"]["text"]
    before = ledger_rows(engine)
    click(slack, row["accessory"], response_url=False)
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U1" and "Sent a test of subscription 1" in dm.params["text"]
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "ann@example.com"
    assert ledger_rows(engine) == before


def test_a_test_of_another_workspaces_subscription_is_refused(delivering, engine):
    slack, inbox = delivering
    connect(slack)
    slack.command("subscribe digest ann@example.com")
    (button,) = slack.responses(2)[-1]["blocks"][1]["elements"]
    click(slack, button, team="T2")
    assert "There is no active subscription 1 here" in slack.responses(3)[-1]["text"]
    assert inbox.messages == []


def test_email_without_a_mail_server_is_refused_with_what_to_set(slack, engine):
    connect(slack)
    slack.command("subscribe digest ann@example.com")
    reply = slack.responses(2)[-1]["text"]
    assert "Email is not set up" in reply and "SMTP_URL" in reply and "MAIL_FROM" in reply
    assert "pick a channel" in reply and subscriptions(engine) == []
    slack.command("subscribe")
    refused = submit(slack, metrics=["digest"], email="ann@example.com")
    errors = json.loads(refused.body)["errors"]
    assert "SMTP_URL" in errors["email"] and subscriptions(engine) == []
