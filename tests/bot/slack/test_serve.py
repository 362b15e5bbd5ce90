from __future__ import annotations

import threading
from urllib.parse import urlencode

import httpx
import pytest

from bot.slack.serve import make_server
from bot.slack.settings import SlackSettings
from store.errors import ConfigError
from tests.bot.slack.conftest import signed_headers


@pytest.fixture
def served(slack):
    server = make_server(slack.app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=5)


def flat(headers):
    return {k: v[0] for k, v in headers.items()}


def test_http_mode_serves_health_and_signed_commands(served):
    with httpx.Client(base_url=served, timeout=5) as http:
        assert http.get("/healthz").text == "ok"
        body = urlencode({"team_id": "T1", "user_id": "U1", "command": "/clarity", "text": "help",
                          "channel_id": "C1", "response_url": "http://127.0.0.1:9/x"})  # fmt: skip
        ok = http.post("/slack/events", content=body, headers=flat(signed_headers(body)))
        assert ok.status_code == 200 and "/clarity connect" in ok.text
        forged = http.post("/slack/events", content=body,
                           headers=flat(signed_headers(body, secret="nope")))  # fmt: skip
        assert forged.status_code == 401
        assert http.get("/anything-else").status_code == 404


def test_settings_say_what_is_missing():
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        SlackSettings.from_env({})
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    socket = SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert socket.socket_mode and socket.port == 3000 and socket.host == "127.0.0.1"
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "PORT": "8080",
           "SLACK_API_URL": "http://127.0.0.1:1/api"}  # fmt: skip
    http = SlackSettings.from_env(env)
    assert not http.socket_mode and http.port == 8080 and http.api_url.endswith("/api/")
