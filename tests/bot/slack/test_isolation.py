"""Workspace B can never see or change workspace A's sources, by any command, button or tab."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from store.models import QuotaCall, Source, Subscription, Workspace
from tests.bot.slack.test_commands import connect, press

COMMANDS = [
    "status", "sources", "doctor", "chart sessions 7 {id}", "chart sessions 7 Secret Shop",
    "chart top_pages_by_sessions 30 {id}", "disconnect {id}", "disconnect Secret Shop",
    "refresh {id}", "refresh Secret Shop", "timezone Asia/Tokyo", "connect", "metrics", "help",
    "subscribe sessions {id}", "subscribe digest weekly Secret Shop", "subscribe",
    "unsubscribe", "unsubscribe {sub}",
]  # fmt: skip


def state(engine):
    with Session(engine) as session:
        source = session.exec(select(Source)).one()
        calls = len(session.exec(select(QuotaCall)).all())
        zones = {w.name: w.timezone for w in session.exec(select(Workspace)).all()}
        subs = [(s.id, s.active) for s in session.exec(select(Subscription)).all()]
        return source.status, source.token_encrypted, calls, zones.get("slack:T1"), subs


@pytest.mark.parametrize("text", COMMANDS)
def test_a_command_from_workspace_b_never_touches_a(slack, engine, text):
    connect(slack, label="Secret Shop", team="T1")
    slack.command("subscribe sessions", team="T1")
    slack.fake.wait_for("respond", 2)
    with Session(engine) as session:
        source_id = session.exec(select(Source)).one().id
        sub_id = session.exec(select(Subscription)).one().id
    before = state(engine)
    response = slack.command(text.format(id=source_id, sub=sub_id), team="T2", user="U2",
                             channel="C1")  # fmt: skip
    assert response.status == 200
    slack.fake.wait_for("views.open" if text == "connect" else "respond", 1)
    slack.settle()  # every lazy listener has finished: nothing more can happen
    seen = str(response.body) + str([c.params for c in slack.fake.calls[2:]])
    assert "Secret Shop" not in seen
    assert slack.fake.called("chat.postMessage") == [] and slack.fake.called("chat.update") == []
    assert state(engine) == before
    assert len(slack.sandbox.calls) == 5


def test_a_button_or_home_tab_from_workspace_b_never_touches_a(slack, engine):
    connect(slack, label="Secret Shop", team="T1")
    slack.command("chart sessions 7", team="T1")
    (message,) = slack.fake.wait_for("chat.postMessage")
    before = state(engine)
    press(slack, message, "chart_90", team="T2", user="U2")
    slack.event({"type": "app_home_opened", "user": "U2", "tab": "home", "channel": "D2"},
                team="T2")  # fmt: skip
    (home,) = slack.fake.wait_for("views.publish")
    slack.fake.wait_for("respond", 2)
    assert "Secret Shop" not in str(home.params) and slack.fake.called("chat.update") == []
    assert state(engine) == before
