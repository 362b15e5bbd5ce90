"""A real Bolt app, signed requests, a loopback Slack Web API and the Clarity sandbox."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.app import create_app
from bot.slack.clients import WorkspaceClients
from bot.slack.deliver import SlackSender
from bot.slack.posting import web_client
from bot.slack.services import SlackServices
from reports.clarity.client import ClarityClient
from reports.clarity.sandbox import ClaritySandbox
from reports.delivery.dispatch import Dispatcher
from reports.delivery.email import EmailSender, SmtpSender
from reports.render.charts import ChartMaker
from reports.settings import Settings, SlackSettings
from store.crypto import TokenCipher, generate_key
from store.vocab import DestinationKind
from tests.fakes.loopback import http_client
from tests.fakes.slack_api import FakeSlack
from tests.reports.test_mail import Inbox, free_port

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


class TrackedExecutor(ThreadPoolExecutor):
    """Bolt's pool for lazy listeners, which a test can wait on until all of them finished."""

    def __init__(self) -> None:
        super().__init__(max_workers=5)
        self._futures: list[Future] = []
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs):
        future = super().submit(fn, *args, **kwargs)
        with self._lock:
            self._futures.append(future)
        return future

    def wait_idle(self, timeout: float = 60.0) -> None:
        """Wait until every task submitted so far (and any they submitted) has finished."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                pending = [f for f in self._futures if not f.done()]
            if not pending:
                return
            assert time.monotonic() < deadline, f"{len(pending)} lazy listeners still running"
            wait(pending, timeout=deadline - time.monotonic())


class SlackHarness:
    """Sends signed Slack payloads to the app and inspects what it did."""

    def __init__(
        self,
        app,
        fake: FakeSlack,
        sandbox: ClaritySandbox,
        services: SlackServices,
        listeners: TrackedExecutor,
    ):
        self.app, self.fake, self.sandbox, self.services = app, fake, sandbox, services
        self.listeners = listeners

    def settle(self) -> None:
        """Wait until every lazy listener started so far has finished its work."""
        self.listeners.wait_idle()

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
    with http_client(timeout=60) as http:  # timeouts here only bound a hang
        services = SlackServices(
            engine=engine,
            cipher=TokenCipher(generate_key()),
            clarity=ClarityClient(http=http, base_url=sandbox.url),
            clock=lambda: NOW,
        )
        with running_app(services, fake_slack, sandbox) as harness:
            yield harness


@pytest.fixture
def delivering(engine, fake_slack, sandbox):
    """The app with the worker's destinations: Slack (the fake) and email (aiosmtpd on loopback).

    Yields the harness and the inbox of the mail server.
    """
    inbox, port = Inbox(), free_port()
    mail = Controller(inbox, hostname="127.0.0.1", port=port)
    mail.start()
    smtp = Settings.from_env({"SMTP_URL": f"smtp://127.0.0.1:{port}", "MAIL_FROM": "bot@x.org"})
    assert smtp.smtp is not None
    slack_out = WorkspaceClients(engine, api_url=fake_slack.url, bot_token="xoxb-test")
    senders = {
        DestinationKind.EMAIL: EmailSender(SmtpSender(smtp.smtp)),
        DestinationKind.SLACK: SlackSender(slack_out),
    }
    try:
        with http_client(timeout=60) as http:
            charts = ChartMaker()
            services = SlackServices(
                engine=engine,
                cipher=TokenCipher(generate_key()),
                clarity=ClarityClient(http=http, base_url=sandbox.url),
                clock=lambda: NOW,
                charts=charts,
                dispatcher=Dispatcher(engine=engine, senders=senders, owner="t", charts=charts),
            )
            with running_app(services, fake_slack, sandbox) as harness:
                yield harness, inbox
    finally:
        mail.stop()


@contextmanager
def running_app(services, fake_slack, sandbox, bot_token="xoxb-test"):
    """The real Bolt app over `services`, its lazy listeners tracked so tests can wait on them."""
    listeners = TrackedExecutor()
    app = create_app(
        services,
        signing_secret=SECRET,
        client=web_client(bot_token, fake_slack.url),
        listener_executor=listeners,
    )
    fake_slack.reset()  # Bolt checks the bot token with auth.test at start-up
    try:
        yield SlackHarness(app, fake_slack, sandbox, services, listeners)
    finally:
        # A listener still running would outlive its database, fakes and sandbox.
        listeners.wait_idle()
        listeners.shutdown()
