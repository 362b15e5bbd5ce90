"""The delivery ledger: a (subscription, period) row is claimed before anything is sent.

States: claimed → sending → sent, or → retrying → (claimed again) …, or → failed. The owner
holds a lease it renews while it works; once the lease has expired (the process was killed or
hung) a row left in `claimed` was provably never sent and is taken over; a row left in
`sending` may have gone out, so it becomes `unknown` and is never sent again (a missing
report is better than a duplicate; `claritybot deliveries` shows which it was). A `failed`
row can be queued again by hand (`claritybot deliveries retry ID`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Engine, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import Delivery
from store.vocab import DeliveryStatus

LEASE: Final = timedelta(minutes=10)  # the default; CLARITYBOT_LEASE_SECONDS sets another
RETRY_MINUTES: Final = (1, 5, 15, 60)  # waits before attempts 2, 3, 4, 5
MAX_ATTEMPTS: Final = 5
FINAL: Final = frozenset(
    {DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN, DeliveryStatus.SKIPPED}
)


def get(engine: Engine, *, subscription_id: int, period: str) -> Delivery | None:
    """Return the ledger row of one period, if any."""
    with Session(engine) as session:
        return session.exec(
            select(Delivery).where(
                Delivery.subscription_id == subscription_id, Delivery.period == period
            )
        ).first()


def claim_new(
    engine: Engine,
    *,
    subscription_id: int,
    period: str,
    due_at: datetime,
    owner: str,
    now: datetime,
    lease: timedelta = LEASE,
) -> Delivery | None:
    """Insert the period's row as ours; None when any row for it already exists."""
    row = Delivery(
        subscription_id=subscription_id,
        period=period,
        due_at=due_at,
        status=DeliveryStatus.CLAIMED,
        owner=owner,
        lease_until=now + lease,
        created_at=now,
        updated_at=now,
    )
    try:
        with Session(engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
            session.expunge(row)
            return row
    except IntegrityError:
        return None


def take_over(
    engine: Engine,
    row: Delivery,
    *,
    owner: str,
    now: datetime,
    sent_check: Callable[[Delivery], bool | None] | None = None,
    lease: timedelta = LEASE,
) -> Delivery | None:
    """Claim an existing row that is due again (retrying) or whose owner's lease expired.

    A `sending` row whose owner is gone may have been sent: `sent_check` can tell for some
    destinations (the outbox file is there or not); otherwise it becomes `unknown`.
    """
    if not _may_take(row, owner=owner, now=now):
        return None
    if row.status == DeliveryStatus.SENDING and _settle_stranded_send(
        engine, row, now=now, sent_check=sent_check
    ):
        return None
    if not _set(
        engine,
        row,
        row.status,
        expired_by=now,
        status=DeliveryStatus.CLAIMED,
        owner=owner,
        lease_until=now + lease,
        updated_at=now,
    ):
        return None  # another process won the race
    return get(engine, subscription_id=row.subscription_id, period=row.period)


def _may_take(row: Delivery, *, owner: str, now: datetime) -> bool:
    """A retry is due at its time; anything else only once its owner's lease has expired."""
    if row.status in FINAL:
        return False
    if row.status == DeliveryStatus.RETRYING:
        return row.next_attempt_at is None or row.next_attempt_at <= now
    expired = row.lease_until is None or row.lease_until <= now
    return row.owner != owner and expired


def _settle_stranded_send(
    engine: Engine,
    row: Delivery,
    *,
    now: datetime,
    sent_check: Callable[[Delivery], bool | None] | None,
) -> bool:
    """Settle a stranded send as sent or unknown; False when it provably never left."""
    verdict = sent_check(row) if sent_check else None
    if verdict is True:
        _set(
            engine,
            row,
            DeliveryStatus.SENDING,
            expired_by=now,
            status=DeliveryStatus.SENT,
            sent_at=now,
            updated_at=now,
            note="found complete after the sending process stopped",
            lease_until=None,
        )
    elif verdict is None:
        _set(
            engine,
            row,
            DeliveryStatus.SENDING,
            expired_by=now,
            status=DeliveryStatus.UNKNOWN,
            updated_at=now,
            error=(
                "The process sending it stopped mid-send; it may or may not have arrived, "
                "so it is not sent again."
            ),
        )
    return verdict is not False


def _set(
    engine: Engine, row: Delivery, expected: str, expired_by: datetime | None = None, **values: Any
) -> bool:
    """Conditional update: only if the row is still in `expected` with the same owner (and,
    given `expired_by`, its lease has run out by then: a renewal since we read it wins)."""
    query = update(Delivery).where(
        col(Delivery.id) == row.id,
        col(Delivery.status) == expected,
        col(Delivery.owner) == row.owner,
    )
    if expired_by is not None:
        lease = col(Delivery.lease_until)
        query = query.where(or_(lease.is_(None), lease <= expired_by))
    with engine.begin() as conn:
        result = conn.execute(query.values(**values))
    return bool(result.rowcount == 1)


def renew(engine: Engine, row: Delivery, *, until: datetime) -> bool:
    """Push our lease on a claimed or sending row out; False when it is no longer ours."""
    with engine.begin() as conn:
        result = conn.execute(
            update(Delivery)
            .where(
                col(Delivery.id) == row.id,
                col(Delivery.owner) == row.owner,
                col(Delivery.status).in_((DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)),
            )
            .values(lease_until=until)
        )
    return bool(result.rowcount == 1)


def sending(engine: Engine, row: Delivery, *, now: datetime, lease: timedelta = LEASE) -> bool:
    """Say a send is about to leave (committed before the network call)."""
    ok = _set(
        engine,
        row,
        DeliveryStatus.CLAIMED,
        status=DeliveryStatus.SENDING,
        sending_at=now,
        updated_at=now,
        attempts=row.attempts + 1,
        lease_until=now + lease,
    )
    if ok:
        row.status, row.attempts = DeliveryStatus.SENDING, row.attempts + 1
    return ok


def sent(
    engine: Engine, row: Delivery, *, now: datetime, message_id: str, note: str | None
) -> None:
    """Record a send that went out, with what identifies it (Slack ts, Message-ID, file)."""
    _set(
        engine,
        row,
        DeliveryStatus.SENDING,
        status=DeliveryStatus.SENT,
        sent_at=now,
        updated_at=now,
        message_id=message_id[:300],
        note=note,
        error=None,
        lease_until=None,
    )


def failed(
    engine: Engine, row: Delivery, *, now: datetime, error: str, transient: bool
) -> DeliveryStatus:
    """Record a failed send: retried later when transient and attempts remain; else failed."""
    # A failure before anything was sent (building the report) counts as an attempt too.
    attempts = row.attempts + (1 if row.status == DeliveryStatus.CLAIMED else 0)
    if transient and attempts < MAX_ATTEMPTS:
        wait = timedelta(minutes=RETRY_MINUTES[min(attempts, len(RETRY_MINUTES)) - 1])
        _set(
            engine,
            row,
            row.status,
            status=DeliveryStatus.RETRYING,
            next_attempt_at=now + wait,
            error=error[:2000],
            attempts=attempts,
            updated_at=now,
            lease_until=None,
        )
        return DeliveryStatus.RETRYING
    _set(
        engine,
        row,
        row.status,
        status=DeliveryStatus.FAILED,
        error=error[:2000],
        attempts=attempts,
        updated_at=now,
        lease_until=None,
    )
    return DeliveryStatus.FAILED


def unknown(engine: Engine, row: Delivery, *, now: datetime, error: str) -> None:
    """Record a send that may or may not have gone out (it is not sent again)."""
    _set(
        engine,
        row,
        DeliveryStatus.SENDING,
        status=DeliveryStatus.UNKNOWN,
        error=error[:2000],
        updated_at=now,
        lease_until=None,
    )


def skipped(engine: Engine, row: Delivery, *, now: datetime, reason: str) -> None:
    """Record a period deliberately not sent (no data, and the subscription says skip)."""
    _set(
        engine,
        row,
        DeliveryStatus.CLAIMED,
        status=DeliveryStatus.SKIPPED,
        note=reason,
        updated_at=now,
        lease_until=None,
    )
