"""Mute 24 h, Edit and Remove under an alert posted to Slack: the real Bolt app, signed
requests, the loopback Slack; each button changes the rule in the database and the message."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import Session

from bot.slack.clients import WorkspaceClients
from bot.slack.deliver import SlackSender
from reports.alerts.evaluate import AlertEvaluator
from reports.alerts.rules import add_rule, parse_rule
from reports.render.charts import ChartMaker
from store.models import AlertRule, Source
from tests.bot.slack.conftest import NOW
from tests.fakes.history import history

# What Slack adds to an image block when it sends a message back, and refuses in chat.update.
SLACK_EXTRAS = {
    "image_width": 1600,
    "image_height": 900,
    "image_bytes": 61275,
    "is_animated": False,
    "fallback": "1600x900px image",
}


@pytest.fixture
def posted(slack, engine):
    """An alert of workspace T1 that fired and was posted to C1: (rule id, message blocks)."""
    workspace = slack.services.workspace_id("T1")
    with Session(engine) as session:
        source = Source(
            workspace_id=workspace,
            label="Shop",
            project_key="p",
            token_fingerprint="f",
            created_at=NOW - timedelta(days=60),
            clarity_project_id="k2x9abc",
        )
        session.add(source)
        session.commit()
        sid = source.id
    history(engine, sid, end=date(2026, 3, 9), days=40, fn=lambda d: {"rage": 40})
    rule = add_rule(
        engine,
        parse_rule("rage_click_rate above 2% over 7d".split()),
        source_id=sid,
        workspace_id=workspace,
        kind="slack",
        destination="C1",
        now=NOW,
    )
    clients = WorkspaceClients(engine, api_url=slack.fake.url, bot_token="xoxb-test")
    evaluator = AlertEvaluator(
        engine=engine, senders={"slack": SlackSender(clients)}, charts=ChartMaker()
    )
    assert evaluator.tick(NOW) == {"fired": 1}
    (message,) = slack.fake.called("chat.postMessage")
    blocks = message.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    slack.fake.reset()
    return rule.id, blocks


def press(slack, action_id, value, blocks, *, team="T1", user_team="T1"):
    as_sent_back = [b | SLACK_EXTRAS if b["type"] == "image" else b for b in blocks]
    return slack.interaction(
        {
            "type": "block_actions",
            "team": {"id": team},
            "api_app_id": "A1",
            "user": {"id": "U1", "team_id": user_team},
            "trigger_id": "trigger-9",
            "container": {"type": "message", "channel_id": "C1", "message_ts": "111.222"},
            "channel": {"id": "C1"},
            "message": {"ts": "111.222", "text": "alert", "blocks": as_sent_back},
            "response_url": slack.fake.response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "chart_buttons",
                    "type": "button",
                    "value": value,
                }
            ],
        }
    )


def rule_of(engine, rule_id):
    with Session(engine) as session:
        return session.get(AlertRule, rule_id)


def updated(slack, count=1):
    call = slack.fake.wait_for("chat.update", count)[-1]
    blocks = call.params["blocks"]
    return call.params, json.loads(blocks) if isinstance(blocks, str) else blocks


def test_the_post_has_mute_edit_and_remove_behind_a_confirm(posted):
    _, blocks = posted
    actions = blocks[-1]
    assert actions["type"] == "actions"
    mute, edit, remove = actions["elements"]
    assert (mute["text"]["text"], edit["text"]["text"], remove["text"]["text"]) == (
        "Mute 24 h",
        "Edit",
        "Remove",
    )
    assert remove["confirm"]["confirm"]["text"] == "Remove" and remove["style"] == "danger"
    head = blocks[0]["text"]["text"]
    assert "Rage clicks per 100 sessions is 4.0 over the last 7 days" in head
    link = "https://clarity.microsoft.com/projects/view/k2x9abc/dashboard"
    assert f"<{link}|Open Shop in Clarity>" in head


def test_mute_sets_the_rule_and_updates_the_message_then_unmute_undoes_it(slack, engine, posted):
    rule_id, blocks = posted
    assert press(slack, "alert_mute", str(rule_id), blocks).status == 200
    params, shown = updated(slack)
    assert rule_of(engine, rule_id).muted_until == NOW + timedelta(hours=24)
    assert (params["channel"], params["ts"]) == ("C1", "111.222")
    state = next(b for b in shown if b.get("block_id") == "alert_state")
    until = int((NOW + timedelta(hours=24)).timestamp())
    assert state["elements"][0]["text"].startswith(
        f"Muted until <!date^{until}^{{date_short_pretty}} at {{time}}|"
        "Wed 11 Mar 09:00 (UTC)> by <@U1>"
    )
    assert [e["text"]["text"] for e in shown[-1]["elements"]] == ["Unmute", "Edit", "Remove"]
    (image,) = [b for b in shown if b["type"] == "image"]
    assert image["slack_file"] == {"id": "F1"} and not set(SLACK_EXTRAS) & set(image)
    press(slack, "alert_unmute", str(rule_id), shown)
    _, again = updated(slack, 2)
    assert rule_of(engine, rule_id).muted_until is None
    assert not any(b.get("block_id") == "alert_state" for b in again)
    assert again[-1]["elements"][0]["text"]["text"] == "Mute 24 h"


def test_remove_deactivates_the_rule_and_takes_the_buttons_away(slack, engine, posted):
    rule_id, blocks = posted
    press(slack, "alert_remove", str(rule_id), blocks)
    _, shown = updated(slack)
    assert rule_of(engine, rule_id).active is False
    assert shown[-1]["block_id"] == "alert_state" and "Removed by <@U1>" in str(shown[-1])
    assert not any(b["type"] == "actions" for b in shown)


def submit(slack, rule_id, threshold, window, *, team="T1"):
    values = {
        "threshold": {"value": {"type": "number_input", "value": threshold}},
        "window": {"value": {"type": "number_input", "value": window}},
    }
    view = {
        "type": "modal",
        "callback_id": "clarity_alert_edit",
        "id": "V9",
        "private_metadata": str(rule_id),
        "state": {"values": values},
    }
    return slack.interaction(
        {
            "type": "view_submission",
            "team": {"id": team},
            "user": {"id": "U1", "team_id": team},
            "view": view,
            "api_app_id": "A1",
            "trigger_id": "t",
        }
    )


def test_edit_opens_a_form_and_saving_it_changes_the_rule(slack, engine, posted):
    rule_id, blocks = posted
    press(slack, "alert_edit", str(rule_id), blocks)
    (opened,) = slack.fake.wait_for("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert (view["callback_id"], view["private_metadata"]) == ("clarity_alert_edit", str(rule_id))
    assert opened.params["trigger_id"] == "trigger-9"
    initial = [b["element"]["initial_value"] for b in view["blocks"] if b["type"] == "input"]
    assert initial == ["2", "7"]
    bad = submit(slack, rule_id, "lots", "400")
    assert (
        '"response_action": "errors"' in str(bad.body) and rule_of(engine, rule_id).threshold == 2
    )
    assert submit(slack, rule_id, "3.5", "14").status == 200
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U1"
    assert (
        f"Alert {rule_id} now: Rage clicks per 100 sessions above 3.5 over 14 days"
        in dm.params["text"]
    )
    stored = rule_of(engine, rule_id)
    assert (stored.threshold, stored.window_days) == (3.5, 14)


def test_only_the_rules_own_workspace_can_act_on_it(slack, engine, posted):
    rule_id, blocks = posted
    press(slack, "alert_mute", str(rule_id), blocks, team="T2", user_team="T2")
    assert f"There is no alert {rule_id} here" in slack.responses(1)[-1]["text"]
    # A member of another organisation in a shared channel of T1.
    press(slack, "alert_remove", str(rule_id), blocks, user_team="T9")
    assert "Only members of the workspace" in slack.responses(2)[-1]["text"]
    press(slack, "alert_remove", "1; drop", blocks)
    assert "older message" in slack.responses(3)[-1]["text"]
    submit(slack, rule_id, "9", "9", team="T2")
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert f"There is no alert {rule_id} here" in dm.params["text"]
    stored = rule_of(engine, rule_id)
    assert stored.active and stored.muted_until is None and stored.threshold == 2
    assert slack.fake.called("chat.update") == []


@pytest.mark.parametrize(
    ("threshold", "window", "block", "words"),
    [
        ("0", "7", "threshold", "A change is a percentage above 0"),
        ("-20", "7", "threshold", "A change is a percentage above 0"),
        ("50", "0", "window", "The window is a number of days from 1 to 90."),
        ("50", "91", "window", "The window is a number of days from 1 to 90."),
    ],
)
def test_the_edit_form_refuses_what_the_rule_cannot_take_before_it_closes(
    slack, engine, posted, threshold, window, block, words
):
    rule_id, _ = posted
    change = add_rule(
        engine,
        parse_rule("sessions down 30% vs previous week".split()),
        source_id=rule_of(engine, rule_id).source_id,
        workspace_id=slack.services.workspace_id("T1"),
        kind="slack",
        destination="C1",
        now=NOW,
    )
    answer = submit(slack, change.id, threshold, window)
    assert answer.status == 200
    body = json.loads(answer.body)
    assert body["response_action"] == "errors" and list(body["errors"]) == [block]
    assert body["errors"][block].startswith(words)
    slack.settle()
    assert slack.fake.called("chat.postMessage") == []  # nothing saved, nothing to say after
    stored = rule_of(engine, change.id)
    assert (stored.threshold, stored.window_days) == (30, 7)


def test_a_fixed_limit_may_be_zero_and_the_form_closes(slack, engine, posted):
    rule_id, _ = posted
    assert submit(slack, rule_id, "0", "7").body == ""  # above 0: any rage click at all
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert "above 0 over 7 days" in dm.params["text"] and rule_of(engine, rule_id).threshold == 0
