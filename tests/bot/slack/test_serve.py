from __future__ import annotations

import threading
from urllib.parse import urlencode

import httpx
import pytest

from bot.slack.serve import make_server, shutdown
from bot.slack.settings import SlackSettings
from bot.slack.unsubscribe import Unsubscribe
from reports.mail import Links
from reports.sources import add_source
from reports.subscriptions import NewSubscription, list_subscriptions, subscribe
from store.errors import ConfigError
from tests.bot.slack.conftest import NOW, signed_headers


@pytest.fixture
def links(slack):
    return Links("https://bot.example.com", slack.services.cipher)


@pytest.fixture
def served(slack, links):
    unsubscribe = Unsubscribe(engine=slack.services.engine, links=links, clock=lambda: NOW)
    server = make_server(slack.app, host="127.0.0.1", port=0, unsubscribe=unsubscribe)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    shutdown(server)
    thread.join(timeout=60)
    assert not thread.is_alive()


def flat(headers):
    return {k: v[0] for k, v in headers.items()}


def test_http_mode_serves_health_and_signed_commands(served):
    with httpx.Client(base_url=served, timeout=60) as http:
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


def test_one_click_unsubscribe_works_once_and_is_idempotent(served, slack, links):
    services = slack.services
    source = add_source(services.engine, cipher=services.cipher, label="Shop",
                        raw_token=slack.sandbox.issue_token("shop"), now=NOW,
                        workspace_id=services.workspace_id("T1"))  # fmt: skip
    request = NewSubscription(source_id=source, metrics=["digest"], kind="email",
                              destination="a@example.com")  # fmt: skip
    sub = subscribe(services.engine, request, workspace_id=None, now=NOW)
    path = links.unsubscribe_url(sub.id).removeprefix("https://bot.example.com")
    with httpx.Client(base_url=served, timeout=60) as http:
        page = http.get(path)  # a mail scanner following the link changes nothing
        assert page.status_code == 200 and 'method="post"' in page.text
        assert [s.id for s in list_subscriptions(services.engine)] == [sub.id]
        forged = http.post(path.replace("t=", "t=0"), content="List-Unsubscribe=One-Click")
        assert forged.status_code == 403
        assert [s.id for s in list_subscriptions(services.engine)] == [sub.id]
        for _ in range(2):  # RFC 8058 one-click, then again: same answer
            done = http.post(path, content="List-Unsubscribe=One-Click")
            assert done.status_code == 200 and "Unsubscribed" in done.text
    assert list_subscriptions(services.engine) == []
