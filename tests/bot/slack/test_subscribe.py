from __future__ import annotations

import pytest
from sqlmodel import Session, select

from store.models import Subscription
from tests.bot.slack.test_commands import connect


def subscriptions(engine):
    with Session(engine) as session:
        return list(session.exec(select(Subscription)).all())


def reply_to(slack, text, count, **kw):
    slack.command(text, **kw)
    return slack.responses(count)[-1]


def test_inline_subscribe_to_a_linked_channel(slack, engine):
    connect(slack)
    reply = reply_to(slack, "subscribe rage_click_rate,sessions weekly <#C0UX123|ux> 08:30", 2)
    assert reply["text"].startswith(
        "Subscribed: Rage clicks per 100 sessions, Sessions of *Shop* to "
    )
    assert "<#C0UX123>, weekly on Monday at 08:30 UTC; next Mon 16 Mar 08:30" in reply["text"]
    (sub,) = subscriptions(engine)
    assert (sub.destination_kind, sub.destination, sub.frequency, sub.weekday, sub.send_at) == (
        "slack", "C0UX123", "weekly", 0, "08:30")  # fmt: skip
    assert sub.created_by == "U1" and sub.metrics == ["rage_click_rate", "sessions"]


@pytest.mark.parametrize(
    ("words", "kind", "destination"),
    [("", "slack", "C1"), ("#ux", "slack", "C0UX123"),
     ("<mailto:ann@example.com|ann@example.com>", "email", "ann@example.com"),
     ("bob@example.com monthly", "email", "bob@example.com")],
)  # fmt: skip
def test_inline_destinations(delivering, engine, words, kind, destination):
    slack, _ = delivering
    connect(slack)
    reply = reply_to(slack, f"subscribe digest {words}", 2)
    assert reply["text"].startswith("Subscribed: Digest (six key metrics) of *Shop*"), reply
    (sub,) = subscriptions(engine)
    assert (sub.destination_kind, sub.destination) == (kind, destination)


@pytest.mark.parametrize(
    ("text", "message"),
    [("subscribe sessionz", "Unknown metric 'sessionz'"),
     ("subscribe sessions #nowhere", "can't find a channel named #nowhere"),
     ("subscribe sessions daily 25:61", "is not HH:MM"),
     ("subscribe sessions someone@", "is not an email address")],
)  # fmt: skip
def test_bad_inline_subscriptions_say_why_and_store_nothing(delivering, engine, text, message):
    slack, _ = delivering
    connect(slack)
    assert message in reply_to(slack, text, 2)["text"]
    assert subscriptions(engine) == []


def submit(slack, *, metrics, channel="C1", email=None, team="T1", project=None):
    opened = slack.fake.wait_for("views.open")[-1].params["view"]
    project = project or opened["blocks"][0]["element"]["options"][0]["value"]
    values = {
        "project": {"value": {"selected_option": {"value": project}}},
        "metrics": {"value": {"selected_options": [{"value": m} for m in metrics]}},
        "frequency": {"value": {"selected_option": {"value": "daily"}}},
        "channel": {"value": {"selected_conversation": channel}},
        "email": {"value": {"value": email}},
        "time": {"value": {"selected_time": "07:45"}},
    }
    view = {"type": "modal", "callback_id": "clarity_subscribe", "id": "V2",
            "private_metadata": "C1", "state": {"values": values}}  # fmt: skip
    return slack.interaction({"type": "view_submission", "team": {"id": team},
                              "user": {"id": "U1"}, "view": view, "api_app_id": "A1",
                              "trigger_id": "t"})  # fmt: skip


def test_the_subscribe_form_checks_then_stores(slack, engine):
    connect(slack)
    slack.command("subscribe")
    (opened,) = slack.fake.wait_for("views.open")
    assert opened.params["view"]["callback_id"] == "clarity_subscribe"
    assert "Shop" in str(opened.params["view"]["blocks"][0])
    bad = submit(slack, metrics=[])
    assert '"response_action": "errors"' in str(bad.body) and subscriptions(engine) == []
    good = submit(slack, metrics=["sessions", "digest"])
    assert good.status == 200 and "errors" not in str(good.body)
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U1" and "daily at 07:45 UTC" in dm.params["text"]
    (sub,) = subscriptions(engine)
    assert sub.metrics == ["sessions", "digest"] and sub.destination == "C1"


def test_the_form_cannot_subscribe_to_another_workspaces_project(slack, engine):
    connect(slack, team="T1")
    slack.command("subscribe", team="T2")
    assert "Connect a Clarity project first" in slack.responses(2)[-1]["text"]
    slack.command("subscribe", team="T1")
    submit(slack, metrics=["sessions"], team="T2")
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert "There is no source" in dm.params["text"] and subscriptions(engine) == []


def test_unsubscribe_lists_and_stops_within_the_workspace(slack, engine):
    connect(slack)
    reply_to(slack, "subscribe sessions", 2)
    (sub,) = subscriptions(engine)
    listing = reply_to(slack, "unsubscribe", 3)
    (block,) = listing["blocks"]
    assert block["accessory"]["value"] == str(sub.id) and "Sessions → <#C1>" in str(block)
    other = reply_to(slack, f"unsubscribe {sub.id}", 4, team="T2")
    assert f"There is no subscription {sub.id} here" in other["text"]
    assert subscriptions(engine)[0].active
    stop = {"type": "block_actions", "team": {"id": "T1"}, "user": {"id": "U1"},
            "api_app_id": "A1", "response_url": slack.fake.response_url, "trigger_id": "t",
            "container": {"type": "message", "channel_id": "C1", "message_ts": "1.2"},
            "actions": [{"action_id": "unsubscribe", "value": str(sub.id), "type": "button",
                         "block_id": "b"}]}  # fmt: skip
    assert slack.interaction(stop | {"team": {"id": "T2"}}).status == 200
    assert "There is no subscription" in slack.responses(5)[-1]["text"]
    slack.interaction(stop)
    assert f"Stopped subscription {sub.id}" in slack.responses(6)[-1]["text"]
    assert not subscriptions(engine)[0].active


def test_app_home_lists_subscriptions(slack):
    connect(slack)
    reply_to(slack, "subscribe sessions weekly", 2)
    slack.event({"type": "app_home_opened", "user": "U1", "tab": "home", "channel": "D1"})
    (published,) = slack.fake.wait_for("views.publish")
    assert "Sessions → <#C1> · weekly on Monday at 09:00 UTC" in str(published.params["view"])
