"""KERNEL: where owners hear about trouble (a port: Slack implements it in `bot/`)."""

from __future__ import annotations

import logging
from datetime import date
from typing import Protocol

log = logging.getLogger(__name__)


class Notifier(Protocol):
    """Where owners hear about trouble; Slack and email plug in here later."""

    def source_disabled(self, source_id: int, label: str, reason: str) -> None:
        """A source stopped because Clarity rejected its token."""

    def day_lost(
        self, source_id: int, label: str, day: date, groups: tuple[str, ...], reason: str
    ) -> None:
        """Some groups of a day could not be taken at all."""

    def delivery_failed(
        self,
        subscription_id: int,
        source_id: int,
        label: str,
        period: str,
        where: str,
        reason: str,
        user: str | None,
    ) -> None:
        """A scheduled report could not be delivered and will not be retried."""

    def data_problem(self, source_id: int, label: str, text: str) -> None:
        """The data-quality guard found a new problem with a source's numbers."""


class LogNotifier:
    """The default notifier: a warning in the log (and the status in `sources list`)."""

    def source_disabled(self, source_id: int, label: str, reason: str) -> None:
        """Log that a source was disabled."""
        log.warning("source %s (%s) disabled: %s", source_id, label, reason)

    def day_lost(
        self, source_id: int, label: str, day: date, groups: tuple[str, ...], reason: str
    ) -> None:
        """Log a gap."""
        log.warning(
            "source %s (%s): %s lost for %s: %s", source_id, label, day, ", ".join(groups), reason
        )

    def delivery_failed(
        self,
        subscription_id: int,
        source_id: int,
        label: str,
        period: str,
        where: str,
        reason: str,
        user: str | None,
    ) -> None:
        """Log a delivery that failed for good."""
        log.warning(
            "subscription %s (%s) to %s: %s failed: %s",
            subscription_id,
            label,
            where,
            period,
            reason,
        )

    def data_problem(self, source_id: int, label: str, text: str) -> None:
        """Log a data problem."""
        log.warning("source %s (%s): %s", source_id, label, text)
