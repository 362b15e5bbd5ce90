"""Settings from the environment, read once by the composition root (bot/cli) and passed down."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from reports.errors import ConfigError
from store.db import DEFAULT_DATABASE_URL
from store.quota import QuotaPolicy

DEFAULT_API_URL: Final = "https://www.clarity.ms/export-data/api/v1"
DEFAULT_TIMEOUT: Final = 30.0  # seconds for one Clarity call

# name → (default, meaning); the README's configuration table is checked against this in tests.
ENV_VARS: Final = {
    "DATABASE_URL": (DEFAULT_DATABASE_URL, "SQLite file or PostgreSQL URL"),
    "CLARITYBOT_SECRET_KEY": ("", "Fernet key(s) encrypting Clarity tokens at rest"),
    "CLARITY_API_URL": (DEFAULT_API_URL, "Clarity Data Export API base URL"),
    "CLARITY_TIMEOUT_SECONDS": (str(DEFAULT_TIMEOUT), "timeout of one Clarity call"),
    "CLARITY_DAILY_CALL_CAP": ("10", "calls per project per UTC day we allow ourselves (1-10)"),
    "CLARITY_MANUAL_RESERVE": ("2", "calls of that cap kept for manual snapshots and refreshes"),
    "LOG_LEVEL": ("WARNING", "logging level"),
    "SMTP_URL": ("", "smtp://host:587 (STARTTLS when offered) or smtps://host:465 for email"),
    "SMTP_USERNAME": ("", "SMTP user (or in SMTP_URL)"),
    "SMTP_PASSWORD": ("", "SMTP password (or in SMTP_URL)"),
    "MAIL_FROM": ("", "sender address of email digests"),
    "OPENAI_API_KEY": ("", "turns on AI phrasing of report summaries (checked against the facts)"),
    "OPENAI_BASE_URL": ("", "an OpenAI-compatible API instead of OpenAI's"),
    "OPENAI_MODEL": ("gpt-4o-mini", "model for AI summaries"),
    "PUBLIC_URL": ("", "public address of `claritybot serve`, for unsubscribe links in email"),
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable, validated."""

    database_url: str
    secret_key: str | None
    clarity_api_url: str
    clarity_timeout: float
    quota: QuotaPolicy
    log_level: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate settings; raise ConfigError naming the variable at fault."""

        def get(name: str) -> str:
            value = environ.get(name, "").strip()
            return value or ENV_VARS[name][0]

        try:
            quota = QuotaPolicy(
                daily_cap=_int(get("CLARITY_DAILY_CALL_CAP"), "CLARITY_DAILY_CALL_CAP"),
                manual_reserve=_int(get("CLARITY_MANUAL_RESERVE"), "CLARITY_MANUAL_RESERVE"),
            )
        except ValueError as exc:
            raise ConfigError(f"CLARITY_DAILY_CALL_CAP / CLARITY_MANUAL_RESERVE: {exc}.") from None
        timeout = _float(get("CLARITY_TIMEOUT_SECONDS"), "CLARITY_TIMEOUT_SECONDS")
        return cls(
            database_url=get("DATABASE_URL"),
            secret_key=get("CLARITYBOT_SECRET_KEY") or None,
            clarity_api_url=get("CLARITY_API_URL"),
            clarity_timeout=timeout,
            quota=quota,
            log_level=get("LOG_LEVEL").upper(),
        )


def _int(text: str, name: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {text!r}.") from None


def _float(text: str, name: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {text!r}.") from None
    if value <= 0:
        raise ConfigError(f"{name} must be positive.")
    return value
