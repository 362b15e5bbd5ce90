"""Scheduled delivery: each due (subscription, period) is claimed in the ledger, then sent once.

Run on every tick, next to the snapshot scheduler. A report waits for the day it describes to
be stored, up to GRACE after its send time; then it goes out with what there is and says so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from reports.delivery import readiness
from reports.delivery.cadence import Cadence, Occurrence, latest_due
from reports.delivery.compose import Report, compose, report_needs
from reports.delivery.email import Links
from reports.delivery.failures import MISSING, give_up, tell
from reports.delivery.missed import record_missed
from reports.delivery.subscriptions import cadence_of, count_subscriptions, list_subscriptions
from reports.errors import DeliveryError
from reports.history.load import load
from reports.history.quality import DAYS as QUALITY_DAYS
from reports.history.quality import QualityGuard, note_lines
from reports.notify import LogNotifier, Notifier
from reports.render.ai import Summarizer
from reports.render.charts import ChartMaker
from reports.timezones import local_date, parse_timezone, require_aware
from reports.workers import Renewer, elapsed_clock, run_all
from store import ledger, ledger_rows, repository
from store.models import Delivery, Source, Subscription, Workspace
from store.vocab import DeliveryStatus

log = logging.getLogger(__name__)
BULK_FROM: Final = 20  # this many reports due in one tick: draw them with `bulk_charts`
T = TypeVar("T")


@dataclass(frozen=True)
class _Due:
    """A subscription whose latest period has no ledger row yet (read before any claim)."""

    sub: Subscription
    source: Source
    zone: str
    cadence: Cadence
    occurrence: Occurrence


class Sender(Protocol):
    """A destination kind (slack, email, outbox)."""

    def deliver(
        self, report: Report, sub: Subscription, now: datetime, unsubscribe_url: str | None
    ) -> str:
        """Send; return what identifies the send. Raise DeliveryError on failure."""

    def check(self, sub: Subscription, period: str) -> bool | None:
        """Whether a period's send, cut short by a dead process, arrived (None: cannot tell)."""


@dataclass
class Dispatcher:
    """Sends what is due, exactly once per (subscription, period)."""

    engine: Engine
    senders: Mapping[str, Sender]
    owner: str
    charts: ChartMaker
    notifier: Notifier = LogNotifier()  # noqa: RUF009 - stateless
    links: Links | None = None
    summarizer: Summarizer = field(default_factory=lambda: Summarizer(None))
    lease: timedelta = ledger.LEASE  # renewed every third of it while a report is built and sent
    clock: Callable[[], datetime] | None = None  # renewals read it; default: the tick's time onward
    renew_every: float | None = None  # real seconds between renewals (default: a third of lease)
    concurrency: int = 1  # reports built and sent at once (each still claimed before it is sent)
    bulk_charts: Callable[[], ChartMaker] | None = None  # for BULK_FROM due: drawn elsewhere

    def tick(self, now: datetime) -> Counter[str]:
        """Send every due report, finish those a dead process left; count how each ended."""
        subs = {s.id or 0: s for s in list_subscriptions(self.engine)}
        resumed = [
            (row, subs[row.subscription_id])
            for row in ledger_rows.open_rows(self.engine, list(subs))
        ]
        return self._send_due(list(subs.values()), resumed, require_aware(now))

    def send_for(self, source_ids: Collection[int], now: datetime) -> Counter[str]:
        """Send the due reports of these sources only (their day was just stored)."""
        subs = list_subscriptions(self.engine, source_ids=source_ids)
        return self._send_due(subs, [], require_aware(now))

    def _send_due(
        self, subs: list[Subscription], resumed: list[tuple[Delivery, Subscription]], now: datetime
    ) -> Counter[str]:
        outcomes, due = Counter[str](), list[_Due]()
        for sub in subs:
            found = self._guarded(self._pending, sub, now)
            if isinstance(found, _Due):
                due.append(found)
            else:
                outcomes[found] += 1
        many = len(resumed) + len(due) >= BULK_FROM
        outcomes.update((self.drawing_elsewhere() if many else self)._run(resumed, due, now))
        outcomes.pop("", None)
        return outcomes

    def busy(self) -> bool:
        """At least BULK_FROM active subscriptions: a tick may well send that many reports."""
        return count_subscriptions(self.engine) >= BULK_FROM

    def drawing_elsewhere(self) -> Dispatcher:
        """This dispatcher drawing its charts with bulk_charts (when set), for many reports:
        drawing then uses another core, not this process's interpreter lock."""
        return self if self.bulk_charts is None else replace(self, charts=self.bulk_charts())

    def _run(
        self, resumed: list[tuple[Delivery, Subscription]], due: list[_Due], now: datetime
    ) -> list[str]:
        """Resume, then send, up to `concurrency` at once (the claims keep each send to one)."""
        jobs = [partial(self._guarded, self._resume, row, sub, now) for row, sub in resumed]
        jobs += [partial(self._guarded, self._due, found, now) for found in due]
        return run_all(jobs, self.concurrency, "claritybot-deliver")

    def _guarded(self, step: Callable[..., T], *args: Any) -> T | str:
        """One subscription's trouble (a bug, a lost database connection) must not stop the
        others: it is logged with its traceback and tried again on the next tick."""
        try:
            return step(*args)
        except DBAPIError:
            raise  # the database is away: the worker waits it out, the tick says so
        except Exception:
            log.exception("delivery step %s failed", step.__name__)
            return "error"

    def _context(self, sub: Subscription) -> tuple[Source, str]:
        with Session(self.engine) as session:
            source = repository.get_source(session=session, source_id=sub.source_id)
            zone = session.get(Workspace, sub.workspace_id)
            return source, zone.timezone if zone else "UTC"

    def _pending(self, sub: Subscription, now: datetime) -> _Due | str:
        """The subscription's latest period when it has no ledger row yet; "" when none is due."""
        source, zone = self._context(sub)
        cadence = cadence_of(sub, zone)
        occurrence = latest_due(cadence, now)
        if occurrence is None or occurrence.due_at < sub.starts_at:
            return ""
        if ledger.get(self.engine, subscription_id=sub.id or 0, period=occurrence.period):
            return ""
        return _Due(sub, source, zone, cadence, occurrence)

    def _due(self, due: _Due, now: datetime) -> str:
        sub, source, zone, occurrence = due.sub, due.source, due.zone, due.occurrence
        record_missed(self.engine, self.owner, sub, due.cadence, occurrence, now)
        ready, note = readiness.ready(self.engine, source, zone, occurrence, now)
        if not ready:
            return "waiting"
        row = ledger.claim_new(
            self.engine,
            subscription_id=sub.id or 0,
            period=occurrence.period,
            due_at=occurrence.due_at,
            owner=self.owner,
            now=now,
            lease=self.lease,
        )
        if row is None:
            return ""  # another worker has it
        return self._send(row, sub, source, occurrence, note, now)

    def _resume(self, row: Delivery, sub: Subscription, now: datetime) -> str:
        sender = self.senders.get(sub.destination_kind)
        sent_check = (lambda r: sender.check(sub, r.period)) if sender else None
        taken = ledger.take_over(
            self.engine, row, owner=self.owner, now=now, sent_check=sent_check, lease=self.lease
        )
        if taken is None:
            fresh = ledger.get(self.engine, subscription_id=row.subscription_id, period=row.period)
            return (
                fresh.status
                if fresh is not None
                and fresh.status in (DeliveryStatus.UNKNOWN, DeliveryStatus.SENT)
                and (fresh.status != row.status)
                else ""
            )
        source, zone = self._context(sub)
        day = local_date(row.due_at, parse_timezone(zone))
        return self._send(taken, sub, source, Occurrence(row.period, day, row.due_at), None, now)

    def _send(
        self,
        row: Delivery,
        sub: Subscription,
        source: Source,
        occurrence: Occurrence,
        note: str | None,
        now: datetime,
    ) -> str:
        sender = self.senders.get(sub.destination_kind)
        if sender is None:
            reason = MISSING[sub.destination_kind]
            return give_up(self.engine, self.notifier, row, sub, source, reason, now)
        clock = self.clock or elapsed_clock(now)
        every = self.renew_every or self.lease.total_seconds() / 3
        with Renewer(lambda: ledger.renew(self.engine, row, until=clock() + self.lease), every):
            return self._build_and_send(sender, row, sub, source, occurrence, note, now)

    def _build_and_send(
        self,
        sender: Sender,
        row: Delivery,
        sub: Subscription,
        source: Source,
        occurrence: Occurrence,
        note: str | None,
        now: datetime,
    ) -> str:
        try:
            report = self.build(sub, occurrence, note)
        except Exception as exc:  # a bug or a database hiccup: keep the period, retry later
            log.exception("building report %s/%s failed", sub.id, row.period)
            return ledger.failed(
                self.engine, row, now=now, error=f"building it failed: {exc}", transient=True
            )
        if sub.skip_when_empty and not report.has_data:
            ledger.skipped(self.engine, row, now=now, reason="no data (skip-when-empty)")
            return DeliveryStatus.SKIPPED
        if not ledger.sending(self.engine, row, now=now, lease=self.lease):
            return ""  # someone took it over meanwhile
        return self._deliver(sender, report, row, sub, source, note, now)

    def build(self, sub: Subscription, occurrence: Occurrence, note: str | None) -> Report:
        """Read the period's history once, check its quality, then compose from it."""
        metrics, days = report_needs(sub)
        history = load(
            self.engine,
            sub.source_id,
            metrics,
            days=max(days, QUALITY_DAYS),
            now=occurrence.due_at,
        )
        warnings = note_lines(QualityGuard(self.engine, self.notifier).issues(history))
        return compose(
            history,
            self.charts,
            sub,
            occurrence,
            note=note,
            summarizer=self.summarizer,
            warnings=warnings,
        )

    def _deliver(
        self,
        sender: Sender,
        report: Report,
        row: Delivery,
        sub: Subscription,
        source: Source,
        note: str | None,
        now: datetime,
    ) -> str:
        url = self.links.unsubscribe_url(sub.id or 0) if self.links else None
        try:
            message_id = sender.deliver(report, sub, now, url)
        except DeliveryError as exc:
            status = ledger.failed(
                self.engine, row, now=now, error=str(exc), transient=exc.transient
            )
            if status == DeliveryStatus.FAILED:
                tell(self.notifier, sub, source, row.period, str(exc))
            return status
        except Exception as exc:  # a bug mid-send: it may have gone out, so never again
            log.exception("sending report %s/%s failed unexpectedly", sub.id, row.period)
            ledger.unknown(self.engine, row, now=now, error=f"{type(exc).__name__} while sending")
            return DeliveryStatus.UNKNOWN
        ledger.sent(self.engine, row, now=now, message_id=message_id, note=note)
        return DeliveryStatus.SENT
