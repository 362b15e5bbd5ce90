"""The composition root: settings read once, each client built once and shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.cli.runtime import Runtime
from reports.errors import ConfigError
from reports.settings import Settings
from store.crypto import generate_key
from tests.reports.test_render_pool import a_series, spawned_workers

SECRETS = {
    "CLARITYBOT_SECRET_KEY": generate_key(),
    "SMTP_URL": "smtps://me:smtp-pass@mail.example.com",
    "MAIL_FROM": "reports@example.com",
    "OPENAI_API_KEY": "sk-openai-secret",
    "SLACK_BOT_TOKEN": "xoxb-slack-secret",
    "SLACK_SIGNING_SECRET": "signing-secret",
}


@pytest.fixture
def runtime(tmp_path):
    rt = Runtime(environ={"DATABASE_URL": f"sqlite:///{tmp_path / 'rt.db'}", **SECRETS})
    yield rt
    rt.close()


def test_every_section_is_read_at_once_and_no_secret_is_in_a_repr():
    settings = Settings.from_env(SECRETS | {"PUBLIC_URL": " https://bot.example.com "})
    assert settings.smtp is not None and settings.smtp.password == "smtp-pass"
    assert settings.ai is not None and settings.ai.api_key == "sk-openai-secret"
    assert settings.slack.bot_token == "xoxb-slack-secret" and settings.slack.reachable
    assert settings.public_url == "https://bot.example.com"
    shown = repr(settings)
    secrets = ["smtp-pass", "sk-openai-secret", "xoxb-slack-secret", "signing-secret"]
    assert [s for s in [*secrets, SECRETS["CLARITYBOT_SECRET_KEY"]] if s in shown] == []


def test_only_serve_insists_on_slack():
    settings = Settings.from_env({})
    assert not settings.slack.reachable and settings.ai is None and settings.smtp is None
    with pytest.raises(ConfigError, match="SLACK_BOT_TOKEN"):
        settings.slack.for_serving()


def test_the_workers_share_one_set_of_clients(runtime):
    first, second, alerts = runtime.dispatcher("a"), runtime.dispatcher("b"), runtime.alerts()
    assert first.summarizer is second.summarizer is runtime.summarizer
    assert runtime.summarizer.client is runtime.openai is not None
    assert first.senders is second.senders is alerts.senders
    assert set(first.senders) == {"outbox", "email", "slack"}
    assert first.charts is alerts.charts is runtime.charts
    assert first.notifier is runtime.notifier


def test_without_a_key_no_openai_client_is_built(tmp_path):
    rt = Runtime(environ={"DATABASE_URL": f"sqlite:///{tmp_path / 'rt.db'}"})
    try:
        assert rt.openai is None and rt.summarizer.client is None
        assert set(rt.senders) == {"outbox"}
    finally:
        rt.close()


def test_serve_draws_its_charts_in_worker_processes_and_close_stops_them(runtime):
    services = runtime.slack_services(pooled=True)
    assert services.charts is runtime.pooled_charts is not runtime.charts
    assert services.dispatcher is not None and services.dispatcher.charts is services.charts
    assert runtime.slack_services().charts is runtime.charts  # the other commands: in-process
    runtime.close()  # never drew: nothing to stop, and no error


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc")
def test_a_ticks_reports_draw_in_one_worker_process_and_serve_shares_its_two(runtime):
    tick_charts = runtime.dispatcher().drawing_elsewhere().charts
    assert tick_charts is runtime.report_charts
    tick_charts.draw("line", a_series())
    assert len(spawned_workers(os.getpid())) == 1  # the tick itself keeps the other core busy
    runtime.close()

    serving = Runtime(environ=runtime.environ)
    try:
        pooled = serving.pooled_charts  # serve builds its two first; reports then use them
        assert serving.dispatcher().drawing_elsewhere().charts is pooled
        pooled.draw("line", a_series())
        assert len(spawned_workers(os.getpid())) == 2
    finally:
        serving.close()
    assert spawned_workers(os.getpid()) == set()
