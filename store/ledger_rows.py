"""The ledger's rows as a whole: the open ones a tick resumes, the newest for `claritybot
deliveries`, and a failed one queued again by hand (`claritybot deliveries retry ID`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from store.ledger import FINAL
from store.models import Delivery
from store.vocab import DeliveryStatus


def retry(engine: Engine, delivery_id: int, *, now: datetime) -> Delivery | None:
    """Queue a failed row to be sent on the next tick, with fresh attempts; None if not failed."""
    with engine.begin() as conn:
        result = conn.execute(
            update(Delivery)
            .where(col(Delivery.id) == delivery_id, col(Delivery.status) == DeliveryStatus.FAILED)
            .values(
                status=DeliveryStatus.RETRYING,
                next_attempt_at=now,
                attempts=0,
                lease_until=None,
                updated_at=now,
                note="queued again by hand",
            )
        )
    if result.rowcount != 1:
        return None
    with Session(engine) as session:
        return session.get(Delivery, delivery_id)


def open_rows(engine: Engine, subscription_ids: Sequence[int]) -> list[Delivery]:
    """Rows not yet final for these subscriptions (retries and stranded claims)."""
    if not subscription_ids:
        return []
    with Session(engine) as session:
        return list(
            session.exec(
                select(Delivery).where(
                    col(Delivery.subscription_id).in_(subscription_ids),
                    col(Delivery.status).not_in(FINAL),
                )
            ).all()
        )


def recent(engine: Engine, *, limit: int = 100) -> list[Delivery]:
    """The newest ledger rows first."""
    with Session(engine) as session:
        query = select(Delivery).order_by(col(Delivery.due_at).desc(), col(Delivery.id).desc())
        return list(session.exec(query.limit(limit)).all())
