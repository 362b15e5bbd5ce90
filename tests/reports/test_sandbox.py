"""Behaviour of the built-in Clarity sandbox, over real loopback HTTP."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reports.clarity.sandbox import (
    BIG_URL_PROFILE,
    DEMO_PROFILE,
    ClaritySandbox,
    SiteProfile,
    make_token,
)
from reports.clarity.sandbox.blocks import Query, render_body
from reports.clarity.tokens import check_token, token_claims

T = datetime(2026, 3, 10, 0, 5, tzinfo=UTC)
ODD_T = datetime(2026, 3, 10, 13, 37, 21, 123456, tzinfo=UTC)  # mid-hour, sub-second
ORDER = [
    "DeadClickCount",
    "ExcessiveScroll",
    "RageClickCount",
    "QuickbackClick",
    "ScriptErrorCount",
    "ErrorClickCount",
    "ScrollDepth",
    "Traffic",
    "EngagementTime",
    "Browser",
    "Device",
    "OS",
    "Country",
    "PageTitle",
    "ReferrerUrl",
    "PopularPages",
]
FRUSTRATION = ORDER[:6]
REPO = Path(__file__).resolve().parents[2]


_CLIENTS: list[httpx.Client] = []


@pytest.fixture(scope="module", autouse=True)
def _shared_client() -> Iterator[None]:
    # One client for the module: building an httpx client (SSL context) costs ~0.1 s each.
    with httpx.Client(timeout=30) as client:
        _CLIENTS.append(client)
        yield
        _CLIENTS.clear()


def http() -> httpx.Client:
    """Return the module's shared HTTP client."""
    return _CLIENTS[0]


@pytest.fixture
def sandbox() -> Iterator[ClaritySandbox]:
    with ClaritySandbox(clock=lambda: T, daily_cap=1000) as sb:
        yield sb


def call(sb: ClaritySandbox, token: str | None = None, **params: Any) -> httpx.Response:
    """GET project-live-insights with a Bearer token (the sandbox's demo token by default)."""
    headers = {"Authorization": f"Bearer {token or sb.issue_token()}"}
    return http().get(f"{sb.url}/project-live-insights", params=params, headers=headers)


def blocks(sb: ClaritySandbox, **params: Any) -> dict[str, list[dict[str, Any]]]:
    response = call(sb, **params)
    assert response.status_code == 200
    body = response.json()
    assert isinstance(body, list)
    return {block["metricName"]: block["information"] for block in body}


def total_sessions(info: list[dict[str, Any]]) -> int:
    return sum(int(row["totalSessionCount"]) for row in info)


# -- shape ---------------------------------------------------------------------------------


def test_no_dimension_body_is_a_bare_array_of_16_blocks_in_real_order(sandbox):
    body = call(sandbox, numOfDays=1).json()
    assert [block["metricName"] for block in body] == ORDER
    assert all(set(block) == {"metricName", "information"} for block in body)
    traffic = body[7]["information"]
    assert len(traffic) == 1
    assert set(traffic[0]) == {
        "totalSessionCount",
        "totalBotSessionCount",
        "distinctUserCount",
        "pagesPerSessionPercentage",
    }
    assert 400 <= int(traffic[0]["totalSessionCount"]) <= 1200


def test_one_dimension_gives_the_first_9_blocks_with_the_key_on_every_row(sandbox):
    body = call(sandbox, numOfDays=3, dimension1="Device").json()
    assert [block["metricName"] for block in body] == ORDER[:9]
    for block in body:
        assert block["information"]
        assert all("Device" in row for row in block["information"])


def test_three_dimensions_put_one_key_per_dimension_on_every_row(sandbox):
    body = call(sandbox, numOfDays=1, dimension1="url", dimension2="DEVICE", dimension3="Channel")
    for block in body.json():
        assert all({"Url", "Device", "Channel"} <= set(row) for row in block["information"])


def test_url_dimension_uses_the_url_key_and_a_null_url_row_only_in_traffic(sandbox):
    info = blocks(sandbox, numOfDays=3, dimension1="URL")
    assert all("Url" in row and "URL" not in row for row in info["Traffic"])
    null_rows = [row for row in info["Traffic"] if row["Url"] is None]
    assert len(null_rows) == 1 and int(null_rows[0]["totalBotSessionCount"]) > 0
    for name in FRUSTRATION + ["ScrollDepth", "EngagementTime"]:
        assert all(row["Url"] is not None for row in info[name])
    urls = [row["Url"] for row in info["DeadClickCount"]]
    assert any("gclid=" in u and "utm_source=" in u for u in urls)
    assert any("fbclid=" in u for u in urls)
    paths = [urlsplit(u).path for u in urls]
    assert any(p != "/" and p.endswith("/") for p in paths)  # a trailing-slash variant
    sale = [p for p in paths if p.rstrip("/") == "/collections/sale"]
    assert len(sale) > 2  # one page split over several rows by query strings and slashes


def test_partition_slices_sum_to_the_total_and_channel_campaign_slices_sum_above(sandbox):
    total = total_sessions(blocks(sandbox, numOfDays=3)["Traffic"])
    for dimension in ("Device", "Browser", "OS", "Country"):
        assert (
            total_sessions(blocks(sandbox, numOfDays=3, dimension1=dimension)["Traffic"]) == total
        )
    for dimension in ("Channel", "Campaign"):
        ratio = (
            total_sessions(blocks(sandbox, numOfDays=3, dimension1=dimension)["Traffic"]) / total
        )
        assert 1.2 < ratio < 1.5, dimension


def test_traffic_only_rows_and_null_dimension_values(sandbox):
    device = blocks(sandbox, numOfDays=1, dimension1="Device")
    other = [row for row in device["Traffic"] if row["Device"] == "Other"]
    assert int(other[0]["totalSessionCount"]) == 0 and int(other[0]["totalBotSessionCount"]) > 0
    assert all(row["Device"] != "Other" for row in device["RageClickCount"])
    campaign = blocks(sandbox, numOfDays=1, dimension1="Campaign")
    assert "" in [row["Campaign"] for row in campaign["Traffic"]]
    for name in ORDER[:9]:
        assert None in [row["Campaign"] for row in campaign[name]]
        assert "" not in [row["Campaign"] for row in campaign[name]] or name == "Traffic"
    source = blocks(sandbox, numOfDays=1, dimension1="Source")
    assert all(None in [row["Source"] for row in source[name]] for name in ORDER[:9])


def test_name_lists_are_sorted_capped_at_10_with_a_null_referrer(sandbox):
    info = blocks(sandbox, numOfDays=3)
    for name in ORDER[9:]:
        rows = info[name]
        assert 1 <= len(rows) <= 10
        key = "visitsCount" if name == "PopularPages" else "sessionsCount"
        counts = [int(row[key]) for row in rows]
        assert counts == sorted(counts, reverse=True)
    assert [row["name"] for row in info["Device"]] == ["Mobile", "PC", "Tablet"]
    referrers = [row["name"] for row in info["ReferrerUrl"]]
    assert None in referrers[:3]
    titles = [row["name"] for row in info["PageTitle"]]
    assert any("&" in t and "—" in t for t in titles)
    assert all(row["url"].startswith("https://") for row in info["PopularPages"])


def test_profiles_can_carry_hostile_titles():
    hostile = DEMO_PROFILE.with_page("/promo", "<script>alert(1)</script>", entry_weight=200)
    assert isinstance(hostile, SiteProfile)
    with ClaritySandbox(clock=lambda: T, profile=hostile) as sb:
        titles = [row["name"] for row in blocks(sb, numOfDays=1)["PageTitle"]]
    assert "<script>alert(1)</script>" in titles


def test_counts_mix_strings_and_ints_while_rates_are_numbers(sandbox):
    for params in ({"numOfDays": 1}, {"numOfDays": 2, "dimension1": "Device"}):
        info = blocks(sandbox, **params)
        kinds = {type(info[name][0]["sessionsCount"]) for name in FRUSTRATION}
        kinds |= {type(info["Traffic"][0]["totalSessionCount"])}
        assert kinds == {str, int}, params
        for name in FRUSTRATION:
            for row in info[name]:
                assert type(row["sessionsCount"]) is type(row["subTotal"])
                assert isinstance(row["sessionsWithMetricPercentage"], int | float)
                assert not isinstance(row["sessionsWithMetricPercentage"], bool)
        assert isinstance(info["Traffic"][0]["pagesPerSessionPercentage"], float)
        assert isinstance(info["ScrollDepth"][0]["averageScrollDepth"], int | float)


def test_rows_are_internally_consistent(sandbox):
    info = blocks(sandbox, numOfDays=3, dimension1="Device")
    traffic = {row["Device"]: int(row["totalSessionCount"]) for row in info["Traffic"]}
    for name in FRUSTRATION:
        for row in info[name]:
            sessions = int(row["sessionsCount"])
            assert sessions == traffic[row["Device"]]
            assert row["sessionsWithMetricPercentage"] + row["sessionsWithoutMetricPercentage"] == (
                pytest.approx(100)
            )
            assert int(row["subTotal"]) >= int(row["pagesViews"])
            if name == "QuickbackClick":
                assert row["pagesViews"] == row["subTotal"]
    for row in info["EngagementTime"]:
        assert int(row["activeTime"]) <= int(row["totalTime"])
    rage = {row["Device"]: row["sessionsWithMetricPercentage"] for row in info["RageClickCount"]}
    assert rage["Mobile"] > rage["PC"]  # checkout is worse on phones


def test_docs_spelling_mode_uses_the_documented_field_names():
    with ClaritySandbox(clock=lambda: T, docs_spelling=True) as sb:
        row = blocks(sb, numOfDays=1, dimension1="OS")["Traffic"][0]
    assert "distantUserCount" in row and "PagesPerSessionPercentage" in row
    assert "distinctUserCount" not in row and "pagesPerSessionPercentage" not in row


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{"numOfDays": 0}, {"numOfDays": 4}, {"numOfDays": "x"}, {}])
def test_bad_num_of_days_is_400_with_an_empty_body(sandbox, params):
    response = call(sandbox, **params)
    assert response.status_code == 400 and response.content == b""


def test_more_than_three_dimensions_is_400(sandbox):
    dims = {f"dimension{i}": d for i, d in enumerate(["OS", "Device", "Channel", "URL"], 1)}
    assert call(sandbox, numOfDays=1, **dims).status_code == 400


def _unsigned(payload: dict[str, Any]) -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256'})}.{part(payload)}.c2ln"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic " + make_token("demo")},
        {"Authorization": "Bearer " + _unsigned({"iss": "clarity"})},
    ],
)
def test_missing_or_bad_tokens_are_401_with_an_empty_body(sandbox, headers):
    url = f"{sandbox.url}/project-live-insights?numOfDays=1"
    response = http().get(url, headers=headers)
    assert response.status_code == 401 and response.content == b""
    assert sandbox.calls[-1].project is None and sandbox.calls[-1].status == 401


def test_tokens_are_clarity_shaped_and_deterministic():
    token = make_token("shop-42")
    assert token == make_token("shop-42") != make_token("shop-43")
    assert check_token(token) == token and token.startswith("eyJ")
    claims = token_claims(token)
    assert claims["project_id"] == "shop-42" and claims["aud"] == "clarity.data-exporter"
    assert claims["iss"] == "clarity" and claims["jti"]
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "JWT"}


def test_revoke_gives_401_and_forbid_gives_403(sandbox):
    assert call(sandbox, sandbox.issue_token("a"), numOfDays=1).status_code == 200
    sandbox.revoke("a")
    sandbox.forbid("b")
    assert call(sandbox, sandbox.issue_token("a"), numOfDays=1).status_code == 401
    assert call(sandbox, sandbox.issue_token("b"), numOfDays=1).status_code == 403
    assert call(sandbox, sandbox.issue_token("c"), numOfDays=1).status_code == 200


def test_the_11th_call_of_a_utc_day_is_429_and_the_next_day_resets():
    with ClaritySandbox(clock=lambda: T) as sb:
        other = sb.issue_token("other")
        sb.fail_next(500)  # failed calls count too
        statuses = [call(sb, numOfDays=1).status_code for _ in range(11)]
        assert statuses == [500] + [200] * 9 + [429]
        assert call(sb, other, numOfDays=1).status_code == 200  # quota is per project
        sb.set_now(T.replace(hour=23, minute=59))
        assert call(sb, numOfDays=1).status_code == 429
        sb.set_now(T + timedelta(days=1))
        assert call(sb, numOfDays=1).status_code == 200
        assert [c.status for c in sb.calls_for("demo")][-3:] == [429, 429, 200]


def test_fail_next_statuses_have_empty_or_non_json_bodies(sandbox):
    sandbox.fail_next(500, times=2)
    sandbox.fail_next(503)
    sandbox.fail_next(429)
    first, second = call(sandbox, numOfDays=1), call(sandbox, numOfDays=1)
    assert (first.status_code, first.content) == (500, b"")
    assert second.status_code == 500 and second.text.startswith("<html>")
    assert (call(sandbox, numOfDays=1).status_code, call(sandbox, numOfDays=1).status_code) == (
        503,
        429,
    )
    assert call(sandbox, numOfDays=1).status_code == 200


def test_fail_next_body_cues(sandbox):
    for kind in ("empty", "not_json", "wrong_shape", "fallback"):
        sandbox.fail_next(kind)
    empty = call(sandbox, numOfDays=1, dimension1="Device")
    assert (empty.status_code, empty.content) == (200, b"")
    not_json = call(sandbox, numOfDays=1)
    assert not_json.status_code == 200 and not_json.text.startswith("<html>")
    with pytest.raises(json.JSONDecodeError):
        json.loads(not_json.content)
    assert call(sandbox, numOfDays=1).json().keys() == {"error"}
    fallback = call(sandbox, numOfDays=1, dimension1="Device").json()
    assert len(fallback) == 16 and all("Device" not in b["information"][0] for b in fallback)
    with pytest.raises(ValueError):
        sandbox.fail_next("sometimes")


def test_fail_next_timeout_delays_the_answer(sandbox):
    sandbox.timeout_seconds = 30  # far past the client's 0.1 s, however busy the machine
    sandbox.fail_next("timeout", times=2)
    with pytest.raises(httpx.ReadTimeout):
        http().get(
            f"{sandbox.url}/project-live-insights?numOfDays=1",
            headers={"Authorization": "Bearer " + sandbox.issue_token()},
            timeout=0.1,
        )
    sandbox.timeout_seconds = 0.4  # the first answer still waits; stopping the sandbox wakes it
    started = time.monotonic()
    assert call(sandbox, numOfDays=1).status_code == 200
    assert time.monotonic() - started >= 0.35


def test_unknown_dimension_gives_an_empty_200_or_a_silent_fallback(sandbox):
    empty = call(sandbox, numOfDays=1, dimension1="Popular Pages")
    assert (empty.status_code, empty.content) == (200, b"")
    with ClaritySandbox(clock=lambda: T, bad_dimension="fallback") as sb:
        body = call(sb, numOfDays=1, dimension1="Popular Pages").json()
    assert [block["metricName"] for block in body] == ORDER


def test_country_region_is_accepted_with_the_country_key(sandbox):
    rows = blocks(sandbox, numOfDays=1, dimension1="Country/Region")["Traffic"]
    assert all("Country" in row for row in rows) and len(rows) > 5


# -- determinism and additivity --------------------------------------------------------------


def test_same_clock_and_seed_give_identical_bytes():
    params: dict[str, Any] = {"numOfDays": 2, "dimension1": "URL"}
    with (
        ClaritySandbox(clock=lambda: T) as one,
        ClaritySandbox(clock=lambda: T) as two,
        ClaritySandbox(clock=lambda: T, seed=8) as other,
    ):
        first = call(one, **params).content
        assert call(two, **params).content == first
        assert call(other, **params).content != first


def _counts(info: dict[str, list[dict[str, Any]]], key: str | None) -> dict[Any, list[int]]:
    """Return every additive count per slice: sessions, bots, and per frustration block."""
    out: dict[Any, list[int]] = {}
    for row in info["Traffic"]:
        slice_ = row.get(key) if key else None
        out[slice_] = [int(row["totalSessionCount"]), int(row["totalBotSessionCount"])]
    for name in FRUSTRATION:
        for row in info[name]:
            slice_ = row.get(key) if key else None
            sessions = int(row["sessionsCount"])
            with_metric = round(row["sessionsWithMetricPercentage"] * sessions / 100)
            out[slice_] += [with_metric, int(row["pagesViews"]), int(row["subTotal"])]
    width = 2 + 3 * len(FRUSTRATION)  # a bots-only slice has no frustration rows: pad with 0
    return {k: v + [0] * (width - len(v)) for k, v in out.items()}


def _plus(a: dict[Any, list[int]], b: dict[Any, list[int]]) -> dict[Any, list[int]]:
    zero = [0] * (2 + 3 * len(FRUSTRATION))
    return {
        k: [x + y for x, y in zip(a.get(k, zero), b.get(k, zero), strict=True)]
        for k in a.keys() | b.keys()
    }


@pytest.mark.parametrize("moment", [T, ODD_T])
@pytest.mark.parametrize("dimension", [None, "Device"])
def test_counts_are_exactly_additive_over_adjacent_windows(moment, dimension):
    extra = {"dimension1": dimension} if dimension else {}
    with ClaritySandbox(clock=lambda: moment, daily_cap=100) as sb:
        two_days = _counts(blocks(sb, numOfDays=2, **extra), dimension)
        three_days = _counts(blocks(sb, numOfDays=3, **extra), dimension)
        days = []
        for back in range(3):
            sb.set_now(moment - timedelta(days=back))
            days.append(_counts(blocks(sb, numOfDays=1, **extra), dimension))
    assert two_days == _plus(days[0], days[1])
    assert three_days == _plus(_plus(days[0], days[1]), days[2])
    if dimension:
        totals = [sum(v[0] for v in day.values()) for day in days]
        assert len(set(totals)) == 3  # the days really differ


@settings(max_examples=12, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(2025, 6, 1), max_value=datetime(2027, 6, 1), timezones=st.just(UTC)
    )
)
def test_additivity_holds_at_any_instant(moment):
    def counts(end: datetime, days: int) -> dict[Any, list[int]]:
        body = json.loads(render_body(Query(DEMO_PROFILE, "prop", 7, end, days, ("Device",))))
        return _counts({b["metricName"]: b["information"] for b in body}, "Device")

    later, earlier = counts(moment, 1), counts(moment - timedelta(days=1), 1)
    assert counts(moment, 2) == _plus(later, earlier)


# -- volume, controls, concurrency -----------------------------------------------------------


def test_big_url_profile_hits_the_1000_row_cap_in_every_block():
    with ClaritySandbox(clock=lambda: T, profile=BIG_URL_PROFILE) as sb:
        info = blocks(sb, numOfDays=1, dimension1="URL")
    assert {name: len(rows) for name, rows in info.items()} == dict.fromkeys(ORDER[:9], 1000)
    kept = sorted(int(row["sessionsCount"]) for row in info["DeadClickCount"])
    assert kept[-1] > 50  # the largest slices are the ones kept


def test_control_endpoints_over_http(sandbox):
    control = sandbox.url.split("/export-data")[0] + "/__sandbox__"
    assert http().get(f"{control}/health").json() == {"ok": True}
    token = http().get(f"{control}/token", params={"project": "x"}).json()["token"]
    assert token == make_token("x")
    later = "2026-03-11T09:00:00+00:00"
    assert http().post(f"{control}/clock", json={"now": later}).status_code == 200
    assert http().post(f"{control}/fail", json={"kind": 502, "times": 1}).status_code == 200
    assert http().post(f"{control}/fail", json={"kind": "bogus"}).status_code == 400
    assert http().post(f"{control}/clock", json={"now": "2026-03-11T09:00:00"}).status_code == 400
    assert call(sandbox, token, numOfDays=1, dimension1="OS").status_code == 502
    assert call(sandbox, token, numOfDays=1).status_code == 200
    calls = http().get(f"{control}/calls").json()
    assert calls == [
        {"project": "x", "num_days": "1", "dimensions": ["OS"], "at": later, "status": 502},
        {"project": "x", "num_days": "1", "dimensions": [], "at": later, "status": 200},
    ]


def test_concurrent_requests_all_get_answers(sandbox):
    results: list[int] = []
    lock = threading.Lock()
    dims = ["Device", "URL", "Channel", "OS", None, "Campaign", "Browser", "Source"]

    def worker(dimension: str | None) -> None:
        extra = {"dimension1": dimension} if dimension else {}
        for _ in range(3):
            status = call(sandbox, numOfDays=3, **extra).status_code
            with lock:
                results.append(status)

    threads = [threading.Thread(target=worker, args=(d,)) for d in dims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200] * 24
    assert len(sandbox.calls) == 24


def test_url_before_start_and_stop_twice():
    sb = ClaritySandbox()
    with pytest.raises(RuntimeError):
        _ = sb.url
    sb.start()
    assert sb.url.startswith("http://127.0.0.1:") and sb.url.endswith("/export-data/api/v1")
    sb.stop()
    sb.stop()
    with pytest.raises(ValueError):
        sb.set_now(datetime(2026, 3, 10))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "stop"),
    [
        (["-m", "reports.clarity.sandbox", "--seed", "3"], signal.SIGINT),
        (["-m", "reports.clarity.sandbox", "--seed", "3"], signal.SIGTERM),
        (["-m", "bot", "sandbox", "--port", "0"], signal.SIGINT),
    ],
    ids=["module-ctrl-c", "module-sigterm", "claritybot-ctrl-c"],
)
def test_the_foreground_sandbox_stops_on_ctrl_c_and_sigterm(tmp_path, command, stop):
    # Started with SIGINT ignored, as every background job of a non-interactive shell is
    # (`bash -c 'python3 -m pytest &'`): Ctrl-C must stop the sandbox all the same.
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, *command],
        cwd=tmp_path,
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        preexec_fn=_ignore_sigint,
    ) as proc:
        try:
            assert proc.stdout is not None
            seen = ""
            while not (re.search(r"http://\S+", seen) and re.search(r"eyJ[\w.-]+", seen)):
                line = proc.stdout.readline()
                assert line, seen  # the sandbox ended before printing its URL and token
                seen += line
            url = re.findall(r"http://\S+", seen)[0]
            token = re.findall(r"eyJ[\w.-]+", seen)[0]
            response = http().get(
                f"{url}/project-live-insights?numOfDays=1",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200 and len(response.json()) == 16
            proc.send_signal(stop)
            assert proc.wait(timeout=60) == 0
        finally:
            proc.kill()  # a no-op once it has exited; else the with-block would wait forever
