"""The manifest in bot/ must match what the app listens to and needs."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.app import COMMAND

MANIFEST = yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "bot" / "manifest.yml").read_text()
)


def test_the_manifest_declares_the_command_events_and_scopes_the_app_uses():
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == COMMAND and command["url"].endswith("/slack/events")
    assert MANIFEST["settings"]["event_subscriptions"]["bot_events"] == [
        "app_home_opened", "app_uninstalled", "tokens_revoked"]  # fmt: skip
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write", "channels:join", "channels:read",
            "groups:read", "im:write"} == scopes  # fmt: skip
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
