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
    slack.settle()
    assert slack.fake.called("respond") == []  # nothing else happened


def test_metrics_lists_the_catalogue_by_category_in_the_ack(slack):
    response = slack.command("metrics")
    text = text_of(response)
    assert (
        "*Traffic*: `sessions`" in text and "*Frustration*:" in text and "`rage_click_rate`" in text
    )
    assert "/clarity chart <metric> [7|30|90]" in text


@pytest.mark.parametrize("kw", [{"secret": "wrong"}, {"ts": int(time.time()) - 600}])
def test_bad_or_stale_signatures_are_rejected_with_no_side_effect(slack, engine, kw):
    response = slack.command(f"connect {slack.sandbox.issue_token('shop')} Shop", **kw)
    assert response.status == 401
    slack.settle()
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
    (*_, reply) = slack.fake.wait_for("respond", before + 1)
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
    (message,) = slack.fake.wait_for("chat.postMessage")
    assert message.params["channel"] == "C1"
    section, image, actions = message.params["blocks"]
    assert "*Sessions* · Shop · last 7 days" in section["text"]["text"]
    assert "Latest: *" in section["text"]["text"]
    (upload,) = slack.fake.called("files.completeUploadExternal")
    assert "channel_id" not in upload.params  # shared by the image block, not a second message
    assert image["slack_file"]["id"] == "F1" and image["alt_text"].startswith("Sessions, daily")
    png = slack.fake.uploads["F1"]
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [(b["action_id"], b.get("style")) for b in actions["elements"]]
    assert labels == [("chart_7", "primary"), ("chart_30", None), ("chart_90", None),
                      ("chart_device", None)]  # fmt: skip
    assert len(slack.sandbox.calls) == 5  # drawn from stored history: no Clarity call


def press(slack, message, action_id, *, team="T1", user="U1"):
    """Click a button of a posted chart message."""
    (button,) = [b for b in message.params["blocks"][-1]["elements"] if b["action_id"] == action_id]
    return slack.interaction({
        "type": "block_actions", "team": {"id": team}, "user": {"id": user}, "api_app_id": "A1",
        "container": {"type": "message", "channel_id": "C1", "message_ts": "111.222"},
        "channel": {"id": "C1"}, "message": {"ts": "111.222"}, "trigger_id": "t",
        "response_url": slack.fake.response_url,
        "actions": [{"action_id": action_id, "block_id": "chart_buttons", "type": "button",
                     "value": button["value"]}],
    })  # fmt: skip


def test_buttons_redraw_the_chart_in_place_without_quota(slack):
    connect(slack)
    slack.command("chart rage_click_rate 7")
    (message,) = slack.fake.wait_for("chat.postMessage")
    assert press(slack, message, "chart_90").status == 200
    (update,) = slack.fake.wait_for("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("C1", "111.222")
    assert "last 90 days" in update.params["blocks"][0]["text"]["text"]
    styles = {b["action_id"]: b.get("style") for b in update.params["blocks"][-1]["elements"]}
    assert styles["chart_90"] == "primary" and styles["chart_7"] is None
    press(slack, update, "chart_device")
    by_device = slack.fake.wait_for("chat.update", 2)[-1]
    assert "Rage clicks per 100 sessions by device" in by_device.params["blocks"][0]["text"]["text"]
    assert "Daily" in str(by_device.params["blocks"][-1])
    assert slack.fake.called("chat.postMessage") == [message]  # no new messages
    assert len(slack.sandbox.calls) == 5


def test_a_button_cannot_reach_another_workspaces_source(slack):
    connect(slack, team="T1")
    slack.command("chart sessions 7")
    (message,) = slack.fake.wait_for("chat.postMessage")
    press(slack, message, "chart_30", team="T2")
    (reply,) = [c.params for c in slack.fake.wait_for("respond", 2)[1:]]
    assert "No Clarity project is connected here yet" in reply["text"]
    assert slack.fake.called("chat.update") == []


def test_a_forged_button_value_gets_an_answer_not_a_crash(slack):
    connect(slack)
    slack.command("chart sessions 7")
    (message,) = slack.fake.wait_for("chat.postMessage")
    message.params["blocks"][-1]["elements"][0]["value"] = "{not json"
    press(slack, message, "chart_7")
    assert "older message" in slack.fake.wait_for("respond", 2)[-1].params["text"]


def test_an_image_slack_is_still_processing_is_retried(slack):
    connect(slack)
    slack.fake.fail("chat.postMessage", "invalid_blocks", times=2)
    slack.command("chart sessions 7")
    posts = slack.fake.wait_for("chat.postMessage", 3)
    assert len(posts) == 3 and slack.fake.called("files.completeUploadExternal")[0]


def test_slack_rate_limits_are_waited_out_with_retry_after(slack):
    connect(slack)
    slack.fake.rate_limit("chat.postMessage", retry_after=1)
    started = time.monotonic()
    slack.command("chart sessions 7")
    slack.fake.wait_for("chat.postMessage")
    assert time.monotonic() - started >= 1.0
    assert [c.params["method"] for c in slack.fake.called("ratelimited")] == ["chat.postMessage"]


def test_chart_in_a_private_channel_without_me_says_how_to_invite(slack):
    connect(slack)
    slack.fake.fail("chat.postMessage", "not_in_channel", channel="CPRIV")
    slack.command("chart rage_click_rate 30", channel="CPRIV")
    reply = slack.responses(2)[-1]
    assert "/invite @claritybot" in reply["text"]
    assert slack.fake.called("conversations.join") == []


def test_chart_in_a_public_channel_joins_once_and_posts(slack):
    connect(slack)
    slack.fake.fail("chat.postMessage", "not_in_channel", channel="CPUBLIC")
    slack.command("chart scroll_depth 30", channel="CPUBLIC")
    slack.fake.wait_for("chat.postMessage", 2)
    assert [c.params["channel"] for c in slack.fake.called("conversations.join")] == ["CPUBLIC"]


@pytest.mark.parametrize("error", ["channel_not_found", "is_archived", "invalid_auth"])
def test_post_errors_are_turned_into_fixes(slack, error):
    connect(slack)
    slack.fake.fail("chat.postMessage", error)
    slack.command("chart sessions")
    reply = slack.responses(2)[-1]["text"]
    assert error not in reply and any(w in reply for w in ("Invite", "archived", "reinstall"))


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
    assert slack.fake.called("chat.postMessage") == []


def test_disconnect_forgets_the_token_and_keeps_history(slack, engine):
    from store.models import AlertRule, Subscription

    connect(slack)
    slack.command("subscribe sessions")
    slack.command("alert add sessions below 10 over 7d")
    slack.responses(3)
    slack.command("disconnect Shop")
    assert "Disconnected *Shop*" in slack.responses(4)[-1]["text"]
    with Session(engine) as session:
        assert [s.active for s in session.exec(select(Subscription)).all()] == [False]
        assert [r.active for r in session.exec(select(AlertRule)).all()] == [False]
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
