"""
Errors raised by the Clarity side of claritybot.

* ClaritybotError (store.errors)
  x ConfigError, SecretKeyError, NotFoundError   (store.errors)
  x UsageError               bad command-line or slash-command input
  x InvalidTokenError        the token is not shaped like a Clarity JWT; no call was spent
  x QuotaExhaustedError      our ledger refuses the call; no call was spent
  x DeliveryError            a report could not be sent; `transient` says if a retry can help
  x ClarityError             a call to Clarity failed; `status` and `group` say where
    + ClarityBadRequest          400
    + ClarityAuthError           401 / 403: token wrong, expired or revoked
      - ClarityUnauthorized      401
      - ClarityForbidden         403
    + ClarityQuotaExceeded       429: Clarity's 10 calls a day are spent; never retried
    + ClarityServerError         5xx
    + ClarityTimeout             no answer in time
    + ClarityConnectionError     could not connect at all
    + ClarityResponseError       a 200 we cannot use
      - ClarityEmptyResponse     empty body
      - ClarityNotJSON           body is not JSON
      - ClarityShapeError        JSON, but not the documented array of metric blocks
      - ClarityDimensionMissing  rows lack the requested dimension (silent fallback)

Messages never contain the token, and never the response body (it may be large or untrusted).
"""

from __future__ import annotations

from store.errors import ClaritybotError, ConfigError, NotFoundError, SecretKeyError

__all__ = [
    "ClarityAuthError",
    "ClarityBadRequest",
    "ClarityConnectionError",
    "ClarityDimensionMissing",
    "ClarityEmptyResponse",
    "ClarityError",
    "ClarityForbidden",
    "ClarityNotJSON",
    "ClarityQuotaExceeded",
    "ClarityResponseError",
    "ClarityServerError",
    "ClarityShapeError",
    "ClarityTimeout",
    "ClarityUnauthorized",
    "ClaritybotError",
    "ConfigError",
    "InvalidTokenError",
    "NotFoundError",
    "QuotaExhaustedError",
    "SecretKeyError",
    "UsageError",
    "rejects_token",
]


class UsageError(ClaritybotError):
    """Bad input from a user; the message says what is accepted."""

    @classmethod
    def naming(cls, text: str, *, cli: str, slack: str) -> UsageError:
        """An error whose advice names a command: `{command}` in `text` becomes `cli` in a
        terminal's message and `slack` in a Slack reply."""
        return cls(text.replace(COMMAND, f"`{cli}`"), in_slack=text.replace(COMMAND, f"`{slack}`"))


# Where UsageError.naming puts the command: replaced, never str.format-ted, because the text
# may hold what someone typed, braces and all.
COMMAND = "{command}"


class InvalidTokenError(ClaritybotError):
    """The token is not shaped like a Clarity API token (a JWT)."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"Invalid token: {reason}. A Clarity API token is a long JWT of three dot-separated "
            "parts starting with 'eyJ'. Create one in Clarity under Settings → Data Export → "
            "Generate new API token, and paste it whole. No Clarity call was spent."
        )


class QuotaExhaustedError(ClaritybotError):
    """Our quota ledger refused a call, so nothing was sent."""


class ClarityError(ClaritybotError):
    """A call to the Clarity Data Export API failed."""

    #: Short machine-readable kind stored in the ledger and run log.
    kind = "error"

    def __init__(self, message: str, *, status: int | None = None, group: str | None = None):
        super().__init__(message)
        self.status = status
        self.group = group
        # The raw answer (status, body, params) of the failed call, so it can be kept for audit.
        self.reply: object | None = None


class ClarityBadRequest(ClarityError):
    """Clarity answered 400: the request parameters were refused."""

    kind = "bad_request"


class ClarityAuthError(ClarityError):
    """Clarity refused the token (401 or 403)."""

    kind = "auth"


class ClarityUnauthorized(ClarityAuthError):
    """Clarity answered 401: the token is missing, invalid or expired."""

    kind = "unauthorized"


class ClarityForbidden(ClarityAuthError):
    """Clarity answered 403: the token may not read this project."""

    kind = "forbidden"


def rejects_token(kind: str | None) -> bool:
    """True when an error kind says Clarity refused the token (401 or 403): the one definition."""
    return kind in _TOKEN_REJECTED


_TOKEN_REJECTED = frozenset(
    {ClarityAuthError.kind, ClarityUnauthorized.kind, ClarityForbidden.kind}
)


class ClarityQuotaExceeded(ClarityError):
    """Clarity answered 429: the project's daily calls are spent."""

    kind = "quota_exceeded"


class ClarityServerError(ClarityError):
    """Clarity answered with a 5xx status."""

    kind = "server_error"


class ClarityTimeout(ClarityError):
    """Clarity did not answer in time."""

    kind = "timeout"


class ClarityConnectionError(ClarityError):
    """Clarity could not be reached at all."""

    kind = "connection_error"


class ClarityResponseError(ClarityError):
    """Clarity answered 200 with a body we cannot use."""

    kind = "bad_response"


class ClarityEmptyResponse(ClarityResponseError):
    """A 200 with an empty body (seen for invalid dimensions)."""

    kind = "empty_body"


class ClarityNotJSON(ClarityResponseError):
    """A 200 whose body is not JSON."""

    kind = "not_json"


class ClarityShapeError(ClarityResponseError):
    """JSON that is not an array of {metricName, information} blocks."""

    kind = "wrong_shape"


class ClarityDimensionMissing(ClarityResponseError):
    """The rows lack a requested dimension: Clarity silently ignored it."""

    kind = "dimension_missing"


class DeliveryError(ClaritybotError):
    """A send failed; `transient` says whether trying again later can help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient
