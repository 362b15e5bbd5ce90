"""Slack settings from the environment (read by `claritybot serve` only)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from store.errors import ConfigError

SLACK_ENV_VARS: Final = {
    "SLACK_BOT_TOKEN": ("", "bot token (xoxb-…) for a single workspace"),
    "SLACK_SIGNING_SECRET": ("", "verifies that requests come from Slack (HTTP mode)"),
    "SLACK_APP_TOKEN": ("", "app-level token (xapp-…): use Socket Mode, no public URL needed"),
    "SLACK_API_URL": ("https://slack.com/api/", "Slack Web API base URL (tests, proxies)"),
    "HOST": ("127.0.0.1", "address `claritybot serve` listens on in HTTP mode"),
    "PORT": ("3000", "port `claritybot serve` listens on in HTTP mode"),
}


@dataclass(frozen=True)
class SlackSettings:
    """How to reach Slack and how to listen."""

    bot_token: str
    signing_secret: str
    app_token: str | None
    api_url: str
    host: str
    port: int

    @property
    def socket_mode(self) -> bool:
        """True when an app-level token is set: no public URL, no signature needed."""
        return bool(self.app_token)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SlackSettings:
        """Read and check the settings; ConfigError names what is missing."""

        def get(name: str) -> str:
            return environ.get(name, "").strip() or SLACK_ENV_VARS[name][0]

        bot_token, secret, app_token = (
            get("SLACK_BOT_TOKEN"), get("SLACK_SIGNING_SECRET"), get("SLACK_APP_TOKEN") or None
        )  # fmt: skip
        if not bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: create the Slack app from manifest.yml, install it "
                "to your workspace and copy its Bot User OAuth Token (README, Slack app)."
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
        api_url = get("SLACK_API_URL")
        return cls(bot_token, secret, app_token, api_url.rstrip("/") + "/", get("HOST"), port)
