"""Whether the day a report describes is in: a report waits for it, up to GRACE after its send time.

After GRACE it goes out with what there is and says so; a day known lost never makes it wait.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy import Engine
from sqlmodel import Session, select

from reports.delivery.cadence import Occurrence
from reports.timezones import parse_timezone, yesterday
from store import repository
from store.models import DayGap, Source

GRACE: Final = timedelta(hours=3)
READY_GROUP: Final = "overall"  # a day's totals: enough to report on it


def ready(
    engine: Engine, source: Source, zone: str, occurrence: Occurrence, now: datetime
) -> tuple[bool, str | None]:
    """Is the day the report describes stored (or known lost)? Else wait, up to GRACE."""
    day = yesterday(occurrence.due_at, parse_timezone(zone))
    with Session(engine) as session:
        stored = repository.stored_groups(session=session, source_id=source.id or 0, local_date=day)
        lost = _gap(session, source.id or 0, day)
    if READY_GROUP in stored:
        return True, None
    if lost:
        return True, f"{day:%a %-d %b} could not be stored from Clarity; it is left out."
    if now < occurrence.due_at + GRACE and source.enabled:
        return False, None
    return True, (
        f"{day:%a %-d %b} is not in yet (waited {GRACE.seconds // 3600} h): this "
        "report shows the days before it."
    )


def _gap(session: Session, source_id: int, day: date) -> bool:
    found = session.exec(
        select(DayGap.id).where(
            DayGap.source_id == source_id,
            DayGap.local_date == day,
            DayGap.fetch_group == READY_GROUP,
        )
    ).first()
    return found is not None
