"""EDGE: the Clarity Data Export API client. One call, one answer; never a retry.

Every call may cost one of the project's 10 daily calls, so nothing here retries, and every
check that can fail without the network (token shape, numOfDays, dimensions) runs first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx

from reports.clarity.dimensions import Dimension, resolve_dimensions
from reports.clarity.parser import ParsedResponse, parse_insights
from reports.clarity.tokens import check_token
from reports.errors import (
    ClarityBadRequest,
    ClarityConnectionError,
    ClarityEmptyResponse,
    ClarityError,
    ClarityForbidden,
    ClarityNotJSON,
    ClarityQuotaExceeded,
    ClarityServerError,
    ClarityTimeout,
    ClarityUnauthorized,
    UsageError,
)
from reports.settings import DEFAULT_API_URL, DEFAULT_TIMEOUT

ENDPOINT: Final = "project-live-insights"


@dataclass(frozen=True)
class ClarityReply:
    """A usable answer: the raw body (for the audit copy) and what it parsed to."""

    status: int
    body: bytes
    params: dict[str, str]
    parsed: ParsedResponse
    elapsed_ms: float


@dataclass(frozen=True)
class FailedReply:
    """What came back from a failed call (status may be None when nothing came back)."""

    status: int | None
    body: bytes
    params: dict[str, str]


def build_params(num_days: int, dimensions: Sequence[Dimension]) -> dict[str, str]:
    """Return the query parameters for one call, validated."""
    if num_days not in (1, 2, 3):
        raise UsageError(
            f"numOfDays must be 1, 2 or 3 (the last 24, 48 or 72 hours), not {num_days}."
        )
    params = {"numOfDays": str(num_days)}
    for index, dim in enumerate(dimensions, 1):
        params[f"dimension{index}"] = dim.api_name
    return params


def _describe(dims: Sequence[Dimension]) -> str:
    return "by " + ", ".join(d.api_name for d in dims) if dims else "without a dimension"


def _status_error(status: int, dims: Sequence[Dimension]) -> ClarityError:
    """Map a non-200 status to an error a user can act on."""
    if status == 400:
        return ClarityBadRequest(
            f"Clarity refused the request {_describe(dims)} (400 Bad Request). claritybot checks "
            "parameters before sending, so Clarity may have changed its API: check for an update.",
            status=status,
        )
    if status == 401:
        return ClarityUnauthorized(
            "Clarity rejected the API token (401 Unauthorized): it is invalid, expired or was "
            "regenerated. Create a new token in Clarity → Settings → Data Export and connect it "
            "again. Stored history is kept.",
            status=status,
        )
    if status == 403:
        return ClarityForbidden(
            "Clarity refused access (403 Forbidden): this token may no longer read the project, "
            "for example because its creator left the project. Ask a project admin for a new "
            "token. Stored history is kept.",
            status=status,
        )
    if status == 429:
        return ClarityQuotaExceeded(
            "Clarity's daily limit for this project is spent (429 Too Many Requests). Nothing "
            "is retried today; the limit resets at 00:00 UTC. Tools on this project share it.",
            status=status,
        )
    if status >= 500:
        return ClarityServerError(
            f"Clarity had a server error ({status}). This is usually temporary; a later run will "
            "try again. Nothing stored was lost.",
            status=status,
        )
    return ClarityError(f"Clarity answered with unexpected status {status}.", status=status)


class ClarityClient:
    """Calls `project-live-insights`. Build with an `httpx.Client`; tests pass a transport."""

    def __init__(self, *, http: httpx.Client, base_url: str = DEFAULT_API_URL) -> None:
        self._http = http
        self._url = base_url.rstrip("/") + "/" + ENDPOINT

    def prepare(self, token: str, num_days: int, dimensions: Sequence[str]) -> PreparedCall:
        """Validate everything that needs no network; raise before any quota is spent."""
        clean = check_token(token)
        dims = resolve_dimensions(dimensions)
        return PreparedCall(token=clean, dims=dims, params=build_params(num_days, dims))

    def fetch(self, call: PreparedCall) -> ClarityReply:
        """Send one prepared call; raise a ClarityError (with `.reply`) on any failure."""
        started = datetime.now(UTC)
        headers = {"Authorization": f"Bearer {call.token}", "Accept": "application/json"}
        try:
            response = self._http.get(self._url, params=call.params, headers=headers)
        except httpx.TimeoutException as exc:
            seconds = self._http.timeout.read or DEFAULT_TIMEOUT
            raise _with_reply(
                ClarityTimeout(
                    f"Clarity did not answer within {seconds:.0f} s. A later run will try again.",
                ),
                FailedReply(None, b"", call.params),
            ) from exc
        except httpx.HTTPError as exc:
            host = httpx.URL(self._url).host
            raise _with_reply(
                ClarityConnectionError(
                    f"Could not reach Clarity at {host} ({type(exc).__name__}). Check the network "
                    "and CLARITY_API_URL; a later run will try again."
                ),
                FailedReply(None, b"", call.params),
            ) from exc
        elapsed = (datetime.now(UTC) - started).total_seconds() * 1000
        return self._read(response, call, elapsed)

    def _read(self, response: httpx.Response, call: PreparedCall, elapsed: float) -> ClarityReply:
        body = response.content
        failed = FailedReply(response.status_code, body, call.params)
        if response.status_code != 200:
            raise _with_reply(_status_error(response.status_code, call.dims), failed)
        if not body.strip():
            raise _with_reply(
                ClarityEmptyResponse(
                    f"Clarity answered 200 with an empty body for the call {_describe(call.dims)}. "
                    "Clarity does this when it does not accept a dimension; nothing was stored.",
                    status=200,
                ),
                failed,
            )
        try:
            payload: Any = json.loads(body)
        except ValueError as exc:
            kind = response.headers.get("content-type", "unknown type")
            raise _with_reply(
                ClarityNotJSON(
                    f"Clarity answered 200 with a body that is not JSON ({kind}, {len(body)} "
                    "bytes). Often a temporary outage page; a later run will try again.",
                    status=200,
                ),
                failed,
            ) from exc
        try:
            parsed = parse_insights(payload, call.dims)
        except ClarityError as exc:
            exc.status = 200
            raise _with_reply(exc, failed) from None
        return ClarityReply(200, body, call.params, parsed, elapsed)


@dataclass(frozen=True)
class PreparedCall:
    """A call that passed every offline check. `repr` hides the token."""

    token: str
    dims: tuple[Dimension, ...]
    params: dict[str, str]

    def __repr__(self) -> str:
        return f"PreparedCall(params={self.params!r})"


def _with_reply(error: ClarityError, reply: FailedReply) -> ClarityError:
    error.reply = reply
    return error


def failed_reply(error: ClarityError) -> FailedReply | None:
    """Return the raw answer attached to a ClarityError raised by `fetch`, if any."""
    return error.reply if isinstance(error.reply, FailedReply) else None
