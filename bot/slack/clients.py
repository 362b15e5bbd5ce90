"""A Slack WebClient per workspace, for work done outside a Slack request (the worker).

One workspace: the SLACK_BOT_TOKEN client for everything. Many (OAuth): each workspace's bot
token from the installation table, so a report for team T1 is posted with T1's own token.
"""

from __future__ import annotations

from functools import cached_property

from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import Session

from bot.slack.posting import web_client
from store.crypto import TokenCipher
from store.models import Workspace


class WorkspaceClients:
    """Finds the client to reach a workspace's Slack with; None when there is none."""

    def __init__(
        self,
        engine: Engine,
        *,
        api_url: str,
        bot_token: str | None = None,
        client_id: str | None = None,
        cipher: TokenCipher | None = None,
    ) -> None:
        if client_id and cipher is None:
            raise ValueError("OAuth installs keep their tokens encrypted: pass the cipher")
        self.engine, self.api_url, self.cipher = engine, api_url, cipher
        self.bot_token, self.client_id = bot_token or None, client_id or None

    @cached_property
    def _single(self) -> WebClient | None:
        return web_client(self.bot_token, self.api_url) if self.bot_token else None

    def for_workspace(self, workspace_id: int) -> WebClient | None:
        """The client for one of our workspaces ("slack:T…"), or None if it has no install."""
        if self._single is not None:
            return self._single
        if self.client_id is None or self.cipher is None:
            return None
        with Session(self.engine) as session:
            workspace = session.get(Workspace, workspace_id)
        if workspace is None or not workspace.name.startswith("slack:"):
            return None
        from bot.slack.oauth import installation_store

        key = workspace.name.removeprefix("slack:")
        store = installation_store(self.engine, self.client_id, self.cipher)
        # Our workspace is keyed by team id, or by the org id for an Enterprise Grid install.
        bot = store.find_bot(enterprise_id=None, team_id=key) or store.find_bot(
            enterprise_id=key, team_id=None, is_enterprise_install=True
        )
        return web_client(bot.bot_token, self.api_url) if bot and bot.bot_token else None
