"""What every command needs, built once from the environment: settings, engine, clients."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, TextIO

# Each collaborator's module is imported where it is built: `claritybot --help` and the
# commands that need no database start without httpx, SQLAlchemy, Slack or matplotlib.
if TYPE_CHECKING:
    import httpx
    from openai import OpenAI
    from sqlalchemy import Engine

    from bot.slack.clients import WorkspaceClients
    from bot.slack.services import SlackServices
    from reports.alerts.evaluate import AlertEvaluator
    from reports.clarity.client import ClarityClient
    from reports.delivery.dispatch import Dispatcher
    from reports.delivery.email import Links
    from reports.ingest.scheduler import Scheduler
    from reports.ingest.snapshot import Snapshotter
    from reports.notify import Notifier
    from reports.render.ai import Summarizer
    from reports.render.charts import ChartMaker
    from reports.settings import Settings
    from store.crypto import TokenCipher


@dataclass
class Runtime:
    """The composition root of one process: settings read once, every client built once.

    Each collaborator is built on first use, so `claritybot keygen` needs no database.
    """

    environ: Mapping[str, str]
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    @cached_property
    def settings(self) -> Settings:
        """Settings read from the environment."""
        from reports.settings import Settings

        return Settings.from_env(self.environ)

    @cached_property
    def engine(self) -> Engine:
        """The database, migrated to the newest schema on first use."""
        from store.db import make_engine
        from store.migrate import ensure_schema

        # A connection per concurrent project and a few more, so no thread waits on the pool.
        threads = max(self.settings.concurrency, self.settings.delivery_concurrency)
        engine = make_engine(self.settings.database_url, pool_size=threads + 4)
        ensure_schema(engine)
        return engine

    @cached_property
    def cipher(self) -> TokenCipher:
        """Token encryption with CLARITYBOT_SECRET_KEY."""
        from store.crypto import TokenCipher

        return TokenCipher(self.settings.secret_key)

    @cached_property
    def http(self) -> httpx.Client:
        """The HTTP client Clarity calls go through."""
        import httpx

        timeout = httpx.Timeout(self.settings.clarity_timeout, connect=10.0)
        return httpx.Client(timeout=timeout, headers={"User-Agent": "claritybot"})

    @cached_property
    def clarity(self) -> ClarityClient:
        """The Clarity Data Export API client."""
        from reports.clarity.client import ClarityClient

        return ClarityClient(http=self.http, base_url=self.settings.clarity_api_url)

    @cached_property
    def charts(self) -> ChartMaker:
        """The chart renderer (matplotlib loads here, for the commands that draw)."""
        from reports.render.charts import ChartMaker

        return ChartMaker()

    @cached_property
    def openai(self) -> OpenAI | None:
        """The OpenAI client, when OPENAI_API_KEY is set (openai is imported only then)."""
        from reports.render.ai import openai_client

        ai = self.settings.ai
        return openai_client(ai) if ai is not None else None

    @cached_property
    def summarizer(self) -> Summarizer:
        """Report summaries: the template, phrased by the model when a key is set."""
        from reports.render.ai import Summarizer

        ai = self.settings.ai
        return Summarizer(self.openai, model=ai.model) if ai else Summarizer(None)

    @cached_property
    def links(self) -> Links:
        """Signed unsubscribe links at PUBLIC_URL."""
        from reports.delivery.email import Links

        return Links(self.settings.public_url, self.cipher)

    def snapshotter(self, now: datetime | None, *, owner: str | None = None) -> Snapshotter:
        """A Snapshotter whose call times are `now` when given, else the runtime's clock."""
        from reports.ingest.snapshot import Snapshotter

        return Snapshotter(
            engine=self.engine,
            client=self.clarity,
            cipher=self.cipher,
            policy=self.settings.quota,
            clock=(lambda: now) if now is not None else self.clock,
            owner=owner,
        )

    def scheduler(
        self, now: datetime | None = None, *, owner: str | None = None, speed: float = 1.0
    ) -> Scheduler:
        """A Scheduler for this process; a clock `speed` times fast renews leases as much faster."""
        from reports.ingest.scheduler import Scheduler
        from reports.workers import process_owner

        owner = owner or process_owner()
        lease = self.settings.lease
        return Scheduler(
            engine=self.engine,
            snapshotter=self.snapshotter(now, owner=owner),
            policy=self.settings.quota,
            owner=owner,
            notifier=self.notifier,
            claim_timeout=lease,
            clock=None if now is not None else self.clock,
            renew_every=lease.total_seconds() / 3 / speed,
            concurrency=self.settings.concurrency,
        )

    @cached_property
    def senders(self) -> dict[str, Any]:
        """Every destination this environment can reach, built once for reports and alerts."""
        from reports.delivery.email import EmailSender, SmtpSender
        from reports.delivery.outbox import OutboxSender
        from store.vocab import DestinationKind

        senders: dict[str, Any] = {DestinationKind.OUTBOX: OutboxSender()}
        if self.settings.smtp is not None:
            senders[DestinationKind.EMAIL] = EmailSender(SmtpSender(self.settings.smtp))
        if self.slack_clients is not None:
            from bot.slack.deliver import SlackSender

            senders[DestinationKind.SLACK] = SlackSender(self.slack_clients)
        return senders

    def dispatcher(
        self,
        owner: str | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        speed: float = 1.0,
        charts: ChartMaker | None = None,
    ) -> Dispatcher:
        """The delivery dispatcher, with every destination this environment can reach
        (`charts`: who draws its reports; default: this process)."""
        from reports.delivery.dispatch import Dispatcher
        from reports.workers import process_owner

        return Dispatcher(
            engine=self.engine,
            senders=self.senders,
            owner=owner or process_owner(),
            charts=charts or self.charts,
            notifier=self.notifier,
            links=self.links if self.settings.public_url else None,
            summarizer=self.summarizer,
            lease=self.settings.lease,
            clock=clock,
            renew_every=self.settings.lease.total_seconds() / 3 / speed,
            concurrency=self.settings.delivery_concurrency,
            bulk_charts=lambda: self.report_charts,
        )

    def alerts(self) -> AlertEvaluator:
        """The alert evaluator, telling the same destinations the dispatcher reaches."""
        from reports.alerts.evaluate import AlertEvaluator

        return AlertEvaluator(
            engine=self.engine, senders=self.senders, charts=self.charts, notifier=self.notifier
        )

    @cached_property
    def slack_clients(self) -> WorkspaceClients | None:
        """Slack for the worker: the one bot token, or each OAuth install's; None without."""
        slack = self.settings.slack
        if not slack.reachable:
            return None
        from bot.slack.clients import WorkspaceClients

        return WorkspaceClients(
            self.engine,
            api_url=slack.api_url,
            bot_token=slack.bot_token,
            client_id=slack.client_id,
            cipher=self.cipher if slack.client_id else None,  # OAuth tokens are stored encrypted
        )

    @cached_property
    def notifier(self) -> Notifier:
        """DM owners in Slack when Slack is configured; otherwise log."""
        from reports.notify import LogNotifier

        if self.slack_clients is None:
            return LogNotifier()
        from bot.slack.notify import SlackNotifier

        return SlackNotifier(engine=self.engine, clients=self.slack_clients)

    @cached_property
    def pooled_charts(self) -> ChartMaker:
        """Charts drawn in two worker processes, for `serve`: drawing never delays an ack."""
        return _pooled(2)

    @cached_property
    def report_charts(self) -> ChartMaker:
        """A tick's many reports drawn in one worker process (serve's two, when it has them):
        the tick keeps one core busy, drawing takes another; a second process only competes
        for them (1,000 projects on 2 cores: 68 s either way, ~100 MB less)."""
        return self.__dict__.get("pooled_charts") or _pooled(1)

    def slack_services(self, *, pooled: bool = False) -> SlackServices:
        """What the Slack app's listeners need, from this runtime's clients (`pooled`: with
        charts drawn in worker processes)."""
        from bot.slack.services import SlackServices

        charts = self.pooled_charts if pooled else self.charts
        return SlackServices(
            engine=self.engine,
            cipher=self.cipher,
            clarity=self.clarity,
            clock=self.clock,
            policy=self.settings.quota,
            charts=charts,
            # `chart digest` and "Send a test" go through it: drawn where the other charts are.
            dispatcher=self.dispatcher(charts=charts),
        )

    def close(self) -> None:
        """Release connections and stop render workers."""
        for name in ("pooled_charts", "report_charts"):  # the same one twice: closed twice
            charts = self.__dict__.get(name)
            if charts is not None:
                charts.close()
        for name in ("http", "openai"):
            client = self.__dict__.get(name)
            if client is not None:
                client.close()
        if "engine" in self.__dict__:
            self.engine.dispose()


def _pooled(processes: int) -> ChartMaker:
    """A ChartMaker drawing in `processes` worker processes (started on its first chart)."""
    from reports.render.charts import ChartMaker
    from reports.render.pool import RenderPool

    return ChartMaker(RenderPool(processes))
