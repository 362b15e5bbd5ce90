"""The database unreachable: `/clarity` commands say so, App Home shows an error view, no 500."""

from __future__ import annotations

import logging

import httpx
import pytest

from bot.slack.calls import DATABASE_DOWN
from bot.slack.services import SlackServices
from reports.clarity.client import ClarityClient
from store.crypto import TokenCipher, generate_key
from store.db import make_engine
from tests.bot.slack.conftest import NOW, running_app


def _closed_port() -> int:
    import socket

    with socket.socket() as s:  # bound, never listening: connecting is refused at once
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["sqlite", "postgresql"])
def down(request, tmp_path, fake_slack, sandbox):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/no/such/dir/claritybot.db"  # cannot be opened
    else:
        url = f"postgresql://postgres@127.0.0.1:{_closed_port()}/test"
    engine = make_engine(url)
    with httpx.Client(timeout=5) as http:
        services = SlackServices(
            engine=engine,
            cipher=TokenCipher(generate_key()),
            clarity=ClarityClient(http=http, base_url=sandbox.url),
            clock=lambda: NOW,
        )
        with running_app(services, fake_slack, sandbox, "xoxb-t") as harness:
            yield harness
    engine.dispose()


@pytest.mark.parametrize(
    "words",
    [
        "status",
        "chart sessions",
        "connect {token} Shop",
        "subscribe",
        "refresh",
        "alert list",
        "unsubscribe",
        "timezone",
        "disconnect 1",
    ],
)
def test_commands_say_the_database_is_unavailable(down, words, caplog):
    caplog.set_level(logging.DEBUG)
    response = down.command(words.format(token=down.sandbox.issue_token("shop")))
    assert response.status == 200
    (reply,) = down.responses()
    assert reply["text"] == DATABASE_DOWN
    assert "Traceback" not in caplog.text
    assert down.sandbox.calls == []


def test_app_home_renders_an_error_view(down, caplog):
    caplog.set_level(logging.DEBUG)
    response = down.event({"type": "app_home_opened", "user": "U1", "tab": "home"})
    assert response.status == 200
    (publish,) = down.fake.wait_for("views.publish")
    assert DATABASE_DOWN in str(publish.params["view"])
    assert "Traceback" not in caplog.text
