"""One workspace for the CLI and Slack, and project buttons that a channel remembers."""

from __future__ import annotations

import io
import json
from contextlib import contextmanager

import httpx
import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.slack.services import SlackServices
from reports.clarity.client import ClarityClient
from store.crypto import TokenCipher, generate_key
from store.models import ChannelChoice, Source, Workspace
from tests.bot.slack.conftest import NOW, running_app

KEY = generate_key()


def cli(db_url: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"DATABASE_URL": db_url, "CLARITYBOT_SECRET_KEY": KEY}
    code = main(list(argv), environ=env, out=out, err=err, clock=lambda: NOW)
    return code, out.getvalue(), err.getvalue()


@contextmanager
def serving(engine, fake_slack, sandbox):
    """One run of `claritybot serve` with one bot token: a single-workspace app."""
    with httpx.Client(timeout=5) as http:
        services = SlackServices(
            engine=engine,
            cipher=TokenCipher(KEY),
            clarity=ClarityClient(http=http, base_url=sandbox.url),
            clock=lambda: NOW,
            single_workspace=True,
        )
        with running_app(services, fake_slack, sandbox, "xoxb-t") as harness:
            yield harness


@pytest.fixture
def single(engine, fake_slack, sandbox):
    with serving(engine, fake_slack, sandbox) as harness:
        yield harness


def add_with_cli(single, db_url, tmp_path, label: str, *extra: str) -> int:
    token = tmp_path / f"{label}.txt"
    token.write_text(single.sandbox.issue_token(label.lower()))
    code, out, _err = cli(db_url, "sources", "add", "--label", label, "--token-file", str(token),
                          *extra)  # fmt: skip
    assert code == 0, _err
    return int(out)


def status_text(single) -> str:
    single.command("status", team="T0123")
    (reply,) = single.responses()
    return json.dumps(reply)


def test_a_cli_project_shows_in_status_of_a_single_workspace_serve(single, db_url, tmp_path):
    add_with_cli(single, db_url, tmp_path, "Marketing")
    text = status_text(single)
    assert "Marketing" in text and "1 Clarity project(s) connected" in text


def test_sources_add_workspace_and_workspaces_link_attach_cli_projects(
    slack, engine, db_url, tmp_path
):
    add_with_cli(slack, db_url, tmp_path, "Shop", "--workspace", "T0123")
    add_with_cli(slack, db_url, tmp_path, "Blog")
    with Session(engine) as session:
        teams = {s.label: session.get(Workspace, s.workspace_id).name
                 for s in session.exec(select(Source))}  # fmt: skip
    assert teams == {"Shop": "slack:T0123", "Blog": "default"}
    code, out, _ = cli(db_url, "workspaces", "link", "T0123")
    assert code == 0 and "Moved 1 project(s)" in out
    slack.command("status", team="T0123")  # the multi-team app sees both now
    (reply,) = slack.responses()
    assert "Shop" in json.dumps(reply) and "Blog" in json.dumps(reply)
    code, _, err = cli(db_url, "workspaces", "link", "not a team")
    assert code == 2 and "not a Slack team id" in err


def choices(engine) -> list[tuple[str, int]]:
    with Session(engine) as session:
        return [(c.channel, c.source_id) for c in session.exec(select(ChannelChoice))]


def pick(single, label="Blog", channel="C9", command="chart sessions 7") -> list[str]:
    """`/clarity chart sessions 7` with several projects: buttons, nothing drawn; click one.

    Returns the buttons' labels."""
    single.command(command, team="T0123", channel=channel)
    reply = single.responses(len(single.fake.called("respond")) + 1)[-1]
    buttons = reply["blocks"][1]["elements"]
    assert single.fake.called("files.getUploadURLExternal") == []  # nothing drawn yet
    chosen = next(b for b in buttons if b["text"]["text"] == label)
    single.interaction(
        {
            "type": "block_actions",
            "team": {"id": "T0123"},
            "user": {"id": "U1"},
            "channel": {"id": channel},
            "api_app_id": "A1",
            "trigger_id": "t",
            "response_url": single.fake.response_url,
            "container": {"type": "message"},
            "actions": [
                {"action_id": chosen["action_id"], "value": chosen["value"], "type": "button"}
            ],
        }
    )
    return [b["text"]["text"] for b in buttons]


def test_two_projects_get_buttons_and_the_channel_remembers_the_pick(single, db_url, tmp_path):
    add_with_cli(single, db_url, tmp_path, "Shop")
    blog = add_with_cli(single, db_url, tmp_path, "Blog")
    assert pick(single) == ["Shop", "Blog"]
    (posted,) = single.fake.wait_for("chat.postMessage")
    assert "Blog" in json.dumps(posted.params) and "last 7 days" in json.dumps(posted.params)
    assert choices(single.services.engine) == [("C9", blog)]
    # Next time in that channel: no question, the Blog chart straight away.
    single.command("chart sessions 30", team="T0123", channel="C9")
    (_, second) = single.fake.wait_for("chat.postMessage", 2)
    assert "Blog" in json.dumps(second.params) and "last 30 days" in json.dumps(second.params)
    # Another channel is asked again.
    single.command("chart sessions 7", team="T0123", channel="C10")
    (*_, again) = single.responses(2)
    assert again["blocks"][1]["elements"][0]["text"]["text"] == "Shop"


def test_a_pick_does_not_turn_the_project_id_into_days(single, db_url, tmp_path):
    add_with_cli(single, db_url, tmp_path, "Shop")
    add_with_cli(single, db_url, tmp_path, "Blog")  # id 2: once read as "2 days" and refused
    assert pick(single, command="chart sessions") == ["Shop", "Blog"]
    (posted,) = single.fake.wait_for("chat.postMessage")
    assert "Blog" in json.dumps(posted.params) and "last 30 days" in json.dumps(posted.params)


def test_the_pick_survives_a_restart_of_the_app(engine, fake_slack, sandbox, db_url, tmp_path):
    with serving(engine, fake_slack, sandbox) as first:
        add_with_cli(first, db_url, tmp_path, "Shop")
        blog = add_with_cli(first, db_url, tmp_path, "Blog")
        assert pick(first) == ["Shop", "Blog"]
        first.fake.wait_for("chat.postMessage")
    fake_slack.reset()
    with serving(engine, fake_slack, sandbox) as second:  # a new process: nothing in memory
        second.command("chart sessions 7", team="T0123", channel="C9")
        (posted,) = second.fake.wait_for("chat.postMessage")
        second.settle()
        assert "Blog" in json.dumps(posted.params) and "last 7 days" in json.dumps(posted.params)
        assert [c.params["text"] for c in second.fake.called("respond")] == []
    assert choices(engine) == [("C9", blog)]


def test_a_removed_projects_pick_is_ignored(single, db_url, tmp_path):
    add_with_cli(single, db_url, tmp_path, "Shop")
    add_with_cli(single, db_url, tmp_path, "Blog")
    add_with_cli(single, db_url, tmp_path, "Docs")
    assert pick(single) == ["Shop", "Blog", "Docs"]
    single.fake.wait_for("chat.postMessage")
    single.command("disconnect Blog", team="T0123", channel="C9")
    assert "Disconnected *Blog*" in single.responses(2)[-1]["text"]
    single.command("chart sessions 7", team="T0123", channel="C9")
    again = single.responses(3)[-1]
    assert [b["text"]["text"] for b in again["blocks"][1]["elements"]] == ["Shop", "Docs"]
    assert len(single.fake.called("chat.postMessage")) == 1
