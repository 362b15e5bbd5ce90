"""One tick: for every enabled source, take what is due, record what is lost, exactly once.

Any number of ticks may run at once (two workers, a worker and a cron `claritybot tick`): each
(source, day) is claimed in the database before any call, so only one process calls for it.
Inside one tick, different Clarity projects run on a bounded thread pool (the work waits on the
network); one project's sources and calls run one after another, inside its quota ledger.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from functools import partial
from typing import Final
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from reports.ingest.due import LATE_LIMIT, Lose, Take, plan_days, spread
from reports.ingest.outcomes import SnapshotResult, TickReport, day_state, merge_parts, note_done
from reports.ingest.settle import open_from, record_lost, settle
from reports.ingest.snapshot import Snapshotter
from reports.notify import LogNotifier, Notifier
from reports.timezones import due_at, local_date, parse_timezone, require_aware
from reports.workers import DEFAULT_LEASE, Renewer, elapsed_clock
from store import quota, runs
from store.models import Source, Workspace
from store.vocab import Purpose

__all__ = ["CLAIM_TIMEOUT", "CONCURRENCY", "ProjectDone", "Scheduler", "TickReport"]

log = logging.getLogger(__name__)

CLAIM_TIMEOUT: Final = DEFAULT_LEASE  # the lease on a (source, day), renewed while it runs
CONCURRENCY: Final = 16  # projects at once: enough to overlap Clarity's latency, never a burst
ProjectDone = Callable[[list[int]], None]  # told the sources of a project that took a day


class Scheduler:
    """Runs ticks. Collaborators are passed in; the clock is the `now` each tick is given."""

    def __init__(
        self,
        *,
        engine: Engine,
        snapshotter: Snapshotter,
        policy: quota.QuotaPolicy,
        owner: str,
        notifier: Notifier | None = None,
        claim_timeout: timedelta = CLAIM_TIMEOUT,
        late_limit: timedelta = LATE_LIMIT,
        clock: Callable[[], datetime] | None = None,
        renew_every: float | None = None,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self._engine, self._snapshotter, self._policy = engine, snapshotter, policy
        self._owner, self._notifier = owner, notifier or LogNotifier()
        self._claim_timeout, self._late_limit = claim_timeout, late_limit
        # Renewals read `clock` (default: the tick's time moved on by the monotonic clock);
        # `renew_every` is in real seconds, a third of the lease unless the clock runs fast.
        self._clock = clock
        self._renew_every = renew_every or claim_timeout.total_seconds() / 3
        self._groups = tuple(g.name for g in snapshotter.plan.groups)
        self._concurrency = max(1, concurrency)

    @property
    def owner(self) -> str:
        """This scheduler's name in claims (host:pid:nonce)."""
        return self._owner

    def tick(self, now: datetime, *, on_project: ProjectDone | None = None) -> TickReport:
        """Do everything due at `now`, once; different projects concurrently.

        `on_project` hears the ids of a project's sources that took a day, as soon as that
        project is done (its reports can go out while other projects are still fetching).
        """
        now = require_aware(now)
        # Slots whose caller vanished stay counted as used, but no longer "in flight".
        quota.expire_in_flight(self._engine, before=now - self._claim_timeout, now=now)
        projects = self._by_project(now)
        run = partial(self._run_project, now=now, on_project=on_project)
        workers = min(self._concurrency, len(projects))
        if workers <= 1:
            parts = [run(p) for p in projects]
        else:
            with ThreadPoolExecutor(workers, thread_name_prefix="claritybot-tick") as pool:
                parts = list(pool.map(run, projects))
        return merge_parts(now, [part for project in parts for part in project])

    def _by_project(self, now: datetime) -> list[list[tuple[Source, str]]]:
        """Group the sources with something due by Clarity project (one quota ledger each)."""
        projects: dict[str, list[tuple[Source, str]]] = defaultdict(list)
        for source, tz_name in self._sources():
            if self._is_due(source, tz_name, now):
                projects[source.project_key].append((source, tz_name))
        return list(projects.values())

    def _run_project(
        self, sources: list[tuple[Source, str]], now: datetime, on_project: ProjectDone | None
    ) -> list[tuple[int, TickReport]]:
        """Run one project's sources one after another; return each one's part of the report."""
        parts = self._run_sources(sources, now)
        taken = [source_id for source_id, part in parts if part.results]
        if on_project is not None and taken:
            try:
                on_project(taken)
            except Exception:  # the hook's trouble is not the snapshots': they are stored
                log.exception("after the snapshots of sources %s", taken)
        return parts

    def _run_sources(
        self, sources: list[tuple[Source, str]], now: datetime
    ) -> list[tuple[int, TickReport]]:
        """Each source of a project in turn; one that breaks does not stop the others."""
        parts = []
        for source, tz_name in sources:
            part = TickReport(now)
            try:
                self._run_source(source, tz_name, now, part)
            except DBAPIError:
                raise  # the database is away: the worker waits it out, the tick says so
            except Exception:  # one broken source must not stop the others' snapshots
                log.exception("tick failed for source %s", source.id)
                part.skipped.append((source.id or 0, "error (see log)"))
            parts.append((source.id or 0, part))
        return parts

    def _is_due(self, source: Source, tz_name: str, now: datetime) -> bool:
        """True when the source's first open day is due (the common case is no, with no query)."""
        try:
            tz = parse_timezone(tz_name)
        except Exception:
            return True  # let _run_source report the broken zone for this source
        return now >= due_at(open_from(source, tz), tz) + spread(source.id or 0)

    def _sources(self) -> list[tuple[Source, str]]:
        with Session(self._engine) as session:
            query = (
                select(Source, Workspace.timezone)
                .join(Workspace, col(Workspace.id) == col(Source.workspace_id))
                .where(col(Source.enabled).is_(True))
                .order_by(col(Source.id))
            )
            return [(s, tz) for s, tz in session.exec(query).all()]

    def _run_source(self, source: Source, tz_name: str, now: datetime, report: TickReport) -> None:
        tz = parse_timezone(tz_name)
        source_id = source.id or 0
        first_open = open_from(source, tz)
        if now < due_at(first_open, tz) + spread(source_id):
            return  # the common case: nothing due, no query spent
        records = runs.day_records(self._engine, source_id=source_id, since=first_open)
        actions = plan_days(
            now=now,
            tz=tz,
            open_from=first_open,
            days={day: day_state(r) for day, r in records.items()},
            groups=self._groups,
            offset=spread(source_id),
            late_limit=self._late_limit,
        )
        done = len(report.results)
        for action in actions:
            if isinstance(action, Lose):
                record_lost(self._engine, self._owner, self._notifier, source, action, now, report)
            elif not self._take(source, tz, action, now, report):
                break  # quota spent or source disabled: later days wait for the next tick
        note_done(records, report, done)
        today = local_date(now, tz)
        settle(self._engine, self._groups, source_id, first_open, today, tz, records)

    def _take(
        self, source: Source, tz: ZoneInfo, action: Take, now: datetime, report: TickReport
    ) -> bool:
        """Take one due day under our claim; False when later days must wait for the next tick."""
        source_id = source.id or 0
        usage = quota.usage(
            self._engine, project_key=source.project_key, now=now, policy=self._policy
        )
        if usage.left_for_automatic <= 0:
            report.skipped.append((source_id, "quota"))
            return False
        if not self._claim(source_id, action.day, now):
            report.skipped.append((source_id, f"{action.day} claimed by another process"))
            return True
        try:
            result = self._take_claimed(source, tz, action, now)
        finally:
            runs.release(
                self._engine, source_id=source_id, local_date=action.day, owner=self._owner
            )
        report.results.append(result)
        rejected = result.rejected
        if rejected is not None:
            self._notifier.source_disabled(source_id, source.label, rejected.message)
            return False
        return result.complete

    def _claim(self, source_id: int, day: date, now: datetime) -> bool:
        """Claim (source, day) for us; False when another process holds a live claim on it."""
        previous = runs.claim(
            self._engine,
            source_id=source_id,
            local_date=day,
            owner=self._owner,
            now=now,
            timeout=self._claim_timeout,
        )
        if previous is None:
            return False
        if previous:
            # The previous owner's lease ran out mid-run: its unfinished call counts as spent.
            quota.abandon(self._engine, owner=previous, now=now)
        return True

    def _take_claimed(
        self, source: Source, tz: ZoneInfo, action: Take, now: datetime
    ) -> SnapshotResult:
        """Take the day we hold, renewing our lease while it runs and in each call's reservation."""
        clock = self._clock or elapsed_clock(now)
        lease = partial(self._renew_in, source.id or 0, action.day, clock)
        # Before each call, also checked: the source loaded at the tick's start is still enabled
        # with the token we hold (not paused, removed or given a new token meanwhile).
        renewal = partial(lease, token=source.token_encrypted)
        with Renewer(partial(self._renew, lease), self._renew_every):
            return self._snapshotter.take_loaded(
                source,
                tz,
                action.day,
                now=now,
                groups=action.groups,
                purpose=Purpose.SCHEDULED,
                renewal=renewal,  # a call stops once the day was taken over
            )

    def _renew_in(
        self,
        source_id: int,
        day: date,
        clock: Callable[[], datetime],
        conn: Connection,
        token: str | None = None,
    ) -> bool:
        """Push our lease on (source, day) out by one lease from now; False once it is not ours."""
        until = clock() + self._claim_timeout
        return runs.renew(
            conn, source_id=source_id, local_date=day, owner=self._owner, until=until, token=token
        )

    def _renew(self, renewal: Callable[[Connection], bool]) -> bool:
        """Renew our lease in a transaction of its own (the renewer thread's)."""
        with self._engine.begin() as conn:
            return renewal(conn)
