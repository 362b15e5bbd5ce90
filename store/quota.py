"""The per-project, per-UTC-day Clarity call ledger. A call is reserved here *before* it is sent.

Reservation is one INSERT ... SELECT that takes the next free slot only while the slot number is
under the limit, so concurrent threads or processes can never hold more slots than the cap: on
PostgreSQL two racers computing the same slot collide on the unique key and the loser retries;
SQLite runs the statement under its write lock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    Update,
    bindparam,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.sql.dml import ReturningInsert
from sqlmodel import col

from store.models import QuotaCall
from store.vocab import CallOutcome, Purpose, values

PURPOSES: Final = values(Purpose)
QUOTA_EXCEEDED: Final = CallOutcome.QUOTA_EXCEEDED  # recorded when Clarity itself answered 429
_RACE_RETRIES: Final = 100


class GuardLost(Exception):
    """The reservation's guard (our claim's renewal) changed no row: nothing was reserved."""


@dataclass(frozen=True)
class QuotaPolicy:
    """How much of Clarity's daily cap we use, and how much stays for people asking by hand."""

    daily_cap: int = 10
    manual_reserve: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.daily_cap <= 10:
            raise ValueError("the daily cap must be between 1 and Clarity's limit of 10")
        if not 0 <= self.manual_reserve < self.daily_cap:
            raise ValueError("the manual reserve must be smaller than the daily cap")

    def limit_for(self, purpose: str) -> int:
        """Return the highest slot a call of this purpose may take."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown quota purpose {purpose!r}")
        # Manual refreshes may use the whole cap; everything automatic leaves the reserve alone.
        return self.daily_cap if purpose == Purpose.MANUAL else self.daily_cap - self.manual_reserve


@dataclass(frozen=True)
class Reservation:
    """A held slot: the caller may now send exactly one call."""

    id: int
    project_key: str
    utc_day: date
    slot: int


@dataclass(frozen=True)
class QuotaUsage:
    """Where a project stands today."""

    utc_day: date
    used: int
    in_flight: int
    cap: int
    manual_reserve: int
    exhausted: bool  # Clarity answered 429 today: nothing more until the reset
    resets_at: datetime

    @property
    def left(self) -> int:
        """Calls still available to anyone today."""
        return 0 if self.exhausted else max(self.cap - self.used - self.in_flight, 0)

    @property
    def left_for_automatic(self) -> int:
        """Calls still available without touching the manual reserve."""
        return max(self.left - self.manual_reserve, 0)


def utc_day(now: datetime) -> date:
    """Return the UTC day a moment falls in (Clarity's quota day)."""
    return now.astimezone(UTC).date()


def reserve(
    engine: Engine,
    *,
    project_key: str,
    now: datetime,
    source_id: int | None,
    fetch_group: str,
    purpose: str,
    policy: QuotaPolicy,
    owner: str | None = None,
    limit: int | None = None,
    guard: Callable[[Connection], bool] | None = None,
) -> Reservation | None:
    """Take the next slot of today's calls, or return None when the limit is reached.

    The one reservation path for every caller. `limit` lowers the purpose's highest slot (a
    manual call passes what tonight's run leaves it); it is checked in the same statement.
    `guard` (the renewal of the claim the call is made under) runs first in the same
    transaction; when it answers False nothing is reserved and GuardLost is raised.
    """
    day = utc_day(now)
    highest = policy.limit_for(purpose)
    fields = {
        "b_project_key": project_key,
        "b_utc_day": day,
        "b_source_id": source_id,
        "b_fetch_group": fetch_group,
        "b_purpose": str(purpose),
        "b_reserved_at": now,
        "b_owner": owner,
        "b_limit": highest if limit is None else min(limit, highest),
    }
    taken = _insert_racing(engine, fields, guard)
    return None if taken is None else Reservation(taken.id, project_key, day, taken.slot)


def _insert_racing(
    engine: Engine, fields: dict[str, Any], guard: Callable[[Connection], bool] | None
) -> Any:
    """Run the slot insert until it settles: the taken row, or None when no slot is left."""
    for _ in range(_RACE_RETRIES):
        try:
            with engine.begin() as conn:
                if guard is not None and not guard(conn):
                    raise GuardLost("the claim this call was to be made under is not ours")
                return conn.execute(_next_slot_insert(), fields).first()
        except IntegrityError:
            continue  # another caller took that slot number first; look again
        except OperationalError as exc:
            if "locked" not in str(exc).lower():
                raise
            continue  # SQLite busy beyond its timeout under heavy contention; look again
    raise RuntimeError("could not reserve a quota slot: too much contention")


_FIELDS: Final = (
    "project_key",
    "utc_day",
    "source_id",
    "fetch_group",
    "purpose",
    "reserved_at",
    "owner",
)


@functools.cache  # built once: a new statement per call cost more CPU than running it
def _next_slot_insert() -> ReturningInsert[Any]:
    """INSERT the bound fields at the next free slot, only under `limit` and before any 429."""
    qc = QuotaCall.__table__.c  # type: ignore[attr-defined]
    today = (qc.project_key == bindparam("b_project_key"), qc.utc_day == bindparam("b_utc_day"))
    taken = select(func.coalesce(func.max(qc.slot), 0).label("n")).where(*today).subquery()
    blocked = exists().where(*today, qc.outcome == QUOTA_EXCEEDED)
    candidate = select(*(bindparam(f"b_{n}", type_=qc[n].type) for n in _FIELDS), taken.c.n + 1)
    under = taken.c.n < bindparam("b_limit", type_=Integer())
    return (
        insert(QuotaCall)
        .from_select([*_FIELDS, "slot"], candidate.where(under, ~blocked))
        .returning(qc.id, qc.slot)
    )


def close(
    conn: Connection,
    reservation: Reservation,
    *,
    now: datetime,
    outcome: str,
    status_code: int | None = None,
    error: str | None = None,
) -> None:
    """Record how a reserved call ended, in the caller's transaction (with what it brought
    back). The slot stays used whatever the outcome."""
    row = {"b_id": reservation.id, "b_finished_at": now, "b_outcome": outcome}
    conn.execute(_close_slot(), {**row, "b_status_code": status_code, "b_error": error})


_CLOSED: Final = ("finished_at", "outcome", "status_code", "error")


@functools.cache
def _close_slot() -> Update:
    qc = QuotaCall.__table__.c  # type: ignore[attr-defined]
    return (
        update(QuotaCall)
        .where(qc.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}", type_=qc[name].type) for name in _CLOSED})
    )


def abandon(engine: Engine, *, owner: str, now: datetime) -> int:
    """Close the in-flight calls of a process that died; they stay counted as used."""
    with engine.begin() as conn:
        result = conn.execute(
            update(QuotaCall)
            .where(col(QuotaCall.owner) == owner, col(QuotaCall.outcome).is_(None))
            .values(finished_at=now.astimezone(UTC), outcome=CallOutcome.ABANDONED)
        )
    return int(result.rowcount)


def expire_in_flight(engine: Engine, *, before: datetime, now: datetime) -> int:
    """Close calls reserved before `before` and never finished: their caller's lease is over.

    A live call ends within its timeout, far inside a lease; one still open past it belongs to
    a process that was killed or hung. It stays counted as used (it may have reached Clarity).
    """
    with engine.begin() as conn:
        result = conn.execute(
            update(QuotaCall)
            .where(col(QuotaCall.outcome).is_(None), col(QuotaCall.reserved_at) < before)
            .values(finished_at=now.astimezone(UTC), outcome=CallOutcome.ABANDONED)
        )
    return int(result.rowcount)


def usage(engine: Engine, *, project_key: str, now: datetime, policy: QuotaPolicy) -> QuotaUsage:
    """Return today's usage for a project."""
    day = utc_day(now)
    qc = QuotaCall.__table__.c  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(qc.outcome).where(qc.project_key == project_key, qc.utc_day == day)
        ).all()
    outcomes = [r.outcome for r in rows]
    return QuotaUsage(
        utc_day=day,
        used=sum(1 for o in outcomes if o is not None),
        in_flight=sum(1 for o in outcomes if o is None),
        cap=policy.daily_cap,
        manual_reserve=policy.manual_reserve,
        exhausted=QUOTA_EXCEEDED in outcomes,
        resets_at=datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC),
    )
