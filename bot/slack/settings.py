"""Slack settings from the environment (read by `claritybot serve` only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

from store.errors import ConfigError

SLACK_ENV_VARS: Final = {
    "SLACK_BOT_TOKEN": ("", "bot token (xoxb-…) for a single workspace"),
    "SLACK_SIGNING_SECRET": ("", "verifies that requests come from Slack (HTTP mode)"),
    "SLACK_APP_TOKEN": ("", "app-level token (xapp-…): use Socket Mode, no public URL needed"),
    "SLACK_CLIENT_ID": ("", "with SLACK_CLIENT_SECRET: install in many workspaces over OAuth"),
    "SLACK_CLIENT_SECRET": ("", "the app's client secret (multi-workspace OAuth install)"),
    "SLACK_API_URL": ("https://slack.com/api/", "Slack Web API base URL (tests, proxies)"),
    "HOST": ("127.0.0.1", "address `claritybot serve` listens on in HTTP mode"),
    "PORT": ("3000", "port `claritybot serve` listens on in HTTP mode"),
}


@dataclass(frozen=True)
class SlackSettings:
    """How to reach Slack and how to listen."""

    # Secrets are left out of the repr: settings end up in tracebacks and debug logs.
    bot_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    app_token: str | None = field(repr=False)
    api_url: str
    host: str
    port: int
    client_id: str = ""
    client_secret: str = field(default="", repr=False)

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set: no public URL, no signature needed."""
        return bool(self.app_token)

    @property
    def multi_workspace(self) -> bool:
        """True with OAuth credentials: each workspace installs the app, tokens in the database."""
        return bool(self.client_id and self.client_secret)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SlackSettings:
        """Read and check the settings; ConfigError names what is missing."""

        def get(name: str) -> str:
            return environ.get(name, "").strip() or SLACK_ENV_VARS[name][0]

        bot_token, secret, app_token = (
            get("SLACK_BOT_TOKEN"),
            get("SLACK_SIGNING_SECRET"),
            get("SLACK_APP_TOKEN") or None,
        )
        client_id, client_secret = get("SLACK_CLIENT_ID"), get("SLACK_CLIENT_SECRET")
        if client_id or client_secret:
            _check_oauth(client_id, client_secret, bot_token, secret, app_token)
        elif not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: create the Slack app from manifest.yml, install it "
                "to your workspace and copy its Bot User OAuth Token, or set SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET to install it in many workspaces (README, Slack app)."
            )
        if not secret and not app_token:
            raise ConfigError(
                "Set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): without "
                "one of them requests from Slack cannot be trusted."
            )
        try:
            port = int(get("PORT"))
        except ValueError:
            raise ConfigError(f"PORT must be a number, not {get('PORT')!r}.") from None
        api_url = get("SLACK_API_URL").rstrip("/") + "/"
        return cls(
            bot_token, secret, app_token, api_url, get("HOST"), port, client_id, client_secret
        )


def _check_oauth(
    client_id: str, client_secret: str, bot_token: str, secret: str, app_token: str | None
) -> None:
    """Multi-workspace needs both credentials, a signing secret and HTTP mode, and no bot token."""
    if not (client_id and client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set: a multi-workspace install needs both SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (Slack app → Basic Information → App Credentials)."
        )
    if bot_token:
        # Two sources of tokens would leave it unclear which workspace a reply goes to.
        raise ConfigError(
            "Set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (many workspaces), not both."
        )
    if app_token:
        raise ConfigError(
            "A multi-workspace install runs in HTTP mode (Slack sends browsers to "
            "/slack/oauth_redirect): unset SLACK_APP_TOKEN."
        )
    if not secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: with SLACK_CLIENT_ID the app runs in HTTP mode and "
            "must check that requests come from Slack (Basic Information → Signing Secret)."
        )
