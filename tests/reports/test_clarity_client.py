from __future__ import annotations

import httpx
import pytest

from reports import errors
from reports.clarity.client import ClarityClient, failed_reply
from reports.errors import InvalidTokenError, UsageError
from tests.fakes.clarity import FakeClarity, sample_bytes
from tests.fakes.tokens import TOKEN

BASE = "https://clarity.test/export-data/api/v1"


@pytest.fixture
def fake():
    return FakeClarity(TOKEN)


@pytest.fixture
def client(fake):
    with httpx.Client(transport=httpx.MockTransport(fake), timeout=5) as http:
        yield ClarityClient(http=http, base_url=BASE + "/")


def test_a_call_sends_bearer_token_num_days_and_dimensions(client, fake):
    reply = client.fetch(client.prepare(TOKEN, 1, ["device"]))
    (request,) = fake.requests
    assert request.url.path == "/export-data/api/v1/project-live-insights"
    assert dict(request.url.params) == {"numOfDays": "1", "dimension1": "Device"}
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sum(r.metrics["sessions"] for r in reply.parsed.rows) == 531
    assert reply.body.startswith(b"[")


def test_up_to_three_dimensions_are_sent_in_order(client, fake):
    with pytest.raises(
        errors.ClarityError
    ):  # no sample for this combination: fake returns 9 blocks
        client.fetch(client.prepare(TOKEN, 3, ["URL", "device", "Country/Region"]))
    params = dict(fake.requests[0].url.params)
    assert params == {
        "numOfDays": "3",
        "dimension1": "URL",
        "dimension2": "Device",
        "dimension3": "Country",
    }


@pytest.mark.parametrize(
    ("num_days", "dims", "match"),
    [(0, [], "numOfDays"), (4, [], "numOfDays"), (1, ["Popular Pages"], "Unknown Clarity"),
     (1, ["URL", "Device", "OS", "Browser"], "at most 3"), (1, ["URL", "url"], "twice")],
)  # fmt: skip
def test_bad_parameters_are_refused_before_any_call(client, fake, num_days, dims, match):
    with pytest.raises(UsageError, match=match):
        client.prepare(TOKEN, num_days, dims)
    assert fake.requests == []


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b", "not a token at all", "eyJ.eyJ.x y", "a.b.c", "!!.??.**"]
)
def test_malformed_tokens_are_refused_with_a_hint_and_no_call(client, fake, token):
    with pytest.raises(InvalidTokenError, match="Invalid token") as info:
        client.prepare(token, 1, [])
    assert "Data Export" in str(info.value)
    assert fake.requests == []


def test_pasted_tokens_are_cleaned(client, fake):
    client.fetch(client.prepare(f'  "Bearer {TOKEN}"\n', 1, []))
    assert fake.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("status", "content", "error", "hint"),
    [
        (400, b"", errors.ClarityBadRequest, "400"),
        (401, b"", errors.ClarityUnauthorized, "new token"),
        (403, b"<html>denied</html>", errors.ClarityForbidden, "project admin"),
        (429, b"", errors.ClarityQuotaExceeded, "00:00 UTC"),
        (500, b"", errors.ClarityServerError, "temporary"),
        (503, b"Service Unavailable", errors.ClarityServerError, "503"),
        (200, b"", errors.ClarityEmptyResponse, "empty body"),
        (200, b"   ", errors.ClarityEmptyResponse, "empty body"),
        (200, b"<html>oops</html>", errors.ClarityNotJSON, "not JSON"),
        (200, b'{"error": "nope"}', errors.ClarityShapeError, "not a list"),
    ],
)
def test_each_failure_has_its_own_error_and_an_actionable_message(
    client, fake, status, content, error, hint
):
    fake.fail_next(status, content)
    with pytest.raises(error, match=hint) as info:
        client.fetch(client.prepare(TOKEN, 1, []))
    assert TOKEN not in str(info.value)
    assert info.value.status == status
    reply = failed_reply(info.value)
    assert reply is not None and reply.status == status and reply.body == content
    assert len(fake.requests) == 1  # never retried


def test_a_silent_fallback_to_the_overall_shape_is_detected(client, fake):
    # Clarity may ignore a dimension and answer with the no-dimension body (API.md §5).
    fake.fail_next(200, sample_bytes("fpr-2026-08-24-overall.json"))
    with pytest.raises(errors.ClarityDimensionMissing, match="Device") as info:
        client.fetch(client.prepare(TOKEN, 1, ["Device"]))
    assert failed_reply(info.value).body.startswith(b"[")


def test_timeouts_and_connection_errors_are_mapped(client, fake):
    fake.raise_next(httpx.ReadTimeout("slow"))
    with pytest.raises(errors.ClarityTimeout, match="did not answer"):
        client.fetch(client.prepare(TOKEN, 1, []))
    fake.raise_next(httpx.ConnectError("refused"))
    with pytest.raises(errors.ClarityConnectionError, match="clarity.test"):
        client.fetch(client.prepare(TOKEN, 1, []))
    assert len(fake.requests) == 2


def test_prepared_calls_do_not_show_the_token():
    with httpx.Client() as http:
        call = ClarityClient(http=http).prepare(TOKEN, 1, [])
    assert TOKEN not in repr(call)
