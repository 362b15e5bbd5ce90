"""Owners hear about trouble in a Slack DM (the scheduler's Notifier, when Slack is set up)."""

from __future__ import annotations

import logging
from datetime import date

from slack_sdk.errors import SlackApiError
from sqlalchemy import Engine
from sqlmodel import Session

from bot.slack.clients import WorkspaceClients
from bot.slack.text import escape
from reports.notify import LogNotifier
from store.models import Source

log = logging.getLogger(__name__)


class SlackNotifier(LogNotifier):
    """Logs like the default notifier, and DMs the person who connected the source."""

    def __init__(self, *, engine: Engine, clients: WorkspaceClients) -> None:
        self._engine, self._clients = engine, clients

    def source_disabled(self, source_id: int, label: str, reason: str) -> None:
        """Tell the owner their token stopped working, and how to fix it."""
        super().source_disabled(source_id, label, reason)
        self._dm(
            source_id,
            f"Snapshots of *{escape(label)}* are paused: {escape(reason)} "
            "Then run `/clarity connect` with the new token.",
        )

    def day_lost(
        self, source_id: int, label: str, day: date, groups: tuple[str, ...], reason: str
    ) -> None:
        """Tell the owner a day could not be taken."""
        super().day_lost(source_id, label, day, groups, reason)
        self._dm(
            source_id,
            f"*{escape(label)}*: {day:%a %-d %b} could not be stored "
            f"({', '.join(groups)}): {escape(reason)}.",
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
        """Tell whoever set the subscription up that a report could not be delivered."""
        super().delivery_failed(subscription_id, source_id, label, period, where, reason, user)
        text = (
            f"The {escape(label)} report for {period} could not be delivered to {where}: "
            f"{escape(reason)} Fix it, or stop it with `/clarity unsubscribe "
            f"{subscription_id}`."
        )
        self._dm(source_id, text, user=user)

    def data_problem(self, source_id: int, label: str, text: str) -> None:
        """Tell the owner once that the numbers look wrong, and why."""
        super().data_problem(source_id, label, text)
        self._dm(source_id, f"Data check for *{escape(label)}*: {escape(text)}")

    def _dm(self, source_id: int, text: str, *, user: str | None = None) -> None:
        """DM `user`, else the person who connected the source, in that source's workspace."""
        with Session(self._engine) as session:
            source = session.get(Source, source_id)
        to = user or (source.owner_user_id if source else None)
        client = self._clients.for_workspace(source.workspace_id) if source else None
        if not to or client is None:
            return  # set up from the command line, or no Slack here: the log has the news
        try:
            client.chat_postMessage(channel=to, text=text)
        except SlackApiError as exc:
            log.warning("could not DM about source %s: %s", source_id, exc.response.get("error"))
