from __future__ import annotations

import time

import pytest
from sqlmodel import Session, select

from store.models import Snapshot, Source, Workspace


def text_of(response):
    return response.body if isinstance(response.body, str) else str(response.body)


def test_help_and_unknown_subcommands_answer_in_the_ack(slack):
    response = slack.command("help")
    assert response.status == 200 and "/clarity connect" in text_of(response)
    response = slack.command("frobnicate now")
    assert response.status == 200 and "I don't know `frobnicate`" in text_of(response)
    assert "/clarity status" in text_of(response)
    time.sleep(0.2)
    assert slack.fake.called("respond") == []  # nothing else happened


@pytest.mark.parametrize("kw", [{"secret": "wrong"}, {"ts": int(time.time()) - 600}])
def test_bad_or_stale_signatures_are_rejected_with_no_side_effect(slack, engine, kw):
    response = slack.command(f"connect {slack.sandbox.issue_token('shop')} Shop", **kw)
    assert response.status == 401
    time.sleep(0.3)
    assert slack.fake.calls == [] and slack.sandbox.calls == []
    with Session(engine) as session:
        assert session.exec(select(Source)).all() == []
        assert session.exec(select(Workspace)).all() == []


def test_connect_inline_checks_stores_and_snapshots_yesterday(slack, engine):
    token = slack.sandbox.issue_token("shop")
    response = slack.command(f"connect {token} Shop")
    assert response.status == 200 and "Checking the token" in text_of(response)
    (reply,) = slack.responses()
    assert "Connected *Shop*" in reply["text"] and "5 of 5 parts stored" in reply["text"]
    assert reply["response_type"] == "ephemeral" and token not in str(reply)
    with Session(engine) as session:
        (source,) = session.exec(select(Source)).all()
        assert source.owner_user_id == "U1" and token not in source.token_encrypted
        assert len(session.exec(select(Snapshot)).all()) == 5
    assert len(slack.sandbox.calls) == 5


def test_connect_refuses_a_malformed_token_without_a_call(slack, engine):
    slack.command("connect not-a-token Shop")
    (reply,) = slack.responses()
    assert "Invalid token" in reply["text"] and "Data Export" in reply["text"]
    assert slack.sandbox.calls == []
    with Session(engine) as session:
        assert session.exec(select(Source)).all() == []


def test_connect_with_a_rejected_token_keeps_nothing(slack, engine):
    token = slack.sandbox.issue_token("shop")
    slack.sandbox.revoke("shop")
    slack.command(f"connect {token}")
    (reply,) = slack.responses()
    assert "Clarity rejected that token" in reply["text"] and "nothing was saved" in reply["text"]
    assert len(slack.sandbox.calls) == 1
    with Session(engine) as session:
        assert session.exec(select(Source)).all() == []


def connect(slack, project="shop", label="Shop", team="T1"):
    before = len(slack.fake.called("respond"))
    slack.command(f"connect {slack.sandbox.issue_token(project)} {label}", team=team)
    (*_, reply) = slack.fake.wait_for("respond", before + 1, timeout=15)
    assert "Connected" in reply.params["text"], reply.params
    return slack


def test_connect_without_a_token_opens_the_form_and_the_form_validates(slack, engine):
    response = slack.command("connect")
    assert response.status == 200
    (opened,) = slack.fake.wait_for("views.open")
    assert "clarity_connect" in str(opened.params["view"])
    view = {"type": "modal", "callback_id": "clarity_connect", "id": "V1", "state": {"values": {
        "token": {"value": {"type": "plain_text_input", "value": "nope"}},
        "label": {"value": {"type": "plain_text_input", "value": "Site"}}}}}  # fmt: skip
    payload = {"type": "view_submission", "team": {"id": "T1"}, "user": {"id": "U7"},
               "view": view, "api_app_id": "A1", "trigger_id": "t"}  # fmt: skip
    bad = slack.interaction(payload)
    assert bad.status == 200 and '"response_action": "errors"' in text_of(bad)
    view["state"]["values"]["token"]["value"]["value"] = slack.sandbox.issue_token("shop")
    good = slack.interaction(payload)
    assert good.status == 200 and "errors" not in text_of(good)
    (dm,) = slack.fake.wait_for("chat.postMessage")
    assert dm.params["channel"] == "U7" and "Connected *Site*" in dm.params["text"]
    with Session(engine) as session:
        assert session.exec(select(Source)).one().owner_user_id == "U7"


def test_status_lists_this_workspaces_sources_only(slack):
    connect(slack)
    slack.command("status")
    reply = slack.responses(2)[-1]
    blocks = str(reply["blocks"])
    assert "*Shop*" in blocks and "✅ connected" in blocks and "5 of 10" in blocks
    assert "Next snapshot" in blocks and "UTC" in blocks
    slack.command("status", team="T2")
    other = slack.responses(3)[-1]
    assert "No Clarity project is connected here yet" in str(other["blocks"])


def test_text_from_outside_is_escaped_for_mrkdwn(slack):
    connect(slack, label="<!channel>")
    slack.command("status")
    blocks = str(slack.responses(2)[-1]["blocks"])
    assert "<!channel>" not in blocks and "&lt;!channel&gt;" in blocks


def test_timezone_is_per_workspace_and_validated(slack):
    slack.command("timezone Europe/London")
    assert "Europe/London" in slack.responses(1)[-1]["text"]
    slack.command("timezone", team="T2")
    assert "*UTC*" in slack.responses(2)[-1]["text"]
    slack.command("timezone Mars/Base")
    assert "Unknown timezone" in slack.responses(3)[-1]["text"]


def test_chart_is_uploaded_to_the_channel_with_its_summary(slack):
    connect(slack)
    response = slack.command("chart sessions 7")
    assert "Drawing the chart" in text_of(response)
    (complete,) = slack.fake.wait_for("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C1"
    assert "*Sessions* · Shop · last 7 days" in complete.params["initial_comment"]
    assert "Latest: *" in complete.params["initial_comment"]
    (png,) = [b for b in slack.fake.uploads.values() if b]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(slack.sandbox.calls) == 5  # drawn from stored history: no Clarity call


def test_chart_in_a_private_channel_without_me_says_how_to_invite(slack):
    connect(slack)
    slack.fake.fail("files.completeUploadExternal", "not_in_channel", channel="CPRIV")
    slack.command("chart rage_click_rate 30", channel="CPRIV")
    reply = slack.responses(2)[-1]
    assert "/invite @claritybot" in reply["text"]
    assert slack.fake.called("conversations.join") == []


def test_chart_in_a_public_channel_joins_once_and_posts(slack):
    connect(slack)
    slack.fake.fail("files.completeUploadExternal", "not_in_channel", channel="CPUBLIC")
    slack.command("chart scroll_depth 30", channel="CPUBLIC")
    slack.fake.wait_for("files.completeUploadExternal", 2)
    assert [c.params["channel"] for c in slack.fake.called("conversations.join")] == ["CPUBLIC"]


@pytest.mark.parametrize(
    "text", ["chart sessions 7 {id}", "disconnect {id}", "chart top_channels 30 {id}"]
)
def test_another_workspace_cannot_reach_a_source_by_id(slack, engine, text):
    connect(slack, team="T1")
    with Session(engine) as session:
        source_id = session.exec(select(Source)).one().id
    slack.command(text.format(id=source_id), team="T2")
    reply = slack.responses(2)[-1]
    assert "No Clarity project is connected here yet" in reply["text"]
    with Session(engine) as session:
        assert session.get(Source, source_id).status == "connected"
    assert slack.fake.called("files.completeUploadExternal") == []


def test_disconnect_forgets_the_token_and_keeps_history(slack, engine):
    connect(slack)
    slack.command("disconnect Shop")
    assert "Disconnected *Shop*" in slack.responses(2)[-1]["text"]
    with Session(engine) as session:
        source = session.exec(select(Source)).one()
        assert (source.status, source.token_encrypted) == ("removed", "")
        assert len(session.exec(select(Snapshot)).all()) == 5


def test_app_home_shows_the_workspaces_sources(slack):
    connect(slack)
    response = slack.event({"type": "app_home_opened", "user": "U1", "tab": "home",
                            "channel": "D1"})  # fmt: skip
    assert response.status == 200
    (published,) = slack.fake.wait_for("views.publish")
    assert published.params["user_id"] == "U1" and "*Shop*" in str(published.params["view"])
