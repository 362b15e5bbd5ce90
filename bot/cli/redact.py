"""A logging filter that blanks secrets (Slack, Clarity and OpenAI tokens) in every record.

On our handlers, so slack-sdk's and httpx's DEBUG output (request bodies, OAuth answers) is
covered too: a token never reaches a log at any level.
"""

from __future__ import annotations

import logging
import re
from typing import Final

SECRET: Final = re.compile(
    r"xox[a-z]-[A-Za-z0-9-]+"  # Slack bot, user, refresh and config tokens
    r"|xapp-[A-Za-z0-9-]+"  # Slack app-level tokens (Socket Mode)
    r"|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"  # JWTs: Clarity's tokens
    r"|sk-[A-Za-z0-9_-]{16,}"  # OpenAI keys
)
REDACTED: Final = "[redacted]"


def redact(text: str) -> str:
    """`text` with every token-shaped string replaced."""
    return SECRET.sub(REDACTED, text)


class RedactSecrets(logging.Filter):
    """Formats a record's message and traceback once, with secrets replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops one."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: say so rather than lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
