"""What the Slack listeners need, built once by the composition root and passed in."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from sqlalchemy import Engine

from reports.clarity.client import ClarityClient
from reports.delivery.dispatch import Dispatcher
from reports.errors import UsageError
from reports.render.charts import ChartMaker
from store import choices, repository
from store.crypto import TokenCipher
from store.db import session_scope
from store.quota import QuotaPolicy

SLACK_ID: Final = re.compile(r"[A-Z0-9]{1,32}")  # Slack's team and enterprise ids: T024BE7LD


@dataclass
class SlackServices:
    """Collaborators of the Slack app; tests build one with fakes at the network edge."""

    engine: Engine
    cipher: TokenCipher
    clarity: ClarityClient
    clock: Callable[[], datetime]
    policy: QuotaPolicy = field(default_factory=QuotaPolicy)
    charts: ChartMaker = field(default_factory=ChartMaker)
    # One Slack workspace (a bot token or Socket Mode): it shares the CLI's projects.
    single_workspace: bool = False
    # Builds reports (`chart digest`) and sends test reports, to the destinations its senders
    # reach (the worker's); None: one that builds reports and reaches no destination.
    dispatcher: Dispatcher | None = None

    def workspace_id(self, team_id: str | None, enterprise_id: str | None = None) -> int:
        """Return our workspace for a Slack team (or Enterprise Grid org), creating it once."""
        key = team_id or enterprise_id
        if not isinstance(key, str) or not SLACK_ID.fullmatch(key):
            raise UsageError("This request names no Slack workspace I can serve.")
        with session_scope(self.engine) as session:
            if self.single_workspace:
                return repository.adopt_cli_workspace(session=session, name=f"slack:{key}").id or 0
            return repository.ensure_workspace(session=session, name=f"slack:{key}").id or 0

    def timezone(self, workspace_id: int) -> str:
        """The workspace's timezone (its snapshots' and its times')."""
        with session_scope(self.engine) as session:
            return repository.get_workspace(session=session, workspace_id=workspace_id).timezone

    def remember(self, workspace_id: int, channel: str, source_id: int) -> None:
        """Remember the project a channel picked, for its next commands without one."""
        if not channel:
            return  # a click from nowhere (App Home): there is no channel to remember for
        with session_scope(self.engine) as session:
            choices.remember_choice(
                session=session,
                workspace_id=workspace_id,
                channel=channel,
                source_id=source_id,
                now=self.clock(),
            )

    def remembered(self, workspace_id: int, channel: str) -> int | None:
        """The project this channel picked last, if it is still connected."""
        with session_scope(self.engine) as session:
            return choices.chosen_source(
                session=session, workspace_id=workspace_id, channel=channel
            )

    def delivery(self) -> Dispatcher:
        """The dispatcher that builds this app's reports and sends its test reports."""
        if self.dispatcher is None:
            self.dispatcher = Dispatcher(
                engine=self.engine, senders={}, owner="slack", charts=self.charts
            )
        return self.dispatcher
