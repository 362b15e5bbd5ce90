"""Scheduler persistence: claims on (source, day), the run log, gaps and the settled watermark."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Update, bindparam, delete, exists, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import DayGap, RunLog, Snapshot, SnapshotClaim, Source
from store.vocab import Outcome

QUOTA_429 = "Clarity's daily limit (429)"


@dataclass
class DayRecord:
    """Raw facts about one day of a source, as stored."""

    stored: set[str] = field(default_factory=set)
    gaps: set[str] = field(default_factory=set)
    failures: int = 0  # failed attempts since the last stored group
    last_failure: datetime | None = None
    problem: str | None = None  # what the last unsuccessful attempt ran into, in words
    claimed: bool = False  # a claim is still held on the day (a live run, or a stuck one)


def claim(
    engine: Engine,
    *,
    source_id: int,
    local_date: date,
    owner: str,
    now: datetime,
    timeout: timedelta,
) -> str | None:
    """Claim a (source, day) for `owner` with a lease of `timeout`.

    Returns "" for a fresh claim, the previous owner's name when a claim whose lease expired
    was taken over, and None when someone else holds a live lease. Whether the holder's
    process still exists is never asked: a PID says nothing across containers or hosts.
    """
    expires = now + timeout
    if _insert_claim(engine, source_id, local_date, owner, now, expires):
        return ""
    with Session(engine) as session:
        held = session.exec(
            select(SnapshotClaim).where(
                SnapshotClaim.source_id == source_id, SnapshotClaim.local_date == local_date
            )
        ).first()
    if held is None:
        return None  # released between our insert and read: the next tick will claim it
    if held.expires_at > now:
        return None  # a live lease, ours (never two runs of one day) or another's
    # Expired: its owner died or hung, or it is ours, left behind when the database went away
    # before we could release it (a live run of ours renews it).
    return held.owner if _take_claim(engine, held, owner, now, expires) else None


def _insert_claim(
    engine: Engine, source_id: int, local_date: date, owner: str, now: datetime, expires: datetime
) -> bool:
    """Insert a fresh claim; False when the unique key says someone holds one already."""
    claim = SnapshotClaim(
        source_id=source_id, local_date=local_date, owner=owner, claimed_at=now, expires_at=expires
    )
    try:
        with Session(engine) as session:
            session.add(claim)
            session.commit()
    except IntegrityError:
        return False
    return True


def _take_claim(
    engine: Engine, held: SnapshotClaim, owner: str, now: datetime, expires: datetime
) -> bool:
    """Move an expired claim to `owner`; True for the one racer that did."""
    # Conditional update: only one of several racers sees its row count be 1.
    with engine.begin() as conn:
        result = conn.execute(
            update(SnapshotClaim)
            .where(col(SnapshotClaim.id) == held.id, col(SnapshotClaim.owner) == held.owner)
            .values(owner=owner, claimed_at=now, expires_at=expires)
        )
    return bool(result.rowcount == 1)


def extend(
    engine: Engine, *, source_id: int, local_date: date, owner: str, until: datetime
) -> bool:
    """Renew a held claim's lease; False when it is no longer ours (it expired and was taken)."""
    with engine.begin() as conn:
        return renew(conn, source_id=source_id, local_date=local_date, owner=owner, until=until)


def renew(
    conn: Connection,
    *,
    source_id: int,
    local_date: date,
    owner: str,
    until: datetime,
    token: str | None = None,
) -> bool:
    """`extend` in the caller's transaction (a call's reservation: the call goes only if True).

    With `token` (the encrypted token the caller holds), only while the source is still enabled
    with that token: a source paused, removed or given a new token meanwhile gets no call.
    """
    params = {"b_source": source_id, "b_day": local_date, "b_owner": owner, "b_until": until}
    if token is not None:
        params["b_token"] = token
    return bool(conn.execute(_renewal(token is not None), params).rowcount == 1)


@functools.cache  # built once: renewed before every Clarity call
def _renewal(checked: bool) -> Update:
    """The UPDATE that renews our claim: it changes one row while the claim is still ours."""
    c = SnapshotClaim.__table__.c  # type: ignore[attr-defined]
    stmt = (
        update(SnapshotClaim)
        .where(
            c.source_id == bindparam("b_source"),
            c.local_date == bindparam("b_day"),
            c.owner == bindparam("b_owner"),
        )
        .values(expires_at=bindparam("b_until", type_=c.expires_at.type))
    )
    if not checked:
        return stmt
    s = Source.__table__.c  # type: ignore[attr-defined]
    usable = (s.id == bindparam("b_source"), s.enabled.is_(True))
    return stmt.where(exists().where(*usable, s.token_encrypted == bindparam("b_token")))


def release(engine: Engine, *, source_id: int, local_date: date, owner: str) -> None:
    """Drop our claim so a later tick may retry what is missing."""
    with engine.begin() as conn:
        conn.execute(
            delete(SnapshotClaim).where(
                col(SnapshotClaim.source_id) == source_id,
                col(SnapshotClaim.local_date) == local_date,
                col(SnapshotClaim.owner) == owner,
            )
        )


def record_run(engine: Engine, run: RunLog) -> None:
    """Append one attempt to the run log."""
    with Session(engine) as session:
        session.add(run)
        session.commit()


def add_run(conn: Connection, **fields: Any) -> None:
    """Append one attempt to the run log inside the caller's transaction (RunLog's fields)."""
    conn.execute(insert(RunLog), fields)


def record_gap(
    engine: Engine, *, source_id: int, local_date: date, group: str, reason: str, now: datetime
) -> bool:
    """Record that a group of a day is lost; False when it was recorded already."""
    try:
        with Session(engine) as session:
            session.add(
                DayGap(
                    source_id=source_id,
                    local_date=local_date,
                    fetch_group=group,
                    reason=reason,
                    recorded_at=now,
                )
            )
            session.commit()
    except IntegrityError:
        return False
    return True


def day_records(engine: Engine, *, source_id: int, since: date) -> dict[date, DayRecord]:
    """Return what is stored, lost and failing for each day of a source from `since` on."""
    records: dict[date, DayRecord] = {}
    with Session(engine) as session:
        for day, group in session.exec(
            select(col(Snapshot.local_date), col(Snapshot.fetch_group)).where(
                Snapshot.source_id == source_id, Snapshot.local_date >= since
            )
        ):
            records.setdefault(day, DayRecord()).stored.add(group)
        for day, group in session.exec(
            select(col(DayGap.local_date), col(DayGap.fetch_group)).where(
                DayGap.source_id == source_id, DayGap.local_date >= since
            )
        ):
            records.setdefault(day, DayRecord()).gaps.add(group)
        runs = session.exec(
            select(
                col(RunLog.local_date),
                col(RunLog.outcome),
                col(RunLog.started_at),
                col(RunLog.error),
            )
            .where(RunLog.source_id == source_id, RunLog.local_date >= since)
            .order_by(col(RunLog.started_at), col(RunLog.id))
        ).all()
        claimed = session.exec(
            select(col(SnapshotClaim.local_date)).where(
                SnapshotClaim.source_id == source_id, SnapshotClaim.local_date >= since
            )
        ).all()
    for day in claimed:
        records.setdefault(day, DayRecord()).claimed = True
    for day, outcome, started_at, error in runs:
        _count_run(records.setdefault(day, DayRecord()), outcome, started_at, error)
    return records


def _count_run(record: DayRecord, outcome: str, started_at: datetime, error: str | None) -> None:
    """Fold one run into its day: failures in a row, and the last problem met."""
    if outcome == Outcome.FAILED:
        record.failures += 1
        record.last_failure = started_at
        record.problem = (error or "").strip()[:200] or None
    elif outcome == Outcome.QUOTA_EXHAUSTED:
        record.problem = QUOTA_429
    elif outcome == Outcome.STORED:
        record.failures, record.last_failure, record.problem = 0, None, None


def set_complete_through(engine: Engine, *, source_id: int, day: date) -> None:
    """Move a source's settled watermark forward (never back)."""
    with engine.begin() as conn:
        conn.execute(
            update(Source)
            .where(
                col(Source.id) == source_id,
                or_(col(Source.complete_through).is_(None), col(Source.complete_through) < day),
            )
            .values(complete_through=day)
        )


def recent_runs(engine: Engine, *, source_id: int | None, limit: int) -> Sequence[RunLog]:
    """Return the newest run-log entries, newest first."""
    with Session(engine) as session:
        query = select(RunLog)
        if source_id is not None:
            query = query.where(RunLog.source_id == source_id)
        return session.exec(query.order_by(col(RunLog.id).desc()).limit(limit)).all()
