"""EDGE: the outbox destination — each report as an .eml file plus its PNGs, in a folder.

For people who pipe reports elsewhere, and for `claritybot demo`. A file is written under a
temporary name and renamed into place, so an .eml that exists is a complete, sent report.
"""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path

from reports.delivery.compose import Report
from reports.delivery.email import build_message
from reports.errors import DeliveryError
from store.models import Subscription

OUTBOX_FROM = "claritybot@localhost"


def eml_path(sub: Subscription, period: str) -> Path:
    """Where the report of one period goes."""
    return Path(sub.destination) / f"report-{sub.id}-{period}.eml"


class OutboxSender:
    """Writes reports into the subscription's folder."""

    def __init__(self, *, mail_from: str = OUTBOX_FROM) -> None:
        self.mail_from = mail_from

    def deliver(
        self, report: Report, sub: Subscription, now: datetime, unsubscribe_url: str | None
    ) -> str:
        """Write the .eml and the PNGs; return the .eml path."""
        target = eml_path(sub, report.period)
        msg = build_message(
            report,
            mail_from=self.mail_from,
            to=f"outbox:{sub.destination}",
            now=now,
            unsubscribe_url=unsubscribe_url,
        )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            for n, chart in enumerate(report.charts, start=1):
                _write(target.with_name(f"{target.stem}-{n}-{chart.key}.png"), chart.png)
            _write(target, msg.as_bytes())  # last: its presence means the report is complete
        except OSError as exc:  # a full disk or a lost mount passes: retried like an SMTP outage
            raise DeliveryError(
                f"Cannot write to {target.parent}: {exc.strerror}.", transient=True
            ) from None
        return str(target)

    def check(self, sub: Subscription, period: str) -> bool | None:
        """True when the period's report is in the folder (provably sent)."""
        return eml_path(sub, period).is_file()


def _write(path: Path, data: bytes) -> None:
    """Write under a temporary name, then rename; the temporary file never outlives a failure."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        temp.write_bytes(data)
        os.replace(temp, path)
    except OSError:
        temp.unlink(missing_ok=True)
        raise
