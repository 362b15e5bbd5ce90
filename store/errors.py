"""
The root of every error claritybot raises on purpose, and the store's own errors.

* ClaritybotError            anything we raise on purpose; its message is for the user
  x ConfigError              a setting is missing or malformed
    + SecretKeyError         CLARITYBOT_SECRET_KEY missing, malformed or not the key a token used
  x NotFoundError            an id or name the user gave does not exist

The Clarity and usage errors extend this tree in `reports/errors.py`.
"""

from __future__ import annotations


class ClaritybotError(Exception):
    """An error whose message tells the user what happened and what to do."""

    def __init__(self, message: str = "", *, in_slack: str | None = None) -> None:
        super().__init__(message)
        # The same message in Slack's words when its advice names a command: a Slack reply
        # says `/clarity metrics`, a terminal `claritybot metrics`.
        self.in_slack = in_slack

    @property
    def slack_text(self) -> str:
        """What a Slack reply says."""
        return self.in_slack or str(self)


class ConfigError(ClaritybotError):
    """A setting is missing or malformed."""


class SecretKeyError(ConfigError):
    """The encryption key is missing, malformed, or cannot decrypt a stored token."""


class NotFoundError(ClaritybotError):
    """A source, workspace or other record the user named does not exist."""
