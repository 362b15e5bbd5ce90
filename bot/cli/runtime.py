"""What every command needs, built once from the environment: settings, engine, clients."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

import httpx
from sqlalchemy import Engine

from reports.clarity.client import ClarityClient
from reports.errors import UsageError
from reports.ingest.scheduler import Scheduler
from reports.ingest.snapshot import Snapshotter
from reports.notify import LogNotifier, Notifier
from reports.settings import Settings
from reports.workers import process_owner
from store.crypto import TokenCipher
from store.db import make_engine
from store.migrate import ensure_schema
from store.vocab import DestinationKind

if TYPE_CHECKING:  # imported lazily: most commands need neither Slack nor the dispatcher
    from bot.slack.clients import WorkspaceClients
    from reports.alerts.evaluate import AlertEvaluator
    from reports.delivery.dispatch import Dispatcher


def parse_now(text: str | None, err: TextIO) -> datetime:
    """Parse --now; a value without an offset is taken as UTC, and the user is told so."""
    if text is None:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--now must be an ISO 8601 time such as 2026-03-10T00:05:00Z, not {text!r}."
        ) from None
    if value.tzinfo is None:
        err.write(f"note: --now {text} has no UTC offset; taking it as UTC.\n")
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


@dataclass
class Runtime:
    """Lazily built collaborators, so `claritybot keygen` needs no database."""

    environ: Mapping[str, str]
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @cached_property
    def settings(self) -> Settings:
        """Settings read from the environment."""
        return Settings.from_env(self.environ)

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated to the newest schema on first use."""
        engine = make_engine(self.settings.database_url)
        ensure_schema(engine)
        return engine

    @cached_property
    def cipher(self) -> TokenCipher:
        """Token encryption with CLARITYBOT_SECRET_KEY."""
        return TokenCipher(self.settings.secret_key)

    @cached_property
    def http(self) -> httpx.Client:
        """The HTTP client Clarity calls go through."""
        timeout = httpx.Timeout(self.settings.clarity_timeout, connect=10.0)
        return httpx.Client(timeout=timeout, headers={"User-Agent": "claritybot"})

    def snapshotter(self, now: datetime | None, *, owner: str | None = None) -> Snapshotter:
        """A Snapshotter whose call times are `now` when given, else the runtime's clock."""
        client = ClarityClient(http=self.http, base_url=self.settings.clarity_api_url)
        return Snapshotter(
            engine=self.engine,
            client=client,
            cipher=self.cipher,
            policy=self.settings.quota,
            clock=(lambda: now) if now is not None else self.clock,
            owner=owner,
        )

    def scheduler(self, now: datetime | None = None) -> Scheduler:
        """A Scheduler for this process (one owner name for all its claims)."""
        owner = process_owner()
        return Scheduler(
            engine=self.engine,
            snapshotter=self.snapshotter(now, owner=owner),
            policy=self.settings.quota,
            owner=owner,
            notifier=self._notifier(),
        )

    @cached_property
    def senders(self) -> dict[str, Any]:
        """Every destination this environment can reach, built once for reports and alerts."""
        from reports.delivery.email import EmailSender, SmtpSender, SmtpSettings
        from reports.delivery.outbox import OutboxSender

        senders: dict[str, Any] = {DestinationKind.OUTBOX: OutboxSender()}
        smtp = SmtpSettings.from_env(self.environ)
        if smtp is not None:
            senders[DestinationKind.EMAIL] = EmailSender(SmtpSender(smtp))
        if clients := self._slack_clients():
            from bot.slack.deliver import SlackSender

            senders[DestinationKind.SLACK] = SlackSender(clients)
        return senders

    def dispatcher(self, owner: str | None = None) -> Dispatcher:
        """The delivery dispatcher, with every destination this environment can reach."""
        from reports.delivery.dispatch import Dispatcher
        from reports.delivery.email import Links
        from reports.render.ai import AiSettings, Summarizer
        from reports.render.charts import ChartMaker

        public = self.environ.get("PUBLIC_URL", "").strip()
        links = Links(public, self.cipher) if public else None
        summarizer = Summarizer(AiSettings.from_env(self.environ))
        return Dispatcher(
            engine=self.engine,
            senders=self.senders,
            owner=owner or process_owner(),
            charts=ChartMaker(),
            notifier=self._notifier(),
            links=links,
            summarizer=summarizer,
        )

    def alerts(self) -> AlertEvaluator:
        """The alert evaluator, telling the same destinations the dispatcher reaches."""
        from reports.alerts.evaluate import AlertEvaluator
        from reports.render.charts import ChartMaker

        return AlertEvaluator(
            engine=self.engine, senders=self.senders, charts=ChartMaker(), notifier=self._notifier()
        )

    def _slack_clients(self) -> WorkspaceClients | None:
        """Slack for the worker: the one bot token, or each OAuth install's; None without."""
        token = self.environ.get("SLACK_BOT_TOKEN", "").strip()
        client_id = self.environ.get("SLACK_CLIENT_ID", "").strip()
        if not token and not client_id:
            return None
        from bot.slack.clients import WorkspaceClients

        api = self.environ.get("SLACK_API_URL", "").strip() or "https://slack.com/api/"
        return WorkspaceClients(self.engine, api_url=api, bot_token=token, client_id=client_id)

    def _notifier(self) -> Notifier:
        """DM owners in Slack when a bot token is configured; otherwise log."""
        clients = self._slack_clients()
        if clients is None:
            return LogNotifier()
        from bot.slack.notify import SlackNotifier

        return SlackNotifier(engine=self.engine, clients=clients)

    def close(self) -> None:
        """Release connections."""
        if "http" in self.__dict__:
            self.http.close()
        if "engine" in self.__dict__:
            self.engine.dispose()
