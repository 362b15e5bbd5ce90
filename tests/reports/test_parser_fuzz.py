from __future__ import annotations

from datetime import date

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.clarity.client import ClarityClient
from reports.clarity.dimensions import DIMENSIONS
from reports.clarity.parser import parse_insights
from reports.clarity.rows import metric_rows, ranked_rows
from reports.errors import ClarityError, ClarityResponseError
from store.fields import METRIC_FIELDS
from tests.fakes.tokens import TOKEN

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(10**12), 10**12), st.floats(allow_nan=True),
    st.text(max_size=12), st.sampled_from(["531", "0", "", "1,234", "7.0", "NaN", "-3"]),
)  # fmt: skip
any_json = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
FIELDS = [
    "totalSessionCount", "totalBotSessionCount", "distinctUserCount", "distantUserCount",
    "pagesPerSessionPercentage", "PagesPerSessionPercentage", "averageScrollDepth", "totalTime",
    "activeTime", "sessionsCount", "sessionsWithMetricPercentage", "pagesViews", "subTotal",
    "name", "url", "visitsCount", "Url", "URL", "Device", "Channel", "Country/Region",
]  # fmt: skip
BLOCKS = [
    "Traffic", "ScrollDepth", "EngagementTime", "DeadClickCount", "ExcessiveScroll",
    "RageClickCount", "QuickbackClick", "ScriptErrorCount", "ErrorClickCount", "Browser",
    "Device", "OS", "Country", "Country/Region", "PageTitle", "ReferrerUrl", "PopularPages",
    "Unknown", "", "traffic",
]  # fmt: skip
rows = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), any_json, max_size=8)
blocks = st.fixed_dictionaries(
    {
        "metricName": st.sampled_from(BLOCKS) | any_json,
        "information": st.lists(rows, max_size=6) | any_json,
    }
)
near_valid = st.lists(blocks | any_json, max_size=10)
dims = st.lists(st.sampled_from(DIMENSIONS), max_size=3, unique=True).map(tuple)


def check(payload, dimensions):
    try:
        parsed = parse_insights(payload, dimensions)
    except ClarityResponseError:
        return
    keys = {"source_id": 1, "local_date": date(2026, 1, 1), "fetch_group": "g"}
    for row in metric_rows(parsed, **keys):
        assert all(row[k] is None or isinstance(row[k], int | float) for k in METRIC_FIELDS)
        assert all(isinstance(row[k], str | None) for k in parsed.dimensions)
    for row in ranked_rows(parsed, **keys):
        assert row["count"] is None or (isinstance(row["count"], int) and row["count"] >= 0)


# Example counts come from the profile (tests/conftest.py): 50 by default, 1000 exploring.
@settings(deadline=None)
@given(any_json, dims)
def test_any_json_value_parses_or_raises_a_response_error(payload, dimensions):
    check(payload, dimensions)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(near_valid, dims)
def test_near_valid_bodies_parse_or_raise_a_response_error(payload, dimensions):
    check(payload, dimensions)


@settings(deadline=None)
@given(st.binary(max_size=300), st.sampled_from([200, 200, 200, 400, 401, 403, 429, 500, 503, 418]))
def test_the_client_turns_any_body_into_a_reply_or_a_clarity_error(body, status):
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    with httpx.Client(transport=transport) as http:
        client = ClarityClient(http=http, base_url="https://clarity.test/api")
        try:
            client.fetch(client.prepare(TOKEN, 1, ["URL"]))
        except ClarityError:
            pass
