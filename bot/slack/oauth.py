"""Multi-workspace installs: Slack OAuth, with slack-sdk's stores in our own database."""

from __future__ import annotations

import logging
from typing import Any, Final

from slack_bolt import App, BoltContext
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk.oauth.installation_store import InstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.slack.installs import EncryptedInstallationStore
from bot.slack.services import SlackServices
from store import repository
from store.crypto import TokenCipher
from store.db import session_scope
from store.models import Subscription
from store.vocab import SourceStatus

log = logging.getLogger(__name__)

# The bot scopes of bot/manifest.yml (a test keeps the two equal): an install asks for exactly
# what the manifest declares, no more.
SCOPES: Final = (
    "commands",
    "chat:write",
    "files:write",
    "channels:join",
    "channels:read",
    "groups:read",
    "im:write",
)
INSTALL_PATH: Final = "/slack/install"
REDIRECT_PATH: Final = "/slack/oauth_redirect"
# Long enough to read Slack's consent page, short enough that a leaked link soon goes stale.
STATE_SECONDS: Final = 600
UNINSTALLED: Final = "the Slack app was uninstalled from this workspace; history kept"


def installation_store(
    engine: Engine, client_id: str, cipher: TokenCipher
) -> EncryptedInstallationStore:
    """slack-sdk's store on our engine, tokens encrypted (tables made by migration 0004)."""
    return EncryptedInstallationStore(client_id=client_id, engine=engine, cipher=cipher)


def oauth_settings(
    engine: Engine, *, client_id: str, client_secret: str, cipher: TokenCipher
) -> OAuthSettings:
    """OAuth settings for `/slack/install` and `/slack/oauth_redirect`.

    The code exchange (oauth.v2.access) and each request's auth.test go through the App's
    WebClient: build the app with `client=WebClient(base_url=SLACK_API_URL)`.
    """
    return OAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(SCOPES),
        # Given explicitly: Bolt would otherwise read SLACK_INSTALL_PATH and friends itself.
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        installation_store=installation_store(engine, client_id, cipher),
        # The state lives in the database, not in a local file, so any web process can finish
        # an install another one started.
        state_store=SQLAlchemyOAuthStateStore(
            expiration_seconds=STATE_SECONDS, engine=engine, logger=log
        ),
        state_expiration_seconds=STATE_SECONDS,
        logger=log,
    )


def disable_sources(services: SlackServices, team_id: str | None, enterprise_id: str | None) -> int:
    """Stop a Slack workspace's sources and wipe their Clarity tokens; return how many."""
    workspace = services.workspace_id(team_id, enterprise_id)
    now = services.clock()
    with session_scope(services.engine) as session:
        # Its scheduled reports stop too: there is no token left to post them with.
        for sub in session.exec(
            select(Subscription).where(
                Subscription.workspace_id == workspace, col(Subscription.active).is_(True)
            )
        ):
            sub.active, sub.updated_at = False, now
            session.add(sub)
        found = repository.list_sources(session=session, workspace_id=workspace)
        for source in found:
            # Like `/clarity disconnect`: the token goes, the history stays for a reinstall.
            repository.touch_source(
                session=session,
                source=source,
                now=now,
                token_encrypted="",
                enabled=False,
                status=SourceStatus.REMOVED,
                status_reason=UNINSTALLED,
            )
        return len(found)


def forget_revoked(
    installs: InstallationStore, event: dict[str, Any], context: BoltContext
) -> None:
    """Delete the tokens a `tokens_revoked` event names, and only those of the calling team."""
    tokens = event.get("tokens") or {}
    team, org = context.team_id, context.enterprise_id
    for user_id in tokens.get("oauth") or []:
        installs.delete_installation(enterprise_id=org, team_id=team, user_id=user_id)
    if tokens.get("bot"):
        # Installation rows carry the bot token too: deleting only the bot row (Bolt's default
        # listener) would leave authorize handing out the revoked token.
        installs.delete_all(enterprise_id=org, team_id=team)


def register_lifecycle(app: App, services: SlackServices) -> None:
    """Forget a workspace on `app_uninstalled`, and revoked tokens on `tokens_revoked`."""
    installs = app.installation_store
    if installs is None:
        raise ValueError("register_lifecycle needs an app built with oauth_settings")

    @app.event("app_uninstalled")
    def uninstalled(context: BoltContext) -> None:
        team, org = context.team_id, context.enterprise_id
        installs.delete_all(enterprise_id=org, team_id=team)
        count = disable_sources(services, team, org)
        log.warning(
            "Slack workspace %s uninstalled the app: %d source(s) stopped", team or org, count
        )

    @app.event("tokens_revoked")
    def revoked(event: dict[str, Any], context: BoltContext) -> None:
        forget_revoked(installs, event, context)
