"""Owners hear about trouble in a Slack DM (the scheduler's Notifier, when Slack is set up)."""

from __future__ import annotations

import logging
from datetime import date

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.slack.text import escape
from reports.scheduler import LogNotifier
from store.models import Source

log = logging.getLogger(__name__)


class SlackNotifier(LogNotifier):
    """Logs like the default notifier, and DMs the person who connected the source."""

    def __init__(self, *, engine: Engine, client: WebClient) -> None:
        self._engine, self._client = engine, client

    def source_disabled(self, source_id: int, label: str, reason: str) -> None:
        """Tell the owner their token stopped working, and how to fix it."""
        super().source_disabled(source_id, label, reason)
        self._dm(source_id, f"Snapshots of *{escape(label)}* are paused: {escape(reason)} "
                            "Then run `/clarity connect` with the new token.")  # fmt: skip

    def day_lost(self, source_id: int, label: str, day: date, groups: tuple[str, ...],
                 reason: str) -> None:  # fmt: skip
        """Tell the owner a day could not be taken."""
        super().day_lost(source_id, label, day, groups, reason)
        self._dm(source_id, f"*{escape(label)}*: {day:%a %-d %b} could not be stored "
                            f"({', '.join(groups)}): {escape(reason)}.")  # fmt: skip

    def delivery_failed(self, subscription_id: int, source_id: int, label: str, period: str,
                        where: str, reason: str, user: str | None) -> None:  # fmt: skip
        """Tell whoever set the subscription up that a report could not be delivered."""
        super().delivery_failed(subscription_id, source_id, label, period, where, reason, user)
        text = (f"The {escape(label)} report for {period} could not be delivered to {where}: "
                f"{escape(reason)} Fix it, or stop it with `/clarity unsubscribe "
                f"{subscription_id}`.")  # fmt: skip
        if user:
            self._send(user, text)
        else:
            self._dm(source_id, text)

    def _send(self, user: str, text: str) -> None:
        try:
            self._client.chat_postMessage(channel=user, text=text)
        except SlackApiError as exc:
            log.warning("could not DM %s: %s", user, exc.response.get("error"))

    def _dm(self, source_id: int, text: str) -> None:
        with Session(self._engine) as session:
            source = session.get(Source, source_id)
        if source is None or not source.owner_user_id:
            return  # connected from the command line: the log is where the news goes
        try:
            self._client.chat_postMessage(channel=source.owner_user_id, text=text)
        except SlackApiError as exc:
            log.warning("could not DM the owner of source %s: %s", source_id,
                        exc.response.get("error"))  # fmt: skip
