"""Settings from the environment, read in one place (`Settings.from_env`) by the composition root
(bot/cli/runtime.py) and passed down as plain values. Secrets stay out of every repr: settings
end up in tracebacks and debug logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final
from urllib.parse import unquote, urlsplit

from reports.errors import ConfigError
from reports.workers import DEFAULT_LEASE, lease_length
from store.db import DEFAULT_DATABASE_URL
from store.quota import QuotaPolicy

DEFAULT_API_URL: Final = "https://www.clarity.ms/export-data/api/v1"
DEFAULT_TIMEOUT: Final = 30.0  # seconds for one Clarity call
DEFAULT_MODEL: Final = "gpt-4o-mini"
DEFAULT_AI_TIMEOUT: Final = 10.0  # seconds for one AI summary; the template waits for nothing
DEFAULT_SLACK_API_URL: Final = "https://slack.com/api/"
DEFAULT_CONCURRENCY: Final = 16  # projects snapshotted at once; the work waits on the network
DEFAULT_DELIVERY_CONCURRENCY: Final = 4  # reports built and sent at once: drawing is CPU, so few

# name → (default, meaning); the README's configuration table is checked against these in tests.
ENV_VARS: Final = {
    "DATABASE_URL": (DEFAULT_DATABASE_URL, "SQLite file or PostgreSQL URL"),
    "CLARITYBOT_SECRET_KEY": ("", "Fernet key(s) encrypting Clarity tokens at rest"),
    "CLARITY_API_URL": (DEFAULT_API_URL, "Clarity Data Export API base URL"),
    "CLARITY_TIMEOUT_SECONDS": (str(DEFAULT_TIMEOUT), "timeout of one Clarity call"),
    "CLARITY_DAILY_CALL_CAP": ("10", "calls per project per UTC day we allow ourselves (1-10)"),
    "CLARITY_MANUAL_RESERVE": ("2", "calls of that cap kept for manual snapshots and refreshes"),
    "CLARITYBOT_LEASE_SECONDS": ("600", "lease on a claimed day or report, renewed while it runs"),
    "CLARITY_CONCURRENCY": (str(DEFAULT_CONCURRENCY), "projects a tick snapshots at once (1-64)"),
    "DELIVERY_CONCURRENCY": (
        str(DEFAULT_DELIVERY_CONCURRENCY),
        "reports one `tick`/`worker` builds and sends at once (1-64)",
    ),
    "LOG_LEVEL": ("WARNING", "logging level"),
    "SMTP_URL": ("", "smtp://host:587 (STARTTLS when offered) or smtps://host:465 for email"),
    "SMTP_USERNAME": ("", "SMTP user (or in SMTP_URL)"),
    "SMTP_PASSWORD": ("", "SMTP password (or in SMTP_URL)"),
    "MAIL_FROM": ("", "sender address of email digests"),
    "OPENAI_API_KEY": ("", "turns on AI phrasing of report summaries (checked against the facts)"),
    "OPENAI_BASE_URL": ("", "an OpenAI-compatible API instead of OpenAI's"),
    "OPENAI_MODEL": (DEFAULT_MODEL, "model for AI summaries"),
    "PUBLIC_URL": ("", "public address of `claritybot serve`, for unsubscribe links in email"),
}
SLACK_ENV_VARS: Final = {
    "SLACK_BOT_TOKEN": ("", "bot token (xoxb-…) for a single workspace"),
    "SLACK_SIGNING_SECRET": ("", "verifies that requests come from Slack (HTTP mode)"),
    "SLACK_APP_TOKEN": ("", "app-level token (xapp-…): use Socket Mode, no public URL needed"),
    "SLACK_CLIENT_ID": ("", "with SLACK_CLIENT_SECRET: install in many workspaces over OAuth"),
    "SLACK_CLIENT_SECRET": ("", "the app's client secret (multi-workspace OAuth install)"),
    "SLACK_API_URL": (DEFAULT_SLACK_API_URL, "Slack Web API base URL (tests, proxies)"),
    "HOST": ("127.0.0.1", "address `claritybot serve` listens on in HTTP mode"),
    "PORT": ("3000", "port `claritybot serve` listens on in HTTP mode"),
}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail."""

    host: str
    port: int
    tls: str  # "ssl" (smtps://) or "starttls" (smtp://, used when the server offers it)
    username: str | None
    password: str | None = field(repr=False)
    mail_from: str = ""
    timeout: float = 30.0


@dataclass(frozen=True)
class AiSettings:
    """How to reach an OpenAI-compatible API."""

    api_key: str = field(repr=False)
    base_url: str | None = None
    model: str = DEFAULT_MODEL
    timeout: float = DEFAULT_AI_TIMEOUT


@dataclass(frozen=True)
class SlackSettings:
    """How to reach Slack and how to listen; `for_serving()` checks what `serve` needs."""

    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_SLACK_API_URL
    host: str = "127.0.0.1"
    port: int = 3000
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

    @property
    def reachable(self) -> bool:
        """True when the worker can post: one bot token, or OAuth installs in the database."""
        return bool(self.bot_token or self.client_id)

    def for_serving(self) -> SlackSettings:
        """Return these settings once checked for `serve`; ConfigError names what is missing."""
        if self.client_id or self.client_secret:
            _check_oauth(self)
        elif not self.bot_token:
            raise ConfigError(
                "SLACK_BOT_TOKEN is not set: create the Slack app from manifest.yml, install it "
                "to your workspace and copy its Bot User OAuth Token, or set SLACK_CLIENT_ID and "
                "SLACK_CLIENT_SECRET to install it in many workspaces (README, Slack app)."
            )
        if not self.signing_secret and not self.app_token:
            raise ConfigError(
                "Set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode): without "
                "one of them requests from Slack cannot be trusted."
            )
        return self


@dataclass(frozen=True)
class Settings:
    """Everything configurable, validated, one section per edge."""

    database_url: str
    secret_key: str | None = field(repr=False)
    clarity_api_url: str = DEFAULT_API_URL
    clarity_timeout: float = DEFAULT_TIMEOUT
    quota: QuotaPolicy = field(default_factory=QuotaPolicy)
    log_level: str = "WARNING"
    smtp: SmtpSettings | None = None  # None: no email destination
    ai: AiSettings | None = None  # None: template summaries only
    slack: SlackSettings = field(default_factory=SlackSettings)
    public_url: str = ""  # where `serve` answers unsubscribe links; "" for none
    lease: timedelta = DEFAULT_LEASE  # claims not renewed for this long are taken over
    concurrency: int = DEFAULT_CONCURRENCY  # projects one tick snapshots at once
    delivery_concurrency: int = DEFAULT_DELIVERY_CONCURRENCY  # reports one tick sends at once

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate settings; raise ConfigError naming the variable at fault."""
        env = _Env(environ)
        return cls(
            database_url=env.get("DATABASE_URL"),
            secret_key=env.get("CLARITYBOT_SECRET_KEY") or None,
            clarity_api_url=env.get("CLARITY_API_URL"),
            clarity_timeout=_float(env.get("CLARITY_TIMEOUT_SECONDS"), "CLARITY_TIMEOUT_SECONDS"),
            quota=_quota(env),
            log_level=log_level(environ),
            smtp=_smtp(env),
            ai=_ai(env),
            slack=_slack(env),
            public_url=env.get("PUBLIC_URL"),
            lease=_lease(environ),
            concurrency=_concurrency(env, "CLARITY_CONCURRENCY"),
            delivery_concurrency=_concurrency(env, "DELIVERY_CONCURRENCY"),
        )


def _lease(environ: Mapping[str, str]) -> timedelta:
    try:
        return lease_length(environ)
    except ValueError as exc:
        raise ConfigError(f"{exc}.") from None


def log_level(environ: Mapping[str, str]) -> str:
    """LOG_LEVEL alone: logging starts before the rest is validated, so errors can be logged."""
    return _Env(environ).get("LOG_LEVEL").upper()


@dataclass(frozen=True)
class _Env:
    """The environment, stripped, with each variable's documented default."""

    environ: Mapping[str, str]

    def get(self, name: str) -> str:
        return self.raw(name).strip() or {**ENV_VARS, **SLACK_ENV_VARS}[name][0]

    def raw(self, name: str) -> str:
        return self.environ.get(name, "")


def _concurrency(env: _Env, name: str) -> int:
    value = _int(env.get(name), name)
    if not 1 <= value <= 64:
        raise ConfigError(f"{name} must be between 1 and 64, not {value}.")
    return value


def _quota(env: _Env) -> QuotaPolicy:
    try:
        return QuotaPolicy(
            daily_cap=_int(env.get("CLARITY_DAILY_CALL_CAP"), "CLARITY_DAILY_CALL_CAP"),
            manual_reserve=_int(env.get("CLARITY_MANUAL_RESERVE"), "CLARITY_MANUAL_RESERVE"),
        )
    except ValueError as exc:
        raise ConfigError(f"CLARITY_DAILY_CALL_CAP / CLARITY_MANUAL_RESERVE: {exc}.") from None


def _smtp(env: _Env) -> SmtpSettings | None:
    """SMTP_URL, SMTP_USERNAME, SMTP_PASSWORD and MAIL_FROM; None without SMTP_URL."""
    url = env.get("SMTP_URL")
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ConfigError("SMTP_URL must look like smtp://host:587 or smtps://host:465.")
    mail_from = env.get("MAIL_FROM")
    if "@" not in mail_from:
        raise ConfigError("MAIL_FROM must be the sender address, e.g. reports@example.com.")
    # Unstripped: a password may begin or end with a space.
    user = env.raw("SMTP_USERNAME") or (unquote(parts.username) if parts.username else None)
    password = env.raw("SMTP_PASSWORD") or (unquote(parts.password) if parts.password else None)
    tls = "ssl" if parts.scheme == "smtps" else "starttls"
    port = parts.port or (465 if tls == "ssl" else 587)
    return SmtpSettings(parts.hostname, port, tls, user, password, mail_from)


def _ai(env: _Env) -> AiSettings | None:
    """OPENAI_API_KEY (required), OPENAI_BASE_URL, OPENAI_MODEL; None without a key."""
    key = env.get("OPENAI_API_KEY")
    if not key:
        return None
    return AiSettings(key, env.get("OPENAI_BASE_URL") or None, env.get("OPENAI_MODEL"))


def _slack(env: _Env) -> SlackSettings:
    text = env.get("PORT")
    try:
        port = int(text)
    except ValueError:
        raise ConfigError(f"PORT must be a number, not {text!r}.") from None
    return SlackSettings(
        bot_token=env.get("SLACK_BOT_TOKEN"),
        signing_secret=env.get("SLACK_SIGNING_SECRET"),
        app_token=env.get("SLACK_APP_TOKEN") or None,
        api_url=env.get("SLACK_API_URL").rstrip("/") + "/",
        host=env.get("HOST"),
        port=port,
        client_id=env.get("SLACK_CLIENT_ID"),
        client_secret=env.get("SLACK_CLIENT_SECRET"),
    )


def _check_oauth(s: SlackSettings) -> None:
    """Multi-workspace needs both credentials, a signing secret and HTTP mode, and no bot token."""
    if not (s.client_id and s.client_secret):
        missing = "SLACK_CLIENT_SECRET" if s.client_id else "SLACK_CLIENT_ID"
        raise ConfigError(
            f"{missing} is not set: a multi-workspace install needs both SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (Slack app → Basic Information → App Credentials)."
        )
    if s.bot_token:
        # Two sources of tokens would leave it unclear which workspace a reply goes to.
        raise ConfigError(
            "Set either SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET (many workspaces), not both."
        )
    if s.app_token:
        raise ConfigError(
            "A multi-workspace install runs in HTTP mode (Slack sends browsers to "
            "/slack/oauth_redirect): unset SLACK_APP_TOKEN."
        )
    if not s.signing_secret:
        raise ConfigError(
            "SLACK_SIGNING_SECRET is not set: with SLACK_CLIENT_ID the app runs in HTTP mode and "
            "must check that requests come from Slack (Basic Information → Signing Secret)."
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
