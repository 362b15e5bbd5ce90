"""What a snapshot run did, per fetch group, day and tick, and the source health it leaves."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from reports.errors import ClarityQuotaExceeded, rejects_token
from reports.ingest.due import RECOVERY_GROUP, DayState
from reports.ingest.recovery import Rebuilt
from store import runs
from store.vocab import Outcome, SourceStatus

# A group that ended so may be retried later; the next group is not attempted this run.
STOPPING: frozenset[str] = frozenset({Outcome.FAILED, Outcome.REFUSED})
DONE: frozenset[str] = frozenset({Outcome.STORED, Outcome.ALREADY_STORED})


@dataclass(frozen=True)
class GroupOutcome:
    """What happened to one fetch group."""

    group: str
    status: Outcome  # stored | already_stored | failed | refused | not_attempted
    message: str = ""
    rows: int = 0
    called: bool = False
    error_kind: str | None = None

    @property
    def token_rejected(self) -> bool:
        """True when Clarity refused the source's token for this group."""
        return self.status == Outcome.FAILED and rejects_token(self.error_kind)


@dataclass(frozen=True)
class SnapshotResult:
    """What happened to one (source, local date), and to days rebuilt along the way."""

    source_id: int
    local_date: date
    due_at: datetime
    outcomes: tuple[GroupOutcome, ...] = field(default_factory=tuple)
    recovered: tuple[Rebuilt, ...] = field(default_factory=tuple)

    @property
    def calls_spent(self) -> int:
        """Calls sent to Clarity (each may have cost quota), recovery included."""
        return sum(1 for o in self.outcomes if o.called) + sum(r.calls for r in self.recovered)

    @property
    def complete(self) -> bool:
        """True when every requested group is stored."""
        return all(o.status in DONE for o in self.outcomes)

    @property
    def rejected(self) -> GroupOutcome | None:
        """The group whose call showed Clarity rejects the token, if any."""
        return next((o for o in self.outcomes if o.token_rejected), None)


def health(outcomes: tuple[GroupOutcome, ...]) -> tuple[SourceStatus | None, str | None]:
    """Return the source status a run leaves behind, and why (None: nothing was tried)."""
    for outcome in outcomes:
        if outcome.token_rejected:
            return SourceStatus.TOKEN_REJECTED, outcome.message
    for outcome in outcomes:
        if outcome.status == Outcome.REFUSED or outcome.error_kind == ClarityQuotaExceeded.kind:
            return SourceStatus.QUOTA_EXHAUSTED, outcome.message
    for outcome in outcomes:
        if outcome.status == Outcome.FAILED:
            return SourceStatus.FAILING, outcome.message
    if not any(o.called for o in outcomes):
        return None, None
    return SourceStatus.CONNECTED, None


@dataclass
class TickReport:
    """What one tick did."""

    now: datetime
    results: list[SnapshotResult] = field(default_factory=list)
    lost: list[tuple[int, date, tuple[str, ...], str]] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)

    @property
    def calls(self) -> int:
        """Clarity calls this tick sent."""
        return sum(r.calls_spent for r in self.results)


def merge_parts(now: datetime, parts: list[tuple[int, TickReport]]) -> TickReport:
    """One report from per-source parts, in source order whatever order the threads finished."""
    report = TickReport(now)
    for _, part in sorted(parts, key=lambda item: item[0]):
        report.results.extend(part.results)
        report.lost.extend(part.lost)
        report.skipped.extend(part.skipped)
    return report


def day_state(record: runs.DayRecord) -> DayState:
    """What the plan needs of a day's record."""
    return DayState(
        frozenset(record.stored),
        frozenset(record.gaps),
        record.failures,
        record.last_failure,
        problem=record.problem,
        claimed=record.claimed,
    )


def note_done(records: dict[date, runs.DayRecord], report: TickReport, since: int) -> None:
    """Add what this source's part of the tick stored or recorded lost to the records read before.

    Only what is now surely in the database: the watermark may lag behind another process's
    work for a tick, never run ahead of what is stored.
    """
    for result in report.results[since:]:
        record = records.setdefault(result.local_date, runs.DayRecord())
        record.stored |= {o.group for o in result.outcomes if o.status in DONE}
        for rebuilt in result.recovered:
            if rebuilt.status in (Outcome.RECOVERED, Outcome.ALREADY_STORED):
                records.setdefault(rebuilt.day, runs.DayRecord()).stored.add(RECOVERY_GROUP)
    for _, day, groups, _reason in report.lost:
        records.setdefault(day, runs.DayRecord()).gaps |= set(groups)
