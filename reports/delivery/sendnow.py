"""Send now: the current report of a subscription, delivered at once, outside the ledger.

A test send is not a period's send: it writes no ledger row, so the scheduled report of the
period still goes out once, and a test can be repeated as often as wanted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from sqlmodel import Session

from reports.delivery.cadence import Occurrence
from reports.delivery.compose import Report
from reports.delivery.dispatch import Dispatcher
from reports.delivery.failures import MISSING
from reports.delivery.subscriptions import check_destination
from reports.errors import UsageError
from reports.timezones import local_date, parse_timezone, require_aware
from store.models import Subscription, Workspace

TEST_NOTE: Final = "A test send: the scheduled report still goes out."


def test_period(now: datetime) -> str:
    """The period name of a test send: never a real period, so never in the ledger's way."""
    return f"test-{now:%Y%m%dT%H%M%S}"


def current_report(
    dispatcher: Dispatcher, sub: Subscription, now: datetime, note: str | None = None
) -> Report:
    """`sub`'s report as of `now`, under a period of its own (never one of the ledger's)."""
    now = require_aware(now)
    with Session(dispatcher.engine) as session:
        workspace = session.get(Workspace, sub.workspace_id)
        zone = parse_timezone(workspace.timezone if workspace else "UTC")
    return dispatcher.build(sub, Occurrence(test_period(now), local_date(now, zone), now), note)


def send_now(
    dispatcher: Dispatcher, sub: Subscription, now: datetime, to: str | None = None
) -> str:
    """Deliver `sub`'s report as of `now` to its destination (or `to`); return the send's id.

    Raise DeliveryError when the destination refuses it, UsageError for a bad `to`.
    """
    if to:
        to = check_destination(sub.destination_kind, to)
        sub = sub.model_copy(update={"destination": to})
    sender = dispatcher.senders.get(sub.destination_kind)
    if sender is None:
        raise UsageError(MISSING[sub.destination_kind])
    report = current_report(dispatcher, sub, now, TEST_NOTE)
    url = dispatcher.links.unsubscribe_url(sub.id or 0) if dispatcher.links else None
    return sender.deliver(report, sub, require_aware(now), url)
