"""A real Bolt app, signed requests, a loopback Slack Web API and the Clarity sandbox."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx
import pytest
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import create_app
from bot.slack.posting import web_client
from bot.slack.services import SlackServices
from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.settings import Settings, SlackSettings
from store.crypto import TokenCipher, generate_key
from tests.fakes.slack_api import FakeSlack

SECRET = "test-signing-secret"
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def slack_settings(env: dict[str, str]) -> SlackSettings:
    """The Slack section of the settings, checked as `claritybot serve` checks it."""
    return Settings.from_env(env).slack.for_serving()


def signed_headers(body: str, *, secret: str = SECRET, ts: int | None = None) -> dict:
    stamp = str(int(time.time()) if ts is None else ts)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-signature": [signature],
        "x-slack-request-timestamp": [stamp],
    }


class SlackHarness:
    """Sends signed Slack payloads to the app and inspects what it did."""

    def __init__(self, app, fake: FakeSlack, sandbox: ClaritySandbox, services: SlackServices):
        self.app, self.fake, self.sandbox, self.services = app, fake, sandbox, services

    def command(self, text: str, *, team: str = "T1", user: str = "U1", channel: str = "C1",
                **header_kw):  # fmt: skip
        body = urlencode({
            "token": "verification", "team_id": team, "team_domain": "acme", "user_id": user,
            "user_name": "ann", "command": "/clarity", "text": text, "channel_id": channel,
            "response_url": self.fake.response_url, "trigger_id": "trigger-1",
            "api_app_id": "A1",
        })  # fmt: skip
        return self.app.dispatch(BoltRequest(body=body, headers=signed_headers(body, **header_kw)))

    def interaction(self, payload: dict, **header_kw):
        body = urlencode({"payload": json.dumps(payload)})
        return self.app.dispatch(BoltRequest(body=body, headers=signed_headers(body, **header_kw)))

    def event(self, event: dict, *, team: str = "T1"):
        body = json.dumps({"type": "event_callback", "team_id": team, "api_app_id": "A1",
                           "event": event, "event_id": "Ev1", "event_time": 1})  # fmt: skip
        headers = signed_headers(body) | {"content-type": ["application/json"]}
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def responses(self, count: int = 1) -> list[dict]:
        return [c.params for c in self.fake.wait_for("respond", count)]


@pytest.fixture
def fake_slack():
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def sandbox():
    with ClaritySandbox(clock=lambda: NOW) as box:
        yield box


@pytest.fixture
def slack(engine, fake_slack, sandbox):
    with httpx.Client(timeout=5) as http:
        services = SlackServices(
            engine=engine,
            cipher=TokenCipher(generate_key()),
            clarity=ClarityClient(http=http, base_url=sandbox.url),
            clock=lambda: NOW,
        )
        client = web_client("xoxb-test", fake_slack.url)
        app = create_app(services, signing_secret=SECRET, client=client)
        fake_slack.reset()  # Bolt checks the bot token with auth.test at start-up
        yield SlackHarness(app, fake_slack, sandbox, services)
