"""One workspace for the CLI and Slack, and project buttons that a channel remembers."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from sqlmodel import Session, select

from bot.cli import main
from bot.slack.services import SlackServices
from reports.clarity.client import ClarityClient
from store.crypto import TokenCipher, generate_key
from store.models import Source, Workspace
from tests.bot.slack.conftest import NOW, running_app

KEY = generate_key()


def cli(db_url: str, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    env = {"DATABASE_URL": db_url, "CLARITYBOT_SECRET_KEY": KEY}
    code = main(list(argv), environ=env, out=out, err=err, clock=lambda: NOW)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def single(engine, fake_slack, sandbox):
    """`claritybot serve` with one bot token: a single-workspace app."""
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


def test_two_projects_get_buttons_and_the_channel_remembers_the_pick(single, db_url, tmp_path):
    add_with_cli(single, db_url, tmp_path, "Shop")
    blog = add_with_cli(single, db_url, tmp_path, "Blog")
    single.command("chart sessions 7", team="T0123", channel="C9")
    (reply,) = single.responses()
    buttons = reply["blocks"][1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Shop", "Blog"]
    assert single.fake.called("files.getUploadURLExternal") == []  # nothing drawn yet
    pick = next(b for b in buttons if b["text"]["text"] == "Blog")
    single.interaction({
        "type": "block_actions", "team": {"id": "T0123"}, "user": {"id": "U1"},
        "channel": {"id": "C9"}, "api_app_id": "A1", "trigger_id": "t",
        "response_url": single.fake.response_url, "container": {"type": "message"},
        "actions": [{"action_id": pick["action_id"], "value": pick["value"], "type": "button"}],
    })  # fmt: skip
    (posted,) = single.fake.wait_for("chat.postMessage")
    assert "Blog" in json.dumps(posted.params) and "last 7 days" in json.dumps(posted.params)
    assert list(single.services.picked.values()) == [blog]
    # Next time in that channel: no question, the Blog chart straight away.
    single.command("chart sessions 30", team="T0123", channel="C9")
    (_, second) = single.fake.wait_for("chat.postMessage", 2)
    assert "Blog" in json.dumps(second.params) and "last 30 days" in json.dumps(second.params)
    # Another channel is asked again.
    single.command("chart sessions 7", team="T0123", channel="C10")
    (*_, again) = single.responses(2)
    assert again["blocks"][1]["elements"][0]["text"]["text"] == "Shop"
